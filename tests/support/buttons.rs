//! Pressing the bot's buttons as Slack users do: find the button in what the
//! bot sent, build the `block_actions` payload Slack would send for it, and
//! deliver it through the bot's transport (a signed POST to
//! `/slack/interactions`, or an `interactive` envelope over Socket Mode).
//! A [`Press`] can be delivered again, exactly as Slack retries it.

use opsbot::app::Transport;
use serde_json::Value;

use super::bot::{CHANNEL, TestBot};

/// A button press ready to deliver: its payload and the response_url the
/// bot answers it at.
#[derive(Debug, Clone)]
pub struct Press {
    pub payload: Value,
    pub response_url: String,
}

/// The button element labelled `label` in a message or response body.
pub fn button(message: &Value, label: &str) -> Value {
    elements(message)
        .find(|e| e["text"]["text"] == label)
        .cloned()
        .unwrap_or_else(|| panic!("no button {label:?} in {message:#}"))
}

/// Labels of every button in a message or response body.
pub fn buttons(message: &Value) -> Vec<String> {
    elements(message).filter_map(|e| e["text"]["text"].as_str().map(str::to_owned)).collect()
}

fn elements(message: &Value) -> impl Iterator<Item = &Value> {
    let blocks = message["blocks"].as_array().into_iter().flatten();
    blocks.filter(|b| b["type"] == "actions").flat_map(|b| b["elements"].as_array().into_iter().flatten())
}

impl TestBot {
    /// `user` presses `label` on `message`: a channel message (it has a `ts`)
    /// or an ephemeral answer posted at a response_url (it has none).
    pub fn press(&self, user: &str, message: &Value, label: &str) -> Press {
        let element = button(message, label);
        let (ts, ephemeral) = match message["ts"].as_str() {
            Some(ts) => (ts.to_owned(), false),
            None => ("1700000000.999999".to_owned(), true),
        };
        let payload = self.slack.block_actions(user, CHANNEL, &ts, ephemeral, &element);
        let response_url = payload["response_url"].as_str().expect("a response_url").to_owned();
        Press { payload, response_url }
    }

    /// Delivers `press` and checks it was acknowledged at once.
    pub async fn deliver(&self, press: &Press) {
        self.deliver_raw(&press.payload).await;
    }

    /// Delivers any interaction payload; returns the HTTP status (200 for the socket's ack).
    pub async fn deliver_raw(&self, payload: &Value) -> u16 {
        match self.transport {
            Transport::Http => {
                let body = serde_urlencoded::to_string([("payload", payload.to_string())]).expect("form");
                self.post_signed("/slack/interactions", "application/x-www-form-urlencoded", &body).await.status
            }
            Transport::Socket => {
                let id = self.slack.send_envelope("interactive", payload.clone()).await;
                self.slack.next_ack(&id).await;
                200
            }
        }
    }

    /// `user` presses `label` on `message`; returns what the bot answered at
    /// the press's response_url.
    pub async fn click(&self, user: &str, message: &Value, label: &str) -> Value {
        let press = self.press(user, message, label);
        assert_eq!(self.deliver_raw(&press.payload).await, 200, "press acknowledged");
        self.slack.next_response(&press.response_url).await
    }
}
