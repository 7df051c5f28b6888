//! The commands' `Chat` port at the console: channel messages (approval
//! requests, progress) are printed as they are posted or edited, marked with
//! the channel; notes to one person are printed with their name.

use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use opsbot_commands::Reply;
use opsbot_commands::ports::chat::{Chat, ChatError, MessageRef};
use opsbot_commands::values::{ChannelId, SlackUserId};
use tokio::io::AsyncWriteExt;

use super::render;

#[derive(Default)]
pub struct ConsoleChat {
    next_ts: AtomicU64,
}

impl ConsoleChat {
    async fn print(&self, text: String) -> Result<(), ChatError> {
        let mut out = tokio::io::stdout();
        out.write_all(text.as_bytes()).await.map_err(|e| ChatError(e.to_string()))?;
        out.flush().await.map_err(|e| ChatError(e.to_string()))
    }
}

#[async_trait]
impl Chat for ConsoleChat {
    async fn post(&self, channel: &ChannelId, reply: &Reply) -> Result<MessageRef, ChatError> {
        let ts = format!("{}.000", self.next_ts.fetch_add(1, Ordering::Relaxed) + 1);
        self.print(format!("── #{channel} ──\n{}\n\n", render(reply))).await?;
        Ok(MessageRef { channel: channel.clone(), ts })
    }

    async fn update(&self, message: &MessageRef, reply: &Reply) -> Result<(), ChatError> {
        self.print(format!("── #{} (edited) ──\n{}\n\n", message.channel, render(reply))).await
    }

    async fn whisper(&self, _channel: &ChannelId, user: &SlackUserId, reply: &Reply) -> Result<(), ChatError> {
        self.print(format!("── to {user} ──\n{}\n\n", render(reply))).await
    }
}
