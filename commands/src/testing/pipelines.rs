//! The fake's CodePipeline changes: every call is recorded in words (the
//! assertions read them), and once a pipeline was changed `state` and
//! `execution` answer scripted states, one per `execution` call (the last one
//! stays) — the way [`super::FakeAws::after_update`] moves an ECS rollout.
//!
//! Recorded calls: `start web`, `retry web Build exec-1`,
//! `stop web exec-1 abandon=false: <reason>`,
//! `approve web ApproveProd/Manual tok-1: <summary>` (`reject ...` alike).

use async_trait::async_trait;

use super::{FakeAws, action, before, execution, stage};
use crate::error::{GatewayError, GatewayResult};
use crate::ports::*;
use crate::values::PipelineName;

/// The id `start` gives the execution it starts.
pub const STARTED_ID: &str = "exec-2";

impl FakeAws {
    /// Adds `state` as a pipeline (replacing one of the same name).
    pub fn with_pipeline_state(mut self, state: PipelineState) -> Self {
        self.pipelines.insert(state.name.to_string(), state);
        self
    }

    /// Once pipeline `name` was changed, `execution` answers these states in
    /// turn (the last one for good) and `state` the current one.
    pub fn after_pipeline_change(self, name: &str, states: Vec<PipelineState>) -> Self {
        let mut states: std::collections::VecDeque<PipelineState> = states.into();
        // Each `execution` call moves on first; the copy makes the first call answer the first state.
        if let Some(first) = states.front().cloned() {
            states.push_front(first);
        }
        self.pipeline_scripts.lock().unwrap().insert(name.into(), states);
        self
    }

    /// From now on, `state` answers `state` for its pipeline (e.g. another
    /// execution reached the stage between the plan and the approval).
    pub fn pipeline_state_now(&self, state: PipelineState) {
        self.pipeline_now.lock().unwrap().insert(state.name.to_string(), state);
    }

    /// Like [`Self::pipeline_state_now`], after `calls` more `state` calls
    /// (e.g. between the last look of a change and its act).
    pub fn pipeline_state_after(&self, calls: usize, state: PipelineState) {
        *self.pipeline_moves.lock().unwrap() = Some((calls, state));
    }

    fn changed(&self, name: &PipelineName) -> bool {
        let prefix = |c: &String| c.split(' ').nth(1) == Some(name.as_str());
        self.pipeline_calls.lock().unwrap().iter().any(prefix)
    }

    fn scripted(&self, name: &PipelineName, advance: bool) -> Option<PipelineState> {
        if !self.changed(name) {
            return None;
        }
        let mut scripts = self.pipeline_scripts.lock().unwrap();
        let states = scripts.get_mut(name.as_str())?;
        if advance && states.len() > 1 {
            states.pop_front();
        }
        states.front().cloned()
    }

    pub(crate) fn pipeline_state(&self, name: &PipelineName) -> GatewayResult<PipelineState> {
        let mut moves = self.pipeline_moves.lock().unwrap();
        match moves.take() {
            Some((0, state)) => self.pipeline_state_now(state),
            Some((left, state)) => *moves = Some((left - 1, state)),
            None => {}
        }
        drop(moves);
        if let Some(state) = self.pipeline_now.lock().unwrap().get(name.as_str()) {
            return Ok(state.clone());
        }
        if let Some(state) = self.scripted(name, false) {
            return Ok(state);
        }
        self.pipelines.get(name.as_str()).cloned().ok_or_else(|| GatewayError::not_found(format!("pipeline `{name}`")))
    }

    /// The pipeline's latest execution when its id is `id` (each call is one step of the script).
    pub(crate) fn pipeline_execution(&self, name: &PipelineName, id: &str) -> GatewayResult<Execution> {
        let state = match self.scripted(name, true) {
            Some(state) => state,
            None => self.pipeline_state(name)?,
        };
        state
            .latest
            .filter(|e| e.id == id)
            .ok_or_else(|| GatewayError::not_found(format!("execution {id} of pipeline `{name}`")))
    }

    fn record(&self, call: String) -> Applied {
        self.pipeline_calls.lock().unwrap().push(call.clone());
        if self.pipeline_too_late && !call.starts_with("start ") {
            return Applied::TooLate;
        }
        Applied::Done(Receipt { request_id: Some(format!("req-{}", call.split(' ').next().unwrap_or_default())) })
    }
}

#[async_trait]
impl PipelineChanges for FakeAws {
    async fn start(&self, name: &PipelineName) -> GatewayResult<(String, Receipt)> {
        self.check()?;
        self.record(format!("start {name}"));
        Ok((STARTED_ID.into(), Receipt { request_id: Some("req-start".into()) }))
    }

    async fn retry_stage(&self, name: &PipelineName, stage: &str, execution_id: &str) -> GatewayResult<Applied> {
        self.check()?;
        Ok(self.record(format!("retry {name} {stage} {execution_id}")))
    }

    async fn stop(
        &self,
        name: &PipelineName,
        execution_id: &str,
        abandon: bool,
        reason: &str,
    ) -> GatewayResult<Applied> {
        self.check()?;
        Ok(self.record(format!("stop {name} {execution_id} abandon={abandon}: {reason}")))
    }

    async fn put_approval(
        &self,
        name: &PipelineName,
        approval: &WaitingApproval,
        decision: ApprovalDecision,
        summary: &str,
    ) -> GatewayResult<Applied> {
        self.check()?;
        let verb = if decision == ApprovalDecision::Approve { "approve" } else { "reject" };
        let WaitingApproval { stage, action, token } = approval;
        Ok(self.record(format!("{verb} {name} {stage}/{action} {token}: {summary}")))
    }
}

/// A pipeline `name` whose latest execution `id` is in `status`, with these stages.
pub fn pipeline_state(name: &str, id: &str, status: ExecStatus, stages: Vec<StageState>) -> PipelineState {
    PipelineState {
        name: PipelineName::parse(name).unwrap(),
        latest: Some(Execution { id: id.into(), ..execution(status, 60) }),
        stages,
    }
}

/// Stage `name` of execution `id` with one action of `category` in `status`
/// (a failed one with a CodeBuild error, a waiting approval with token `tok-<name>`).
pub fn stage_of(id: &str, name: &str, category: ActionCategory, status: Option<ExecStatus>) -> StageState {
    let mut one = action(name, category.clone(), status.clone(), 120);
    if status == Some(ExecStatus::Failed) {
        one.error = Some(ActionError { code: Some("JobFailed".into()), message: "3 tests failed".into() });
    }
    if one.awaits_approval() {
        one.token = Some(format!("tok-{name}"));
        one.last_change = Some(before(600));
    }
    StageState { execution_id: Some(id.into()), ..stage(name, status, vec![one]) }
}

/// `web`: Source → Build → Deploy, every stage last run by execution `id`
/// (which is in `status`), the stages in `stages`.
pub fn web(id: &str, status: ExecStatus, stages: [Option<ExecStatus>; 3]) -> PipelineState {
    let [source, build, deploy] = stages;
    pipeline_state(
        "web",
        id,
        status,
        vec![
            stage_of(id, "Source", ActionCategory::Source, source),
            stage_of(id, "Build", ActionCategory::Build, build),
            stage_of(id, "Deploy", ActionCategory::Deploy, deploy),
        ],
    )
}

/// `pay`: Build → Approve → Deploy; execution `id` waits at `Approve/Approve`
/// (token `tok-Approve`, waiting 10 minutes, with a review link).
pub fn pay(id: &str) -> PipelineState {
    let mut approve = stage_of(id, "Approve", ActionCategory::Approval, Some(ExecStatus::InProgress));
    approve.actions[0].external_url = Some("https://grafana.example/d/canary".into());
    pipeline_state(
        "pay",
        id,
        ExecStatus::InProgress,
        vec![
            stage_of(id, "Build", ActionCategory::Build, Some(ExecStatus::Succeeded)),
            approve,
            stage_of(id, "Deploy", ActionCategory::Deploy, None),
        ],
    )
}

/// The same status for all three stages of [`web`].
pub fn all(status: Option<ExecStatus>) -> [Option<ExecStatus>; 3] {
    [status.clone(), status.clone(), status]
}
