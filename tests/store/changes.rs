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
        lease: None,
        following: None,
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
                store
                    .transition(&id, ChangeState::AwaitingApproval, ChangeState::Running, Some(&by), None)
                    .await
                    .unwrap()
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
    store.transition(&id, ChangeState::AwaitingConfirmation, ChangeState::Running, None, None).await.unwrap();
    assert!(store.change(&id).await.unwrap().unwrap().text.contains("hunter2"), "needed until it has run");
    store.transition(&id, ChangeState::Running, ChangeState::Succeeded, None, None).await.unwrap();
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

fn lease(owner: &str, until: i64) -> Lease {
    Lease { owner: owner.into(), until: at(until) }
}

pub async fn a_running_change_belongs_to_its_replica_until_its_lease_lapses(store: Arc<dyn Storage>) {
    store.insert_change(&change("c1")).await.unwrap();
    let id = ChangeId("c1".into());
    let a = lease("replica-a", 30);
    assert!(
        store.transition(&id, ChangeState::AwaitingConfirmation, ChangeState::Running, None, Some(&a)).await.unwrap()
    );
    assert_eq!(store.change(&id).await.unwrap().unwrap().lease, Some(a.clone()), "leased as it starts running");
    assert!(!store.hold_lease(&id, &lease("replica-b", 40), at(10)).await.unwrap(), "not while A's lease holds");
    assert!(store.hold_lease(&id, &lease("replica-a", 50), at(20)).await.unwrap(), "A renews its own");
    assert!(!store.hold_lease(&id, &lease("replica-b", 60), at(40)).await.unwrap(), "the renewal counts");
    assert!(store.hold_lease(&id, &lease("replica-b", 90), at(60)).await.unwrap(), "B takes it over once it lapsed");
    assert!(!store.hold_lease(&id, &lease("replica-a", 100), at(61)).await.unwrap(), "A finds it taken");
    assert!(!store.set_following(&id, "replica-a", "{}").await.unwrap(), "A keeps nothing on B's change");
    assert!(store.set_following(&id, "replica-b", r#"{"step":2}"#).await.unwrap());
    assert_eq!(store.change(&id).await.unwrap().unwrap().following.as_deref(), Some(r#"{"step":2}"#));
}

pub async fn a_released_lease_can_be_taken_at_once_and_a_final_change_has_none(store: Arc<dyn Storage>) {
    store.insert_change(&change("c1")).await.unwrap();
    let id = ChangeId("c1".into());
    let a = lease("replica-a", 30);
    store.transition(&id, ChangeState::AwaitingConfirmation, ChangeState::Running, None, Some(&a)).await.unwrap();
    store.set_following(&id, "replica-a", "{}").await.unwrap();
    store.release_lease(&id, "replica-b", at(5)).await.unwrap();
    assert!(!store.hold_lease(&id, &lease("replica-b", 40), at(5)).await.unwrap(), "only its owner releases it");
    store.release_lease(&id, "replica-a", at(5)).await.unwrap();
    assert!(store.hold_lease(&id, &lease("replica-b", 40), at(5)).await.unwrap(), "released: taken over at once");
    store.transition(&id, ChangeState::Running, ChangeState::Succeeded, None, None).await.unwrap();
    let done = store.change(&id).await.unwrap().unwrap();
    assert_eq!((done.lease, done.following), (None, None));
    assert!(!store.hold_lease(&id, &lease("replica-c", 90), at(99)).await.unwrap(), "a finished change is nobody's");
}

pub async fn of_many_replicas_taking_over_a_lapsed_change_exactly_one_wins(store: Arc<dyn Storage>) {
    let mut orphan = change("c1");
    (orphan.state, orphan.lease) = (ChangeState::Running, Some(lease("dead", 10)));
    store.insert_change(&orphan).await.unwrap();
    let tries = (0..8).map(|n| {
        let store = store.clone();
        tokio::spawn(async move {
            store.hold_lease(&ChangeId("c1".into()), &lease(&format!("replica-{n}"), 60), at(20)).await.unwrap()
        })
    });
    let winners = futures_util::future::join_all(tries).await.into_iter().filter(|won| *won.as_ref().unwrap()).count();
    assert_eq!(winners, 1);
}
