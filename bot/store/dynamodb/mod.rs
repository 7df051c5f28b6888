//! The store in one DynamoDB table, for several replicas (`store: { dynamodb:
//! { table: NAME } }`): every port of [`crate::store`] on conditional writes
//! and transactions, so replicas sharing the table claim, transition and
//! post each thing once.
//!
//! # The table
//! Key `pk` (S) + `sk` (S); one sparse global secondary index `gsi1`
//! (`gsi1pk` S, `gsi1sk` S, all attributes projected); TTL on `expires_at`
//! (epoch seconds). DynamoDB deletes expired items late (up to days), so every
//! read treats an item whose `expires_at` has passed as absent, and `prune`
//! deletes what it finds expired. Times are Unix milliseconds (N) unless named
//! `expires_at`. Sort keys that order are zero-padded to 20 digits ([`pad`]).
//!
//! | item | `pk` | `sk` | `gsi1pk` / `gsi1sk` | notes |
//! |---|---|---|---|---|
//! | counter | `counter` | name | | `n` (N), [`DynamoStore::next`] |
//! | claim | `claim#<key>` | `claim` | | `expires_at` = claimed + 1 day |
//! | change | `change#<id>` | `change` | `change-state#<state>` / `<created>#<id>` | the record's fields; `transition` is conditional on `state` |
//! | audit record | `audit` | `<at>#<seq>` | | newest first by query order |
//! | inbox key | `inbox-key#<key>` | `key` | | `seq`; `expires_at` once handled (retention) |
//! | inbox row | `inbox` | `<seq>` | | `key`, `body` (B), `received`, `attempts`, `next_attempt`, `error` |
//! | parked row | `inbox-parked` | `<seq>` | | as a row, plus `parked` |
//! | living record | `living#<kind>#<id>` | `living` | `living-open#<kind>` / `<opened>#<id>` while open | `body`, `open`, `message`, `updated`, `opened` |
//! | outbox row | `outbox` | `<id>` | `outbox-key#<key>` / `<id>` | as [`crate::store::OutboxRow`]; failed rows move to `outbox-failed` |
//! | message | `message#<key>` | `message` | | `channel`, `ts`, `posted` |
//!
//! `commit_notification` is one `TransactWriteItems` (records, writes and the
//! inbox row together), built from the parts' item functions.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::types::AttributeValue;
use opsbot_commands::ports::store::StoreError;

pub mod table;

/// One item, as the SDK takes and gives it.
pub type Item = HashMap<String, AttributeValue>;

/// Every port of the store on the DynamoDB table `table`.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    /// The store on `table`, which must exist with the right key schema
    /// (see [`table::check`]; `opsbot store init` creates it).
    pub async fn open(client: Client, table: &str) -> Result<Self, StoreError> {
        table::check(&client, table).await?;
        Ok(DynamoStore { client, table: table.to_owned() })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// The next number of counter `name` (1, 2, …): unique across replicas.
    pub async fn next(&self, name: &str) -> Result<i64, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s("counter"))
            .key("sk", s(name))
            .update_expression("ADD n :one")
            .expression_attribute_values(":one", n(1))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| failed(&format!("counting {name}"), e))?;
        out.attributes().and_then(|a| get_n(a, "n")).ok_or_else(|| StoreError(format!("counter {name} has no n")))
    }
}

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
