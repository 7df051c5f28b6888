//! Retention: what the store forgets, and when (`store.retention`), so a year
//! of use does not grow the file without bound.
//!
//! Decisions:
//! - Only what is finished is forgotten: a change still waiting or running, an
//!   open alarm, an unhandled notification and a Slack write still to send are
//!   never pruned, however old.
//! - Run and approval records that nothing moved for `living` are pruned even
//!   while open: CodePipeline cannot keep an execution or an approval going
//!   that long (approvals time out after 7 days), so their end was missed.
//!   Open alarms stay: an alarm may rightly stay in ALARM for months.
//! - Where a message was posted (`messages`) is kept while an open living
//!   record shows in it or a write for it waits, so a long-open alarm can still
//!   be edited when it resolves.
//! - The audit log is kept forever unless `audit` is set.
//! - One transaction per table: each delete is short and indexed, so a
//!   prune never holds the writer for long.

use std::time::Duration;

use opsbot_commands::ports::Time;
use opsbot_commands::ports::store::StoreError;

use super::{SqliteStore, millis};

const DAY: Duration = Duration::from_secs(24 * 3600);

/// How long finished rows are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention {
    /// Finished changes (succeeded, failed, cancelled, rejected, expired).
    pub changes: Duration,
    /// Closed living records (resolved alarms, ended runs, decided approvals).
    pub living: Duration,
    /// Where a message was posted, once nothing open shows in it.
    pub messages: Duration,
    /// Slack writes that failed for good.
    pub failed_sends: Duration,
    /// Handled notifications' keys (for dedup) and parked notifications.
    pub inbox: Duration,
    /// Audit records; `None` keeps them forever.
    pub audit: Option<Duration>,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            changes: 90 * DAY,
            living: 30 * DAY,
            messages: 90 * DAY,
            failed_sends: 30 * DAY,
            inbox: 7 * DAY,
            audit: None,
        }
    }
}

/// How many rows one prune removed, per table.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pruned {
    pub changes: usize,
    pub living: usize,
    pub messages: usize,
    pub failed_sends: usize,
    pub inbox: usize,
    pub audit: usize,
}

impl Pruned {
    pub fn total(&self) -> usize {
        self.changes + self.living + self.messages + self.failed_sends + self.inbox + self.audit
    }
}

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

impl SqliteStore {
    /// Forgets, as of `now`, every finished row older than `keep` says.
    pub fn prune(&self, now: Time, keep: &Retention) -> Result<Pruned, StoreError> {
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
