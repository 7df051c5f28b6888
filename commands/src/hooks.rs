//! The `on_param_change` hooks as configured: which documents a write under a
//! prefix starts, and whether the policy lets one run for a requester. A
//! value the gateways carry ([`crate::ports::Gateways::param_hooks`]);
//! starting and following them after a write is `cmd::param_hooks`.
//!
//! # Decisions
//! - A hook's document is sent as the command `run` by the same requester in
//!   the same channel, judged by the same policy with `document` and
//!   `targets`. Only a plain allow runs it.
//! - Every hook whose prefix the name starts with runs, in config order.
//! - Hooks are judged and run where the write is: the change's gateways
//!   carry them [`ParamHooks::in_target`] its account and region, so the
//!   policy sees `account` and `region` as for the write itself (and so do
//!   `params apply`'s per-parameter `param set` checks), and the run goes to
//!   that account's Run Command. A hook that may not run is offered as the
//!   `run` line to ask for, naming the same account and region.

use std::sync::Arc;

use opsbot_policies::{Decision, Policy, Request};

use crate::live_policy::LivePolicy;

use crate::context::Context;
use crate::error::UsageError;
use crate::target::Target;
use crate::values::ParamName;
use crate::values::ssm::{DocParams, DocumentName, Targets};

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

    /// [`ParamHook::command_line`] acting in `target` (its flags after the arguments).
    pub fn command_line_in(&self, target: &Target) -> String {
        std::iter::once(self.command_line()).chain(target.words()).collect::<Vec<_>>().join(" ")
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
    policy: LivePolicy,
    /// Where the write that triggers them acts (home: the bot's own account and region).
    target: Target,
}

impl Default for ParamHooks {
    fn default() -> Self {
        ParamHooks::new(Vec::new(), Arc::new(Policy::reads_for_everyone([])))
    }
}

impl ParamHooks {
    pub fn new(hooks: Vec<ParamHook>, policy: impl Into<LivePolicy>) -> Self {
        ParamHooks { hooks, policy: policy.into(), target: Target::default() }
    }

    /// These hooks for a write in `target`: judged with its account and
    /// region (the gateways they come with act there).
    pub fn in_target(&self, target: &Target) -> Self {
        ParamHooks { target: target.clone(), ..self.clone() }
    }

    /// Where the write that triggers them acts.
    pub fn target(&self) -> &Target {
        &self.target
    }

    pub(crate) fn matching<'a>(&'a self, name: &'a ParamName) -> impl Iterator<Item = &'a ParamHook> {
        self.hooks.iter().filter(move |h| h.matches(name))
    }

    pub(crate) fn allows(&self, ctx: &Context, hook: &ParamHook) -> Result<(), String> {
        match self.decide(ctx, "run", &hook.policy_args()) {
            Decision::Allow { .. } => Ok(()),
            Decision::NeedsApproval { approvers, .. } => Err(format!("it would need approval by {approvers}")),
            Decision::Deny { reason, .. } => Err(format!("it is not allowed: {reason}")),
        }
    }

    /// What the policy says to the requester's `param set` of `name`: how
    /// `params apply` is judged parameter by parameter, so the prefixes a
    /// team's `param set` rules allow bound what an apply may write, and the
    /// approvals they need bind an apply too. `Ok(None)`: allowed as is;
    /// `Ok(Some(..))`: only with that approval; `Err`: denied, with why.
    pub(crate) fn may_set(&self, ctx: &Context, name: &ParamName) -> Result<Option<NeededApproval>, String> {
        match self.decide(ctx, "param set", &[("name", name.to_string())]) {
            Decision::Allow { .. } => Ok(None),
            Decision::Deny { reason, .. } => Err(reason),
            Decision::NeedsApproval { approvers, rule, .. } => {
                let rule = rule.map(|r| format!(" (rule {r})")).unwrap_or_default();
                let why = format!(
                    "`{name}` needs approval by {approvers} under `param set`{rule}; ask with a `params apply` rule that requires the same approval"
                );
                Ok(Some(NeededApproval { role: approvers, why }))
            }
        }
    }

    /// The policy's decision on `command` with `args` by the requester there
    /// and then, in the account and region of the write (`account`, `region`).
    fn decide(&self, ctx: &Context, command: &str, args: &[(&'static str, String)]) -> Decision {
        let mut args = args.to_vec();
        args.extend(self.target.account.clone().map(|a| ("account", a)));
        args.extend(self.target.region.clone().map(|r| ("region", r)));
        let request = Request {
            command,
            user: ctx.user.as_str(),
            groups: &ctx.groups,
            channel: ctx.channel.as_str(),
            args: &args,
            at: ctx.now,
            force: false,
        };
        self.policy.current().evaluate(&request)
    }
}

/// One part of a change that needs an approval by `role` (see [`crate::change::Verdict::NeedsApproval`]); `param set` rules
/// that ask one give it to `params apply` (hooks sit below `change`, which
/// re-exports it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeededApproval {
    pub role: String,
    /// Names the part and the rule that wants the approval, and how to ask.
    pub why: String,
}

impl NeededApproval {
    /// The reasons of the parts an approval by `role` (none: `None`) does not cover.
    pub fn uncovered(needed: &[NeededApproval], role: Option<&str>) -> Vec<String> {
        needed.iter().filter(|n| Some(n.role.as_str()) != role).map(|n| n.why.clone()).collect()
    }
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
        assert!(crate::cmd::Command::parse(&hook("/x/").command_line()).is_ok());
    }

    #[test]
    fn a_prefix_must_be_a_path() {
        let doc = DocumentName::parse("AWS-RunShellScript").unwrap();
        let targets = Targets::parse("i-12345678").unwrap();
        assert!(ParamHook::new("shop/", doc, targets, DocParams::default()).is_err());
    }
}
