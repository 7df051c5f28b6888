//! The calls every port makes: reading one item or a range of a partition
//! (all pages), building the writes of a transaction and running it.
//!
//! Decisions:
//! - Reads of the table are strongly consistent; reads of `gsi1` cannot be
//!   (DynamoDB's rule), so only timers, listings and retention use the index,
//!   never a decision another replica could race.
//! - Expressions name attributes as `#name` and the `#`-names are derived
//!   from the expression itself, so no attribute can collide with one of
//!   DynamoDB's reserved words (`state`, `key`, `text`, …).
//! - A transaction whose condition failed is a lost race (`Ok(false)`), for
//!   the caller to read again and retry; more than 100 writes is refused
//!   rather than split, since split it would no longer be all or nothing.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem, Update};
use opsbot_commands::ports::store::StoreError;

use super::DynamoStore;
use super::attr::{Item, failed, lost_race, s};
use super::table::GSI1;

/// The most writes one `TransactWriteItems` takes.
pub const MAX_TRANSACTION: usize = 100;

/// Which items a [`DynamoStore::query`] reads.
pub struct Range<'a> {
    /// `gsi1` instead of the table.
    pub index: bool,
    /// The partition (`pk`, or `gsi1pk` on the index).
    pub partition: &'a str,
    /// Only sort keys below this one.
    pub below: Option<String>,
    pub newest_first: bool,
}

impl<'a> Range<'a> {
    pub fn table(partition: &'a str) -> Self {
        Range { index: false, partition, below: None, newest_first: false }
    }

    pub fn index(partition: &'a str) -> Self {
        Range { index: true, partition, below: None, newest_first: false }
    }

    pub fn below(self, sort_key: String) -> Self {
        Range { below: Some(sort_key), ..self }
    }

    pub fn newest_first(self) -> Self {
        Range { newest_first: true, ..self }
    }
}

/// The smallest page a limited query asks for (a filter may drop some).
const SMALLEST_PAGE: usize = 25;

/// `#name` → `name` for every `#name` in `exprs`.
fn names(exprs: &[&str]) -> Option<HashMap<String, String>> {
    let mut found = HashMap::new();
    for expr in exprs {
        for part in expr.split('#').skip(1) {
            let name: String = part.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            found.insert(format!("#{name}"), name);
        }
    }
    (!found.is_empty()).then_some(found)
}

fn values(values: Item) -> Option<Item> {
    (!values.is_empty()).then_some(values)
}

/// The key of item `pk` / `sk`.
pub fn key(pk: &str, sk: &str) -> Item {
    Item::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

impl DynamoStore {
    /// Item `pk` / `sk`, read consistently.
    pub(super) async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| failed(&format!("reading {pk}"), e))?;
        Ok(out.item)
    }

    /// The items of `range` that `keep` accepts, in sort-key order, until
    /// `limit` of them (every page read as needed). With a `limit`, pages
    /// are that size (at least [`SMALLEST_PAGE`]): reading the first due
    /// rows of a long inbox must not read a megabyte of bodies each time.
    pub(super) async fn query(
        &self,
        range: Range<'_>,
        limit: Option<usize>,
        keep: impl Fn(&Item) -> bool,
    ) -> Result<Vec<Item>, StoreError> {
        let (pk, sk) = if range.index { ("gsi1pk", "gsi1sk") } else { ("pk", "sk") };
        let mut condition = format!("{pk} = :p");
        let mut bound = Item::from([(":p".to_owned(), s(range.partition))]);
        if let Some(below) = range.below {
            condition.push_str(&format!(" AND {sk} < :below"));
            bound.insert(":below".to_owned(), s(below));
        }
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(range.index.then(|| GSI1.to_owned()))
                .consistent_read(!range.index)
                .key_condition_expression(&condition)
                .set_expression_attribute_values(Some(bound.clone()))
                .scan_index_forward(!range.newest_first)
                .set_limit(limit.map(|limit| limit.max(SMALLEST_PAGE) as i32))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| failed(&format!("reading {}", range.partition), e))?;
            for item in out.items() {
                if keep(item) {
                    found.push(item.clone());
                    if limit.is_some_and(|limit| found.len() >= limit) {
                        return Ok(found);
                    }
                }
            }
            start = out.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(found);
            }
        }
    }

    /// A put of `item` into a transaction, if `condition` holds.
    pub(super) fn put(&self, item: Item, condition: Option<&str>, bound: Item) -> TransactWriteItem {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(condition.map(str::to_owned))
            .set_expression_attribute_names(names(&[condition.unwrap_or_default()]))
            .set_expression_attribute_values(values(bound))
            .build()
            .expect("table and item are set");
        TransactWriteItem::builder().put(put).build()
    }

    /// An update of `pk` / `sk` into a transaction, if `condition` holds.
    pub(super) fn update(
        &self,
        (pk, sk): (&str, &str),
        update: &str,
        condition: Option<&str>,
        bound: Item,
    ) -> TransactWriteItem {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .update_expression(update)
            .set_condition_expression(condition.map(str::to_owned))
            .set_expression_attribute_names(names(&[update, condition.unwrap_or_default()]))
            .set_expression_attribute_values(values(bound))
            .build()
            .expect("table, key and expression are set");
        TransactWriteItem::builder().update(update).build()
    }

    /// A delete of `pk` / `sk` into a transaction, if `condition` holds.
    pub(super) fn delete(&self, (pk, sk): (&str, &str), condition: Option<&str>, bound: Item) -> TransactWriteItem {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .set_condition_expression(condition.map(str::to_owned))
            .set_expression_attribute_names(names(&[condition.unwrap_or_default()]))
            .set_expression_attribute_values(values(bound))
            .build()
            .expect("table and key are set");
        TransactWriteItem::builder().delete(delete).build()
    }

    /// Runs `writes` all or nothing: false when a condition did not hold
    /// (another writer got there first; read again and retry).
    pub(super) async fn transact(&self, writes: Vec<TransactWriteItem>, doing: &str) -> Result<bool, StoreError> {
        if writes.is_empty() {
            return Ok(true);
        }
        if writes.len() > MAX_TRANSACTION {
            return Err(StoreError(format!(
                "{doing} needs {} writes, more than the {MAX_TRANSACTION} one DynamoDB transaction takes; \
                 it was not split, since it must be all or nothing",
                writes.len()
            )));
        }
        match self.client.transact_write_items().set_transact_items(Some(writes)).send().await {
            Ok(_) => Ok(true),
            Err(err) if lost(&err) => Ok(false),
            Err(err) => Err(failed(doing, err)),
        }
    }

    /// One conditional write on its own, as a plain call (not a transaction,
    /// which costs twice and may be refused for a conflict): false when its
    /// condition did not hold.
    pub(super) async fn write(&self, write: TransactWriteItem, doing: &str) -> Result<bool, StoreError> {
        let out = match write {
            TransactWriteItem { put: Some(p), .. } => self
                .client
                .put_item()
                .table_name(p.table_name)
                .set_item(Some(p.item))
                .set_condition_expression(p.condition_expression)
                .set_expression_attribute_names(p.expression_attribute_names)
                .set_expression_attribute_values(p.expression_attribute_values)
                .send()
                .await
                .map(drop)
                .map_err(|e| if lost_race(&e) { None } else { Some(failed(doing, e)) }),
            TransactWriteItem { update: Some(u), .. } => self
                .client
                .update_item()
                .table_name(u.table_name)
                .set_key(Some(u.key))
                .update_expression(u.update_expression)
                .set_condition_expression(u.condition_expression)
                .set_expression_attribute_names(u.expression_attribute_names)
                .set_expression_attribute_values(u.expression_attribute_values)
                .send()
                .await
                .map(drop)
                .map_err(|e| if lost_race(&e) { None } else { Some(failed(doing, e)) }),
            other => return self.transact(vec![other], doing).await,
        };
        match out {
            Ok(()) => Ok(true),
            Err(None) => Ok(false),
            Err(Some(err)) => Err(err),
        }
    }
}

/// Whether a transaction was cancelled only because a condition did not
/// hold or another transaction held an item (both: try again).
fn lost<R>(
    err: &aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        R,
    >,
) -> bool {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) = err.as_service_error() else {
        return false;
    };
    cancelled
        .cancellation_reasons()
        .iter()
        .all(|r| matches!(r.code(), None | Some("None" | "ConditionalCheckFailed" | "TransactionConflict")))
}
