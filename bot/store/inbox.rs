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
//! - Handled rows keep their key (for dedup) but not their body, and are
//!   pruned after a week — SNS and SQS redeliver for days at most. The prune
//!   runs after every handled row, through the partial index `inbox_forget`
//!   (received, handled rows only): a full scan there made handling quadratic
//!   (the alarm storm and ingest benchmarks, docs/benchmarks.md).

use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use opsbot_commands::ports::store::StoreError;

/// How long a handled key is remembered for dedup: longer than any message
/// `POST /sns` accepts may be old (`notifications.sns.max_age`, checked at start-up).
pub const DEDUP_WINDOW: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);
const KEEP_KEYS_MS: i64 = DEDUP_WINDOW.as_millis() as i64;

const ACCEPT: &str = "INSERT OR IGNORE INTO inbox (key, body, received) VALUES (?1, ?2, ?3)";

/// Forgets handled keys received before `?1` (uses the index `inbox_forget`).
const FORGET: &str = "DELETE FROM inbox WHERE body IS NULL AND received < ?1";

/// One stored body waiting to be handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxRow {
    pub seq: i64,
    pub key: String,
    pub body: Vec<u8>,
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

    /// Up to `limit` unhandled rows, oldest first.
    pub fn inbox_pending(&self, limit: usize) -> Result<Vec<InboxRow>, StoreError> {
        self.with(|c| {
            let mut stmt =
                c.prepare_cached("SELECT seq, key, body FROM inbox WHERE body IS NOT NULL ORDER BY seq LIMIT ?1")?;
            let rows =
                stmt.query_map([limit as i64], |r| Ok(InboxRow { seq: r.get(0)?, key: r.get(1)?, body: r.get(2)? }))?;
            rows.collect()
        })
    }

    /// Marks a row handled (its body is dropped; its key stays for dedup) and
    /// forgets keys handled over a week ago.
    pub fn inbox_handled(&self, seq: i64, now_ms: i64) -> Result<(), StoreError> {
        self.with(|c| handled_in(c, seq, now_ms))
    }

    /// Whether `key` was ever accepted (and not yet forgotten).
    pub fn inbox_knows(&self, key: &str) -> Result<bool, StoreError> {
        self.with(|c| c.query_row("SELECT 1 FROM inbox WHERE key = ?1", [key], |_| Ok(())).optional())
            .map(|found| found.is_some())
    }
}

/// [`SqliteStore::inbox_handled`] inside an open transaction.
pub(super) fn handled_in(c: &rusqlite::Connection, seq: i64, now_ms: i64) -> rusqlite::Result<()> {
    c.prepare_cached("UPDATE inbox SET body = NULL WHERE seq = ?1")?.execute([seq])?;
    c.prepare_cached(FORGET)?.execute([now_ms - KEEP_KEYS_MS]).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_stored_once_however_often_it_arrives() {
        let store = SqliteStore::in_memory().unwrap();
        assert!(store.inbox_accept("eventbridge:1", b"{}", 0).unwrap());
        assert!(!store.inbox_accept("eventbridge:1", b"{\"again\":1}", 1).unwrap());
        let pending = store.inbox_pending(10).unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].body, b"{}", "the first copy is kept");
    }

    #[test]
    fn rows_wait_in_arrival_order_until_handled_and_stay_known_after() {
        let store = SqliteStore::in_memory().unwrap();
        for key in ["a", "b", "c"] {
            store.inbox_accept(key, key.as_bytes(), 0).unwrap();
        }
        let keys: Vec<String> = store.inbox_pending(10).unwrap().into_iter().map(|r| r.key).collect();
        assert_eq!(keys, ["a", "b", "c"]);
        let first = store.inbox_pending(1).unwrap().remove(0);
        store.inbox_handled(first.seq, 0).unwrap();
        assert_eq!(store.inbox_pending(10).unwrap().len(), 2);
        assert!(store.inbox_knows("a").unwrap());
        assert!(!store.inbox_accept("a", b"a", 1).unwrap(), "a handled key is still a duplicate");
    }

    #[test]
    fn handled_keys_are_forgotten_after_a_week() {
        let store = SqliteStore::in_memory().unwrap();
        store.inbox_accept("old", b"x", 0).unwrap();
        let old = store.inbox_pending(1).unwrap().remove(0);
        store.inbox_handled(old.seq, 0).unwrap();
        store.inbox_accept("new", b"y", KEEP_KEYS_MS + 1).unwrap();
        let new = store.inbox_pending(1).unwrap().remove(0);
        store.inbox_handled(new.seq, KEEP_KEYS_MS + 1).unwrap();
        assert!(!store.inbox_knows("old").unwrap());
        assert!(store.inbox_knows("new").unwrap());
    }

    #[test]
    fn forgetting_old_keys_searches_an_index_instead_of_reading_every_row() {
        let store = SqliteStore::in_memory().unwrap();
        let plan: String =
            store.with(|c| c.query_row(&format!("EXPLAIN QUERY PLAN {FORGET}"), [0], |r| r.get(3))).unwrap();
        assert!(plan.contains("USING INDEX inbox_forget"), "the prune after every handled row reads: {plan}");
    }

    #[test]
    fn a_batch_stores_each_new_key_once_and_reports_which_were_new() {
        let store = SqliteStore::in_memory().unwrap();
        store.inbox_accept("known", b"k", 0).unwrap();
        let new =
            store.inbox_accept_all(&[("a", b"1", 1), ("known", b"2", 1), ("a", b"3", 1), ("b", b"4", 1)]).unwrap();
        assert_eq!(new, [true, false, false, true]);
        let bodies: Vec<Vec<u8>> = store.inbox_pending(10).unwrap().into_iter().map(|r| r.body).collect();
        assert_eq!(bodies, [b"k".to_vec(), b"1".to_vec(), b"4".to_vec()]);
    }

    #[test]
    fn unhandled_rows_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inbox.db");
        SqliteStore::open(&path).unwrap().inbox_accept("k", b"body", 0).unwrap();
        let reopened = SqliteStore::open(&path).unwrap();
        assert_eq!(reopened.inbox_pending(10).unwrap()[0].body, b"body");
    }
}
