//! Living messages' state: per alarm, pipeline execution, approval and
//! environment whose parameters drifted, the
//! record its lifecycle keeps (JSON written by `notify`), whether it is still
//! open, the key of the message it shows in (so retention keeps that message
//! while the record is open), when it last changed, and its version: a record
//! is written only over the version it was read at (optimistic concurrency),
//! so two replicas handling two events of one alarm never lose one.

/// Which lifecycle a record belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Living {
    Alarm,
    Pipeline,
    Approval,
    /// An environment's declared-parameter drift (`params.drift_check`).
    Drift,
}

impl Living {
    /// Stable name for storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Living::Alarm => "alarm",
            Living::Pipeline => "pipeline",
            Living::Approval => "approval",
            Living::Drift => "drift",
        }
    }
}

/// A living record to keep: the lifecycle's JSON, whether it is open, the
/// outbox key of the message that shows it, and the version it was read at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LivingRecord {
    pub kind: Living,
    pub id: String,
    pub open: bool,
    pub body: String,
    pub message: String,
    /// The version this record replaces, as read (`None`: a new record, and
    /// none may exist yet). Keeping it fails when the stored record has moved
    /// on meanwhile — another replica handled an event of the same alarm or
    /// run — so the caller reads again and loses no event.
    pub version: Option<u64>,
}

impl LivingRecord {
    /// The version it has once kept: 1 for a new one, one past the one it replaces.
    pub fn version_kept(&self) -> u64 {
        self.version.map_or(1, |v| v + 1)
    }

    /// Why its notification did not commit: this record moved on since it was read.
    pub fn moved_on(&self) -> String {
        let read = self.version.map_or("as new".to_owned(), |v| format!("at version {v}"));
        format!(
            "the {} record {} changed since it was read ({read}); nothing of this notification was kept — read it again",
            self.kind.as_str(),
            self.id
        )
    }
}

/// A record as kept: its JSON and its version (1 when first kept, +1 each time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub body: String,
    pub version: u64,
}
