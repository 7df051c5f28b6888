//! Items as the SDK takes and gives them: building attributes, reading them
//! back, and DynamoDB's errors as store errors.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use opsbot_commands::ports::Time;
use opsbot_commands::ports::store::StoreError;
use opsbot_commands::values::ChannelId;

/// One item.
pub type Item = HashMap<String, AttributeValue>;

/// A string attribute.
pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// A number attribute.
pub fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// `value` zero-padded to 20 digits, so sort keys order as numbers do
/// (negative values clamp to 0: times and counters are never negative).
pub fn pad(value: i64) -> String {
    format!("{:020}", value.max(0))
}

/// The string attribute `name` of `item`.
pub fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

/// The number attribute `name` of `item`.
pub fn get_n(item: &Item, name: &str) -> Option<i64> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok())
}

/// The string attribute `name` of `item`, or a store error naming what is missing.
pub fn need_s<'a>(item: &'a Item, name: &str) -> Result<&'a str, StoreError> {
    get_s(item, name).ok_or_else(|| StoreError(format!("a stored item has no `{name}`: {}", describe(item))))
}

/// The number attribute `name` of `item`, or a store error naming what is missing.
pub fn need_n(item: &Item, name: &str) -> Result<i64, StoreError> {
    get_n(item, name).ok_or_else(|| StoreError(format!("a stored item has no number `{name}`: {}", describe(item))))
}

/// A time stored as Unix milliseconds.
pub fn time(ms: i64) -> Time {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default()
}

/// A channel id read back, or a store error naming it.
pub fn channel(raw: &str) -> Result<ChannelId, StoreError> {
    ChannelId::parse(raw).map_err(|_| StoreError(format!("a stored channel is not valid: {raw:?}")))
}

/// Whether `item` carries an `expires_at` that has passed at `now_ms`.
pub fn expired(item: &Item, now_ms: i64) -> bool {
    get_n(item, "expires_at").is_some_and(|at| at * 1000 <= now_ms)
}

fn describe(item: &Item) -> String {
    format!("{} / {}", get_s(item, "pk").unwrap_or("?"), get_s(item, "sk").unwrap_or("?"))
}

/// A failed call as a store error: what was being done and DynamoDB's own
/// words (error code and message), never the item's contents.
pub fn failed<E, R>(doing: &str, err: aws_sdk_dynamodb::error::SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    StoreError(format!("DynamoDB: {doing}: {}", DisplayErrorContext(&err)))
}

/// Whether a conditional write or transaction failed because its condition
/// did not hold (someone else got there first), not because DynamoDB failed.
pub fn lost_race<E, R>(err: &aws_sdk_dynamodb::error::SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
{
    err.as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "ConditionalCheckFailedException" || code == "TransactionCanceledException")
}
