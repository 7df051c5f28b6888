//! The commands' `Chat` port on Slack: channel messages through
//! chat.postMessage / chat.update, private notes through chat.postEphemeral.

use std::sync::Arc;

use async_trait::async_trait;
use opsbot_commands::Reply;
use opsbot_commands::ports::chat::{Chat, ChatError, MessageRef};
use opsbot_commands::values::{ChannelId, SlackUserId};

use super::web::SlackWeb;

pub struct SlackChat(pub Arc<SlackWeb>);

fn chat_error(err: super::web::WebError) -> ChatError {
    ChatError(err.to_string())
}

#[async_trait]
impl Chat for SlackChat {
    async fn post(&self, channel: &ChannelId, reply: &Reply) -> Result<MessageRef, ChatError> {
        let ts = self.0.post_message(channel, None, reply).await.map_err(chat_error)?;
        Ok(MessageRef { channel: channel.clone(), ts })
    }

    async fn update(&self, message: &MessageRef, reply: &Reply) -> Result<(), ChatError> {
        self.0.update_message(&message.channel, &message.ts, reply).await.map_err(chat_error)
    }

    async fn whisper(&self, channel: &ChannelId, user: &SlackUserId, reply: &Reply) -> Result<(), ChatError> {
        self.0.post_ephemeral(channel, user, None, reply).await.map_err(chat_error)
    }
}
