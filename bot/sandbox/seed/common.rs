//! What every part of the demo shares: times as minutes before `now`, and the
//! IAM identities (in the demo account) that made the changes.

use chrono::Duration;
use opsbot_commands::ports::Time;

use crate::sandbox::account::ACCOUNT_ID;

/// `minutes` before `now`.
pub(super) fn ago(now: Time, minutes: i64) -> Time {
    now - Duration::minutes(minutes)
}

/// An IAM user's ARN in the demo account.
pub(super) fn user(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT_ID}:user/{name}")
}

/// An assumed role's session ARN in the demo account.
pub(super) fn role(role: &str, session: &str) -> String {
    format!("arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role}/{session}")
}
