//! Claims, changes and the audit log (the commands' `Store` port) on the
//! table: a claim is a put conditional on the key being absent or expired; a
//! change's `transition` is one update conditional on its state, which also
//! moves it in `gsi1` (by state) and scrubs `text` to `shown` on a final
//! state; audit records are appended under one partition, sorted by time.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use opsbot_commands::ports::Time;
use opsbot_commands::ports::chat::MessageRef;
use opsbot_commands::ports::store::{
    AuditEvent, AuditQuery, AuditRecord, ChangeId, ChangeRecord, ChangeState, Store, StoreError,
};
use opsbot_commands::values::{ChannelId, SlackUserId};

use super::DynamoStore;
use super::attr::{Item, failed, get_s, lost_race, n, need_n, need_s, pad, s};
use super::io::Range;

/// How long a claim holds (Slack retries for minutes, not days).
const CLAIM_SECS: i64 = 24 * 3600;

pub(super) fn change_pk(id: &str) -> String {
    format!("change#{id}")
}

/// The `gsi1` partition of the changes in `state`.
pub(super) fn state_partition(state: ChangeState) -> String {
    format!("change-state#{}", state.as_str())
}

pub(super) fn time(ms: i64) -> Time {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default()
}

fn bad(what: &str, raw: &str) -> StoreError {
    StoreError(format!("a stored {what} is not valid: {raw:?}"))
}

fn user(raw: &str) -> Result<SlackUserId, StoreError> {
    SlackUserId::parse(raw).map_err(|_| bad("Slack user", raw))
}

pub(super) fn channel(raw: &str) -> Result<ChannelId, StoreError> {
    ChannelId::parse(raw).map_err(|_| bad("channel", raw))
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("lists of strings serialise")
}

fn put_opt(item: &mut Item, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        item.insert(name.to_owned(), s(value));
    }
}

fn change_item(ch: &ChangeRecord) -> Item {
    let mut item = Item::from([
        ("pk".to_owned(), s(change_pk(&ch.id.0))),
        ("sk".to_owned(), s("change")),
        ("gsi1pk".to_owned(), s(state_partition(ch.state))),
        ("gsi1sk".to_owned(), s(format!("{}#{}", pad(ch.created.timestamp_millis()), ch.id.0))),
        ("id".to_owned(), s(&ch.id.0)),
        ("text".to_owned(), s(&ch.text)),
        ("shown".to_owned(), s(&ch.shown)),
        ("command".to_owned(), s(&ch.command)),
        ("hash".to_owned(), s(&ch.hash)),
        ("plan".to_owned(), s(json(&ch.plan))),
        ("requester".to_owned(), s(ch.requester.as_str())),
        ("groups".to_owned(), s(json(&ch.groups))),
        ("channel".to_owned(), s(ch.channel.as_str())),
        ("state".to_owned(), s(ch.state.as_str())),
        ("created".to_owned(), n(ch.created.timestamp_millis())),
        ("expires".to_owned(), n(ch.expires.timestamp_millis())),
    ]);
    put_opt(&mut item, "requester_name", ch.requester_name.as_deref());
    put_opt(&mut item, "approvers", ch.approvers.as_deref());
    put_opt(&mut item, "rule", ch.rule.as_deref());
    put_opt(&mut item, "decided_by", ch.decided_by.as_ref().map(|u| u.as_str()));
    if let Some(m) = &ch.message {
        put_opt(&mut item, "message_channel", Some(m.channel.as_str()));
        put_opt(&mut item, "message_ts", Some(&m.ts));
    }
    item
}

pub(super) fn change_of(item: &Item) -> Result<ChangeRecord, StoreError> {
    let state = need_s(item, "state")?;
    let message = match (get_s(item, "message_channel"), get_s(item, "message_ts")) {
        (Some(ch), Some(ts)) => Some(MessageRef { channel: channel(ch)?, ts: ts.to_owned() }),
        _ => None,
    };
    Ok(ChangeRecord {
        id: ChangeId(need_s(item, "id")?.to_owned()),
        text: need_s(item, "text")?.to_owned(),
        shown: need_s(item, "shown")?.to_owned(),
        command: need_s(item, "command")?.to_owned(),
        hash: need_s(item, "hash")?.to_owned(),
        plan: serde_json::from_str(need_s(item, "plan")?).unwrap_or_default(),
        requester: user(need_s(item, "requester")?)?,
        requester_name: get_s(item, "requester_name").map(str::to_owned),
        groups: serde_json::from_str(get_s(item, "groups").unwrap_or("[]")).unwrap_or_default(),
        channel: channel(need_s(item, "channel")?)?,
        state: ChangeState::parse(state).ok_or_else(|| bad("change state", state))?,
        approvers: get_s(item, "approvers").map(str::to_owned),
        rule: get_s(item, "rule").map(str::to_owned),
        created: time(need_n(item, "created")?),
        expires: time(need_n(item, "expires")?),
        message,
        decided_by: get_s(item, "decided_by").map(user).transpose()?,
    })
}

fn audit_item(r: &AuditRecord, seq: i64) -> Item {
    let at = r.at.timestamp_millis();
    let mut item = Item::from([
        ("pk".to_owned(), s("audit")),
        ("sk".to_owned(), s(format!("{}#{}", pad(at), pad(seq)))),
        ("at".to_owned(), n(at)),
        ("event".to_owned(), s(r.event.as_str())),
        ("request".to_owned(), s(&r.request)),
        ("actor".to_owned(), s(r.actor.as_str())),
        ("channel".to_owned(), s(r.channel.as_str())),
        ("command".to_owned(), s(&r.command)),
        ("text".to_owned(), s(&r.text)),
        ("aws_request_ids".to_owned(), s(json(&r.aws_request_ids))),
    ]);
    put_opt(&mut item, "approver", r.approver.as_ref().map(|u| u.as_str()));
    put_opt(&mut item, "decision", r.decision.as_deref());
    put_opt(&mut item, "rule", r.rule.as_deref());
    put_opt(&mut item, "detail", r.detail.as_deref());
    item
}

fn audit_of(item: &Item) -> Result<AuditRecord, StoreError> {
    let event = need_s(item, "event")?;
    let opt = |name: &str| get_s(item, name).map(str::to_owned);
    Ok(AuditRecord {
        at: time(need_n(item, "at")?),
        event: AuditEvent::parse(event).ok_or_else(|| bad("audit event", event))?,
        request: need_s(item, "request")?.to_owned(),
        actor: user(need_s(item, "actor")?)?,
        approver: get_s(item, "approver").map(user).transpose()?,
        channel: channel(need_s(item, "channel")?)?,
        command: need_s(item, "command")?.to_owned(),
        text: need_s(item, "text")?.to_owned(),
        decision: opt("decision"),
        rule: opt("rule"),
        aws_request_ids: serde_json::from_str(get_s(item, "aws_request_ids").unwrap_or("[]")).unwrap_or_default(),
        detail: opt("detail"),
    })
}

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
        if to.is_final() {
            // `text` may hold a secret until the change is final.
            update.push_str(", #text = #shown");
        }
        let write = self.update((&change_pk(&id.0), "change"), &update, Some("#state = :from"), bound);
        self.write(write, &format!("moving change {} to {}", id.0, to.as_str())).await
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
        let late = |item: &Item| super::attr::get_n(item, "expires").is_some_and(|at| at < now);
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
