//! Claims, changes and the audit log: the commands' `Store` port.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use opsbot_commands::ports::Time;
use opsbot_commands::ports::chat::MessageRef;
use opsbot_commands::ports::store::*;
use opsbot_commands::values::{ChannelId, SlackUserId};

use opsbot::store::Storage;

pub fn at(secs: i64) -> Time {
    Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()
}

pub fn u(id: &str) -> SlackUserId {
    SlackUserId::parse(id).unwrap()
}

pub fn change(id: &str) -> ChangeRecord {
    ChangeRecord {
        id: ChangeId(id.into()),
        text: "param set /shop/prod/db-password hunter2".into(),
        shown: "param set /shop/prod/db-password ••••••".into(),
        command: "param set".into(),
        hash: "0123456789abcdef".into(),
        plan: vec!["*/shop/prod/db-password* value changes (hidden)".into()],
        requester: u("U0DEV"),
        requester_name: Some("Dana Dev".into()),
        groups: vec!["S0ONCALL".into()],
        channel: ChannelId::parse("C0OPS").unwrap(),
        state: ChangeState::AwaitingConfirmation,
        approvers: Some("leads".into()),
        rule: Some("opsbot.yaml:12".into()),
        created: at(0),
        expires: at(1800),
        message: None,
        decided_by: None,
    }
}

fn record(event: AuditEvent, actor: &str, command: &str, secs: i64) -> AuditRecord {
    AuditRecord {
        at: at(secs),
        event,
        request: format!("r{secs}"),
        actor: u(actor),
        approver: None,
        channel: ChannelId::parse("C0OPS").unwrap(),
        command: command.into(),
        text: command.into(),
        decision: Some("allow".into()),
        rule: None,
        aws_request_ids: vec![format!("aws-{secs}")],
        detail: None,
    }
}

pub async fn a_key_is_claimed_once(store: Arc<dyn Storage>) {
    assert!(store.claim("event:Ev1", at(0)).await.unwrap());
    assert!(!store.claim("event:Ev1", at(1)).await.unwrap());
    assert!(store.claim("event:Ev2", at(1)).await.unwrap());
}

pub async fn a_change_comes_back_exactly_as_stored_with_its_message(store: Arc<dyn Storage>) {
    store.insert_change(&change("c1")).await.unwrap();
    let message = MessageRef { channel: ChannelId::parse("C0OPS").unwrap(), ts: "1700000000.000100".into() };
    store.set_message(&ChangeId("c1".into()), &message).await.unwrap();
    let back = store.change(&ChangeId("c1".into())).await.unwrap().unwrap();
    assert_eq!(back, ChangeRecord { message: Some(message), ..change("c1") });
    assert_eq!(store.change(&ChangeId("nope".into())).await.unwrap(), None);
}

pub async fn of_many_concurrent_approvals_exactly_one_wins(store: Arc<dyn Storage>) {
    let mut first = change("c1");
    first.state = ChangeState::AwaitingApproval;
    store.insert_change(&first).await.unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let by = u(&format!("U0LEAD{i}"));
                let id = ChangeId("c1".into());
                store.transition(&id, ChangeState::AwaitingApproval, ChangeState::Running, Some(&by)).await.unwrap()
            })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        winners += usize::from(task.await.unwrap());
    }
    assert_eq!(winners, 1);
    let after = store.change(&ChangeId("c1".into())).await.unwrap().unwrap();
    assert_eq!(after.state, ChangeState::Running);
    assert!(after.decided_by.unwrap().as_str().starts_with("U0LEAD"));
}

pub async fn a_finished_change_keeps_no_secret(store: Arc<dyn Storage>) {
    store.insert_change(&change("c1")).await.unwrap();
    let id = ChangeId("c1".into());
    store.transition(&id, ChangeState::AwaitingConfirmation, ChangeState::Running, None).await.unwrap();
    assert!(store.change(&id).await.unwrap().unwrap().text.contains("hunter2"), "needed until it has run");
    store.transition(&id, ChangeState::Running, ChangeState::Succeeded, None).await.unwrap();
    let done = store.change(&id).await.unwrap().unwrap();
    assert_eq!(done.text, done.shown);
    assert!(!done.text.contains("hunter2"));
}

pub async fn changes_are_found_by_state(store: Arc<dyn Storage>) {
    store.insert_change(&change("waiting")).await.unwrap();
    let mut running = change("running");
    running.state = ChangeState::Running;
    store.insert_change(&running).await.unwrap();
    let found = store.in_state(ChangeState::Running).await.unwrap();
    assert_eq!(found.iter().map(|c| c.id.0.as_str()).collect::<Vec<_>>(), ["running"]);
}

pub async fn overdue_lists_only_waiting_changes_past_their_time(store: Arc<dyn Storage>) {
    store.insert_change(&change("waiting")).await.unwrap();
    let mut late = change("late");
    late.expires = at(10);
    store.insert_change(&late).await.unwrap();
    let mut done = change("done");
    (done.state, done.expires) = (ChangeState::Succeeded, at(10));
    store.insert_change(&done).await.unwrap();
    let overdue = store.overdue(at(60)).await.unwrap();
    assert_eq!(overdue.iter().map(|c| c.id.0.as_str()).collect::<Vec<_>>(), ["late"]);
}

pub async fn the_audit_log_reads_newest_first_filtered_by_user_and_command(store: Arc<dyn Storage>) {
    store.append_audit(&record(AuditEvent::Requested, "U0DEV", "deploy", 1)).await.unwrap();
    store.append_audit(&record(AuditEvent::Approved, "U0DEV", "deploy", 2)).await.unwrap();
    store.append_audit(&record(AuditEvent::Denied, "U0OTHER", "param set", 3)).await.unwrap();
    let all = store.audit(&AuditQuery { limit: 10, user: None, command: None }).await.unwrap();
    assert_eq!(all.iter().map(|r| r.at).collect::<Vec<_>>(), [at(3), at(2), at(1)]);
    assert_eq!(all[2], record(AuditEvent::Requested, "U0DEV", "deploy", 1), "round-trips every field");
    let mine = store.audit(&AuditQuery { limit: 1, user: Some(u("U0DEV")), command: None }).await.unwrap();
    assert_eq!(mine.iter().map(|r| r.event).collect::<Vec<_>>(), [AuditEvent::Approved]);
    let sets = AuditQuery { limit: 10, user: None, command: Some("param set".into()) };
    assert_eq!(store.audit(&sets).await.unwrap().len(), 1);
}
