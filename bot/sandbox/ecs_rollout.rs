//! Rollouts in the sandbox, so `opsbot demo` shows a living deploy.
//!
//! Updating a service to a revision (or forcing a new deployment) adds a
//! PRIMARY deployment IN_PROGRESS with no tasks; the previous ones become
//! ACTIVE. From then on each step ([`STEP`], or the seed's own pace) starts
//! one new task and stops one old task; once the new deployment runs its
//! desired count, the remaining old tasks stop, the old deployments go, and
//! the rollout is COMPLETED, with the events ECS writes. An image whose tag
//! contains `broken` never starts: each step fails a task, and after
//! [`FAILURES`] the deployment circuit breaker marks the rollout FAILED while
//! the old tasks keep serving — so the demo can show a failure too.
//!
//! Progress is computed, never scheduled: a service stores when its next step
//! is due, and every read advances a copy to "now" on the service's
//! [`SimClock`]. The clock runs on tokio time, so tests under
//! `tokio::time::pause()` drive it with `advance`, the demo with the wall
//! clock, and nothing runs in the background.

use chrono::Duration;
use opsbot_commands::ports::Time;
use tokio::time::Instant;

/// How often a sandbox rollout moves one task along.
pub const STEP: Duration = Duration::seconds(5);
/// Failed tasks after which the circuit breaker fails a deployment.
pub const FAILURES: i32 = 3;

/// A service's sense of time: account time `at` was sandbox instant `origin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimClock {
    origin: Instant,
    at: Time,
}

impl SimClock {
    /// A clock that reads `at` now.
    pub fn starting(at: Time) -> Self {
        SimClock { origin: Instant::now(), at }
    }

    pub fn now(&self) -> Time {
        self.at + Duration::from_std(self.origin.elapsed()).unwrap_or_default()
    }
}

/// A rollout in progress: when its next step is due, its pace, and whether
/// its tasks fail to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollout {
    pub next: Time,
    pub every: Duration,
    pub fails: bool,
}

/// A stable, random-looking 19-digit deployment id (`ecs-svc/...`) for `seed`.
pub fn deployment_id(seed: &str) -> String {
    format!("ecs-svc/{}", fnv(seed) % 9_000_000_000_000_000_000 + 1_000_000_000_000_000_000)
}

/// A stable, random-looking 32-hex-digit task id for `seed`.
pub fn task_id(seed: &str) -> String {
    format!("{:016x}{:016x}", fnv(seed), fnv(&format!("{seed}#")))
}

/// FNV-1a with splitmix64's finaliser: deterministic, well-spread ids without
/// a random source.
fn fnv(text: &str) -> u64 {
    let hash =
        text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3));
    let hash = (hash ^ (hash >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let hash = (hash ^ (hash >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^ (hash >> 31)
}

#[cfg(test)]
#[path = "ecs_rollout_tests.rs"]
mod tests;
