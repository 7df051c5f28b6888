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
/// `account` is the configured account name (`aws.accounts`) a command acts
/// in; every command carries it when it acts in a named account, none when it
/// acts in the bot's own. `region` is the region a command names (`--region`,
/// or its account's configured one); none in the bot's own region.
pub const ARGUMENTS: [&str; 14] = [
    "service", "name", "value", "pipeline", "stage", "action", "document", "targets", "count", "revision", "cluster",
    "env", "account", "region",
];

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

/// A duration as people write it in opsbot (and as [`show_duration`] writes
/// it): whole numbers each followed by a unit — `90s`, `30m`, `2h`, `1d`,
/// `1h30m`. The one parser for ttls, timeouts and settings; each caller
/// checks its own range. `None` for anything else, including `0s`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let (mut total, mut number) = (0u64, None::<u64>);
    for c in text.trim().chars() {
        let unit = match c {
            '0'..='9' => {
                number = number.unwrap_or(0).checked_mul(10)?.checked_add(u64::from(c) - u64::from('0'));
                number?;
                continue;
            }
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return None,
        };
        total = total.checked_add(number.take()?.checked_mul(unit)?)?;
    }
    (number.is_none() && total > 0).then_some(Duration::from_secs(total))
}

/// `90s`, `30m`, `2h`, `1d` — more than zero and at most [`MAX_TTL`].
pub(crate) fn ttl(file: &str, raw: Option<&Spanned<String>>, approval: Location) -> Result<Duration, PolicyError> {
    let Some(raw) = raw else { return Ok(DEFAULT_TTL) };
    match parse_duration(&raw.value) {
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
pub fn show_duration(d: Duration) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them_and_as_sentences_show_them() {
        let secs = |text: &str| parse_duration(text).map(|d| d.as_secs());
        assert_eq!(secs("90s"), Some(90));
        assert_eq!(secs("30m"), Some(1800));
        assert_eq!(secs(" 2h "), Some(7200));
        assert_eq!(secs("1d"), Some(86_400));
        assert_eq!(secs("1h30m"), Some(5400));
        assert_eq!(secs(&show_duration(Duration::from_secs(5430))), Some(5430));
    }

    #[test]
    fn anything_else_is_not_a_duration() {
        for text in ["", "0s", "30", "m", "30 m", "1.5h", "30min", "-5m", "99999999999999999999s"] {
            assert_eq!(parse_duration(text), None, "{text:?}");
        }
    }
}
