//! The outbox: every notification's Slack write goes through here, durable,
//! paced and made once. [`Outbox`] queues writes in the store (one
//! transaction each); [`Sender`] drains them.
//!
//! A write is addressed by a logical message key (`alarm:<arn>`,
//! `pipeline:<execution id>`), not a Slack ts: callers post, update and reply
//! by key, and the store keeps the key's channel and ts once it is posted.
//! See `crate::store::outbox` for the queue's rules (post once per key,
//! updates coalesce to the newest content, replies wait for their message).
//!
//! Content is a commands [`Reply`], rendered to Block Kit by
//! [`super::blocks`] when queued; the row keeps the rendered JSON, so what is
//! sent after a restart is exactly what was queued.
//!
//! # Parts
//! - this file: [`Outbox`], the queueing handle, and [`Write`]; errors are
//!   the store's [`OutboxError`] (one enum for the whole outbox);
//! - [`sender`]: the task that drains the queue;
//! - [`pacing`]: per-channel pacing and retry back-off.

use std::sync::Arc;

use opsbot_commands::Reply;
use opsbot_commands::ports::chat::MessageRef;
use opsbot_commands::values::ChannelId;
use tokio::sync::Notify;

use super::blocks;
use super::web::SlackWeb;
use crate::app::Clock;
use crate::store::SqliteStore;
pub use crate::store::{Enqueued, NewWrite, OutboxError};

mod pacing;
mod sender;

pub use pacing::Pacing;
pub use sender::Sender;

/// A Slack write, addressed by message key, with its content as a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// Posts `key`'s message in `channel` — once: if `key` is already posted
    /// or waiting to be, this is an update of it (in its first channel).
    Post { key: String, channel: ChannelId, reply: Reply },
    /// Replaces the content of `key`'s message; a write of it still waiting
    /// just takes the new content.
    Update { key: String, reply: Reply },
    /// Adds a message in the thread of `key`'s message (after it is posted).
    Reply { key: String, reply: Reply },
}

impl Write {
    /// The row's form: the content rendered to Block Kit JSON.
    pub fn rendered(&self) -> NewWrite {
        match self {
            Write::Post { key, channel, reply } => {
                NewWrite::Post { key: key.clone(), channel: channel.clone(), payload: render(reply) }
            }
            Write::Update { key, reply } => NewWrite::Update { key: key.clone(), payload: render(reply) },
            Write::Reply { key, reply } => NewWrite::Reply { key: key.clone(), payload: render(reply) },
        }
    }
}

/// Queues Slack writes; cheap to clone. Every call returns once the writes
/// are durable, and wakes the [`Sender`].
#[derive(Clone)]
pub struct Outbox {
    store: Arc<SqliteStore>,
    wake: Arc<Notify>,
    clock: Clock,
}

impl Outbox {
    /// The queueing handle and the sender that drains the same store.
    pub fn new(store: Arc<SqliteStore>, web: Arc<SlackWeb>, clock: Clock, pacing: Pacing) -> (Outbox, Sender) {
        let wake = Arc::new(Notify::new());
        let sender = Sender::new(store.clone(), web, wake.clone(), clock.clone(), pacing);
        (Outbox { store, wake, clock }, sender)
    }

    /// Queues `writes` in order, in one transaction: all, or none if one
    /// updates or replies to a message never queued.
    pub fn enqueue(&self, writes: &[Write]) -> Result<Vec<Enqueued>, OutboxError> {
        let rows: Vec<NewWrite> = writes.iter().map(Write::rendered).collect();
        let queued = self.store.outbox_enqueue(&rows, (self.clock)())?;
        self.wake();
        Ok(queued)
    }

    /// [`Write::Post`] alone.
    pub fn post(&self, key: &str, channel: &ChannelId, reply: &Reply) -> Result<Enqueued, OutboxError> {
        self.one(Write::Post { key: key.to_owned(), channel: channel.clone(), reply: reply.clone() })
    }

    /// [`Write::Update`] alone.
    pub fn update(&self, key: &str, reply: &Reply) -> Result<Enqueued, OutboxError> {
        self.one(Write::Update { key: key.to_owned(), reply: reply.clone() })
    }

    /// [`Write::Reply`] alone.
    pub fn reply(&self, key: &str, reply: &Reply) -> Result<Enqueued, OutboxError> {
        self.one(Write::Reply { key: key.to_owned(), reply: reply.clone() })
    }

    /// Where `key`'s message is, once posted.
    pub fn message_ref(&self, key: &str) -> Result<Option<MessageRef>, OutboxError> {
        Ok(self.store.message_ref(key)?)
    }

    /// Tells the sender there is something new, for writes queued with
    /// `crate::store::outbox::enqueue_in` inside another transaction.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    fn one(&self, write: Write) -> Result<Enqueued, OutboxError> {
        let queued = self.enqueue(std::slice::from_ref(&write))?;
        Ok(queued.into_iter().next().expect("one write queued"))
    }
}

/// The Block Kit JSON the row keeps.
fn render(reply: &Reply) -> String {
    serde_json::to_string(&blocks::content(reply)).expect("message content serialises")
}

#[cfg(test)]
mod tests;
