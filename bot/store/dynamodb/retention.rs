//! Retention on the table (see [`crate::store::retention`] for what is
//! kept): each kind of finished item is found through what sorts it by age —
//! changes by state and creation in `gsi1`, closed living records and posted
//! messages by time in `gsi1`, handled inbox keys by arrival in `gsi1`, parked
//! notifications and audit records by their own sort keys — and deleted in
//! batches of 25. Living records go one by one, each only if nobody changed
//! it since it was read; a failed row goes with its key item's update.

use std::collections::HashSet;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};
use opsbot_commands::ports::Time;
use opsbot_commands::ports::store::{ChangeState, StoreError};

use super::DynamoStore;
use super::attr::{Item, failed, get_n, get_s, n, need_s, pad};
use super::changes::state_partition;
use super::inbox::{HANDLED, PARKED, key_pk};
use super::io::{Range, key};
use super::living::{CLOSED, open_partition};
use super::outbox::{LIVE, MESSAGES};
use crate::store::living::Living;
use crate::store::ports::Pruning;
use crate::store::retention::{Pruned, Retention};

/// The most deletes one `BatchWriteItem` takes.
const BATCH: usize = 25;

/// The keys (`pk`, `sk`) of `items`, for [`DynamoStore::delete_all`].
pub fn keys_of(items: &[Item]) -> Vec<Item> {
    items
        .iter()
        .map(|i| i.iter().filter(|(k, _)| *k == "pk" || *k == "sk").map(|(k, v)| (k.clone(), v.clone())).collect())
        .collect()
}

impl DynamoStore {
    /// Deletes the items with these keys, 25 to a call; how many.
    async fn delete_all(&self, keys: Vec<Item>, doing: &str) -> Result<usize, StoreError> {
        let count = keys.len();
        for chunk in keys.chunks(BATCH) {
            let mut requests: Vec<WriteRequest> = chunk
                .iter()
                .map(|key| {
                    let delete = DeleteRequest::builder().set_key(Some(key.clone())).build().expect("the key is set");
                    WriteRequest::builder().delete_request(delete).build()
                })
                .collect();
            for _ in 0..10 {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, requests)
                    .send()
                    .await
                    .map_err(|e| failed(doing, e))?;
                requests = out.unprocessed_items().and_then(|u| u.get(&self.table)).cloned().unwrap_or_default();
                if requests.is_empty() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            if !requests.is_empty() {
                return Err(StoreError(format!("{doing}: DynamoDB kept refusing {} deletes", requests.len())));
            }
        }
        Ok(count)
    }

    async fn prune_changes(&self, before: i64) -> Result<usize, StoreError> {
        let mut gone = 0;
        for state in ChangeState::ALL.into_iter().filter(|s| s.is_final()) {
            let partition = state_partition(state);
            let old = self.query(Range::index(&partition).below(pad(before)), None, |_| true).await?;
            gone += self.delete_all(keys_of(&old), "forgetting finished changes").await?;
        }
        Ok(gone)
    }

    async fn prune_living(&self, before: i64) -> Result<usize, StoreError> {
        let mut old = self.query(Range::index(CLOSED).below(pad(before)), None, |_| true).await?;
        // Runs and approvals cannot stay open that long: their end was missed.
        let stale = |item: &Item| get_n(item, "updated").is_some_and(|at| at < before);
        for kind in [Living::Pipeline, Living::Approval] {
            old.extend(self.query(Range::index(&open_partition(kind)), None, stale).await?);
        }
        let mut gone = 0;
        for item in &old {
            let pk = need_s(item, "pk")?;
            let bound = Item::from([(":v".to_owned(), n(get_n(item, "v").unwrap_or(0)))]);
            let delete = self.delete((pk, "living"), Some("#v = :v"), bound);
            gone += usize::from(self.write(delete, "forgetting a living record").await?);
        }
        Ok(gone)
    }

    async fn prune_messages(&self, before: i64) -> Result<usize, StoreError> {
        let old = self.query(Range::index(MESSAGES).below(pad(before)), None, |_| true).await?;
        if old.is_empty() {
            return Ok(0);
        }
        let mut kept = HashSet::new();
        for kind in [Living::Alarm, Living::Pipeline, Living::Approval, Living::Drift] {
            let open = self.query(Range::index(&open_partition(kind)), None, |_| true).await?;
            kept.extend(open.iter().filter_map(|i| get_s(i, "message")).map(str::to_owned));
        }
        let live = self.query(Range::table(LIVE), None, |i| get_s(i, "state") != Some("failed")).await?;
        kept.extend(live.iter().filter_map(|i| get_s(i, "key")).map(str::to_owned));
        let free: Vec<Item> = old.into_iter().filter(|m| get_s(m, "key").is_none_or(|k| !kept.contains(k))).collect();
        self.delete_all(keys_of(&free), "forgetting where messages were posted").await
    }

    async fn prune_inbox(&self, before: i64) -> Result<usize, StoreError> {
        let handled = self.query(Range::index(HANDLED).below(pad(before)), None, |_| true).await?;
        let parked = self.query(Range::table(PARKED).below(pad(before)), None, |_| true).await?;
        let mut keys = keys_of(&handled);
        keys.extend(keys_of(&parked));
        for row in &parked {
            keys.push(key(&key_pk(need_s(row, "key")?), "key"));
        }
        self.delete_all(keys, "forgetting handled notifications").await?;
        Ok(handled.len() + parked.len())
    }

    async fn prune_audit(&self, before: i64) -> Result<usize, StoreError> {
        let old = self.query(Range::table("audit").below(pad(before)), None, |_| true).await?;
        self.delete_all(keys_of(&old), "forgetting old audit records").await
    }
}

#[async_trait]
impl Pruning for DynamoStore {
    async fn prune(&self, now: Time, keep: &Retention) -> Result<Pruned, StoreError> {
        let before = |age: Duration| now.timestamp_millis() - age.as_millis() as i64;
        Ok(Pruned {
            changes: self.prune_changes(before(keep.changes)).await?,
            // Living records before messages: a record pruned frees its message.
            living: self.prune_living(before(keep.living)).await?,
            messages: self.prune_messages(before(keep.messages)).await?,
            failed_sends: self.forget_failed(before(keep.failed_sends)).await?,
            inbox: self.prune_inbox(before(keep.inbox)).await?,
            audit: match keep.audit {
                Some(age) => self.prune_audit(before(age)).await?,
                None => 0,
            },
        })
    }
}
