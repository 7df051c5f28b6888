//! `store`: where durable state lives and how long what is finished is kept.
//!
//! ```yaml
//! store:
//!   path: /var/lib/opsbot/opsbot.db   # SQLite file (default opsbot.db; OPSBOT_STORE overrides)
//!   # dynamodb: { table: opsbot }     # instead of path: one table shared by several replicas
//!   retention:                        # every key optional; these are the defaults
//!     changes: 90d                    # finished changes
//!     living: 30d                     # closed alarm episodes, ended runs, decided approvals
//!     messages: 90d                   # where a message was posted, once nothing open shows in it
//!     failed_sends: 30d               # Slack writes that failed for good
//!     inbox: 7d                       # handled notifications' dedup keys, parked notifications
//!     # audit: 400d                   # absent: the audit log is kept forever
//! ```
//! Checked at start-up with file:line:column: both `path` and `dynamodb`, a
//! table name DynamoDB would refuse, a duration that is not one, a
//! retention under a day, and `living` under 8 days (an approval may wait 7
//! days; pruning an open record sooner would post its message twice).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::error::SettingsError;
use crate::store::Retention;

const DAY: Duration = Duration::from_secs(24 * 3600);

/// The section as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct StoreFile {
    path: Option<Spanned<PathBuf>>,
    dynamodb: Option<Spanned<DynamoFile>>,
    retention: RetentionFile,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DynamoFile {
    table: Spanned<String>,
}

/// Where durable state lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreChoice {
    /// One SQLite file (`None`: in memory, kept by nothing).
    Sqlite(Option<PathBuf>),
    /// One DynamoDB table, shared by every replica.
    DynamoDb { table: String },
}

/// `store.path` / `store.dynamodb`, checked; `None` when the file names neither.
pub(super) fn choice(path: &Path, file: &StoreFile) -> Result<Option<StoreChoice>, SettingsError> {
    match (&file.path, &file.dynamodb) {
        (Some(_), Some(dynamodb)) => Err(invalid(
            path,
            dynamodb.referenced.line(),
            dynamodb.referenced.column(),
            "store: `path` (SQLite, one replica) and `dynamodb` (several replicas) exclude each other — keep one"
                .into(),
        )),
        (Some(file), None) => Ok(Some(StoreChoice::Sqlite(Some(file.value.clone())))),
        (None, Some(dynamodb)) => {
            let table = &dynamodb.value.table;
            let name = &table.value;
            let valid = (3..=255).contains(&name.len())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
            if !valid {
                let message = format!(
                    "store.dynamodb.table: `{name}` is not a DynamoDB table name — 3 to 255 letters, digits, `_`, `-` or `.`"
                );
                return Err(invalid(path, table.referenced.line(), table.referenced.column(), message));
            }
            Ok(Some(StoreChoice::DynamoDb { table: name.clone() }))
        }
        (None, None) => Ok(None),
    }
}

/// `file:line:column` of `store.path` / `store.dynamodb` in the file at `path`.
pub(super) fn place(path: &Path, file: &StoreFile) -> Option<String> {
    let at = match (&file.path, &file.dynamodb) {
        (Some(p), _) => &p.referenced,
        (None, Some(d)) => &d.referenced,
        (None, None) => return None,
    };
    Some(format!("{}:{}:{}", path.display(), at.line(), at.column()))
}

fn invalid(path: &Path, line: u64, column: u64, message: String) -> SettingsError {
    SettingsError::Invalid { path: path.into(), line, column, message }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RetentionFile {
    changes: Option<Spanned<String>>,
    living: Option<Spanned<String>>,
    messages: Option<Spanned<String>>,
    failed_sends: Option<Spanned<String>>,
    inbox: Option<Spanned<String>>,
    audit: Option<Spanned<String>>,
}

/// `store.retention`, checked.
pub(super) fn retention(path: &Path, file: &StoreFile) -> Result<Retention, SettingsError> {
    let raw = &file.retention;
    let mut out = Retention::default();
    let keep = |raw: &Option<Spanned<String>>, key: &str, least: Duration, why: &str, default: Duration| match raw {
        Some(raw) => at_least(path, raw, key, least, why),
        None => Ok(default),
    };
    let a_day = "keep finished rows at least a day";
    out.changes = keep(&raw.changes, "changes", DAY, a_day, out.changes)?;
    let approvals =
        "a CodePipeline approval may wait 7 days; pruning its open record sooner would post its message twice";
    out.living = keep(&raw.living, "living", 8 * DAY, approvals, out.living)?;
    out.messages = keep(&raw.messages, "messages", DAY, a_day, out.messages)?;
    out.failed_sends = keep(&raw.failed_sends, "failed_sends", DAY, a_day, out.failed_sends)?;
    out.inbox = keep(&raw.inbox, "inbox", DAY, "SNS and SQS redeliver for days", out.inbox)?;
    out.audit = raw.audit.as_ref().map(|raw| at_least(path, raw, "audit", DAY, a_day)).transpose()?;
    Ok(out)
}

fn at_least(
    path: &Path,
    raw: &Spanned<String>,
    key: &str,
    least: Duration,
    why: &str,
) -> Result<Duration, SettingsError> {
    let invalid = |message: String| SettingsError::Invalid {
        path: path.into(),
        line: raw.referenced.line(),
        column: raw.referenced.column(),
        message,
    };
    let value = opsbot_policies::parse_duration(&raw.value).ok_or_else(|| {
        invalid(format!("store.retention.{key}: `{}` is not a duration — write it like 30d or 12h", raw.value))
    })?;
    if value < least {
        let least = format!("{}d", least.as_secs() / DAY.as_secs());
        return Err(invalid(format!("store.retention.{key}: {} is too short — at least {least}: {why}", raw.value)));
    }
    Ok(value)
}
