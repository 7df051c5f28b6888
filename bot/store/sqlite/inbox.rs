//! The inbox in SQLite: one row per key (`INSERT OR IGNORE` on its primary
//! index, so dedup costs no extra read), accepted through the group commit
//! ([`super::group_commit`]), handled in `seq` order through the partial
//! index `inbox_pending`; see [`crate::store::inbox`] for the rules.

use rusqlite::{OptionalExtension, params};

use async_trait::async_trait;

use super::SqliteStore;
use super::db::Db;
use super::group_commit::ACCEPT;
use super::lot::Lot;
use crate::store::inbox::{Arrival, Arrived, Failure, InboxRow, PARK_AFTER, ParkedRow, backoff};
use crate::store::ports::{InboxStore, Told, told_then};
use opsbot_commands::ports::Time;
use opsbot_commands::ports::store::StoreError;

#[async_trait]
impl InboxStore for SqliteStore {
    async fn inbox_accept(&self, key: &str, body: &[u8], now_ms: i64) -> Result<bool, StoreError> {
        // A key already committed is a redelivery: told so by a lookup, without
        // queueing for the writer (what is visible to a reader is durable).
        if self.db.reader.is_some() && self.inbox_knows(key).await? {
            return Ok(false);
        }
        self.accepts().accept(key.to_owned(), body.to_vec(), now_ms).await.map_err(StoreError)
    }

    async fn inbox_pending(&self, limit: usize, now_ms: i64) -> Result<Vec<InboxRow>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, key, body, attempts, received FROM inbox
                 WHERE body IS NOT NULL AND parked IS NULL AND next_attempt <= ?2 ORDER BY seq LIMIT ?1",
            )?;
            let rows = stmt.query_map(params![limit as i64, now_ms], |r| {
                let (seq, key, body, attempts, received_ms) = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
                Ok(InboxRow { seq, key, body, attempts, received_ms })
            })?;
            rows.collect()
        })
    }

    async fn inbox_next_retry(&self) -> Result<Option<i64>, StoreError> {
        self.with(|c| {
            c.prepare_cached(
                "SELECT MIN(next_attempt) FROM inbox WHERE body IS NOT NULL AND parked IS NULL AND attempts > 0",
            )?
            .query_row([], |r| r.get(0))
        })
    }

    async fn inbox_failed(&self, seq: i64, error: &str, now_ms: i64) -> Result<Failure, StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            let attempts: u32 = tx.query_row(
                "UPDATE inbox SET attempts = attempts + 1, error = ?2 WHERE seq = ?1 RETURNING attempts",
                params![seq, error],
                |r| r.get(0),
            )?;
            let failure = if attempts >= PARK_AFTER {
                tx.execute("UPDATE inbox SET parked = ?2 WHERE seq = ?1", params![seq, now_ms])?;
                Failure::Parked { attempts }
            } else {
                let at_ms = now_ms + backoff(attempts).as_millis() as i64;
                tx.execute("UPDATE inbox SET next_attempt = ?2 WHERE seq = ?1", params![seq, at_ms])?;
                Failure::RetryAt { attempts, at_ms }
            };
            tx.commit()?;
            Ok(failure)
        })
    }

    async fn inbox_parked(&self, limit: usize) -> Result<(usize, Vec<ParkedRow>), StoreError> {
        self.with(|c| {
            let count: i64 = c.query_row("SELECT COUNT(*) FROM inbox WHERE parked IS NOT NULL", [], |r| r.get(0))?;
            let mut stmt = c.prepare_cached(
                "SELECT key, COALESCE(error, ''), attempts, received, parked FROM inbox
                 WHERE parked IS NOT NULL ORDER BY parked DESC, seq DESC LIMIT ?1",
            )?;
            let rows = stmt.query_map([limit as i64], |r| {
                Ok(ParkedRow {
                    key: r.get(0)?,
                    error: r.get(1)?,
                    attempts: r.get(2)?,
                    received_ms: r.get(3)?,
                    parked_ms: r.get(4)?,
                })
            })?;
            Ok((count as usize, rows.collect::<rusqlite::Result<_>>()?))
        })
    }

    async fn inbox_knows(&self, key: &str) -> Result<bool, StoreError> {
        self.read(|c| c.prepare_cached("SELECT 1 FROM inbox WHERE key = ?1")?.query_row([key], |_| Ok(())).optional())
            .map(|found| found.is_some())
    }

    /// On the writer thread, so no tokio worker waits for the commit; `told`
    /// there, as soon as the lot is durable.
    async fn inbox_arrivals(&self, arrivals: Vec<Arrival>, now: Time, told: Told) -> Result<Vec<Arrived>, StoreError> {
        let committed = self.accepts().run(move |db| told_then(told, commit_arrivals(db, &arrivals, now))).await;
        committed.map_err(StoreError)?
    }
}

/// `arrivals` in one transaction, one lot ([`Lot`]). A handled arrival
/// writes its key without a body (as a handled row looks), so its body never
/// reaches the WAL; one whose records moved on is kept with its body instead,
/// nothing of its work-out written.
fn commit_arrivals(db: &Db, arrivals: &[Arrival], now: Time) -> Result<Vec<Arrived>, StoreError> {
    db.with(|c| {
        let tx = c.unchecked_transaction()?;
        let mut lot = Lot::new(&tx, now);
        let mut done = Vec::with_capacity(arrivals.len());
        for a in arrivals {
            if let Some((records, writes)) = &a.effects
                && lot.refused(records)?.is_none()
            {
                let new = tx.prepare_cached(ARRIVED_HANDLED)?.execute(params![a.key, a.received_ms])? == 1;
                if new {
                    lot.keep(records, writes)?;
                }
                done.push(if new { Arrived::Handled } else { Arrived::Duplicate });
                continue;
            }
            let new = tx.prepare_cached(ACCEPT)?.execute(params![a.key, a.body, a.received_ms])? == 1;
            done.push(if new { Arrived::Kept } else { Arrived::Duplicate });
        }
        lot.finish()?;
        tx.commit()?;
        Ok(done)
    })
}

/// An arrival handled at once: its key, for dedup, as a handled row keeps it.
const ARRIVED_HANDLED: &str = "INSERT OR IGNORE INTO inbox (key, body, received) VALUES (?1, NULL, ?2)";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::InboxStore;

    #[tokio::test]
    async fn a_batch_stores_each_new_key_once_and_reports_which_were_new() {
        let store = SqliteStore::in_memory().unwrap();
        store.inbox_accept("known", b"k", 0).await.unwrap();
        let new = super::super::group_commit::accept_all(
            &store.db,
            &[("a", b"1", 1), ("known", b"2", 1), ("a", b"3", 1), ("b", b"4", 1)],
        );
        assert_eq!(new.unwrap(), [true, false, false, true]);
        let bodies: Vec<Vec<u8>> = store.inbox_pending(10, 1).await.unwrap().into_iter().map(|r| r.body).collect();
        assert_eq!(bodies, [b"k".to_vec(), b"1".to_vec(), b"4".to_vec()]);
    }

    #[tokio::test]
    async fn unhandled_rows_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inbox.db");
        SqliteStore::open(&path).unwrap().inbox_accept("k", b"body", 0).await.unwrap();
        let reopened = SqliteStore::open(&path).unwrap();
        assert_eq!(reopened.inbox_pending(10, 0).await.unwrap()[0].body, b"body");
    }
}
