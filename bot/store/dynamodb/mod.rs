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

use aws_sdk_dynamodb::Client;
use opsbot_commands::ports::store::StoreError;

pub mod attr;
pub mod table;

use attr::{failed, get_n, n, s};

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
