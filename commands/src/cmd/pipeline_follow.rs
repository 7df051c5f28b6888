//! What the pipeline change commands share (`pipeline start`, `retry`,
//! `stop`, `approve`, `reject`) after they acted: following an execution to
//! its end. Their shared words (options, names) are in `pipeline_args`.
//!
//! # Decisions
//! - `act` hands `check` what it learned — the execution it started or
//!   decided, or why it came too late — through the command's [`Tracking`]
//!   cell: the change flow calls both on the same parsed command. A replica
//!   that takes over the change resumes that cell (`progress`/`resume`); a
//!   command without it follows the pipeline's latest execution.
//! - Following ends when the execution finishes; when it waits for a manual
//!   approval (a human's turn: the reply says how to approve); or after the
//!   timeout (default 60 min) with "still running — follow with
//!   `pipeline NAME`". The change flow's own deadline is set one poll later,
//!   so this message, not the flow's generic one, is what people see.
//! - "Where it is" comes from GetPipelineState: the first stage whose latest
//!   execution is ours with an action in progress. Running texts hold no times,
//!   so the message is edited only when the execution moves.
//! - Running texts are escaped by the flow; final texts are escaped here.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::change::{Follow, Outcome, Progress, Verdict};
use crate::error::GatewayResult;
use crate::mrkdwn::esc;
use crate::ports::{ActionState, ExecStatus, Execution, Gateways, PipelineState, StageState};
use crate::text::{one_line, truncate};
use crate::values::PipelineName;

use super::memo::Memo;

/// How long a change is followed unless `--timeout` says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60 * 60);
/// How often a followed execution is looked at.
pub const EVERY: Duration = Duration::from_secs(10);

/// The execution a change follows, from `act` to `check`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Run {
    pub execution: String,
    /// When following began; stored as wall-clock time, so a replica that
    /// resumes the follow keeps the original timeout and "succeeded after".
    #[serde(rename = "since_unix_ms", with = "wall_clock")]
    pub since: Instant,
    /// The approval just answered: its token (a stale report of it still
    /// waiting is not news) and where it is (`Stage/Action`).
    pub answered: Option<(String, String)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tracked {
    Run(Run),
    /// AWS had nothing to act on any more; the text says so.
    TooLate(String),
}

/// A cell `act` fills and `check` reads (see [`Memo`]: not part of what a
/// command is; a replica resumes it).
pub type Tracking = Memo<Tracked>;

/// What `act` left in `tracking`; without it, the pipeline's latest execution from now on.
async fn tracked_or_latest<'a>(
    tracking: &'a Tracking,
    aws: &Gateways,
    name: &PipelineName,
) -> GatewayResult<Option<&'a Tracked>> {
    if tracking.get().is_none() {
        let latest = aws.pipelines.state(name).await?.latest;
        if let Some(latest) = latest {
            tracking.keep(Tracked::Run(Run { execution: latest.id, since: Instant::now(), answered: None }));
        }
    }
    Ok(tracking.get())
}

/// [`Run::since`] as milliseconds since the Unix epoch: an [`Instant`] means
/// nothing to another process, the wall clock does (replicas keep theirs in
/// sync).
mod wall_clock {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use tokio::time::Instant;

    fn now_ms() -> u64 {
        let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX)
    }

    pub fn serialize<S: Serializer>(since: &Instant, to: S) -> Result<S::Ok, S::Error> {
        let elapsed = u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX);
        now_ms().saturating_sub(elapsed).serialize(to)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(from: D) -> Result<Instant, D::Error> {
        let elapsed = Duration::from_millis(now_ms().saturating_sub(u64::deserialize(from)?));
        let now = Instant::now();
        Ok(now.checked_sub(elapsed).unwrap_or(now))
    }
}

/// What following is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    /// The execution succeeds (start, retry, approve).
    Finish,
    /// The execution stops (stop).
    Stop,
    /// The execution ends at the rejected approval (reject).
    Reject,
}

/// The outcome of a change AWS had nothing left to act on: `check` ends it,
/// failed, with `why` (mrkdwn; escaped here).
pub fn too_late(tracking: &Tracking, why: &str) -> Outcome {
    tracking.keep(Tracked::TooLate(esc(why)));
    Outcome { lines: vec![], aws_request_ids: vec![], follow: Some(follow(Duration::ZERO)) }
}

/// A verdict's reasons in one line, for a change `act` found it cannot make.
pub fn why(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Ready => String::new(),
        Verdict::NoOp(why) | Verdict::Moved(why) => why.clone(),
        Verdict::Unsafe(reasons) | Verdict::Denied(reasons) | Verdict::Invalid(reasons) => reasons.join("; "),
        Verdict::NeedsApproval(needed) => needed.iter().map(|n| n.why.as_str()).collect::<Vec<_>>().join("; "),
    }
}

/// How the flow follows a change that [`check`] watches for `timeout`.
pub fn follow(timeout: Duration) -> Follow {
    Follow { every: EVERY, timeout: timeout + EVERY }
}

/// One look at the followed execution of `name`.
pub async fn check(
    aws: &Gateways,
    name: &PipelineName,
    tracking: &Tracking,
    goal: Goal,
    timeout: Duration,
) -> GatewayResult<Progress> {
    let run = match tracked_or_latest(tracking, aws, name).await? {
        Some(Tracked::Run(run)) => run,
        Some(Tracked::TooLate(why)) => return Ok(Progress::Failed(why.clone())),
        None => return Ok(Progress::Failed(format!("*{name}* has no execution to follow."))),
    };
    let exec = aws.pipelines.execution(name, &run.execution).await?;
    let late = run.since.elapsed() >= timeout;
    match goal {
        Goal::Finish => finishing(aws, name, run, &exec, late).await,
        Goal::Stop => Ok(stopping(name, &exec, late)),
        Goal::Reject => Ok(rejecting(name, run, &exec, late)),
    }
}

async fn finishing(
    aws: &Gateways,
    name: &PipelineName,
    run: &Run,
    exec: &Execution,
    late: bool,
) -> GatewayResult<Progress> {
    let id = short(&exec.id);
    Ok(match &exec.status {
        ExecStatus::Succeeded => Progress::Done(format!("Execution `{id}` succeeded after {}.", took(run))),
        ExecStatus::Failed => Progress::Failed(failed_at(&aws.pipelines.state(name).await?, &exec.id)),
        ExecStatus::InProgress | ExecStatus::Stopping | ExecStatus::Other(_) => {
            let state = aws.pipelines.state(name).await?;
            let answered = run.answered.as_ref().map(|(token, _)| token.as_str());
            if let Some(at) = waiting_approval(&state, &exec.id, answered) {
                return Ok(Progress::Done(format!(
                    "Execution `{id}` waits for approval at *{}* — `pipeline approve {name}` when it is ready.",
                    esc(&at)
                )));
            }
            if late {
                return Ok(still_running(name, "still running"));
            }
            Progress::Running(where_it_is(&state, &exec.id, answered))
        }
        ended => Progress::Failed(format!("Execution `{id}` ended: {}.", ended.label())),
    })
}

fn stopping(name: &PipelineName, exec: &Execution, late: bool) -> Progress {
    let id = short(&exec.id);
    match &exec.status {
        ExecStatus::Stopped | ExecStatus::Abandoned => Progress::Done(format!("Execution `{id}` stopped.")),
        ExecStatus::Stopping | ExecStatus::InProgress if late => still_running(name, "still stopping"),
        ExecStatus::Stopping | ExecStatus::InProgress => {
            Progress::Running(format!("Execution `{id}` is stopping: its in-progress actions finish first."))
        }
        ended => Progress::Done(format!("Execution `{id}` ended {} before it stopped.", ended.label())),
    }
}

fn rejecting(name: &PipelineName, run: &Run, exec: &Execution, late: bool) -> Progress {
    let id = short(&exec.id);
    let at = run.answered.as_ref().map_or(String::new(), |(_, at)| format!(" at *{}*", esc(at)));
    match &exec.status {
        ExecStatus::Failed => Progress::Done(format!("Rejected — execution `{id}` stopped{at}.")),
        ExecStatus::InProgress if late => still_running(name, "still running"),
        ExecStatus::InProgress => Progress::Running(format!("Waiting for CodePipeline to end execution `{id}`.")),
        ended => Progress::Done(format!("Execution `{id}` ended: {}.", ended.label())),
    }
}

fn still_running(name: &PipelineName, what: &str) -> Progress {
    Progress::Failed(format!("{what} — follow with `pipeline {name}`"))
}

/// `Execution `5e1a7c93` is at *Build* (2 of 4): Build in progress.` The
/// approval answered with token `answered` may still show as waiting: it is
/// not where the execution is.
fn where_it_is(state: &PipelineState, id: &str, answered: Option<&str>) -> String {
    let ours = |s: &StageState| s.execution_id.as_deref() == Some(id);
    let found = state.stages.iter().enumerate().find(|(_, s)| ours(s) && !busy(s, answered).is_empty());
    let Some((n, stage)) = found else {
        return format!("Execution `{}` is in progress.", short(id));
    };
    let busy = format!(": {} in progress", busy(stage, answered).join(", "));
    format!("Execution `{}` is at *{}* ({} of {}){busy}.", short(id), stage.name, n + 1, state.stages.len())
}

/// The actions of `stage` in progress, but for the approval just answered.
fn busy<'a>(stage: &'a StageState, answered: Option<&str>) -> Vec<&'a str> {
    let running = |a: &&ActionState| a.status == Some(ExecStatus::InProgress);
    let stale = |a: &&ActionState| a.awaits_approval() && answered.is_some() && a.token.as_deref() == answered;
    stage.actions.iter().filter(|a| running(a) && !stale(a)).map(|a| a.name.as_str()).collect()
}

/// `Stage/Action` of an approval of execution `id` waiting for a decision,
/// other than the one whose token was just answered.
pub fn waiting_approval(state: &PipelineState, id: &str, answered: Option<&str>) -> Option<String> {
    let stage = state.stages.iter().filter(|s| s.execution_id.as_deref() == Some(id));
    stage
        .flat_map(|s| s.actions.iter().map(move |a| (s, a)))
        .find(|(_, a)| a.awaits_approval() && a.token.as_deref() != answered)
        .map(|(s, a)| format!("{}/{}", s.name, a.name))
}

/// Why execution `id` failed: its first failed action and error.
fn failed_at(state: &PipelineState, id: &str) -> String {
    let failed = state
        .stages
        .iter()
        .filter(|s| s.execution_id.as_deref() == Some(id))
        .flat_map(|s| s.actions.iter().map(move |a| (s, a)))
        .find(|(_, a)| a.status == Some(ExecStatus::Failed));
    let Some((stage, action)) = failed else { return format!("Execution `{}` failed.", short(id)) };
    let error = action.error.as_ref().map_or(String::new(), |e| {
        let code = e.code.as_deref().map(|c| format!("{c} — ")).unwrap_or_default();
        format!(": {}", esc(&truncate(&one_line(&format!("{code}{}", e.message)), 300)))
    });
    format!("Execution `{}` failed at *{}/{}*{error}", short(id), stage.name, action.name)
}

fn took(run: &Run) -> String {
    let now = chrono::DateTime::UNIX_EPOCH;
    crate::text::duration(now, now + chrono::Duration::from_std(run.since.elapsed()).unwrap_or_default())
}

/// The first 8 characters of an execution id, as the console shows them.
pub fn short(id: &str) -> String {
    id.chars().take(8).collect()
}

#[cfg(test)]
#[path = "pipeline_follow_tests.rs"]
mod tests;
