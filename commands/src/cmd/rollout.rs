//! What the ECS deployment commands (`deploy`, `restart`, `rollback`) share:
//! their options, the safety check, the plan's image lines, and following the
//! deployment they start.
//!
//! # Decisions
//! - Safe means no deployment of the service is rolling out — a second one
//!   would take over half-way and leave two revisions serving — and no
//!   CloudWatch alarm that watches the service (metric dimensions
//!   `ClusterName` and `ServiceName`, see [`crate::ports::Alarm::watches`]) is
//!   in ALARM. Alarms on other dimensions (a load balancer's target group) are
//!   not tied to the service and do not block it. When the alarms cannot be
//!   read, the plan fails (closed) instead of skipping the check.
//! - Verify follows the deployment UpdateService made PRIMARY — by the id ECS
//!   answered, else the PRIMARY one — until its `rolloutState` is COMPLETED
//!   (done) or FAILED (failed, with ECS's reason). That id is the progress a
//!   replica taking the change over resumes ([`Started`]). Deployments
//!   without a rollout state (CODE_DEPLOY / EXTERNAL controllers) are done
//!   once they run their desired count and no other deployment runs tasks.
//!   A deployment that stops being PRIMARY before it completes was
//!   superseded: a failure.
//! - A FAILED rollout is reported with why its tasks stopped (the same
//!   grouped reasons a failed-deployment notification shows, see
//!   [`stopped_tasks`]), read once it failed. When they cannot be read the
//!   rollout is still reported failed, with a note saying why they could not.
//! - The target is pinned: each plan writes the task-definition revision the
//!   service ran when it was planned into the line that is confirmed,
//!   approved and run (`--from N`). If the service runs another revision
//!   when the change runs (someone deployed in between), nothing is changed:
//!   a tag deploy would copy a task definition nobody reviewed, a rollback
//!   would go back to another "before", a restart would restart something
//!   else ([`moved`], refused as [`Verdict::Moved`]). A deployment still
//!   rolling out is refused by the safety check, at the plan and again when
//!   the change runs.
//! - `--timeout` bounds the wait ([`DEFAULT_TIMEOUT`] unless given, 1 minute
//!   to 3 hours). It only stops the watching: the flow reports the change as
//!   not finished in time, and ECS carries on.

use std::time::Duration;

use crate::change::{Follow, Plan, Progress, Verdict};
use crate::error::{GatewayResult, UsageError};
use crate::mrkdwn::{Mrkdwn, esc};
use crate::ports::{Container, Deployment, Gateways, RolloutState, ServiceDetail, ServiceUpdate, ServiceUpdated, Time};
use crate::spec::Spec;
use crate::text::one_line;
use crate::values::ServiceRef;

use super::image;
use super::memo::Memo;
use super::stopped_tasks;

/// How long a deployment is followed unless `--timeout` says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15 * 60);
const MIN_TIMEOUT: Duration = Duration::from_secs(60);
const MAX_TIMEOUT: Duration = Duration::from_secs(3 * 3600);
/// How often a deployment is looked at while it rolls out.
const EVERY: Duration = Duration::from_secs(10);
/// ECS keeps at most this many revisions per family.
const MAX_REVISION: i32 = 1_000_000;

/// A command line's words after the options were taken out.
#[derive(Debug)]
pub struct Words {
    pub positional: Vec<String>,
    pub revision: Option<i32>,
    /// `--from N`: the revision the service must still run.
    pub from: Option<i32>,
    pub timeout: Duration,
}

/// Splits `args` into positional words and the options `--timeout D` and,
/// when `revision_allowed`, `--revision N`.
pub fn words(spec: &Spec, args: &[String], revision_allowed: bool) -> Result<Words, UsageError> {
    let mut out = Words { positional: Vec::new(), revision: None, from: None, timeout: DEFAULT_TIMEOUT };
    let mut args = args.iter();
    while let Some(word) = args.next() {
        let mut value = |what: &str| {
            args.next().ok_or_else(|| UsageError::new(format!("`{word}` needs {what}")).with_usage(spec.usage()))
        };
        match word.as_str() {
            "--revision" if revision_allowed => out.revision = Some(revision(value("a revision number")?)?),
            "--from" => out.from = Some(revision(value("the revision the service runs now")?)?),
            "--timeout" => out.timeout = timeout(value("a duration like `30m`")?)?,
            option if option.starts_with("--") => {
                return Err(
                    UsageError::new(format!("`{}` has no option `{option}`", spec.name)).with_usage(spec.usage())
                );
            }
            _ => out.positional.push(word.clone()),
        }
    }
    Ok(out)
}

fn revision(raw: &str) -> Result<i32, UsageError> {
    let ok = raw.parse::<i32>().ok().filter(|n| (1..=MAX_REVISION).contains(n));
    ok.ok_or_else(|| UsageError::invalid("revision", raw, &format!("a whole number from 1 to {MAX_REVISION}")))
}

/// `90s`, `30m`, `2h`.
fn timeout(raw: &str) -> Result<Duration, UsageError> {
    opsbot_policies::parse_duration(raw)
        .filter(|d| (MIN_TIMEOUT..=MAX_TIMEOUT).contains(d))
        .ok_or_else(|| UsageError::invalid("timeout", raw, "a duration from `1m` to `3h`, like `30m`"))
}

/// The deployment `act` started (its id), for `check` to follow. Not part of
/// what the command *is* (see [`Memo`]); a replica resumes it.
pub type Started = Memo<String>;

/// Starts the deployment: UpdateService, remembering the deployment it made PRIMARY.
pub async fn start(
    aws: &Gateways,
    service: &ServiceRef,
    update: ServiceUpdate,
    started: &Started,
) -> GatewayResult<ServiceUpdated> {
    let updated = aws.service_changes.update_service(service, &update).await?;
    if let Some(id) = &updated.deployment {
        started.keep(id.clone());
    }
    Ok(updated)
}

/// Why the service no longer runs revision `from`, the one its plan showed.
pub fn moved(detail: &ServiceDetail, from: Option<i32>) -> Option<String> {
    let (service, current) = (&detail.summary.service, &detail.summary.task_definition);
    let want = from.filter(|want| *want != current.revision)?;
    Some(format!("{service} runs {current} now, not revision {want} you reviewed (it was deployed since) — ask again"))
}

/// The options a pinned line ends with: `--from N`, and `--timeout` unless the default.
pub fn pin_words(from: i32, timeout: Duration) -> String {
    format!(" --from {from}{}", super::pipeline_args::timeout_words(timeout, DEFAULT_TIMEOUT))
}

pub fn follow(timeout: Duration) -> Follow {
    Follow { every: EVERY, timeout }
}

/// The plan's last line: what happens after the call.
pub fn follow_line(now: Time, timeout: Duration) -> String {
    let limit = crate::text::duration(now, now + chrono::Duration::from_std(timeout).unwrap_or_default());
    format!("Then I follow the rollout until ECS reports it completed or failed (up to {limit}).")
}

/// Why changing `detail` now would be unsafe; empty when it is safe.
pub async fn safety(aws: &Gateways, detail: &ServiceDetail, now: Time) -> GatewayResult<Vec<String>> {
    let service = &detail.summary.service;
    let mut reasons = Vec::new();
    if rolling_out(detail) {
        let primary = detail.deployments.iter().find(|d| d.status == "PRIMARY");
        let at = primary.map(|d| format!(" ({})", counts(d))).unwrap_or_default();
        reasons.push(format!(
            "a deployment of {service} is still rolling out{at}; wait for it to finish (`service {service}`)"
        ));
    }
    for alarm in aws.alarms.firing_on(service).await? {
        let since = alarm.since.map(|t| format!(" for {}", crate::text::duration(t, now))).unwrap_or_default();
        reasons.push(format!(
            "alarm {} on {service} has been firing{since}; wait until it is OK (`alarms {}`)",
            alarm.name, alarm.name
        ));
    }
    Ok(reasons)
}

fn rolling_out(detail: &ServiceDetail) -> bool {
    let primary = detail.deployments.iter().find(|d| d.status == "PRIMARY");
    let others_run = detail.deployments.iter().any(|d| d.status != "PRIMARY" && d.running > 0);
    detail.summary.rollout == Some(RolloutState::InProgress)
        || (primary.is_some_and(|p| p.rollout.is_none()) && others_run)
}

/// A plan before its safety check: what it would do, and why it would do
/// nothing or cannot be done.
#[derive(Debug, Default)]
pub struct Draft {
    pub lines: Vec<String>,
    pub noop: Option<String>,
    pub problems: Vec<String>,
}

impl Draft {
    /// The plan: a no-op says so at once (there is nothing to wait for);
    /// otherwise problems (what cannot be done as asked) make it
    /// [`Verdict::Invalid`], never forced past, and the safety check's reasons
    /// alone (a rollout in progress, an alarm firing) [`Verdict::Unsafe`].
    pub async fn finish(
        mut self,
        aws: &Gateways,
        detail: &ServiceDetail,
        now: Time,
        timeout: Duration,
    ) -> GatewayResult<Plan> {
        if let Some(why) = self.noop {
            return Ok(Plan { lines: self.lines, verdict: Verdict::NoOp(why) });
        }
        let unsafe_now = safety(aws, detail, now).await?;
        self.lines.push(follow_line(now, timeout));
        let verdict = match (self.problems.is_empty(), unsafe_now.is_empty()) {
            (true, true) => Verdict::Ready,
            (true, false) => Verdict::Unsafe(unsafe_now),
            (false, _) => Verdict::Invalid(self.problems.into_iter().chain(unsafe_now).collect()),
        };
        Ok(Plan { lines: self.lines, verdict })
    }
}

/// One mrkdwn line per container whose image changes from `before` to
/// `after` (by container name), then one for those that keep theirs.
pub fn image_lines(before: &[Container], after: &[Container]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut kept = Vec::new();
    for new in after {
        match before.iter().find(|c| c.name == new.name) {
            Some(old) if old.image == new.image => kept.push(format!("`{}`", esc(&new.name))),
            Some(old) => lines.push(format!(
                "• `{}`: `{}` → `{}`",
                esc(&new.name),
                esc(image::short(&old.image)),
                esc(image::short(&new.image))
            )),
            None => lines.push(format!("• `{}`: added, `{}`", esc(&new.name), esc(image::short(&new.image)))),
        }
    }
    for gone in before.iter().filter(|c| !after.iter().any(|n| n.name == c.name)) {
        lines.push(format!("• `{}`: removed", esc(&gone.name)));
    }
    if !kept.is_empty() {
        lines.push(format!("• unchanged: {}", kept.join(", ")));
    }
    lines
}

/// Where the deployment `started` stands (see the module's decisions).
pub async fn check(aws: &Gateways, service: &ServiceRef, started: &Started) -> GatewayResult<Progress> {
    let detail = aws.services.describe(service).await?;
    let primary = detail.deployments.iter().find(|d| d.status == "PRIMARY");
    let followed = started.get().and_then(|id| detail.deployments.iter().find(|d| &d.id == id)).or(primary);
    let Some(deployment) = followed else {
        return Ok(Progress::Running("waiting for ECS to start the deployment".into()));
    };
    let revision = deployment.task_definition.as_ref().map(ToString::to_string).unwrap_or_else(|| "?".into());
    let counts = counts(deployment);
    if deployment.status != "PRIMARY" {
        let newer = primary.and_then(|p| p.task_definition.as_ref()).map(|t| format!(" (`{}`)", esc(&t.to_string())));
        return Ok(Progress::Failed(format!(
            "another deployment{} took over before `{}` finished ({counts}).",
            newer.unwrap_or_default(),
            esc(&revision)
        )));
    }
    let steady = deployment.running == deployment.desired
        && deployment.pending == 0
        && detail.deployments.iter().all(|d| d.status == "PRIMARY" || d.running == 0);
    Ok(match &deployment.rollout {
        Some(RolloutState::Completed) => Progress::Done(format!("`{}` rolled out: {counts} — done.", esc(&revision))),
        None if steady => Progress::Done(format!("`{}` runs: {counts} — done.", esc(&revision))),
        Some(RolloutState::Failed) => {
            let reason = deployment.rollout_reason.as_deref().map(one_line).unwrap_or("no reason given".into());
            let why = why_stopped(aws, service, &deployment.id).await;
            Progress::Failed(format!(
                "the rollout of `{}` failed: {} ({counts}).\n{}",
                esc(&revision),
                esc(&reason),
                why.as_str()
            ))
        }
        _ => Progress::Running(format!("rolling out {revision}: {counts}")),
    })
}

/// Why deployment `id` of `service` stopped its tasks — or, when that cannot
/// be read, why not (logged too): either way the rollout is reported failed.
async fn why_stopped(aws: &Gateways, service: &ServiceRef, id: &str) -> Mrkdwn {
    let (cluster, name) = (service.cluster.as_str(), service.service.as_str());
    match aws.stopped_tasks.stopped_tasks(cluster, name, id).await {
        Ok(tasks) => stopped_tasks::explain(None, cluster, name, &tasks),
        Err(err) => {
            tracing::warn!(%service, deployment = id, error = %err, "cannot read the failed rollout's stopped tasks");
            stopped_tasks::unreadable(cluster, name, &err)
        }
    }
}

/// `2/4 running, 1 pending, 3 failed tasks`.
fn counts(d: &Deployment) -> String {
    let mut out = format!("{}/{} running", d.running, d.desired);
    if d.pending > 0 {
        out.push_str(&format!(", {} pending", d.pending));
    }
    if d.failed_tasks > 0 {
        out.push_str(&format!(", {}", crate::text::count(d.failed_tasks.unsigned_abs() as usize, "failed task")));
    }
    out
}

#[cfg(test)]
#[path = "rollout_tests.rs"]
mod tests;
