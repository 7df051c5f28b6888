//! Request bodies Slack sends *to* the bot, filled with the fake workspace's ids:
//! the `/ops` slash command (HTTP form body or Socket Mode JSON payload), the
//! Events API `event_callback` for an `app_mention`, and the `block_actions`
//! interaction for a button press (the same JSON over HTTP, in the `payload`
//! form field, and over Socket Mode, in an `interactive` envelope).
//!
//! Shapes follow Slack's docs: a slash command is a flat set of string fields
//! (even `is_enterprise_install` is the string "false"), identical over HTTP and
//! Socket Mode; an event callback wraps the event with team/app ids, `event_id`,
//! `event_time` and the single truncated `authorizations` entry Slack now sends.

use serde_json::{Map, Value, json};

use super::FakeSlack;

impl FakeSlack {
    /// The urlencoded body Slack POSTs for `/ops <text>` (sign it to send it over HTTP).
    pub fn slash_command_form(
        &self,
        text: &str,
        user_id: &str,
        user_name: &str,
        channel_id: &str,
        channel_name: &str,
        response_url: &str,
    ) -> String {
        let fields = self.slash_command_fields(text, user_id, user_name, channel_id, channel_name, response_url);
        serde_urlencoded::to_string(fields).expect("string pairs always encode")
    }

    /// The same `/ops <text>` command as the Socket Mode `slash_commands` payload.
    pub fn slash_command_json(
        &self,
        text: &str,
        user_id: &str,
        user_name: &str,
        channel_id: &str,
        channel_name: &str,
        response_url: &str,
    ) -> Value {
        let fields = self.slash_command_fields(text, user_id, user_name, channel_id, channel_name, response_url);
        let object: Map<String, Value> =
            fields.into_iter().map(|(key, value)| (key.to_string(), Value::String(value))).collect();
        Value::Object(object)
    }

    /// An Events API `event_callback` carrying an `app_mention`; `text` is the whole
    /// message, e.g. `"<@U0BOT> pipelines"`, and `ts` like `"1700000000.000100"`.
    pub fn app_mention_event(&self, event_id: &str, user: &str, channel: &str, text: &str, ts: &str) -> Value {
        let c = &self.shared.config;
        let event_time = ts.split('.').next().and_then(|secs| secs.parse::<i64>().ok()).unwrap_or(1_700_000_000);
        json!({
            "token": c.verification_token,
            "team_id": c.team_id,
            "api_app_id": c.app_id,
            "event": {
                "type": "app_mention",
                "user": user,
                "text": text,
                "ts": ts,
                "team": c.team_id,
                "channel": channel,
                "event_ts": ts,
            },
            "type": "event_callback",
            "event_id": event_id,
            "event_time": event_time,
            "authorizations": [{
                "enterprise_id": null,
                "team_id": c.team_id,
                "user_id": c.bot_user_id,
                "is_bot": true,
                "is_enterprise_install": false,
            }],
            "is_ext_shared_channel": false,
            "event_context": format!("4-fake-{event_id}"),
        })
    }

    /// A `block_actions` payload: `user` pressed `button` (the element as the bot
    /// sent it: `action_id`, `value`, `text`) on the message `message_ts` in
    /// `channel`. An ephemeral message (a plan shown at a response_url) has no
    /// `message` object, only the container, as at Slack. Fresh `trigger_id`.
    pub fn block_actions(&self, user: &str, channel: &str, message_ts: &str, ephemeral: bool, button: &Value) -> Value {
        let c = &self.shared.config;
        let n = self.shared.update(|s| s.next_number());
        let action_ts = format!("{}.{:06}", 1_700_000_000 + n, n);
        let mut payload = json!({
            "type": "block_actions",
            "user": {"id": user, "username": user.to_lowercase(), "name": user.to_lowercase(), "team_id": c.team_id},
            "api_app_id": c.app_id,
            "token": c.verification_token,
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": ephemeral},
            "trigger_id": format!("{}.{n}.{:032x}", 1_700_000_000 + n, n * 0x7f4a_7c15),
            "team": {"id": c.team_id, "domain": c.team_domain},
            "enterprise": null,
            "is_enterprise_install": false,
            "channel": {"id": channel, "name": "ops"},
            "state": {"values": {}},
            "response_url": self.response_url(),
            "actions": [{
                "action_id": button["action_id"], "block_id": "b1", "text": button["text"],
                "value": button["value"], "style": button["style"], "type": "button", "action_ts": action_ts,
            }],
        });
        if !ephemeral {
            payload["message"] = json!({"type": "message", "ts": message_ts, "bot_id": c.bot_id, "text": ""});
        }
        payload
    }

    /// Slash command fields in the order Slack sends them; a fresh `trigger_id` each time.
    fn slash_command_fields(
        &self,
        text: &str,
        user_id: &str,
        user_name: &str,
        channel_id: &str,
        channel_name: &str,
        response_url: &str,
    ) -> Vec<(&'static str, String)> {
        let c = &self.shared.config;
        let n = self.shared.update(|s| s.next_number());
        let trigger_id = format!("{}.{n}.{:032x}", 1_700_000_000 + n, n * 0x9e37_79b9);
        vec![
            ("token", c.verification_token.clone()),
            ("team_id", c.team_id.clone()),
            ("team_domain", c.team_domain.clone()),
            ("channel_id", channel_id.to_string()),
            ("channel_name", channel_name.to_string()),
            ("user_id", user_id.to_string()),
            ("user_name", user_name.to_string()),
            ("command", "/ops".to_string()),
            ("text", text.to_string()),
            ("api_app_id", c.app_id.clone()),
            ("is_enterprise_install", "false".to_string()),
            ("response_url", response_url.to_string()),
            ("trigger_id", trigger_id),
        ]
    }
}
