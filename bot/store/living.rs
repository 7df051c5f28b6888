//! Living messages' state: per alarm, pipeline execution and approval, the
//! record its lifecycle keeps (JSON written by `notify`), whether it is still
//! open, the key of the message it shows in, and when it last changed (for
//! retention: see `retention`).

use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use opsbot_commands::ports::store::StoreError;

/// Which lifecycle a record belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Living {
    Alarm,
    Pipeline,
    Approval,
}

impl Living {
    fn as_str(self) -> &'static str {
        match self {
            Living::Alarm => "alarm",
            Living::Pipeline => "pipeline",
            Living::Approval => "approval",
        }
    }
}

/// A living record to keep: the lifecycle's JSON, whether it is open, and
/// the outbox key of the message that shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LivingRecord {
    pub kind: Living,
    pub id: String,
    pub open: bool,
    pub body: String,
    pub message: String,
}

impl SqliteStore {
    /// The record kept under `id`, as JSON.
    pub fn living(&self, kind: Living, id: &str) -> Result<Option<String>, StoreError> {
        self.with(|c| {
            c.query_row("SELECT body FROM living WHERE kind = ?1 AND id = ?2", params![kind.as_str(), id], |r| r.get(0))
                .optional()
        })
    }

    /// Every open record of `kind`, as JSON, oldest first.
    pub fn living_open(&self, kind: Living) -> Result<Vec<String>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare_cached("SELECT body FROM living WHERE kind = ?1 AND open = 1 ORDER BY rowid")?;
            let rows = stmt.query_map([kind.as_str()], |r| r.get(0))?;
            rows.collect()
        })
    }

    /// Keeps `record` (replacing any record of its kind and id), changed at `now_ms`.
    pub fn living_put(&self, record: &LivingRecord, now_ms: i64) -> Result<(), StoreError> {
        self.with(|c| put(c, record, now_ms))
    }
}

pub(super) fn put(c: &rusqlite::Connection, r: &LivingRecord, now_ms: i64) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO living (kind, id, open, body, message, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (kind, id) DO UPDATE SET open = excluded.open, body = excluded.body,
            message = excluded.message, updated = excluded.updated",
    )?
    .execute(params![r.kind.as_str(), r.id, r.open, r.body, r.message, now_ms])
    .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alarm(id: &str, open: bool, body: &str) -> LivingRecord {
        let message = format!("alarm:{id}:0");
        LivingRecord { kind: Living::Alarm, id: id.into(), open, body: body.into(), message }
    }

    #[test]
    fn a_record_is_replaced_in_place_and_listed_while_open() {
        let store = SqliteStore::in_memory().unwrap();
        store.living_put(&alarm("arn:1", true, "{\"v\":1}"), 0).unwrap();
        store.living_put(&alarm("arn:2", true, "{\"v\":2}"), 0).unwrap();
        store.living_put(&alarm("arn:1", false, "{\"v\":3}"), 0).unwrap();
        assert_eq!(store.living(Living::Alarm, "arn:1").unwrap().as_deref(), Some("{\"v\":3}"));
        assert_eq!(store.living_open(Living::Alarm).unwrap(), ["{\"v\":2}"]);
        assert_eq!(store.living(Living::Pipeline, "arn:1").unwrap(), None, "kinds are apart");
    }
}
