//! The commands' `Chat` port on Slack. Channel messages (approval requests,
//! a change's progress) go through the [`Outbox`] like every other Slack
//! write: durable, paced per channel, 429-aware, posted exactly once. A
//! message is addressed by an outbox key, which [`MessageRef::ts`] carries as
//! `outbox:<key>` (the real ts is the outbox's to know). Private notes go
//! straight to chat.postEphemeral: they are answers to one person now, not
//! state to keep.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use opsbot_commands::Reply;
use opsbot_commands::ports::chat::{Chat, ChatError, MessageRef};
use opsbot_commands::values::{ChannelId, SlackUserId};

use super::outbox::Outbox;
use super::web::SlackWeb;

const KEY_PREFIX: &str = "outbox:";

pub struct SlackChat {
    outbox: Outbox,
    web: Arc<SlackWeb>,
    /// Makes each posted message's key unique within this run (with the start time across runs).
    next: AtomicU64,
    run: String,
}

impl SlackChat {
    pub fn new(outbox: Outbox, web: Arc<SlackWeb>) -> Self {
        SlackChat { outbox, web, next: AtomicU64::new(0), run: crate::request_id() }
    }
}

fn chat_error(err: impl std::fmt::Display) -> ChatError {
    ChatError(err.to_string())
}

#[async_trait]
impl Chat for SlackChat {
    async fn post(&self, channel: &ChannelId, reply: &Reply) -> Result<MessageRef, ChatError> {
        let key = format!("chat:{}:{}", self.run, self.next.fetch_add(1, Ordering::Relaxed));
        self.outbox.post(&key, channel, reply).await.map_err(chat_error)?;
        Ok(MessageRef { channel: channel.clone(), ts: format!("{KEY_PREFIX}{key}") })
    }

    async fn update(&self, message: &MessageRef, reply: &Reply) -> Result<(), ChatError> {
        let Some(key) = message.ts.strip_prefix(KEY_PREFIX) else {
            // A message posted directly before this version: edit it directly.
            return self.web.update_message(&message.channel, &message.ts, reply).await.map_err(chat_error);
        };
        self.outbox.update(key, reply).await.map(drop).map_err(chat_error)
    }

    async fn whisper(&self, channel: &ChannelId, user: &SlackUserId, reply: &Reply) -> Result<(), ChatError> {
        self.web.post_ephemeral(channel, user, None, reply).await.map_err(chat_error)
    }
}
