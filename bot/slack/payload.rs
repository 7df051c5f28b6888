//! Slack's inbound payloads parsed into typed requests at the edge
//! (CONVENTIONS #6). The same parsers serve both transports: HTTP bodies
//! (after the signature check) and Socket Mode envelope payloads.
//!
//! Messages from bots (including opsbot itself) and message edits are ignored,
//! so the bot can never answer itself in a loop. Button presses are parsed in
//! `actions` ([`ButtonPress`]); [`PayloadError`], shared by both, is in
//! `error`, with the one way a missing field becomes one.

use opsbot_commands::mrkdwn::unesc;
use opsbot_commands::values::{ChannelId, SlackUserId};
use serde::Deserialize;
use serde_json::Value;

mod actions;
mod error;
pub use actions::{ButtonPress, COMMENT_CALLBACK, COMMENT_INPUT, Comment, Interaction, interaction};
pub use error::PayloadError;
use error::str_field;

/// A `/ops ...` slash command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlashCommand {
    pub text: String,
    pub user: SlackUserId,
    pub user_name: Option<String>,
    pub channel: ChannelId,
    pub channel_name: Option<String>,
    pub response_url: String,
    /// Unique per invocation: the idempotency key.
    pub trigger_id: String,
}

/// A message addressed to the bot: an @-mention in a channel or a DM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    pub event_id: String,
    pub text: String,
    pub user: SlackUserId,
    pub channel: ChannelId,
    /// The thread to answer in: the mention's thread, or the mention itself.
    pub thread_ts: String,
}

/// What an Events API callback asks of us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    UrlVerification {
        challenge: String,
    },
    Mention(Mention),
    /// Delivered but not for us (bot messages, edits, other event types).
    Ignored {
        event_id: Option<String>,
        why: String,
    },
}

#[derive(Deserialize)]
struct SlashForm {
    text: Option<String>,
    user_id: String,
    user_name: Option<String>,
    channel_id: String,
    channel_name: Option<String>,
    response_url: String,
    trigger_id: String,
}

/// A slash command from its fields: the HTTP form body, or the JSON payload
/// of a Socket Mode `slash_commands` envelope (same field names).
pub fn slash_command(fields: SlashFields<'_>) -> Result<SlashCommand, PayloadError> {
    let form: SlashForm = match fields {
        SlashFields::Form(body) => serde_urlencoded::from_bytes(body).map_err(|e| PayloadError(e.to_string()))?,
        SlashFields::Json(value) => serde_json::from_value(value.clone()).map_err(|e| PayloadError(e.to_string()))?,
    };
    if !form.response_url.starts_with("https://") && !form.response_url.starts_with("http://") {
        return Err(PayloadError("response_url is not a URL".into()));
    }
    Ok(SlashCommand {
        text: clean_text(form.text.as_deref().unwrap_or_default()),
        user: SlackUserId::parse(&form.user_id).map_err(|e| PayloadError(e.to_string()))?,
        user_name: form.user_name,
        channel: ChannelId::parse(&form.channel_id).map_err(|e| PayloadError(e.to_string()))?,
        channel_name: form.channel_name,
        response_url: form.response_url,
        trigger_id: form.trigger_id,
    })
}

pub enum SlashFields<'a> {
    Form(&'a [u8]),
    Json(&'a Value),
}

/// An Events API body (`url_verification` or `event_callback`).
pub fn event(body: &Value) -> Result<Event, PayloadError> {
    let kind = body.get("type").and_then(Value::as_str).ok_or_else(|| PayloadError("no `type`".into()))?;
    match kind {
        "url_verification" => {
            let challenge = str_field(body, "challenge")?;
            Ok(Event::UrlVerification { challenge: challenge.to_owned() })
        }
        "event_callback" => event_callback(body),
        other => Ok(Event::Ignored { event_id: None, why: format!("envelope type {other}") }),
    }
}

fn event_callback(body: &Value) -> Result<Event, PayloadError> {
    let event_id = str_field(body, "event_id")?.to_owned();
    let event = body.get("event").ok_or_else(|| PayloadError("no `event`".into()))?;
    let ignored = |why: &str| Ok(Event::Ignored { event_id: Some(event_id.clone()), why: why.into() });
    let kind = event.get("type").and_then(Value::as_str).unwrap_or_default();
    let is_dm = kind == "message" && event.get("channel_type").and_then(Value::as_str) == Some("im");
    if kind != "app_mention" && !is_dm {
        return ignored(&format!("event type {kind}"));
    }
    if event.get("bot_id").is_some() || event.get("subtype").is_some() {
        return ignored("bot message or edit");
    }
    let ts = str_field(event, "ts")?;
    let thread_ts = event.get("thread_ts").and_then(Value::as_str).unwrap_or(ts);
    Ok(Event::Mention(Mention {
        text: clean_text(&strip_leading_mention(str_field(event, "text")?)),
        user: SlackUserId::parse(str_field(event, "user")?).map_err(|e| PayloadError(e.to_string()))?,
        channel: ChannelId::parse(str_field(event, "channel")?).map_err(|e| PayloadError(e.to_string()))?,
        thread_ts: thread_ts.to_owned(),
        event_id,
    }))
}

/// `<@U0BOT> pipelines` → `pipelines`.
fn strip_leading_mention(text: &str) -> String {
    let trimmed = text.trim_start();
    match trimmed.strip_prefix("<@").and_then(|rest| rest.split_once('>')) {
        Some((_, rest)) => rest.to_owned(),
        None => trimmed.to_owned(),
    }
}

/// Undoes Slack's message formatting: `<url|label>` → label, `<url>` → url,
/// and the `&amp;` `&lt;` `&gt;` escapes. User and channel references stay.
pub fn clean_text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('>') else { break };
        let inner = &rest[start + 1..start + end];
        if inner.starts_with(['@', '#', '!']) {
            out.push_str(&rest[start..=start + end]);
        } else {
            out.push_str(inner.split_once('|').map_or(inner, |(_, label)| label));
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    unesc(&out).trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn slack_formatting_is_undone_before_parsing() {
        assert_eq!(clean_text("pipeline <http://storefront.web|storefront.web>"), "pipeline storefront.web");
        assert_eq!(clean_text("param get /a&amp;b <https://x.io>"), "param get /a&b https://x.io");
        assert_eq!(clean_text("whoami <@U1>"), "whoami <@U1>");
    }

    #[test]
    fn a_slash_command_form_is_parsed_with_its_trigger_id() {
        let body = b"token=t&team_id=T1&channel_id=C1&channel_name=ops&user_id=U1&user_name=ann&command=%2Fops&text=pipeline+web&response_url=https%3A%2F%2Fhooks.slack.com%2Fx&trigger_id=42.1";
        let cmd = slash_command(SlashFields::Form(body)).unwrap();
        assert_eq!((cmd.text.as_str(), cmd.user.as_str(), cmd.trigger_id.as_str()), ("pipeline web", "U1", "42.1"));
    }

    #[test]
    fn a_slash_command_without_required_fields_is_malformed() {
        assert!(slash_command(SlashFields::Form(b"text=hi")).is_err());
        assert!(slash_command(SlashFields::Json(&json!({"text": "hi", "user_id": 5}))).is_err());
    }

    #[test]
    fn a_mention_loses_the_bot_name_and_answers_in_its_thread() {
        let body = json!({"type": "event_callback", "event_id": "Ev1", "event": {
            "type": "app_mention", "user": "U1", "text": "<@U0BOT> pipelines", "ts": "1.2", "channel": "C1"}});
        let Event::Mention(m) = event(&body).unwrap() else { panic!() };
        assert_eq!((m.text.as_str(), m.thread_ts.as_str(), m.event_id.as_str()), ("pipelines", "1.2", "Ev1"));
    }

    #[test]
    fn bot_messages_and_other_events_are_ignored() {
        let bot = json!({"type": "event_callback", "event_id": "Ev2", "event": {
            "type": "message", "channel_type": "im", "bot_id": "B1", "text": "hi", "ts": "1", "channel": "D1"}});
        assert!(matches!(event(&bot).unwrap(), Event::Ignored { .. }));
        let other = json!({"type": "event_callback", "event_id": "Ev3", "event": {"type": "reaction_added"}});
        assert!(matches!(event(&other).unwrap(), Event::Ignored { .. }));
    }

    #[test]
    fn url_verification_returns_the_challenge() {
        let body = json!({"type": "url_verification", "challenge": "abc", "token": "t"});
        assert_eq!(event(&body).unwrap(), Event::UrlVerification { challenge: "abc".into() });
    }
}
