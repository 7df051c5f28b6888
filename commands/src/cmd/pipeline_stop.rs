//! `pipeline stop NAME [--execution ID] [--abandon]`: stop the execution in progress
//! (StopPipelineExecution). Without `--abandon` its in-progress actions finish
//! and nothing after them starts; with it they are abandoned. The reason AWS
//! keeps names the Slack user. Verify: follow until the execution is Stopped.
//!
//! Need: nothing in progress → nothing to do; an execution already stopping
//! needs `--abandon` to change anything. Which execution: the one GetPipelineState
//! shows in progress — the latest, or an older one still waiting further on.
//! If several are in progress (queued or parallel mode) none is picked:
//! the plan refuses and names them, unless `--execution` names one.
//!
//! The target is pinned: the plan writes the execution it showed into the
//! line that is confirmed, approved and run (`pipeline stop web --execution
//! E`). If that execution is no longer running when the change runs, nothing
//! is stopped — not the one running now, which nobody reviewed: "execution E
//! you reviewed is no longer running; running now: X — ask again"
//! ([`Verdict::Moved`]), or nothing to do when none runs.

use async_trait::async_trait;

use crate::change::{ChangeCommand, Outcome, Plan, Progress, Verdict};
use crate::command::{Body, CommandDef};
use crate::context::Context;
use crate::error::{GatewayError, GatewayResult, UsageError};
use crate::ports::{Applied, ExecStatus, Gateways, PipelineState};
use crate::spec::{Spec, expect_args};
use crate::text::truncate;
use crate::values::PipelineName;

use super::memo::Memo;
use super::pipeline_args as args;
use super::pipeline_follow::{self as follow, DEFAULT_TIMEOUT, Goal, Run, Tracked, Tracking, short, too_late};

pub const SPEC: Spec = Spec {
    name: "pipeline stop",
    args: "NAME [--execution ID] [--abandon]",
    summary: "Stop a pipeline's running execution (in-progress actions finish, or with --abandon are abandoned)",
    example: "pipeline stop payments-api",
    changes: true,
    alias: None,
};

/// StopPipelineExecution's limit on the reason.
const REASON_MAX: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineStop {
    pub name: PipelineName,
    pub abandon: bool,
    /// The execution to stop, when named (or pinned).
    pub execution: Option<String>,
    /// The execution the plan showed.
    planned: Memo<String>,
    tracking: Tracking,
}

/// The execution in progress and whether it is already stopping.
struct Running {
    id: String,
    stopping: bool,
    at: Option<String>,
}

impl CommandDef for PipelineStop {
    const SPEC: &'static Spec = &SPEC;

    fn parse(args: &[String]) -> Result<Self, UsageError> {
        let (args, execution) = args::take_execution(args)?;
        args::no_other_options(&args, &["--abandon"])?;
        let abandon = args.iter().any(|a| a == "--abandon");
        let rest: Vec<String> = args.iter().filter(|a| *a != "--abandon").cloned().collect();
        expect_args(&SPEC, &rest, 1, 1)?;
        let (planned, tracking) = (Memo::default(), Tracking::default());
        Ok(PipelineStop { name: PipelineName::parse(&rest[0])?, abandon, execution, planned, tracking })
    }

    fn policy_args(&self) -> Vec<(&'static str, String)> {
        vec![("pipeline", self.name.to_string())]
    }

    fn body(&self) -> Body<'_> {
        Body::Change(self)
    }
}

impl PipelineStop {
    /// The one execution to stop, or why there is none.
    fn target(&self, state: &PipelineState) -> Result<Running, Verdict> {
        let mut running = in_progress(state);
        if let Some(want) = &self.execution {
            running = self.pinned_to(want, running)?;
        }
        match running.as_slice() {
            [] => Err(Verdict::NoOp(format!("nothing is running in {} — nothing to stop", self.name))),
            [one] if one.stopping && !self.abandon => Err(Verdict::NoOp(format!(
                "execution {} is already stopping; add --abandon to abandon its in-progress actions",
                short(&one.id)
            ))),
            [_] => Ok(running.into_iter().next().expect("one")),
            many => {
                let ids: Vec<String> = many.iter().map(|r| format!("`{}`", short(&r.id))).collect();
                Err(Verdict::Unsafe(vec![format!(
                    "{} executions of {} are in progress ({}); stop the one you mean in the CodePipeline console",
                    many.len(),
                    self.name,
                    ids.join(", ")
                )]))
            }
        }
    }

    /// Only the execution named, or why it cannot be stopped now.
    fn pinned_to(&self, want: &str, running: Vec<Running>) -> Result<Vec<Running>, Verdict> {
        if running.iter().any(|r| r.id == want) {
            return Ok(running.into_iter().filter(|r| r.id == want).collect());
        }
        if running.is_empty() {
            let why = format!("execution {} of {} is no longer running — nothing to stop", short(want), self.name);
            return Err(Verdict::NoOp(why));
        }
        let now: Vec<String> = running.iter().map(|r| short(&r.id).to_string()).collect();
        Err(Verdict::Moved(format!(
            "execution {} you reviewed is no longer running; running now: {} — ask again",
            short(want),
            now.join(", ")
        )))
    }

    fn reason(ctx: &Context) -> String {
        truncate(&format!("Stopped by {} via opsbot", args::slack_user(ctx)), REASON_MAX)
    }
}

/// Executions in progress, newest first: the latest, then any other a stage shows running.
fn in_progress(state: &PipelineState) -> Vec<Running> {
    let busy = |s: &Option<ExecStatus>| matches!(s, Some(ExecStatus::InProgress | ExecStatus::Stopping));
    let mut out: Vec<Running> = Vec::new();
    if let Some(latest) = state.latest.as_ref().filter(|e| busy(&Some(e.status.clone()))) {
        out.push(Running { id: latest.id.clone(), stopping: latest.status == ExecStatus::Stopping, at: None });
    }
    for stage in state.stages.iter().filter(|s| busy(&s.status)) {
        let Some(id) = &stage.execution_id else { continue };
        match out.iter_mut().find(|r| &r.id == id) {
            Some(known) => {
                known.at.get_or_insert_with(|| stage.name.clone());
            }
            None => out.push(Running {
                id: id.clone(),
                stopping: stage.status == Some(ExecStatus::Stopping),
                at: Some(stage.name.clone()),
            }),
        }
    }
    out
}

#[async_trait]
impl ChangeCommand for PipelineStop {
    async fn plan(&self, ctx: &Context, aws: &Gateways) -> GatewayResult<Plan> {
        let state = aws.pipelines.state(&self.name).await?;
        let running = match self.target(&state) {
            Ok(running) => running,
            Err(verdict) => return Ok(Plan { lines: vec![], verdict }),
        };
        self.planned.keep(running.id.clone());
        let at = running.at.map(|s| format!(" (at *{s}*)")).unwrap_or_default();
        let how = if self.abandon {
            ":warning: in-progress actions are *abandoned* — a deployment may be left half done"
        } else {
            "in-progress actions finish first; nothing after them starts"
        };
        let lines = vec![
            format!("*{}*: stop execution `{}`{at}", self.name, short(&running.id)),
            how.to_owned(),
            format!("Reason kept by CodePipeline: “{}”", Self::reason(ctx)),
        ];
        Ok(Plan { lines, verdict: Verdict::Ready })
    }

    fn pinned(&self) -> Option<String> {
        let abandon = if self.abandon { " --abandon" } else { "" };
        Some(format!("{} {} {} {}{abandon}", SPEC.name, self.name, args::EXECUTION, self.planned.get()?))
    }

    async fn act(&self, ctx: &Context, aws: &Gateways) -> GatewayResult<Outcome> {
        let state = aws.pipelines.state(&self.name).await?;
        let id = match self.target(&state) {
            Ok(running) => running.id,
            Err(Verdict::Moved(why)) => return Err(GatewayError::moved(why)),
            Err(verdict) => return Ok(too_late(&self.tracking, &format!("Not stopped: {}.", follow::why(&verdict)))),
        };
        let stop = aws.pipeline_changes.stop(&self.name, &id, self.abandon, &Self::reason(ctx)).await?;
        let Applied::Done(receipt) = stop else {
            let why = format!("Not stopped: execution `{}` is no longer running or already stopping.", short(&id));
            return Ok(too_late(&self.tracking, &why));
        };
        let since = tokio::time::Instant::now();
        self.tracking.keep(Tracked::Run(Run { execution: id.clone(), since, answered: None }));
        let how =
            if self.abandon { "abandoning its in-progress actions" } else { "letting in-progress actions finish" };
        Ok(Outcome {
            lines: vec![format!("Stopping execution `{}` of *{}*, {how}.", short(&id), self.name)],
            aws_request_ids: receipt.request_id.into_iter().collect(),
            follow: Some(follow::follow(DEFAULT_TIMEOUT)),
        })
    }

    async fn check(&self, _ctx: &Context, aws: &Gateways, _outcome: &Outcome) -> GatewayResult<Progress> {
        follow::check(aws, &self.name, &self.tracking, Goal::Stop, DEFAULT_TIMEOUT).await
    }

    fn progress(&self) -> Option<String> {
        self.tracking.progress(SPEC.name, &self.name)
    }

    fn resume(&self, progress: &str) -> Result<(), String> {
        self.tracking.resume(SPEC.name, &self.name, progress)
    }
}

#[cfg(test)]
#[path = "pipeline_stop_tests.rs"]
mod tests;
