//! The store's ports: what each part of the app needs from durable state,
//! named in our words (the values they carry are in [`super::inbox`],
//! [`super::living`], [`super::outbox`] and [`super::retention`]).

use async_trait::async_trait;
use opsbot_commands::ports::Time;
use opsbot_commands::ports::chat::MessageRef;
use opsbot_commands::ports::store::{Store, StoreError};
use opsbot_commands::values::ChannelId;

use super::inbox::{Arrival, Arrived, Failure, InboxRow, ParkedRow};
use super::living::{Kept, Living, LivingRecord};
use super::outbox::{Backlog, Enqueued, Handled, OutboxRow, Queued, WriteState};
use super::retention::{Pruned, Retention};

/// The notification inbox (see [`super::inbox`] for the rules).
#[async_trait]
pub trait InboxStore: Send + Sync {
    /// Stores `body` under `key` unless the key is known; true when new.
    /// Returns once the row is durable.
    async fn inbox_accept(&self, key: &str, body: &[u8], now_ms: i64) -> Result<bool, StoreError>;

    /// Up to `limit` unhandled rows due at `now_ms`, oldest first (parked
    /// rows and rows waiting for their next attempt left out). A store
    /// shared by replicas leaves out, for a while, the rows another replica
    /// accepted: that one handles them, unless it died.
    async fn inbox_pending(&self, limit: usize, now_ms: i64) -> Result<Vec<InboxRow>, StoreError>;

    /// When the next row waiting for a retry is due (ms), if any waits.
    async fn inbox_next_retry(&self) -> Result<Option<i64>, StoreError>;

    /// Records that handling row `seq` failed with `error` at `now_ms`: it
    /// waits for its next attempt, or is parked after [`super::inbox::PARK_AFTER`] failures.
    async fn inbox_failed(&self, seq: i64, error: &str, now_ms: i64) -> Result<Failure, StoreError>;

    /// How many notifications are parked, and the newest `limit` of them.
    async fn inbox_parked(&self, limit: usize) -> Result<(usize, Vec<ParkedRow>), StoreError>;

    /// Whether `key` was accepted (and not yet forgotten).
    async fn inbox_knows(&self, key: &str) -> Result<bool, StoreError>;

    /// Notifications that just arrived, in order, each with its key: one
    /// whose key is known is a duplicate; one with effects is committed
    /// handled, together with its living records and writes (as
    /// `OutboxStore::commit_notification` would, refused as a whole if a
    /// record moved on); any other, or one refused, is kept with its body to
    /// be handled from the inbox. Once all of it is durable (on an error
    /// none of it is), `told` is told what became of it — at once, on
    /// whatever thread committed it, so those waiting for the answer need not
    /// wait for the caller to be scheduled again — and the same is returned.
    ///
    /// By default every arrival is kept (`inbox_accept`): a store that
    /// commits notifications together overrides this to commit the lot at
    /// once (SQLite: one WAL commit, and no body written for what is handled).
    async fn inbox_arrivals(&self, arrivals: Vec<Arrival>, _now: Time, told: Told) -> Result<Vec<Arrived>, StoreError> {
        let mut done = Vec::with_capacity(arrivals.len());
        for a in &arrivals {
            match self.inbox_accept(&a.key, &a.body, a.received_ms).await {
                Ok(new) => done.push(if new { Arrived::Kept } else { Arrived::Duplicate }),
                Err(err) => return told_then(told, Err(err)),
            }
        }
        told_then(told, Ok(done))
    }
}

/// Told what became of a lot of arrivals as soon as it is durable (see
/// `InboxStore::inbox_arrivals`).
pub type Told = Box<dyn FnOnce(&Result<Vec<Arrived>, StoreError>) + Send>;

/// Tells `told` what became of a lot, and returns it.
pub fn told_then(told: Told, done: Result<Vec<Arrived>, StoreError>) -> Result<Vec<Arrived>, StoreError> {
    told(&done);
    done
}

/// The records living messages keep (written by `commit_notification`).
#[async_trait]
pub trait LivingStore: Send + Sync {
    /// The record kept under `id`, with its version.
    async fn living(&self, kind: Living, id: &str) -> Result<Option<Kept>, StoreError>;

    /// Every open record of `kind`, with its version, oldest first.
    async fn living_open(&self, kind: Living) -> Result<Vec<Kept>, StoreError>;
}

/// The Slack outbox's durable half (see [`super::outbox`] for the rules).
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Queues the first post of `key` in `channel`; if `key` is already
    /// posted or waiting to be, queues (or coalesces) an update instead.
    async fn outbox_post(
        &self,
        key: &str,
        channel: &ChannelId,
        payload: &str,
        now: Time,
    ) -> Result<Enqueued, StoreError>;

    /// Queues new content for `key`'s message, coalescing into a write of it
    /// still pending. `None`: no message with that key was ever queued.
    async fn outbox_update(&self, key: &str, payload: &str, now: Time) -> Result<Option<Enqueued>, StoreError>;

    /// Queues a reply in `key`'s thread. `None`: `key` was never queued.
    async fn outbox_reply(&self, key: &str, payload: &str, now: Time) -> Result<Option<Enqueued>, StoreError>;

    /// One handled notification, all or nothing: its living `records` (each
    /// over the version it was read at — if one moved on meanwhile, nothing
    /// commits and the error says so), its `writes` (a write for a message
    /// never posted is dropped, with a warning) and, when given, its inbox
    /// row marked handled. A row no longer waiting (another replica handled
    /// it meanwhile) commits nothing: its notification is already shown.
    async fn commit_notification(
        &self,
        records: &[LivingRecord],
        writes: &[Queued],
        handled: Option<i64>,
        now: Time,
    ) -> Result<(), StoreError>;

    /// Several handled notifications, in order, each committed as
    /// [`OutboxStore::commit_notification`] would commit it alone — all or
    /// nothing per notification — with one result each: one refused (a
    /// record moved on) leaves the others committed. A later notification
    /// may keep a record over the version an earlier one in `each` writes.
    /// A backend may commit them all in one transaction (SQLite: one WAL
    /// commit for the lot, each record and waiting message written once);
    /// an error of the store then fails every one. By default they are
    /// committed one by one.
    async fn commit_notifications(&self, each: &[Handled], now: Time) -> Vec<Result<(), StoreError>> {
        let mut done = Vec::with_capacity(each.len());
        for n in each {
            done.push(self.commit_notification(&n.records, &n.writes, n.handled, now).await);
        }
        done
    }

    /// Whether [`OutboxStore::commit_notifications`] commits the lot in one
    /// transaction (so a chunk of notifications costs one commit). When it
    /// does not, handlers commit each notification as soon as it is worked
    /// out: deciding a chunk first and committing it one by one would only
    /// widen the window in which another replica moves a record on.
    fn commits_notifications_together(&self) -> bool {
        false
    }

    /// The next write of every channel that has one (failed rows excluded).
    async fn outbox_heads(&self) -> Result<Vec<OutboxRow>, StoreError>;

    /// Every row, oldest first (diagnostics and tests).
    async fn outbox_rows(&self) -> Result<Vec<OutboxRow>, StoreError>;

    /// How many writes wait and since when the oldest has: `/metrics` shows
    /// it, and `/readyz` takes its answering as the store being reachable.
    async fn outbox_backlog(&self) -> Result<Backlog, StoreError>;

    /// Marks a row as handed to Slack (before the call), counts the attempt
    /// and returns the row's content as marked: what to send. An update may
    /// have coalesced into the row since the sender read it, and a row
    /// `sending` is never changed, so this is its last content. `None`: the
    /// row is gone (sent already).
    async fn outbox_sending(&self, id: i64) -> Result<Option<String>, StoreError>;

    /// Schedules another attempt; `state` says whether Slack may have acted
    /// (`Sending`) or surely did not (`Pending`).
    async fn outbox_retry(&self, id: i64, at: Time, state: WriteState, error: &str) -> Result<(), StoreError>;

    /// Gives a row up for good, with Slack's error; a failed post hands its
    /// role to the key's next pending update.
    async fn outbox_fail(&self, id: i64, error: &str) -> Result<(), StoreError>;

    /// Completes a post: records where `key` lives and removes the row, together.
    async fn outbox_posted(&self, id: i64, message: &MessageRef, key: &str, now: Time) -> Result<(), StoreError>;

    /// Completes an update or a reply.
    async fn outbox_done(&self, id: i64) -> Result<(), StoreError>;

    /// Where `key`'s message was posted, once it was.
    async fn message_ref(&self, key: &str) -> Result<Option<MessageRef>, StoreError>;

    /// Lets `owner` send `channel`'s writes until `until`: true when it
    /// holds the channel now — it was free, its lease lapsed at `now`, or it
    /// was `owner`'s already. One sender per channel across replicas is what
    /// makes each write sent by one replica and keeps the channel's pace.
    async fn outbox_lease(&self, channel: &ChannelId, owner: &str, until: Time, now: Time) -> Result<bool, StoreError>;

    /// Gives `channel` up, if `owner` holds it (a replica stopping), so
    /// another replica sends its writes at once.
    async fn outbox_release(&self, channel: &ChannelId, owner: &str) -> Result<(), StoreError>;
}

/// Forgetting what is finished (see [`super::retention`]).
#[async_trait]
pub trait Pruning: Send + Sync {
    /// Forgets, as of `now`, every finished row older than `keep` says.
    async fn prune(&self, now: Time, keep: &Retention) -> Result<Pruned, StoreError>;
}

/// Every port of the store: what the app holds.
pub trait Storage: Store + InboxStore + LivingStore + OutboxStore + Pruning {}

impl<T: Store + InboxStore + LivingStore + OutboxStore + Pruning> Storage for T {}
