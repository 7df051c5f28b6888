//! Living records in SQLite: one row per (kind, id), upserted inside
//! `commit_notification`'s transaction, with the time it changed.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use crate::store::living::{Living, LivingRecord};
use crate::store::ports::LivingStore;
use opsbot_commands::ports::store::StoreError;

#[async_trait]
impl LivingStore for SqliteStore {
    async fn living(&self, kind: Living, id: &str) -> Result<Option<String>, StoreError> {
        self.with(|c| {
            c.query_row("SELECT body FROM living WHERE kind = ?1 AND id = ?2", params![kind.as_str(), id], |r| r.get(0))
                .optional()
        })
    }

    async fn living_open(&self, kind: Living) -> Result<Vec<String>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare_cached("SELECT body FROM living WHERE kind = ?1 AND open = 1 ORDER BY rowid")?;
            let rows = stmt.query_map([kind.as_str()], |r| r.get(0))?;
            rows.collect()
        })
    }
}

/// Keeps `r` (replacing any record of its kind and id), changed at `now_ms`,
/// inside an open transaction.
pub(super) fn put(c: &rusqlite::Connection, r: &LivingRecord, now_ms: i64) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO living (kind, id, open, body, message, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (kind, id) DO UPDATE SET open = excluded.open, body = excluded.body,
            message = excluded.message, updated = excluded.updated",
    )?
    .execute(params![r.kind.as_str(), r.id, r.open, r.body, r.message, now_ms])
    .map(drop)
}
