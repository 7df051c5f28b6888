//! CodePipeline in the sandbox: pipelines with their executions and the
//! stage/action state `GetPipelineState` would report; `pipeline_runs.rs`
//! moves executions along, and `pipelines/ports.rs` puts them behind the
//! `Pipelines` and `PipelineChanges` ports.
//!
//! A stage's status is derived from its actions ([`stage_status`]) rather than
//! stored, so progressing an action (an approval granted, a retry) cannot leave
//! its stage saying something else. Every port call first brings the
//! pipeline up to the present ([`SimPipeline::advance`]), so readers see
//! progress without a background task.

use opsbot_commands::ports::{ActionState, ExecStatus, Execution, PipelineState, PipelineSummary, StageState, Time};
use opsbot_commands::values::PipelineName;
use tokio::time::Instant;

#[path = "pipeline_runs.rs"]
mod runs;
pub use runs::{SimClock, SimRun};
mod ports;
mod progress;
mod told;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimPipeline {
    pub name: PipelineName,
    /// Every execution, oldest first: the last one is the latest.
    pub executions: Vec<Execution>,
    /// Stages in order, each with its actions' latest state.
    pub stages: Vec<SimStage>,
    /// The execution moving through the stages now, if any.
    pub run: Option<SimRun>,
    /// Where account time comes from for progress.
    pub clock: SimClock,
    /// What callers asked for, in words (stop reasons, approval summaries).
    pub log: Vec<String>,
    /// The events of its executions' moves not yet delivered (see `told.rs`).
    pub told: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimStage {
    pub name: String,
    pub actions: Vec<ActionState>,
    /// The execution its actions' state belongs to.
    pub execution_id: Option<String>,
}

impl SimPipeline {
    /// A pipeline as seeded at `now`: stages the latest execution reached
    /// belong to it; if it is in progress it goes on from its first action
    /// in progress (waiting there if that is a manual approval).
    pub fn seeded(name: PipelineName, now: Time, executions: Vec<Execution>, stages: Vec<SimStage>) -> Self {
        let mut pipeline = SimPipeline {
            name,
            executions,
            stages,
            run: None,
            clock: SimClock::starting(now),
            log: Vec::new(),
            told: Vec::new(),
        };
        let Some(latest) = pipeline.latest().cloned() else { return pipeline };
        for stage in pipeline.stages.iter_mut().filter(|s| s.actions.iter().any(|a| a.status.is_some())) {
            stage.execution_id = Some(latest.id.clone());
        }
        if latest.status == ExecStatus::InProgress {
            pipeline.resume(&latest.id, Instant::now());
        }
        pipeline
    }

    pub fn latest(&self) -> Option<&Execution> {
        self.executions.last()
    }

    fn summary(&self) -> PipelineSummary {
        PipelineSummary { name: self.name.clone(), latest: self.latest().cloned() }
    }

    fn state(&self) -> PipelineState {
        let stages = self
            .stages
            .iter()
            .map(|s| StageState {
                name: s.name.clone(),
                status: stage_status(&s.actions),
                actions: s.actions.clone(),
                execution_id: s.execution_id.clone(),
            })
            .collect();
        PipelineState { name: self.name.clone(), latest: self.latest().cloned(), stages }
    }
}

/// A stage's status as CodePipeline reports it: failed or in progress if any
/// action is, succeeded when every action that ran succeeded, `None` when
/// none ran.
pub fn stage_status(actions: &[ActionState]) -> Option<ExecStatus> {
    let statuses: Vec<&ExecStatus> = actions.iter().filter_map(|a| a.status.as_ref()).collect();
    for urgent in [ExecStatus::Failed, ExecStatus::InProgress, ExecStatus::Stopped, ExecStatus::Abandoned] {
        if statuses.contains(&&urgent) {
            return Some(urgent);
        }
    }
    statuses.last().map(|s| (*s).clone())
}
