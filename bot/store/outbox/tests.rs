use chrono::{Duration, TimeZone, Utc};

use opsbot_commands::values::ChannelId;

use super::*;

fn now() -> Time {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap()
}

fn ch(raw: &str) -> ChannelId {
    ChannelId::parse(raw).unwrap()
}

fn store() -> SqliteStore {
    SqliteStore::in_memory().unwrap()
}

fn one(s: &SqliteStore, write: NewWrite) -> Result<Enqueued, OutboxError> {
    s.outbox_enqueue(&[write], now()).map(|mut queued| queued.remove(0))
}

fn post(s: &SqliteStore, key: &str, channel: &str, payload: &str) -> Result<Enqueued, OutboxError> {
    one(s, NewWrite::Post { key: key.into(), channel: ch(channel), payload: payload.into() })
}

fn update(s: &SqliteStore, key: &str, payload: &str) -> Result<Enqueued, OutboxError> {
    one(s, NewWrite::Update { key: key.into(), payload: payload.into() })
}

fn reply(s: &SqliteStore, key: &str, payload: &str) -> Result<Enqueued, OutboxError> {
    one(s, NewWrite::Reply { key: key.into(), payload: payload.into() })
}

fn rows(s: &SqliteStore) -> Vec<(WriteOp, String, WriteState)> {
    s.outbox_rows().unwrap().into_iter().map(|r| (r.op, r.payload, r.state)).collect()
}

fn posted(s: &SqliteStore, key: &str, channel: &str, ts: &str) {
    let id = s.outbox_rows().unwrap().into_iter().find(|r| r.key == key && r.op == WriteOp::Post).unwrap().id;
    s.outbox_sending(id).unwrap();
    s.outbox_posted(id, &MessageRef { channel: ch(channel), ts: ts.into() }, key, now()).unwrap();
}

#[test]
fn a_second_post_of_a_waiting_key_just_carries_the_newest_content() {
    let s = store();
    let first = post(&s, "alarm:a", "C1", "v1").unwrap();
    let second = post(&s, "alarm:a", "C2", "v2").unwrap();
    let Enqueued::Queued { id, op: WriteOp::Post } = first else { panic!("first post queued: {first:?}") };
    assert_eq!(second, Enqueued::Coalesced { id });
    assert_eq!(rows(&s), [(WriteOp::Post, "v2".into(), WriteState::Pending)]);
    assert_eq!(s.outbox_rows().unwrap()[0].channel, ch("C1"), "the key keeps the channel it was first posted in");
}

#[test]
fn ten_updates_of_an_unsent_message_leave_one_write_with_the_last_content() {
    let s = store();
    post(&s, "pipeline:e1", "C1", "v0").unwrap();
    for n in 1..=10 {
        update(&s, "pipeline:e1", &format!("v{n}")).unwrap();
    }
    assert_eq!(rows(&s), [(WriteOp::Post, "v10".into(), WriteState::Pending)]);
}

#[test]
fn updates_of_a_posted_message_share_one_row_until_it_is_sent() {
    let s = store();
    post(&s, "alarm:a", "C1", "v0").unwrap();
    posted(&s, "alarm:a", "C1", "1.1");
    let first = update(&s, "alarm:a", "v1").unwrap();
    let second = update(&s, "alarm:a", "v2").unwrap();
    let Enqueued::Queued { id, op: WriteOp::Update } = first else { panic!("update queued: {first:?}") };
    assert_eq!(second, Enqueued::Coalesced { id });
    assert_eq!(rows(&s), [(WriteOp::Update, "v2".into(), WriteState::Pending)]);
    let again = post(&s, "alarm:a", "C1", "v3").unwrap();
    assert_eq!(again, Enqueued::Coalesced { id }, "a post of a posted key is an update");
}

#[test]
fn a_write_already_handed_to_slack_is_never_changed_under_the_sender() {
    let s = store();
    post(&s, "alarm:a", "C1", "v0").unwrap();
    let id = s.outbox_rows().unwrap()[0].id;
    s.outbox_sending(id).unwrap();
    update(&s, "alarm:a", "v1").unwrap();
    assert_eq!(
        rows(&s),
        [(WriteOp::Post, "v0".into(), WriteState::Sending), (WriteOp::Update, "v1".into(), WriteState::Pending)]
    );
}

#[test]
fn replies_are_never_coalesced_and_go_to_the_channel_of_their_message() {
    let s = store();
    post(&s, "alarm:a", "C1", "v0").unwrap();
    reply(&s, "alarm:a", "r1").unwrap();
    reply(&s, "alarm:a", "r2").unwrap();
    let all = s.outbox_rows().unwrap();
    assert_eq!(all.iter().map(|r| r.op).collect::<Vec<_>>(), [WriteOp::Post, WriteOp::Reply, WriteOp::Reply]);
    assert!(all.iter().all(|r| r.channel == ch("C1")));
}

#[test]
fn updating_or_replying_to_a_message_never_queued_writes_nothing() {
    let s = store();
    let unknown =
        |r: Result<Enqueued, OutboxError>| matches!(r, Err(OutboxError::UnknownMessage { key }) if key == "alarm:nope");
    assert!(unknown(update(&s, "alarm:nope", "v1")));
    assert!(unknown(reply(&s, "alarm:nope", "r1")));
    assert!(s.outbox_rows().unwrap().is_empty());
}

#[test]
fn each_channel_offers_its_oldest_write_and_failed_rows_hold_nothing_up() {
    let s = store();
    post(&s, "a", "C1", "a0").unwrap();
    post(&s, "b", "C2", "b0").unwrap();
    post(&s, "c", "C1", "c0").unwrap();
    let heads: Vec<_> = s.outbox_heads().unwrap().into_iter().map(|r| r.key).collect();
    assert_eq!(heads, ["a", "b"]);
    let a = s.outbox_rows().unwrap()[0].id;
    s.outbox_fail(a, "channel_not_found").unwrap();
    let heads: Vec<_> = s.outbox_heads().unwrap().into_iter().map(|r| r.key).collect();
    assert_eq!(heads, ["b", "c"]);
    let failed = &s.outbox_rows().unwrap()[0];
    assert_eq!((failed.state, failed.error.as_deref()), (WriteState::Failed, Some("channel_not_found")));
}

#[test]
fn when_a_post_fails_for_good_the_next_update_of_its_key_is_posted_instead() {
    let s = store();
    post(&s, "alarm:a", "C1", "v0").unwrap();
    let post = s.outbox_rows().unwrap()[0].id;
    s.outbox_sending(post).unwrap();
    update(&s, "alarm:a", "v1").unwrap();
    s.outbox_fail(post, "invalid_blocks").unwrap();
    assert_eq!(
        rows(&s),
        [(WriteOp::Post, "v0".into(), WriteState::Failed), (WriteOp::Post, "v1".into(), WriteState::Pending)]
    );
}

#[test]
fn an_update_after_a_failed_post_with_nothing_waiting_becomes_a_new_post() {
    let s = store();
    post(&s, "alarm:a", "C1", "v0").unwrap();
    let post = s.outbox_rows().unwrap()[0].id;
    s.outbox_fail(post, "invalid_blocks").unwrap();
    let again = update(&s, "alarm:a", "v1").unwrap();
    assert!(matches!(again, Enqueued::Queued { op: WriteOp::Post, .. }), "{again:?}");
    assert!(reply(&s, "alarm:b", "r").is_err());
}

#[test]
fn a_sent_post_records_where_its_message_lives_and_leaves_the_queue() {
    let s = store();
    post(&s, "alarm:a", "C1", "v0").unwrap();
    assert_eq!(s.message_ref("alarm:a").unwrap(), None);
    posted(&s, "alarm:a", "C1", "1700000000.000100");
    assert_eq!(
        s.message_ref("alarm:a").unwrap(),
        Some(MessageRef { channel: ch("C1"), ts: "1700000000.000100".into() })
    );
    assert!(s.outbox_rows().unwrap().is_empty());
}

#[test]
fn a_retry_is_persisted_with_its_time_state_and_reason() {
    let s = store();
    post(&s, "alarm:a", "C1", "v0").unwrap();
    let id = s.outbox_rows().unwrap()[0].id;
    s.outbox_sending(id).unwrap();
    let later = now() + Duration::seconds(30);
    s.outbox_retry(id, later, WriteState::Sending, "HTTP 503").unwrap();
    let row = &s.outbox_rows().unwrap()[0];
    assert_eq!((row.attempts, row.next_attempt, row.state), (1, later, WriteState::Sending));
    assert_eq!(row.error.as_deref(), Some("HTTP 503"));
}

#[test]
fn queued_writes_and_posted_messages_survive_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("opsbot.db");
    {
        let s = SqliteStore::open(&path).unwrap();
        post(&s, "alarm:a", "C1", "v0").unwrap();
        posted(&s, "alarm:a", "C1", "1.1");
        update(&s, "alarm:a", "v1").unwrap();
        post(&s, "alarm:b", "C2", "b0").unwrap();
    }
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.message_ref("alarm:a").unwrap().map(|m| m.ts), Some("1.1".into()));
    assert_eq!(
        rows(&s),
        [(WriteOp::Update, "v1".into(), WriteState::Pending), (WriteOp::Post, "b0".into(), WriteState::Pending)]
    );
}

#[test]
fn a_batch_is_queued_whole_or_not_at_all() {
    let s = store();
    let good = [
        NewWrite::Post { key: "alarm:a".into(), channel: ch("C1"), payload: "v0".into() },
        NewWrite::Reply { key: "alarm:a".into(), payload: "r1".into() },
    ];
    let queued = s.outbox_enqueue(&good, now()).unwrap();
    assert_eq!(queued.len(), 2, "a reply may follow its post in the same batch");
    let bad = [
        NewWrite::Update { key: "alarm:a".into(), payload: "v1".into() },
        NewWrite::Reply { key: "alarm:ghost".into(), payload: "r".into() },
    ];
    let err = s.outbox_enqueue(&bad, now()).unwrap_err();
    assert!(matches!(&err, OutboxError::UnknownMessage { key } if key == "alarm:ghost"), "{err:?}");
    assert_eq!(
        rows(&s),
        [(WriteOp::Post, "v0".into(), WriteState::Pending), (WriteOp::Reply, "r1".into(), WriteState::Pending)],
        "the batch's update was rolled back with it"
    );
}
