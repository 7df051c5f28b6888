//! `opsbot policy check` and `opsbot policy lint`: ask the policy what it
//! would decide, or validate a policy, without Slack or AWS.
//!
//! Exit codes are part of the interface (scripts and CI gate on them):
//! check → 0 allow, 1 deny, 3 needs approval, 2 bad input; lint → 0 valid,
//! 2 invalid.
//!
//! `lint` is the policy part of `opsbot config check` (the same loader,
//! `settings::load_policy`), and also takes a standalone policy file; it
//! does not look at the config file's other settings — `config check` does.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use opsbot_commands::Command;
use opsbot_commands::cmd::resolve;
use opsbot_commands::target::{ACCOUNT, AccountNames, REGION};
use opsbot_policies::{Decision, Policy, Request};
use serde_json::json;

use crate::settings::LoadedPolicy;

/// `opsbot policy …`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum PolicyCommand {
    /// What would the policy decide? Exit 0 allow, 1 deny, 3 approval, 2 bad input.
    Check(CheckArgs),
    /// Validate a config file's policies or a policy file. Exit 0 valid, 2 invalid.
    Lint {
        /// The file (default: --config / OPSBOT_CONFIG).
        file: Option<PathBuf>,
    },
}

/// Runs `command` against the settings in `config`: the answer to print and
/// its exit code.
pub fn run(command: &PolicyCommand, config: Option<&Path>) -> (String, ExitCode) {
    let (out, code) = match command {
        PolicyCommand::Lint { file } => match file.as_deref().or(config) {
            Some(file) => lint(file),
            None => ("name the file to check: opsbot policy lint FILE (or --config FILE)".into(), 2),
        },
        PolicyCommand::Check(args) => match crate::settings::Settings::load(config, |k| std::env::var(k).ok()) {
            Ok(settings) => check(&settings.policy(), &settings.accounts.names(), args),
            Err(err) => (err.to_string(), 2),
        },
    };
    (out, ExitCode::from(code))
}

/// What `policy check` is asked.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    /// Slack user id of the requester.
    #[arg(long)]
    pub user: String,
    /// Slack user-group id the user belongs to (repeatable).
    #[arg(long = "group")]
    pub groups: Vec<String>,
    /// Channel id the command would be typed in.
    #[arg(long)]
    pub channel: String,
    /// When (RFC 3339); default now. Freeze windows depend on it.
    #[arg(long)]
    pub at: Option<DateTime<Utc>>,
    /// The account of `aws.accounts` the command would act in (or write `NAME:` before its first argument).
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,
    /// The region the command would act in (default: the account's own, else the bot's).
    #[arg(long, value_name = "R")]
    pub region: Option<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// The command, as typed after `/ops`.
    #[arg(last = true, required = true)]
    pub command: Vec<String>,
}

/// The verdict as text (or JSON) and the exit code.
/// The line is resolved against the configured `accounts` as the bot does,
/// so the account it acts in is what the policy sees.
pub fn check(policy: &Policy, accounts: &AccountNames, args: &CheckArgs) -> (String, u8) {
    let mut text = args.command.join(" ");
    if let Some(account) = &args.account {
        text = format!("{text} {ACCOUNT} {account}");
    }
    if let Some(region) = &args.region {
        text = format!("{text} {REGION} {region}");
    }
    let parsed = resolve(&text, accounts).and_then(|line| Ok((Command::parse(&line)?, line)));
    let (command, text) = match parsed {
        Ok(parsed) => parsed,
        Err(err) => return (format!("cannot parse `{text}`: {err}"), 2),
    };
    let named = command.policy_args_in(&text);
    let request = Request {
        command: command.spec().name,
        user: &args.user,
        groups: &args.groups,
        channel: &args.channel,
        args: &named,
        at: args.at.unwrap_or_else(Utc::now),
        force: opsbot_commands::cmd::is_forced(&text),
    };
    let decision = policy.evaluate(&request);
    let code = match decision {
        Decision::Allow { .. } => 0,
        Decision::Deny { .. } => 1,
        Decision::NeedsApproval { .. } => 3,
    };
    let rule = decision.rule().map(|r| r.to_string());
    let out = if args.json {
        json!({
            "decision": decision.kind(),
            "approvers": decision.approvers(),
            "rule": rule,
            "reason": decision.reason(),
        })
        .to_string()
    } else {
        let verdict = match decision.approvers() {
            Some(role) => format!("APPROVAL by {role}"),
            None => decision.kind().to_uppercase(),
        };
        let rule = rule.map(|r| format!("\nrule: {r}")).unwrap_or_else(|| "\nrule: (none: built-in or default)".into());
        format!("{verdict}\nreason: {}{rule}", decision.reason())
    };
    (out, code)
}

/// Validates `file`: a config file with a `policies:` key, or a standalone
/// policy file. Returns what to print (every problem, each with its place)
/// and the exit code.
pub fn lint(file: &Path) -> (String, u8) {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(err) => return (format!("cannot read {}: {err}", file.display()), 2),
    };
    let loaded = match crate::settings::load_policy(file, &text) {
        Ok(LoadedPolicy { policy: Some(policy), .. }) => Ok((policy, " — its other settings: opsbot config check")),
        // No `policies:` key: the file itself may be a policy file.
        Ok(LoadedPolicy { policy: None, .. }) => {
            let known: Vec<&str> = opsbot_commands::cmd::ENTRIES.iter().map(|e| e.spec.name).collect();
            Policy::check_yaml(&text, file, &known).map(|policy| (Arc::new(policy), ""))
        }
        Err(problems) => Err(problems),
    };
    match loaded {
        Ok((policy, rest)) => {
            let (rules, roles) = (policy.rule_count(), policy.roles().len());
            (format!("{}: valid ({rules} rules, {roles} roles){rest}", file.display()), 0)
        }
        Err(problems) => (problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"), 2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = "roles:\n  leads: { users: [U0LEAD] }\n  devs: { everyone: true }\nrules:\n  - allow: [scale]\n    to: devs\n    where: { service: \"^staging/\" }\n  - allow: [scale]\n    to: devs\n    where: { service: \"^prod/\" }\n    approval: { by: leads, ttl: 30m }\n";

    fn policy() -> Policy {
        let known: Vec<&str> = opsbot_commands::cmd::ENTRIES.iter().map(|e| e.spec.name).collect();
        Policy::from_yaml(POLICY, Path::new("policies.yaml"), &known).unwrap()
    }

    /// `policy check` of `command` by U0DEV in C0OPS, now.
    fn args(command: &str, account: Option<&str>, region: Option<&str>, json: bool) -> CheckArgs {
        CheckArgs {
            user: "U0DEV".into(),
            groups: vec![],
            channel: "C0OPS".into(),
            at: None,
            account: account.map(Into::into),
            region: region.map(Into::into),
            json,
            command: command.split(' ').map(str::to_owned).collect(),
        }
    }

    fn ask(command: &str, json: bool) -> (String, u8) {
        check(&policy(), &AccountNames::default(), &args(command, None, None, json))
    }

    #[test]
    fn the_account_a_command_acts_in_is_judged_by_flag_or_by_prefix() {
        let yaml = "roles:\n  devs: { everyone: true }\nrules:\n  - allow: [scale]\n    to: devs\n    where: { account: \"^staging$\" }\n";
        let known: Vec<&str> = opsbot_commands::cmd::ENTRIES.iter().map(|e| e.spec.name).collect();
        let policy = Policy::from_yaml(yaml, Path::new("policies.yaml"), &known).unwrap();
        let accounts = AccountNames::new(vec!["prod".into(), "staging".into()], None);
        let ask = |line: &str, account: Option<&str>| check(&policy, &accounts, &args(line, account, None, false));
        assert_eq!(ask("scale web/api 3", Some("staging")).1, 0);
        assert_eq!(ask("scale staging:web/api 3", None).1, 0);
        assert_eq!(ask("scale prod:web/api 3", None).1, 1);
        let (out, code) = ask("scale web/api 3", Some("qa"));
        assert_eq!(code, 2, "{out}");
        assert!(out.contains("I don't know the account `qa`"), "{out}");
    }

    #[test]
    fn the_region_a_command_acts_in_is_judged_by_flag_or_by_its_accounts_own() {
        let yaml = "roles:\n  devs: { everyone: true }\nrules:\n  - allow: [scale]\n    to: devs\n    where: { region: \"^eu-\" }\n";
        let known: Vec<&str> = opsbot_commands::cmd::ENTRIES.iter().map(|e| e.spec.name).collect();
        let policy = Policy::from_yaml(yaml, Path::new("policies.yaml"), &known).unwrap();
        let accounts = AccountNames::new(vec!["prod".into(), "staging".into()], None)
            .with_regions(vec![("prod".into(), "eu-west-1".into())]);
        let ask = |line: &str, region: Option<&str>| check(&policy, &accounts, &args(line, None, region, false)).1;
        assert_eq!(ask("scale staging:web/api 3", Some("eu-central-1")), 0);
        assert_eq!(ask("scale prod:web/api 3", None), 0, "prod's own region");
        assert_eq!(ask("scale prod:web/api 3", Some("us-east-1")), 1);
        assert_eq!(ask("scale web/api 3", None), 1, "the bot's own region is not named");
    }

    #[test]
    fn an_allowed_command_exits_0_and_names_its_rule() {
        let (out, code) = ask("scale staging/api 3", false);
        assert_eq!(code, 0, "{out}");
        assert!(out.starts_with("ALLOW") && out.contains("rule: policies.yaml:5"), "{out}");
    }

    #[test]
    fn a_command_needing_approval_exits_3_with_its_approvers_in_json() {
        let (out, code) = ask("scale prod/api 3", true);
        assert_eq!(code, 3, "{out}");
        let json: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!((json["decision"].as_str(), json["approvers"].as_str()), (Some("approval"), Some("leads")));
        assert_eq!(json["rule"], "policies.yaml:8");
    }

    #[test]
    fn a_denied_command_exits_1_and_bad_input_exits_2() {
        assert_eq!(ask("scale qa/api 3", false).1, 1);
        assert_eq!(ask("scale nonsense", false).1, 2);
    }

    #[test]
    fn a_forced_command_is_judged_as_forced() {
        let (out, code) = ask("scale staging/api 3 --force", false);
        assert_eq!(code, 1, "no rule here allows force: {out}");
        assert!(out.contains("no rule lets you force `scale`"), "{out}");
    }

    #[test]
    fn lint_reports_the_place_of_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policies.yaml");
        std::fs::write(
            &path,
            POLICY
                .replace("to: devs\n    where: { service: \"^prod/\" }", "to: dev\n    where: { service: \"^prod/\" }"),
        )
        .unwrap();
        let (out, code) = lint(&path);
        assert_eq!(code, 2);
        assert!(out.contains("policies.yaml:9:") && out.contains("devs"), "{out}");
        std::fs::write(&path, POLICY).unwrap();
        assert_eq!(lint(&path).1, 0);
    }

    #[test]
    fn lint_reports_every_policy_problem_and_points_a_config_file_to_config_check() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("opsbot.yaml");
        let config = "server:\n  lisen: x\npolicies:\n  roles: { devs: { everyone: true } }\n  rules:\n    - { allow: [scael], to: devs }\n    - { allow: [scale], to: dev }\n";
        std::fs::write(&path, config).unwrap();
        let (out, code) = lint(&path);
        assert_eq!(code, 2);
        assert!(out.contains("opsbot.yaml:6:") && out.contains("opsbot.yaml:7:"), "both rules: {out}");
        std::fs::write(&path, config.replace("scael", "scale").replace("to: dev }", "to: devs }")).unwrap();
        let (out, code) = lint(&path);
        assert_eq!(code, 0, "lint checks the policy only: {out}");
        assert!(out.ends_with("— its other settings: opsbot config check"), "{out}");
    }
}
