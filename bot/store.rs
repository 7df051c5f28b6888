//! Durable state in one SQLite file (WAL). For now: request claims, so a
//! request Slack delivers twice (HTTP retries, Socket Mode redeliveries, a
//! restart in between) runs once.
//!
//! Claims are keyed by what identifies the *request*, not the delivery:
//! `event:<event_id>`, `slash:<trigger_id>`, `envelope:<envelope_id>`.
//! Old claims are pruned after a day; Slack retries for minutes, not days.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use rusqlite::{Connection, OptionalExtension, params};

#[derive(Debug, thiserror::Error)]
#[error("store: {0}")]
pub struct StoreError(#[from] rusqlite::Error);

/// Schema versions, applied in order; the index is `user_version`.
const MIGRATIONS: &[&str] = &["CREATE TABLE claims (key TEXT PRIMARY KEY, claimed_at INTEGER NOT NULL)"];

const CLAIM_TTL_SECS: i64 = 24 * 3600;
const PRUNE_EVERY: u64 = 1024;

pub struct Store {
    // rusqlite's Connection is Send but not Sync; the calls are short
    // (one indexed insert), so a mutex is simpler than a connection pool.
    conn: Mutex<Connection>,
    claims_since_prune: AtomicU64,
}

impl Store {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // WAL + NORMAL: durable across process crashes, no fsync per claim.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Self::migrate(conn)
    }

    pub fn in_memory() -> Result<Self, StoreError> {
        Self::migrate(Connection::open_in_memory()?)
    }

    fn migrate(conn: Connection) -> Result<Self, StoreError> {
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
            conn.execute_batch(&format!("BEGIN; {sql}; PRAGMA user_version = {}; COMMIT;", i + 1))?;
        }
        Ok(Store { conn: Mutex::new(conn), claims_since_prune: AtomicU64::new(0) })
    }

    /// Claims `key` at `now` (unix seconds). `true` the first time, `false`
    /// for every later claim of the same key.
    pub fn claim(&self, key: &str, now: i64) -> Result<bool, StoreError> {
        let conn = self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let inserted =
            conn.execute("INSERT OR IGNORE INTO claims (key, claimed_at) VALUES (?1, ?2)", params![key, now])?;
        // Prune now and then instead of on every insert: the table stays small
        // without adding a delete to the acknowledgement path each time.
        if self.claims_since_prune.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            conn.execute("DELETE FROM claims WHERE claimed_at < ?1", params![now - CLAIM_TTL_SECS])?;
        }
        Ok(inserted == 1)
    }

    /// Whether `key` was claimed (for tests and diagnostics).
    pub fn is_claimed(&self, key: &str) -> Result<bool, StoreError> {
        let conn = self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let found = conn.query_row("SELECT 1 FROM claims WHERE key = ?1", [key], |_| Ok(())).optional()?;
        Ok(found.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_claimed_once() {
        let store = Store::in_memory().unwrap();
        assert!(store.claim("event:Ev1", 100).unwrap());
        assert!(!store.claim("event:Ev1", 101).unwrap());
        assert!(store.claim("event:Ev2", 101).unwrap());
    }

    #[test]
    fn claims_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("opsbot.db");
        assert!(Store::open(&path).unwrap().claim("slash:T1", 100).unwrap());
        let reopened = Store::open(&path).unwrap();
        assert!(!reopened.claim("slash:T1", 200).unwrap(), "a retry after restart must not run again");
    }

    #[test]
    fn claims_older_than_a_day_are_pruned() {
        let store = Store::in_memory().unwrap();
        store.claim("old", 0).unwrap();
        for i in 0..PRUNE_EVERY {
            store.claim(&format!("new{i}"), CLAIM_TTL_SECS + 1).unwrap();
        }
        assert!(!store.is_claimed("old").unwrap());
        assert!(store.is_claimed("new0").unwrap());
    }
}
