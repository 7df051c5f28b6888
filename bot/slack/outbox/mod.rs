//! The outbox: every notification's Slack write goes through here, durable,
//! paced and made once. [`Outbox`] queues writes in the store (one
//! transaction each, or with a notification's records in
//! [`Outbox::commit`]); [`Sender`] drains them.
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
//! - this file: [`Outbox`], the queueing handle, [`Write`] and [`OutboxError`];
//! - `sender.rs`: the task that drains the queue;
//! - `pacing.rs`: per-channel pacing and retry back-off.

use std::sync::Arc;

use opsbot_commands::Reply;
use opsbot_commands::ports::chat::MessageRef;
use opsbot_commands::ports::store::StoreError;
use opsbot_commands::values::ChannelId;
use tokio::sync::Notify;

use super::blocks;
use super::web::SlackWeb;
use crate::store::{Arrival, Arrived, Enqueued, Handled, LivingRecord, Queued, Storage, Told};
use opsbot_commands::ports::Clock;

mod pacing;
mod sender;

pub use pacing::Pacing;
pub use sender::Sender;

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("cannot queue the Slack write: {0}")]
    Store(#[from] StoreError),
    #[error("no Slack message with key {key} was posted or is waiting to be; post it before updating or replying")]
    UnknownMessage { key: String },
}

/// A write addressed by message key, as lifecycles ask for them.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// The message of `key`, in `channel` — posted once; later an update.
    Post { key: String, channel: ChannelId, reply: Reply },
    /// New content for `key`'s message.
    Update { key: String, reply: Reply },
    /// A message in `key`'s thread.
    Reply { key: String, reply: Reply },
}

/// One handled notification for [`Outbox::commit_each`]: its records, its
/// writes and its inbox row, if any.
pub type ToCommit<'a> = (&'a [LivingRecord], &'a [Write], Option<i64>);

/// A notification that just arrived: its key, the body to keep if it is not
/// handled now, when it arrived (ms), and what handling it decided, if it was.
pub type ToArrive = (String, Vec<u8>, i64, Option<(Vec<LivingRecord>, Vec<Write>)>);

/// Queues Slack writes; cheap to clone. Every call returns once the write is
/// durable, and wakes the [`Sender`].
#[derive(Clone)]
pub struct Outbox {
    store: Arc<dyn Storage>,
    wake: Arc<Notify>,
    clock: Clock,
}

impl Outbox {
    /// The queueing handle and the sender that drains the same store, as
    /// replica `replica` (its name on the channels it sends to).
    pub fn new(
        store: Arc<dyn Storage>,
        web: Arc<SlackWeb>,
        clock: Clock,
        pacing: Pacing,
        replica: &str,
    ) -> (Outbox, Sender) {
        let wake = Arc::new(Notify::new());
        let sender = Sender::new(store.clone(), web, wake.clone(), clock.clone(), pacing, replica.to_owned());
        (Outbox { store, wake, clock }, sender)
    }

    /// Posts `key`'s message in `channel` — once: if `key` is already posted
    /// or waiting to be, this is an update of it (in its first channel).
    pub async fn post(&self, key: &str, channel: &ChannelId, reply: &Reply) -> Result<Enqueued, OutboxError> {
        let queued = self.store.outbox_post(key, channel, &render(reply), (self.clock)()).await?;
        self.wake.notify_one();
        Ok(queued)
    }

    /// Replaces the content of `key`'s message; a write of it still waiting
    /// just takes the new content.
    pub async fn update(&self, key: &str, reply: &Reply) -> Result<Enqueued, OutboxError> {
        let queued = self.store.outbox_update(key, &render(reply), (self.clock)()).await?;
        self.queued(key, queued)
    }

    /// Adds a message in the thread of `key`'s message (after it is posted).
    pub async fn reply(&self, key: &str, reply: &Reply) -> Result<Enqueued, OutboxError> {
        let queued = self.store.outbox_reply(key, &render(reply), (self.clock)()).await?;
        self.queued(key, queued)
    }

    /// Queues `writes` together with the living `records` they show and
    /// (when given) marks inbox row `handled` — one transaction — then wakes
    /// the sender.
    pub async fn commit(
        &self,
        records: &[LivingRecord],
        writes: &[Write],
        handled: Option<i64>,
    ) -> Result<(), OutboxError> {
        let queued = queued(writes);
        self.store.commit_notification(records, &queued, handled, (self.clock)()).await?;
        if !queued.is_empty() {
            self.wake.notify_one();
        }
        Ok(())
    }

    /// Several notifications as [`Outbox::commit`] each, in order, one result
    /// each (see `OutboxStore::commit_notifications`: one refused leaves the
    /// others committed), then wakes the sender once.
    pub async fn commit_each(&self, each: &[ToCommit<'_>]) -> Vec<Result<(), OutboxError>> {
        let handled: Vec<Handled> = each
            .iter()
            .map(|(records, writes, handled)| Handled {
                records: records.to_vec(),
                writes: queued(writes),
                handled: *handled,
            })
            .collect();
        let done = self.store.commit_notifications(&handled, (self.clock)()).await;
        if handled.iter().zip(&done).any(|(h, done)| done.is_ok() && !h.writes.is_empty()) {
            self.wake.notify_one();
        }
        done.into_iter().map(|done| done.map_err(OutboxError::from)).collect()
    }

    /// Notifications that just arrived, each with its key, as
    /// `InboxStore::inbox_arrivals` commits them: handled ones with the
    /// living records and writes (given here as `effects`) worked out for
    /// them, the rest kept to be handled from the inbox. Wakes the sender
    /// when a handled one queued a write; `told` is told as soon as the lot is
    /// durable (see `inbox_arrivals`).
    pub async fn commit_arrivals(&self, arrivals: Vec<ToArrive>, told: Told) -> Result<Vec<Arrived>, OutboxError> {
        let arrivals: Vec<Arrival> = arrivals
            .into_iter()
            .map(|(key, body, received_ms, effects)| Arrival {
                key,
                body,
                received_ms,
                effects: effects.map(|(records, writes)| (records, queued(&writes))),
            })
            .collect();
        let writes: Vec<bool> =
            arrivals.iter().map(|a| a.effects.as_ref().is_some_and(|(_, writes)| !writes.is_empty())).collect();
        let done = self.store.inbox_arrivals(arrivals, (self.clock)(), told).await?;
        if writes.iter().zip(&done).any(|(writes, done)| *writes && *done == Arrived::Handled) {
            self.wake.notify_one();
        }
        Ok(done)
    }

    /// Where `key`'s message is, once posted.
    pub async fn message_ref(&self, key: &str) -> Result<Option<MessageRef>, OutboxError> {
        Ok(self.store.message_ref(key).await?)
    }

    fn queued(&self, key: &str, queued: Option<Enqueued>) -> Result<Enqueued, OutboxError> {
        let queued = queued.ok_or_else(|| OutboxError::UnknownMessage { key: key.to_owned() })?;
        self.wake.notify_one();
        Ok(queued)
    }
}

/// `writes` rendered for the queue.
fn queued(writes: &[Write]) -> Vec<Queued> {
    writes
        .iter()
        .map(|w| match w {
            Write::Post { key, channel, reply } => {
                Queued::Post { key: key.clone(), channel: channel.clone(), payload: render(reply) }
            }
            Write::Update { key, reply } => Queued::Update { key: key.clone(), payload: render(reply) },
            Write::Reply { key, reply } => Queued::Reply { key: key.clone(), payload: render(reply) },
        })
        .collect()
}

/// The Block Kit JSON the row keeps.
fn render(reply: &Reply) -> String {
    serde_json::to_string(&blocks::content(reply)).expect("message content serialises")
}

#[cfg(test)]
mod tests;
