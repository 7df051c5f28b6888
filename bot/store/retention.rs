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

use std::time::Duration;

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
