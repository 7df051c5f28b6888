//! Executions moving through a sandbox pipeline, and what the changes
//! (start, retry, stop, approve and reject) do to them; `pipelines/ports.rs` puts
//! them behind the ports.
//!
//! # Decisions
//! - Time is tokio time ([`SimClock`]): an action is due a fixed while after
//!   it started ([`takes`]), and every port call catches up to the present
//!   first. Under `tokio::time::pause` tests move it with `advance`; in
//!   `opsbot demo` it is the wall clock. Times shown are the account's
//!   `now` at seeding plus the tokio time since.
//! - Every action the sandbox runs succeeds: a retried build passes (the
//!   flaky test), a started execution goes through to the first manual
//!   approval and waits there for a decision.
//! - Simplifications, said once: stages run their actions one after the
//!   other; a new start supersedes the execution in progress at once (its
//!   current action is abandoned); stopping at a waiting approval abandons it.
//! - What AWS would refuse as moved-on (stale token, stage not failed,
//!   nothing to stop) answers `Applied::TooLate`, as the AWS gateway does.

use std::time::Duration;

use opsbot_commands::ports::{ActionCategory, Time};
use tokio::time::Instant;

/// Sandbox time: the account's `now` at seeding plus tokio time since.
/// Clocks that start at the same account time are equal: where tokio's
/// clock stood then is not part of the account.
#[derive(Debug, Clone, Copy)]
pub struct SimClock {
    origin: Instant,
    at: Time,
}

impl PartialEq for SimClock {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at
    }
}

impl Eq for SimClock {}

impl SimClock {
    pub fn starting(at: Time) -> Self {
        SimClock { origin: Instant::now(), at }
    }

    /// The account time of tokio instant `instant`.
    pub fn time(&self, instant: Instant) -> Time {
        self.at + chrono::Duration::from_std(instant.saturating_duration_since(self.origin)).unwrap_or_default()
    }
}

/// Where the execution in progress is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimRun {
    pub execution: String,
    pub stage: usize,
    pub action: usize,
    /// When the current action finishes; `None` while it waits for a decision.
    pub due: Option<Instant>,
    /// Stop once the current action finished.
    pub stopping: bool,
}

/// How long an action of `category` runs in the sandbox.
pub fn takes(category: &ActionCategory) -> Duration {
    Duration::from_secs(match category {
        ActionCategory::Source => 5,
        ActionCategory::Build => 30,
        ActionCategory::Deploy => 25,
        _ => 15,
    })
}

/// A deterministic id shaped like CodePipeline's (a UUID) from `seed`.
pub(super) fn uuid_like(seed: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in seed.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let low = hash.rotate_left(17) & 0xffff_ffff_ffff;
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{low:012x}",
        hash >> 32,
        (hash >> 16) & 0xffff,
        hash & 0xfff,
        (hash >> 52) & 0xfff
    )
}

#[cfg(test)]
#[path = "pipeline_runs_tests.rs"]
mod tests;
