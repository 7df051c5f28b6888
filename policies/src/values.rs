//! Checks for the small values a policy is made of — role definitions, Slack
//! ids, `where:` regexes, approval `ttl`s — each turning a `Spanned` raw value
//! into a ready one or into an error that says what to write instead.

use std::time::Duration;

use regex::Regex;
use serde_saphyr::{Location, Spanned};

use crate::condition::Condition;
use crate::error::{PolicyError, unknown};
use crate::file::{Entries, RawRole};
use crate::policy::Role;

/// The named arguments `where:` may test (what commands pass in `Request::args`).
pub const ARGUMENTS: [&str; 11] =
    ["service", "name", "value", "pipeline", "stage", "action", "document", "targets", "count", "revision", "cluster"];

/// Approval requests expire after this unless the rule says otherwise.
pub const DEFAULT_TTL: Duration = Duration::from_secs(30 * 60);
/// The longest an approval request may wait.
pub const MAX_TTL: Duration = Duration::from_secs(24 * 60 * 60);

pub(crate) fn roles(file: &str, raw: Option<&Entries<RawRole>>) -> Result<Vec<Role>, PolicyError> {
    let Some(Entries(entries)) = raw else { return Ok(vec![]) };
    entries.iter().map(|(name, role)| self::role(file, name, role)).collect()
}

fn role(file: &str, name: &Spanned<String>, raw: &RawRole) -> Result<Role, PolicyError> {
    let users = slack_ids(file, raw.users.as_deref(), "user", "U0123ABCD")?;
    let groups = slack_ids(file, raw.groups.as_deref(), "user group", "S0123ABCD")?;
    let everyone = raw.everyone.unwrap_or(false);
    if users.is_empty() && groups.is_empty() && !everyone {
        let message =
            format!("role `{}` has no members — give `users: [U…]`, `groups: [S…]` or `everyone: true`", name.value);
        return Err(PolicyError::at(file, name.referenced, message));
    }
    Ok(Role { name: name.value.clone(), users, groups, everyone })
}

/// Slack ids as written; names (`@alice`, `#deploys`) are refused with advice,
/// because they would silently never match.
pub(crate) fn slack_ids(
    file: &str,
    raw: Option<&[Spanned<String>]>,
    kind: &str,
    example: &str,
) -> Result<Vec<String>, PolicyError> {
    let mut ids = Vec::new();
    for id in raw.unwrap_or_default() {
        let text = id.value.trim();
        if text.is_empty() || text.starts_with(['@', '#']) || text.contains(char::is_whitespace) {
            let message = format!(
                "`{}` is not a Slack {kind} id — list ids like {example} (in Slack: the profile or details \
                 panel → Copy ID), not names",
                id.value
            );
            return Err(PolicyError::at(file, id.referenced, message));
        }
        ids.push(text.to_owned());
    }
    Ok(ids)
}

/// `where: { arg: regex }` → conditions; regexes compiled once, as written
/// (no implicit anchoring: write `^` and `$` where you mean them).
pub(crate) fn conditions(file: &str, raw: Option<&Entries<Spanned<String>>>) -> Result<Vec<Condition>, PolicyError> {
    let Some(Entries(entries)) = raw else { return Ok(vec![]) };
    let mut conditions = Vec::new();
    for (arg, pattern) in entries {
        let Some(known) = ARGUMENTS.iter().find(|a| **a == arg.value) else {
            let what = format!("unknown argument `{}` in where", arg.value);
            return Err(PolicyError::at(file, arg.referenced, unknown(&what, &arg.value, &ARGUMENTS, "arguments")));
        };
        let regex = Regex::new(&pattern.value).map_err(|e| {
            let message = format!(
                "invalid regex `{}` for `{}`: {} — write e.g. \"^prod/\" (quoted)",
                pattern.value,
                arg.value,
                regex_problem(&e)
            );
            PolicyError::at(file, pattern.referenced, message)
        })?;
        conditions.push(Condition::new(known, regex));
    }
    Ok(conditions)
}

/// The last line of the regex crate's error ("error: unclosed group").
fn regex_problem(err: &regex::Error) -> String {
    let text = err.to_string();
    let last = text.lines().last().unwrap_or_default();
    last.strip_prefix("error: ").unwrap_or(last).to_owned()
}

/// `90s`, `30m`, `2h`, `1d` — more than zero and at most [`MAX_TTL`].
pub(crate) fn ttl(file: &str, raw: Option<&Spanned<String>>, approval: Location) -> Result<Duration, PolicyError> {
    let Some(raw) = raw else { return Ok(DEFAULT_TTL) };
    let text = raw.value.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let scale = match unit {
        "s" => Some(1),
        "m" => Some(60),
        "h" => Some(3600),
        "d" => Some(86_400),
        _ => None,
    };
    let secs = digits.parse::<u64>().ok().zip(scale).and_then(|(n, s)| n.checked_mul(s));
    match secs.map(Duration::from_secs) {
        Some(ttl) if !ttl.is_zero() && ttl <= MAX_TTL => Ok(ttl),
        _ => {
            let message = format!(
                "`ttl: {}` is not a duration from 1s to 24h — write a number and a unit: 90s, 30m, 2h or 1d",
                raw.value
            );
            let at = if raw.referenced == Location::UNKNOWN { approval } else { raw.referenced };
            Err(PolicyError::at(file, at, message))
        }
    }
}

/// `30m`, `1h30m`, `45s` — how a ttl reads in sentences.
pub(crate) fn show_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    for (n, unit) in [(h, "h"), (m, "m"), (s, "s")] {
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    if out.is_empty() { "0s".into() } else { out }
}
