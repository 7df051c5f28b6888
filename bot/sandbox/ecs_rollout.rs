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
use opsbot_commands::ports::{Deployment, RolloutState, ServiceEvent, TaskDefinitionRef, Time};
use tokio::time::Instant;

use super::SimService;

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

impl SimService {
    /// This service as it is now: every step due by now taken. `name` is the
    /// service's name, for its events.
    pub fn progressed(&self, name: &str) -> SimService {
        let mut next = self.clone();
        let now = self.clock.now();
        while let Some(rollout) = next.rollout.as_mut().filter(|r| r.next <= now) {
            let (at, fails) = (rollout.next, rollout.fails);
            rollout.next = at + rollout.every;
            next.step(name, at, fails);
        }
        next
    }

    /// Starts a deployment of `td` at `now` (call on a progressed service);
    /// returns its id.
    pub fn deploy(&mut self, td: TaskDefinitionRef, fails: bool, now: Time) -> String {
        for d in self.deployments.iter_mut().filter(|d| d.status == "PRIMARY") {
            d.status = "ACTIVE".into();
        }
        let id = deployment_id(&format!("{td}@{}", now.timestamp_millis()));
        self.deployments.insert(
            0,
            Deployment {
                id: id.clone(),
                status: "PRIMARY".into(),
                task_definition: Some(td),
                rollout: Some(RolloutState::InProgress),
                rollout_reason: Some(format!("ECS deployment {id} in progress.")),
                desired: self.desired,
                running: 0,
                pending: self.desired.min(1),
                failed_tasks: 0,
                created: Some(now),
                updated: Some(now),
            },
        );
        self.rollout = Some(Rollout { next: now + STEP, every: STEP, fails });
        id
    }

    fn step(&mut self, name: &str, at: Time, fails: bool) {
        let Some((primary, older)) = self.deployments.split_first_mut() else {
            self.rollout = None;
            return;
        };
        primary.updated = Some(at);
        let id = primary.id.clone();
        let event = if fails {
            primary.failed_tasks += 1;
            if primary.failed_tasks < FAILURES {
                format!("(service {name}) (deployment {id}) task failed to start: CannotPullContainerError.")
            } else {
                primary.rollout = Some(RolloutState::Failed);
                primary.rollout_reason = Some("ECS deployment circuit breaker: tasks failed to start.".into());
                primary.pending = 0;
                self.rollout = None;
                format!("(service {name}) (deployment {id}) deployment failed: tasks failed to start.")
            }
        } else if primary.running < primary.desired {
            primary.running += 1;
            primary.pending = i32::from(primary.running < primary.desired);
            if let Some(old) = older.iter_mut().rev().find(|d| d.running > 0) {
                old.running -= 1;
                old.desired = old.running;
            }
            let task = task_id(&format!("{id}/{}", primary.running));
            format!("(service {name}) has started 1 tasks: (task {task}).")
        } else {
            primary.rollout = Some(RolloutState::Completed);
            primary.rollout_reason = Some(format!("ECS deployment {id} completed."));
            self.deployments.truncate(1);
            self.rollout = None;
            self.events.insert(
                0,
                ServiceEvent {
                    at: Some(at),
                    message: format!("(service {name}) (deployment {id}) deployment completed."),
                },
            );
            format!("(service {name}) has reached a steady state.")
        };
        self.events.insert(0, ServiceEvent { at: Some(at), message: event });
    }
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
