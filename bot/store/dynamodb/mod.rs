//! The store in one DynamoDB table, for several replicas (`store: { dynamodb:
//! { table: NAME } }`): every port of [`crate::store`] on conditional writes
//! and transactions, so replicas sharing the table claim, transition and
//! post each thing once.
//!
//! # The table
//! Key `pk` (S) + `sk` (S); one sparse global secondary index `gsi1`
//! (`gsi1pk` S, `gsi1sk` S, all attributes projected); TTL on `expires_at`
//! (epoch seconds). DynamoDB deletes expired items late (up to days), so every
//! read treats an item whose `expires_at` has passed as absent (a handled
//! inbox key read late only dedups a little longer). Claims, channel
//! leases and handled inbox keys (the bulk of a busy table, kept
//! `store.retention.inbox`) carry `expires_at`; the rest is kept by rules
//! only `prune` knows (an open alarm's message stays however old), so
//! `prune` deletes it.
//! Times are Unix milliseconds (N) unless named `expires_at`. Sort keys that
//! order are zero-padded to 20 digits ([`attr::pad`]).
//!
//! | item | `pk` | `sk` | `gsi1pk` / `gsi1sk` | notes |
//! |---|---|---|---|---|
//! | counter | `counter` | name | | `n` (N), [`DynamoStore::next`] |
//! | claim | `claim#<key>` | `claim` | | `expires_at` = claimed + 1 day; put if absent or expired |
//! | change | `change#<id>` | `change` | `change-state#<state>` / `<created>#<id>` | the record's fields; `transition` is conditional on `state`; while running `lease_owner`, `lease_until`, `following` (taken over conditionally on the lease) |
//! | audit record | `audit` | `<at>#<seq>` | | newest first by query order |
//! | inbox key | `inbox-key#<key>` | `key` | once handled: `inbox-handled` / `<received>#<key>` | `key`, `seq`, `received`; once handled `expires_at` = received + `retention.inbox` |
//! | inbox row | `inbox` | `<seq>` | once failed: `inbox-retry` / `<next_attempt>#<seq>` | `key`, `body` (B), `received`, `by` (the accepting replica), `attempts`, `next_attempt`, `error`; deleted once handled |
//! | parked row | `inbox-parked` | `<parked>#<seq>` | | as a row, plus `parked` |
//! | living record | `living#<kind>#<id>` | `living` | open: `living-open#<kind>` / `<opened>#<id>`; closed: `living-closed` / `<updated>#<kind>#<id>` | `body`, `open` (BOOL), `message`, `updated`, `opened`, version `v` |
//! | outbox row | `outbox` (failed: `outbox-failed`) | `<id>` | | as [`crate::store::OutboxRow`] |
//! | outbox key | `outbox-key#<key>` | `key` | | `rows` (JSON: id, op, state, channel of each row of the key), version `v`; gone with its last row |
//! | message | `message#<key>` | `message` | `messages` / `<posted>#<key>` | `channel`, `ts`, `posted` |
//! | channel lease | `outbox-lease#<channel>` | `lease` | | `owner`, `until`; put if absent, ours or lapsed; `expires_at` = until + 1 day |
//!
//! # Decisions
//! - Decisions other replicas could race are taken on consistent reads of
//!   the table and written conditionally on what was read (a state, a
//!   version, an absent key); `gsi1` (eventually consistent) only serves
//!   timers, listings and retention.
//! - The outbox decides per key on its key item, never on a query: every
//!   write that changes a key's rows rewrites the key item on the version it
//!   read, in the same transaction, so a key is posted once and coalesced
//!   right however many replicas enqueue.
//! - `commit_notification` is one `TransactWriteItems` (living records over
//!   the version their caller read — a record that moved on since refuses the
//!   whole notification, which is then read and handled again —, outbox rows
//!   and key items, the inbox row), built from
//!   the parts' item functions; over 100 writes it fails rather than split.
//!
//! # Known limits
//! - Rows still to send, unhandled inbox rows, audit records and counters
//!   each share one partition (about 1,000 writes/s each); `outbox_heads`
//!   reads every row still to send, which coalescing keeps to about one per
//!   key and Slack's pacing keeps short.
//! - Pruning a message is checked against open records and waiting rows,
//!   then deleted: not atomic with an update queued in between (a message
//!   90 days old being edited at that very moment).
//! - A key item deleted with its last row and made again restarts its
//!   version; a replica that read the old one would have to sleep through
//!   that whole cycle to be fooled.
//! - moto deep-copies the whole table on every TransactWriteItems and scans
//!   it on every Query: fine for the conformance suite, about one
//!   notification a second once a storm has filled the table. Load tests
//!   and benchmarks run the table on ministack.
//!
//! # Parts
//! [`attr`] (attributes, errors), [`table`] (create, check), `io` (reads and
//! transactions), and one module per port: `changes`
//! (claims, changes, audit), `inbox`, `living`, `outbox`, `retention`.

use crate::store::Retention;
use aws_sdk_dynamodb::Client;
use opsbot_commands::ports::store::StoreError;

pub mod attr;
mod changes;
mod inbox;
mod io;
mod living;
mod outbox;
mod retention;
pub mod table;

use attr::{failed, get_n, n, s};

/// Every port of the store on the DynamoDB table `table`.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    /// How long a handled notification's key is kept for dedup
    /// (`store.retention.inbox`): set as its `expires_at`, so DynamoDB
    /// deletes the bulk of the inbox by itself, at no write cost.
    inbox_keys_for: std::time::Duration,
    /// This replica's name on the notifications it accepts: it handles
    /// those, and another replica's only once they waited
    /// [`inbox::TAKE_OVER_AFTER`] (their replica may have died), so two
    /// replicas do not both work through every row.
    replica: String,
}

impl DynamoStore {
    /// The store on `table`, which must exist with the right key schema
    /// (see [`table::check`]; `opsbot store init` creates it).
    pub async fn open(client: Client, table: &str) -> Result<Self, StoreError> {
        table::check(&client, table).await?;
        let inbox_keys_for = Retention::default().inbox;
        Ok(DynamoStore { client, table: table.to_owned(), inbox_keys_for, replica: String::new() })
    }

    /// Accepts notifications as replica `name` (see [`DynamoStore`]'s `replica`).
    pub fn with_replica(self, name: &str) -> Self {
        DynamoStore { replica: name.to_owned(), ..self }
    }

    /// Handled notifications' keys expire after `retention.inbox` (TTL).
    pub fn with_retention(self, retention: &Retention) -> Self {
        DynamoStore { inbox_keys_for: retention.inbox, ..self }
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
