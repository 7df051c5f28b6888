//! Single-attempt Web API calls for the outbox, which keeps its own durable
//! retry schedule: each returns the classified [`CallError`] instead of
//! retrying. Message content arrives already rendered (the outbox stores it).
//!
//! Exactly-once posting leans on Slack message metadata
//! (<https://docs.slack.dev/messaging/message-metadata>): every post carries
//! `{"event_type": "opsbot_message", "event_payload": {"key": <message key>}}`,
//! and [`SlackWeb::find_posted`] reads it back with `conversations.history`
//! and `include_all_metadata=true`
//! (<https://api.slack.com/methods/conversations.history>), which needs the
//! `channels:history` / `groups:history` scope. Thread replies are not in a
//! channel's history: [`SlackWeb::find_reply`] reads the thread with
//! `conversations.replies` (<https://api.slack.com/methods/conversations.replies>),
//! through slack-morphism's generic GET because its request type has no
//! `include_all_metadata`.

use std::collections::HashMap;
use std::time::Instant;

use chrono::{DateTime, Utc};
use opsbot_commands::values::ChannelId;
use slack_morphism::prelude as sm;

use super::{CallError, SlackWeb, classify};

/// The metadata `event_type` of every message the outbox posts.
pub const METADATA_EVENT: &str = "opsbot_message";
/// Pages of history read at most when looking for a post (200 messages each).
const HISTORY_PAGES: usize = 5;

/// `metadata` naming the logical message `key`.
fn metadata(key: &str) -> sm::SlackMessageMetadata {
    sm::SlackMessageMetadata::new(METADATA_EVENT.to_owned())
        .with_event_payload(HashMap::from([("key".to_owned(), key.to_owned())]))
}

/// Slack's `ts` for a moment: seconds and microseconds.
fn slack_ts(at: DateTime<Utc>) -> sm::SlackTs {
    sm::SlackTs::new(format!("{}.{:06}", at.timestamp(), at.timestamp_subsec_micros()))
}

impl SlackWeb {
    /// One chat.postMessage carrying `key` as metadata; returns the message's ts.
    pub async fn post_once(
        &self,
        channel: &ChannelId,
        thread_ts: Option<&str>,
        key: &str,
        content: &sm::SlackMessageContent,
    ) -> Result<String, CallError> {
        let content = content.clone().with_metadata(metadata(key));
        let mut req = sm::SlackApiChatPostMessageRequest::new(channel.as_str().into(), content);
        req.thread_ts = thread_ts.map(|ts| sm::SlackTs::new(ts.into()));
        let session = self.client.open_session(&self.bot_token);
        let started = Instant::now();
        let res = session.chat_post_message(&req).await.map_err(|e| classify("chat.postMessage", &e));
        self.noted("chat.postMessage", started, &res);
        Ok(res?.ts.to_string())
    }

    /// One chat.update of the message at `ts`, keeping its `key` metadata.
    pub async fn update_once(
        &self,
        channel: &ChannelId,
        ts: &str,
        key: &str,
        content: &sm::SlackMessageContent,
    ) -> Result<(), CallError> {
        let content = content.clone().with_metadata(metadata(key));
        let req = sm::SlackApiChatUpdateRequest::new(channel.as_str().into(), content, sm::SlackTs::new(ts.into()));
        let session = self.client.open_session(&self.bot_token);
        let started = Instant::now();
        let res = session.chat_update(&req).await.map(drop).map_err(|e| classify("chat.update", &e));
        self.noted("chat.update", started, &res);
        res
    }

    /// The ts of a bot message in `channel`, posted since `oldest`, whose
    /// metadata names `key` — how a post interrupted by a crash is found.
    pub async fn find_posted(
        &self,
        channel: &ChannelId,
        key: &str,
        oldest: DateTime<Utc>,
    ) -> Result<Option<String>, CallError> {
        let session = self.client.open_session(&self.bot_token);
        let mut req = sm::SlackApiConversationsHistoryRequest::new()
            .with_channel(channel.as_str().into())
            .with_oldest(slack_ts(oldest))
            .with_limit(200)
            .with_include_all_metadata(true);
        for _ in 0..HISTORY_PAGES {
            let started = Instant::now();
            let res = session.conversations_history(&req).await.map_err(|e| classify("conversations.history", &e));
            self.noted("conversations.history", started, &res);
            let res = res?;
            if let Some(found) = res.messages.iter().find(|m| is_top_level(m) && names_key(m, key)) {
                return Ok(Some(found.origin.ts.to_string()));
            }
            let next = res.response_metadata.and_then(|m| m.next_cursor).filter(|c| !c.0.is_empty());
            match next {
                Some(cursor) if res.has_more.unwrap_or(false) => req.cursor = Some(cursor),
                _ => break,
            }
        }
        Ok(None)
    }

    /// The ts of a bot reply in the thread of `parent_ts` whose metadata
    /// names `key` — how a reply interrupted by a crash is found.
    pub async fn find_reply(
        &self,
        channel: &ChannelId,
        parent_ts: &str,
        key: &str,
    ) -> Result<Option<String>, CallError> {
        let session = self.client.open_session(&self.bot_token);
        let mut cursor: Option<String> = None;
        for _ in 0..HISTORY_PAGES {
            let params = vec![
                ("channel", Some(channel.as_str())),
                ("ts", Some(parent_ts)),
                ("limit", Some("200")),
                ("include_all_metadata", Some("true")),
                ("cursor", cursor.as_deref()),
            ];
            let started = Instant::now();
            let res: Result<sm::SlackApiConversationsRepliesResponse, _> = session
                .http_session_api
                .http_get("conversations.replies", &params, None)
                .await
                .map_err(|e| classify("conversations.replies", &e));
            self.noted("conversations.replies", started, &res);
            let res = res?;
            if let Some(found) = res.messages.iter().find(|m| !is_top_level(m) && names_key(m, key)) {
                return Ok(Some(found.origin.ts.to_string()));
            }
            let next = res.response_metadata.and_then(|m| m.next_cursor).filter(|c| !c.0.is_empty());
            match next {
                Some(next) if res.has_more.unwrap_or(false) => cursor = Some(next.0),
                _ => break,
            }
        }
        Ok(None)
    }
}

/// Not a reply in a thread (a thread's parent counts as top level).
fn is_top_level(message: &sm::SlackHistoryMessage) -> bool {
    message.origin.thread_ts.as_ref().is_none_or(|t| *t == message.origin.ts)
}

/// Whether a message is a bot's whose metadata names `key`.
fn names_key(message: &sm::SlackHistoryMessage, key: &str) -> bool {
    let Some(meta) = &message.content.metadata else {
        return false;
    };
    message.sender.bot_id.is_some()
        && meta.event_type == METADATA_EVENT
        && meta.event_payload.as_ref().and_then(|p| p.get("key")).is_some_and(|k| k == key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Secret;

    #[tokio::test]
    async fn slack_out_of_reach_is_a_failure_worth_retrying() {
        // Port 9 (discard) has no listener here: the connection is refused.
        let metrics = std::sync::Arc::new(crate::metrics::Metrics::default());
        let web = SlackWeb::new("http://127.0.0.1:9/api", &Secret::new("xoxb-test"), metrics.clone()).unwrap();
        let content = sm::SlackMessageContent::new().with_text("hello".into());
        let err = web.post_once(&ChannelId::parse("C1").unwrap(), None, "k", &content).await.unwrap_err();
        assert!(matches!(err, CallError::Transient { method: "chat.postMessage", .. }), "{err:?}");
        let unavailable = metrics.slack_calls("chat.postMessage", crate::metrics::CallResult::Unavailable);
        assert_eq!(unavailable, 1, "the failed attempt is counted");
    }

    #[test]
    fn only_a_bots_message_with_the_key_counts_and_threads_tell_posts_from_replies() {
        let message = |bot: bool, key: &str, thread: Option<&str>| {
            let mut m = serde_json::json!({
                "ts": "1.000100", "text": "x",
                "metadata": {"event_type": METADATA_EVENT, "event_payload": {"key": key}},
            });
            if bot {
                m["bot_id"] = "B0BOT".into();
            }
            if let Some(t) = thread {
                m["thread_ts"] = t.into();
            }
            serde_json::from_value::<sm::SlackHistoryMessage>(m).unwrap()
        };
        assert!(names_key(&message(true, "alarm:a", None), "alarm:a"));
        assert!(!names_key(&message(true, "alarm:b", None), "alarm:a"));
        assert!(!names_key(&message(false, "alarm:a", None), "alarm:a"), "a person's message");
        assert!(is_top_level(&message(true, "alarm:a", None)));
        assert!(is_top_level(&message(true, "alarm:a", Some("1.000100"))), "a thread's parent");
        assert!(!is_top_level(&message(true, "alarm:a", Some("0.5"))), "a reply in a thread");
    }
}
