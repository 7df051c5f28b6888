//! How changes and audit records are kept as items: every field as its own
//! attribute (lists as JSON strings, times as Unix milliseconds, absent
//! options left out), and read back into the commands' types.

use opsbot_commands::ports::chat::MessageRef;
use opsbot_commands::ports::store::{AuditEvent, AuditRecord, ChangeId, ChangeRecord, ChangeState, Lease, StoreError};
use opsbot_commands::values::SlackUserId;

use super::super::attr::{Item, channel, get_n, get_s, n, need_n, need_s, pad, s, time};

pub(super) fn change_pk(id: &str) -> String {
    format!("change#{id}")
}

/// The `gsi1` partition of the changes in `state`.
pub(in crate::store::dynamodb) fn state_partition(state: ChangeState) -> String {
    format!("change-state#{}", state.as_str())
}

fn bad(what: &str, raw: &str) -> StoreError {
    StoreError(format!("a stored {what} is not valid: {raw:?}"))
}

fn user(raw: &str) -> Result<SlackUserId, StoreError> {
    SlackUserId::parse(raw).map_err(|_| bad("Slack user", raw))
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("lists of strings serialise")
}

fn put_opt(item: &mut Item, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        item.insert(name.to_owned(), s(value));
    }
}

pub(super) fn change_item(ch: &ChangeRecord) -> Item {
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
    if let Some(lease) = &ch.lease {
        put_opt(&mut item, "lease_owner", Some(&lease.owner));
        item.insert("lease_until".to_owned(), n(lease.until.timestamp_millis()));
    }
    put_opt(&mut item, "following", ch.following.as_deref());
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
        lease: match (get_s(item, "lease_owner"), get_n(item, "lease_until")) {
            (Some(owner), Some(until)) => Some(Lease { owner: owner.to_owned(), until: time(until) }),
            _ => None,
        },
        following: get_s(item, "following").map(str::to_owned),
    })
}

pub(super) fn audit_item(r: &AuditRecord, seq: i64) -> Item {
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

pub(super) fn audit_of(item: &Item) -> Result<AuditRecord, StoreError> {
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
