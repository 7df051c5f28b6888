//! `pipeline approve NAME [STAGE/ACTION] [--execution ID] [comment]` — and, sharing this
//! file's [`PipelineDecision`], `pipeline reject` — answer a manual approval
//! (PutApprovalResult) with a summary naming the Slack user:
//! "Approved by Dana (U0DEV) via opsbot: <comment>". Verify: an approval is
//! followed like `pipeline start` (so people watch it deploy), a rejection
//! until the execution has ended.
//!
//! # Decisions
//! - The token comes from GetPipelineState, read again at `act`: the plan may
//!   wait for a second person, and a token read then may be stale by now.
//! - Need: no approval waiting → nothing to do. Several waiting and none
//!   named → refused, listing them with the command that names each.
//! - A token AWS no longer takes (InvalidApprovalToken,
//!   ApprovalAlreadyCompleted) ends the change with "already decided elsewhere
//!   or expired", never as an internal error.
//! - `STAGE/ACTION` is the second word when it holds a `/`; `--execution ID`
//!   may follow it; the rest is the comment (free text: an `--execution`
//!   inside it is words). Names match without regard to case and go to AWS
//!   as the pipeline spells them.
//! - The target is pinned: the plan's pick — stage/action and the execution
//!   the waiting approval (its token) belongs to — is written into the line
//!   that is confirmed, approved and run (`pipeline approve pay
//!   Approve/Approve --execution E comment`), so the parameters hash binds
//!   it. If, when it runs, the approval waiting there belongs to another
//!   execution (a newer revision reached the stage), nothing is answered:
//!   "the approval now waiting belongs to execution X, not Y you reviewed —
//!   ask again" ([`Verdict::Moved`]). The token itself is read again at
//!   `act` and never kept: a retried stage of the same execution has a new
//!   one, and that is still what was reviewed.

use async_trait::async_trait;

use crate::change::{ChangeCommand, Outcome, Plan, Progress, Verdict};
use crate::command::{Body, CommandDef};
use crate::context::Context;
use crate::error::{GatewayError, GatewayResult, UsageError};
use crate::mrkdwn::esc;
use crate::ports::{Applied, ApprovalDecision, Gateways, PipelineState, WaitingApproval};
use crate::spec::{Spec, expect_args, quoted};
use crate::text::{ago, link, truncate};
use crate::values::PipelineName;

use super::memo::Memo;
use super::pipeline_args as args;
use super::pipeline_follow::{self as follow, DEFAULT_TIMEOUT, Goal, Run, Tracked, Tracking, short, too_late};

pub const SPEC: Spec = Spec {
    name: "pipeline approve",
    args: "NAME [STAGE/ACTION] [--execution ID] [comment]",
    summary: "Approve a pipeline's manual approval (your name goes into its summary), then follow the execution",
    example: "pipeline approve payments-api looks good on staging",
    changes: true,
    alias: None,
};

/// Room left for the comment in PutApprovalResult's 512-character summary.
const COMMENT_MAX: usize = 300;
const SUMMARY_MAX: usize = 512;

/// An approval answered from chat: approve or reject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineDecision {
    pub decision: ApprovalDecision,
    pub name: PipelineName,
    /// `(stage, action)` when named.
    pub at: Option<(String, String)>,
    pub comment: Option<String>,
    /// The execution whose approval this answers, when named (or pinned).
    pub execution: Option<String>,
    /// What the plan picked: stage, action and execution.
    picked: Memo<(String, String, String)>,
    tracking: Tracking,
    /// `pipeline approve` or `pipeline reject`: whose progress this keeps.
    spec_name: &'static str,
}

/// A waiting approval with what the plan shows of it.
struct Waiting<'a> {
    approval: WaitingApproval,
    execution: Option<String>,
    action: &'a crate::ports::ActionState,
}

impl CommandDef for PipelineDecision {
    const SPEC: &'static Spec = &SPEC;

    fn parse(args: &[String]) -> Result<Self, UsageError> {
        Self::parse_as(&SPEC, ApprovalDecision::Approve, args)
    }

    fn policy_args(&self) -> Vec<(&'static str, String)> {
        self.decision_args()
    }

    fn body(&self) -> Body<'_> {
        Body::Change(self)
    }
}

impl PipelineDecision {
    /// What the policy engine matches on, for `pipeline approve` and `pipeline reject` alike.
    pub(super) fn decision_args(&self) -> Vec<(&'static str, String)> {
        let at = self.at.iter().flat_map(|(s, a)| [("stage", s.clone()), ("action", a.clone())]);
        [("pipeline", self.name.to_string())].into_iter().chain(at).collect()
    }

    pub(super) fn parse_as(
        spec: &'static Spec,
        decision: ApprovalDecision,
        args: &[String],
    ) -> Result<Self, UsageError> {
        expect_args(spec, args, 1, usize::MAX)?;
        let name = PipelineName::parse(&args[0])?;
        let mut rest = &args[1..];
        let mut at = None;
        if let Some((stage, action)) = rest.first().and_then(|w| w.split_once('/')) {
            at = Some((args::stage_or_action("stage name", stage)?, args::stage_or_action("action name", action)?));
            rest = &rest[1..];
        }
        let (execution, rest) = leading_execution(rest)?;
        let comment = rest.join(" ").trim().to_owned();
        if comment.chars().count() > COMMENT_MAX {
            return Err(UsageError::new(format!("the comment is too long: keep it under {COMMENT_MAX} characters")));
        }
        let comment = (!comment.is_empty()).then_some(comment);
        let (picked, tracking) = (Memo::default(), Tracking::default());
        Ok(PipelineDecision { decision, name, at, comment, execution, picked, tracking, spec_name: spec.name })
    }

    fn words(&self) -> (&'static str, &'static str) {
        match self.decision {
            ApprovalDecision::Approve => ("approve", "Approved"),
            ApprovalDecision::Reject => ("reject", "Rejected"),
        }
    }

    /// What AWS keeps with the decision.
    fn summary(&self, ctx: &Context) -> String {
        let comment = self.comment.as_deref().map(|c| format!(": {c}")).unwrap_or_default();
        truncate(&format!("{} by {} via opsbot{comment}", self.words().1, args::slack_user(ctx)), SUMMARY_MAX)
    }

    /// The approval to answer, or why there is none to pick.
    fn pick<'a>(&self, state: &'a PipelineState) -> Result<Waiting<'a>, Verdict> {
        let (verb, name) = (self.words().0, &self.name);
        let mut waiting = waiting(state);
        let listed = |all: &[Waiting]| {
            let at = |w: &Waiting| format!("`pipeline {verb} {name} {}/{}`", w.approval.stage, w.approval.action);
            all.iter().map(at).collect::<Vec<_>>().join(", ")
        };
        if waiting.is_empty() {
            return Err(Verdict::NoOp(format!("no approval is waiting in {name} — nothing to {verb}")));
        }
        match &self.at {
            Some((stage, action)) => {
                let same = |w: &Waiting| {
                    w.approval.stage.eq_ignore_ascii_case(stage) && w.approval.action.eq_ignore_ascii_case(action)
                };
                match waiting.iter().position(same) {
                    Some(found) => self.pinned_to(waiting.swap_remove(found)),
                    None => Err(Verdict::NoOp(format!(
                        "{stage}/{action} is not waiting for a decision; waiting: {}",
                        listed(&waiting)
                    ))),
                }
            }
            None if waiting.len() == 1 => self.pinned_to(waiting.remove(0)),
            None => Err(Verdict::Unsafe(vec![format!(
                "{} approvals are waiting in {name} — name the one you mean: {}",
                waiting.len(),
                listed(&waiting)
            )])),
        }
    }
}

impl PipelineDecision {
    /// `found`, unless the execution named is another one.
    fn pinned_to<'a>(&self, found: Waiting<'a>) -> Result<Waiting<'a>, Verdict> {
        let now = found.execution.as_deref().unwrap_or("unknown");
        match &self.execution {
            Some(want) if want != now => Err(Verdict::Moved(format!(
                "the approval now waiting at {}/{} belongs to execution {}, not {} you reviewed — ask again",
                found.approval.stage,
                found.approval.action,
                short(now),
                short(want)
            ))),
            _ => Ok(found),
        }
    }
}

/// `--execution ID` (or `--execution=ID`) where it may stand: first, before the comment.
fn leading_execution(rest: &[String]) -> Result<(Option<String>, &[String]), UsageError> {
    let Some(first) = rest.first() else { return Ok((None, rest)) };
    match first.strip_prefix(args::EXECUTION) {
        Some("") => match rest.get(1) {
            Some(id) => Ok((Some(args::execution_id(id)?), &rest[2..])),
            None => Err(args::needs_an_id()),
        },
        Some(eq) if eq.starts_with('=') => Ok((Some(args::execution_id(&eq[1..])?), &rest[1..])),
        _ => Ok((None, rest)),
    }
}

/// Every manual approval waiting for a decision, in stage order.
fn waiting(state: &PipelineState) -> Vec<Waiting<'_>> {
    let mut out = Vec::new();
    for stage in &state.stages {
        for action in stage.actions.iter().filter(|a| a.awaits_approval()) {
            let Some(token) = action.token.clone() else { continue };
            let approval = WaitingApproval { stage: stage.name.clone(), action: action.name.clone(), token };
            let execution = stage.execution_id.clone().or_else(|| state.latest.as_ref().map(|e| e.id.clone()));
            out.push(Waiting { approval, execution, action });
        }
    }
    out
}

#[async_trait]
impl ChangeCommand for PipelineDecision {
    async fn plan(&self, ctx: &Context, aws: &Gateways) -> GatewayResult<Plan> {
        let state = aws.pipelines.state(&self.name).await?;
        let pick = match self.pick(&state) {
            Ok(pick) => pick,
            Err(verdict) => return Ok(Plan { lines: vec![], verdict }),
        };
        let execution = pick.execution.clone().unwrap_or_default();
        self.picked.keep((pick.approval.stage.clone(), pick.approval.action.clone(), execution));
        Ok(Plan { lines: self.plan_lines(ctx, &state, &pick), verdict: Verdict::Ready })
    }

    fn pinned(&self) -> Option<String> {
        let (stage, action, execution) = self.picked.get().filter(|(.., e)| !e.is_empty())?;
        let comment = self.comment.as_deref().map(|c| format!(" {}", quoted(c))).unwrap_or_default();
        let verb = self.words().0;
        Some(format!("pipeline {verb} {} {stage}/{action} {} {execution}{comment}", self.name, args::EXECUTION))
    }

    async fn act(&self, ctx: &Context, aws: &Gateways) -> GatewayResult<Outcome> {
        let (_, done) = self.words();
        let state = aws.pipelines.state(&self.name).await?;
        let pick = match self.pick(&state) {
            Ok(pick) => pick,
            Err(Verdict::Unsafe(why)) => {
                return Ok(too_late(&self.tracking, &format!("Not {}: {}.", done.to_lowercase(), why.join("; "))));
            }
            Err(Verdict::Moved(why)) => return Err(GatewayError::moved(why)),
            Err(_) => return Ok(too_late(&self.tracking, &gone(done, None))),
        };
        let at = format!("{}/{}", pick.approval.stage, pick.approval.action);
        let summary = self.summary(ctx);
        let answer = aws.pipeline_changes.put_approval(&self.name, &pick.approval, self.decision, &summary).await?;
        let Applied::Done(receipt) = answer else { return Ok(too_late(&self.tracking, &gone(done, Some(&at)))) };
        let execution = pick.execution.unwrap_or_default();
        let answered = Some((pick.approval.token.clone(), at.clone()));
        let since = tokio::time::Instant::now();
        self.tracking.keep(Tracked::Run(Run { execution: execution.clone(), since, answered }));
        Ok(Outcome {
            lines: vec![format!("{done} *{at}* of *{}* (execution `{}`).", self.name, short(&execution))],
            aws_request_ids: receipt.request_id.into_iter().collect(),
            follow: Some(follow::follow(DEFAULT_TIMEOUT)),
        })
    }

    async fn check(&self, _ctx: &Context, aws: &Gateways, _outcome: &Outcome) -> GatewayResult<Progress> {
        let goal = if self.decision == ApprovalDecision::Approve { Goal::Finish } else { Goal::Reject };
        follow::check(aws, &self.name, &self.tracking, goal, DEFAULT_TIMEOUT).await
    }

    fn progress(&self) -> Option<String> {
        self.tracking.progress(self.spec_name, &self.name)
    }

    fn resume(&self, progress: &str) -> Result<(), String> {
        self.tracking.resume(self.spec_name, &self.name, progress)
    }
}

impl PipelineDecision {
    fn plan_lines(&self, ctx: &Context, state: &PipelineState, pick: &Waiting) -> Vec<String> {
        let (verb, _) = self.words();
        let execution = pick.execution.as_deref().unwrap_or_default();
        let since =
            pick.action.last_change.map(|at| format!(", waiting since {}", ago(ctx.now, at))).unwrap_or_default();
        let mut lines = vec![format!(
            "*{}*: {verb} *{}/{}* of execution `{}`{since}",
            self.name,
            pick.approval.stage,
            pick.approval.action,
            short(execution)
        )];
        let latest = state.latest.as_ref().filter(|e| e.id == execution);
        for rev in latest.map(|e| e.revisions.as_slice()).unwrap_or_default() {
            let summary = rev.summary.as_deref().and_then(|s| s.lines().next()).unwrap_or_default();
            lines.push(format!("Revision `{}` {}", short(&rev.id), esc(&truncate(summary, 100))));
        }
        if let Some(review) = link(pick.action.external_url.as_deref(), "what to review") {
            lines.push(format!("Review: {review}"));
        }
        if self.decision == ApprovalDecision::Reject {
            lines.push(":warning: the stage fails and the execution ends here".into());
        }
        lines.push(format!("Summary kept by CodePipeline: “{}”", esc(&self.summary(ctx))));
        lines
    }
}

/// The approval was answered elsewhere (or timed out) before ours arrived.
fn gone(done: &str, at: Option<&str>) -> String {
    let at = at.map(|at| format!(" at *{at}*")).unwrap_or_default();
    format!("Not {}: the approval{at} was already decided elsewhere or expired.", done.to_lowercase())
}

#[cfg(test)]
#[path = "pipeline_approve_tests.rs"]
mod tests;
