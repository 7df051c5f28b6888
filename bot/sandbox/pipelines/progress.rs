//! How a pipeline's execution moves along: every action due by now is
//! finished and the next entered, on the pipeline's own clock; starting,
//! resuming after an approval, and ending an execution. The data (runs,
//! clock, timings) is in `pipeline_runs.rs`.

use opsbot_commands::ports::{ActionCategory, ActionError, ApprovalDecision, ExecStatus, Execution, Time};
use serde_json::json;
use tokio::time::Instant;

use super::runs::{SimRun, takes, uuid_like};
use super::{SimPipeline, stage_status};

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
        let stage_done = self.succeeded(&run.execution, (run.stage, run.action), at);
        if run.stopping {
            if !stage_done {
                self.tell_stage(&run.execution, run.stage, "STOPPED", at);
            }
            return self.end(ExecStatus::Stopped, at);
        }
        self.enter_next(run.stage, run.action, due);
    }

    /// Tells that `(stage, action)` succeeded, and its stage with it when it
    /// was the stage's last action (returned).
    fn succeeded(&mut self, execution: &str, (stage, action): (usize, usize), at: Time) -> bool {
        self.tell_action(execution, (stage, action), "SUCCEEDED", at);
        let last = action + 1 == self.stages[stage].actions.len();
        if last {
            self.tell_stage(execution, stage, "SUCCEEDED", at);
        }
        last
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
        if action == 0 {
            self.tell_stage(&id, stage, "STARTED", at);
        }
        self.tell_action(&id, (stage, action), "STARTED", at);
    }

    /// Execution `id` ends `status` at `at`.
    fn end(&mut self, status: ExecStatus, at: Time) {
        if let Some(run) = self.run.take() {
            let word = match &status {
                ExecStatus::Succeeded => "SUCCEEDED",
                ExecStatus::Failed => "FAILED",
                ExecStatus::Stopped => "STOPPED",
                _ => "SUPERSEDED",
            };
            self.touch(&run.execution, Some(status), at);
            self.tell_execution(&run.execution, word, at, json!({}));
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
        if let Some(run) = self.run.clone() {
            let action = &mut self.stages[run.stage].actions[run.action];
            (action.status, action.last_change, action.token) = (Some(ExecStatus::Abandoned), Some(at), None);
            self.tell_action(&run.execution, (run.stage, run.action), "ABANDONED", at);
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
        let trigger = json!({"trigger-type": "StartPipelineExecution", "trigger-detail": "opsbot"});
        self.tell_execution(&id, "STARTED", at, json!({"execution-trigger": trigger}));
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
        let at = self.clock.time(now);
        self.touch(id, Some(ExecStatus::InProgress), at);
        self.tell_execution(id, "RESUMED", at, json!({}));
        if action > 0 {
            self.tell_stage(id, stage, "RESUMED", at);
        }
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
            let stage = run.stage;
            self.abandon_current(at);
            self.tell_stage(id, stage, "STOPPED", at);
            self.end(ExecStatus::Stopped, at);
        } else {
            run.stopping = true;
            self.touch(id, Some(ExecStatus::Stopping), at);
            self.tell_execution(id, "STOPPING", at, json!({}));
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
        let execution = self.run.as_ref().map(|r| r.execution.clone()).unwrap_or_default();
        let sim = &mut self.stages[stage].actions[action];
        if !current || !sim.awaits_approval() || sim.token.as_deref() != Some(token) {
            return false;
        }
        let when = self.clock.time(now);
        (sim.summary, sim.token, sim.last_change) = (Some(summary.to_owned()), None, Some(when));
        match decision {
            ApprovalDecision::Approve => {
                sim.status = Some(ExecStatus::Succeeded);
                self.succeeded(&execution, at, when);
                self.enter_next(stage, action, now);
            }
            ApprovalDecision::Reject => {
                sim.status = Some(ExecStatus::Failed);
                sim.error = Some(ActionError { code: Some("Rejected".into()), message: summary.to_owned() });
                self.tell_action(&execution, at, "FAILED", when);
                self.tell_stage(&execution, stage, "FAILED", when);
                self.end(ExecStatus::Failed, when);
            }
        }
        true
    }
}
