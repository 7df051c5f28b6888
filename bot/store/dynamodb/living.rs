//! Living records on the table: one item per (kind, id), written inside
//! `commit_notification`'s transaction with a version (`v`) it must still
//! have, so two replicas never overwrite each other unknowingly. While open,
//! a record is filed under `gsi1` `living-open#<kind>` by when it was first
//! kept (`living_open` reads that); once closed, under `living-closed` by when
//! it last changed, where retention finds it.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use opsbot_commands::ports::store::StoreError;

use super::DynamoStore;
use super::attr::{Item, get_n, n, need_s, pad, s};
use super::io::Range;
use crate::store::living::{Kept, Living, LivingRecord};
use crate::store::ports::LivingStore;

fn kept_of(item: &Item) -> Result<Kept, StoreError> {
    Ok(Kept { body: need_s(item, "body")?.to_owned(), version: get_n(item, "v").unwrap_or(1).max(0) as u64 })
}

pub(super) fn living_pk(kind: Living, id: &str) -> String {
    format!("living#{}#{id}", kind.as_str())
}

/// The `gsi1` partition of open records of `kind`.
pub(super) fn open_partition(kind: Living) -> String {
    format!("living-open#{}", kind.as_str())
}

/// The `gsi1` partition of closed records.
pub(super) const CLOSED: &str = "living-closed";

/// `r` as kept at `now_ms`, first kept at `opened`, version `v`.
fn item(r: &LivingRecord, now_ms: i64, opened: i64, v: i64) -> Item {
    let (gsi1pk, gsi1sk) = if r.open {
        (open_partition(r.kind), format!("{}#{}", pad(opened), r.id))
    } else {
        (CLOSED.to_owned(), format!("{}#{}#{}", pad(now_ms), r.kind.as_str(), r.id))
    };
    Item::from([
        ("pk".to_owned(), s(living_pk(r.kind, &r.id))),
        ("sk".to_owned(), s("living")),
        ("gsi1pk".to_owned(), s(gsi1pk)),
        ("gsi1sk".to_owned(), s(gsi1sk)),
        ("kind".to_owned(), s(r.kind.as_str())),
        ("id".to_owned(), s(&r.id)),
        ("open".to_owned(), AttributeValue::Bool(r.open)),
        ("body".to_owned(), s(&r.body)),
        ("message".to_owned(), s(&r.message)),
        ("updated".to_owned(), n(now_ms)),
        ("opened".to_owned(), n(opened)),
        ("v".to_owned(), n(v)),
    ])
}

impl DynamoStore {
    /// The writes that keep `records` (the last of each kind and id) as of
    /// `now_ms`, each conditional on the version read here.
    pub(super) async fn living_writes(
        &self,
        records: &[LivingRecord],
        now_ms: i64,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let mut writes = Vec::new();
        for (i, r) in records.iter().enumerate() {
            if records[i + 1..].iter().any(|later| later.kind == r.kind && later.id == r.id) {
                continue;
            }
            let kept = self.get(&living_pk(r.kind, &r.id), "living").await?;
            // Written over the version the caller read; a record that moved
            // on since is refused here, and a race after this read by the
            // write's condition.
            let write = match (kept, r.version) {
                (None, None) => self.put(item(r, now_ms, now_ms, 1), Some("attribute_not_exists(pk)"), Item::new()),
                (Some(kept), Some(read)) if get_n(&kept, "v") == Some(read as i64) => {
                    let v = read as i64;
                    let opened = get_n(&kept, "opened").unwrap_or(now_ms);
                    self.put(item(r, now_ms, opened, v + 1), Some("#v = :v"), Item::from([(":v".to_owned(), n(v))]))
                }
                _ => return Err(StoreError(r.moved_on())),
            };
            writes.push(write);
        }
        Ok(writes)
    }
}

#[async_trait]
impl LivingStore for DynamoStore {
    async fn living(&self, kind: Living, id: &str) -> Result<Option<Kept>, StoreError> {
        let kept = self.get(&living_pk(kind, id), "living").await?;
        kept.as_ref().map(kept_of).transpose()
    }

    async fn living_open(&self, kind: Living) -> Result<Vec<Kept>, StoreError> {
        let partition = open_partition(kind);
        // The index is eventually consistent: each open record is read again,
        // so its version is the table's, not the index's.
        let listed = self.query(Range::index(&partition), None, |_| true).await?;
        let mut open = Vec::with_capacity(listed.len());
        for item in &listed {
            if let Some(kept) = self.get(need_s(item, "pk")?, "living").await?
                && kept.get("open").and_then(|o| o.as_bool().ok()) == Some(&true)
            {
                open.push(kept_of(&kept)?);
            }
        }
        Ok(open)
    }
}
