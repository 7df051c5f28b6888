//! The seed flow "a parameter change reaches the instances" (`on_param_change`),
//! and the tail `param set` and `param rollback` share: once a new version is
//! written, start the hooks under its prefix, then verify the version and
//! follow what the hooks started.
//!
//! The hooks themselves (configuration and the policy's say) are
//! [`crate::hooks`].
//!
//! # Decisions
//! - A hook the policy would not plainly allow (see [`crate::hooks`]) is not
//!   sent: the outcome says so and gives the command to ask for, because the
//!   parameter change's own approval was bound to its exact parameters and
//!   does not stretch to a second change.
//! - Each allowed hook goes through `run`'s preflight ([`super::preflight`])
//!   before it is sent: the document exists and is a Command document, takes
//!   the parameters given and gets its required ones, and the targets reach
//!   an instance online. One that fails is not sent and is reported like a
//!   hook that could not be sent. A run of the same document still in
//!   progress does not hold it back: the write has happened, and the
//!   instances must get the new value (`run` alone would refuse it unless
//!   forced; a hook has no `--force`).
//! - A follow-up that cannot be sent (its preflight failed, or SSM refused
//!   it) or fails does not undo the write (the new version is live); the
//!   change ends as failed with what happened.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::change::{Follow, Outcome, Progress};
use crate::context::Context;
use crate::error::GatewayResult;
use crate::hooks::ParamHook;
use crate::mrkdwn::esc;
use crate::ports::{DocumentKind, Gateways, ParamWrite};
use crate::values::ParamName;

use super::memo::Memo;
use super::run_command::report;

/// What a parameter write left for `check` (and a replica resumes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Written {
    pub version: i64,
    /// Run Command ids the hooks started.
    pub runs: Vec<String>,
    /// Why each hook that should have run was not sent (its preflight, SSM's refusal).
    #[serde(default)]
    pub unsent: Vec<String>,
}

/// What a plan says about the hooks a write to `name` starts: each one the
/// policy lets run, checked by its preflight now (a problem is a warning: the
/// write itself is not held back by its follow-up), or why it will not run.
pub async fn plan_lines(ctx: &Context, aws: &Gateways, name: &ParamName) -> Vec<String> {
    let mut lines = Vec::new();
    for hook in aws.param_hooks.matching(name) {
        let what = format!("`{}` on `{}`", esc(hook.document.as_str()), esc(&hook.targets.to_string()));
        let line = match aws.param_hooks.allows(ctx, hook) {
            Err(why) => format!(":warning: Will not run {what} afterwards: {}.", esc(&why)),
            Ok(()) => match preflight(aws, hook).await {
                Ok(reasons) if reasons.is_empty() => format!("Then runs {what} (`on_param_change`)."),
                Ok(reasons) => format!(
                    ":warning: Then runs {what} (`on_param_change`), but its preflight fails now, so it would \
                     not be sent: {}.",
                    reasons.join("; ")
                ),
                Err(err) => format!(
                    ":warning: Then runs {what} (`on_param_change`); its preflight cannot be checked now: {}.",
                    esc(&err.to_string())
                ),
            },
        };
        lines.push(line);
    }
    lines
}

/// `act`'s tail for a write: starts the matching hooks, remembers what to
/// follow, and says what happened.
pub async fn after_write(
    ctx: &Context,
    aws: &Gateways,
    name: &ParamName,
    write: ParamWrite,
    mut lines: Vec<String>,
    memo: &Memo<Written>,
) -> Outcome {
    let mut ids: Vec<String> = write.receipt.request_id.into_iter().collect();
    let (mut runs, mut unsent) = (Vec::new(), Vec::new());
    for hook in aws.param_hooks.matching(name) {
        let what = format!("`{}` on `{}`", esc(hook.document.as_str()), esc(&hook.targets.to_string()));
        if let Err(why) = aws.param_hooks.allows(ctx, hook) {
            lines.push(format!(
                ":warning: Not running {what} after this change: {}. Ask for it with `{}`.",
                esc(&why),
                esc(&hook.command_line_in(aws.param_hooks.target()))
            ));
            continue;
        }
        let sent = match preflight(aws, hook).await {
            Ok(reasons) if reasons.is_empty() => {
                aws.run_commands.send(&hook.document, &hook.targets, &hook.parameters, &ctx.user).await
            }
            Ok(reasons) => {
                let why = format!("Did not send {what}: its preflight failed — {}.", reasons.join("; "));
                lines.push(format!(":x: {why}"));
                unsent.push(why);
                continue;
            }
            Err(err) => Err(err),
        };
        match sent {
            Ok(started) => {
                lines.push(format!("Sent {what} (command `{}`).", esc(&started.id)));
                ids.extend(started.receipt.request_id);
                runs.push(started.id);
            }
            Err(err) => {
                let why = format!("Could not send {what}: {}", esc(&err.to_string()));
                lines.push(format!(":x: {why}"));
                unsent.push(why);
            }
        }
    }
    let follow = if runs.is_empty() {
        Follow { every: Duration::from_secs(2), timeout: Duration::from_secs(60) }
    } else {
        Follow { every: Duration::from_secs(5), timeout: Duration::from_secs(15 * 60) }
    };
    memo.keep(Written { version: write.version, runs, unsent });
    Outcome { lines, aws_request_ids: ids, follow: Some(follow) }
}

/// Why `hook` cannot be sent as configured: `run`'s preflight of its
/// document, parameters and targets (mrkdwn, escaped).
async fn preflight(aws: &Gateways, hook: &ParamHook) -> GatewayResult<Vec<String>> {
    let mut reasons = super::preflight::document(aws, &hook.document, DocumentKind::Command, &hook.parameters).await?;
    reasons.extend(super::preflight::targets(aws, &hook.targets).await?.reasons);
    Ok(reasons)
}

/// `check` for a write: the new version reads back, then every follow-up has finished.
pub async fn check_write(aws: &Gateways, name: &ParamName, memo: &Memo<Written>) -> GatewayResult<Progress> {
    let Some(written) = memo.get() else { return Ok(Progress::Failed("nothing was written".into())) };
    let now = aws.params.get(name).await?;
    if now.version < written.version {
        return Ok(Progress::Running(format!("waiting for version {} to be readable", written.version)));
    }
    let live = match now.version {
        v if v == written.version => format!("Version {v} is live."),
        v => format!("Version {} was written; version {v} (written since) is live now.", written.version),
    };
    let mut reports = Vec::new();
    for id in &written.runs {
        let run = aws.run_commands.status(id, false).await?;
        if !run.status.is_final() {
            return Ok(Progress::Running(format!("{live} {}", super::run_command::progress(&run))));
        }
        reports.push(aws.run_commands.status(id, true).await?);
    }
    let ok = written.unsent.is_empty() && reports.iter().all(|r| r.status == crate::ports::RunStatus::Success);
    let unsent = match written.unsent.len() {
        0 => None,
        1 => Some(":x: 1 follow-up was not sent (see above).".to_owned()),
        n => Some(format!(":x: {n} follow-ups were not sent (see above).")),
    };
    let text = std::iter::once(live).chain(unsent).chain(reports.iter().map(report)).collect::<Vec<_>>().join("\n");
    Ok(if ok { Progress::Done(text) } else { Progress::Failed(text) })
}
