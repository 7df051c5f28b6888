//! What happens to a queued row by its id: handed to Slack, retried, failed
//! for good (moved to `outbox-failed`; a failed post hands its role to the
//! key's next pending update), sent (gone; a post leaves its `message#<key>`
//! item). Each is one transaction with the key item, on the version read.
//! A row is moved (handed to Slack, retried) on condition it still holds the
//! content read with it: the key item is read after the row, so its version
//! alone would miss an update coalesced into the row in between, and the
//! sender sends the content the row held when it was marked.

use aws_sdk_dynamodb::types::TransactWriteItem;
use opsbot_commands::ports::Time;
use opsbot_commands::ports::chat::MessageRef;
use opsbot_commands::ports::store::StoreError;

use super::super::DynamoStore;
use super::super::attr::{Item, channel, get_n, get_s, n, need_n, need_s, pad, s, time};
use super::super::io::Range;
use super::batch::{FAILED, LIVE, message_pk};
use crate::store::outbox::{OutboxRow, WriteOp, WriteState};

const RETRIES: usize = 20;
/// The `gsi1` partition of posted messages, by when they were posted.
pub(in crate::store::dynamodb) const MESSAGES: &str = "messages";

pub(super) fn row_of(item: &Item) -> Result<OutboxRow, StoreError> {
    let op = need_s(item, "op")?;
    let state = need_s(item, "state")?;
    let bad = |what: &str, raw: &str| StoreError(format!("a stored outbox {what} is not valid: {raw:?}"));
    Ok(OutboxRow {
        id: need_n(item, "id")?,
        key: need_s(item, "key")?.to_owned(),
        channel: channel(need_s(item, "channel")?)?,
        op: WriteOp::parse(op).ok_or_else(|| bad("operation", op))?,
        payload: need_s(item, "payload")?.to_owned(),
        created: time(need_n(item, "created")?),
        attempts: get_n(item, "attempts").unwrap_or(0) as u32,
        next_attempt: time(need_n(item, "next_attempt")?),
        state: WriteState::parse(state).ok_or_else(|| bad("state", state))?,
        error: get_s(item, "error").map(str::to_owned),
    })
}

fn message_item(key: &str, message: &MessageRef, now: Time) -> Item {
    let posted = now.timestamp_millis();
    Item::from([
        ("pk".to_owned(), s(message_pk(key))),
        ("sk".to_owned(), s("message")),
        ("gsi1pk".to_owned(), s(MESSAGES)),
        ("gsi1sk".to_owned(), s(format!("{}#{key}", pad(posted)))),
        ("key".to_owned(), s(key)),
        ("channel".to_owned(), s(message.channel.as_str())),
        ("ts".to_owned(), s(&message.ts)),
        ("posted".to_owned(), n(posted)),
    ])
}

impl DynamoStore {
    /// Reads row `id` of `partition` and its key, lets `change` give the
    /// writes (and change the key's rows), and makes them with the key item;
    /// again while another replica changes the key first. Nothing when the
    /// row is gone and `change` does not insist (`key`). Returns the row as
    /// read by the try that was made (`None`: it was gone).
    async fn with_row(
        &self,
        partition: &str,
        id: i64,
        key: Option<&str>,
        change: impl Fn(Option<&Item>, &mut super::keys::KeyState) -> Vec<TransactWriteItem>,
    ) -> Result<Option<Item>, StoreError> {
        for _ in 0..RETRIES {
            let row = self.get(partition, &pad(id)).await?;
            let key = match (key, &row) {
                (Some(key), _) => key.to_owned(),
                (None, Some(row)) => need_s(row, "key")?.to_owned(),
                (None, None) => return Ok(None),
            };
            let mut state = self.key_state(&key).await?;
            let mut writes = change(row.as_ref(), &mut state);
            writes.extend(self.key_write(&state));
            if self.transact(writes, &format!("changing outbox row {id}")).await? {
                return Ok(row);
            }
        }
        Err(StoreError(format!("outbox row {id}: its key kept changing under us")))
    }

    /// Row `id` now in `state` (handed to Slack: counted as an attempt), on
    /// condition it still holds the content read; the row as it was moved
    /// (`None`: it is gone).
    pub(super) async fn row_moved(
        &self,
        id: i64,
        at: Option<Time>,
        state: WriteState,
        error: Option<&str>,
    ) -> Result<Option<Item>, StoreError> {
        let mut update = "SET #state = :s".to_owned();
        let mut bound = Item::from([(":s".to_owned(), s(state.as_str()))]);
        if state == WriteState::Sending && at.is_none() {
            update.push_str(", #attempts = #attempts + :one");
            bound.insert(":one".to_owned(), n(1));
        }
        if let Some(at) = at {
            update.push_str(", #next_attempt = :at");
            bound.insert(":at".to_owned(), n(at.timestamp_millis()));
        }
        if let Some(error) = error {
            update.push_str(", #error = :e");
            bound.insert(":e".to_owned(), s(error));
        }
        self.with_row(LIVE, id, None, |row, key| {
            let Some(row) = row else { return Vec::new() };
            if let Some(slot) = key.slot(id) {
                slot.state = state.as_str().into();
            }
            let mut bound = bound.clone();
            bound.insert(":read".to_owned(), s(get_s(row, "payload").unwrap_or_default()));
            vec![self.update((LIVE, &pad(id)), &update, Some("#payload = :read"), bound)]
        })
        .await
    }

    /// Row `id` given up with `error`, out of the queue.
    pub(super) async fn row_failed(&self, id: i64, error: &str) -> Result<(), StoreError> {
        self.with_row(LIVE, id, None, |row, key| {
            let Some(row) = row else { return Vec::new() };
            let mut failed = row.clone();
            failed.insert("pk".to_owned(), s(FAILED));
            failed.insert("state".to_owned(), s(WriteState::Failed.as_str()));
            failed.insert("error".to_owned(), s(error));
            let mut writes = vec![
                self.delete((LIVE, &pad(id)), Some("attribute_exists(pk)"), Item::new()),
                self.put(failed, None, Item::new()),
            ];
            if let Some(slot) = key.slot(id) {
                slot.state = WriteState::Failed.as_str().into();
            }
            if get_s(row, "op") == Some(WriteOp::Post.as_str())
                && let Some(next) = key.promote()
            {
                let bound = Item::from([(":post".to_owned(), s("post")), (":pending".to_owned(), s("pending"))]);
                writes.push(self.update((LIVE, &pad(next)), "SET #op = :post", Some("#state = :pending"), bound));
            }
            writes
        })
        .await
        .map(drop)
    }

    /// Row `id` sent: gone, and for a post, where `key`'s message now lives.
    pub(super) async fn row_sent(&self, id: i64, posted: Option<(&MessageRef, &str, Time)>) -> Result<(), StoreError> {
        self.with_row(LIVE, id, posted.map(|(_, key, _)| key), |row, key| {
            key.remove(id);
            let mut writes = Vec::new();
            if row.is_some() {
                writes.push(self.delete((LIVE, &pad(id)), None, Item::new()));
            }
            if let Some((message, key, now)) = posted {
                writes.push(self.put(message_item(key, message, now), None, Item::new()));
            }
            writes
        })
        .await
        .map(drop)
    }

    /// Forgets the rows that failed for good before `before_ms`; how many.
    pub(in crate::store::dynamodb) async fn forget_failed(&self, before_ms: i64) -> Result<usize, StoreError> {
        let old = |item: &Item| get_n(item, "created").is_some_and(|at| at < before_ms);
        let rows = self.query(Range::table(FAILED), None, old).await?;
        for row in &rows {
            let id = need_n(row, "id")?;
            self.with_row(FAILED, id, None, |row, key| {
                key.remove(id);
                row.map(|_| self.delete((FAILED, &pad(id)), None, Item::new())).into_iter().collect()
            })
            .await?;
        }
        Ok(rows.len())
    }
}
