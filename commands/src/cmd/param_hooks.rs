//! The seed flow "a parameter change reaches the instances" (`on_param_change`),
//! and the tail `param set` and `param rollback` share: once a new version is
//! written, start the hooks under its prefix, then verify the version and
//! follow what the hooks started.
//!
//! # Decisions
//! - A hook's document is sent as the command `run` by the same requester in
//!   the same channel, judged by the same policy with `document` and
//!   `targets`. Only a plain allow runs it. If `run` would need an approval or
//!   is denied, the outcome says so and gives the command to ask for: the
//!   parameter change's own approval was bound to its exact parameters and
//!   does not stretch to a second change.
//! - Every hook whose prefix the name starts with runs, in config order.
//! - A follow-up that cannot be sent or fails does not undo the write (the
//!   new version is live); the change ends as failed with what happened.

use std::sync::Arc;
use std::time::Duration;

use opsbot_policies::{Decision, Policy, Request};

use super::Context;
use super::run_command::report;
use super::ssm::{DocParams, DocumentName, Memo, Targets};
use crate::change::{Follow, Outcome, Progress};
use crate::error::{GatewayResult, UsageError};
use crate::ports::{Gateways, ParamWrite};
use crate::reply::esc;
use crate::values::ParamName;

/// One `on_param_change` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamHook {
    /// Names starting with this (`/shop/staging/`) trigger the hook.
    pub prefix: String,
    pub document: DocumentName,
    pub targets: Targets,
    pub parameters: DocParams,
}

impl ParamHook {
    /// Checks the prefix (a path starting with `/`); the other parts are typed.
    pub fn new(
        prefix: &str,
        document: DocumentName,
        targets: Targets,
        parameters: DocParams,
    ) -> Result<Self, UsageError> {
        if !prefix.starts_with('/') || prefix.contains("//") {
            return Err(UsageError::invalid(
                "prefix",
                prefix,
                "a parameter path starting with `/`, e.g. `/shop/staging/`",
            ));
        }
        Ok(ParamHook { prefix: prefix.to_owned(), document, targets, parameters })
    }

    fn matches(&self, name: &ParamName) -> bool {
        name.as_str().starts_with(&self.prefix)
    }

    /// The `run` command this hook amounts to, as a person would type it.
    pub fn command_line(&self) -> String {
        let mut words =
            vec!["run".to_owned(), self.document.to_string(), "on".into(), quote(&self.targets.to_string())];
        for (key, values) in &self.parameters.0 {
            words.extend(values.iter().map(|v| quote(&format!("{key}={v}"))));
        }
        words.join(" ")
    }

    fn policy_args(&self) -> Vec<(&'static str, String)> {
        vec![("document", self.document.to_string()), ("targets", self.targets.to_string())]
    }
}

fn quote(word: &str) -> String {
    match (word.contains(char::is_whitespace), word.contains('"')) {
        (false, _) => word.to_owned(),
        (true, false) => format!("\"{word}\""),
        (true, true) => format!("'{word}'"),
    }
}

/// Every configured hook and the policy that judges them.
#[derive(Debug, Clone)]
pub struct ParamHooks {
    hooks: Vec<ParamHook>,
    policy: Arc<Policy>,
}

impl Default for ParamHooks {
    fn default() -> Self {
        ParamHooks { hooks: Vec::new(), policy: Arc::new(Policy::reads_for_everyone([])) }
    }
}

impl ParamHooks {
    pub fn new(hooks: Vec<ParamHook>, policy: Arc<Policy>) -> Self {
        ParamHooks { hooks, policy }
    }

    fn matching<'a>(&'a self, name: &'a ParamName) -> impl Iterator<Item = &'a ParamHook> {
        self.hooks.iter().filter(move |h| h.matches(name))
    }

    /// What a plan says about the hooks a write to `name` starts.
    pub fn plan_lines(&self, ctx: &Context, name: &ParamName) -> Vec<String> {
        self.matching(name)
            .map(|hook| {
                let what = format!("`{}` on `{}`", esc(hook.document.as_str()), esc(&hook.targets.to_string()));
                match self.allows(ctx, hook) {
                    Ok(()) => format!("Then runs {what} (`on_param_change`)."),
                    Err(why) => format!(":warning: Will not run {what} afterwards: {}.", esc(&why)),
                }
            })
            .collect()
    }

    fn allows(&self, ctx: &Context, hook: &ParamHook) -> Result<(), String> {
        let args = hook.policy_args();
        let request = Request {
            command: "run",
            user: ctx.user.as_str(),
            groups: &ctx.groups,
            channel: ctx.channel.as_str(),
            args: &args,
            at: ctx.now,
            force: false,
        };
        match self.policy.evaluate(&request) {
            Decision::Allow { .. } => Ok(()),
            Decision::NeedsApproval { approvers, .. } => Err(format!("it would need approval by {approvers}")),
            Decision::Deny { reason, .. } => Err(format!("it is not allowed: {reason}")),
        }
    }
}

/// What a parameter write left for `check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub version: i64,
    /// Run Command ids the hooks started.
    pub runs: Vec<String>,
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
    let mut runs = Vec::new();
    for hook in aws.param_hooks.matching(name) {
        let what = format!("`{}` on `{}`", esc(hook.document.as_str()), esc(&hook.targets.to_string()));
        if let Err(why) = aws.param_hooks.allows(ctx, hook) {
            lines.push(format!(
                ":warning: Not running {what} after this change: {}. Ask for it with `{}`.",
                esc(&why),
                esc(&hook.command_line())
            ));
            continue;
        }
        match aws.run_commands.send(&hook.document, &hook.targets, &hook.parameters, &ctx.user).await {
            Ok(started) => {
                lines.push(format!("Sent {what} (command `{}`).", esc(&started.id)));
                ids.extend(started.receipt.request_id);
                runs.push(started.id);
            }
            Err(err) => lines.push(format!(":x: Could not send {what}: {}", esc(&err.to_string()))),
        }
    }
    let follow = if runs.is_empty() {
        Follow { every: Duration::from_secs(2), timeout: Duration::from_secs(60) }
    } else {
        Follow { every: Duration::from_secs(5), timeout: Duration::from_secs(15 * 60) }
    };
    memo.keep(Written { version: write.version, runs });
    Outcome { lines, aws_request_ids: ids, follow: Some(follow) }
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
    let ok = reports.iter().all(|r| r.status == crate::ports::RunStatus::Success);
    let text = std::iter::once(live).chain(reports.iter().map(report)).collect::<Vec<_>>().join("\n");
    Ok(if ok { Progress::Done(text) } else { Progress::Failed(text) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(prefix: &str) -> ParamHook {
        let params = DocParams::parse(&["commands=systemctl reload shop".to_string()]).unwrap();
        ParamHook::new(
            prefix,
            DocumentName::parse("AWS-RunShellScript").unwrap(),
            Targets::parse("tag:Environment=staging").unwrap(),
            params,
        )
        .unwrap()
    }

    #[test]
    fn a_hook_matches_names_under_its_prefix_only() {
        let hooks = ParamHooks::new(vec![hook("/shop/staging/")], Arc::new(Policy::reads_for_everyone([])));
        let count = |n: &str| hooks.matching(&ParamName::parse(n).unwrap()).count();
        assert_eq!((count("/shop/staging/db-host"), count("/shop/prod/db-host"), count("/shop/staging")), (1, 0, 0));
    }

    #[test]
    fn a_hook_reads_as_the_run_command_it_amounts_to() {
        assert_eq!(
            hook("/shop/staging/").command_line(),
            "run AWS-RunShellScript on tag:Environment=staging \"commands=systemctl reload shop\""
        );
        assert!(crate::Command::parse(&hook("/x/").command_line()).is_ok());
    }

    #[test]
    fn a_prefix_must_be_a_path() {
        let doc = DocumentName::parse("AWS-RunShellScript").unwrap();
        let targets = Targets::parse("i-12345678").unwrap();
        assert!(ParamHook::new("shop/", doc, targets, DocParams::default()).is_err());
    }
}
