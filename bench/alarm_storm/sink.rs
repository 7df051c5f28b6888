//! A local Slack Web API for the alarm storm: answers `chat.postMessage` and
//! `chat.update` the way Slack does (`ok`, `channel`, `ts`, `message`) and
//! records every write per channel, so the bench can check pacing, losses,
//! duplicates and each message's latest content.
//!
//! Slack's answers: <https://api.slack.com/methods/chat.postMessage> and
//! <https://api.slack.com/methods/chat.update> (a `ts` per message, a reply is
//! a `chat.postMessage` with `thread_ts`). Every other method answers `ok`.
//! Requests are read as JSON (what slack-morphism sends) or, failing that, as
//! a form.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::post;
use serde_json::{Value, json};

/// One top-level message, as Slack would show it now.
#[derive(Debug, Clone)]
pub struct Message {
    pub channel: String,
    /// The alarm it is about: the first `storm-c…-alarm-NNN` in its fallback
    /// text, else in its whole body (a first message may be worded otherwise,
    /// e.g. when a replica shows an alarm's OK before its ALARM).
    pub alarm: String,
    /// The start of its first fallback text, to show when no alarm is found in it.
    pub first_text: String,
    /// The latest request body that set its content (post or update).
    pub content: String,
    pub updates: usize,
}

/// Everything Slack received.
#[derive(Debug, Default)]
pub struct Record {
    /// By ts.
    pub messages: HashMap<String, Message>,
    /// Thread replies per channel.
    pub replies: HashMap<String, usize>,
    /// Every write (post, reply, update) per channel, when it arrived.
    pub writes: HashMap<String, Vec<Instant>>,
    /// Calls that were not writes or did not name a channel/known ts.
    pub other_calls: usize,
    pub bad_updates: usize,
    next_ts: u64,
}

impl Record {
    pub fn last_write(&self) -> Option<Instant> {
        self.writes.values().filter_map(|w| w.last().copied()).max()
    }

    pub fn total_writes(&self) -> usize {
        self.writes.values().map(Vec::len).sum()
    }
}

pub type Shared = Arc<Mutex<Record>>;

/// Serves the sink on 127.0.0.1; returns its base URL (the API is under `/api`).
pub async fn start(record: Shared) -> String {
    let app = Router::new().route("/api/{method}", post(call)).with_state(record);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port for the sink");
    let addr = listener.local_addr().expect("the sink's address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

async fn call(State(record): State<Shared>, Path(method): Path<String>, body: Bytes) -> axum::Json<Value> {
    let params: Value = serde_json::from_slice(&body)
        .or_else(|_| serde_urlencoded::from_bytes::<HashMap<String, String>>(&body).map(|m| json!(m)))
        .unwrap_or(Value::Null);
    let text = String::from_utf8_lossy(&body).into_owned();
    let field = |name: &str| params.get(name).and_then(Value::as_str).map(str::to_owned);
    let mut record = record.lock().expect("sink record lock");
    let now = Instant::now();
    match (method.as_str(), field("channel")) {
        ("chat.postMessage", Some(channel)) => {
            record.next_ts += 1;
            let ts = format!("1763800000.{:06}", record.next_ts);
            record.writes.entry(channel.clone()).or_default().push(now);
            if field("thread_ts").is_some() {
                *record.replies.entry(channel.clone()).or_default() += 1;
            } else {
                let fallback = field("text").unwrap_or_default();
                let alarm = alarm_in(&fallback).or_else(|| alarm_in(&text)).unwrap_or_default();
                let first_text = fallback.chars().take(120).collect();
                let message = Message { channel: channel.clone(), alarm, first_text, content: text, updates: 0 };
                record.messages.insert(ts.clone(), message);
            }
            axum::Json(json!({"ok": true, "channel": channel, "ts": ts, "message": {"type": "message", "ts": ts}}))
        }
        ("chat.update", Some(channel)) => {
            let ts = field("ts").unwrap_or_default();
            record.writes.entry(channel.clone()).or_default().push(now);
            match record.messages.get_mut(&ts) {
                Some(message) => {
                    message.content = text;
                    message.updates += 1;
                    let text = field("text");
                    let message = json!({"type": "message", "ts": ts, "text": text});
                    axum::Json(json!({"ok": true, "channel": channel, "ts": ts, "text": text, "message": message}))
                }
                None => {
                    record.bad_updates += 1;
                    axum::Json(json!({"ok": false, "error": "message_not_found"}))
                }
            }
        }
        _ => {
            record.other_calls += 1;
            axum::Json(json!({"ok": true}))
        }
    }
}

/// The first alarm name (`storm-cD-alarm-NNN`, see load.rs) in `text`.
fn alarm_in(text: &str) -> Option<String> {
    let at = text.find("storm-c")?;
    text.get(at..at + "storm-c0-alarm-000".len()).map(str::to_owned)
}

/// The most writes one channel took within any one second.
pub fn max_per_second(writes: &[Instant]) -> usize {
    let mut most = 0;
    let mut first = 0;
    for (last, at) in writes.iter().enumerate() {
        while at.duration_since(writes[first]).as_secs_f64() >= 1.0 {
            first += 1;
        }
        most = most.max(last - first + 1);
    }
    most
}
