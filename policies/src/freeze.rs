//! Change freezes: windows during which an allowed request (or one needing
//! approval) is denied instead, with the freeze's reason.
//!
//! Two kinds: absolute (`from` inclusive, `to` exclusive, RFC 3339 times or
//! plain dates meaning midnight UTC) and weekly (whole days, in UTC, whatever
//! the team's time zone — written so nobody has to guess). A freeze never
//! turns a deny into an allow; denies are decided before freezes are looked at.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde_saphyr::{Location, Spanned};

use crate::decision::RuleRef;
use crate::error::{PolicyError, unknown};
use crate::file::RawFreeze;

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const FULL_DAYS: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

/// One compiled freeze entry.
#[derive(Debug, Clone)]
pub(crate) struct Freeze {
    pub name: String,
    pub window: Window,
    pub reason: String,
    pub at: RuleRef,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Window {
    Between {
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
    /// Bit `n` set: frozen on day `n` (Monday = 0), UTC.
    Weekly(u8),
}

impl Freeze {
    /// Whether `at` falls inside the freeze.
    pub fn covers(&self, at: DateTime<Utc>) -> bool {
        match self.window {
            Window::Between { from, to } => from <= at && at < to,
            Window::Weekly(days) => days & (1 << at.weekday().num_days_from_monday()) != 0,
        }
    }

    /// The sentence for a request this freeze denies.
    pub fn deny_reason(&self) -> String {
        let when = match self.window {
            Window::Between { from, to } => format!("from {} to {}", from.to_rfc3339(), to.to_rfc3339()),
            Window::Weekly(days) => {
                let names: Vec<&str> = (0..7).filter(|d| days & (1 << d) != 0).map(|d| DAYS[d]).collect();
                format!("every {}, UTC", names.join(", "))
            }
        };
        format!("denied by freeze `{}` ({}): {} ({when})", self.name, self.at, self.reason)
    }
}

/// Checks and compiles one `freeze:` entry (its commands are checked by the caller).
pub(crate) fn compile(file: &str, raw: &Spanned<RawFreeze>) -> Result<Freeze, PolicyError> {
    let entry = &raw.value;
    let Some(name) = entry.name.clone() else {
        let message = "a freeze needs a `name:` (it is shown in every refusal), e.g. `name: holidays`";
        return Err(PolicyError::at(file, raw.referenced, message));
    };
    let window = match (&entry.from, &entry.to, &entry.weekly) {
        (Some(from), Some(to), None) => between(file, from, to)?,
        (None, None, Some(days)) => Window::Weekly(weekdays(file, raw.referenced, days)?),
        (Some(_), None, None) | (None, Some(_), None) => {
            return Err(PolicyError::at(file, raw.referenced, "a dated freeze needs both `from:` and `to:`"));
        }
        _ => {
            let advice = "a freeze needs either `from:` and `to:` (e.g. `from: 2026-12-22T00:00:00Z`) or \
                          `weekly: [sat, sun]`, not both";
            return Err(PolicyError::at(file, raw.referenced, advice));
        }
    };
    let reason = entry.reason.clone().unwrap_or_else(|| format!("change freeze `{name}`"));
    let at = RuleRef { file: file.to_owned(), line: raw.referenced.line() };
    Ok(Freeze { name, window, reason, at })
}

fn between(file: &str, from: &Spanned<String>, to: &Spanned<String>) -> Result<Window, PolicyError> {
    let (start, end) = (time(file, "from", from)?, time(file, "to", to)?);
    if start >= end {
        let message = format!("`from` ({}) must be before `to` ({}) — swap them?", from.value, to.value);
        return Err(PolicyError::at(file, from.referenced, message));
    }
    Ok(Window::Between { from: start, to: end })
}

fn time(file: &str, key: &str, value: &Spanned<String>) -> Result<DateTime<Utc>, PolicyError> {
    let text = value.value.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    let message = format!(
        "`{key}: {text}` is not a time — write an RFC 3339 time like 2026-12-22T00:00:00Z or a date like 2026-12-22 (UTC)"
    );
    Err(PolicyError::at(file, value.referenced, message))
}

fn weekdays(file: &str, entry: Location, days: &[Spanned<String>]) -> Result<u8, PolicyError> {
    if days.is_empty() {
        return Err(PolicyError::at(file, entry, "`weekly:` lists no days — write e.g. `weekly: [sat, sun]`"));
    }
    let mut mask = 0u8;
    for day in days {
        let name = day.value.trim().to_lowercase();
        let Some(n) = DAYS.iter().position(|d| *d == name).or_else(|| FULL_DAYS.iter().position(|d| *d == name)) else {
            let what = format!("unknown weekday `{}` in weekly", day.value);
            return Err(PolicyError::at(file, day.referenced, unknown(&what, &name, &DAYS, "days")));
        };
        mask |= 1 << n;
    }
    Ok(mask)
}
