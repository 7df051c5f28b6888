//! Retention on a moved clock: what is finished goes after its age, what is
//! still going stays however old.

use chrono::{Duration as Days, TimeZone, Utc};
use opsbot_commands::ports::Time;
use opsbot_commands::ports::chat::MessageRef;
use opsbot_commands::ports::store::*;
use opsbot_commands::values::{ChannelId, SlackUserId};

use super::*;
use crate::store::MIGRATIONS;
use crate::store::outbox::Queued;
use crate::store::{Living, LivingRecord};

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
    LivingRecord { kind, id: id.into(), open, body: "{}".into(), message: message.into() }
}

/// `key` posted (its message known) on `at`.
fn posted(store: &SqliteStore, key: &str, at: Time) {
    store
        .commit_notification(&[], &[Queued::Post { key: key.into(), channel: ch(), payload: "p".into() }], None, at)
        .unwrap();
    let id = store.outbox_rows().unwrap().into_iter().find(|r| r.key == key).unwrap().id;
    store.outbox_posted(id, &MessageRef { channel: ch(), ts: format!("{}.1", at.timestamp()) }, key, at).unwrap();
}

#[tokio::test]
async fn finished_changes_go_after_their_retention_and_waiting_ones_never() {
    let store = SqliteStore::in_memory().unwrap();
    store.insert_change(&change("done", ChangeState::Succeeded, day(0))).await.unwrap();
    store.insert_change(&change("recent", ChangeState::Failed, day(80))).await.unwrap();
    store.insert_change(&change("waiting", ChangeState::AwaitingApproval, day(0))).await.unwrap();
    store.insert_change(&change("running", ChangeState::Running, day(0))).await.unwrap();
    let keep = Retention::default();
    assert_eq!(store.prune(day(89), &keep).unwrap().changes, 0, "not yet 90 days");
    assert_eq!(store.prune(day(91), &keep).unwrap().changes, 1);
    for (id, kept) in [("done", false), ("recent", true), ("waiting", true), ("running", true)] {
        assert_eq!(store.change(&ChangeId(id.into())).await.unwrap().is_some(), kept, "{id}");
    }
}

#[test]
fn closed_records_go_and_open_alarms_stay_however_old() {
    let store = SqliteStore::in_memory().unwrap();
    let put = |r: LivingRecord, at: Time| store.living_put(&r, at.timestamp_millis()).unwrap();
    put(record(Living::Alarm, "resolved", false, "alarm:resolved:0"), day(0));
    put(record(Living::Alarm, "firing", true, "alarm:firing:0"), day(0));
    put(record(Living::Pipeline, "lost-end", true, "pipeline:lost-end"), day(0));
    put(record(Living::Pipeline, "ended-late", false, "pipeline:ended-late"), day(20));
    assert_eq!(store.prune(day(31), &Retention::default()).unwrap().living, 2);
    assert_eq!(store.living(Living::Alarm, "resolved").unwrap(), None);
    assert!(store.living(Living::Alarm, "firing").unwrap().is_some(), "an alarm may stay in ALARM for months");
    assert_eq!(
        store.living(Living::Pipeline, "lost-end").unwrap(),
        None,
        "no execution runs 30 days: its end was missed"
    );
    assert!(store.living(Living::Pipeline, "ended-late").unwrap().is_some(), "changed 11 days ago");
}

#[test]
fn a_message_an_open_alarm_shows_in_is_kept_so_it_can_still_be_edited() {
    let store = SqliteStore::in_memory().unwrap();
    posted(&store, "alarm:firing:0", day(0));
    posted(&store, "alarm:resolved:0", day(0));
    posted(&store, "pipeline:recent", day(60));
    store.living_put(&record(Living::Alarm, "firing", true, "alarm:firing:0"), day(0).timestamp_millis()).unwrap();
    let pruned = store.prune(day(91), &Retention::default()).unwrap();
    assert_eq!(pruned.messages, 1);
    assert!(store.message_ref("alarm:firing:0").unwrap().is_some());
    assert_eq!(store.message_ref("alarm:resolved:0").unwrap(), None);
    assert!(store.message_ref("pipeline:recent").unwrap().is_some());
}

#[test]
fn a_message_with_a_write_still_waiting_is_kept() {
    let store = SqliteStore::in_memory().unwrap();
    posted(&store, "pipeline:old", day(0));
    store.outbox_update("pipeline:old", "new content", day(91)).unwrap();
    assert_eq!(store.prune(day(91), &Retention::default()).unwrap().messages, 0);
    assert!(store.message_ref("pipeline:old").unwrap().is_some());
}

#[test]
fn failed_sends_go_after_their_retention_and_live_ones_stay() {
    let store = SqliteStore::in_memory().unwrap();
    store.outbox_post("pipeline:a", &ch(), "a", day(0)).unwrap();
    store.outbox_post("pipeline:b", &ch(), "b", day(0)).unwrap();
    let failed = store.outbox_rows().unwrap()[0].id;
    store.outbox_fail(failed, "channel_not_found").unwrap();
    assert_eq!(store.prune(day(31), &Retention::default()).unwrap().failed_sends, 1);
    let left: Vec<String> = store.outbox_rows().unwrap().into_iter().map(|r| r.key).collect();
    assert_eq!(left, ["pipeline:b"], "a write still to send is never pruned");
}

#[test]
fn handled_keys_and_parked_notifications_go_after_the_inbox_retention() {
    let store = SqliteStore::in_memory().unwrap();
    let ms = |t: Time| t.timestamp_millis();
    for key in ["handled", "parked", "waiting"] {
        store.inbox_accept(key, b"{}", ms(day(0))).unwrap();
    }
    let rows = store.inbox_pending(10, ms(day(0))).unwrap();
    store.inbox_handled(rows[0].seq).unwrap();
    for _ in 0..crate::store::PARK_AFTER {
        store.inbox_failed(rows[1].seq, "boom", ms(day(0))).unwrap();
    }
    let keep = Retention::default();
    assert_eq!(store.prune(day(6), &keep).unwrap().inbox, 0, "a week by default");
    assert_eq!(store.prune(day(8), &keep).unwrap().inbox, 2);
    assert!(!store.inbox_knows("handled").unwrap());
    assert_eq!(store.inbox_parked(10).unwrap().0, 0);
    assert!(store.inbox_knows("waiting").unwrap(), "an unhandled notification is never pruned");
}

#[tokio::test]
async fn the_audit_log_is_kept_forever_unless_a_retention_is_set() {
    let store = SqliteStore::in_memory().unwrap();
    store.append_audit(&audit(day(0))).await.unwrap();
    store.append_audit(&audit(day(400))).await.unwrap();
    let all = AuditQuery { user: None, command: None, limit: 10 };
    assert_eq!(store.prune(day(1000), &Retention::default()).unwrap().audit, 0);
    assert_eq!(store.audit(&all).await.unwrap().len(), 2);
    let year = Retention { audit: Some(std::time::Duration::from_secs(365 * 24 * 3600)), ..Retention::default() };
    assert_eq!(store.prune(day(500), &year).unwrap().audit, 1);
    assert_eq!(store.audit(&all).await.unwrap()[0].at, day(400));
}

#[test]
fn each_prune_reads_an_index_not_the_whole_table() {
    let store = SqliteStore::in_memory().unwrap();
    for (name, sql) in [("changes", CHANGES), ("living", LIVING), ("messages", MESSAGES), ("audit", AUDIT)] {
        let plan: Vec<String> = store
            .with(|c| {
                let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
                stmt.query_map([0], |r| r.get(3))?.collect()
            })
            .unwrap();
        assert!(plan[0].contains("USING INDEX") || plan[0].contains("USING COVERING INDEX"), "{name}: {plan:?}");
    }
}

#[test]
fn a_store_from_before_retention_keeps_its_records_and_their_messages() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let old = rusqlite::Connection::open(&path).unwrap();
        let before = MIGRATIONS.len() - 1;
        for sql in &MIGRATIONS[..before] {
            old.execute_batch(sql).unwrap();
        }
        old.pragma_update(None, "user_version", before as i64).unwrap();
        old.execute_batch(
            "INSERT INTO living (kind, id, open, body) VALUES ('alarm', 'arn:x', 1, '{}'), ('pipeline', 'e1', 0, '{}');
             INSERT INTO messages (key, channel, ts, posted) VALUES ('alarm:arn:x:5', 'C0OPS', '1.1', 0),
                ('alarm:arn:xy:7', 'C0OPS', '1.2', 0), ('pipeline:e1', 'C0OPS', '1.3', 0);
             INSERT INTO inbox (key, body, received) VALUES ('waiting', x'7b7d', 0)",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let message: String =
        store.with(|c| c.query_row("SELECT message FROM living WHERE id = 'arn:x'", [], |r| r.get(0))).unwrap();
    assert_eq!(message, "alarm:arn:x:5", "not the message of arn:xy");
    assert_eq!(store.inbox_pending(10, 0).unwrap().len(), 1, "an unhandled notification is still due");
    let pruned = store.prune(Utc::now() + Days::days(91), &Retention::default()).unwrap();
    assert_eq!((pruned.living, pruned.messages), (1, 2), "the closed run and the messages nothing open shows in");
    assert!(store.message_ref("alarm:arn:x:5").unwrap().is_some(), "the open alarm's message stays");
}
