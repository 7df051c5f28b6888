//! Durable state behind ports: the app, the notifier and the outbox hold the
//! store as `Arc<dyn Storage>` and never name a backend.
//!
//! # Ports
//! - claims, changes and audit: the commands' [`Store`] port;
//! - [`InboxStore`]: notification bodies kept before their source forgets
//!   them, deduplicated, retried and parked ([`inbox`]);
//! - [`LivingStore`]: the records living messages keep ([`living`]);
//! - [`OutboxStore`]: Slack writes still to make and where each logical
//!   message was posted ([`outbox`]); its `commit_notification` stores a
//!   handled notification's records, writes and inbox row together;
//! - [`Pruning`]: forgetting what is finished ([`retention`]).
//!
//! The port traits are in [`ports`]; the values they carry in the modules
//! named above. [`Storage`] is all of them. [`sqlite`] is one file (WAL), for
//! one replica ([`open`]); [`dynamodb`] is one table, meant for several
//! (`store.dynamodb`; `app::open_store` chooses from the settings). Both pass
//! the same conformance suite (`tests/store.rs`, DynamoDB on moto).
//!
//! # Invariants every backend keeps
//! - A claim, an inbox key and a posted message key are each taken once,
//!   atomically, however many callers race.
//! - A change's `transition` is compare-and-set on its state.
//! - Audit records are appended, never updated; deleted only by an audit retention.
//! - `commit_notification` is all or nothing; `commit_notifications` is all
//!   or nothing per notification.

use std::path::Path;
use std::sync::Arc;

pub use opsbot_commands::ports::store::{Store, StoreError};

pub mod dynamodb;
pub mod inbox;
pub mod living;
pub mod outbox;
pub mod ports;
pub mod retention;
pub mod sqlite;

pub use inbox::{Arrival, Arrived, FIRST_RETRY, Failure, InboxRow, PARK_AFTER, ParkedRow};
pub use living::{Kept, Living, LivingRecord};
pub use outbox::{Backlog, Enqueued, Handled, OutboxRow, Queued, WriteOp, WriteState};
pub use ports::{InboxStore, LivingStore, OutboxStore, Pruning, Storage, Told, told_then};
pub use retention::{Pruned, Retention};

/// The store in the SQLite file at `path`, created if missing (`None`: in
/// memory, kept by nothing).
pub fn open(path: Option<&Path>) -> Result<Arc<dyn Storage>, StoreError> {
    Ok(Arc::new(match path {
        Some(path) => sqlite::SqliteStore::open(path)?,
        None => sqlite::SqliteStore::in_memory()?,
    }))
}
