//! The sender: one task draining the outbox, one Slack call at a time per
//! channel, channels independent of each other.
//!
//! Each turn it reads the oldest live row of every channel (FIFO per
//! channel) and starts the ones that are due — `next_attempt` reached and the
//! channel's [`Bucket`] allows it — as tasks of their own, so a slow or
//! rate-limited channel never holds up another. It sleeps until the next due
//! row, or until [`super::Outbox`] queues something, or a send finishes.
//!
//! Outcomes (all persisted in the row, so a restart resumes the schedule):
//! - 429: the row waits `Retry-After`; as the channel's head it holds that
//!   channel, which is what Slack's per-channel limit asks for.
//! - 5xx / network: capped exponential back-off. A post or reply stays
//!   `sending`, because Slack may have posted it before failing.
//! - `ok: false` (channel_not_found, not_in_channel, invalid_blocks, ...):
//!   the row fails, logged with Slack's error; the channel moves on.
//!
//! Several replicas: a channel's writes are sent by one replica at a time,
//! the one holding the channel's lease in the store ([`CHANNEL_LEASE`],
//! renewed before a send once less than [`LEASE_MARGIN`] is left, released on
//! stop). So each row is sent by one replica, and Slack's per-channel pace
//! is kept by that replica's bucket. While it holds a channel, a replica
//! reads the queue every [`HELD_POLL`], so what other replicas queue for
//! that channel goes out at once, not when the lease lapses. A dead replica's channels move to
//! another once their lease lapsed; the new holder starts with a fresh
//! bucket (a burst of three at most) and looks up any post the dead one
//! left `sending`. Every Slack call is bounded by [`CALL_LIMIT`], well
//! inside the margin, so a lease never lapses under a send in flight.
//!
//! Exactly once: a post is marked `sending` before chat.postMessage and its
//! ts is stored in the transaction that completes the row. What is sent is
//! the content the row held when it was marked (`outbox_sending`), not the
//! head read at the start of the turn: an update coalesces into a pending
//! row until then, and sending the older read would lose it with the row. A post found
//! `sending` (a crash, or an ambiguous failure) is first looked up in the
//! channel's history by the key in its metadata; found, its ts is recorded
//! and nothing is posted again. Thread replies carry `<key>#reply-<row id>`
//! and are looked up the same way in their thread. Updates are idempotent
//! and simply redone.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use opsbot_commands::ports::chat::MessageRef;
use opsbot_commands::ports::store::StoreError;
use opsbot_commands::values::ChannelId;
use slack_morphism::prelude::SlackMessageContent;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

use super::pacing::{Bucket, Pacing};
use crate::slack::web::{CallError, SlackWeb};
use crate::store::{OutboxRow, Storage, WriteOp, WriteState};
use opsbot_commands::ports::Clock;

/// How long sends in flight may finish after a stop (an aborted send is safe:
/// its row is `sending` and is looked up after the restart).
const DRAIN: Duration = Duration::from_secs(5);
/// Wait before reading the queue again after the store failed.
const STORE_RETRY: Duration = Duration::from_secs(1);
/// Longest sleep between two looks at the queue (a row scheduled far ahead
/// is simply looked at again).
const LONGEST_NAP: Duration = Duration::from_secs(3600);
/// How often the queue is read while this replica holds a channel: rows
/// another replica queues for that channel wake nothing here (the wake is
/// in-process), and that replica leaves them to the holder until the lease
/// lapses (up to [`CHANNEL_LEASE`] after the holder's last send).
const HELD_POLL: Duration = Duration::from_secs(1);
/// After a wake, how long more writes may gather before the queue is read:
/// in a storm, one read per this instead of one per queued write (each read
/// is a query of the whole queue); nothing a per-second pace would notice.
const GATHER: Duration = Duration::from_millis(100);
/// A post's history lookup starts this long before the row was created.
const LOOKUP_SLACK: chrono::TimeDelta = chrono::TimeDelta::minutes(1);
/// How long a replica holds a channel's writes without renewing: a dead
/// replica's channels are sent by another this long after its last send.
pub const CHANNEL_LEASE: Duration = Duration::from_secs(30);
/// A send starts only with at least this much of the channel's lease left.
const LEASE_MARGIN: Duration = Duration::from_secs(20);
/// Longest one Slack write may take; then it counts as a network failure
/// (it may have been sent: a post is looked up before it is sent again).
const CALL_LIMIT: Duration = Duration::from_secs(10);

/// Drains the outbox; run it once with [`Sender::run`].
pub struct Sender {
    store: Arc<dyn Storage>,
    web: Arc<SlackWeb>,
    wake: Arc<Notify>,
    clock: Clock,
    pacing: Pacing,
    /// This replica's name on the channel leases it holds.
    replica: String,
}

/// The metadata key of a thread reply: its message's key and its row.
fn reply_key(row: &OutboxRow) -> String {
    format!("{}#reply-{}", row.key, row.id)
}

/// What one attempt came to.
enum Outcome {
    Posted(String),
    Done,
    Retry { after: Duration, state: WriteState, why: String },
    Failed(String),
}

/// The loop's memory between turns.
#[derive(Default)]
struct Turns {
    buckets: HashMap<ChannelId, Bucket>,
    busy: HashSet<ChannelId>,
    sends: JoinSet<()>,
    by_task: HashMap<tokio::task::Id, ChannelId>,
    /// Channels this replica holds, until when.
    held: HashMap<ChannelId, Instant>,
    /// Channels another replica holds: not asked for again before then.
    elsewhere: HashMap<ChannelId, Instant>,
}

impl Turns {
    /// A send ended: its channel is free for the next one.
    fn finished(&mut self, done: Result<(tokio::task::Id, ()), tokio::task::JoinError>) {
        let id = done.as_ref().map(|(id, ())| *id).unwrap_or_else(|e| e.id());
        if let Some(channel) = self.by_task.remove(&id) {
            self.busy.remove(&channel);
        }
    }
}

/// `next`, or sooner ([`HELD_POLL`]) while this replica holds a channel.
/// Found by two replicas on one table (issue 11): B ran a change whose
/// message A had posted, so A held the channel; A's sender slept (nothing
/// queued by A) and B waited for A's idle lease to lapse, so the change's
/// end reached Slack up to ~40 s late.
fn poll_while_holding(turns: &Turns, next: Option<Instant>) -> Option<Instant> {
    let now = Instant::now();
    if !turns.held.values().any(|until| *until > now) {
        return next;
    }
    let poll = now + HELD_POLL;
    Some(next.map_or(poll, |n| n.min(poll)))
}

impl Sender {
    pub(super) fn new(
        store: Arc<dyn Storage>,
        web: Arc<SlackWeb>,
        wake: Arc<Notify>,
        clock: Clock,
        pacing: Pacing,
        replica: String,
    ) -> Self {
        Sender { store, web, wake, clock, pacing, replica }
    }

    /// Sends until `stop`; then lets sends in flight finish (within a bound).
    pub async fn run(self, stop: CancellationToken) {
        let this = Arc::new(self);
        let mut turns = Turns::default();
        loop {
            // Every send that finished frees its channel now, not one per
            // turn: a turn may have waited out a gather meanwhile.
            while let Some(done) = turns.sends.try_join_next_with_id() {
                turns.finished(done);
            }
            let next = match this.start_due(&mut turns).await {
                Ok(next) => poll_while_holding(&turns, next),
                Err(err) => {
                    error!(error = %err, "cannot read the Slack outbox; trying again");
                    Some(Instant::now() + STORE_RETRY)
                }
            };
            let sleep = tokio::time::sleep_until(next.unwrap_or_else(Instant::now));
            tokio::select! {
                () = stop.cancelled() => break,
                () = this.wake.notified() => tokio::time::sleep(GATHER).await,
                Some(done) = turns.sends.join_next_with_id() => turns.finished(done),
                () = sleep, if next.is_some() => {}
            }
        }
        let finished = async {
            while let Some(done) = turns.sends.join_next_with_id().await {
                turns.finished(done);
            }
        };
        if tokio::time::timeout(DRAIN, finished).await.is_err() {
            warn!(in_flight = turns.sends.len(), "stopping with Slack writes in flight; they resume after restart");
        }
        // A channel with a send still in flight stays held until its lease
        // lapses: its row is `sending`, and whoever sends next looks it up.
        for channel in turns.held.keys().filter(|c| !turns.busy.contains(*c)) {
            if let Err(err) = this.store.outbox_release(channel, &this.replica).await {
                warn!(error = %err, %channel, "cannot give the channel up; another replica sends to it after its lease");
            }
        }
    }

    /// Whether this replica may send to `channel` now: it holds the lease
    /// with [`LEASE_MARGIN`] left, or got (or renewed) it just now.
    async fn hold(&self, turns: &mut Turns, channel: &ChannelId, now: Instant) -> Result<bool, StoreError> {
        if turns.held.get(channel).is_some_and(|until| until.saturating_duration_since(now) >= LEASE_MARGIN) {
            return Ok(true);
        }
        if turns.elsewhere.get(channel).is_some_and(|retry| *retry > now) {
            return Ok(false);
        }
        let wall = (self.clock)();
        let until = wall + chrono::TimeDelta::from_std(CHANNEL_LEASE).unwrap_or_default();
        if self.store.outbox_lease(channel, &self.replica, until, wall).await? {
            turns.held.insert(channel.clone(), now + CHANNEL_LEASE);
            turns.elsewhere.remove(channel);
            Ok(true)
        } else {
            debug!(%channel, "another replica sends to this channel");
            turns.held.remove(channel);
            turns.elsewhere.insert(channel.clone(), now + CHANNEL_LEASE / 3);
            Ok(false)
        }
    }

    /// Starts every due head row; returns when the next one will be due.
    async fn start_due(self: &Arc<Self>, turns: &mut Turns) -> Result<Option<Instant>, StoreError> {
        let heads = self.store.outbox_heads().await?;
        let (now, wall) = (Instant::now(), (self.clock)());
        let mut next: Option<Instant> = None;
        for row in heads {
            if turns.busy.contains(&row.channel) {
                continue;
            }
            let bucket = turns.buckets.entry(row.channel.clone()).or_insert_with(|| Bucket::new(now));
            let not_before = (row.next_attempt - wall).to_std().unwrap_or_default();
            let wait = not_before.max(bucket.wait(now, &self.pacing)).min(LONGEST_NAP);
            if !wait.is_zero() {
                next = Some(next.map_or(now + wait, |n| n.min(now + wait)));
                continue;
            }
            if !self.hold(turns, &row.channel, now).await? {
                let retry = turns.elsewhere.get(&row.channel).copied().unwrap_or(now + CHANNEL_LEASE / 3);
                next = Some(next.map_or(retry, |n| n.min(retry)));
                continue;
            }
            let bucket = turns.buckets.get_mut(&row.channel).expect("made above");
            bucket.take(now, &self.pacing);
            turns.busy.insert(row.channel.clone());
            let (this, channel) = (self.clone(), row.channel.clone());
            let task = turns.sends.spawn(async move { this.send(row).await });
            turns.by_task.insert(task.id(), channel);
        }
        Ok(next)
    }

    /// One attempt at one row, and its outcome recorded.
    async fn send(&self, row: OutboxRow) {
        let outcome = match self.attempt(&row).await {
            Ok(outcome) => outcome,
            Err(err) => {
                error!(error = %err, key = %row.key, "cannot record a Slack write's progress; it will be tried again");
                return;
            }
        };
        if let Err(err) = self.record(&row, outcome).await {
            error!(error = %err, key = %row.key, "cannot record a Slack write's outcome; it will be tried again");
        }
    }

    async fn attempt(&self, row: &OutboxRow) -> Result<Outcome, StoreError> {
        let key = row.key.as_str();
        let parent = match row.op {
            WriteOp::Post => None,
            WriteOp::Update | WriteOp::Reply => match self.store.message_ref(key).await? {
                Some(message) => Some(message),
                None => return Ok(Outcome::Failed(format!("the message {key} was never posted (its post failed)"))),
            },
        };
        if row.state == WriteState::Sending
            && row.op != WriteOp::Update
            && let Some(found) = self.sent_before(row, parent.as_ref()).await
        {
            return Ok(found);
        }
        // What the row holds as it is marked, not as it was read: an update
        // may have coalesced into it since (a row `sending` is never changed).
        let Some(payload) = self.store.outbox_sending(row.id).await? else {
            debug!(%key, id = row.id, "the write left the queue before it was sent; nothing to send");
            return Ok(Outcome::Done);
        };
        let content: SlackMessageContent = match serde_json::from_str(&payload) {
            Ok(content) => content,
            Err(e) => return Ok(Outcome::Failed(format!("the queued message cannot be read back: {e}"))),
        };
        let call = async {
            match (row.op, &parent) {
                (WriteOp::Update, Some(m)) => {
                    self.web.update_once(&m.channel, &m.ts, key, &content).await.map(|()| None)
                }
                (WriteOp::Reply, Some(m)) => {
                    self.web.post_once(&m.channel, Some(&m.ts), &reply_key(row), &content).await.map(Some)
                }
                _ => self.web.post_once(&row.channel, None, key, &content).await.map(Some),
            }
        };
        let sent = tokio::time::timeout(CALL_LIMIT, call).await.unwrap_or_else(|_| {
            let method = if row.op == WriteOp::Update { "chat.update" } else { "chat.postMessage" };
            Err(CallError::Transient { method, why: format!("no answer within {} s", CALL_LIMIT.as_secs()) })
        });
        Ok(match sent {
            Ok(Some(ts)) if row.op == WriteOp::Post => Outcome::Posted(ts),
            Ok(_) => Outcome::Done,
            Err(e) => self.failed(row, e),
        })
    }

    /// A post or reply that Slack may have taken before a crash or an
    /// ambiguous failure: `Some` when it is there (or when looking failed
    /// only for now, to look again later); `None` to send it.
    async fn sent_before(&self, row: &OutboxRow, parent: Option<&MessageRef>) -> Option<Outcome> {
        let found = match parent {
            None => self.web.find_posted(&row.channel, &row.key, row.created - LOOKUP_SLACK).await,
            Some(m) => self.web.find_reply(&m.channel, &m.ts, &reply_key(row)).await,
        };
        match found {
            Ok(Some(ts)) => {
                info!(key = %row.key, channel = %row.channel, ts, "found an interrupted write in Slack; not sending it again");
                Some(if parent.is_none() { Outcome::Posted(ts) } else { Outcome::Done })
            }
            Ok(None) => None,
            Err(e @ (CallError::RateLimited { .. } | CallError::Transient { .. })) => {
                let mut later = self.failed(row, e);
                if let Outcome::Retry { state, .. } = &mut later {
                    *state = WriteState::Sending; // still unknown whether it was sent
                }
                Some(later)
            }
            Err(e) => {
                warn!(error = %e, key = %row.key, "cannot look for an interrupted write (history scopes?); sending it, at the risk of a duplicate");
                None
            }
        }
    }

    fn failed(&self, row: &OutboxRow, err: CallError) -> Outcome {
        let why = err.to_string();
        match err {
            CallError::RateLimited { retry_after, .. } => {
                Outcome::Retry { after: retry_after, state: WriteState::Pending, why }
            }
            CallError::Transient { .. } => {
                let uncertain = if row.op == WriteOp::Update { WriteState::Pending } else { WriteState::Sending };
                Outcome::Retry { after: self.pacing.backoff_after(row.attempts + 1), state: uncertain, why }
            }
            CallError::Permanent { .. } => Outcome::Failed(why),
        }
    }

    async fn record(&self, row: &OutboxRow, outcome: Outcome) -> Result<(), StoreError> {
        let (key, channel, op) = (&row.key, &row.channel, row.op);
        match outcome {
            Outcome::Posted(ts) => {
                let message = MessageRef { channel: channel.clone(), ts };
                self.store.outbox_posted(row.id, &message, key, (self.clock)()).await
            }
            Outcome::Done => self.store.outbox_done(row.id).await,
            Outcome::Retry { after, state, why } => {
                let wait_ms = after.as_millis() as u64;
                // At debug: an outage is logged once, when it starts and ends
                // (`web::reach`), not once per row and retry.
                debug!(%key, %channel, ?op, attempts = row.attempts + 1, wait_ms, why, "Slack write failed; will retry");
                let delta = chrono::TimeDelta::from_std(after).unwrap_or(chrono::TimeDelta::MAX);
                let at = (self.clock)().checked_add_signed(delta).unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC);
                self.store.outbox_retry(row.id, at, state, &why).await
            }
            Outcome::Failed(why) => {
                error!(%key, %channel, ?op, why, "Slack refused a write; giving it up");
                self.store.outbox_fail(row.id, &why).await
            }
        }
    }
}
