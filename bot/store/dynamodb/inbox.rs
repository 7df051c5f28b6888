//! The inbox on the table (see [`crate::store::inbox`] for the rules): a
//! key item per notification key (taken once, by a conditional put), and the
//! unhandled rows under one partition in `seq` order. Handling a row deletes
//! it and files its key under `gsi1` `inbox-handled` by arrival, where
//! retention finds it; a row failing [`PARK_AFTER`] times moves to the
//! `inbox-parked` partition, sorted by when it was parked.

use async_trait::async_trait;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use opsbot_commands::ports::store::StoreError;

use super::DynamoStore;
use super::attr::{Item, get_n, get_s, n, need_n, need_s, pad, s};
use super::io::Range;
use crate::store::inbox::{Failure, InboxRow, PARK_AFTER, ParkedRow, backoff};
use crate::store::ports::InboxStore;

/// The partition of unhandled rows, and of parked ones.
pub(super) const ROWS: &str = "inbox";
pub(super) const PARKED: &str = "inbox-parked";
/// How long a row waits for the replica that accepted it before another
/// replica handles it too (that one may have died). Handling twice is safe
/// (only one commit marks the row handled), just wasted work.
pub(super) const TAKE_OVER_AFTER: std::time::Duration = std::time::Duration::from_secs(30);

/// The `gsi1` partition of rows waiting for a retry, by when it is due.
const RETRIES: &str = "inbox-retry";

/// The `gsi1` partition of handled keys.
pub(super) const HANDLED: &str = "inbox-handled";

pub(super) fn key_pk(key: &str) -> String {
    format!("inbox-key#{key}")
}

fn row_of(item: &Item) -> Result<InboxRow, StoreError> {
    let body = item.get("body").and_then(|b| b.as_b().ok()).map(|b| b.clone().into_inner()).unwrap_or_default();
    Ok(InboxRow {
        seq: need_n(item, "seq")?,
        key: need_s(item, "key")?.to_owned(),
        body,
        attempts: get_n(item, "attempts").unwrap_or(0) as u32,
        received_ms: need_n(item, "received")?,
    })
}

fn parked_of(item: &Item) -> Result<ParkedRow, StoreError> {
    Ok(ParkedRow {
        key: need_s(item, "key")?.to_owned(),
        error: get_s(item, "error").unwrap_or_default().to_owned(),
        attempts: need_n(item, "attempts")? as u32,
        received_ms: need_n(item, "received")?,
        parked_ms: need_n(item, "parked")?,
    })
}

impl DynamoStore {
    /// The writes that mark row `seq` handled (`None` when it is not waiting:
    /// another replica handled it): the row goes — on condition it is still
    /// there, so of two replicas handling it one commits —, its key stays
    /// for dedup, filed for retention.
    pub(super) async fn handled_writes(&self, seq: i64) -> Result<Option<Vec<TransactWriteItem>>, StoreError> {
        let Some(row) = self.get(ROWS, &pad(seq)).await? else { return Ok(None) };
        let key = need_s(&row, "key")?;
        let received = need_n(&row, "received")?;
        let expires = received / 1000 + self.inbox_keys_for.as_secs() as i64;
        let bound = Item::from([
            (":h".to_owned(), s(HANDLED)),
            (":sk".to_owned(), s(format!("{}#{key}", pad(received)))),
            (":exp".to_owned(), n(expires)),
        ]);
        let update = "SET #gsi1pk = :h, #gsi1sk = :sk, #expires_at = :exp";
        Ok(Some(vec![
            self.delete((ROWS, &pad(seq)), Some("attribute_exists(pk)"), Item::new()),
            self.update((&key_pk(key), "key"), update, None, bound),
        ]))
    }

    /// One try at storing `body` under `key`: false when refused.
    async fn accept_once(&self, key: &str, body: &[u8], now_ms: i64) -> Result<bool, StoreError> {
        let seq = self.next("inbox").await?;
        let key_item = Item::from([
            ("pk".to_owned(), s(key_pk(key))),
            ("sk".to_owned(), s("key")),
            ("key".to_owned(), s(key)),
            ("seq".to_owned(), n(seq)),
            ("received".to_owned(), n(now_ms)),
        ]);
        let row = Item::from([
            ("pk".to_owned(), s(ROWS)),
            ("sk".to_owned(), s(pad(seq))),
            ("seq".to_owned(), n(seq)),
            ("key".to_owned(), s(key)),
            ("body".to_owned(), AttributeValue::B(Blob::new(body))),
            ("received".to_owned(), n(now_ms)),
            ("by".to_owned(), s(&self.replica)),
            ("attempts".to_owned(), n(0)),
            ("next_attempt".to_owned(), n(0)),
        ]);
        let writes =
            vec![self.put(key_item, Some("attribute_not_exists(pk)"), Item::new()), self.put(row, None, Item::new())];
        self.transact(writes, &format!("accepting notification {key}")).await
    }

    /// Moves `row` (failed `attempts` times, the last with `error`) out of
    /// the queue, unless someone else counted a failure first.
    async fn park(&self, row: &Item, attempts: u32, error: &str, now_ms: i64) -> Result<bool, StoreError> {
        let seq = need_n(row, "seq")?;
        let mut parked = row.clone();
        parked.insert("pk".to_owned(), s(PARKED));
        parked.insert("sk".to_owned(), s(format!("{}#{}", pad(now_ms), pad(seq))));
        parked.insert("attempts".to_owned(), n(attempts.into()));
        parked.insert("error".to_owned(), s(error));
        parked.insert("parked".to_owned(), n(now_ms));
        // Out of the retry index: a parked row is never due again.
        parked.remove("gsi1pk");
        parked.remove("gsi1sk");
        let old = Item::from([(":old".to_owned(), n(get_n(row, "attempts").unwrap_or(0)))]);
        let writes =
            vec![self.delete((ROWS, &pad(seq)), Some("#attempts = :old"), old), self.put(parked, None, Item::new())];
        self.transact(writes, &format!("parking inbox row {seq}")).await
    }
}

#[async_trait]
impl InboxStore for DynamoStore {
    async fn inbox_accept(&self, key: &str, body: &[u8], now_ms: i64) -> Result<bool, StoreError> {
        for _ in 0..5 {
            if self.accept_once(key, body, now_ms).await? {
                return Ok(true);
            }
            // Refused: the key is known, or its item was in another transaction
            // that may yet fail (then this copy must be kept after all).
            if self.inbox_knows(key).await? {
                return Ok(false);
            }
        }
        Err(StoreError(format!("accepting notification {key}: DynamoDB kept refusing it")))
    }

    async fn inbox_pending(&self, limit: usize, now_ms: i64) -> Result<Vec<InboxRow>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let orphaned = now_ms - TAKE_OVER_AFTER.as_millis() as i64;
        let due = |item: &Item| {
            let ours = get_s(item, "by").is_none_or(|by| by == self.replica);
            get_n(item, "next_attempt").unwrap_or(0) <= now_ms
                && (ours || get_n(item, "received").is_some_and(|at| at <= orphaned))
        };
        self.query(Range::table(ROWS), Some(limit), due).await?.iter().map(row_of).collect()
    }

    async fn inbox_next_retry(&self) -> Result<Option<i64>, StoreError> {
        // The index lists only rows that failed, soonest first: one small read
        // however long the inbox is.
        let soonest = self.query(Range::index(RETRIES), Some(1), |_| true).await?;
        Ok(soonest.first().and_then(|item| get_n(item, "next_attempt")))
    }

    async fn inbox_failed(&self, seq: i64, error: &str, now_ms: i64) -> Result<Failure, StoreError> {
        for _ in 0..10 {
            let Some(row) = self.get(ROWS, &pad(seq)).await? else {
                return Err(StoreError(format!("inbox row {seq} is not waiting to be handled")));
            };
            let old = get_n(&row, "attempts").unwrap_or(0);
            let attempts = old as u32 + 1;
            if attempts >= PARK_AFTER {
                if self.park(&row, attempts, error, now_ms).await? {
                    return Ok(Failure::Parked { attempts });
                }
                continue;
            }
            let at_ms = now_ms + backoff(attempts).as_millis() as i64;
            let bound = Item::from([
                (":old".to_owned(), n(old)),
                (":a".to_owned(), n(attempts.into())),
                (":e".to_owned(), s(error)),
                (":at".to_owned(), n(at_ms)),
                (":r".to_owned(), s(RETRIES)),
                (":rsk".to_owned(), s(format!("{}#{}", pad(at_ms), pad(seq)))),
            ]);
            let update = "SET #attempts = :a, #error = :e, #next_attempt = :at, #gsi1pk = :r, #gsi1sk = :rsk";
            let write = self.update((ROWS, &pad(seq)), update, Some("#attempts = :old"), bound);
            if self.write(write, &format!("recording a failure of inbox row {seq}")).await? {
                return Ok(Failure::RetryAt { attempts, at_ms });
            }
        }
        Err(StoreError(format!("inbox row {seq}: failures kept being recorded concurrently")))
    }

    async fn inbox_parked(&self, limit: usize) -> Result<(usize, Vec<ParkedRow>), StoreError> {
        let all = self.query(Range::table(PARKED).newest_first(), None, |_| true).await?;
        let newest = all.iter().take(limit).map(parked_of).collect::<Result<_, _>>()?;
        Ok((all.len(), newest))
    }

    async fn inbox_knows(&self, key: &str) -> Result<bool, StoreError> {
        Ok(self.get(&key_pk(key), "key").await?.is_some())
    }
}
