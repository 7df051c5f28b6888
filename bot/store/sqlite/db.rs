//! The one connection, shared by the store and its group-commit thread (which
//! must not keep the store itself alive: the thread ends when the store is
//! dropped).

use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

use opsbot_commands::ports::store::StoreError;
use rusqlite::Connection;

pub(super) struct Db {
    pub(super) conn: Mutex<Connection>,
    /// Claims since the last prune of old ones.
    pub(super) claims_since_prune: AtomicU64,
}

impl Db {
    pub(super) fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let conn = self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&conn).map_err(err)
    }
}

pub(super) fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}
