//! Enqueues on the table: a [`Batch`] reads each key it touches once
//! ([`KeyState`]), decides every write of a call in order (so a post and a
//! reply of one key in one notification see each other), and gives the writes
//! for one transaction: new rows, coalesced payloads (conditional on the row
//! still pending) and each key item on the version it was read at.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::TransactWriteItem;
use opsbot_commands::ports::Time;
use opsbot_commands::ports::store::StoreError;

use super::super::DynamoStore;
use super::super::attr::{Item, n, pad, s};
use super::keys::{Action, KeyState};
use crate::store::outbox::{Enqueued, Queued, WriteOp, WriteState};

/// The partition of rows still to send, and of those that failed for good.
pub(in crate::store::dynamodb) const LIVE: &str = "outbox";
pub(super) const FAILED: &str = "outbox-failed";

pub(super) fn message_pk(key: &str) -> String {
    format!("message#{key}")
}

/// The writes of one enqueueing call, decided but not yet made.
#[derive(Default)]
pub(super) struct Batch {
    keys: BTreeMap<String, KeyState>,
    /// Keys whose item must be rewritten.
    touched: Vec<String>,
    new_rows: BTreeMap<i64, Item>,
    payloads: BTreeMap<i64, String>,
}

fn row_item(id: i64, key: &str, channel: &str, op: WriteOp, payload: &str, now: Time) -> Item {
    let now = now.timestamp_millis();
    Item::from([
        ("pk".to_owned(), s(LIVE)),
        ("sk".to_owned(), s(pad(id))),
        ("id".to_owned(), n(id)),
        ("key".to_owned(), s(key)),
        ("channel".to_owned(), s(channel)),
        ("op".to_owned(), s(op.as_str())),
        ("payload".to_owned(), s(payload)),
        ("created".to_owned(), n(now)),
        ("attempts".to_owned(), n(0)),
        ("next_attempt".to_owned(), n(now)),
        ("state".to_owned(), s(WriteState::Pending.as_str())),
    ])
}

impl DynamoStore {
    /// What the outbox knows of `key`, read consistently.
    pub(super) async fn key_state(&self, key: &str) -> Result<KeyState, StoreError> {
        let item = self.get(&super::keys::key_pk(key), "key").await?;
        let message = self.get(&message_pk(key), "message").await?;
        Ok(KeyState::read(key, item.as_ref(), message.as_ref()))
    }

    /// The write that keeps `state` as its key item, if nobody changed it since it was read.
    pub(super) fn key_write(&self, state: &KeyState) -> Option<TransactWriteItem> {
        let pk = super::keys::key_pk(&state.key);
        let (condition, bound) = match state.v {
            Some(v) => ("#v = :v", Item::from([(":v".to_owned(), n(v))])),
            None => ("attribute_not_exists(pk)", Item::new()),
        };
        match state.item() {
            Some(item) => Some(self.put(item, Some(condition), bound)),
            None => state.v.map(|_| self.delete((&pk, "key"), Some(condition), bound)),
        }
    }
}

impl Batch {
    /// Decides `write`, as the rules of [`crate::store::outbox`] say; `None`:
    /// its message was never queued, so it is dropped.
    pub async fn enqueue(
        &mut self,
        store: &DynamoStore,
        write: &Queued,
        now: Time,
    ) -> Result<Option<Enqueued>, StoreError> {
        let key = write.key();
        if !self.keys.contains_key(key) {
            self.keys.insert(key.to_owned(), store.key_state(key).await?);
        }
        let state = self.keys.get_mut(key).expect("read above");
        let (action, payload) = match write {
            Queued::Post { channel, payload, .. } => (Some(state.post(channel.as_str())), payload),
            Queued::Update { payload, .. } => (state.update(), payload),
            Queued::Reply { payload, .. } => (state.reply(), payload),
        };
        let Some(action) = action else { return Ok(None) };
        if !self.touched.iter().any(|k| k == key) {
            self.touched.push(key.to_owned());
        }
        Ok(Some(match action {
            Action::Coalesce(id) => {
                match self.new_rows.get_mut(&id) {
                    Some(row) => {
                        row.insert("payload".to_owned(), s(payload));
                    }
                    None => {
                        self.payloads.insert(id, payload.clone());
                    }
                }
                Enqueued::Coalesced { id }
            }
            Action::Insert { op, channel } => {
                let id = store.next("outbox").await?;
                self.new_rows.insert(id, row_item(id, key, &channel, op, payload, now));
                state.add(id, op, &channel);
                Enqueued::Queued { id, op }
            }
        }))
    }

    /// The writes that make what was decided, for one transaction.
    pub fn writes(self, store: &DynamoStore) -> Vec<TransactWriteItem> {
        let mut writes: Vec<_> = self
            .new_rows
            .into_values()
            .map(|row| store.put(row, Some("attribute_not_exists(pk)"), Item::new()))
            .collect();
        for (id, payload) in self.payloads {
            let bound = Item::from([(":p".to_owned(), s(payload)), (":pending".to_owned(), s("pending"))]);
            let update = store.update((LIVE, &pad(id)), "SET #payload = :p", Some("#state = :pending"), bound);
            writes.push(update);
        }
        writes.extend(self.touched.iter().filter_map(|key| store.key_write(&self.keys[key])));
        writes
    }
}
