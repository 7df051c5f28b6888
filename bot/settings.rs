//! Typed, layered settings (CONVENTIONS #8): built-in defaults, then the YAML
//! file (`--config` / `OPSBOT_CONFIG`), then environment variables. Validated
//! once at start-up: a bad file stops start-up with file:line:column.
//!
//! Secrets (Slack tokens, signing secrets) come from the environment only and
//! are wrapped in [`Secret`], which cannot be printed or logged. Requests may
//! be signed with any of several signing secrets (`SLACK_SIGNING_SECRET`
//! plus the comma-separated `SLACK_SIGNING_SECRETS`), so one can be rotated
//! without an outage.
//!
//! # Layout
//! - this file: [`Settings`], the file's shape, the layering and [`Secret`];
//! - `error.rs`: [`SettingsError`], which every part returns;
//! - `aws.rs`, `declared.rs` (`params`), `hooks.rs`, `notifications.rs`, `store.rs`: one section of the
//!   file each, read and validated into its ready form;
//! - `version.rs`: the policy's version (a hash of its source), and the rest
//!   of the file compared on reload.
//!
//! [`Settings::load`] reports every problem it finds, not just the first
//! (`opsbot config check` prints them); [`load_policy`] is the one way the
//! policy is read, at start-up and on reload.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use opsbot_policies::{Policy, PolicyError};
use serde::Deserialize;

mod aws;
mod declared;
mod error;
mod hooks;
mod notifications;
mod store;
mod version;

pub use store::StoreChoice;

pub use aws::{AccountSettings, AccountsSettings, AssumeRoleSettings, SHORTEST as SHORTEST_SESSION};
pub use declared::{DeclaredEnv, DeclaredFrom, DriftCheckSettings};
pub use error::SettingsError;
pub use notifications::{AlarmSettings, NotificationSettings, Route};
pub use version::{PolicyVersion, settings_besides_policy};

/// Where to find the Slack Web API when nothing says otherwise.
pub const SLACK_API_URL: &str = "https://slack.com/api";

/// Connections one replica keeps open unless configured otherwise. Slack
/// refreshes connections routinely (`disconnect`, then the client reconnects);
/// while one is being refreshed, Slack sends envelopes to the second, so the
/// replica stays reachable. More than two buys little and eats into the app's
/// budget of [`MAX_SOCKET_CONNECTIONS`], which every replica shares.
pub const SOCKET_CONNECTIONS: usize = 2;

/// Slack's limit of Socket Mode connections per app, across all replicas.
pub const MAX_SOCKET_CONNECTIONS: usize = 10;

/// A value that must never reach a log or a channel.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The config file's shape. Unknown keys are errors, so a typo cannot
/// silently fall back to a default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct File {
    slack: SlackFile,
    server: ServerFile,
    store: store::StoreFile,
    on_param_change: Vec<serde_saphyr::Spanned<hooks::HookFile>>,
    params: declared::ParamsFile,
    aws: aws::AwsFile,
    notifications: notifications::NotificationsFile,
    /// Read by the policy engine itself (it reports its own positions).
    policies: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct SlackFile {
    api_url: Option<String>,
    socket_connections: Option<serde_saphyr::Spanned<i64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ServerFile {
    listen: Option<serde_saphyr::Spanned<String>>,
    metrics_listen: Option<serde_saphyr::Spanned<String>>,
    max_body_bytes: Option<usize>,
    shutdown_grace: Option<serde_saphyr::Spanned<String>>,
}

/// `server.shutdown_grace` unless set: within ECS's default 30 s to SIGKILL.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(20);
/// Longer than any orchestrator waits after SIGTERM by default.
const LONGEST_SHUTDOWN_GRACE: Duration = Duration::from_secs(600);

/// `server.shutdown_grace`, checked.
fn shutdown_grace(path: &Path, raw: &serde_saphyr::Spanned<String>) -> Result<Duration, SettingsError> {
    let invalid = |message: String| SettingsError::Invalid {
        path: path.into(),
        line: raw.referenced.line(),
        column: raw.referenced.column(),
        message,
    };
    let grace = opsbot_policies::parse_duration(&raw.value).ok_or_else(|| {
        invalid(format!("server.shutdown_grace: `{}` is not a duration — write it like 20s or 1m", raw.value))
    })?;
    if grace > LONGEST_SHUTDOWN_GRACE {
        return Err(invalid(format!(
            "server.shutdown_grace: {} is longer than 10m — keep it under the time your orchestrator waits \
             between SIGTERM and SIGKILL (ECS: stopTimeout, 30 s by default; Kubernetes: \
             terminationGracePeriodSeconds, 30 s by default)",
            raw.value
        )));
    }
    Ok(grace)
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// Slack Web API base URL, never ending in `/`.
    pub slack_api_url: String,
    /// How many Socket Mode connections this replica keeps open
    /// (`slack.socket_connections`, 1..=[`MAX_SOCKET_CONNECTIONS`]).
    pub socket_connections: usize,
    pub bot_token: Option<Secret>,
    pub app_token: Option<Secret>,
    /// Secrets a Slack request may be signed with: `SLACK_SIGNING_SECRET`,
    /// then `SLACK_SIGNING_SECRETS`; several while one is being rotated.
    pub signing_secrets: Vec<Secret>,
    pub listen: SocketAddr,
    /// A listener of its own for `/metrics` (`server.metrics_listen`), so it
    /// need not be exposed with the Slack routes; `None`: on `listen`.
    pub metrics_listen: Option<SocketAddr>,
    /// Requests from Slack larger than this are refused with 413.
    pub max_body_bytes: usize,
    /// How long a stopping bot lets commands and Slack writes in flight
    /// finish (`server.shutdown_grace`); keep it under the orchestrator's
    /// kill timeout (ECS gives 30 s by default).
    pub shutdown_grace: Duration,
    /// Where durable state lives (`store.path` or `store.dynamodb`).
    pub store: StoreChoice,
    /// Where `store` was set, for messages about it: `file:line:column` or
    /// `OPSBOT_STORE`; `None`: the default.
    pub store_set_at: Option<String>,
    /// How long what is finished is kept (`store.retention`).
    pub retention: crate::store::Retention,
    /// What runs after a parameter under a prefix changes (`on_param_change`).
    pub on_param_change: Vec<opsbot_commands::hooks::ParamHook>,
    /// Where each environment's declared parameters are (`params.environments`).
    pub declared_params: Vec<DeclaredEnv>,
    /// How often declared parameters are compared and where drift is posted
    /// (`params.drift_check`); `None`: only on request (`params diff`).
    pub drift_check: Option<DriftCheckSettings>,
    /// The role changes run as, assumed for each requester (`aws.assume_role`);
    /// `None`: changes run with the bot's own credentials.
    pub assume_role: Option<AssumeRoleSettings>,
    /// Other AWS accounts commands may name and notifications are named by
    /// (`aws.accounts`, `aws.default_account`); empty: the bot's own only.
    pub accounts: AccountsSettings,
    /// The configured policy; `None` means the built-in one (reads for
    /// everyone, changes for no one).
    pub policy: Option<Arc<Policy>>,
    /// Version of the policy in force: a hash of its source.
    pub policy_version: PolicyVersion,
    /// The config file read (`None`: built-in defaults); the policy is read
    /// from it again on reload.
    pub config_file: Option<PathBuf>,
    /// The file `policies: { file: … }` names, if any.
    pub policy_files: Vec<PathBuf>,
    /// Where notifications come from and where they go.
    pub notifications: NotificationSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            slack_api_url: SLACK_API_URL.into(),
            socket_connections: SOCKET_CONNECTIONS,
            bot_token: None,
            app_token: None,
            signing_secrets: Vec::new(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            metrics_listen: None,
            max_body_bytes: 64 * 1024,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            store: StoreChoice::Sqlite(Some(PathBuf::from("opsbot.db"))),
            store_set_at: None,
            retention: crate::store::Retention::default(),
            on_param_change: Vec::new(),
            declared_params: Vec::new(),
            drift_check: None,
            assume_role: None,
            accounts: AccountsSettings::default(),
            policy: None,
            policy_version: PolicyVersion::builtin(chrono::Utc::now()),
            config_file: None,
            policy_files: Vec::new(),
            notifications: NotificationSettings::default(),
        }
    }
}

impl Settings {
    /// Defaults, then `file` if given, then the environment (`env` is a
    /// lookup so tests need not touch the process environment). Fails with
    /// every problem found ([`SettingsError::Several`] when there are more
    /// than one): the file's shape, each section, the policy (which the
    /// policy engine reads and checks itself, so a misspelt `server:` key
    /// and a broken rule are both reported) and the environment. Checks
    /// across sections (route mentions against policy roles, the SNS age
    /// against the inbox retention) run once those sections loaded cleanly.
    pub fn load(file: Option<&Path>, env: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let mut problems = Vec::new();
        let mut settings = Settings::default();
        if let Some(path) = file {
            let text =
                std::fs::read_to_string(path).map_err(|source| SettingsError::Read { path: path.into(), source })?;
            settings.config_file = Some(path.to_path_buf());
            // Broken YAML first, alone: past a syntax error the settings and
            // the policy would each report its consequences differently.
            if let Err(err) = serde_saphyr::from_str::<serde::de::IgnoredAny>(&text) {
                return Err(SettingsError::Policy(PolicyError::from_yaml(&path.display().to_string(), &err)));
            }
            match load_policy(path, &text) {
                Ok(loaded) => {
                    settings.policy = loaded.policy;
                    settings.policy_version = loaded.version;
                    settings.policy_files = loaded.files;
                }
                Err(errors) => problems.extend(errors.into_iter().map(SettingsError::Policy)),
            }
            match parse_file(path, &text) {
                Ok(file) => settings.apply_sections(path, file, &mut problems),
                Err(err) => problems.push(err),
            }
            if problems.is_empty() {
                keep(&mut problems, settings.check_mentions(&settings.policy()));
                let accounts = settings.accounts.clone();
                keep(&mut problems, settings.notifications.name_accounts(&accounts));
                keep(&mut problems, settings.check_dedup_window());
            }
        }
        keep(&mut problems, settings.apply_env(env));
        match problems.is_empty() {
            true => Ok(settings),
            false => Err(SettingsError::all_in_order(problems)),
        }
    }

    /// Every section of `file` but the policy, each checked on its own so
    /// all their problems are found in one load.
    fn apply_sections(&mut self, path: &Path, file: File, problems: &mut Vec<SettingsError>) {
        if let Some(hooks) = keep(problems, hooks::compile(path, &file.on_param_change)) {
            self.on_param_change = hooks;
        }
        if let Some(envs) = keep(problems, declared::compile(path, &file.params)) {
            self.declared_params = envs;
        }
        if let Some(check) = keep(problems, declared::drift_check(path, &file.params)) {
            self.drift_check = check;
        }
        if let Some(aws) = keep(problems, aws::compile(path, &file.aws)) {
            self.assume_role = aws.assume_role;
            self.accounts = aws.accounts;
        }
        if let Some(notifications) = keep(problems, notifications::compile(path, &file.notifications)) {
            self.notifications = notifications;
        }
        if let Some(retention) = keep(problems, store::retention(path, &file.store)) {
            self.retention = retention;
        }
        if let Some(raw) = &file.server.shutdown_grace
            && let Some(grace) = keep(problems, shutdown_grace(path, raw))
        {
            self.shutdown_grace = grace;
        }
        if let Some(count) = &file.slack.socket_connections
            && let Some(count) = keep(problems, socket_connections(path, count))
        {
            self.socket_connections = count;
        }
        if let Some(Some(choice)) = keep(problems, store::choice(path, &file.store)) {
            self.store = choice;
            self.store_set_at = store::place(path, &file.store);
        }
        let listen = |key: &str, raw: &serde_saphyr::Spanned<String>| {
            address(&raw.value).map_err(|why| SettingsError::Invalid {
                path: path.into(),
                line: raw.referenced.line(),
                column: raw.referenced.column(),
                message: format!("server.{key}: {why}"),
            })
        };
        if let Some(raw) = &file.server.listen
            && let Some(addr) = keep(problems, listen("listen", raw))
        {
            self.listen = addr;
        }
        if let Some(raw) = &file.server.metrics_listen
            && let Some(addr) = keep(problems, listen("metrics_listen", raw))
        {
            self.metrics_listen = Some(addr);
        }
        self.apply_file(file);
    }

    fn apply_file(&mut self, file: File) {
        if let Some(url) = file.slack.api_url {
            self.slack_api_url = without_trailing_slash(url);
        }
        self.max_body_bytes = file.server.max_body_bytes.unwrap_or(self.max_body_bytes);
    }

    fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<(), SettingsError> {
        let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        if let Some(url) = get("OPSBOT_SLACK_API_URL") {
            self.slack_api_url = without_trailing_slash(url);
        }
        self.bot_token = get("SLACK_BOT_TOKEN").map(Secret).or(self.bot_token.take());
        self.app_token = get("SLACK_APP_TOKEN").map(Secret).or(self.app_token.take());
        let mut secrets: Vec<Secret> = get("SLACK_SIGNING_SECRET").map(Secret).into_iter().collect();
        for secret in get("SLACK_SIGNING_SECRETS").map(|list| signing_secrets(&list)).transpose()?.unwrap_or_default() {
            if !secrets.contains(&secret) {
                secrets.push(secret);
            }
        }
        if !secrets.is_empty() {
            self.signing_secrets = secrets;
        }
        let listen =
            |name: &str, raw: &str| address(raw).map_err(|why| SettingsError::Missing(format!("{name}: {why}")));
        if let Some(addr) = get("OPSBOT_LISTEN") {
            self.listen = listen("OPSBOT_LISTEN", &addr)?;
        }
        if let Some(addr) = get("OPSBOT_METRICS_LISTEN") {
            self.metrics_listen = Some(listen("OPSBOT_METRICS_LISTEN", &addr)?);
        }
        if let Some(path) = get("OPSBOT_STORE") {
            self.store = StoreChoice::Sqlite((path != ":memory:").then(|| PathBuf::from(path)));
            self.store_set_at = Some("OPSBOT_STORE".into());
        }
        Ok(())
    }

    /// Every role a notification route mentions must be one the policy defines.
    pub(crate) fn check_mentions(&self, policy: &Policy) -> Result<(), SettingsError> {
        match self.notifications.mentions().find(|(role, _)| policy.role(role).is_none()) {
            Some((role, at)) => Err(SettingsError::Missing(format!(
                "{at}: the route mentions `{role}`, which is not a role in `policies.roles` — define it there \
                 (users or groups to mention) or remove `mention:`"
            ))),
            None => Ok(()),
        }
    }

    /// A replay `POST /sns` still accepts must still find its key in the inbox.
    fn check_dedup_window(&self) -> Result<(), SettingsError> {
        let (max_age, window) = (self.notifications.sns_fresh.max_age, self.retention.inbox);
        if max_age <= window {
            return Ok(());
        }
        Err(SettingsError::Missing(format!(
            "notifications.sns.max_age ({}) is longer than the inbox remembers notifications for dedup \
             (store.retention.inbox, {}): a replayed message could be shown twice — lower max_age (SNS retries \
             for an hour at most)",
            opsbot_policies::show_duration(max_age),
            opsbot_policies::show_duration(window)
        )))
    }

    /// Settings from `yaml` as if it were the file `opsbot.yaml`, without
    /// environment (for tests of every part that reads settings).
    #[cfg(test)]
    pub(crate) fn from_test_yaml(yaml: &str) -> Result<Self, SettingsError> {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("opsbot.yaml");
        std::fs::write(&path, yaml).expect("the file is written");
        Settings::load(Some(&path), |_| None)
    }

    /// The policy every request is judged by.
    pub fn policy(&self) -> Arc<Policy> {
        self.policy.clone().unwrap_or_else(|| Arc::new(opsbot_commands::default_policy()))
    }

    /// [`Settings::policy`] with its version, as the running bot holds it.
    pub fn live_policy(&self) -> opsbot_commands::LivePolicy {
        opsbot_commands::LivePolicy::new(self.policy(), self.policy_version.clone())
    }

    /// The bot token, or a start-up error saying how to provide it.
    pub fn require_bot_token(&self) -> Result<&Secret, SettingsError> {
        let token = self.bot_token.as_ref().ok_or_else(|| {
            SettingsError::Missing("SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-...) from your Slack app's OAuth & Permissions page".into())
        })?;
        if !token.expose().starts_with("xoxb-") {
            return Err(SettingsError::Missing("SLACK_BOT_TOKEN must be a bot token starting with xoxb-".into()));
        }
        Ok(token)
    }

    pub fn require_app_token(&self) -> Result<&Secret, SettingsError> {
        let token = self.app_token.as_ref().ok_or_else(|| {
            SettingsError::Missing("SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token (xapp-...) with the connections:write scope (Basic Information → App-Level Tokens)".into())
        })?;
        if !token.expose().starts_with("xapp-") {
            return Err(SettingsError::Missing(
                "SLACK_APP_TOKEN must be an app-level token starting with xapp-".into(),
            ));
        }
        Ok(token)
    }

    /// Every accepted signing secret (at least one), or a start-up error
    /// saying where to find it.
    pub fn require_signing_secrets(&self) -> Result<&[Secret], SettingsError> {
        if self.signing_secrets.is_empty() {
            return Err(SettingsError::Missing("SLACK_SIGNING_SECRET is not set: the HTTP transport verifies every request with it (Basic Information → Signing Secret)".into()));
        }
        Ok(&self.signing_secrets)
    }
}

/// `SLACK_SIGNING_SECRETS`: secrets separated by commas, spaces around them
/// ignored; an empty entry is a mistake (a stray comma), not "no secret".
fn signing_secrets(list: &str) -> Result<Vec<Secret>, SettingsError> {
    list.split(',')
        .enumerate()
        .map(|(i, entry)| match entry.trim() {
            "" => Err(SettingsError::Missing(format!(
                "SLACK_SIGNING_SECRETS: entry {} is empty: list the signing secrets separated by commas, e.g. NEW,OLD \
                 (no stray or trailing commas)",
                i + 1
            ))),
            secret => Ok(Secret(secret.to_owned())),
        })
        .collect()
}

/// An address to listen on (the file's or the environment's); why not, if it is not one.
fn address(raw: &str) -> Result<SocketAddr, String> {
    raw.trim().parse().map_err(|_| {
        format!(
            "`{raw}` is not an address to listen on — write IP:PORT, like 0.0.0.0:8080 (every interface, \
             as in a container) or 127.0.0.1:8080 (this machine only)"
        )
    })
}

/// `slack.socket_connections`, within what Slack allows one app.
fn socket_connections(path: &Path, count: &serde_saphyr::Spanned<i64>) -> Result<usize, SettingsError> {
    match usize::try_from(count.value) {
        Ok(n) if (1..=MAX_SOCKET_CONNECTIONS).contains(&n) => Ok(n),
        _ => Err(SettingsError::Invalid {
            path: path.into(),
            line: count.referenced.line(),
            column: count.referenced.column(),
            message: format!(
                "slack.socket_connections: {} is out of range — 1 to {MAX_SOCKET_CONNECTIONS}: Slack allows \
                 {MAX_SOCKET_CONNECTIONS} Socket Mode connections per app, shared by all replicas (keep replicas × \
                 socket_connections ≤ {MAX_SOCKET_CONNECTIONS})",
                count.value
            ),
        }),
    }
}

/// `result`'s value, or `None` with its problems added to `problems`.
fn keep<T>(problems: &mut Vec<SettingsError>, result: Result<T, SettingsError>) -> Option<T> {
    result.map_err(|err| problems.extend(err.into_problems())).ok()
}

/// A policy as read from a config file.
pub struct LoadedPolicy {
    /// `None`: the file has no `policies:`, the built-in policy applies.
    pub policy: Option<Arc<Policy>>,
    pub version: PolicyVersion,
    /// The file `policies: { file: … }` names, if any (a reload watches it).
    pub files: Vec<PathBuf>,
}

/// The policy of the config file `text` read from `path`, or every problem
/// in it. The one way the policy is read: at start-up, by `config check`
/// and `policy lint`, and on reload.
pub fn load_policy(path: &Path, text: &str) -> Result<LoadedPolicy, Vec<PolicyError>> {
    let known: Vec<&str> = opsbot_commands::cmd::ENTRIES.iter().map(|e| e.spec.name).collect();
    let read = std::cell::RefCell::new(Vec::new());
    let policy = Policy::check_config_yaml(text, path, &known, |file| {
        let text = std::fs::read_to_string(file)?;
        read.borrow_mut().push((file.to_path_buf(), text.clone()));
        Ok(text)
    })?;
    let (files, texts): (Vec<PathBuf>, Vec<String>) = read.into_inner().into_iter().unzip();
    Ok(LoadedPolicy { policy: policy.map(Arc::new), version: version::version(text, &texts), files })
}

/// slack-morphism joins `{base}/{method}`, so the base must not end in `/`.
fn without_trailing_slash(url: String) -> String {
    url.trim_end_matches('/').to_owned()
}

fn parse_file(path: &Path, text: &str) -> Result<File, SettingsError> {
    if text.trim().is_empty() {
        return Ok(File::default());
    }
    // The policy engine's wording, so an unknown key gets "did you mean" here too.
    serde_saphyr::from_str::<File>(text)
        .map_err(|err| SettingsError::Policy(PolicyError::from_yaml(&path.display().to_string(), &err)))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Whether `policy` lets anyone (`U1` in `C1`, no groups) run `command`
    /// now; also `app/reload.rs`'s question of a reloaded policy.
    pub(crate) fn allows(policy: &Policy, command: &str) -> bool {
        let request = opsbot_policies::Request {
            command,
            user: "U1",
            groups: &[],
            channel: "C1",
            args: &[],
            at: chrono::Utc::now(),
            force: false,
        };
        policy.evaluate(&request).is_allowed()
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn load_yaml(yaml: &str) -> Result<Settings, SettingsError> {
        Settings::from_test_yaml(yaml)
    }

    #[test]
    fn without_a_file_safe_defaults_apply() {
        let s = Settings::load(None, no_env).unwrap();
        assert_eq!(s.slack_api_url, "https://slack.com/api");
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert!(s.bot_token.is_none());
    }

    #[test]
    fn the_file_then_the_environment_override_defaults() {
        let s = load_yaml("slack:\n  api_url: http://127.0.0.1:9/api\nserver:\n  listen: 0.0.0.0:3000\n").unwrap();
        assert_eq!(s.slack_api_url, "http://127.0.0.1:9/api");
        assert_eq!(s.listen.port(), 3000);
        let env = |k: &str| (k == "OPSBOT_SLACK_API_URL").then(|| "http://fake/api/".to_string());
        assert_eq!(Settings::load(None, env).unwrap().slack_api_url, "http://fake/api");
    }

    #[test]
    fn an_unknown_key_stops_start_up_with_its_line_and_column() {
        let err = load_yaml("server:\n  listen: 127.0.0.1:1\n  lisen: x\n").unwrap_err().to_string();
        assert!(err.contains("opsbot.yaml:3:"), "{err}");
        assert!(err.contains("lisen"), "{err}");
    }

    #[test]
    fn the_listen_addresses_come_from_the_file_or_the_environment_and_metrics_share_the_main_one_by_default() {
        let defaults = Settings::load(None, no_env).unwrap();
        assert_eq!((defaults.listen.to_string(), defaults.metrics_listen), ("127.0.0.1:8080".into(), None));
        let file = load_yaml("server:\n  metrics_listen: 127.0.0.1:9100\n").unwrap();
        assert_eq!(file.metrics_listen, Some(SocketAddr::from(([127, 0, 0, 1], 9100))));
        let env = with_env(&[("OPSBOT_LISTEN", "0.0.0.0:8080"), ("OPSBOT_METRICS_LISTEN", "0.0.0.0:9100")]).unwrap();
        assert_eq!(
            (env.listen.to_string(), env.metrics_listen.unwrap().to_string()),
            ("0.0.0.0:8080".into(), "0.0.0.0:9100".into())
        );
        let err = with_env(&[("OPSBOT_LISTEN", "8080")]).unwrap_err().to_string();
        assert!(err.contains("OPSBOT_LISTEN: `8080` is not an address") && err.contains("0.0.0.0:8080"), "{err}");
    }

    #[test]
    fn the_shutdown_grace_is_read_and_checked_with_its_place_and_a_hint() {
        assert_eq!(Settings::load(None, no_env).unwrap().shutdown_grace, Duration::from_secs(20));
        assert_eq!(load_yaml("server:\n  shutdown_grace: 45s\n").unwrap().shutdown_grace, Duration::from_secs(45));
        let err = load_yaml("server:\n  shutdown_grace: soon\n").unwrap_err().to_string();
        assert!(err.contains("opsbot.yaml:2:") && err.contains("write it like 20s"), "{err}");
        let err = load_yaml("server:\n  shutdown_grace: 1h\n").unwrap_err().to_string();
        assert!(err.contains("opsbot.yaml:2:") && err.contains("SIGKILL"), "{err}");
    }

    #[test]
    fn a_yaml_syntax_error_is_reported_once_with_its_place() {
        let err = load_yaml("server: {listen: 127.0.0.1:1\npolicies: {}\n").unwrap_err();
        assert!(!matches!(err, SettingsError::Several(_)), "one syntax error, not its consequences: {err}");
        assert!(err.to_string().contains("opsbot.yaml:2:9: "), "{err}");
    }

    #[test]
    fn an_unknown_key_suggests_the_close_one() {
        let err = load_yaml("server:\n  lisen: 0.0.0.0:1\n").unwrap_err().to_string();
        assert!(err.ends_with("opsbot.yaml:2:3: unknown key `lisen` — did you mean `listen`? Keys allowed here: listen, metrics_listen, max_body_bytes, shutdown_grace"), "{err}");
        let err = load_yaml("polices: {}\n").unwrap_err().to_string();
        assert!(err.contains("did you mean `policies`?"), "{err}");
    }

    #[test]
    fn a_bad_value_names_its_place() {
        let err = load_yaml("server:\n  listen: not-an-address\n").unwrap_err().to_string();
        assert!(err.contains("opsbot.yaml:2:"), "{err}");
    }

    #[test]
    fn retention_is_read_per_kind_and_the_rest_keep_their_defaults() {
        let yaml = "store:\n  retention: { changes: 400d, inbox: 14d, audit: 800d }\n";
        let kept = load_yaml(yaml).unwrap().retention;
        let days = |n: u64| std::time::Duration::from_secs(n * 24 * 3600);
        let expected = crate::store::Retention {
            changes: days(400),
            inbox: days(14),
            audit: Some(days(800)),
            ..crate::store::Retention::default()
        };
        assert_eq!(kept, expected);
        assert_eq!(Settings::default().retention.audit, None, "the audit log is kept forever by default");
    }

    #[test]
    fn the_store_is_a_sqlite_file_by_default_or_one_dynamodb_table() {
        assert_eq!(Settings::default().store, StoreChoice::Sqlite(Some(PathBuf::from("opsbot.db"))));
        let chosen = load_yaml("store:\n  dynamodb: { table: opsbot-prod }\n").unwrap().store;
        assert_eq!(chosen, StoreChoice::DynamoDb { table: "opsbot-prod".into() });
        let file = load_yaml("store:\n  path: /var/lib/opsbot.db\n").unwrap().store;
        assert_eq!(file, StoreChoice::Sqlite(Some(PathBuf::from("/var/lib/opsbot.db"))));
    }

    #[test]
    fn both_stores_or_a_table_name_dynamodb_refuses_stop_start_up_with_the_place() {
        let err = load_yaml("store:\n  path: a.db\n  dynamodb: { table: opsbot }\n").unwrap_err().to_string();
        assert!(err.contains("opsbot.yaml:3:"), "{err}");
        assert!(
            err.contains("`path` (SQLite, one replica) and `dynamodb` (several replicas) exclude each other"),
            "{err}"
        );
        let err = load_yaml("store:\n  dynamodb: { table: \"my table!\" }\n").unwrap_err().to_string();
        assert!(err.contains("store.dynamodb.table: `my table!` is not a DynamoDB table name"), "{err}");
        let err = load_yaml("store:\n  dynamodb: { tabel: opsbot }\n").unwrap_err().to_string();
        assert!(err.contains("tabel"), "an unknown key is named: {err}");
    }

    #[test]
    fn a_retention_too_short_or_not_a_duration_stops_start_up_with_its_place_and_why() {
        let err = load_yaml("store:\n  retention:\n    living: 2d\n").unwrap_err().to_string();
        assert!(err.contains("opsbot.yaml:3:13"), "{err}");
        assert!(err.contains("store.retention.living: 2d is too short — at least 8d"), "{err}");
        let err = load_yaml("store:\n  retention: { audit: forever }\n").unwrap_err().to_string();
        assert!(err.contains("store.retention.audit: `forever` is not a duration"), "{err}");
        let err = load_yaml("store:\n  retention: { inbox: 1d }\nnotifications:\n  sns: { max_age: 2d }\n");
        let err = err.unwrap_err().to_string();
        assert!(
            err.contains("longer than the inbox remembers notifications for dedup (store.retention.inbox, 24h)"),
            "{err}"
        );
    }

    #[test]
    fn a_policies_section_is_loaded_and_judges_requests() {
        let yaml = "store:\n  path: x.db\npolicies:\n  roles:\n    devs: { everyone: true }\n  rules:\n    - allow: [scale]\n      to: devs\n";
        assert!(allows(&load_yaml(yaml).unwrap().policy(), "scale"));
    }

    #[test]
    fn a_bad_policy_stops_start_up_with_its_place() {
        let yaml = "policies:\n  rules:\n    - allow: [deploi]\n      to: devs\n";
        let err = load_yaml(yaml).unwrap_err().to_string();
        assert!(err.contains("opsbot.yaml:3:") && err.contains("deploy"), "{err}");
    }

    #[test]
    fn without_policies_the_built_in_one_applies() {
        let policy = Settings::load(None, no_env).unwrap().policy();
        assert!(allows(&policy, "pipelines"), "reads are open to everyone");
        assert!(!allows(&policy, "scale"), "changes are open to no one");
    }

    #[test]
    fn secrets_never_print() {
        let env = |k: &str| (k == "SLACK_BOT_TOKEN").then(|| "xoxb-very-secret".to_string());
        let s = Settings::load(None, env).unwrap();
        assert!(!format!("{s:?}").contains("very-secret"));
        assert_eq!(s.require_bot_token().unwrap().expose(), "xoxb-very-secret");
    }

    fn with_env(vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        Settings::load(None, |k| vars.iter().find(|(name, _)| *name == k).map(|(_, v)| v.to_string()))
    }

    fn exposed(settings: &Settings) -> Vec<&str> {
        settings.require_signing_secrets().unwrap().iter().map(Secret::expose).collect()
    }

    #[test]
    fn signing_secrets_come_from_the_single_variable_the_list_or_both_without_repeats() {
        assert_eq!(exposed(&with_env(&[("SLACK_SIGNING_SECRET", "only")]).unwrap()), ["only"]);
        assert_eq!(exposed(&with_env(&[("SLACK_SIGNING_SECRETS", "new, old")]).unwrap()), ["new", "old"]);
        let both = with_env(&[("SLACK_SIGNING_SECRET", "old"), ("SLACK_SIGNING_SECRETS", "new,old")]).unwrap();
        assert_eq!(exposed(&both), ["old", "new"]);
        assert!(!format!("{both:?}").contains("new"), "secrets never print");
    }

    #[test]
    fn an_empty_entry_in_the_signing_secrets_stops_start_up_with_what_to_write() {
        for list in ["new,,old", "new,", ",old"] {
            let err = with_env(&[("SLACK_SIGNING_SECRETS", list)]).unwrap_err().to_string();
            assert!(err.contains("SLACK_SIGNING_SECRETS") && err.contains("empty") && err.contains("NEW,OLD"), "{err}");
        }
    }

    #[test]
    fn without_any_signing_secret_the_http_transport_says_where_to_find_one() {
        let err = with_env(&[]).unwrap().require_signing_secrets().unwrap_err().to_string();
        assert!(err.contains("SLACK_SIGNING_SECRET") && err.contains("Signing Secret"), "{err}");
    }

    #[test]
    fn a_wrong_kind_of_token_is_refused_with_what_to_use() {
        let env = |k: &str| (k == "SLACK_APP_TOKEN").then(|| "xoxb-oops".to_string());
        let err = Settings::load(None, env).unwrap().require_app_token().unwrap_err().to_string();
        assert!(err.contains("xapp-"), "{err}");
    }
}
