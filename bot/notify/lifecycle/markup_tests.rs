//! Text from AWS (alarm names and reasons, pipeline and stage names, commit
//! messages and triggers, approval places and custom data) reaches Slack
//! escaped in both the blocks and the top-level `text`, so it can never ping
//! a channel, mention someone or show a lying link; the deliberate mentions
//! of a route's role still ping.

use std::time::Duration as StdDuration;

use chrono::{DateTime, TimeZone, Utc};
use opsbot_commands::Mrkdwn;
use opsbot_commands::ports::AlarmState;
use serde_json::Value;

use super::{alarm, approval, pipeline};
use crate::notify::event::{AlarmChange, ExecutionState};
use crate::settings::AlarmSettings;
use crate::slack::blocks;

const HOSTILE: &str = "<!here> <!channel> <@U123> <https://evil|review> & co";
const CONTROLS: [&str; 4] = ["<!here>", "<!channel>", "<@U123>", "<https://evil|review>"];

fn t() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap()
}

/// The message as chat.postMessage would send it: its top-level `text`, and
/// every mrkdwn text object of its blocks (button values are data, not markup).
fn posted(reply: &opsbot_commands::Reply) -> (String, String) {
    let json: Value = serde_json::to_value(blocks::content(reply)).unwrap();
    let mut markup = Vec::new();
    mrkdwn_texts(&json["blocks"], &mut markup);
    (json["text"].as_str().unwrap_or_default().to_owned(), markup.join("\n"))
}

fn mrkdwn_texts(json: &Value, out: &mut Vec<String>) {
    match json {
        Value::Object(map) if map.get("type").and_then(Value::as_str) == Some("mrkdwn") => {
            out.push(map["text"].as_str().unwrap_or_default().to_owned())
        }
        Value::Object(map) => map.values().for_each(|v| mrkdwn_texts(v, out)),
        Value::Array(items) => items.iter().for_each(|v| mrkdwn_texts(v, out)),
        _ => {}
    }
}

fn assert_inert(reply: &opsbot_commands::Reply) {
    let (text, blocks) = posted(reply);
    for control in CONTROLS {
        assert!(!text.contains(control), "text lets {control} through: {text}");
        assert!(!blocks.contains(control), "blocks let {control} through: {blocks}");
    }
    assert!(text.contains("&lt;!here&gt;"), "the hostile text is shown, escaped: {text}");
    assert!(blocks.contains("&lt;!here&gt;"), "the hostile text is shown, escaped: {blocks}");
    assert!(!text.contains("&amp;lt;") && !blocks.contains("&amp;lt;"), "escaped once, not twice: {text} {blocks}");
}

#[test]
fn an_alarm_name_and_reason_cannot_ping_or_spoof_a_link() {
    let change = AlarmChange {
        arn: "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:x".into(),
        name: format!("shop {HOSTILE}"),
        state: AlarmState::Alarm,
        previous: None,
        reason: format!("Threshold Crossed: {HOSTILE}"),
        at: t(),
        description: Some(HOSTILE.into()),
    };
    let rules = AlarmSettings {
        escalate_after: StdDuration::from_secs(600),
        flapping_transitions: 4,
        flapping_within: StdDuration::from_secs(600),
    };
    let step = alarm::apply(None, &change, &rules, &Mrkdwn::subteam("S0ONCALL"));
    let alert = step.alert.unwrap();
    let reply = alarm::render(&alert, t());
    assert_inert(&reply);
    let (_, blocks) = posted(&reply);
    assert!(blocks.contains("<!subteam^S0ONCALL>"), "the route's role is still mentioned: {blocks}");
}

#[test]
fn a_pipeline_name_trigger_stage_and_error_cannot_ping_or_spoof_a_link() {
    let name = format!("web {HOSTILE}");
    let (mut run, _) = pipeline::apply(
        None,
        &pipeline::Event {
            pipeline: &name,
            execution: "1a2b3c4d",
            at: t(),
            what: pipeline::What::Execution { state: ExecutionState::Started, trigger: Some(HOSTILE) },
        },
    );
    let failed = pipeline::What::Action {
        stage: HOSTILE,
        action: HOSTILE,
        state: ExecutionState::Failed,
        error: Some(HOSTILE),
        build: None,
    };
    (run, _) =
        pipeline::apply(Some(run), &pipeline::Event { pipeline: &name, execution: "1a2b3c4d", at: t(), what: failed });
    let ended = pipeline::What::Execution { state: ExecutionState::Failed, trigger: None };
    (run, _) =
        pipeline::apply(Some(run), &pipeline::Event { pipeline: &name, execution: "1a2b3c4d", at: t(), what: ended });
    assert_inert(&pipeline::render(&run, t()));
}

#[test]
fn an_approvals_pipeline_stage_action_and_custom_data_cannot_ping_or_spoof_a_link() {
    let waiting = approval::Waiting {
        pipeline: HOSTILE,
        stage: HOSTILE,
        action: HOSTILE,
        expires: None,
        review: Some("https://example.com/x|evil>"),
        console: None,
        custom: Some(HOSTILE),
    };
    let (record, _) = approval::announce(None, &waiting, t());
    assert_inert(&approval::render(&record, t()));
}
