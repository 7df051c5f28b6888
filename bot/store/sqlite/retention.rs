//! Retention in SQLite: one short, indexed `DELETE` per table (each its own
//! transaction, so a prune never holds the writer for long); see
//! [`crate::store::retention`] for what is kept.

use std::time::Duration;

use async_trait::async_trait;
use opsbot_commands::ports::Time;
use opsbot_commands::ports::store::StoreError;

use super::{SqliteStore, millis};
use crate::store::ports::Pruning;
use crate::store::retention::{Pruned, Retention};

const CHANGES: &str = "DELETE FROM changes WHERE created < ?1
    AND state IN ('succeeded', 'failed', 'cancelled', 'rejected', 'expired')";
const LIVING: &str = "DELETE FROM living WHERE updated < ?1 AND (open = 0 OR kind NOT IN ('alarm', 'drift'))";
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

#[cfg(test)]
mod tests;
