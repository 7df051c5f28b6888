//! Living records in SQLite: one row per (kind, id), written by a lot
//! (`super::lot`) over the version it was read at, with the time it changed.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use crate::store::living::{Kept, Living};
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
