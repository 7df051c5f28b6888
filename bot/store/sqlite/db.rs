//! The writing connection, shared by the store and its group-commit thread
//! (which must not keep the store itself alive: the thread ends when the
//! store is dropped), and, for a store on disk, a second connection for
//! lookups: in WAL mode readers do not wait for the writer, so an inbox
//! dedup hit or the handler's reads never queue behind a commit. A read on it
//! sees every transaction committed before it began (WAL snapshots), so what
//! a caller wrote and then reads back is there.

use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

use opsbot_commands::ports::store::StoreError;
use rusqlite::Connection;

pub(super) struct Db {
    pub(super) conn: Mutex<Connection>,
    /// Lookups only (`query_only`); `None` in memory, where reads use `conn`.
    pub(super) reader: Option<Mutex<Connection>>,
    /// Claims since the last prune of old ones.
    pub(super) claims_since_prune: AtomicU64,
}

impl Db {
    pub(super) fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let conn = self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&conn).map_err(err)
    }

    /// `f` on the lookup connection (or the writing one in memory): for
    /// reads only, outside any transaction of the caller.
    pub(super) fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let Some(reader) = &self.reader else { return self.with(f) };
        let conn = reader.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&conn).map_err(err)
    }
}

pub(super) fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}
