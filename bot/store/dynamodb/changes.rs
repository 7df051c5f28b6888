//! Claims, changes and the audit log (the commands' `Store` port) on the
//! table: a claim is a put conditional on the key being absent or expired; a
//! change's `transition` is one update conditional on its state, which also
//! moves it in `gsi1` (by state) and scrubs `text` to `shown` on a final
//! state; audit records are appended under one partition, sorted by time.

mod items;

use async_trait::async_trait;
use opsbot_commands::ports::Time;
use opsbot_commands::ports::chat::MessageRef;
use opsbot_commands::ports::store::{
    AuditQuery, AuditRecord, ChangeId, ChangeRecord, ChangeState, Lease, Store, StoreError,
};
use opsbot_commands::values::SlackUserId;

use super::DynamoStore;
use super::attr::{Item, failed, get_n, get_s, lost_race, n, s};
use super::io::Range;
pub(super) use items::state_partition;
use items::{audit_item, audit_of, change_item, change_of, change_pk};

/// How long a claim holds (Slack retries for minutes, not days).
const CLAIM_SECS: i64 = 24 * 3600;

impl DynamoStore {
    async fn changes_in(
        &self,
        state: ChangeState,
        keep: impl Fn(&Item) -> bool,
    ) -> Result<Vec<ChangeRecord>, StoreError> {
        let partition = state_partition(state);
        self.query(Range::index(&partition), None, keep).await?.iter().map(change_of).collect()
    }
}

#[async_trait]
impl Store for DynamoStore {
    async fn claim(&self, key: &str, now: Time) -> Result<bool, StoreError> {
        let secs = now.timestamp();
        let item = Item::from([
            ("pk".to_owned(), s(format!("claim#{key}"))),
            ("sk".to_owned(), s("claim")),
            ("expires_at".to_owned(), n(secs + CLAIM_SECS)),
        ]);
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR expires_at <= :now")
            .expression_attribute_values(":now", n(secs))
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            Err(err) if lost_race(&err) => Ok(false),
            Err(err) => Err(failed(&format!("claiming {key}"), err)),
        }
    }

    async fn insert_change(&self, change: &ChangeRecord) -> Result<(), StoreError> {
        let put = self.put(change_item(change), Some("attribute_not_exists(pk)"), Item::new());
        match self.write(put, &format!("storing change {}", change.id.0)).await? {
            true => Ok(()),
            false => Err(StoreError(format!("a change {} is already stored", change.id.0))),
        }
    }

    async fn change(&self, id: &ChangeId) -> Result<Option<ChangeRecord>, StoreError> {
        self.get(&change_pk(&id.0), "change").await?.as_ref().map(change_of).transpose()
    }

    async fn transition(
        &self,
        id: &ChangeId,
        from: ChangeState,
        to: ChangeState,
        by: Option<&SlackUserId>,
        lease: Option<&Lease>,
    ) -> Result<bool, StoreError> {
        let mut update = "SET #state = :to, #gsi1pk = :partition".to_owned();
        let mut bound = Item::from([
            (":from".to_owned(), s(from.as_str())),
            (":to".to_owned(), s(to.as_str())),
            (":partition".to_owned(), s(state_partition(to))),
        ]);
        if let Some(by) = by {
            update.push_str(", #decided_by = :by");
            bound.insert(":by".to_owned(), s(by.as_str()));
        }
        if let Some(lease) = lease.filter(|_| to == ChangeState::Running) {
            update.push_str(", #lease_owner = :owner, #lease_until = :until");
            bound.insert(":owner".to_owned(), s(&lease.owner));
            bound.insert(":until".to_owned(), n(lease.until.timestamp_millis()));
        }
        if to.is_final() {
            // `text` may hold a secret until the change is final.
            update.push_str(", #text = #shown REMOVE #lease_owner, #lease_until, #following");
        }
        let write = self.update((&change_pk(&id.0), "change"), &update, Some("#state = :from"), bound);
        self.write(write, &format!("moving change {} to {}", id.0, to.as_str())).await
    }

    async fn hold_lease(&self, id: &ChangeId, lease: &Lease, now: Time) -> Result<bool, StoreError> {
        let bound = Item::from([
            (":running".to_owned(), s(ChangeState::Running.as_str())),
            (":owner".to_owned(), s(&lease.owner)),
            (":until".to_owned(), n(lease.until.timestamp_millis())),
            (":now".to_owned(), n(now.timestamp_millis())),
        ]);
        let write = self.update(
            (&change_pk(&id.0), "change"),
            "SET #lease_owner = :owner, #lease_until = :until",
            Some(
                "#state = :running AND (attribute_not_exists(#lease_until) OR #lease_owner = :owner \
                 OR #lease_until <= :now)",
            ),
            bound,
        );
        self.write(write, &format!("taking the lease of change {}", id.0)).await
    }

    async fn release_lease(&self, id: &ChangeId, owner: &str, now: Time) -> Result<(), StoreError> {
        let bound = Item::from([
            (":running".to_owned(), s(ChangeState::Running.as_str())),
            (":owner".to_owned(), s(owner)),
            (":now".to_owned(), n(now.timestamp_millis())),
        ]);
        let write = self.update(
            (&change_pk(&id.0), "change"),
            "SET #lease_until = :now",
            Some("#state = :running AND #lease_owner = :owner"),
            bound,
        );
        // Not ours (any more) or not running: nothing to release.
        self.write(write, &format!("releasing the lease of change {}", id.0)).await.map(drop)
    }

    async fn set_following(&self, id: &ChangeId, owner: &str, following: &str) -> Result<bool, StoreError> {
        let bound = Item::from([
            (":running".to_owned(), s(ChangeState::Running.as_str())),
            (":owner".to_owned(), s(owner)),
            (":following".to_owned(), s(following)),
        ]);
        let write = self.update(
            (&change_pk(&id.0), "change"),
            "SET #following = :following",
            Some("#state = :running AND #lease_owner = :owner"),
            bound,
        );
        self.write(write, &format!("keeping how to follow change {}", id.0)).await
    }

    async fn set_message(&self, id: &ChangeId, message: &MessageRef) -> Result<(), StoreError> {
        let bound = Item::from([(":ch".to_owned(), s(message.channel.as_str())), (":ts".to_owned(), s(&message.ts))]);
        let write = self.update(
            (&change_pk(&id.0), "change"),
            "SET #message_channel = :ch, #message_ts = :ts",
            Some("attribute_exists(pk)"),
            bound,
        );
        // Like an UPDATE of no row: a change that is not (or no longer) stored stays so.
        self.write(write, &format!("recording the message of change {}", id.0)).await.map(drop)
    }

    async fn in_state(&self, state: ChangeState) -> Result<Vec<ChangeRecord>, StoreError> {
        self.changes_in(state, |_| true).await
    }

    async fn overdue(&self, now: Time) -> Result<Vec<ChangeRecord>, StoreError> {
        let now = now.timestamp_millis();
        let late = |item: &Item| get_n(item, "expires").is_some_and(|at| at < now);
        let mut found = self.changes_in(ChangeState::AwaitingConfirmation, late).await?;
        found.extend(self.changes_in(ChangeState::AwaitingApproval, late).await?);
        Ok(found)
    }

    async fn append_audit(&self, record: &AuditRecord) -> Result<(), StoreError> {
        let seq = self.next("audit").await?;
        let put = self.put(audit_item(record, seq), Some("attribute_not_exists(pk)"), Item::new());
        match self.write(put, "appending to the audit log").await? {
            true => Ok(()),
            false => Err(StoreError(format!("audit record {seq} is already stored"))),
        }
    }

    async fn audit(&self, q: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
        if q.limit == 0 {
            return Ok(Vec::new());
        }
        let wanted = |item: &Item| {
            q.user.as_ref().is_none_or(|u| get_s(item, "actor") == Some(u.as_str()))
                && q.command.as_deref().is_none_or(|c| get_s(item, "command") == Some(c))
        };
        let items = self.query(Range::table("audit").newest_first(), Some(q.limit), wanted).await?;
        items.iter().map(audit_of).collect()
    }
}
