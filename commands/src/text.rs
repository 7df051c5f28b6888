//! Plain-text helpers for what commands say: shortening AWS text, counts,
//! times and durations, and [`redact`] for AWS output that may echo
//! credentials. No markup here (that is [`crate::mrkdwn`](mod@crate::mrkdwn)),
//! so these sit below everything that renders.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use regex::Regex;

use crate::mrkdwn::Mrkdwn;

/// `Some(<url|label>)` as a string, or `None` without a usable URL.
/// TRANSITIONAL: until every call site builds [`Mrkdwn`] and calls
/// [`Mrkdwn::link`] itself.
pub fn link(url: Option<&str>, label: &str) -> Option<String> {
    Mrkdwn::link(url, label).map(|m| m.as_str().to_owned())
}

/// Text on one line with runs of whitespace collapsed: AWS messages carry
/// newlines that would end a quote or a list item.
pub fn one_line(raw: &str) -> String {
    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Shortens long AWS text (error messages, event logs) to `max` characters.
pub fn truncate(raw: &str, max: usize) -> String {
    if raw.chars().count() <= max {
        return raw.to_owned();
    }
    let cut: String = raw.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", cut.trim_end())
}

/// `1 alarm`, `3 alarms`: a count with its noun (English plural by `s`).
pub fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// `2026-11-22 03:14 UTC (12m ago)`.
pub fn when(now: DateTime<Utc>, at: DateTime<Utc>) -> String {
    format!("{} ({})", at.format("%Y-%m-%d %H:%M UTC"), ago(now, at))
}

/// `just now`, `12m ago`, `3h ago`, `5d ago`; `in 2m` for clock skew.
pub fn ago(now: DateTime<Utc>, at: DateTime<Utc>) -> String {
    let secs = (now - at).num_seconds();
    if secs.abs() < 60 {
        return "just now".into();
    }
    let span = duration_secs(secs.unsigned_abs());
    if secs > 0 { format!("{span} ago") } else { format!("in {span}") }
}

/// A compact duration: `45s`, `12m`, `3h 5m`, `2d 4h`.
pub fn duration(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    duration_secs((to - from).num_seconds().max(0).unsigned_abs())
}

fn duration_secs(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m"),
        (0, _, 0) => format!("{h}h"),
        (0, _, _) => format!("{h}h {m}m"),
        (_, 0, _) => format!("{d}d"),
        _ => format!("{d}d {h}h"),
    }
}

/// What looks like a credential, however it got into the text.
static SECRETS: LazyLock<[(Regex, &'static str); 4]> = LazyLock::new(|| {
    let re = |pattern: &str| Regex::new(pattern).expect("valid regex");
    [
        (re(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), "[redacted]"),
        (re(r"\bxox[abposr]-[0-9A-Za-z-]+"), "[redacted]"),
        (re(r"(?i)\b(bearer\s+)[0-9A-Za-z._~+/=-]+"), "${1}[redacted]"),
        (
            re(
                r#"(?i)\b([0-9a-z_-]*(?:password|passwd|secret|token|api[_-]?key)[0-9a-z_-]*["']?\s*[=:]\s*)["']?[^\s"',;&]+"#,
            ),
            "${1}[redacted]",
        ),
    ]
});

/// `line` with every credential it shows replaced by `[redacted]`: AWS access
/// key ids, Slack tokens, bearer tokens, `password=`/`secret=`/`token=`-style
/// values, and verbatim each of `sensitive` (values a gateway knows are
/// secret). The one redactor for whatever AWS output opsbot shows — build
/// logs, Run Command output, Automation step messages — which may echo
/// credentials however it got them.
pub fn redact(line: &str, sensitive: &[String]) -> String {
    let mut line = line.to_owned();
    // Longest first, so a value containing another is replaced whole.
    let mut values: Vec<&String> = sensitive.iter().filter(|v| v.len() >= 4).collect();
    values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    for value in values {
        line = line.replace(value.as_str(), "[redacted]");
    }
    for (pattern, with) in SECRETS.iter() {
        line = pattern.replace_all(&line, *with).into_owned();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn relative_times_read_naturally() {
        assert_eq!(ago(t(100), t(90)), "just now");
        assert_eq!(ago(t(3600 * 3 + 300), t(0)), "3h 5m ago");
        assert_eq!(ago(t(0), t(120)), "in 2m");
        assert_eq!(duration(t(0), t(86_400 * 2 + 3600 * 4)), "2d 4h");
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }

    #[test]
    fn access_keys_slack_tokens_and_assigned_secrets_are_redacted_from_log_lines() {
        let cases = [
            ("using key AKIAIOSFODNN7EXAMPLE now", "using key [redacted] now"),
            ("session ASIAY34FZKBOKMUTVV7A", "session [redacted]"),
            ("posting with xoxb-1234-5678-abcdef", "posting with [redacted]"),
            ("DB_PASSWORD=hunter2 npm run migrate", "DB_PASSWORD=[redacted] npm run migrate"),
            ("export API_KEY: 'k-123'", "export API_KEY: [redacted]'"),
            ("curl -H 'Authorization: Bearer eyJhbGciOi.x.y'", "curl -H 'Authorization: Bearer [redacted]'"),
            ("--token=abc123 --verbose", "--token=[redacted] --verbose"),
            ("Tests: 3 failed, 41 passed", "Tests: 3 failed, 41 passed"),
        ];
        for (raw, shown) in cases {
            assert_eq!(redact(raw, &[]), shown, "{raw}");
        }
    }

    #[test]
    fn a_sensitive_environment_value_is_redacted_wherever_it_appears_verbatim() {
        let sensitive = vec!["s3cr3t-db-pass".to_string(), "ab".to_string()];
        assert_eq!(redact("connecting as app:s3cr3t-db-pass@db", &sensitive), "connecting as app:[redacted]@db");
        // Values too short to be secrets would blank out ordinary words.
        assert_eq!(redact("table ab", &sensitive), "table ab");
    }
}
