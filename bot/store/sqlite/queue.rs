//! The outbox's writes inside an open transaction: a post, an update that
//! carries its content into a write still waiting (or queues one), a reply
//! in a message's thread. Shared by the outbox's own operations and by a lot
//! of handled notifications (`super::lot`).

use opsbot_commands::ports::Time;
use opsbot_commands::values::ChannelId;
use rusqlite::{Connection, OptionalExtension, params};

use super::millis;
use crate::store::outbox::{Enqueued, WriteOp};

/// The channel of `key` when it is posted or a live post is waiting for it.
fn known_channel(c: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    c.query_row(
        "SELECT channel FROM messages WHERE key = ?1
         UNION ALL SELECT channel FROM outbox WHERE key = ?1 AND op = 'post' AND state != 'failed' LIMIT 1",
        [key],
        |r| r.get(0),
    )
    .optional()
}

fn insert(c: &Connection, key: &str, channel: &str, op: WriteOp, payload: &str, now: Time) -> rusqlite::Result<i64> {
    c.execute(
        "INSERT INTO outbox (key, channel, op, payload, created, next_attempt, state)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5, 'pending')",
        params![key, channel, op.as_str(), payload, millis(now)],
    )?;
    Ok(c.last_insert_rowid())
}

/// An update inside an open transaction (shared by `post` and `update`).
pub(super) fn update_in(c: &Connection, key: &str, payload: &str, now: Time) -> rusqlite::Result<Option<Enqueued>> {
    let waiting: Option<i64> = c.query_row(
        "SELECT MAX(id) FROM outbox WHERE key = ?1 AND op IN ('post', 'update') AND state = 'pending'",
        [key],
        |r| r.get(0),
    )?;
    if let Some(id) = waiting {
        c.execute("UPDATE outbox SET payload = ?2 WHERE id = ?1", params![id, payload])?;
        return Ok(Some(Enqueued::Coalesced { id }));
    }
    if let Some(channel) = known_channel(c, key)? {
        let id = insert(c, key, &channel, WriteOp::Update, payload, now)?;
        return Ok(Some(Enqueued::Queued { id, op: WriteOp::Update }));
    }
    // Only a failed post (if anything) is left: this content becomes the post.
    let failed: Option<String> = c
        .query_row("SELECT channel FROM outbox WHERE key = ?1 AND op = 'post' LIMIT 1", [key], |r| r.get(0))
        .optional()?;
    failed
        .map(|channel| {
            insert(c, key, &channel, WriteOp::Post, payload, now).map(|id| Enqueued::Queued { id, op: WriteOp::Post })
        })
        .transpose()
}

/// The first post of `key` in `channel`, or an update if it is known
/// (inside an open transaction).
pub(super) fn post_in(
    c: &Connection,
    key: &str,
    channel: &ChannelId,
    payload: &str,
    now: Time,
) -> rusqlite::Result<Enqueued> {
    Ok(match known_channel(c, key)? {
        Some(_) => update_in(c, key, payload, now)?.expect("a known key can be updated"),
        None => {
            Enqueued::Queued { id: insert(c, key, channel.as_str(), WriteOp::Post, payload, now)?, op: WriteOp::Post }
        }
    })
}

/// A reply in `key`'s thread (inside an open transaction); `None` when `key` is unknown.
pub(super) fn reply_in(c: &Connection, key: &str, payload: &str, now: Time) -> rusqlite::Result<Option<Enqueued>> {
    let Some(channel) = known_channel(c, key)? else { return Ok(None) };
    let id = insert(c, key, &channel, WriteOp::Reply, payload, now)?;
    Ok(Some(Enqueued::Queued { id, op: WriteOp::Reply }))
}
