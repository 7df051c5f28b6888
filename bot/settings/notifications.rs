//! `notifications`: where AWS notifications come from and which channel each
//! one goes to.
//!
//! ```yaml
//! notifications:
//!   default_channel: C0OPS              # everything no route matches, and unknown kinds
//!   sqs_queues: [https://sqs.eu-west-1.amazonaws.com/111122223333/opsbot-events]
//!   sns: { topics: [arn:aws:sns:eu-west-1:111122223333:opsbot], cert_url_allow: "^http://127\\.0\\.0\\.1:4566/" }  # default: SNS hosts
//!   routes:
//!     - { match: { kind: alarm, name: "^shop-" }, channel: C0SHOPALERTS, mention: oncall }
//!     - { match: { kind: pipeline, name: "^storefront-" }, channel: C0DEPLOYS }
//!     - { match: { kind: pipeline, account: "111122223333", region: eu-west-1 }, channel: C0EU }
//!     - { match: { account: prod }, channel: C0PRODOPS }   # a name of aws.accounts, or an id
//!     - { match: { tags: { team: payments } }, channel: C0PAYMENTS }   # the resource's tags
//!   alarms: { escalate_after: 10m, flapping: { transitions: 4, within: 10m } }
//!   build_log_lines: 20                 # a failed build's last log lines in its pipeline thread
//! ```
//! `sns.max_age` (default 1h) and `sns.max_clock_skew` (default 5m) bound a
//! `POST /sns` message's `Timestamp`; the age must not exceed how long the
//! inbox remembers keys for dedup (`store.retention.inbox`), or a replay
//! could arrive after its key was forgotten (checked in `Settings::load`).
//! Checked at start-up: unknown kinds, bad regexes, channel ids or durations,
//! and a source of notifications without a `default_channel` stop start-up
//! with file:line:column. `mention` names a policy role; that it exists is
//! checked once the policy is loaded (see `Settings::load`); an `account`
//! given by name is checked against `aws.accounts` then too, and its messages
//! name their account.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use opsbot_commands::values::ChannelId;
use regex::Regex;
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::aws::AccountsSettings;
use super::error::SettingsError;
use crate::notify::event::Kind;
use crate::notify::intake::sns::Freshness;
use crate::notify::intake::sns::url::UrlAllow;

/// The section as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct NotificationsFile {
    default_channel: Option<Spanned<String>>,
    sqs_queues: Vec<Spanned<String>>,
    sns: SnsFile,
    routes: Vec<Spanned<RouteFile>>,
    alarms: AlarmsFile,
    build_log_lines: Option<Spanned<usize>>,
    /// Only for the ingest benchmark: accept unsigned SNS messages.
    insecure_skip_sns_signatures: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct SnsFile {
    topics: Vec<Spanned<String>>,
    cert_url_allow: Option<Spanned<String>>,
    max_age: Option<Spanned<String>>,
    max_clock_skew: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteFile {
    #[serde(rename = "match")]
    matching: MatchFile,
    channel: Spanned<String>,
    mention: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct MatchFile {
    kind: Option<Spanned<String>>,
    name: Option<Spanned<String>>,
    account: Option<Spanned<String>>,
    region: Option<Spanned<String>>,
    tags: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct AlarmsFile {
    escalate_after: Option<Spanned<String>>,
    flapping: Option<FlappingFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FlappingFile {
    transitions: Spanned<u32>,
    within: Spanned<String>,
}

/// `notifications`, checked.
#[derive(Debug, Clone)]
pub struct NotificationSettings {
    pub default_channel: Option<ChannelId>,
    /// SQS queue URLs to long-poll.
    pub sqs_queues: Vec<String>,
    /// SNS topic ARNs whose subscription to `POST /sns` is confirmed.
    pub sns_topics: Vec<String>,
    /// Where SNS signing certificates may be fetched from and subscriptions
    /// confirmed at (default: https on sns.<region>.amazonaws.com[.cn]).
    pub cert_url_allow: UrlAllow,
    /// How old (or how far ahead) a message `POST /sns` takes may be.
    pub sns_fresh: Freshness,
    pub routes: Vec<Route>,
    pub alarms: AlarmSettings,
    /// How many of a failed build's last log lines its pipeline thread shows.
    pub build_log_lines: usize,
    pub skip_sns_signatures: bool,
    /// Account id → its name in `aws.accounts`: messages name the account
    /// they come from, and routes may name it (see [`NotificationSettings::name_accounts`]).
    pub accounts: BTreeMap<String, String>,
}

/// One route: the first whose every given test holds picks the channel.
#[derive(Debug, Clone)]
pub struct Route {
    pub kind: Option<Kind>,
    pub name: Option<Regex>,
    pub account: Option<String>,
    pub region: Option<String>,
    /// Tags the resource must carry, each with this exact value (an ECS
    /// service's, an alarm's, a pipeline's); empty: no test.
    pub tags: BTreeMap<String, String>,
    pub channel: ChannelId,
    /// A policy role to mention on alarms (and re-mention on escalation).
    pub mention: Option<String>,
    /// `file:line` of the route, for logs.
    pub at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlarmSettings {
    /// An alarm nobody acknowledged this long is mentioned once more.
    pub escalate_after: Duration,
    /// This many state changes within `flapping_within` make an alarm "flapping".
    pub flapping_transitions: u32,
    pub flapping_within: Duration,
}

impl Default for AlarmSettings {
    fn default() -> Self {
        let ten_minutes = Duration::from_secs(600);
        AlarmSettings { escalate_after: ten_minutes, flapping_transitions: 4, flapping_within: ten_minutes }
    }
}

impl Default for NotificationSettings {
    fn default() -> Self {
        NotificationSettings {
            default_channel: None,
            sqs_queues: Vec::new(),
            sns_topics: Vec::new(),
            cert_url_allow: UrlAllow::SnsHosts,
            sns_fresh: Freshness::default(),
            routes: Vec::new(),
            alarms: AlarmSettings::default(),
            build_log_lines: 20,
            skip_sns_signatures: false,
            accounts: BTreeMap::new(),
        }
    }
}

impl NotificationSettings {
    /// Whether some route tests a resource's tags (only then are tags read).
    pub fn routes_by_tags(&self) -> bool {
        self.routes.iter().any(|r| !r.tags.is_empty())
    }

    /// Learns the names of `aws.accounts` (id → name) and turns a route's
    /// account given by name into its id; a name that is not configured is
    /// refused with the route's place and the names there are.
    pub(super) fn name_accounts(&mut self, accounts: &AccountsSettings) -> Result<(), SettingsError> {
        self.accounts = accounts.accounts.iter().map(|a| (a.account_id.clone(), a.name.clone())).collect();
        for route in &mut self.routes {
            let Some(account) = route.account.as_mut().filter(|a| !is_account_id(a)) else { continue };
            match accounts.named(account) {
                Some(named) => *account = named.account_id.clone(),
                None => {
                    let names: Vec<&str> = accounts.accounts.iter().map(|a| a.name.as_str()).collect();
                    let close = opsbot_commands::spec::suggest(account, names.iter().copied());
                    let hint = close.first().map(|c| format!(" — did you mean `{c}`?")).unwrap_or_default();
                    return Err(SettingsError::Missing(format!(
                        "{}: notifications.routes: account `{account}` is neither a 12-digit account id nor a name in \
                         aws.accounts ({}){hint}",
                        route.at,
                        if names.is_empty() { "none configured".to_owned() } else { names.join(", ") }
                    )));
                }
            }
        }
        Ok(())
    }

    /// Policy roles routes mention, with where each is written.
    pub(super) fn mentions(&self) -> impl Iterator<Item = (&str, &str)> {
        self.routes.iter().filter_map(|r| r.mention.as_deref().map(|m| (m, r.at.as_str())))
    }
}

pub(super) fn compile(path: &Path, raw: &NotificationsFile) -> Result<NotificationSettings, SettingsError> {
    let mut out = NotificationSettings {
        default_channel: raw.default_channel.as_ref().map(|c| channel(path, c)).transpose()?,
        skip_sns_signatures: raw.insecure_skip_sns_signatures,
        ..NotificationSettings::default()
    };
    for url in &raw.sqs_queues {
        if !url.value.starts_with("https://") && !url.value.starts_with("http://") {
            let message = format!(
                "notifications.sqs_queues: `{}` is not a queue URL — write it as SQS shows it: \
                 https://sqs.<region>.amazonaws.com/<account>/<queue>",
                url.value
            );
            return Err(invalid(path, url, message));
        }
        out.sqs_queues.push(url.value.clone());
    }
    for topic in &raw.sns.topics {
        if !topic.value.starts_with("arn:aws") || topic.value.split(':').count() != 6 {
            let message = format!(
                "notifications.sns.topics: `{}` is not a topic ARN: write arn:aws:sns:<region>:<account>:<topic>",
                topic.value
            );
            return Err(invalid(path, topic, message));
        }
        out.sns_topics.push(topic.value.clone());
    }
    if let Some(allow) = &raw.sns.cert_url_allow {
        out.cert_url_allow = UrlAllow::Pattern(regex(path, allow, "notifications.sns.cert_url_allow")?);
    }
    if let Some(age) = &raw.sns.max_age {
        out.sns_fresh.max_age = duration(path, age, "notifications.sns.max_age")?;
    }
    if let Some(skew) = &raw.sns.max_clock_skew {
        out.sns_fresh.max_skew = duration(path, skew, "notifications.sns.max_clock_skew")?;
    }
    // Every broken route at once: they are independent of each other.
    let (routes, broken): (Vec<_>, Vec<_>) = raw.routes.iter().map(|r| compile_route(path, r)).partition(Result::is_ok);
    if !broken.is_empty() {
        return Err(SettingsError::all(broken.into_iter().filter_map(Result::err).collect()));
    }
    out.routes = routes.into_iter().filter_map(Result::ok).collect();
    out.alarms = alarms(path, &raw.alarms)?;
    if let Some(lines) = &raw.build_log_lines {
        if !(1..=100).contains(&lines.value) {
            let message =
                format!("notifications.build_log_lines: {} is out of range — write 1 to 100 (default 20)", lines.value);
            return Err(invalid(path, lines, message));
        }
        out.build_log_lines = lines.value;
    }
    let has_sources = !out.sqs_queues.is_empty() || !out.sns_topics.is_empty();
    if has_sources && out.default_channel.is_none() {
        return Err(SettingsError::Missing(format!(
            "{}: notifications need `default_channel:` (a channel id like C0OPS) for whatever no route matches \
             — opsbot never drops a notification",
            path.display()
        )));
    }
    Ok(out)
}

fn compile_route(path: &Path, raw: &Spanned<RouteFile>) -> Result<Route, SettingsError> {
    let m = &raw.value.matching;
    let kind = match &m.kind {
        None => None,
        Some(kind) => Some(Kind::parse(&kind.value).ok_or_else(|| {
            let all: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
            let message =
                format!("notifications.routes: unknown kind `{}` — use one of {}", kind.value, all.join(", "));
            invalid(path, kind, message)
        })?),
    };
    // An id, or a name of aws.accounts (checked once both sections are read).
    let account = m.account.as_ref().map(|a| a.value.clone());
    if let Some(bad) =
        m.account.as_ref().filter(|a| a.value.bytes().all(|b| b.is_ascii_digit()) && !is_account_id(&a.value))
    {
        let message =
            format!("notifications.routes: `{}` is not an account id — write its 12 digits, quoted", bad.value);
        return Err(invalid(path, bad, message));
    }
    Ok(Route {
        kind,
        name: m.name.as_ref().map(|n| regex(path, n, "notifications.routes name")).transpose()?,
        account,
        region: m.region.as_ref().map(|r| r.value.clone()),
        tags: m.tags.clone(),
        channel: channel(path, &raw.value.channel)?,
        mention: raw.value.mention.as_ref().map(|m| m.value.clone()),
        at: format!("{}:{}", path.display(), raw.referenced.line()),
    })
}

/// 12 digits.
fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

fn alarms(path: &Path, raw: &AlarmsFile) -> Result<AlarmSettings, SettingsError> {
    let mut out = AlarmSettings::default();
    if let Some(after) = &raw.escalate_after {
        out.escalate_after = duration(path, after, "notifications.alarms.escalate_after")?;
    }
    if let Some(flapping) = &raw.flapping {
        if flapping.transitions.value < 2 {
            let message = "notifications.alarms.flapping.transitions: at least 2 state changes make a flap".into();
            return Err(invalid(path, &flapping.transitions, message));
        }
        out.flapping_transitions = flapping.transitions.value;
        out.flapping_within = duration(path, &flapping.within, "notifications.alarms.flapping.within")?;
    }
    Ok(out)
}

fn duration(path: &Path, raw: &Spanned<String>, key: &str) -> Result<Duration, SettingsError> {
    opsbot_policies::parse_duration(&raw.value).ok_or_else(|| {
        invalid(path, raw, format!("{key}: `{}` is not a duration — write it like 90s, 10m or 1h", raw.value))
    })
}

fn regex(path: &Path, raw: &Spanned<String>, key: &str) -> Result<Regex, SettingsError> {
    Regex::new(&raw.value).map_err(|e| {
        let problem = e.to_string().lines().last().unwrap_or_default().trim_start_matches("error: ").to_owned();
        invalid(path, raw, format!("{key}: `{}` is not a valid regex: {problem}", raw.value))
    })
}

fn channel(path: &Path, raw: &Spanned<String>) -> Result<ChannelId, SettingsError> {
    ChannelId::parse(&raw.value)
        .map_err(|_| invalid(path, raw, format!("`{}` is not a channel id — write one like C0OPS", raw.value)))
}

fn invalid<T>(path: &Path, at: &Spanned<T>, message: String) -> SettingsError {
    SettingsError::Invalid { path: path.into(), line: at.referenced.line(), column: at.referenced.column(), message }
}

#[cfg(test)]
#[path = "notifications_tests.rs"]
mod tests;
