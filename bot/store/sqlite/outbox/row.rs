//! How an outbox row reads back from SQLite: the operations and states are
//! stored as lowercase words (`post`, `pending`), times as Unix milliseconds,
//! like the rest of the store.

use rusqlite::Row;

use super::super::{channel, time};
use crate::store::outbox::{OutboxRow, WriteOp, WriteState};

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
