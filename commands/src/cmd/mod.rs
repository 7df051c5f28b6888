//! Every command, one file each (CONVENTIONS #4): its struct, `parse`, its
//! [`Spec`], `run` and its tests side by side. [`Command`] lists them all so a
//! `match` must cover every one; [`ENTRIES`] is the table the parser, help and
//! "did you mean" are generated from.

use opsbot_policies::{Decision, Policy, Request};

use crate::change::ChangeCommand;
use crate::context::Context;
use crate::error::{GatewayError, UsageError};
use crate::ports::Gateways;
use crate::ports::store::Store;
use crate::reply::Reply;
use crate::spec::{Spec, suggest, tokenize};

pub mod alarms;
pub mod alert_ack;
pub mod alerts;
pub mod audit;
pub mod automation_run;
pub mod automation_status;
pub mod deploy;
pub mod help;
pub mod image;
pub mod param_get;
pub mod param_history;
pub mod param_hooks;
pub mod param_rollback;
pub mod param_set;
pub mod params;
pub mod pipeline;
pub mod pipeline_approve;
pub mod pipeline_args;
#[cfg(test)]
mod pipeline_flow_tests;
pub mod pipeline_follow;
pub mod pipeline_reject;
pub mod pipeline_retry;
pub mod pipeline_start;
pub mod pipeline_stop;
pub mod pipelines;
pub mod restart;
pub mod rollback;
mod rollout;
pub mod run_command;
pub mod scale;
pub mod service;
pub mod services;
pub mod ssm;
#[cfg(test)]
mod ssm_flow_tests;
pub mod whoami;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help(help::Help),
    Whoami(whoami::Whoami),
    Pipelines(pipelines::Pipelines),
    Pipeline(pipeline::Pipeline),
    Services(services::Services),
    Service(service::Service),
    Alarms(alarms::Alarms),
    Alerts(alerts::Alerts),
    AlertAck(alert_ack::AlertAck),
    ParamGet(param_get::ParamGet),
    Params(params::Params),
    ParamHistory(param_history::ParamHistory),
    Audit(audit::Audit),
    Scale(scale::Scale),
    PipelineStart(pipeline_start::PipelineStart),
    PipelineRetry(pipeline_retry::PipelineRetry),
    PipelineStop(pipeline_stop::PipelineStop),
    PipelineApprove(pipeline_approve::PipelineDecision),
    PipelineReject(pipeline_approve::PipelineDecision),
    Deploy(deploy::Deploy),
    Restart(restart::Restart),
    Rollback(rollback::Rollback),
    ParamSet(param_set::ParamSet),
    ParamRollback(param_rollback::ParamRollback),
    AutomationRun(automation_run::AutomationRun),
    AutomationStatus(automation_status::AutomationStatus),
    Run(run_command::RunCommand),
}

/// One row of the command table: the spec and how to parse the words after
/// the command's name.
pub struct Entry {
    pub spec: &'static Spec,
    parse: fn(&[String]) -> Result<Command, UsageError>,
}

/// Every command, in the order help lists them.
pub const ENTRIES: &[Entry] = &[
    Entry { spec: &pipelines::SPEC, parse: |a| pipelines::Pipelines::parse(a).map(Command::Pipelines) },
    Entry { spec: &pipeline::SPEC, parse: |a| pipeline::Pipeline::parse(a).map(Command::Pipeline) },
    Entry {
        spec: &pipeline_start::SPEC,
        parse: |a| pipeline_start::PipelineStart::parse(a).map(Command::PipelineStart),
    },
    Entry {
        spec: &pipeline_retry::SPEC,
        parse: |a| pipeline_retry::PipelineRetry::parse(a).map(Command::PipelineRetry),
    },
    Entry { spec: &pipeline_stop::SPEC, parse: |a| pipeline_stop::PipelineStop::parse(a).map(Command::PipelineStop) },
    Entry {
        spec: &pipeline_approve::SPEC,
        parse: |a| pipeline_approve::PipelineDecision::parse(a).map(Command::PipelineApprove),
    },
    Entry { spec: &pipeline_reject::SPEC, parse: |a| pipeline_reject::parse(a).map(Command::PipelineReject) },
    Entry { spec: &services::SPEC, parse: |a| services::Services::parse(a).map(Command::Services) },
    Entry { spec: &service::SPEC, parse: |a| service::Service::parse(a).map(Command::Service) },
    Entry { spec: &alarms::SPEC, parse: |a| alarms::Alarms::parse(a).map(Command::Alarms) },
    Entry { spec: &alerts::SPEC, parse: |a| alerts::Alerts::parse(a).map(Command::Alerts) },
    Entry { spec: &alert_ack::SPEC, parse: |a| alert_ack::AlertAck::parse(a).map(Command::AlertAck) },
    Entry { spec: &param_get::SPEC, parse: |a| param_get::ParamGet::parse(a).map(Command::ParamGet) },
    Entry { spec: &params::SPEC, parse: |a| params::Params::parse(a).map(Command::Params) },
    Entry { spec: &param_history::SPEC, parse: |a| param_history::ParamHistory::parse(a).map(Command::ParamHistory) },
    Entry { spec: &scale::SPEC, parse: |a| scale::Scale::parse(a).map(Command::Scale) },
    Entry { spec: &deploy::SPEC, parse: |a| deploy::Deploy::parse(a).map(Command::Deploy) },
    Entry { spec: &restart::SPEC, parse: |a| restart::Restart::parse(a).map(Command::Restart) },
    Entry { spec: &rollback::SPEC, parse: |a| rollback::Rollback::parse(a).map(Command::Rollback) },
    Entry { spec: &param_set::SPEC, parse: |a| param_set::ParamSet::parse(a).map(Command::ParamSet) },
    Entry {
        spec: &param_rollback::SPEC,
        parse: |a| param_rollback::ParamRollback::parse(a).map(Command::ParamRollback),
    },
    Entry {
        spec: &automation_run::SPEC,
        parse: |a| automation_run::AutomationRun::parse(a).map(Command::AutomationRun),
    },
    Entry {
        spec: &automation_status::SPEC,
        parse: |a| automation_status::AutomationStatus::parse(a).map(Command::AutomationStatus),
    },
    Entry { spec: &run_command::SPEC, parse: |a| run_command::RunCommand::parse(a).map(Command::Run) },
    Entry { spec: &audit::SPEC, parse: |a| audit::Audit::parse(a).map(Command::Audit) },
    Entry { spec: &whoami::SPEC, parse: |a| whoami::Whoami::parse(a).map(Command::Whoami) },
    Entry { spec: &help::SPEC, parse: |a| help::Help::parse(a).map(Command::Help) },
];

/// The entry whose name matches the most leading words (`param get` beats a
/// hypothetical `param`), with the number of words it used.
pub fn lookup(words: &[String]) -> Option<(&'static Entry, usize)> {
    let (short, long) = alert_ack::ALIAS;
    if words.first().is_some_and(|w| w.eq_ignore_ascii_case(short)) {
        return ENTRIES.iter().find(|e| e.spec.name == long).map(|entry| (entry, 1));
    }
    ENTRIES
        .iter()
        .filter_map(|entry| {
            let n = entry.spec.words().count();
            let matches =
                words.len() >= n && entry.spec.words().zip(words).all(|(want, got)| want.eq_ignore_ascii_case(got));
            matches.then_some((entry, n))
        })
        .max_by_key(|(_, n)| *n)
}

/// Names close to what was typed, for "did you mean".
pub fn did_you_mean(words: &[String]) -> Vec<String> {
    let first = words.first().map(String::as_str).unwrap_or_default();
    // Each name is held against as many typed words as it has, so that
    // `pipline storefront-web` is closest to `pipeline`, not `pipeline start`.
    let typed = |name: &str| words.iter().take(name.split(' ').count()).map(String::as_str).collect::<Vec<_>>();
    let mut scored: Vec<(f64, &str)> = ENTRIES
        .iter()
        .map(|e| e.spec.name)
        .map(|name| (typed(name).join(" "), name))
        .filter(|(typed, name)| !suggest(typed, [*name]).is_empty())
        .map(|(typed, name)| (strsim::jaro_winkler(&typed.to_lowercase(), name), name))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut out: Vec<String> = scored.into_iter().map(|(_, name)| name.to_owned()).collect();
    // A known first word with a wrong second one: offer that family (`param x`).
    if out.is_empty() {
        let family = ENTRIES.iter().map(|e| e.spec.name).filter(|n| n.split(' ').next() == Some(first));
        out.extend(family.map(str::to_owned));
    }
    out.truncate(3);
    out
}

/// The read-only commands open to everyone under the built-in policy.
pub fn default_policy() -> Policy {
    Policy::builtin(ENTRIES.iter().filter(|e| !e.spec.changes).map(|e| e.spec.name))
}

/// Written last on a change: run it despite a freeze or its own safety
/// checks (deployment in progress, alarms firing) — only where a policy rule
/// with `force: true` allows it. Part of the command line, so approvals bind it.
pub const FORCE: &str = "--force";

/// Whether a command line asks for `--force` (its last word).
pub fn is_forced(text: &str) -> bool {
    tokenize(text).ok().and_then(|words| words.last().cloned()).is_some_and(|last| last == FORCE)
}

impl Command {
    /// Parses a whole command line (without `/ops` or the bot mention).
    /// Empty text means `help`. A trailing `--force` is taken off a change
    /// (see [`FORCE`]) and refused on a read.
    pub fn parse(text: &str) -> Result<Command, UsageError> {
        let mut words = tokenize(text)?;
        if words.is_empty() {
            return Ok(Command::Help(help::Help::default()));
        }
        let Some((entry, used)) = lookup(&words) else {
            let mut err = UsageError::new(format!("I don't know the command `{}`", words[0]));
            err.suggestions = did_you_mean(&words);
            return Err(err);
        };
        if words.len() > used && words.last().is_some_and(|w| w == FORCE) {
            if !entry.spec.changes {
                let message = format!("`{FORCE}` is for changes; `{}` changes nothing — leave it out", entry.spec.name);
                return Err(UsageError::new(message).with_usage(entry.spec.usage()));
            }
            words.pop();
        }
        (entry.parse)(&words[used..]).map_err(|e| {
            let mut err = e.with_usage(entry.spec.usage());
            // `pipeline strat web`: the family's head matched, but the second
            // word was meant as one of its subcommands.
            if used == 1 && words.len() > 1 {
                let typed = words[1].to_lowercase();
                let close = |e: &&Entry| {
                    let sub = e.spec.name.strip_prefix(entry.spec.name).and_then(|rest| rest.strip_prefix(' '));
                    sub.is_some_and(|sub| strsim::jaro_winkler(&typed, sub) >= 0.85)
                };
                err.suggestions = ENTRIES.iter().filter(close).map(|e| e.spec.name.to_owned()).collect();
            }
            err
        })
    }

    pub fn spec(&self) -> &'static Spec {
        match self {
            Command::Help(_) => &help::SPEC,
            Command::Whoami(_) => &whoami::SPEC,
            Command::Pipelines(_) => &pipelines::SPEC,
            Command::Pipeline(_) => &pipeline::SPEC,
            Command::Services(_) => &services::SPEC,
            Command::Service(_) => &service::SPEC,
            Command::Alarms(_) => &alarms::SPEC,
            Command::Alerts(_) => &alerts::SPEC,
            Command::AlertAck(_) => &alert_ack::SPEC,
            Command::ParamGet(_) => &param_get::SPEC,
            Command::Params(_) => &params::SPEC,
            Command::ParamHistory(_) => &param_history::SPEC,
            Command::Audit(_) => &audit::SPEC,
            Command::Scale(_) => &scale::SPEC,
            Command::PipelineStart(_) => &pipeline_start::SPEC,
            Command::PipelineRetry(_) => &pipeline_retry::SPEC,
            Command::PipelineStop(_) => &pipeline_stop::SPEC,
            Command::PipelineApprove(_) => &pipeline_approve::SPEC,
            Command::PipelineReject(_) => &pipeline_reject::SPEC,
            Command::Deploy(_) => &deploy::SPEC,
            Command::Restart(_) => &restart::SPEC,
            Command::Rollback(_) => &rollback::SPEC,
            Command::ParamSet(_) => &param_set::SPEC,
            Command::ParamRollback(_) => &param_rollback::SPEC,
            Command::AutomationRun(_) => &automation_run::SPEC,
            Command::AutomationStatus(_) => &automation_status::SPEC,
            Command::Run(_) => &run_command::SPEC,
        }
    }

    /// The policy's decision on this command (typed as `canonical`) asked by
    /// `ctx`'s user, there and then.
    pub fn judge(&self, policy: &Policy, ctx: &Context, canonical: &str) -> Decision {
        let args = self.policy_args();
        let request = Request {
            command: self.spec().name,
            user: ctx.user.as_str(),
            groups: &ctx.groups,
            channel: ctx.channel.as_str(),
            args: &args,
            at: ctx.now,
            force: is_forced(canonical),
        };
        policy.evaluate(&request)
    }

    /// The change behind a command that alters something; `None` for reads.
    pub fn as_change(&self) -> Option<&dyn ChangeCommand> {
        match self {
            Command::Scale(c) => Some(c),
            Command::PipelineStart(c) => Some(c),
            Command::PipelineRetry(c) => Some(c),
            Command::PipelineStop(c) => Some(c),
            Command::PipelineApprove(c) | Command::PipelineReject(c) => Some(c),
            Command::Deploy(c) => Some(c),
            Command::Restart(c) => Some(c),
            Command::Rollback(c) => Some(c),
            Command::ParamSet(c) => Some(c),
            Command::ParamRollback(c) => Some(c),
            Command::AutomationRun(c) => Some(c),
            Command::Run(c) => Some(c),
            Command::AutomationStatus(_) => None,
            Command::Help(_)
            | Command::Whoami(_)
            | Command::Pipelines(_)
            | Command::Pipeline(_)
            | Command::Services(_)
            | Command::Service(_)
            | Command::Alarms(_)
            | Command::Alerts(_)
            | Command::AlertAck(_)
            | Command::ParamGet(_)
            | Command::Params(_)
            | Command::ParamHistory(_)
            | Command::Audit(_) => None,
        }
    }

    /// `canonical` (this command's canonical text) as it may be shown and
    /// audited: secret values masked.
    pub fn shown(&self, canonical: &str) -> String {
        match self {
            Command::ParamSet(c) => c.shown(),
            _ => canonical.to_owned(),
        }
    }

    /// Named arguments the policy engine matches on (`service`, `name`, ...).
    pub fn policy_args(&self) -> Vec<(&'static str, String)> {
        match self {
            Command::Help(_)
            | Command::Whoami(_)
            | Command::Pipelines(_)
            | Command::Alarms(_)
            | Command::Alerts(_)
            | Command::Audit(_) => vec![],
            Command::AlertAck(c) => vec![("name", c.alert.clone())],
            Command::Scale(c) => vec![("service", c.service.to_string()), ("count", c.count.to_string())],
            Command::Deploy(c) => {
                let revision = c.revision().map(|n| ("revision", n.to_string()));
                [("service", c.service.to_string())].into_iter().chain(revision).collect()
            }
            Command::Restart(c) => vec![("service", c.service.to_string())],
            Command::Rollback(c) => vec![("service", c.service.to_string())],
            // The value goes to the policy (rules may match on it); policies are local and never log it.
            Command::ParamSet(c) => vec![("name", c.name.to_string()), ("value", c.value.expose().to_owned())],
            Command::ParamRollback(c) => vec![("name", c.name.to_string())],
            Command::AutomationRun(c) => vec![("document", c.document.to_string())],
            Command::AutomationStatus(_) => vec![],
            Command::Run(c) => vec![("document", c.document.to_string()), ("targets", c.targets.to_string())],
            Command::Pipeline(c) => vec![("pipeline", c.name.to_string())],
            Command::PipelineStart(c) => vec![("pipeline", c.name.to_string())],
            Command::PipelineStop(c) => vec![("pipeline", c.name.to_string())],
            Command::PipelineRetry(c) => vec![("pipeline", c.name.to_string()), ("stage", c.stage.clone())],
            Command::PipelineApprove(c) | Command::PipelineReject(c) => {
                let at = c.at.iter().flat_map(|(s, a)| [("stage", s.clone()), ("action", a.clone())]);
                [("pipeline", c.name.to_string())].into_iter().chain(at).collect()
            }
            Command::Services(c) => c.cluster.iter().map(|cl| ("cluster", cl.to_string())).collect(),
            Command::Service(c) => vec![("service", c.service.to_string())],
            Command::ParamGet(c) => vec![("name", c.name.to_string())],
            Command::Params(c) => vec![("name", c.path.to_string())],
            Command::ParamHistory(c) => vec![("name", c.name.to_string())],
        }
    }

    /// Answers a read command. Changes go through the change flow instead.
    pub async fn run(
        &self,
        ctx: &Context,
        aws: &Gateways,
        store: &dyn Store,
        alerts: &dyn crate::ports::alerts::Alerts,
    ) -> Result<Reply, GatewayError> {
        match self {
            Command::Help(c) => Ok(c.run()),
            Command::Whoami(c) => Ok(c.run(ctx)),
            Command::Pipelines(c) => c.run(ctx, aws.pipelines.as_ref()).await,
            Command::Pipeline(c) => c.run(ctx, aws.pipelines.as_ref()).await,
            Command::Services(c) => c.run(ctx, aws.services.as_ref()).await,
            Command::Service(c) => c.run(ctx, aws.services.as_ref()).await,
            Command::Alarms(c) => c.run(ctx, aws.alarms.as_ref()).await,
            Command::Alerts(c) => c.run(ctx, alerts).await,
            Command::AlertAck(c) => c.run(ctx, alerts).await,
            Command::ParamGet(c) => c.run(ctx, aws.params.as_ref()).await,
            Command::Params(c) => c.run(ctx, aws.params.as_ref()).await,
            Command::ParamHistory(c) => c.run(ctx, aws.params.as_ref()).await,
            Command::Audit(c) => c.run(ctx, store).await,
            Command::AutomationStatus(c) => c.run(ctx, aws.automations.as_ref()).await,
            Command::Scale(_)
            | Command::PipelineStart(_)
            | Command::PipelineRetry(_)
            | Command::PipelineStop(_)
            | Command::PipelineApprove(_)
            | Command::PipelineReject(_)
            | Command::Deploy(_)
            | Command::Restart(_)
            | Command::Rollback(_)
            | Command::ParamSet(_)
            | Command::ParamRollback(_)
            | Command::AutomationRun(_)
            | Command::Run(_) => unreachable!("changes run through Ops::request_change"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_subcommand_is_offered_the_close_one() {
        let err = Command::parse("pipeline strat web").unwrap_err();
        assert_eq!(err.suggestions, ["pipeline start"], "{err:?}");
        let err = Command::parse("pipeline web extra").unwrap_err();
        assert!(err.suggestions.is_empty(), "nothing close: {err:?}");
    }

    #[test]
    fn the_longest_command_name_wins() {
        assert!(matches!(Command::parse("param get /a").unwrap(), Command::ParamGet(_)));
        assert!(matches!(Command::parse("PARAM HISTORY /a").unwrap(), Command::ParamHistory(_)));
        assert!(matches!(Command::parse("pipelines").unwrap(), Command::Pipelines(_)));
    }

    #[test]
    fn empty_text_shows_help() {
        assert!(matches!(Command::parse("   ").unwrap(), Command::Help(_)));
    }

    #[test]
    fn a_misspelt_command_is_matched_word_for_word() {
        let err = Command::parse("pipline storefront-web").unwrap_err();
        assert_eq!(err.suggestions.first().map(String::as_str), Some("pipeline"), "{:?}", err.suggestions);
    }

    #[test]
    fn unknown_commands_suggest_close_names() {
        let err = Command::parse("pipline web").unwrap_err();
        assert!(err.message.contains("`pipline`"), "{}", err.message);
        assert!(err.suggestions.contains(&"pipeline".to_string()), "{:?}", err.suggestions);
    }

    #[test]
    fn a_wrong_subcommand_offers_the_family() {
        let err = Command::parse("param zap /a").unwrap_err();
        assert!(err.suggestions.iter().all(|s| s.starts_with("param")), "{:?}", err.suggestions);
        assert!(!err.suggestions.is_empty());
    }

    #[test]
    fn argument_errors_carry_the_usage_line() {
        let err = Command::parse("service").unwrap_err();
        assert_eq!(err.usage.as_deref(), Some("service CLUSTER/NAME"));
    }

    #[test]
    fn every_spec_has_a_unique_name_and_an_example_that_parses() {
        let mut names: Vec<_> = ENTRIES.iter().map(|e| e.spec.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ENTRIES.len());
        for entry in ENTRIES {
            let parsed = Command::parse(entry.spec.example).unwrap_or_else(|e| panic!("{}: {e}", entry.spec.example));
            assert_eq!(parsed.spec().name, entry.spec.name, "example of {}", entry.spec.name);
        }
    }
}
