//! Retention in SQLite: one short, indexed `DELETE` per table (each its own
//! transaction, so a prune never holds the writer for long); see
//! [`crate::store::retention`] for what is kept.

use std::time::Duration;

use async_trait::async_trait;
use opsbot_commands::ports::Time;
use opsbot_commands::ports::store::StoreError;

use super::{SqliteStore, millis};
use crate::store::{Pruned, Pruning, Retention};

const CHANGES: &str = "DELETE FROM changes WHERE created < ?1
    AND state IN ('succeeded', 'failed', 'cancelled', 'rejected', 'expired')";
const LIVING: &str = "DELETE FROM living WHERE updated < ?1 AND (open = 0 OR kind != 'alarm')";
const MESSAGES: &str = "DELETE FROM messages WHERE posted < ?1
    AND key NOT IN (SELECT message FROM living WHERE open = 1 AND message IS NOT NULL)
    AND key NOT IN (SELECT key FROM outbox WHERE state != 'failed')";
const FAILED_SENDS: &str = "DELETE FROM outbox WHERE state = 'failed' AND created < ?1";
/// Handled keys (no body) by when they arrived; parked rows by when they were parked.
const INBOX: &str = "DELETE FROM inbox WHERE (body IS NULL AND received < ?1) OR parked < ?1";
const AUDIT: &str = "DELETE FROM audit WHERE at < ?1";

#[async_trait]
impl Pruning for SqliteStore {
    async fn prune(&self, now: Time, keep: &Retention) -> Result<Pruned, StoreError> {
        let before = |age: Duration| millis(now) - age.as_millis() as i64;
        let delete = |sql: &str, age: Duration| self.with(|c| c.prepare_cached(sql)?.execute([before(age)]));
        Ok(Pruned {
            changes: delete(CHANGES, keep.changes)?,
            // Living records before messages: a record pruned frees its message.
            living: delete(LIVING, keep.living)?,
            messages: delete(MESSAGES, keep.messages)?,
            failed_sends: delete(FAILED_SENDS, keep.failed_sends)?,
            inbox: delete(INBOX, keep.inbox)?,
            audit: keep.audit.map(|age| delete(AUDIT, age)).transpose()?.unwrap_or(0),
        })
    }
}

/// The schema retention needs: when each living record last changed and the
/// message it shows in, and indexes so each prune reads only what it deletes.
/// Records kept before this version count as changed at the upgrade; their
/// message keys are derived once from how `notify` names them.
pub(super) const MIGRATION: &str = "
    ALTER TABLE living ADD COLUMN updated INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE living ADD COLUMN message TEXT;
    UPDATE living SET updated = CAST(unixepoch('subsec') * 1000 AS INTEGER);
    UPDATE living SET message = CASE kind
        WHEN 'pipeline' THEN 'pipeline:' || id
        WHEN 'approval' THEN id
        ELSE (SELECT key FROM messages WHERE substr(key, 1, length(id) + 7) = 'alarm:' || id || ':'
              ORDER BY posted DESC LIMIT 1) END;
    CREATE INDEX living_updated ON living (updated);
    CREATE INDEX changes_created ON changes (created);
    CREATE INDEX messages_posted ON messages (posted);
    CREATE INDEX audit_at ON audit (at);
    ALTER TABLE inbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE inbox ADD COLUMN next_attempt INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE inbox ADD COLUMN parked INTEGER;
    ALTER TABLE inbox ADD COLUMN error TEXT;
    DROP INDEX inbox_pending;
    CREATE INDEX inbox_pending ON inbox (seq) WHERE body IS NOT NULL AND parked IS NULL;
    CREATE INDEX inbox_parked ON inbox (parked) WHERE parked IS NOT NULL";

#[cfg(test)]
mod tests;
