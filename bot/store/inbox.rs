//! The inbox: every notification body received (SQS, `POST /sns`), kept on
//! disk before its source is told it may forget it, once per key.
//!
//! Decisions:
//! - `accept` is one `INSERT OR IGNORE` on the key's primary index: a
//!   redelivery or the same event through a second path is recognised in the
//!   same statement that would store it, so dedup costs no extra read.
//! - Rows are handled in arrival order (`seq`) and marked `handled` only after
//!   their effects (living messages, outbox rows) are stored, so a crash in
//!   between handles the row again on the next start; handling is written to
//!   be repeatable.
//! - A row whose handling fails waits (`next_attempt`, doubling from
//!   [`FIRST_RETRY`]) while the rows behind it are handled; after
//!   [`PARK_AFTER`] failures it is parked: kept with its body and last error,
//!   out of the queue, listed by `inbox_parked`. One bad
//!   notification never blocks the rest.
//! - Handled rows keep their key (for dedup) but not their body; keys and
//!   parked rows are forgotten by age (`store.retention.inbox`, see `retention`).

use std::time::Duration;

/// Failures after which a notification is parked instead of tried again.
pub const PARK_AFTER: u32 = 8;
/// The wait after the first failure; each further failure doubles it, up to [`LAST_RETRY`]:
/// 5 s, 10 s, … about 10 minutes from the first failure to parking.
pub const FIRST_RETRY: Duration = Duration::from_secs(5);
pub const LAST_RETRY: Duration = Duration::from_secs(300);

/// One stored body waiting to be handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxRow {
    pub seq: i64,
    pub key: String,
    pub body: Vec<u8>,
    /// How often handling it failed so far.
    pub attempts: u32,
    /// When it was stored (ms): how long it waited is the handling lag.
    pub received_ms: i64,
}

/// What became of a row whose handling failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Tried again at this time (ms), after this many failures.
    RetryAt { attempts: u32, at_ms: i64 },
    /// Out of the queue for good after this many failures.
    Parked { attempts: u32 },
}

/// A notification that failed [`PARK_AFTER`] times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkedRow {
    pub key: String,
    pub error: String,
    pub attempts: u32,
    pub received_ms: i64,
    pub parked_ms: i64,
}

/// How long to wait after the `attempts`-th failure.
pub fn backoff(attempts: u32) -> Duration {
    FIRST_RETRY.saturating_mul(1 << attempts.saturating_sub(1).min(16)).min(LAST_RETRY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_doubles_the_wait_up_to_five_minutes() {
        let waits: Vec<u64> = (1..=8).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(waits, [5, 10, 20, 40, 80, 160, 300, 300]);
        assert_eq!(backoff(u32::MAX), LAST_RETRY, "no overflow");
    }
}

/// A notification that has just arrived, with what handling it decided when
/// that could be worked out at once (see `InboxStore::inbox_arrivals`).
#[derive(Debug, Clone, PartialEq)]
pub struct Arrival {
    pub key: String,
    /// What to keep if it is not handled now: the drain handles it from this.
    pub body: Vec<u8>,
    pub received_ms: i64,
    /// Its living records and writes; `None`: keep it to be handled from the inbox.
    pub effects: Option<(Vec<super::living::LivingRecord>, Vec<super::outbox::Queued>)>,
}

/// What became of an [`Arrival`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrived {
    /// Its key was known: nothing was written.
    Duplicate,
    /// Its key, records and writes are committed: it is handled.
    Handled,
    /// It is kept with its body, waiting to be handled from the inbox.
    Kept,
}
