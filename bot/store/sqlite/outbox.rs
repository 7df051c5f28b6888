//! The outbox in SQLite: the `outbox` table (one row per write, sent per
//! channel in id order through the partial index `outbox_live`) and the
//! `messages` table (key → channel and ts); see [`crate::store::outbox`] for
//! the rules. Each operation is one transaction.

use opsbot_commands::ports::Time;
use opsbot_commands::ports::chat::MessageRef;
use opsbot_commands::ports::store::StoreError;
use opsbot_commands::values::ChannelId;
use rusqlite::{OptionalExtension, params};

use async_trait::async_trait;

use super::lot::Lot;
use super::queue::{post_in, reply_in, update_in};
use super::{SqliteStore, channel, millis};
use crate::store::living::LivingRecord;
use crate::store::outbox::{Backlog, Enqueued, Handled, OutboxRow, Queued, WriteState};
use crate::store::ports::OutboxStore;

mod row;
use row::outbox_row;

/// What became of one notification written inside an open transaction.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// Written: commit it.
    Committed,
    /// This record moved on since it was read (why): roll it back.
    MovedOn(String),
    /// Its inbox row was handled already: roll it back, it is shown.
    AlreadyHandled,
}

impl Outcome {
    fn into_result(self) -> Result<(), StoreError> {
        match self {
            Outcome::MovedOn(why) => Err(StoreError(why)),
            Outcome::Committed | Outcome::AlreadyHandled => Ok(()),
        }
    }
}

/// One handled notification's records, writes and inbox row, in `lot`'s
/// open transaction (see `commit_notification`); nothing of it is written
/// unless it is `Committed`, and the caller then finishes the lot and commits.
fn notification_in(
    lot: &mut Lot<'_>,
    records: &[LivingRecord],
    writes: &[Queued],
    handled: Option<i64>,
) -> rusqlite::Result<Outcome> {
    if let Some(why) = lot.refused(records)? {
        return Ok(Outcome::MovedOn(why));
    }
    if let Some(seq) = handled
        && !handled_in(lot.connection(), seq)?
    {
        return Ok(Outcome::AlreadyHandled);
    }
    lot.keep(records, writes)?;
    Ok(Outcome::Committed)
}

/// Marks row `seq` handled inside an open transaction: its body is dropped,
/// its key stays for dedup; false when it was not waiting (already handled).
fn handled_in(c: &rusqlite::Connection, seq: i64) -> rusqlite::Result<bool> {
    let marked = c
        .prepare_cached("UPDATE inbox SET body = NULL, error = NULL WHERE seq = ?1 AND body IS NOT NULL")?
        .execute([seq])?;
    Ok(marked == 1)
}

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn outbox_post(
        &self,
        key: &str,
        channel: &ChannelId,
        payload: &str,
        now: Time,
    ) -> Result<Enqueued, StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            let done = post_in(&tx, key, channel, payload, now)?;
            tx.commit()?;
            Ok(done)
        })
    }

    async fn outbox_update(&self, key: &str, payload: &str, now: Time) -> Result<Option<Enqueued>, StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            let done = update_in(&tx, key, payload, now)?;
            tx.commit()?;
            Ok(done)
        })
    }

    async fn outbox_reply(&self, key: &str, payload: &str, now: Time) -> Result<Option<Enqueued>, StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            let done = reply_in(&tx, key, payload, now)?;
            tx.commit()?;
            Ok(done)
        })
    }

    async fn commit_notification(
        &self,
        records: &[LivingRecord],
        writes: &[Queued],
        handled: Option<i64>,
        now: Time,
    ) -> Result<(), StoreError> {
        let outcome = self.with(|c| {
            let tx = c.unchecked_transaction()?;
            let mut lot = Lot::new(&tx, now);
            let outcome = notification_in(&mut lot, records, writes, handled)?;
            // Anything but `Committed` wrote nothing: dropping the transaction ends it.
            if outcome == Outcome::Committed {
                lot.finish()?;
                tx.commit()?;
            }
            Ok(outcome)
        })?;
        outcome.into_result()
    }

    fn commits_notifications_together(&self) -> bool {
        true
    }

    /// One transaction, one lot ([`Lot`]): a notification refused writes
    /// nothing, the rest commit together in one WAL commit. An error of the
    /// store fails them all.
    async fn commit_notifications(&self, each: &[Handled], now: Time) -> Vec<Result<(), StoreError>> {
        let done = self.with(|c| {
            let tx = c.unchecked_transaction()?;
            let mut lot = Lot::new(&tx, now);
            let mut outcomes = Vec::with_capacity(each.len());
            for n in each {
                let outcome = notification_in(&mut lot, &n.records, &n.writes, n.handled)?;
                outcomes.push(outcome.into_result());
            }
            lot.finish()?;
            tx.commit()?;
            Ok(outcomes)
        });
        match done {
            Ok(outcomes) => outcomes,
            Err(err) => each.iter().map(|_| Err(StoreError(err.0.clone()))).collect(),
        }
    }

    async fn outbox_heads(&self) -> Result<Vec<OutboxRow>, StoreError> {
        self.with(|c| {
            // A skip scan over the live-rows index: one index seek per channel,
            // however many rows wait (a GROUP BY would read them all, each turn).
            let mut stmt = c.prepare_cached(
                "WITH RECURSIVE live(channel) AS (
                    SELECT MIN(channel) FROM outbox WHERE state != 'failed'
                    UNION ALL
                    SELECT (SELECT MIN(channel) FROM outbox WHERE state != 'failed' AND channel > live.channel)
                    FROM live WHERE live.channel IS NOT NULL)
                 SELECT o.* FROM live JOIN outbox o
                    ON o.id = (SELECT MIN(id) FROM outbox WHERE channel = live.channel AND state != 'failed')
                 ORDER BY o.id",
            )?;
            stmt.query_map([], outbox_row)?.collect()
        })
    }

    async fn outbox_rows(&self) -> Result<Vec<OutboxRow>, StoreError> {
        self.with(|c| c.prepare("SELECT * FROM outbox ORDER BY id")?.query_map([], outbox_row)?.collect())
    }

    async fn outbox_backlog(&self) -> Result<Backlog, StoreError> {
        self.with(|c| {
            c.prepare_cached("SELECT COUNT(*), MIN(created) FROM outbox WHERE state != 'failed'")?.query_row([], |r| {
                let oldest: Option<i64> = r.get(1)?;
                Ok(Backlog { waiting: r.get::<_, i64>(0)? as u64, oldest: oldest.map(super::time) })
            })
        })
    }

    async fn outbox_sending(&self, id: i64) -> Result<Option<String>, StoreError> {
        self.with(|c| {
            c.query_row(
                "UPDATE outbox SET state = 'sending', attempts = attempts + 1 WHERE id = ?1 RETURNING payload",
                [id],
                |r| r.get(0),
            )
            .optional()
        })
    }

    async fn outbox_retry(&self, id: i64, at: Time, state: WriteState, error: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE outbox SET next_attempt = ?2, state = ?3, error = ?4 WHERE id = ?1",
                params![id, millis(at), state.as_str(), error],
            )
            .map(drop)
        })
    }

    async fn outbox_fail(&self, id: i64, error: &str) -> Result<(), StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            tx.execute("UPDATE outbox SET state = 'failed', error = ?2 WHERE id = ?1", params![id, error])?;
            tx.execute(
                "UPDATE outbox SET op = 'post' WHERE id = (
                    SELECT MIN(u.id) FROM outbox u JOIN outbox p ON p.key = u.key
                    WHERE p.id = ?1 AND p.op = 'post' AND u.op = 'update' AND u.state = 'pending')",
                [id],
            )?;
            tx.commit()
        })
    }

    async fn outbox_posted(&self, id: i64, message: &MessageRef, key: &str, now: Time) -> Result<(), StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            tx.execute(
                "INSERT OR REPLACE INTO messages (key, channel, ts, posted) VALUES (?1, ?2, ?3, ?4)",
                params![key, message.channel.as_str(), message.ts, millis(now)],
            )?;
            tx.execute("DELETE FROM outbox WHERE id = ?1", [id])?;
            tx.commit()
        })
    }

    async fn outbox_done(&self, id: i64) -> Result<(), StoreError> {
        self.with(|c| c.execute("DELETE FROM outbox WHERE id = ?1", [id]).map(drop))
    }

    async fn message_ref(&self, key: &str) -> Result<Option<MessageRef>, StoreError> {
        self.with(|c| {
            c.query_row("SELECT channel, ts FROM messages WHERE key = ?1", [key], |r| {
                Ok(MessageRef { channel: channel(r.get(0)?)?, ts: r.get(1)? })
            })
            .optional()
        })
    }

    async fn outbox_lease(&self, channel: &ChannelId, owner: &str, until: Time, now: Time) -> Result<bool, StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO channel_leases (channel, owner, until) VALUES (?1, ?2, ?3)
                 ON CONFLICT (channel) DO UPDATE SET owner = excluded.owner, until = excluded.until
                 WHERE owner = excluded.owner OR until <= ?4",
                params![channel.as_str(), owner, millis(until), millis(now)],
            )
        })
        .map(|changed| changed == 1)
    }

    async fn outbox_release(&self, channel: &ChannelId, owner: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute("DELETE FROM channel_leases WHERE channel = ?1 AND owner = ?2", params![channel.as_str(), owner])
                .map(drop)
        })
    }
}

#[cfg(test)]
mod tests;
