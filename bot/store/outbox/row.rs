//! The outbox's row types and how a row reads back from SQLite: the
//! operations and states are stored as lowercase words (`post`, `pending`),
//! times as Unix milliseconds, like the rest of the store.

use opsbot_commands::ports::Time;
use opsbot_commands::values::ChannelId;
use rusqlite::Row;

use super::super::{channel, time};

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

/// What an enqueue did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// A new row.
    Queued { id: i64, op: WriteOp },
    /// The newest content went into this row, still waiting to be sent.
    Coalesced { id: i64 },
}

impl WriteOp {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            WriteOp::Post => "post",
            WriteOp::Update => "update",
            WriteOp::Reply => "reply",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        [WriteOp::Post, WriteOp::Update, WriteOp::Reply].into_iter().find(|op| op.as_str() == raw)
    }
}

impl WriteState {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            WriteState::Pending => "pending",
            WriteState::Sending => "sending",
            WriteState::Failed => "failed",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        [WriteState::Pending, WriteState::Sending, WriteState::Failed].into_iter().find(|s| s.as_str() == raw)
    }
}

fn bad_column(raw: String) -> rusqlite::Error {
    rusqlite::Error::InvalidColumnName(raw)
}

pub(super) fn outbox_row(r: &Row<'_>) -> rusqlite::Result<OutboxRow> {
    let op: String = r.get("op")?;
    let state: String = r.get("state")?;
    Ok(OutboxRow {
        id: r.get("id")?,
        key: r.get("key")?,
        channel: channel(r.get("channel")?)?,
        op: WriteOp::parse(&op).ok_or_else(|| bad_column(op))?,
        payload: r.get("payload")?,
        created: time(r.get("created")?),
        attempts: r.get("attempts")?,
        next_attempt: time(r.get("next_attempt")?),
        state: WriteState::parse(&state).ok_or_else(|| bad_column(state))?,
        error: r.get("error")?,
    })
}
