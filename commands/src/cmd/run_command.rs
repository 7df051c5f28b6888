//! `run DOCUMENT on tag:KEY=VALUE|i-... [Key=Value ...]`: send an SSM
//! document to instances with Run Command, then follow every invocation to
//! its end and show each instance's status and the start and end of its
//! output, credentials redacted ([`trim_output`]).
//!
//! Need and safety are SSM's: the document decides what runs, the policy who
//! may run which `document` on which `targets`. A command that reached no
//! instance ends as failed — "nothing matched `tag:Environment=stagin`" is
//! what people need to hear, even though SSM calls it a success.
//!
//! Preflight ([`super::preflight`]), at plan time and again right before
//! sending: the document exists, is a Command document and takes these
//! parameters; the targets resolve to SSM-managed instances online (the plan
//! says how many, and which); no command of the same document still runs on
//! any of them. Nothing is pinned: what is reviewed is the selector
//! (`tag:Environment=staging`); SSM resolves it again when the command is
//! sent, and the report names each instance reached.
//!
//! This file also owns how a command's progress and result read
//! ([`progress`], [`report`]), for the `on_param_change` follow-ups too.

use std::time::Duration;

use async_trait::async_trait;

use crate::change::{ChangeCommand, Follow, Outcome, Plan, Progress};
use crate::command::{Body, CommandDef};
use crate::context::Context;
use crate::error::{GatewayResult, UsageError};
use crate::mrkdwn::esc;
use crate::ports::{CommandRun, DocumentKind, Gateways, Invocation, RunStatus};
use crate::spec::{Spec, expect_args};
use crate::values::ssm::{DocParams, DocumentName, Targets};

use super::memo::Memo;
use super::preflight::{self, targets_words};
use super::ssm::trim_output;

pub const SPEC: Spec = Spec {
    name: "run",
    args: "DOCUMENT on tag:KEY=VALUE|INSTANCE-IDS [Key=Value ...]",
    summary: "Run an SSM document on instances (Run Command) and show each instance's status and output",
    example: "run AWS-RunShellScript on tag:Environment=staging \"commands=systemctl reload nginx\"",
    changes: true,
    alias: None,
};

/// Instances listed by name in a report; the rest are counted.
const LISTED: usize = 20;
/// Instances whose output a report shows (failed ones first).
const OUTPUTS: usize = 3;
/// Characters of output a report shows, over all instances.
const OUTPUT_MAX: usize = 2000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunCommand {
    pub document: DocumentName,
    pub targets: Targets,
    pub parameters: DocParams,
    sent: Memo<String>,
}

impl CommandDef for RunCommand {
    const SPEC: &'static Spec = &SPEC;

    fn parse(args: &[String]) -> Result<Self, UsageError> {
        if args.len() >= 2 && !args[1].eq_ignore_ascii_case("on") {
            return Err(UsageError::new(format!(
                "`run` needs `on` before its targets, e.g. `run {} on tag:Environment=staging`",
                args[0]
            )));
        }
        expect_args(&SPEC, args, 3, usize::MAX)?;
        Ok(RunCommand {
            document: DocumentName::parse(&args[0])?,
            targets: Targets::parse(&args[2])?,
            parameters: DocParams::parse(&args[3..])?,
            sent: Memo::default(),
        })
    }

    fn policy_args(&self) -> Vec<(&'static str, String)> {
        vec![("document", self.document.to_string()), ("targets", self.targets.to_string())]
    }

    fn body(&self) -> Body<'_> {
        Body::Change(self)
    }
}

impl RunCommand {
    /// What a progress is bound to: the document and where it runs.
    fn what_runs(&self) -> String {
        format!("{} on {}", self.document, self.targets)
    }
}

#[async_trait]
impl ChangeCommand for RunCommand {
    async fn plan(&self, _ctx: &Context, aws: &Gateways) -> GatewayResult<Plan> {
        let mut lines = vec![format!("Run *{}* on {}", esc(self.document.as_str()), targets_words(&self.targets))];
        lines.extend(self.parameters.lines().into_iter().map(|l| format!("• {l}")));
        let mut reasons = preflight::document(aws, &self.document, DocumentKind::Command, &self.parameters).await?;
        let resolved = preflight::targets(aws, &self.targets).await?;
        lines.extend(resolved.lines);
        reasons.extend(resolved.reasons);
        let busy = preflight::command_in_progress(aws, &self.document, &resolved.instances).await?;
        let verdict = preflight::verdict(reasons, busy);
        Ok(Plan { lines, verdict })
    }

    async fn act(&self, ctx: &Context, aws: &Gateways) -> GatewayResult<Outcome> {
        let started = aws.run_commands.send(&self.document, &self.targets, &self.parameters, &ctx.user).await?;
        self.sent.keep(started.id.clone());
        Ok(Outcome {
            lines: vec![format!("Sent *{}* (command `{}`).", esc(self.document.as_str()), esc(&started.id))],
            aws_request_ids: started.receipt.request_id.into_iter().collect(),
            follow: Some(Follow { every: Duration::from_secs(5), timeout: Duration::from_secs(15 * 60) }),
        })
    }

    async fn check(&self, _ctx: &Context, aws: &Gateways, _outcome: &Outcome) -> GatewayResult<Progress> {
        let Some(id) = self.sent.get() else { return Ok(Progress::Failed("the command was not sent".into())) };
        let run = aws.run_commands.status(id, false).await?;
        if !run.status.is_final() {
            return Ok(Progress::Running(progress(&run)));
        }
        let run = aws.run_commands.status(id, true).await?;
        let text = report(&run);
        Ok(if run.status == RunStatus::Success && run.targets > 0 {
            Progress::Done(text)
        } else {
            Progress::Failed(text)
        })
    }

    fn progress(&self) -> Option<String> {
        self.sent.progress(SPEC.name, self.what_runs())
    }

    fn resume(&self, progress: &str) -> Result<(), String> {
        self.sent.resume(SPEC.name, self.what_runs(), progress)
    }
}

/// One line while a command runs: "`AWS-RunShellScript`: 2 of 3 instances done, 1 in progress".
pub fn progress(run: &CommandRun) -> String {
    if run.targets == 0 {
        return format!("`{}`: waiting for SSM to find the target instances", run.document);
    }
    let busy = run.invocations.iter().filter(|i| !i.status.is_final()).count();
    format!("`{}`: {} of {} instances done, {busy} in progress", run.document, run.completed, run.targets)
}

/// The end of a command, in mrkdwn: a summary, one line per instance and the
/// output of a few (failed first), cut to fit.
pub fn report(run: &CommandRun) -> String {
    if run.targets == 0 && run.invocations.is_empty() {
        return format!("`{}` reached no instance: nothing matched its targets.", esc(&run.document));
    }
    let failed = run.invocations.iter().filter(|i| i.status != RunStatus::Success).count();
    let mut lines = vec![format!(
        "`{}` {} on {} of {} instances{}.",
        esc(&run.document),
        run.status.label(),
        run.invocations.len() - failed,
        run.invocations.len(),
        if failed > 0 { format!(" ({failed} did not succeed)") } else { String::new() }
    )];
    lines.extend(run.invocations.iter().take(LISTED).map(|i| format!("• {}", instance_line(i))));
    if run.invocations.len() > LISTED {
        lines.push(format!("• … and {} more", run.invocations.len() - LISTED));
    }
    lines.extend(outputs(&run.invocations));
    lines.join("\n")
}

fn instance_line(i: &Invocation) -> String {
    let name = i.instance_name.as_deref().filter(|n| !n.is_empty()).map(|n| format!(" ({})", esc(n)));
    let detail = i.detail.as_deref().filter(|d| *d != i.status.label() && !d.eq_ignore_ascii_case(i.status.label()));
    let icon = match i.status {
        RunStatus::Success => ":white_check_mark:",
        ref s if s.is_final() => ":x:",
        _ => ":hourglass_flowing_sand:",
    };
    let detail = detail.map(|d| format!(" — {}", esc(d))).unwrap_or_default();
    format!("{icon} `{}`{}: {}{detail}", esc(&i.instance), name.unwrap_or_default(), i.status.label())
}

fn outputs(invocations: &[Invocation]) -> Vec<String> {
    let mut shown: Vec<&Invocation> =
        invocations.iter().filter(|i| i.output.as_deref().is_some_and(|o| !o.trim().is_empty())).collect();
    shown.sort_by_key(|i| i.status == RunStatus::Success);
    shown.truncate(OUTPUTS);
    let budget = OUTPUT_MAX / shown.len().max(1);
    shown
        .into_iter()
        .map(|i| {
            let text = trim_output(i.output.as_deref().unwrap_or_default(), budget);
            format!("Output of `{}`:\n```\n{}\n```", esc(&i.instance), esc(&text).replace("```", "ˋˋˋ"))
        })
        .collect()
}

#[cfg(test)]
#[path = "run_command_tests.rs"]
mod tests;
