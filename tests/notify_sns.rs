//! `POST /sns` on the running app: a CloudWatch alarm message signed like SNS
//! signs it (test key and certificate, served by [`FakeSns`]) becomes the
//! alarm's living message; forged or foreign ones are refused before anything
//! is stored or posted; a subscription to a listed topic is confirmed once.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use opsbot::app::Transport;
use opsbot::notify::intake::sns::url::UrlAllow;
use opsbot::sandbox::Sandbox;
use opsbot_commands::values::ChannelId;
use regex::Regex;
use serde_json::{Value, json};

use crate::support::bot::{TestBot, spawn_bot_with, text_of};
use crate::support::sns::{FakeSns, LOCAL_ALLOW, OTHER_KEY, timestamp_now};

const TOPIC: &str = "arn:aws:sns:eu-west-1:111122223333:opsbot-alarms";

async fn bot() -> TestBot {
    let aws = Arc::new(Sandbox::demo(Utc::now())).gateways();
    spawn_bot_with(Transport::Http, aws, |s| {
        s.notifications.default_channel = Some(ChannelId::parse("C0OPS").unwrap());
        s.notifications.sns_topics = vec![TOPIC.into()];
        s.notifications.cert_url_allow = UrlAllow::Pattern(Regex::new(LOCAL_ALLOW).unwrap());
    })
    .await
}

/// CloudWatch's alarm message, as an alarm action publishes it to SNS.
fn alarm_message(name: &str, state: &str) -> String {
    json!({"AlarmName": name, "AlarmDescription": "5xx on checkout", "AWSAccountId": "111122223333",
        "NewStateValue": state, "NewStateReason": "Threshold Crossed: 12 > 5",
        "StateChangeTime": "2026-11-22T08:00:00.000+0000", "Region": "EU (Ireland)",
        "AlarmArn": format!("arn:aws:cloudwatch:eu-west-1:111122223333:alarm:{name}"), "OldStateValue": "OK",
        "Trigger": {"MetricName": "HTTPCode_Target_5XX_Count", "Namespace": "AWS/ApplicationELB"}})
    .to_string()
}

async fn post(bot: &TestBot, body: &Value) -> (u16, String) {
    let answer = bot.post("/sns", "text/plain; charset=UTF-8", &body.to_string(), &[]).await;
    (answer.status, answer.body)
}

async fn wait_for_message(bot: &TestBot) -> Value {
    for _ in 0..100 {
        if let Some(message) = bot.slack.messages("C0OPS").into_iter().next() {
            return message;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("nothing was posted to C0OPS");
}

#[tokio::test]
async fn a_signed_alarm_notification_becomes_the_alarms_message() {
    let (bot, sns) = (bot().await, FakeSns::start().await);
    let body = sns.notification(TOPIC, None, &alarm_message("checkout-5xx", "ALARM"));
    assert_eq!(post(&bot, &body).await.0, 200);
    assert_eq!(post(&bot, &body).await.0, 200, "SNS retrying a delivery is answered, and ignored");
    let message = wait_for_message(&bot).await;
    assert!(text_of(&message).contains("*checkout-5xx* is *ALARM*"), "{message:#}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let top: Vec<Value> = bot.slack.messages("C0OPS").into_iter().filter(|m| m.get("thread_ts").is_none()).collect();
    assert_eq!(top.len(), 1, "{top:#?}");
    assert_eq!(sns.cert_fetches(), 1, "the certificate is fetched once and kept");
    bot.stop().await;
}

#[tokio::test]
async fn a_signed_notification_replayed_after_an_hour_is_refused_and_not_posted() {
    let (bot, sns) = (bot().await, FakeSns::start().await);
    let body = sns.notification(TOPIC, None, &alarm_message("checkout-5xx", "ALARM"));
    bot.clock_forward(Duration::from_secs(61 * 60));
    let (status, why) = post(&bot, &body).await;
    assert_eq!(status, 403, "{why}");
    assert!(why.contains("refused as a replay"), "{why}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(bot.slack.messages("C0OPS").is_empty());
    bot.stop().await;
}

#[tokio::test]
async fn forged_tampered_and_foreign_notifications_are_refused_and_nothing_is_posted() {
    let (bot, sns) = (bot().await, FakeSns::start().await);
    let mut tampered = sns.notification(TOPIC, None, &alarm_message("checkout-5xx", "ALARM"));
    tampered["Message"] = alarm_message("checkout-5xx", "OK").into();
    let mut forged = json!({"Type": "Notification", "MessageId": "m-forged", "TopicArn": TOPIC,
        "Message": alarm_message("checkout-5xx", "ALARM"), "Timestamp": timestamp_now()});
    forged = sns.signed_v2(forged, OTHER_KEY);
    let foreign =
        sns.notification("arn:aws:sns:eu-west-1:111122223333:someone-else", None, &alarm_message("x", "ALARM"));
    for body in [tampered, forged, foreign] {
        let (status, why) = post(&bot, &body).await;
        assert_eq!(status, 403, "{why}");
    }
    let (status, _) = post(&bot, &json!({"hello": "world"})).await;
    assert_eq!(status, 400);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(bot.slack.messages("C0OPS").is_empty());
    bot.stop().await;
}

#[tokio::test]
async fn a_subscription_to_a_listed_topic_is_confirmed_and_others_are_not() {
    let (bot, sns) = (bot().await, FakeSns::start().await);
    assert_eq!(post(&bot, &sns.subscription_confirmation(TOPIC, "tok-ours")).await.0, 200);
    let other = sns.subscription_confirmation("arn:aws:sns:eu-west-1:111122223333:someone-else", "tok-theirs");
    assert_eq!(post(&bot, &other).await.0, 403);
    assert_eq!(sns.confirmed_tokens(), ["tok-ours"]);
    bot.stop().await;
}

/// Leads decide approvals; everyone reads.
const LEADS_DECIDE: &str = "roles:\n  leads: { users: [U0LEAD] }\n  devs: { everyone: true }\nrules:\n  - allow: [pipeline approve, pipeline reject]\n    to: leads\n  - allow: [pipelines, pipeline, help]\n    to: devs\n";

/// CodePipeline's manual-approval notification for the sandbox's `payments-api`.
fn approval_message() -> String {
    json!({"region": "eu-west-1", "consoleLink": "https://console.aws.amazon.com/codesuite/codepipeline/pipelines/payments-api/view",
        "approval": {"pipelineName": "payments-api", "stageName": "ApproveProd", "actionName": "ManualApproval",
        "token": "tok-e2e", "expires": "2026-11-29T08:00Z", "customData": "Check the canary first"}})
    .to_string()
}

/// A view_submission of the comment modal the bot opened (as Slack sends it).
fn submitted(opened: &Value, user: &str, comment: &str) -> Value {
    json!({"type": "view_submission", "team": {"id": "T0TEST"}, "user": {"id": user}, "api_app_id": "A0TEST",
        "trigger_id": "1337.42.submit", "view": {"id": "V0MODAL1", "type": "modal",
        "callback_id": opened["callback_id"], "private_metadata": opened["private_metadata"],
        "state": {"values": {"b1": {"comment": {"type": "plain_text_input", "value": comment}}}}}})
}

#[tokio::test]
async fn a_lead_approves_with_a_comment_typed_in_a_modal_and_the_summary_carries_it() {
    let known: Vec<&str> = opsbot_commands::cmd::ENTRIES.iter().map(|e| e.spec.name).collect();
    let policy = opsbot_policies::Policy::from_yaml(LEADS_DECIDE, std::path::Path::new("p.yaml"), &known).unwrap();
    let aws = Arc::new(Sandbox::demo(Utc::now())).gateways();
    let wiring = opsbot::app::Wiring::new(aws).with_policy(Arc::new(policy));
    let bot = crate::support::bot::spawn_bot_wired(Transport::Http, wiring, |s| {
        s.notifications.default_channel = Some(ChannelId::parse("C0OPS").unwrap());
        s.notifications.sns_topics = vec![TOPIC.into()];
        s.notifications.cert_url_allow = UrlAllow::Pattern(Regex::new(LOCAL_ALLOW).unwrap());
    })
    .await;
    bot.slack.add_user("U0LEAD", "lee", "Lee Lead");
    let sns = FakeSns::start().await;
    assert_eq!(post(&bot, &sns.notification(TOPIC, Some("APPROVAL NEEDED"), &approval_message())).await.0, 200);
    let request = wait_for_message(&bot).await;
    assert!(text_of(&request).contains("*payments-api* waits for approval at *ApproveProd/ManualApproval*"));

    let press = bot.press("U0LEAD", &request, "Approve with comment…");
    bot.deliver(&press).await;
    let opened = bot.slack.next_call("views.open").await.body["view"].clone();
    assert_eq!(opened["callback_id"], "opsbot.comment");
    assert!(
        opened["private_metadata"]
            .as_str()
            .unwrap()
            .contains("pipeline approve payments-api ApproveProd/ManualApproval")
    );

    // A developer who got hold of the modal is still judged by the policy.
    assert_eq!(bot.deliver_raw(&submitted(&opened, "U0DEV", "ship it")).await, 200);
    let refused = bot.slack.next_call("chat.postEphemeral").await;
    assert!(text_of(&refused.body).contains("You can't run `pipeline approve`"), "{:#}", refused.body);

    let mut from_lead = submitted(&opened, "U0LEAD", "canary is green");
    from_lead["view"]["id"] = "V0MODAL2".into();
    assert_eq!(bot.deliver_raw(&from_lead).await, 200);
    let plan = bot.slack.next_call("chat.postEphemeral").await;
    assert_eq!(plan.body["user"], "U0LEAD");
    let text = text_of(&plan.body);
    assert!(
        text.contains("(U0LEAD) via opsbot: canary is green") && !text.contains("Slack user U0LEAD"),
        "the summary CodePipeline keeps names the lead and carries the comment: {text}"
    );
    bot.stop().await;
}
