//! Every command, one file each (CONVENTIONS #4): its struct, its [`Spec`],
//! its [`CommandDef`] (parse, policy arguments, read or change) and its tests
//! side by side, plus the helpers some of them share (`pipeline_args`,
//! `pipeline_follow`, `rollout`, `image`, `ssm`, `param_hooks`, `drift`,
//! `stopped_tasks` (why a failed rollout's tasks stopped, also shown by the
//! notifier), and `memo`: what `act` keeps for `check`, which a replica resumes).
//!
//! `with_commands!` is the one list of commands, in the order help shows
//! them; from it come the [`Command`] enum (so a `match` must cover every
//! one), [`ENTRIES`] (the table the parser, help and "did you mean" read) and
//! the dispatch ([`Command::spec`], [`Command::body`], ...). Adding a command
//! is its file plus one line in that list.
//!
//! The command files never import this module: what they share is below it
//! (`command`, `spec`, `context`, ...). `help`, which lists every command,
//! expands the same list itself.

use opsbot_policies::{Decision, Policy, Request};

use crate::change::ChangeCommand;
use crate::command::{Body, CommandDef, Reach};
use crate::context::Context;
use crate::error::{GatewayResult, UsageError};
use crate::reply::Reply;
use crate::spec::{self, Spec, quoted, tokenize};
use crate::target::{AccountNames, Target};

/// Every command, in the order help lists them: `Variant(module::Type)`,
/// where `Type` implements [`CommandDef`]. Calls `$then!` with the list.
macro_rules! with_commands {
    ($then:ident) => {
        $then! {
            Pipelines(pipelines::Pipelines),
            Pipeline(pipeline::Pipeline),
            PipelineStart(pipeline_start::PipelineStart),
            PipelineRetry(pipeline_retry::PipelineRetry),
            PipelineStop(pipeline_stop::PipelineStop),
            PipelineApprove(pipeline_approve::PipelineDecision),
            PipelineReject(pipeline_reject::PipelineReject),
            Services(services::Services),
            Service(service::Service),
            Alarms(alarms::Alarms),
            Alerts(alerts::Alerts),
            AlertAck(alert_ack::AlertAck),
            ParamGet(param_get::ParamGet),
            Params(params::Params),
            ParamsDiff(params_diff::ParamsDiff),
            ParamHistory(param_history::ParamHistory),
            Scale(scale::Scale),
            Deploy(deploy::Deploy),
            Restart(restart::Restart),
            Rollback(rollback::Rollback),
            ParamSet(param_set::ParamSet),
            ParamRollback(param_rollback::ParamRollback),
            ParamsApply(params_apply::ParamsApply),
            AutomationRun(automation_run::AutomationRun),
            AutomationStatus(automation_status::AutomationStatus),
            Run(run_command::RunCommand),
            Audit(audit::Audit),
            Whoami(whoami::Whoami),
            Help(help::Help),
        }
    };
}

pub mod alarms;
pub mod alert_ack;
pub mod alerts;
pub mod audit;
pub mod automation_run;
pub mod automation_status;
pub mod deploy;
pub mod drift;
pub mod help;
pub mod image;
pub mod memo;
pub mod param_get;
pub mod param_history;
pub mod param_hooks;
pub mod param_rollback;
pub mod param_set;
pub mod params;
pub mod params_apply;
pub mod params_diff;
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
pub mod preflight;
pub mod restart;
#[cfg(test)]
mod resume_tests;
pub mod rollback;
mod rollout;
pub mod run_command;
pub mod scale;
pub mod service;
pub mod services;
pub mod ssm;
#[cfg(test)]
mod ssm_flow_tests;
pub mod stopped_tasks;
pub mod whoami;

/// One row of the command table: the spec and how to parse the words after
/// the command's name.
pub struct Entry {
    pub spec: &'static Spec,
    parse: fn(&[String]) -> Result<Command, UsageError>,
}

/// Generates [`Command`], [`ENTRIES`] and the dispatch from the list.
macro_rules! command_table {
    ($($variant:ident($module:ident::$ty:ident),)*) => {
        /// A parsed command line: one variant per command.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Command {
            $($variant($module::$ty),)*
        }

        /// Every command's spec, in the order help lists them.
        const SPECS: &[&Spec] = &[$(<$module::$ty as CommandDef>::SPEC,)*];

        /// Every command, in the order help lists them.
        pub const ENTRIES: &[Entry] = &[
            $(Entry {
                spec: <$module::$ty as CommandDef>::SPEC,
                parse: |args| <$module::$ty as CommandDef>::parse(args).map(Command::$variant),
            },)*
        ];

        impl Command {
            pub fn spec(&self) -> &'static Spec {
                match self {
                    $(Command::$variant(_) => <$module::$ty as CommandDef>::SPEC,)*
                }
            }

            /// What the command does: a read or a change.
            pub fn body(&self) -> Body<'_> {
                match self {
                    $(Command::$variant(c) => CommandDef::body(c),)*
                }
            }

            /// Named arguments the policy engine matches on (`service`, `name`, ...).
            pub fn policy_args(&self) -> Vec<(&'static str, String)> {
                match self {
                    $(Command::$variant(c) => CommandDef::policy_args(c),)*
                }
            }

            /// `canonical` (this command's canonical text) as it may be shown and
            /// audited: secret values masked, where it acts always named.
            pub fn shown(&self, canonical: &str) -> String {
                let shown = match self {
                    $(Command::$variant(c) => CommandDef::shown(c, canonical),)*
                };
                let target = Target::of_line(canonical);
                if Target::of_line(&shown) == target {
                    return shown;
                }
                target.words().iter().fold(shown, |line, word| format!("{line} {word}"))
            }
        }
    };
}

with_commands!(command_table);

/// The entry whose name matches the most leading words (`param get` beats a
/// hypothetical `param`), or whose alias is the first word, with the number
/// of words it used.
pub fn lookup(words: &[String]) -> Option<(&'static Entry, usize)> {
    let (spec, used) = spec::lookup(SPECS, words)?;
    ENTRIES.iter().find(|e| e.spec.name == spec.name).map(|entry| (entry, used))
}

/// Names close to what was typed, for "did you mean".
pub fn did_you_mean(words: &[String]) -> Vec<String> {
    spec::did_you_mean(SPECS, words)
}

/// The read-only commands open to everyone under the built-in policy.
pub fn default_policy() -> Policy {
    Policy::builtin(ENTRIES.iter().filter(|e| !e.spec.changes).map(|e| e.spec.name))
}

/// Written last on a change: run it despite a freeze or its own safety
/// checks (deployment in progress, alarms firing) — only where a policy rule
/// with `force: true` allows it. Part of the command line, so approvals bind it.
pub const FORCE: &str = "--force";

/// `text` as typed, in its canonical form with its target resolved against
/// the configured `accounts` (see [`crate::target`]): the line that is
/// parsed, judged, hashed, shown and stored. A line whose command is not
/// known is only made canonical; parsing it says what is wrong.
pub fn resolve(text: &str, accounts: &AccountNames) -> Result<String, UsageError> {
    let mut words = tokenize(text)?;
    let typed = Target::take(&mut words)?;
    let forced = words.len() > 1 && words.last().is_some_and(|w| w == FORCE);
    if forced {
        words.pop();
    }
    let Some((_, used)) = lookup(&words) else { return spec::canonical(text) };
    let target = accounts.resolve(typed, &mut words, used)?;
    words.extend(target.words());
    if forced {
        words.push(FORCE.to_owned());
    }
    Ok(words.iter().map(|w| quoted(w)).collect::<Vec<_>>().join(" "))
}

/// Whether a command line asks for `--force` (its last word).
pub fn is_forced(text: &str) -> bool {
    tokenize(text).ok().and_then(|words| words.last().cloned()).is_some_and(|last| last == FORCE)
}

impl Command {
    /// Parses a whole command line (without `/ops` or the bot mention).
    /// Empty text means `help`. A trailing `--force` is taken off a change
    /// (see [`FORCE`]) and refused on a read.
    /// `--account` / `--region` are taken off wherever they are: where a
    /// command acts is not part of what it is ([`Target`]).
    pub fn parse(text: &str) -> Result<Command, UsageError> {
        let mut words = tokenize(text)?;
        Target::take(&mut words)?;
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

    /// The policy's decision on this command (typed as `canonical`) asked by
    /// `ctx`'s user, there and then.
    pub fn judge(&self, policy: &Policy, ctx: &Context, canonical: &str) -> Decision {
        let args = self.policy_args_in(canonical);
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

    /// The named arguments the policy matches on for this command typed as
    /// `canonical`: its own, the account it acts in (`--account`) as `account`
    /// and the region it names (`--region`, or the account's own) as `region`.
    pub fn policy_args_in(&self, canonical: &str) -> Vec<(&'static str, String)> {
        let mut args = self.policy_args();
        let target = Target::of_line(canonical);
        args.extend(target.account.map(|a| ("account", a)));
        args.extend(target.region.map(|r| ("region", r)));
        args
    }

    /// The change behind a command that alters something; `None` for reads.
    pub fn as_change(&self) -> Option<&dyn ChangeCommand> {
        match self.body() {
            Body::Change(change) => Some(change),
            Body::Read(_) => None,
        }
    }

    /// Answers a read command. Changes go through the change lifecycle instead.
    pub async fn run(&self, ctx: &Context, reach: &Reach<'_>) -> GatewayResult<Reply> {
        match self.body() {
            Body::Read(read) => read.read(ctx, reach).await,
            Body::Change(_) => unreachable!("changes run through Changes::request"),
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
