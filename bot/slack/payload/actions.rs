//! Interactivity payloads (the JSON in the `payload` form field over HTTP, or
//! an `interactive` envelope's payload over Socket Mode) → a typed
//! [`ButtonPress`].
//!
//! # Decisions
//! - Only `block_actions` on our own buttons become presses: other payload
//!   types (`view_submission`, shortcuts, ...) and actions whose id we did not
//!   mint are [`Interaction::Ignored`] (acknowledged, logged, never an error —
//!   another app's buttons in the same workspace are not malformed).
//! - A payload that claims to be `block_actions` but lacks what every button
//!   press carries (`user.id`, a channel, `response_url`, `trigger_id`,
//!   `actions`) is malformed: 400 over HTTP, dropped and logged over Socket Mode.
//! - The channel comes from `channel.id`, else `container.channel_id`; the
//!   message from `container.message_ts`, else `message.ts`. Ephemeral
//!   messages (our plans) carry no `message` object, only the container.

use opsbot_commands::click::Press;
use opsbot_commands::values::{ChannelId, SlackUserId};
use serde_json::Value;

use super::error::{PayloadError, str_field};

/// One press of one of our buttons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ButtonPress {
    pub press: Press,
    pub user: SlackUserId,
    pub channel: ChannelId,
    /// Where to answer: replace the message the button was on, or add a note.
    pub response_url: String,
    /// The message the button was on (absent for buttons outside messages).
    pub message_ts: Option<String>,
    /// Unique per press; Slack retries repeat it. The idempotency key.
    pub trigger_id: String,
    pub action_ts: String,
}

impl ButtonPress {
    /// The key claimed in the store so a retried delivery runs once.
    pub fn dedup_key(&self) -> String {
        if self.trigger_id.is_empty() {
            format!("click:{}:{}", self.action_ts, self.user)
        } else {
            format!("click:{}", self.trigger_id)
        }
    }
}

/// A comment typed into the modal a `Press::Ask` button opened: the
/// command line to run with it, as the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub user: SlackUserId,
    pub channel: ChannelId,
    pub line: String,
    pub comment: String,
    /// The modal's id: a retried submission has the same.
    pub view_id: String,
}

impl Comment {
    pub fn dedup_key(&self) -> String {
        format!("view:{}", self.view_id)
    }
}

/// The modal that asks for a comment: its `callback_id`, and the `action_id`
/// of its text input. `private_metadata` carries `{"line", "channel"}`.
pub const COMMENT_CALLBACK: &str = "opsbot.comment";
pub const COMMENT_INPUT: &str = "comment";

/// What an interactivity payload asks of us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interaction {
    Press(ButtonPress),
    Comment(Comment),
    /// Not ours, or nothing to do (logged with `why`).
    Ignored {
        kind: String,
        why: String,
    },
}

/// Parses an interactivity payload.
pub fn interaction(payload: &Value) -> Result<Interaction, PayloadError> {
    let kind = str_field(payload, "type")?;
    if kind == "view_submission" {
        return comment(payload);
    }
    if kind != "block_actions" {
        return Ok(Interaction::Ignored { kind: kind.to_owned(), why: "not a button press".into() });
    }
    let actions = payload.get("actions").and_then(Value::as_array).ok_or_else(|| missing("actions"))?;
    let ours = actions.iter().find_map(|action| {
        let id = action.get("action_id").and_then(Value::as_str)?;
        let value = action.get("value").and_then(Value::as_str).unwrap_or_default();
        Some((Press::from_wire(id, value)?, action))
    });
    let Some((pressed, action)) = ours else {
        let ids: Vec<&str> = actions.iter().filter_map(|a| a.get("action_id").and_then(Value::as_str)).collect();
        return Ok(Interaction::Ignored { kind: kind.to_owned(), why: format!("foreign action ids {ids:?}") });
    };
    press(payload, pressed, action).map(Interaction::Press)
}

fn press(payload: &Value, pressed: Press, action: &Value) -> Result<ButtonPress, PayloadError> {
    let text = |pointer: &str| payload.pointer(pointer).and_then(Value::as_str).filter(|s| !s.is_empty());
    let user = text("/user/id").ok_or_else(|| missing("user.id"))?;
    let channel = text("/channel/id").or_else(|| text("/container/channel_id")).ok_or_else(|| missing("channel.id"))?;
    let response_url = text("/response_url").ok_or_else(|| missing("response_url"))?;
    if !response_url.starts_with("https://") && !response_url.starts_with("http://") {
        return Err(PayloadError("response_url is not a URL".into()));
    }
    let trigger_id = text("/trigger_id").unwrap_or_default();
    let action_ts = action.get("action_ts").and_then(Value::as_str).unwrap_or_default();
    if trigger_id.is_empty() && action_ts.is_empty() {
        return Err(missing("trigger_id"));
    }
    Ok(ButtonPress {
        press: pressed,
        user: SlackUserId::parse(user).map_err(|e| PayloadError(e.to_string()))?,
        channel: ChannelId::parse(channel).map_err(|e| PayloadError(e.to_string()))?,
        response_url: response_url.to_owned(),
        message_ts: text("/container/message_ts").or_else(|| text("/message/ts")).map(str::to_owned),
        trigger_id: trigger_id.to_owned(),
        action_ts: action_ts.to_owned(),
    })
}

/// A submitted comment modal (`view_submission` of ours).
fn comment(payload: &Value) -> Result<Interaction, PayloadError> {
    let text = |pointer: &str| payload.pointer(pointer).and_then(Value::as_str).filter(|s| !s.is_empty());
    if text("/view/callback_id") != Some(COMMENT_CALLBACK) {
        return Ok(Interaction::Ignored { kind: "view_submission".into(), why: "not our modal".into() });
    }
    let bad = |what: &str| PayloadError(format!("view_submission of our modal without {what}"));
    let meta: Value = serde_json::from_str(text("/view/private_metadata").ok_or_else(|| bad("private_metadata"))?)
        .map_err(|_| bad("readable private_metadata"))?;
    let field = |name: &str| meta.get(name).and_then(Value::as_str).map(str::to_owned).ok_or_else(|| bad(name));
    let values = payload.pointer("/view/state/values").and_then(Value::as_object).ok_or_else(|| bad("state"))?;
    let typed = values.values().find_map(|block| block.get(COMMENT_INPUT)?.get("value")?.as_str());
    Ok(Interaction::Comment(Comment {
        user: SlackUserId::parse(text("/user/id").ok_or_else(|| bad("user.id"))?)
            .map_err(|e| PayloadError(e.to_string()))?,
        channel: ChannelId::parse(&field("channel")?).map_err(|e| PayloadError(e.to_string()))?,
        line: field("line")?,
        comment: typed.unwrap_or_default().to_owned(),
        view_id: text("/view/id").ok_or_else(|| bad("view.id"))?.to_owned(),
    }))
}

fn missing(field: &str) -> PayloadError {
    PayloadError(format!("block_actions without `{field}`"))
}

#[cfg(test)]
mod tests {
    use opsbot_commands::click::ClickKind;
    use serde_json::json;

    use super::*;

    fn fixture(name: &str) -> Value {
        let raw = match name {
            "channel" => include_str!("../fixtures/block_actions.json"),
            _ => include_str!("../fixtures/block_actions_ephemeral.json"),
        };
        serde_json::from_str(raw).unwrap()
    }

    fn parsed(payload: &Value) -> ButtonPress {
        match interaction(payload).unwrap() {
            Interaction::Press(press) => press,
            other => panic!("not a press: {other:?}"),
        }
    }

    #[test]
    fn an_approve_press_on_a_channel_message_names_the_clicker_the_message_and_the_change() {
        let press = parsed(&fixture("channel"));
        assert_eq!(press.press.change().unwrap().kind, ClickKind::Approve);
        assert_eq!(
            (press.press.change().unwrap().change.0.as_str(), press.press.change().unwrap().hash.as_str()),
            ("1a2b-3", "5f0c6a1d2e3b4c5d")
        );
        assert_eq!((press.user.as_str(), press.channel.as_str()), ("U0LEAD1", "C0OPS"));
        assert_eq!(press.message_ts.as_deref(), Some("1700000000.000300"));
        assert!(press.response_url.starts_with("https://hooks.slack.com/actions/"));
        assert_eq!(press.dedup_key(), "click:1700000123.4242.0a1b2c3d4e5f60718293a4b5c6d7e8f9");
    }

    #[test]
    fn a_press_on_an_ephemeral_plan_takes_its_message_from_the_container() {
        let press = parsed(&fixture("ephemeral"));
        assert_eq!(press.press.change().unwrap().kind, ClickKind::Confirm);
        assert_eq!(press.message_ts.as_deref(), Some("1700000200.000100"));
        assert_eq!(press.action_ts, "1700000201.000200");
    }

    #[test]
    fn without_a_trigger_id_the_key_is_the_action_time_and_the_user() {
        let mut payload = fixture("ephemeral");
        payload.as_object_mut().unwrap().remove("trigger_id");
        assert_eq!(parsed(&payload).dedup_key(), "click:1700000201.000200:U0DEV");
    }

    #[test]
    fn foreign_buttons_and_other_payload_types_are_ignored_not_errors() {
        let mut payload = fixture("channel");
        payload["actions"][0]["action_id"] = json!("someone.elses.button");
        assert!(matches!(interaction(&payload).unwrap(), Interaction::Ignored { why, .. } if why.contains("someone")));
        let view = json!({"type": "view_submission", "user": {"id": "U1"}});
        assert!(matches!(interaction(&view).unwrap(), Interaction::Ignored { kind, .. } if kind == "view_submission"));
    }

    #[test]
    fn a_press_missing_what_every_press_carries_is_malformed() {
        for field in ["/user", "/channel", "/response_url", "/actions"] {
            let mut payload = fixture("ephemeral");
            let (parent, key) = field.rsplit_once('/').unwrap();
            payload
                .pointer_mut(if parent.is_empty() { "" } else { parent })
                .unwrap()
                .as_object_mut()
                .unwrap()
                .remove(key);
            if field == "/channel" {
                payload["container"].as_object_mut().unwrap().remove("channel_id");
            }
            assert!(interaction(&payload).is_err(), "accepted without {field}");
        }
        assert!(interaction(&json!({"actions": []})).is_err(), "no type");
        let mut bad_url = fixture("ephemeral");
        bad_url["response_url"] = json!("javascript:alert(1)");
        assert!(interaction(&bad_url).is_err());
    }

    fn submission(callback: &str, metadata: &str) -> Value {
        json!({"type": "view_submission", "user": {"id": "U0LEAD"}, "view": {"id": "V1", "callback_id": callback,
            "private_metadata": metadata, "state": {"values": {"b": {"comment": {"type": "plain_text_input", "value": "lgtm"}}}}}})
    }

    #[test]
    fn our_comment_modal_submitted_is_the_line_and_the_comment_of_its_author() {
        let meta = r#"{"line":"pipeline approve pay A/B","channel":"C0OPS"}"#;
        let Interaction::Comment(c) = interaction(&submission("opsbot.comment", meta)).unwrap() else { panic!() };
        assert_eq!(
            (c.user.as_str(), c.channel.as_str(), c.line.as_str(), c.comment.as_str()),
            ("U0LEAD", "C0OPS", "pipeline approve pay A/B", "lgtm")
        );
        assert_eq!(c.dedup_key(), "view:V1");
    }

    #[test]
    fn another_apps_modal_is_ignored_and_ours_without_its_metadata_is_malformed() {
        assert!(matches!(interaction(&submission("their.modal", "{}")).unwrap(), Interaction::Ignored { .. }));
        assert!(interaction(&submission("opsbot.comment", "not json")).is_err());
    }
}
