//! Reading the bot's messages back, as Slack serves them:
//! - `conversations.history`: a channel's top-level messages (thread replies
//!   are not listed), newest first, within `oldest`/`latest` (exclusive
//!   unless `inclusive`) (<https://api.slack.com/methods/conversations.history>);
//! - `conversations.replies`: a thread, its parent first, then the replies
//!   oldest first (<https://api.slack.com/methods/conversations.replies>).
//!
//! Both page by `limit` and an opaque `cursor`, and include `metadata` only
//! with `include_all_metadata=true`.

use serde_json::{Value, json};

use super::Shared;
use super::web_api::{Params, ok, slack_error};

const DEFAULT_LIMIT: usize = 100;

pub(super) fn history(shared: &Shared, p: &Params) -> axum::response::Response {
    let Some(channel) = text(p, "channel") else {
        return slack_error("channel_not_found");
    };
    let inclusive = flag(p, "inclusive");
    let oldest = number(p, "oldest").unwrap_or(0.0);
    let latest = number(p, "latest").unwrap_or(f64::MAX);
    let mut found: Vec<Value> = shared.inspect(|s| s.web.messages_in(channel));
    found.retain(|m| {
        let ts = ts_of(m);
        let top_level = m.get("thread_ts").is_none_or(|t| t == &m["ts"]);
        let within = if inclusive { ts >= oldest && ts <= latest } else { ts > oldest && ts < latest };
        top_level && within
    });
    found.sort_by(|a, b| b["ts"].as_str().cmp(&a["ts"].as_str()));
    page(p, found)
}

pub(super) fn replies(shared: &Shared, p: &Params) -> axum::response::Response {
    let (Some(channel), Some(parent)) = (text(p, "channel"), text(p, "ts")) else {
        return slack_error("thread_not_found");
    };
    let mut thread: Vec<Value> = shared.inspect(|s| s.web.messages_in(channel));
    thread.retain(|m| m["ts"] == parent || m["thread_ts"] == parent);
    if thread.is_empty() {
        return slack_error("thread_not_found");
    }
    thread.sort_by(|a, b| a["ts"].as_str().cmp(&b["ts"].as_str()));
    page(p, thread)
}

/// One page of `messages` as `limit` and `cursor` ask, metadata as asked.
fn page(p: &Params, messages: Vec<Value>) -> axum::response::Response {
    let limit = number(p, "limit").map_or(DEFAULT_LIMIT, |n| (n as usize).clamp(1, 999));
    let skip: usize = text(p, "cursor").and_then(|c| c.strip_prefix("page:")?.parse().ok()).unwrap_or(0);
    let with_metadata = flag(p, "include_all_metadata");
    let has_more = messages.len() > skip + limit;
    let page: Vec<Value> = messages
        .into_iter()
        .skip(skip)
        .take(limit)
        .map(|mut m| {
            if !with_metadata && let Some(fields) = m.as_object_mut() {
                fields.remove("metadata");
            }
            m
        })
        .collect();
    let next_cursor = if has_more { format!("page:{}", skip + limit) } else { String::new() };
    ok(json!({"messages": page, "has_more": has_more, "response_metadata": {"next_cursor": next_cursor}}))
}

fn ts_of(message: &Value) -> f64 {
    message["ts"].as_str().and_then(|t| t.parse().ok()).unwrap_or(0.0)
}

fn text<'a>(p: &'a Params, key: &str) -> Option<&'a str> {
    p.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn number(p: &Params, key: &str) -> Option<f64> {
    match p.get(key)? {
        Value::String(s) => s.parse().ok(),
        other => other.as_f64(),
    }
}

fn flag(p: &Params, key: &str) -> bool {
    matches!(p.get(key), Some(Value::Bool(true))) || text(p, key).is_some_and(|v| v == "true" || v == "1")
}
