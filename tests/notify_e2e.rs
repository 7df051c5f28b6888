//! Notifications end to end through the real application: AWS emulators
//! deliver into SQS (EventBridge rules in moto; a CloudWatch alarm action
//! through SNS in ministack), the bot polls, handles and sends through its
//! outbox, and the fake Slack shows what a channel would: one living message
//! per pipeline execution and per alarm, edited in place, details in its
//! thread, an Ack that takes the alarm, and no notification shown twice.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_cloudwatch::types::StateValue;
use chrono::Utc;
use opsbot::app::{Transport, Wiring};
use opsbot::notify::event::Kind;
use opsbot::sandbox::Sandbox;
use opsbot::settings::Route;
use opsbot_commands::values::ChannelId;
use serde_json::{Value, json};

use crate::support::aws_events::PutEvent;
use crate::support::aws_setup::{AwsHttp, MinistackAlarm, create_queue};
use crate::support::bot::{TestBot, spawn_bot_wired, text_of};
use crate::support::emulators::{emulators, unique};

const OPS: &str = "C0OPS";
const ALERTS: &str = "C0ALERTS";
/// Writes are paced at about one a second per channel: allow for a few.
const WITHIN: Duration = Duration::from_secs(25);
const HIDE: Duration = Duration::from_secs(30);

/// A bot whose notifications come from `queue_url` through `sqs`: alarms to
/// [`ALERTS`], everything else to [`OPS`].
async fn notified_bot(sqs: aws_sdk_sqs::Client, queue_url: &str) -> TestBot {
    let aws = Arc::new(Sandbox::demo(Utc::now())).gateways();
    let mut wiring = Wiring::new(aws);
    wiring.sqs = Some(sqs);
    let queue = queue_url.to_owned();
    spawn_bot_wired(Transport::Http, wiring, move |s| {
        s.notifications.default_channel = Some(ChannelId::parse(OPS).unwrap());
        s.notifications.sqs_queues = vec![queue];
        s.notifications.routes = vec![Route {
            kind: Some(Kind::Alarm),
            name: None,
            account: None,
            region: None,
            tags: Default::default(),
            channel: ChannelId::parse(ALERTS).unwrap(),
            mention: None,
            at: "test".into(),
        }];
    })
    .await
}

/// Top-level messages of `channel` (not thread replies), current versions.
fn top_level(bot: &TestBot, channel: &str) -> Vec<Value> {
    bot.slack.messages(channel).into_iter().filter(|m| m.get("thread_ts").is_none_or(Value::is_null)).collect()
}

fn replies(bot: &TestBot, channel: &str, parent: &Value) -> Vec<String> {
    let ts = parent["ts"].as_str().unwrap_or_default();
    bot.slack
        .messages(channel)
        .into_iter()
        .filter(|m| m["thread_ts"].as_str() == Some(ts))
        .map(|m| text_of(&m))
        .collect()
}

/// Waits (wall clock) until `check` holds for the fake Slack's channel.
async fn until(bot: &TestBot, what: &str, check: impl Fn(&TestBot) -> bool) {
    let deadline = tokio::time::Instant::now() + WITHIN;
    while !check(bot) {
        if tokio::time::Instant::now() > deadline {
            panic!(
                "{what} did not happen within {WITHIN:?}; {OPS}: {:#?}\n{ALERTS}: {:#?}",
                bot.slack.messages(OPS),
                bot.slack.messages(ALERTS)
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn stage(pipeline: &str, execution: &str, stage: &str, state: &str) -> PutEvent {
    let mut event = PutEvent::pipeline_execution(pipeline, execution, state);
    event.detail_type = "CodePipeline Stage Execution State Change".into();
    event.detail["stage"] = json!(stage);
    event
}

#[tokio::test]
async fn a_pipeline_run_from_eventbridge_is_one_message_edited_as_it_moves_with_its_stages_in_the_thread() {
    let emu = emulators().await;
    let sqs = aws_sdk_sqs::Client::new(&emu.sdk_config().await);
    let moto = AwsHttp::new(emu.moto_url());
    let queue = create_queue(&sqs, &unique("pipeline-events"), HIDE).await;
    let pipeline = unique("storefront-web");
    let rule = unique("pipeline-rule");
    let arn = format!("arn:aws:codepipeline:us-east-1:123456789012:{pipeline}");
    moto.put_rule(&rule, &json!({"source": ["aws.codepipeline"], "resources": [arn]})).await;
    moto.target_queue(&rule, &queue.arn).await;
    let bot = notified_bot(sqs, &queue.url).await;

    moto.put_events(&[
        PutEvent::pipeline_execution(&pipeline, "exec-1", "STARTED"),
        stage(&pipeline, "exec-1", "Source", "STARTED"),
        stage(&pipeline, "exec-1", "Source", "SUCCEEDED"),
        stage(&pipeline, "exec-1", "Build", "STARTED"),
        stage(&pipeline, "exec-1", "Build", "SUCCEEDED"),
        PutEvent::pipeline_execution(&pipeline, "exec-1", "SUCCEEDED"),
    ])
    .await;

    until(&bot, "the run's message says it succeeded", |bot| {
        top_level(bot, OPS).iter().any(|m| text_of(m).contains("execution `exec-1` succeeded"))
    })
    .await;
    let messages = top_level(&bot, OPS);
    assert_eq!(messages.len(), 1, "one message per execution: {messages:#?}");
    assert_eq!(messages[0]["metadata"]["event_payload"]["key"], "pipeline:exec-1");
    let text = text_of(&messages[0]);
    assert!(text.contains(":white_check_mark: Source   :white_check_mark: Build"), "{text}");
    until(&bot, "the thread has every stage move", |bot| replies(bot, OPS, &top_level(bot, OPS)[0]).len() >= 6).await;
    let thread = replies(&bot, OPS, &messages[0]);
    assert!(
        thread[1].contains("Stage *Source* in progress") && thread.last().unwrap().contains("Execution succeeded"),
        "{thread:#?}"
    );
    bot.stop().await;
}

#[tokio::test]
async fn the_same_notification_delivered_twice_is_shown_once() {
    let emu = emulators().await;
    let sqs = aws_sdk_sqs::Client::new(&emu.sdk_config().await);
    let queue = create_queue(&sqs, &unique("twice"), HIDE).await;
    let bot = notified_bot(sqs.clone(), &queue.url).await;
    let event = json!({"version": "0", "id": unique("param-event"), "detail-type": "Parameter Store Change",
        "source": "aws.ssm", "account": "123456789012", "time": "2026-11-22T08:00:00Z", "region": "us-east-1",
        "resources": ["arn:aws:ssm:us-east-1:123456789012:parameter/shop/staging/flags"],
        "detail": {"operation": "Update", "name": "/shop/staging/flags", "type": "String", "description": ""}});
    for _ in 0..3 {
        sqs.send_message().queue_url(&queue.url).message_body(event.to_string()).send().await.unwrap();
    }
    until(&bot, "the change is shown", |bot| !top_level(bot, OPS).is_empty()).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let shown: Vec<String> = top_level(&bot, OPS).iter().map(text_of).collect();
    assert_eq!(shown.len(), 1, "{shown:#?}");
    assert!(shown[0].contains("Parameter */shop/staging/flags* (String) updated"), "{shown:#?}");
    bot.stop().await;
}

#[tokio::test]
async fn an_alarm_from_cloudwatch_is_one_message_taken_with_ack_and_resolved_in_place() {
    let on = MinistackAlarm::new("shop-5xx", HIDE).await;
    let alarm = on.alarm.clone();
    let bot = notified_bot(on.sqs.clone(), &on.queue.url).await;

    on.set(StateValue::Alarm, "Threshold Crossed: 12 > 5").await;
    until(&bot, "the alarm is posted to its route", |bot| !top_level(bot, ALERTS).is_empty()).await;
    let posted = &top_level(&bot, ALERTS)[0];
    assert!(text_of(posted).contains(&format!("*{alarm}* is *ALARM*")), "{posted:#}");
    assert!(posted.to_string().contains("opsbot.run"), "an Ack button: {posted:#}");

    let answer = bot.slash(&format!("ack {alarm}")).await;
    assert!(text_of(&answer).contains(&format!("acknowledged *{alarm}*")), "{answer:#}");
    until(&bot, "the message shows who took it", |bot| {
        top_level(bot, ALERTS).iter().any(|m| text_of(m).contains("Acknowledged by <@U0DEV>"))
    })
    .await;
    let listed = bot.slash("alerts").await;
    assert!(text_of(&listed).contains("acknowledged by <@U0DEV>"), "{listed:#}");

    on.set(StateValue::Ok, "Threshold Crossed: 0 < 5").await;
    until(&bot, "the message says it is resolved", |bot| {
        top_level(bot, ALERTS).iter().any(|m| text_of(m).contains("is OK again — resolved after"))
    })
    .await;
    assert_eq!(top_level(&bot, ALERTS).len(), 1, "one message for the whole episode");
    assert!(text_of(&bot.slash("alerts").await).contains("No open alerts"));
    bot.stop().await;
}

#[tokio::test]
async fn an_alarm_nobody_acknowledges_mentions_on_call_again_once() {
    let emu = emulators().await;
    let sqs = aws_sdk_sqs::Client::new(&emu.sdk_config().await);
    let queue = create_queue(&sqs, &unique("escalation"), HIDE).await;
    let bot = notified_bot(sqs.clone(), &queue.url).await;
    let alarm = unique("shop-latency");
    let fired = json!({"version": "0", "id": unique("alarm-event"), "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch", "account": "123456789012", "time": Utc::now().to_rfc3339(), "region": "us-east-1",
        "resources": [format!("arn:aws:cloudwatch:us-east-1:123456789012:alarm:{alarm}")],
        "detail": {"alarmName": alarm, "state": {"value": "ALARM", "reason": "p99 over 2s", "timestamp": Utc::now().to_rfc3339()}}});
    sqs.send_message().queue_url(&queue.url).message_body(fired.to_string()).send().await.unwrap();
    until(&bot, "the alarm is posted", |bot| !top_level(bot, ALERTS).is_empty()).await;
    let escalations = |bot: &TestBot| {
        let parent = top_level(bot, ALERTS).remove(0);
        replies(bot, ALERTS, &parent).iter().filter(|r| r.contains("nobody has acknowledged it")).count()
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(escalations(&bot), 0, "not before escalate_after (10m)");
    bot.clock_forward(Duration::from_secs(11 * 60));
    until(&bot, "on-call is mentioned again", |bot| escalations(bot) == 1).await;
    bot.clock_forward(Duration::from_secs(30 * 60));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(escalations(&bot), 1, "only once");
    bot.stop().await;
}
