//! Living messages' state: per alarm, pipeline execution and approval, the
//! record its lifecycle keeps (JSON written by `notify`), whether it is still
//! open, the key of the message it shows in (so retention keeps that message
//! while the record is open), and when it last changed.

/// Which lifecycle a record belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Living {
    Alarm,
    Pipeline,
    Approval,
}

impl Living {
    /// Stable name for storage.
    pub fn as_str(self) -> &'static str {
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
