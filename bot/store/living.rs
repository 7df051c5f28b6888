//! Living messages' state: per alarm, pipeline execution and approval, the
//! record its lifecycle keeps (JSON written by `notify`), whether it is still
//! open.

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

/// A living record to keep: the lifecycle's JSON, and whether it is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LivingRecord {
    pub kind: Living,
    pub id: String,
    pub open: bool,
    pub body: String,
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

    /// Keeps `body` as the record of `id` (replacing any).
    pub fn living_put(&self, kind: Living, id: &str, open: bool, body: &str) -> Result<(), StoreError> {
        self.with(|c| put(c, kind, id, open, body))
    }
}

pub(super) fn put(c: &rusqlite::Connection, kind: Living, id: &str, open: bool, body: &str) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO living (kind, id, open, body) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (kind, id) DO UPDATE SET open = excluded.open, body = excluded.body",
        params![kind.as_str(), id, open, body],
    )
    .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_replaced_in_place_and_listed_while_open() {
        let store = SqliteStore::in_memory().unwrap();
        store.living_put(Living::Alarm, "arn:1", true, "{\"v\":1}").unwrap();
        store.living_put(Living::Alarm, "arn:2", true, "{\"v\":2}").unwrap();
        store.living_put(Living::Alarm, "arn:1", false, "{\"v\":3}").unwrap();
        assert_eq!(store.living(Living::Alarm, "arn:1").unwrap().as_deref(), Some("{\"v\":3}"));
        assert_eq!(store.living_open(Living::Alarm).unwrap(), ["{\"v\":2}"]);
        assert_eq!(store.living(Living::Pipeline, "arn:1").unwrap(), None, "kinds are apart");
    }
}
