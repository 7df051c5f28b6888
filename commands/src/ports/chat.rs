//! The chat a change talks to after its first answer: approval requests in the
//! channel, progress edited into one message, notes to one person. Slack
//! implements it with chat.postMessage / chat.update / chat.postEphemeral; the
//! console prints.

use async_trait::async_trait;

use crate::reply::Reply;
use crate::values::{ChannelId, SlackUserId};

/// A posted message that can be edited later.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MessageRef {
    pub channel: ChannelId,
    pub ts: String,
}

#[derive(Debug, thiserror::Error)]
#[error("chat: {0}")]
pub struct ChatError(pub String);

#[async_trait]
pub trait Chat: Send + Sync {
    /// Posts a message everyone in `channel` sees.
    async fn post(&self, channel: &ChannelId, reply: &Reply) -> Result<MessageRef, ChatError>;
    /// Replaces a message posted earlier (buttons included).
    async fn update(&self, message: &MessageRef, reply: &Reply) -> Result<(), ChatError>;
    /// Shows a message to one person only.
    async fn whisper(&self, channel: &ChannelId, user: &SlackUserId, reply: &Reply) -> Result<(), ChatError>;
}
