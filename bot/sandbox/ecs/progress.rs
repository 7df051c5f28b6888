//! How a service's rollout moves along: [`SimService::progressed`] takes every
//! step due by now on the service's own clock, `deploy` starts a deployment.
//! The data (rollout, clock, ids) is in `ecs_rollout.rs`.

use opsbot_commands::ports::{Deployment, RolloutState, ServiceEvent, TaskDefinitionRef, Time};

use super::SimService;
use super::rollout::{FAILURES, Rollout, STEP, deployment_id, task_id};

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
