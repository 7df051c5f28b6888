//! The outbox's durable half: one row per Slack write still to make, and a
//! map from a logical message key (`alarm:<arn>`,
//! `pipeline:<execution id>`) to the channel and ts it was posted as.
//!
//! Invariants:
//! - Each enqueue is atomic, so a row and the decision to coalesce
//!   into it are never half-made.
//! - A key is posted once: a post for a key that already has a message, or a
//!   post still waiting, becomes an update of it.
//! - An update replaces the content of the key's latest *pending* post or
//!   update (coalescing to the newest state); a row already `sending` is
//!   never changed under the sender, so the update gets a row of its own.
//!   What is sent is what the row holds as it is marked `sending`
//!   (`outbox_sending` returns it), not an earlier read of it.
//! - Replies are never coalesced; they belong to the channel of their key.
//! - Rows of one channel are sent in id order (FIFO); `failed` rows are out
//!   of that queue, so nothing waits behind them. When a post fails for good,
//!   the key's next pending update is turned into the post, so the newest
//!   content still gets its chance.
//! - A post completes atomically, recording its ts and removing the row: a crash leaves either the row or the message, never both or neither.

use opsbot_commands::ports::Time;
use opsbot_commands::values::ChannelId;

use super::living::LivingRecord;

/// A write ready for the queue (content rendered to Block Kit JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Queued {
    Post { key: String, channel: ChannelId, payload: String },
    Update { key: String, payload: String },
    Reply { key: String, payload: String },
}

impl Queued {
    pub fn key(&self) -> &str {
        match self {
            Queued::Post { key, .. } | Queued::Update { key, .. } | Queued::Reply { key, .. } => key,
        }
    }
}

/// One handled notification to commit (see `OutboxStore::commit_notifications`):
/// its living records, its writes and, when given, its inbox row.
#[derive(Debug, Clone, PartialEq)]
pub struct Handled {
    pub records: Vec<LivingRecord>,
    pub writes: Vec<Queued>,
    pub handled: Option<i64>,
}

/// What a row does at Slack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOp {
    /// chat.postMessage, once per key.
    Post,
    /// chat.update of the key's message.
    Update,
    /// chat.postMessage in the thread of the key's message.
    Reply,
}

/// Where a row is in its life; sent rows are deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteState {
    /// Waiting for its turn (and for `next_attempt`).
    Pending,
    /// Handed to Slack, outcome not recorded yet: after a crash or an
    /// ambiguous failure, a post in this state is looked up before re-posting.
    Sending,
    /// Refused by Slack for good; kept, with the error, for diagnosis.
    Failed,
}

/// One pending Slack write.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRow {
    pub id: i64,
    pub key: String,
    pub channel: ChannelId,
    pub op: WriteOp,
    /// The rendered message (slack-morphism's `SlackMessageContent` as JSON).
    pub payload: String,
    pub created: Time,
    pub attempts: u32,
    pub next_attempt: Time,
    pub state: WriteState,
    pub error: Option<String>,
}

/// How far behind the outbox is: writes waiting to be sent (failed ones
/// excluded: nothing waits for them) and when the oldest of them was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Backlog {
    pub waiting: u64,
    pub oldest: Option<Time>,
}

/// What an enqueue did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// A new row.
    Queued { id: i64, op: WriteOp },
    /// The newest content went into this row, still waiting to be sent.
    Coalesced { id: i64 },
}

impl WriteOp {
    /// Stable name for storage.
    pub fn as_str(self) -> &'static str {
        match self {
            WriteOp::Post => "post",
            WriteOp::Update => "update",
            WriteOp::Reply => "reply",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [WriteOp::Post, WriteOp::Update, WriteOp::Reply].into_iter().find(|op| op.as_str() == raw)
    }
}

impl WriteState {
    /// Stable name for storage.
    pub fn as_str(self) -> &'static str {
        match self {
            WriteState::Pending => "pending",
            WriteState::Sending => "sending",
            WriteState::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [WriteState::Pending, WriteState::Sending, WriteState::Failed].into_iter().find(|s| s.as_str() == raw)
    }
}
