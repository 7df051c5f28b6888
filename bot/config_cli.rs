//! `opsbot config check`: loads everything `serve` would — settings, the
//! policy, notification routes, `on_param_change` hooks, the store choice —
//! without connecting to Slack or AWS, and reports every problem at once,
//! each as `FILE:LINE:COLUMN: what is wrong — what to write`, then a summary.
//!
//! Exit codes are part of the interface (CI gates on them): 0 when `serve`
//! would start with this configuration, 1 when it would refuse.
//!
//! # Decisions
//! - One implementation: the checks are [`Settings::load`]'s, which reports
//!   every problem it finds; `policy lint` is the policy part of it
//!   ([`crate::settings::load_policy`]).
//! - Slack secrets come only from the environment, which differs between a
//!   CI job and the host that runs the bot; they are checked only when
//!   `--transport` names the transport they are for.
//! - What needs the network (the DynamoDB table, tokens Slack accepts) is
//!   left to `serve`; a SQLite store's directory is checked, as opening the
//!   file would fail there.

use std::path::Path;
use std::process::ExitCode;

use crate::app::{self, Transport};
use crate::settings::{Settings, SettingsError, StoreChoice};

/// `opsbot config …`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ConfigCommand {
    /// Load everything `serve` would, without connecting; report every
    /// problem with file:line:column. Exit 0 ok, 1 problems.
    Check {
        /// Also check the secrets this transport needs (SLACK_* variables).
        #[arg(long, value_enum)]
        transport: Option<Transport>,
    },
}

/// Runs `command` on `config` with the process environment: the report to
/// print and its exit code.
pub fn run(command: &ConfigCommand, config: Option<&Path>) -> (String, ExitCode) {
    let ConfigCommand::Check { transport } = command;
    let (out, code) = check(config, *transport, |k| std::env::var(k).ok());
    (out, ExitCode::from(code))
}

/// The report and the exit code for `config` (`None`: built-in defaults and
/// the environment), with the secrets of `transport` if given.
pub fn check(
    config: Option<&Path>,
    transport: Option<Transport>,
    env: impl Fn(&str) -> Option<String>,
) -> (String, u8) {
    let loaded = Settings::load(config, &env);
    let mut problems: Vec<String> = match &loaded {
        Ok(_) => Vec::new(),
        Err(err) => err_lines(err),
    };
    if let Some(transport) = transport {
        // Secrets are read from the environment alone, so they can be checked
        // even when the file is broken.
        if let Some(settings) = loaded.as_ref().ok().cloned().or_else(|| Settings::load(None, &env).ok()) {
            problems.extend(app::check(&settings, transport).err().map(|e| e.to_string()));
        }
    }
    if let Ok(settings) = &loaded {
        problems.extend(store_problem(settings));
    }
    let shown = config.map_or_else(|| "built-in defaults".to_owned(), |p| p.display().to_string());
    match (&loaded, problems.len()) {
        (Ok(settings), 0) => (format!("config ok: {shown}: {}", summary(settings, transport)), 0),
        (_, n) => {
            let noun = if n == 1 { "problem" } else { "problems" };
            problems.push(format!("config check: {n} {noun} in {shown} — `opsbot serve` would refuse to start"));
            (problems.join("\n"), 1)
        }
    }
}

fn err_lines(err: &SettingsError) -> Vec<String> {
    match err {
        SettingsError::Several(all) => all.iter().map(ToString::to_string).collect(),
        one => vec![one.to_string()],
    }
}

/// A SQLite file in a directory that is not there cannot be created.
fn store_problem(settings: &Settings) -> Option<String> {
    let StoreChoice::Sqlite(Some(path)) = &settings.store else { return None };
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty())?;
    let at = settings.store_set_at.as_deref().unwrap_or("store.path");
    (!dir.is_dir()).then(|| {
        format!(
            "{at}: the store's directory {} does not exist — create it (SQLite makes the file, not its directory) \
             or set store.path / OPSBOT_STORE elsewhere",
            dir.display()
        )
    })
}

/// What was checked: "policy v… (N rules, M roles), R routes, H hooks, store …, secrets …".
fn summary(settings: &Settings, transport: Option<Transport>) -> String {
    let policy = settings.policy();
    let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let store = match &settings.store {
        StoreChoice::Sqlite(Some(path)) => format!("store sqlite at {}", path.display()),
        StoreChoice::Sqlite(None) => "store sqlite in memory".to_owned(),
        StoreChoice::DynamoDb { table } => format!("store dynamodb table {table} (not reached: `serve` checks it)"),
    };
    let secrets = match transport {
        Some(Transport::Socket) => "Slack secrets for socket set".to_owned(),
        Some(Transport::Http) => "Slack secrets for http set".to_owned(),
        None => "Slack secrets not checked (add --transport socket|http)".to_owned(),
    };
    let version =
        if settings.policy.is_some() { format!("v{}", settings.policy_version.id) } else { "built-in".into() };
    format!(
        "policy {version} ({}, {}), {}, {}, {store}, {secrets}",
        plural(policy.rule_count(), "rule", "rules"),
        plural(policy.roles().len(), "role", "roles"),
        plural(settings.notifications.routes.len(), "route", "routes"),
        plural(settings.on_param_change.len(), "hook", "hooks"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(yaml: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("opsbot.yaml");
        std::fs::write(&path, yaml.replace("DIR", &dir.path().display().to_string())).unwrap();
        (dir, path)
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    const GOOD: &str = "store:\n  path: DIR/opsbot.db\npolicies:\n  roles: { devs: { everyone: true } }\n  rules:\n    - { allow: [scale], to: devs }\nnotifications:\n  default_channel: C0OPS\n  routes:\n    - { match: { kind: alarm }, channel: C0OPS, mention: devs }\n";

    #[test]
    fn a_clean_config_exits_0_and_says_what_was_checked() {
        let (dir, path) = config(GOOD);
        let (out, code) = check(Some(&path), None, no_env);
        assert_eq!(code, 0, "{out}");
        assert!(out.starts_with(&format!("config ok: {}: policy v", path.display())), "{out}");
        let store = dir.path().join("opsbot.db");
        assert!(out.contains(&format!("(1 rule, 1 role), 1 route, 0 hooks, store sqlite at {}", store.display())));
        assert!(out.contains("Slack secrets not checked (add --transport socket|http)"), "{out}");
    }

    #[test]
    fn a_misspelt_settings_key_and_every_policy_problem_are_all_reported_with_places_and_exit_1() {
        let yaml = "server:\n  lisen: 0.0.0.0:8080\npolicies:\n  roles: { devs: { everyone: true } }\n  rules:\n    - { allow: [deploi], to: devs }\n    - { allow: [scale], to: dev }\n";
        let (_dir, path) = config(yaml);
        let (out, code) = check(Some(&path), None, no_env);
        assert_eq!(code, 1, "{out}");
        let file = path.display();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 4, "three problems and the summary: {out}");
        assert!(out.contains(&format!("{file}:6:")) && out.contains("did you mean `deploy`?"), "{out}");
        assert!(out.contains(&format!("{file}:7:")) && out.contains("did you mean `devs`?"), "{out}");
        assert!(out.contains(&format!("{file}:2:3: unknown key `lisen` — did you mean `listen`?")), "{out}");
        assert!(lines[3].starts_with("config check: 3 problems in"), "{out}");
    }

    #[test]
    fn problems_in_separate_sections_are_each_reported() {
        let yaml = "server:\n  shutdown_grace: soon\nstore:\n  retention: { inbox: 2h }\naws:\n  assume_role: { role_arn: nope }\n";
        let (_dir, path) = config(yaml);
        let (out, code) = check(Some(&path), None, no_env);
        assert_eq!(code, 1);
        let places: Vec<&str> =
            out.lines().filter_map(|l| l.split(": ").next()?.rsplit_once("opsbot.yaml")).map(|(_, at)| at).collect();
        assert_eq!(places, [":2:19", ":4:23", ":6:28"], "every section's problem, in file order: {out}");
    }

    #[test]
    fn with_a_transport_its_missing_secrets_are_problems_even_beside_a_broken_file() {
        let (_dir, path) = config(&GOOD.replace("devs }\n", "devs }\n  frozen: yes\n"));
        let (out, code) = check(Some(&path), Some(Transport::Socket), no_env);
        assert_eq!(code, 1);
        assert!(out.contains("unknown key `frozen`") && out.contains("SLACK_BOT_TOKEN is not set"), "{out}");
        let (clean, _path) = config(GOOD);
        let env = |k: &str| match k {
            "SLACK_BOT_TOKEN" => Some("xoxb-1".to_owned()),
            "SLACK_APP_TOKEN" => Some("xapp-1".to_owned()),
            _ => None,
        };
        let (out, code) = check(Some(&clean.path().join("opsbot.yaml")), Some(Transport::Socket), env);
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("Slack secrets for socket set"), "{out}");
        let (out, code) = check(Some(&clean.path().join("opsbot.yaml")), Some(Transport::Http), env);
        assert_eq!(code, 1);
        assert!(out.contains("SLACK_SIGNING_SECRET is not set"), "{out}");
    }

    #[test]
    fn a_sqlite_store_in_a_missing_directory_is_a_problem_named_where_it_was_set() {
        let (dir, path) = config("store:\n  path: DIR/nowhere/opsbot.db\n");
        let (out, code) = check(Some(&path), None, no_env);
        assert_eq!(code, 1);
        let missing = dir.path().join("nowhere");
        let said = format!("{}:2:9: the store's directory {} does not exist", path.display(), missing.display());
        assert!(out.starts_with(&said), "{out}");
        let env = |k: &str| (k == "OPSBOT_STORE").then(|| "/nowhere/at/all.db".to_owned());
        let (out, _) = check(Some(&path), None, env);
        assert!(out.starts_with("OPSBOT_STORE: the store's directory /nowhere/at does not exist"), "{out}");
    }

    #[test]
    fn a_listen_address_that_is_not_one_is_placed_and_shows_the_form_it_takes() {
        let (_dir, path) = config("server:\n  listen: localhost\n  metrics_listen: 0.0.0.0:9100\n");
        let (out, code) = check(Some(&path), None, no_env);
        assert_eq!(code, 1);
        let said = format!(
            "{}:2:11: server.listen: `localhost` is not an address to listen on — write IP:PORT",
            path.display()
        );
        assert!(out.starts_with(&said), "{out}");
    }
}
