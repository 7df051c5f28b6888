//! The audit records of a change: built from the request as asked (a denial,
//! a refusal, the request itself) or from the stored change (each later
//! step), then written to the store and, as one JSON line, to the log.
//!
//! # Decisions
//! - Every record also goes to the log (`opsbot::audit`), whatever the store
//!   does: log pipelines collect audit trails too.
//! - A record that cannot be written is reported as `false`; the caller
//!   decides whether that stops the change (it does before anything runs).

use tracing::{error, info};

use crate::context::Context;
use crate::ports::Time;
use crate::ports::store::{AuditEvent, AuditRecord, ChangeRecord, Store};
use crate::values::SlackUserId;

use super::ChangeRequest;

/// The record of `event` for `ctx`'s request, before a change is stored.
pub fn of_request(ctx: &Context, request: &ChangeRequest<'_>, event: AuditEvent) -> AuditRecord {
    AuditRecord {
        at: ctx.now,
        event,
        request: ctx.request_id.clone(),
        actor: ctx.user.clone(),
        approver: None,
        channel: ctx.channel.clone(),
        command: request.command.to_owned(),
        text: request.shown.to_owned(),
        decision: None,
        rule: request.rule.clone(),
        aws_request_ids: Vec::new(),
        detail: None,
    }
}

/// The record of `event` for a stored change, at `at`.
pub fn of_change(change: &ChangeRecord, event: AuditEvent, approver: Option<&SlackUserId>, at: Time) -> AuditRecord {
    AuditRecord {
        at,
        event,
        request: change.id.0.clone(),
        actor: change.requester.clone(),
        approver: approver.cloned(),
        channel: change.channel.clone(),
        command: change.command.clone(),
        text: change.shown.clone(),
        decision: change.approvers.as_ref().map(|r| format!("approval by {r}")),
        rule: change.rule.clone(),
        aws_request_ids: Vec::new(),
        detail: None,
    }
}

/// Logs `record` and appends it to `store`; false when the store refused it.
pub async fn append(store: &dyn Store, record: AuditRecord) -> bool {
    info!(target: "opsbot::audit", "{}", audit_json(&record));
    match store.append_audit(&record).await {
        Ok(()) => true,
        Err(err) => {
            error!(error = %err, request = %record.request, "cannot write the audit record");
            false
        }
    }
}

/// The audit record as one line of JSON (parameters are already redacted).
pub fn audit_json(r: &AuditRecord) -> String {
    serde_json::json!({
        "audit": r.event.as_str(),
        "at": r.at.to_rfc3339(),
        "request": r.request,
        "actor": r.actor.as_str(),
        "approver": r.approver.as_ref().map(|a| a.as_str()),
        "channel": r.channel.as_str(),
        "command": r.command,
        "text": r.text,
        "decision": r.decision,
        "rule": r.rule,
        "aws_request_ids": r.aws_request_ids,
        "detail": r.detail,
    })
    .to_string()
}
