//! The inbox: every notification body received (SQS, `POST /sns`), kept on
//! disk before its source is told it may forget it, once per key.
//!
//! Decisions:
//! - `accept` is one `INSERT OR IGNORE` on the key's primary index: a
//!   redelivery or the same event through a second path is recognised in the
//!   same statement that would store it, so dedup costs no extra read.
//! - Rows are handled in arrival order (`seq`) and marked `handled` only after
//!   their effects (living messages, outbox rows) are stored, so a crash in
//!   between handles the row again on the next start; handling is written to
//!   be repeatable.
//! - A row whose handling fails waits (`next_attempt`, doubling from
//!   [`FIRST_RETRY`]) while the rows behind it are handled; after
//!   [`PARK_AFTER`] failures it is parked: kept with its body and last error,
//!   out of the queue, listed by [`SqliteStore::inbox_parked`]. One bad
//!   notification never blocks the rest.
//! - Handled rows keep their key (for dedup) but not their body; keys and
//!   parked rows are forgotten by age (`store.retention.inbox`, see `retention`).

use std::time::Duration;

use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use opsbot_commands::ports::store::StoreError;

/// Failures after which a notification is parked instead of tried again.
pub const PARK_AFTER: u32 = 8;
/// The wait after the first failure; each further failure doubles it, up to [`LAST_RETRY`]:
/// 5 s, 10 s, … about 10 minutes from the first failure to parking.
pub const FIRST_RETRY: Duration = Duration::from_secs(5);
const LAST_RETRY: Duration = Duration::from_secs(300);

const ACCEPT: &str = "INSERT OR IGNORE INTO inbox (key, body, received) VALUES (?1, ?2, ?3)";

/// One stored body waiting to be handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxRow {
    pub seq: i64,
    pub key: String,
    pub body: Vec<u8>,
    /// How often handling it failed so far.
    pub attempts: u32,
}

/// What became of a row whose handling failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Tried again at this time (ms), after this many failures.
    RetryAt { attempts: u32, at_ms: i64 },
    /// Out of the queue for good after this many failures.
    Parked { attempts: u32 },
}

/// A notification that failed [`PARK_AFTER`] times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkedRow {
    pub key: String,
    pub error: String,
    pub attempts: u32,
    pub received_ms: i64,
    pub parked_ms: i64,
}

/// How long to wait after the `attempts`-th failure.
fn backoff(attempts: u32) -> Duration {
    FIRST_RETRY.saturating_mul(1 << attempts.saturating_sub(1).min(16)).min(LAST_RETRY)
}

impl SqliteStore {
    /// Stores `body` under `key` unless the key is known; true when new.
    pub fn inbox_accept(&self, key: &str, body: &[u8], now_ms: i64) -> Result<bool, StoreError> {
        self.with(|c| c.prepare_cached(ACCEPT)?.execute(params![key, body, now_ms])).map(|inserted| inserted == 1)
    }

    /// [`Self::inbox_accept`] for many `(key, body, now_ms)` in one transaction
    /// (one WAL commit): true per new key, in order. A key twice in `items`
    /// is new the first time only. All or nothing: on an error none is stored.
    pub fn inbox_accept_all(&self, items: &[(&str, &[u8], i64)]) -> Result<Vec<bool>, StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            let mut new = Vec::with_capacity(items.len());
            {
                let mut insert = tx.prepare_cached(ACCEPT)?;
                for (key, body, now_ms) in items {
                    new.push(insert.execute(params![key, body, now_ms])? == 1);
                }
            }
            tx.commit()?;
            Ok(new)
        })
    }

    /// Up to `limit` unhandled rows due at `now_ms`, oldest first (parked rows
    /// and rows waiting for their next attempt left out).
    pub fn inbox_pending(&self, limit: usize, now_ms: i64) -> Result<Vec<InboxRow>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, key, body, attempts FROM inbox
                 WHERE body IS NOT NULL AND parked IS NULL AND next_attempt <= ?2 ORDER BY seq LIMIT ?1",
            )?;
            let rows = stmt.query_map(params![limit as i64, now_ms], |r| {
                Ok(InboxRow { seq: r.get(0)?, key: r.get(1)?, body: r.get(2)?, attempts: r.get(3)? })
            })?;
            rows.collect()
        })
    }

    /// When the next row waiting for a retry is due (ms), if any waits.
    pub fn inbox_next_retry(&self) -> Result<Option<i64>, StoreError> {
        self.with(|c| {
            c.prepare_cached(
                "SELECT MIN(next_attempt) FROM inbox WHERE body IS NOT NULL AND parked IS NULL AND attempts > 0",
            )?
            .query_row([], |r| r.get(0))
        })
    }

    /// Records that handling row `seq` failed with `error` at `now_ms`: it
    /// waits for its next attempt, or is parked after [`PARK_AFTER`] failures.
    pub fn inbox_failed(&self, seq: i64, error: &str, now_ms: i64) -> Result<Failure, StoreError> {
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

    /// How many notifications are parked, and the newest `limit` of them.
    pub fn inbox_parked(&self, limit: usize) -> Result<(usize, Vec<ParkedRow>), StoreError> {
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

    /// Marks a row handled: its body is dropped, its key stays for dedup.
    pub fn inbox_handled(&self, seq: i64) -> Result<(), StoreError> {
        self.with(|c| handled_in(c, seq))
    }

    /// Whether `key` was ever accepted (and not yet forgotten).
    pub fn inbox_knows(&self, key: &str) -> Result<bool, StoreError> {
        self.with(|c| c.query_row("SELECT 1 FROM inbox WHERE key = ?1", [key], |_| Ok(())).optional())
            .map(|found| found.is_some())
    }
}

/// [`SqliteStore::inbox_handled`] inside an open transaction.
pub(super) fn handled_in(c: &rusqlite::Connection, seq: i64) -> rusqlite::Result<()> {
    c.prepare_cached("UPDATE inbox SET body = NULL, error = NULL WHERE seq = ?1")?.execute([seq]).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_stored_once_however_often_it_arrives() {
        let store = SqliteStore::in_memory().unwrap();
        assert!(store.inbox_accept("eventbridge:1", b"{}", 0).unwrap());
        assert!(!store.inbox_accept("eventbridge:1", b"{\"again\":1}", 1).unwrap());
        let pending = store.inbox_pending(10, 1).unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].body, b"{}", "the first copy is kept");
    }

    #[test]
    fn rows_wait_in_arrival_order_until_handled_and_stay_known_after() {
        let store = SqliteStore::in_memory().unwrap();
        for key in ["a", "b", "c"] {
            store.inbox_accept(key, key.as_bytes(), 0).unwrap();
        }
        let keys: Vec<String> = store.inbox_pending(10, 0).unwrap().into_iter().map(|r| r.key).collect();
        assert_eq!(keys, ["a", "b", "c"]);
        let first = store.inbox_pending(1, 0).unwrap().remove(0);
        store.inbox_handled(first.seq).unwrap();
        assert_eq!(store.inbox_pending(10, 0).unwrap().len(), 2);
        assert!(store.inbox_knows("a").unwrap());
        assert!(!store.inbox_accept("a", b"a", 1).unwrap(), "a handled key is still a duplicate");
    }

    #[test]
    fn a_failed_row_waits_for_its_retry_while_the_rows_behind_it_are_due() {
        let store = SqliteStore::in_memory().unwrap();
        for key in ["bad", "good"] {
            store.inbox_accept(key, key.as_bytes(), 0).unwrap();
        }
        let bad = store.inbox_pending(1, 0).unwrap().remove(0);
        assert_eq!(
            store.inbox_failed(bad.seq, "disk I/O error", 1_000).unwrap(),
            Failure::RetryAt { attempts: 1, at_ms: 6_000 }
        );
        let due: Vec<String> = store.inbox_pending(10, 5_999).unwrap().into_iter().map(|r| r.key).collect();
        assert_eq!(due, ["good"], "the failed row waits; the one behind it does not");
        assert_eq!(store.inbox_next_retry().unwrap(), Some(6_000));
        let again = store.inbox_pending(10, 6_000).unwrap();
        assert_eq!((again[0].key.as_str(), again[0].attempts), ("bad", 1), "due again, oldest first");
    }

    #[test]
    fn each_failure_doubles_the_wait_up_to_five_minutes() {
        let waits: Vec<u64> = (1..=8).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(waits, [5, 10, 20, 40, 80, 160, 300, 300]);
        assert_eq!(backoff(u32::MAX), LAST_RETRY, "no overflow");
    }

    #[test]
    fn a_row_that_keeps_failing_is_parked_with_its_body_and_last_error() {
        let store = SqliteStore::in_memory().unwrap();
        store.inbox_accept("poison", b"{\"x\":1}", 0).unwrap();
        let seq = store.inbox_pending(1, 0).unwrap()[0].seq;
        let mut now = 0;
        for n in 1..PARK_AFTER {
            let Failure::RetryAt { attempts, at_ms } = store.inbox_failed(seq, &format!("error {n}"), now).unwrap()
            else {
                panic!("parked after {n} failures");
            };
            assert_eq!(attempts, n);
            now = at_ms;
        }
        assert_eq!(store.inbox_failed(seq, "the last error", now).unwrap(), Failure::Parked { attempts: PARK_AFTER });
        assert!(store.inbox_pending(10, i64::MAX).unwrap().is_empty(), "a parked row is out of the queue");
        assert_eq!(store.inbox_next_retry().unwrap(), None);
        let (count, parked) = store.inbox_parked(10).unwrap();
        assert_eq!(count, 1);
        let expected = ParkedRow {
            key: "poison".into(),
            error: "the last error".into(),
            attempts: 8,
            received_ms: 0,
            parked_ms: now,
        };
        assert_eq!(parked, [expected]);
        assert!(!store.inbox_accept("poison", b"{}", now).unwrap(), "a parked key is still a duplicate");
    }

    #[test]
    fn a_batch_stores_each_new_key_once_and_reports_which_were_new() {
        let store = SqliteStore::in_memory().unwrap();
        store.inbox_accept("known", b"k", 0).unwrap();
        let new =
            store.inbox_accept_all(&[("a", b"1", 1), ("known", b"2", 1), ("a", b"3", 1), ("b", b"4", 1)]).unwrap();
        assert_eq!(new, [true, false, false, true]);
        let bodies: Vec<Vec<u8>> = store.inbox_pending(10, 1).unwrap().into_iter().map(|r| r.body).collect();
        assert_eq!(bodies, [b"k".to_vec(), b"1".to_vec(), b"4".to_vec()]);
    }

    #[test]
    fn unhandled_rows_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inbox.db");
        SqliteStore::open(&path).unwrap().inbox_accept("k", b"body", 0).unwrap();
        let reopened = SqliteStore::open(&path).unwrap();
        assert_eq!(reopened.inbox_pending(10, 0).unwrap()[0].body, b"body");
    }
}
