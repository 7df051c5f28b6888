//! The commands' `Chat` port at the console: channel messages (approval
//! requests, progress) are printed on the shared [`Screen`] as they are
//! posted or edited, marked with the channel, their buttons numbered like any
//! other choice; notes to one person are printed with their name.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use opsbot_commands::Reply;
use opsbot_commands::ports::chat::{Chat, ChatError, MessageRef};
use opsbot_commands::values::{ChannelId, SlackUserId};

use super::screen::Screen;

pub struct ConsoleChat {
    screen: Arc<Screen>,
    next_ts: AtomicU64,
}

impl ConsoleChat {
    pub fn new(screen: Arc<Screen>) -> Self {
        ConsoleChat { screen, next_ts: AtomicU64::new(0) }
    }

    fn post_text(&self, heading: String, reply: &Reply) -> Result<(), ChatError> {
        let text = format!("── {heading} ──\n{}\n\n", self.screen.render(reply));
        self.screen.post(text).map_err(|e| ChatError(e.to_string()))
    }
}

#[async_trait]
impl Chat for ConsoleChat {
    async fn post(&self, channel: &ChannelId, reply: &Reply) -> Result<MessageRef, ChatError> {
        let ts = format!("{}.000", self.next_ts.fetch_add(1, Ordering::Relaxed) + 1);
        self.post_text(format!("#{channel}"), reply)?;
        Ok(MessageRef { channel: channel.clone(), ts })
    }

    async fn update(&self, message: &MessageRef, reply: &Reply) -> Result<(), ChatError> {
        self.post_text(format!("#{} (edited)", message.channel), reply)
    }

    async fn whisper(&self, _channel: &ChannelId, user: &SlackUserId, reply: &Reply) -> Result<(), ChatError> {
        self.post_text(format!("to {user}"), reply)
    }
}
