//! Living records in SQLite: one row per (kind, id), written inside
//! `commit_notification`'s transaction over the version it was read at,
//! with the time it changed.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use crate::store::living::{Kept, Living, LivingRecord};
use crate::store::ports::LivingStore;
use opsbot_commands::ports::store::StoreError;

#[async_trait]
impl LivingStore for SqliteStore {
    async fn living(&self, kind: Living, id: &str) -> Result<Option<Kept>, StoreError> {
        self.read(|c| {
            c.prepare_cached("SELECT body, version FROM living WHERE kind = ?1 AND id = ?2")?
                .query_row(params![kind.as_str(), id], kept)
                .optional()
        })
    }

    async fn living_open(&self, kind: Living) -> Result<Vec<Kept>, StoreError> {
        self.read(|c| {
            let mut stmt =
                c.prepare_cached("SELECT body, version FROM living WHERE kind = ?1 AND open = 1 ORDER BY rowid")?;
            let rows = stmt.query_map([kind.as_str()], kept)?;
            rows.collect()
        })
    }
}

fn kept(r: &rusqlite::Row<'_>) -> rusqlite::Result<Kept> {
    Ok(Kept { body: r.get(0)?, version: r.get::<_, i64>(1)?.max(0) as u64 })
}

/// Keeps `r` over the version it was read at, changed at `now_ms`, inside an
/// open transaction; false (nothing written) when the stored record moved on.
pub(super) fn put(c: &rusqlite::Connection, r: &LivingRecord, now_ms: i64) -> rusqlite::Result<bool> {
    let written = match r.version {
        None => c
            .prepare_cached(
                "INSERT INTO living (kind, id, open, body, message, updated, version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1) ON CONFLICT (kind, id) DO NOTHING",
            )?
            .execute(params![r.kind.as_str(), r.id, r.open, r.body, r.message, now_ms])?,
        Some(version) => c
            .prepare_cached(
                "UPDATE living SET open = ?3, body = ?4, message = ?5, updated = ?6, version = version + 1
                 WHERE kind = ?1 AND id = ?2 AND version = ?7",
            )?
            .execute(params![r.kind.as_str(), r.id, r.open, r.body, r.message, now_ms, version as i64])?,
    };
    Ok(written == 1)
}
