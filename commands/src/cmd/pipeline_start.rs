//! `pipeline start NAME [--timeout 90m]`: start a new execution of a pipeline
//! from its latest source revision (StartPipelineExecution), then follow it
//! stage by stage until it succeeds, fails, is stopped, or waits for an
//! approval.
//!
//! Need: a start always does something, so there is no no-op. Safe: not
//! while an execution is in progress — depending on the pipeline's execution
//! mode a new one would supersede it (abandoning what it was doing) or queue
//! behind it, neither of which someone asking to "start" may expect. The
//! refusal says where the running one is; `--force` (where a policy allows
//! it) starts anyway, and the plan says so.

use std::time::Duration;

use async_trait::async_trait;

use crate::change::{ChangeCommand, Outcome, Plan, Progress, Verdict};
use crate::command::{Body, CommandDef};
use crate::context::Context;
use crate::error::{GatewayResult, UsageError};
use crate::ports::{ExecStatus, Gateways};
use crate::spec::{Spec, expect_args};
use crate::values::PipelineName;

use super::pipeline_args as args;
use super::pipeline_follow::{self as follow, Goal, Run, Tracked, Tracking, short};

pub const SPEC: Spec = Spec {
    name: "pipeline start",
    args: "NAME [--timeout 90m]",
    summary: "Start a pipeline from its latest source revision, then follow it stage by stage",
    example: "pipeline start storefront-web",
    changes: true,
    alias: None,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineStart {
    pub name: PipelineName,
    pub timeout: Duration,
    tracking: Tracking,
}

impl CommandDef for PipelineStart {
    const SPEC: &'static Spec = &SPEC;

    fn parse(args: &[String]) -> Result<Self, UsageError> {
        let (args, timeout) = args::take_timeout(args)?;
        args::no_other_options(&args, &[])?;
        expect_args(&SPEC, &args, 1, 1)?;
        Ok(PipelineStart { name: PipelineName::parse(&args[0])?, timeout, tracking: Tracking::default() })
    }

    fn policy_args(&self) -> Vec<(&'static str, String)> {
        vec![("pipeline", self.name.to_string())]
    }

    fn body(&self) -> Body<'_> {
        Body::Change(self)
    }
}

#[async_trait]
impl ChangeCommand for PipelineStart {
    async fn plan(&self, _ctx: &Context, aws: &Gateways) -> GatewayResult<Plan> {
        let state = aws.pipelines.state(&self.name).await?;
        let lines = vec![format!("*{}*: start a new execution from the latest source revision", self.name)];
        if let Some(latest) = state.latest.as_ref().filter(|e| e.status == ExecStatus::InProgress) {
            let at = follow::waiting_approval(&state, &latest.id, None)
                .map(|at| format!(", waiting for approval at *{at}*"))
                .unwrap_or_default();
            return Ok(Plan {
                lines,
                verdict: Verdict::Unsafe(vec![format!(
                    "execution `{}` is still in progress{at}; a new one would supersede it or queue behind it, \
                     as the pipeline's execution mode says — wait for it, stop it (`pipeline stop {}`), or add \
                     `--force`",
                    short(&latest.id),
                    self.name,
                )]),
            });
        }
        Ok(Plan { lines, verdict: Verdict::Ready })
    }

    async fn act(&self, _ctx: &Context, aws: &Gateways) -> GatewayResult<Outcome> {
        let (id, receipt) = aws.pipeline_changes.start(&self.name).await?;
        self.tracking.keep(Tracked::Run(Run {
            execution: id.clone(),
            since: tokio::time::Instant::now(),
            answered: None,
        }));
        Ok(Outcome {
            lines: vec![format!("Started *{}*: execution `{}`.", self.name, short(&id))],
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

#[cfg(test)]
#[path = "pipeline_start_tests.rs"]
mod tests;
