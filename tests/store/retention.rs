//! Retention on a moved clock (see `store::retention`): what is finished
//! goes after its age, what is still going stays however old.

use std::sync::Arc;

use chrono::{Duration as Days, TimeZone, Utc};
use opsbot_commands::ports::Time;
use opsbot_commands::ports::chat::MessageRef;
use opsbot_commands::ports::store::*;
use opsbot_commands::values::{ChannelId, SlackUserId};

use opsbot::store::{Living, LivingRecord, PARK_AFTER, Queued, Retention, Storage};

fn day(n: i64) -> Time {
    Utc.timestamp_opt(1_800_000_000, 0).unwrap() + Days::days(n)
}

fn ch() -> ChannelId {
    ChannelId::parse("C0OPS").unwrap()
}

fn change(id: &str, state: ChangeState, created: Time) -> ChangeRecord {
    ChangeRecord {
        id: ChangeId(id.into()),
        text: "scale prod/api 3".into(),
        shown: "scale prod/api 3".into(),
        command: "scale".into(),
        hash: "h".into(),
        plan: vec![],
        requester: SlackUserId::parse("U0DEV").unwrap(),
        requester_name: None,
        groups: vec![],
        channel: ch(),
        state,
        approvers: None,
        rule: None,
        created,
        expires: created + Days::hours(1),
        message: None,
        decided_by: None,
        lease: None,
        following: None,
    }
}

fn audit(at: Time) -> AuditRecord {
    AuditRecord {
        at,
        event: AuditEvent::Requested,
        request: "r".into(),
        actor: SlackUserId::parse("U0DEV").unwrap(),
        approver: None,
        channel: ch(),
        command: "scale".into(),
        text: "scale prod/api 3".into(),
        decision: None,
        rule: None,
        aws_request_ids: vec![],
        detail: None,
    }
}

fn record(kind: Living, id: &str, open: bool, message: &str) -> LivingRecord {
    LivingRecord { kind, id: id.into(), open, body: "{}".into(), message: message.into(), version: None }
}

/// `key` posted (its message known) on `at`.
async fn posted(store: &dyn Storage, key: &str, at: Time) {
    let post = Queued::Post { key: key.into(), channel: ch(), payload: "p".into() };
    store.commit_notification(&[], &[post], None, at).await.unwrap();
    let id = store.outbox_rows().await.unwrap().into_iter().find(|r| r.key == key).unwrap().id;
    store.outbox_posted(id, &MessageRef { channel: ch(), ts: format!("{}.1", at.timestamp()) }, key, at).await.unwrap();
}

pub async fn finished_changes_go_after_their_retention_and_waiting_ones_never(store: Arc<dyn Storage>) {
    store.insert_change(&change("done", ChangeState::Succeeded, day(0))).await.unwrap();
    store.insert_change(&change("recent", ChangeState::Failed, day(80))).await.unwrap();
    store.insert_change(&change("waiting", ChangeState::AwaitingApproval, day(0))).await.unwrap();
    store.insert_change(&change("running", ChangeState::Running, day(0))).await.unwrap();
    let keep = Retention::default();
    assert_eq!(store.prune(day(89), &keep).await.unwrap().changes, 0, "not yet 90 days");
    assert_eq!(store.prune(day(91), &keep).await.unwrap().changes, 1);
    for (id, kept) in [("done", false), ("recent", true), ("waiting", true), ("running", true)] {
        assert_eq!(store.change(&ChangeId(id.into())).await.unwrap().is_some(), kept, "{id}");
    }
}

pub async fn closed_records_go_and_open_alarms_and_drift_stay_however_old(store: Arc<dyn Storage>) {
    let old = [
        record(Living::Alarm, "resolved", false, "alarm:resolved:0"),
        record(Living::Alarm, "firing", true, "alarm:firing:0"),
        record(Living::Pipeline, "lost-end", true, "pipeline:lost-end"),
        record(Living::Drift, "prod", true, "drift:prod:0"),
        record(Living::Drift, "staging", false, "drift:staging:0"),
    ];
    store.commit_notification(&old, &[], None, day(0)).await.unwrap();
    let late = record(Living::Pipeline, "ended-late", false, "pipeline:ended-late");
    store.commit_notification(&[late], &[], None, day(20)).await.unwrap();
    assert_eq!(store.prune(day(31), &Retention::default()).await.unwrap().living, 3);
    assert!(store.living(Living::Drift, "prod").await.unwrap().is_some(), "drift may last until someone fixes it");
    assert_eq!(store.living(Living::Drift, "staging").await.unwrap(), None, "resolved long ago");
    assert_eq!(store.living(Living::Alarm, "resolved").await.unwrap(), None);
    assert!(store.living(Living::Alarm, "firing").await.unwrap().is_some(), "an alarm may stay in ALARM for months");
    assert_eq!(
        store.living(Living::Pipeline, "lost-end").await.unwrap(),
        None,
        "no execution runs 30 days: its end was missed"
    );
    assert!(store.living(Living::Pipeline, "ended-late").await.unwrap().is_some(), "changed 11 days ago");
}

pub async fn a_message_an_open_alarm_shows_in_is_kept_so_it_can_still_be_edited(store: Arc<dyn Storage>) {
    posted(store.as_ref(), "alarm:firing:0", day(0)).await;
    posted(store.as_ref(), "alarm:resolved:0", day(0)).await;
    posted(store.as_ref(), "pipeline:recent", day(60)).await;
    let firing = record(Living::Alarm, "firing", true, "alarm:firing:0");
    store.commit_notification(&[firing], &[], None, day(0)).await.unwrap();
    let pruned = store.prune(day(91), &Retention::default()).await.unwrap();
    assert_eq!(pruned.messages, 1);
    assert!(store.message_ref("alarm:firing:0").await.unwrap().is_some());
    assert_eq!(store.message_ref("alarm:resolved:0").await.unwrap(), None);
    assert!(store.message_ref("pipeline:recent").await.unwrap().is_some());
}

pub async fn a_message_with_a_write_still_waiting_is_kept(store: Arc<dyn Storage>) {
    posted(store.as_ref(), "pipeline:old", day(0)).await;
    store.outbox_update("pipeline:old", "new content", day(91)).await.unwrap();
    assert_eq!(store.prune(day(91), &Retention::default()).await.unwrap().messages, 0);
    assert!(store.message_ref("pipeline:old").await.unwrap().is_some());
}

pub async fn failed_sends_go_after_their_retention_and_live_ones_stay(store: Arc<dyn Storage>) {
    store.outbox_post("pipeline:a", &ch(), "a", day(0)).await.unwrap();
    store.outbox_post("pipeline:b", &ch(), "b", day(0)).await.unwrap();
    let failed = store.outbox_rows().await.unwrap()[0].id;
    store.outbox_fail(failed, "channel_not_found").await.unwrap();
    assert_eq!(store.prune(day(31), &Retention::default()).await.unwrap().failed_sends, 1);
    let left: Vec<String> = store.outbox_rows().await.unwrap().into_iter().map(|r| r.key).collect();
    assert_eq!(left, ["pipeline:b"], "a write still to send is never pruned");
}

pub async fn handled_keys_and_parked_notifications_go_after_the_inbox_retention(store: Arc<dyn Storage>) {
    let ms = |t: Time| t.timestamp_millis();
    for key in ["handled", "parked", "waiting"] {
        store.inbox_accept(key, b"{}", ms(day(0))).await.unwrap();
    }
    let rows = store.inbox_pending(10, ms(day(0))).await.unwrap();
    store.commit_notification(&[], &[], Some(rows[0].seq), day(0)).await.unwrap();
    for _ in 0..PARK_AFTER {
        store.inbox_failed(rows[1].seq, "boom", ms(day(0))).await.unwrap();
    }
    let keep = Retention::default();
    assert_eq!(store.prune(day(6), &keep).await.unwrap().inbox, 0, "a week by default");
    assert_eq!(store.prune(day(8), &keep).await.unwrap().inbox, 2);
    assert!(!store.inbox_knows("handled").await.unwrap());
    assert_eq!(store.inbox_parked(10).await.unwrap().0, 0);
    assert!(store.inbox_knows("waiting").await.unwrap(), "an unhandled notification is never pruned");
}

pub async fn the_audit_log_is_kept_forever_unless_a_retention_is_set(store: Arc<dyn Storage>) {
    store.append_audit(&audit(day(0))).await.unwrap();
    store.append_audit(&audit(day(400))).await.unwrap();
    let all = AuditQuery { user: None, command: None, limit: 10 };
    assert_eq!(store.prune(day(1000), &Retention::default()).await.unwrap().audit, 0);
    assert_eq!(store.audit(&all).await.unwrap().len(), 2);
    let year = Retention { audit: Some(std::time::Duration::from_secs(365 * 24 * 3600)), ..Retention::default() };
    assert_eq!(store.prune(day(500), &year).await.unwrap().audit, 1);
    assert_eq!(store.audit(&all).await.unwrap()[0].at, day(400));
}
