//! `pipeline retry NAME STAGE [--execution ID] [--timeout 90m]`: retry the failed actions of a
//! failed stage (RetryStageExecution, FAILED_ACTIONS) in the execution that
//! failed there, then follow that execution like `pipeline start` does.
//!
//! Need: a stage that did not fail has nothing to retry, and a stage the
//! pipeline does not have is named back with the ones it has. The stage name
//! is matched without regard to case and sent as the pipeline spells it.
//! The execution retried is the stage's latest (GetPipelineState), which may
//! be older than the pipeline's latest. If the stage moved on meanwhile AWS
//! refuses and the reply says so.
//!
//! The target is pinned: the plan writes the execution whose failure it
//! showed into the line that is confirmed, approved and run (`pipeline retry
//! web Build --execution E`). If the stage has failed since in another
//! execution, nothing is retried ("stage Build failed now in execution X,
//! not E you reviewed — ask again", [`Verdict::Moved`]); if it no longer
//! failed, there is nothing to retry.

use std::time::Duration;

use async_trait::async_trait;

use crate::change::{ChangeCommand, Outcome, Plan, Progress, Verdict};
use crate::command::{Body, CommandDef};
use crate::context::Context;
use crate::error::{GatewayError, GatewayResult, UsageError};
use crate::mrkdwn::esc;
use crate::ports::{Applied, ExecStatus, Gateways, PipelineState, StageState, Time};
use crate::spec::{Spec, expect_args};
use crate::text::{ago, one_line, truncate};
use crate::values::PipelineName;

use super::memo::Memo;
use super::pipeline_args as args;
use super::pipeline_follow::{self as follow, Goal, Run, Tracked, Tracking, short, too_late};

pub const SPEC: Spec = Spec {
    name: "pipeline retry",
    args: "NAME STAGE [--execution ID] [--timeout 90m]",
    summary: "Retry the failed actions of a pipeline's failed stage, then follow the execution",
    example: "pipeline retry storefront-web Build",
    changes: true,
    alias: None,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineRetry {
    pub name: PipelineName,
    pub stage: String,
    pub timeout: Duration,
    /// The execution whose failure to retry, when named (or pinned).
    pub execution: Option<String>,
    /// The execution the plan showed.
    planned: Memo<String>,
    tracking: Tracking,
}

impl CommandDef for PipelineRetry {
    const SPEC: &'static Spec = &SPEC;

    fn parse(args: &[String]) -> Result<Self, UsageError> {
        let (args, timeout) = args::take_timeout(args)?;
        let (args, execution) = args::take_execution(&args)?;
        args::no_other_options(&args, &[])?;
        expect_args(&SPEC, &args, 2, 2)?;
        Ok(PipelineRetry {
            name: PipelineName::parse(&args[0])?,
            stage: args::stage_or_action("stage name", &args[1])?,
            timeout,
            execution,
            planned: Memo::default(),
            tracking: Tracking::default(),
        })
    }

    fn policy_args(&self) -> Vec<(&'static str, String)> {
        vec![("pipeline", self.name.to_string()), ("stage", self.stage.clone())]
    }

    fn body(&self) -> Body<'_> {
        Body::Change(self)
    }
}

impl PipelineRetry {
    /// The stage as the pipeline spells it, or why there is nothing to retry.
    fn failed_stage<'a>(&self, state: &'a PipelineState) -> Result<&'a StageState, Verdict> {
        let Some(stage) = state.stages.iter().find(|s| s.name.eq_ignore_ascii_case(&self.stage)) else {
            let names: Vec<&str> = state.stages.iter().map(|s| s.name.as_str()).collect();
            let why = format!("{} has no stage {} — its stages are {}", self.name, self.stage, names.join(", "));
            return Err(Verdict::NoOp(why));
        };
        match (&stage.status, &stage.execution_id, &self.execution) {
            (Some(ExecStatus::Failed), Some(now), Some(want)) if now != want => Err(Verdict::Moved(format!(
                "stage {} failed now in execution {}, not {} you reviewed — ask again",
                stage.name,
                short(now),
                short(want)
            ))),
            (Some(ExecStatus::Failed), Some(_), _) => Ok(stage),
            _ => Err(Verdict::NoOp(format!("stage {} did not fail — nothing to retry", stage.name))),
        }
    }
}

#[async_trait]
impl ChangeCommand for PipelineRetry {
    async fn plan(&self, ctx: &Context, aws: &Gateways) -> GatewayResult<Plan> {
        let state = aws.pipelines.state(&self.name).await?;
        let stage = match self.failed_stage(&state) {
            Ok(stage) => stage,
            Err(verdict) => return Ok(Plan { lines: vec![], verdict }),
        };
        let id = stage.execution_id.as_deref().unwrap_or_default();
        self.planned.keep(id.to_owned());
        let mut lines =
            vec![format!("*{}*: retry the failed actions of *{}* in execution `{}`", self.name, stage.name, short(id))];
        lines.extend(failed_actions(ctx.now, stage));
        Ok(Plan { lines, verdict: Verdict::Ready })
    }

    fn pinned(&self) -> Option<String> {
        let (execution, timeout) = (self.planned.get()?, args::timeout_words(self.timeout, follow::DEFAULT_TIMEOUT));
        Some(format!("{} {} {} {} {execution}{timeout}", SPEC.name, self.name, self.stage, args::EXECUTION))
    }

    async fn act(&self, _ctx: &Context, aws: &Gateways) -> GatewayResult<Outcome> {
        let state = aws.pipelines.state(&self.name).await?;
        let (stage, id) = match self.failed_stage(&state) {
            Ok(stage) => (stage.name.clone(), stage.execution_id.clone().unwrap_or_default()),
            Err(Verdict::Moved(why)) => return Err(GatewayError::moved(why)),
            Err(verdict) => return Ok(too_late(&self.tracking, &format!("Not retried: {}.", follow::why(&verdict)))),
        };
        let receipt = match aws.pipeline_changes.retry_stage(&self.name, &stage, &id).await? {
            Applied::Done(receipt) => receipt,
            Applied::TooLate => {
                let why =
                    format!("stage {stage} can no longer be retried (retried elsewhere, or the pipeline changed)");
                return Ok(too_late(&self.tracking, &format!("Not retried: {why}.")));
            }
        };
        let since = tokio::time::Instant::now();
        self.tracking.keep(Tracked::Run(Run { execution: id.clone(), since, answered: None }));
        Ok(Outcome {
            lines: vec![format!("Retrying *{}* of *{}* in execution `{}`.", stage, self.name, short(&id))],
            aws_request_ids: receipt.request_id.into_iter().collect(),
            follow: Some(follow::follow(self.timeout)),
        })
    }

    async fn check(&self, _ctx: &Context, aws: &Gateways, _outcome: &Outcome) -> GatewayResult<Progress> {
        follow::check(aws, &self.name, &self.tracking, Goal::Finish, self.timeout).await
    }

    fn progress(&self) -> Option<String> {
        self.tracking.progress(SPEC.name, &self.name)
    }

    fn resume(&self, progress: &str) -> Result<(), String> {
        self.tracking.resume(SPEC.name, &self.name, progress)
    }
}

/// `• Build failed 19m ago: JobFailed — Build failed: ...` per failed action.
fn failed_actions(now: Time, stage: &StageState) -> impl Iterator<Item = String> + '_ {
    stage.actions.iter().filter(|a| a.status == Some(ExecStatus::Failed)).map(move |a| {
        let when = a.last_change.map(|at| format!(" {}", ago(now, at))).unwrap_or_default();
        let error = a.error.as_ref().map_or(String::new(), |e| {
            let code = e.code.as_deref().map(|c| format!("{c} — ")).unwrap_or_default();
            format!(": {}", esc(&truncate(&one_line(&format!("{code}{}", e.message)), 200)))
        });
        format!("• {} failed{when}{error}", a.name)
    })
}

#[cfg(test)]
#[path = "pipeline_retry_tests.rs"]
mod tests;
