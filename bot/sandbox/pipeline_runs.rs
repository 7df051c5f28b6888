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

use opsbot_commands::ports::{ActionCategory, ActionError, ApprovalDecision, ExecStatus, Execution, Time};
use tokio::time::Instant;

use super::{SimPipeline, stage_status};

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

impl SimPipeline {
    /// Moves the execution in progress along to `now`.
    pub fn advance(&mut self, now: Instant) {
        while let Some(run) = self.run.clone() {
            match run.due {
                Some(due) if due <= now => self.finish(&run, due),
                _ => break,
            }
        }
    }

    /// Goes on with execution `id` from its first action in progress, as seeded.
    pub(super) fn resume(&mut self, id: &str, now: Instant) {
        let at = self.stages.iter().enumerate().find_map(|(s, stage)| {
            let a = stage.actions.iter().position(|a| a.status == Some(ExecStatus::InProgress))?;
            Some((s, a))
        });
        let Some((stage, action)) = at else { return };
        let current = &mut self.stages[stage].actions[action];
        let waits = current.category == ActionCategory::Approval;
        if waits && current.token.is_none() {
            current.token = Some(uuid_like(&format!("{id}/{stage}/{action}")));
        }
        let due = (!waits).then(|| now + takes(&current.category));
        self.run = Some(SimRun { execution: id.into(), stage, action, due, stopping: false });
    }

    fn finish(&mut self, run: &SimRun, due: Instant) {
        let at = self.clock.time(due);
        let action = &mut self.stages[run.stage].actions[run.action];
        (action.status, action.last_change) = (Some(ExecStatus::Succeeded), Some(at));
        if run.stopping {
            return self.end(ExecStatus::Stopped, at);
        }
        self.enter_next(run.stage, run.action, due);
    }

    /// Starts the action after `(stage, action)` at `when`, or ends the execution: it succeeded.
    fn enter_next(&mut self, stage: usize, action: usize, when: Instant) {
        let next = if action + 1 < self.stages[stage].actions.len() {
            Some((stage, action + 1))
        } else {
            (stage + 1..self.stages.len()).find(|&s| !self.stages[s].actions.is_empty()).map(|s| (s, 0))
        };
        match next {
            Some((stage, action)) => self.enter(stage, action, when),
            None => self.end(ExecStatus::Succeeded, self.clock.time(when)),
        }
    }

    /// The running execution reaches `(stage, action)` at `when`.
    fn enter(&mut self, stage: usize, action: usize, when: Instant) {
        let Some(run) = self.run.as_mut() else { return };
        let (at, id) = (self.clock.time(when), run.execution.clone());
        let sim = &mut self.stages[stage];
        sim.execution_id = Some(id.clone());
        let current = &mut sim.actions[action];
        let waits = current.category == ActionCategory::Approval;
        (current.status, current.last_change, current.error) = (Some(ExecStatus::InProgress), Some(at), None);
        current.token = waits.then(|| uuid_like(&format!("{id}/{stage}/{action}")));
        if waits {
            current.summary = None;
        }
        (run.stage, run.action, run.due) = (stage, action, (!waits).then(|| when + takes(&current.category)));
        self.touch(&id, None, at);
    }

    /// Execution `id` ends `status` at `at`.
    fn end(&mut self, status: ExecStatus, at: Time) {
        if let Some(run) = self.run.take() {
            self.touch(&run.execution, Some(status), at);
        }
    }

    fn touch(&mut self, id: &str, status: Option<ExecStatus>, at: Time) {
        if let Some(execution) = self.executions.iter_mut().find(|e| e.id == id) {
            execution.status = status.unwrap_or(execution.status.clone());
            execution.updated = Some(at);
        }
    }

    /// The current action of the run stops for good (`Abandoned`).
    fn abandon_current(&mut self, at: Time) {
        if let Some(run) = &self.run {
            let action = &mut self.stages[run.stage].actions[run.action];
            (action.status, action.last_change, action.token) = (Some(ExecStatus::Abandoned), Some(at), None);
        }
    }

    pub(super) fn start(&mut self, now: Instant) -> String {
        let at = self.clock.time(now);
        if self.run.is_some() {
            self.abandon_current(at);
            self.end(ExecStatus::Superseded, at);
        }
        let id = uuid_like(&format!("{}#{}", self.name, self.executions.len()));
        let revisions = self.latest().map(|e| e.revisions.clone()).unwrap_or_default();
        let trigger = Some("StartPipelineExecution by opsbot".to_owned());
        let (started, updated) = (Some(at), Some(at));
        let status = ExecStatus::InProgress;
        self.executions.push(Execution { id: id.clone(), status, started, updated, trigger, revisions });
        self.run = Some(SimRun { execution: id.clone(), stage: 0, action: 0, due: None, stopping: false });
        self.enter_first(now);
        id
    }

    fn enter_first(&mut self, now: Instant) {
        match self.stages.iter().position(|s| !s.actions.is_empty()) {
            Some(stage) => self.enter(stage, 0, now),
            None => self.end(ExecStatus::Succeeded, self.clock.time(now)),
        }
    }

    pub(super) fn retry(&mut self, stage: usize, id: &str, now: Instant) -> bool {
        let sim = &self.stages[stage];
        let failed = sim.actions.iter().position(|a| a.status == Some(ExecStatus::Failed));
        let (Some(action), true, None) = (failed, sim.execution_id.as_deref() == Some(id), &self.run) else {
            return false;
        };
        if stage_status(&sim.actions) != Some(ExecStatus::Failed) {
            return false;
        }
        self.touch(id, Some(ExecStatus::InProgress), self.clock.time(now));
        self.run = Some(SimRun { execution: id.into(), stage, action, due: None, stopping: false });
        self.enter(stage, action, now);
        true
    }

    pub(super) fn stop(&mut self, id: &str, abandon: bool, now: Instant) -> bool {
        let Some(run) = self.run.as_mut().filter(|r| r.execution == id && (abandon || !r.stopping)) else {
            return false;
        };
        let at = self.clock.time(now);
        if abandon || run.due.is_none() {
            self.abandon_current(at);
            self.end(ExecStatus::Stopped, at);
        } else {
            run.stopping = true;
            self.touch(id, Some(ExecStatus::Stopping), at);
        }
        true
    }

    pub(super) fn decide(
        &mut self,
        at: (usize, usize),
        token: &str,
        decision: ApprovalDecision,
        summary: &str,
        now: Instant,
    ) -> bool {
        let (stage, action) = at;
        let current = self.run.as_ref().is_some_and(|r| (r.stage, r.action, r.due) == (stage, action, None));
        let sim = &mut self.stages[stage].actions[action];
        if !current || !sim.awaits_approval() || sim.token.as_deref() != Some(token) {
            return false;
        }
        let when = self.clock.time(now);
        (sim.summary, sim.token, sim.last_change) = (Some(summary.to_owned()), None, Some(when));
        match decision {
            ApprovalDecision::Approve => {
                sim.status = Some(ExecStatus::Succeeded);
                self.enter_next(stage, action, now);
            }
            ApprovalDecision::Reject => {
                sim.status = Some(ExecStatus::Failed);
                sim.error = Some(ActionError { code: Some("Rejected".into()), message: summary.to_owned() });
                self.end(ExecStatus::Failed, when);
            }
        }
        true
    }
}

/// A deterministic id shaped like CodePipeline's (a UUID) from `seed`.
fn uuid_like(seed: &str) -> String {
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
