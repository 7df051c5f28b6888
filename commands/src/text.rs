//! Plain-text helpers for what commands say: shortening AWS text, counts,
//! times and durations. No markup here (that is [`crate::mrkdwn`](mod@crate::mrkdwn)), so these
//! sit below everything that renders.

use chrono::{DateTime, Utc};

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
}
