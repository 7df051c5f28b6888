//! The outbox on the table (see [`crate::store::outbox`] for the rules):
//! rows still to send under the partition `outbox`, sorted by id (so each
//! channel's head is its first row there); rows that failed for good under
//! `outbox-failed`; where each key was posted in its `message#<key>` item.
//! Each key's rows are also listed in its key item ([`keys`]), which every
//! change of them rewrites on the version it read: that is what makes a key
//! posted once and coalesced right across replicas. Enqueues go through a
//! [`batch::Batch`]; `commit_notification` is one transaction of the living
//! records' writes, the batch's and the inbox row's.

mod batch;
mod keys;
mod rows;

use async_trait::async_trait;
use opsbot_commands::ports::Time;
use opsbot_commands::ports::chat::MessageRef;
use opsbot_commands::ports::store::StoreError;
use opsbot_commands::values::ChannelId;

use super::DynamoStore;
use super::attr::{Item, channel, get_s, n, need_s, s};
use super::io::Range;
use crate::store::living::LivingRecord;
use crate::store::outbox::{Backlog, Enqueued, OutboxRow, Queued, WriteState};
use crate::store::ports::OutboxStore;
use batch::{Batch, FAILED, message_pk};
use rows::row_of;

/// How often a write is decided again after another replica changed its key first.
const RETRIES: usize = 20;

pub(super) use batch::LIVE;
pub(super) use rows::MESSAGES;

impl DynamoStore {
    /// One enqueue as its own transaction, decided again while another
    /// replica changes its key first.
    async fn enqueue(&self, write: Queued, now: Time) -> Result<Option<Enqueued>, StoreError> {
        for _ in 0..RETRIES {
            let mut batch = Batch::default();
            let done = batch.enqueue(self, &write, now).await?;
            if self.transact(batch.writes(self), &format!("queuing a write of {}", write.key())).await? {
                return Ok(done);
            }
        }
        Err(StoreError(format!("queuing a write of {}: its key kept changing under us", write.key())))
    }
}

#[async_trait]
impl OutboxStore for DynamoStore {
    async fn outbox_post(
        &self,
        key: &str,
        channel: &ChannelId,
        payload: &str,
        now: Time,
    ) -> Result<Enqueued, StoreError> {
        let post = Queued::Post { key: key.into(), channel: channel.clone(), payload: payload.into() };
        Ok(self.enqueue(post, now).await?.expect("a post is always queued"))
    }

    async fn outbox_update(&self, key: &str, payload: &str, now: Time) -> Result<Option<Enqueued>, StoreError> {
        self.enqueue(Queued::Update { key: key.into(), payload: payload.into() }, now).await
    }

    async fn outbox_reply(&self, key: &str, payload: &str, now: Time) -> Result<Option<Enqueued>, StoreError> {
        self.enqueue(Queued::Reply { key: key.into(), payload: payload.into() }, now).await
    }

    async fn commit_notification(
        &self,
        records: &[LivingRecord],
        writes: &[Queued],
        handled: Option<i64>,
        now: Time,
    ) -> Result<(), StoreError> {
        for _ in 0..RETRIES {
            let mut all = self.living_writes(records, now.timestamp_millis()).await?;
            let mut batch = Batch::default();
            let mut dropped = Vec::new();
            for write in writes {
                if batch.enqueue(self, write, now).await?.is_none() {
                    dropped.push(write.key());
                }
            }
            all.extend(batch.writes(self));
            if let Some(seq) = handled {
                match self.handled_writes(seq).await? {
                    Some(writes) => all.extend(writes),
                    None => {
                        tracing::debug!(seq, "notification already handled by another replica; nothing to commit");
                        return Ok(());
                    }
                }
            }
            if self.transact(all, "committing a handled notification").await? {
                for key in dropped {
                    tracing::warn!(key, "a write for a message never posted is dropped");
                }
                return Ok(());
            }
        }
        Err(StoreError("committing a handled notification: its records or keys kept changing under us".into()))
    }

    async fn outbox_heads(&self) -> Result<Vec<OutboxRow>, StoreError> {
        let live = |item: &Item| get_s(item, "state") != Some(WriteState::Failed.as_str());
        let mut heads: Vec<OutboxRow> = Vec::new();
        for item in self.query(Range::table(LIVE), None, live).await? {
            let row = row_of(&item)?;
            if !heads.iter().any(|h| h.channel == row.channel) {
                heads.push(row);
            }
        }
        Ok(heads)
    }

    async fn outbox_rows(&self) -> Result<Vec<OutboxRow>, StoreError> {
        let mut all = self.query(Range::table(LIVE), None, |_| true).await?;
        all.extend(self.query(Range::table(FAILED), None, |_| true).await?);
        let mut rows = all.iter().map(row_of).collect::<Result<Vec<_>, _>>()?;
        rows.sort_by_key(|r| r.id);
        Ok(rows)
    }

    /// One query of the live rows' partition (what the sender reads each
    /// turn anyway); `/metrics` and `/readyz` cache it for a few seconds.
    async fn outbox_backlog(&self) -> Result<Backlog, StoreError> {
        let live = |item: &Item| get_s(item, "state") != Some(WriteState::Failed.as_str());
        let rows = self.query(Range::table(LIVE), None, live).await?;
        let oldest = rows.iter().filter_map(|item| super::attr::get_n(item, "created")).min();
        Ok(Backlog { waiting: rows.len() as u64, oldest: oldest.map(super::attr::time) })
    }

    async fn outbox_sending(&self, id: i64) -> Result<Option<String>, StoreError> {
        let marked = self.row_moved(id, None, WriteState::Sending, None).await?;
        marked.map(|row| need_s(&row, "payload").map(str::to_owned)).transpose()
    }

    async fn outbox_retry(&self, id: i64, at: Time, state: WriteState, error: &str) -> Result<(), StoreError> {
        self.row_moved(id, Some(at), state, Some(error)).await.map(drop)
    }

    async fn outbox_fail(&self, id: i64, error: &str) -> Result<(), StoreError> {
        self.row_failed(id, error).await
    }

    async fn outbox_posted(&self, id: i64, message: &MessageRef, key: &str, now: Time) -> Result<(), StoreError> {
        self.row_sent(id, Some((message, key, now))).await
    }

    async fn outbox_done(&self, id: i64) -> Result<(), StoreError> {
        self.row_sent(id, None).await
    }

    async fn message_ref(&self, key: &str) -> Result<Option<MessageRef>, StoreError> {
        let Some(item) = self.get(&message_pk(key), "message").await? else { return Ok(None) };
        Ok(Some(MessageRef { channel: channel(need_s(&item, "channel")?)?, ts: need_s(&item, "ts")?.to_owned() }))
    }

    async fn outbox_lease(&self, channel: &ChannelId, owner: &str, until: Time, now: Time) -> Result<bool, StoreError> {
        let item = Item::from([
            ("pk".to_owned(), s(lease_pk(channel))),
            ("sk".to_owned(), s("lease")),
            ("owner".to_owned(), s(owner)),
            ("until".to_owned(), n(until.timestamp_millis())),
            // Gone by itself a day after its holder stopped renewing it.
            ("expires_at".to_owned(), n(until.timestamp() + 24 * 3600)),
        ]);
        let bound = Item::from([(":owner".to_owned(), s(owner)), (":now".to_owned(), n(now.timestamp_millis()))]);
        let put = self.put(item, Some("attribute_not_exists(pk) OR #owner = :owner OR #until <= :now"), bound);
        self.write(put, &format!("leasing channel {channel}")).await
    }

    async fn outbox_release(&self, channel: &ChannelId, owner: &str) -> Result<(), StoreError> {
        let bound = Item::from([(":owner".to_owned(), s(owner))]);
        let delete = self.delete((&lease_pk(channel), "lease"), Some("#owner = :owner"), bound);
        // Not ours (any more): nothing to give up.
        self.write(delete, &format!("releasing channel {channel}")).await.map(drop)
    }
}

/// The item that says which replica sends `channel`'s writes.
fn lease_pk(channel: &ChannelId) -> String {
    format!("outbox-lease#{channel}")
}
