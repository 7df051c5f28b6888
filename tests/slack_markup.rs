//! Markup injection, end to end: text from a user (a command argument) or
//! from AWS (an alarm's name, reason and description arriving by SNS) reaches
//! the fake Slack escaped in both the blocks and the top-level `text`, so it
//! never pings `@here`/`@channel`, mentions someone or shows a lying link.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use opsbot::app::Transport;
use opsbot::notify::sns_url::UrlAllow;
use opsbot::sandbox::Sandbox;
use opsbot_commands::values::ChannelId;
use regex::Regex;
use serde_json::{Value, json};

use crate::support::bot::{spawn_bot, spawn_bot_with, text_of};
use crate::support::sns::{FakeSns, LOCAL_ALLOW};

const CONTROLS: [&str; 4] = ["<!here>", "<!channel>", "<@U123>", "<https://evil|review>"];
const HOSTILE: &str = "<!here> <!channel> <@U123> <https://evil|review>";
const TOPIC: &str = "arn:aws:sns:eu-west-1:111122223333:opsbot-alarms";

fn assert_inert(message: &Value) {
    let all = text_of(message);
    for control in CONTROLS {
        assert!(!all.contains(control), "{control} reached Slack as markup: {message:#}");
    }
    let top = message["text"].as_str().unwrap_or_default();
    assert!(!top.contains('<') && !top.contains('>'), "top-level text not escaped: {top}");
    assert!(!all.contains("&amp;lt;"), "escaped twice: {message:#}");
}

#[tokio::test]
async fn a_command_argument_echoed_back_cannot_ping_or_spoof_a_link() {
    let bot = spawn_bot(Transport::Http).await;
    for line in [format!("pipeline {HOSTILE}"), format!("param get {HOSTILE}"), HOSTILE.to_owned()] {
        let answer = bot.slash(&line).await;
        assert!(text_of(&answer).contains("&lt;"), "the argument is shown, escaped: {answer:#}");
        assert_inert(&answer);
    }
    bot.stop().await;
}

#[tokio::test]
async fn an_alarm_name_reason_and_description_from_sns_cannot_ping_or_spoof_a_link() {
    let aws = Arc::new(Sandbox::demo(Utc::now())).gateways();
    let bot = spawn_bot_with(Transport::Http, aws, |s| {
        s.notifications.default_channel = Some(ChannelId::parse("C0OPS").unwrap());
        s.notifications.sns_topics = vec![TOPIC.into()];
        s.notifications.cert_url_allow = UrlAllow::Pattern(Regex::new(LOCAL_ALLOW).unwrap());
    })
    .await;
    let sns = FakeSns::start().await;
    let alarm = json!({"AlarmName": format!("shop {HOSTILE}"), "AlarmDescription": HOSTILE,
        "AWSAccountId": "111122223333", "NewStateValue": "ALARM", "NewStateReason": format!("Threshold Crossed: {HOSTILE}"),
        "StateChangeTime": "2026-11-22T08:00:00.000+0000", "Region": "EU (Ireland)",
        "AlarmArn": "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:shop", "OldStateValue": "OK"})
    .to_string();
    let body = sns.notification(TOPIC, None, &alarm);
    let answer = bot.post("/sns", "text/plain; charset=UTF-8", &body.to_string(), &[]).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let mut posted = Vec::new();
    for _ in 0..100 {
        posted = bot.slack.messages("C0OPS");
        if posted.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(posted.len() >= 2, "the alarm's message and its first thread line: {posted:#?}");
    assert!(text_of(&posted[0]).contains("&lt;!here&gt;"), "{:#}", posted[0]);
    for message in &posted {
        assert_inert(message);
    }
    bot.stop().await;
}
