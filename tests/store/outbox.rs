//! The outbox's rules (see `store::outbox`): coalescing, per-channel order,
//! failed rows out of the way, posts recorded once, notifications committed whole.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use opsbot_commands::ports::Time;
use opsbot_commands::ports::chat::MessageRef;
use opsbot_commands::values::ChannelId;

use opsbot::store::{Backlog, Enqueued, Queued, Storage, WriteOp, WriteState};

fn now() -> Time {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap()
}

fn ch(raw: &str) -> ChannelId {
    ChannelId::parse(raw).unwrap()
}

async fn rows(s: &dyn Storage) -> Vec<(WriteOp, String, WriteState)> {
    s.outbox_rows().await.unwrap().into_iter().map(|r| (r.op, r.payload, r.state)).collect()
}

async fn posted(s: &dyn Storage, key: &str, channel: &str, ts: &str) {
    let id = s.outbox_rows().await.unwrap().into_iter().find(|r| r.key == key && r.op == WriteOp::Post).unwrap().id;
    s.outbox_sending(id).await.unwrap();
    s.outbox_posted(id, &MessageRef { channel: ch(channel), ts: ts.into() }, key, now()).await.unwrap();
}

pub async fn a_second_post_of_a_waiting_key_just_carries_the_newest_content(s: Arc<dyn Storage>) {
    let first = s.outbox_post("alarm:a", &ch("C1"), "v1", now()).await.unwrap();
    let second = s.outbox_post("alarm:a", &ch("C2"), "v2", now()).await.unwrap();
    let Enqueued::Queued { id, op: WriteOp::Post } = first else { panic!("first post queued: {first:?}") };
    assert_eq!(second, Enqueued::Coalesced { id });
    assert_eq!(rows(s.as_ref()).await, [(WriteOp::Post, "v2".into(), WriteState::Pending)]);
    assert_eq!(s.outbox_rows().await.unwrap()[0].channel, ch("C1"), "the key keeps the channel it was first posted in");
}

pub async fn ten_updates_of_an_unsent_message_leave_one_write_with_the_last_content(s: Arc<dyn Storage>) {
    s.outbox_post("pipeline:e1", &ch("C1"), "v0", now()).await.unwrap();
    for n in 1..=10 {
        s.outbox_update("pipeline:e1", &format!("v{n}"), now()).await.unwrap().unwrap();
    }
    assert_eq!(rows(s.as_ref()).await, [(WriteOp::Post, "v10".into(), WriteState::Pending)]);
}

pub async fn updates_of_a_posted_message_share_one_row_until_it_is_sent(s: Arc<dyn Storage>) {
    s.outbox_post("alarm:a", &ch("C1"), "v0", now()).await.unwrap();
    posted(s.as_ref(), "alarm:a", "C1", "1.1").await;
    let first = s.outbox_update("alarm:a", "v1", now()).await.unwrap().unwrap();
    let second = s.outbox_update("alarm:a", "v2", now()).await.unwrap().unwrap();
    let Enqueued::Queued { id, op: WriteOp::Update } = first else { panic!("update queued: {first:?}") };
    assert_eq!(second, Enqueued::Coalesced { id });
    assert_eq!(rows(s.as_ref()).await, [(WriteOp::Update, "v2".into(), WriteState::Pending)]);
    let again = s.outbox_post("alarm:a", &ch("C1"), "v3", now()).await.unwrap();
    assert_eq!(again, Enqueued::Coalesced { id }, "a post of a posted key is an update");
}

pub async fn a_write_already_handed_to_slack_is_never_changed_under_the_sender(s: Arc<dyn Storage>) {
    s.outbox_post("alarm:a", &ch("C1"), "v0", now()).await.unwrap();
    let id = s.outbox_rows().await.unwrap()[0].id;
    s.outbox_sending(id).await.unwrap();
    s.outbox_update("alarm:a", "v1", now()).await.unwrap().unwrap();
    assert_eq!(
        rows(s.as_ref()).await,
        [(WriteOp::Post, "v0".into(), WriteState::Sending), (WriteOp::Update, "v1".into(), WriteState::Pending)]
    );
}

/// Found by the two-replica storm: the sender read a channel's head, an
/// update coalesced into that row (still pending), and the sender sent what
/// it had read and then removed the row — the alarm's last state never shown.
pub async fn an_update_coalesced_after_the_sender_read_its_row_is_what_the_row_sends(s: Arc<dyn Storage>) {
    s.outbox_post("alarm:a", &ch("C1"), "v0", now()).await.unwrap();
    posted(s.as_ref(), "alarm:a", "C1", "1.1").await;
    s.outbox_update("alarm:a", "v1", now()).await.unwrap().unwrap();
    let head = s.outbox_heads().await.unwrap().remove(0);
    assert_eq!(head.payload, "v1");
    let coalesced = s.outbox_update("alarm:a", "v2", now()).await.unwrap().unwrap();
    assert_eq!(coalesced, Enqueued::Coalesced { id: head.id }, "the row read is still pending");
    assert_eq!(s.outbox_sending(head.id).await.unwrap().as_deref(), Some("v2"), "what to send is the newest content");
    s.outbox_update("alarm:a", "v3", now()).await.unwrap().unwrap();
    assert_eq!(
        rows(s.as_ref()).await,
        [(WriteOp::Update, "v2".into(), WriteState::Sending), (WriteOp::Update, "v3".into(), WriteState::Pending)],
        "once marked, the row keeps what is sent"
    );
    s.outbox_done(head.id).await.unwrap();
    assert_eq!(s.outbox_sending(head.id).await.unwrap(), None, "a row gone has nothing to send");
}

pub async fn replies_are_never_coalesced_and_go_to_the_channel_of_their_message(s: Arc<dyn Storage>) {
    s.outbox_post("alarm:a", &ch("C1"), "v0", now()).await.unwrap();
    s.outbox_reply("alarm:a", "r1", now()).await.unwrap().unwrap();
    s.outbox_reply("alarm:a", "r2", now()).await.unwrap().unwrap();
    let all = s.outbox_rows().await.unwrap();
    assert_eq!(all.iter().map(|r| r.op).collect::<Vec<_>>(), [WriteOp::Post, WriteOp::Reply, WriteOp::Reply]);
    assert!(all.iter().all(|r| r.channel == ch("C1")));
}

pub async fn updating_or_replying_to_a_message_never_queued_writes_nothing(s: Arc<dyn Storage>) {
    assert_eq!(s.outbox_update("alarm:nope", "v1", now()).await.unwrap(), None);
    assert_eq!(s.outbox_reply("alarm:nope", "r1", now()).await.unwrap(), None);
    assert!(s.outbox_rows().await.unwrap().is_empty());
}

pub async fn each_channel_offers_its_oldest_write_and_failed_rows_hold_nothing_up(s: Arc<dyn Storage>) {
    s.outbox_post("a", &ch("C1"), "a0", now()).await.unwrap();
    s.outbox_post("b", &ch("C2"), "b0", now()).await.unwrap();
    s.outbox_post("c", &ch("C1"), "c0", now()).await.unwrap();
    let heads: Vec<_> = s.outbox_heads().await.unwrap().into_iter().map(|r| r.key).collect();
    assert_eq!(heads, ["a", "b"]);
    let a = s.outbox_rows().await.unwrap()[0].id;
    s.outbox_fail(a, "channel_not_found").await.unwrap();
    let heads: Vec<_> = s.outbox_heads().await.unwrap().into_iter().map(|r| r.key).collect();
    assert_eq!(heads, ["b", "c"]);
    let failed = &s.outbox_rows().await.unwrap()[0];
    assert_eq!((failed.state, failed.error.as_deref()), (WriteState::Failed, Some("channel_not_found")));
}

pub async fn the_backlog_counts_waiting_writes_since_the_oldest_and_not_failed_ones(s: Arc<dyn Storage>) {
    assert_eq!(s.outbox_backlog().await.unwrap(), Backlog { waiting: 0, oldest: None }, "an empty outbox");
    let earlier = now() - Duration::seconds(90);
    s.outbox_post("a", &ch("C1"), "a0", earlier).await.unwrap();
    s.outbox_post("b", &ch("C2"), "b0", now()).await.unwrap();
    s.outbox_reply("b", "b1", now()).await.unwrap();
    assert_eq!(s.outbox_backlog().await.unwrap(), Backlog { waiting: 3, oldest: Some(earlier) });
    let a = s.outbox_rows().await.unwrap()[0].id;
    s.outbox_fail(a, "channel_not_found").await.unwrap();
    assert_eq!(
        s.outbox_backlog().await.unwrap(),
        Backlog { waiting: 2, oldest: Some(now()) },
        "a failed write waits no more"
    );
}

pub async fn when_a_post_fails_for_good_the_next_update_of_its_key_is_posted_instead(s: Arc<dyn Storage>) {
    s.outbox_post("alarm:a", &ch("C1"), "v0", now()).await.unwrap();
    let post = s.outbox_rows().await.unwrap()[0].id;
    s.outbox_sending(post).await.unwrap();
    s.outbox_update("alarm:a", "v1", now()).await.unwrap().unwrap();
    s.outbox_fail(post, "invalid_blocks").await.unwrap();
    assert_eq!(
        rows(s.as_ref()).await,
        [(WriteOp::Post, "v0".into(), WriteState::Failed), (WriteOp::Post, "v1".into(), WriteState::Pending)]
    );
}

pub async fn an_update_after_a_failed_post_with_nothing_waiting_becomes_a_new_post(s: Arc<dyn Storage>) {
    s.outbox_post("alarm:a", &ch("C1"), "v0", now()).await.unwrap();
    let post = s.outbox_rows().await.unwrap()[0].id;
    s.outbox_fail(post, "invalid_blocks").await.unwrap();
    let again = s.outbox_update("alarm:a", "v1", now()).await.unwrap();
    assert!(matches!(again, Some(Enqueued::Queued { op: WriteOp::Post, .. })), "{again:?}");
    assert_eq!(s.outbox_reply("alarm:b", "r", now()).await.unwrap(), None);
}

pub async fn a_sent_post_records_where_its_message_lives_and_leaves_the_queue(s: Arc<dyn Storage>) {
    s.outbox_post("alarm:a", &ch("C1"), "v0", now()).await.unwrap();
    assert_eq!(s.message_ref("alarm:a").await.unwrap(), None);
    posted(s.as_ref(), "alarm:a", "C1", "1700000000.000100").await;
    assert_eq!(
        s.message_ref("alarm:a").await.unwrap(),
        Some(MessageRef { channel: ch("C1"), ts: "1700000000.000100".into() })
    );
    assert!(s.outbox_rows().await.unwrap().is_empty());
}

pub async fn a_retry_is_persisted_with_its_time_state_and_reason(s: Arc<dyn Storage>) {
    s.outbox_post("alarm:a", &ch("C1"), "v0", now()).await.unwrap();
    let id = s.outbox_rows().await.unwrap()[0].id;
    s.outbox_sending(id).await.unwrap();
    let later = now() + Duration::seconds(30);
    s.outbox_retry(id, later, WriteState::Sending, "HTTP 503").await.unwrap();
    let row = &s.outbox_rows().await.unwrap()[0];
    assert_eq!((row.attempts, row.next_attempt, row.state), (1, later, WriteState::Sending));
    assert_eq!(row.error.as_deref(), Some("HTTP 503"));
}

fn queued_post(key: &str, channel: &str, payload: &str) -> Queued {
    Queued::Post { key: key.into(), channel: ch(channel), payload: payload.into() }
}

pub async fn a_notification_commits_its_records_its_writes_and_its_inbox_row_together(s: Arc<dyn Storage>) {
    use opsbot::store::{Living, LivingRecord};
    assert!(s.inbox_accept("event:1", b"{}", now().timestamp_millis()).await.unwrap());
    let seq = s.inbox_pending(10, now().timestamp_millis()).await.unwrap()[0].seq;
    let record = LivingRecord {
        kind: Living::Alarm,
        id: "arn:a".into(),
        open: true,
        body: "{}".into(),
        message: "alarm:a".into(),
        version: None,
    };
    let writes = [queued_post("alarm:a", "C1", "v0"), Queued::Reply { key: "alarm:a".into(), payload: "r1".into() }];
    s.commit_notification(&[record], &writes, Some(seq), now()).await.unwrap();
    assert_eq!(s.living(Living::Alarm, "arn:a").await.unwrap().map(|k| k.body).as_deref(), Some("{}"));
    let queued: Vec<_> = s.outbox_rows().await.unwrap().into_iter().map(|r| (r.op, r.channel)).collect();
    assert_eq!(queued, [(WriteOp::Post, ch("C1")), (WriteOp::Reply, ch("C1"))], "the reply follows its post");
    assert!(s.inbox_pending(10, now().timestamp_millis()).await.unwrap().is_empty(), "the inbox row is handled");
}

pub async fn a_notification_another_replica_already_handled_commits_nothing_the_second_time(s: Arc<dyn Storage>) {
    assert!(s.inbox_accept("event:1", b"{}", now().timestamp_millis()).await.unwrap());
    let seq = s.inbox_pending(10, now().timestamp_millis()).await.unwrap()[0].seq;
    // Both replicas took the row; each handles it to the same posts and a thread reply.
    let writes = [queued_post("alarm:a", "C1", "v0"), Queued::Reply { key: "alarm:a".into(), payload: "r1".into() }];
    s.commit_notification(&[], &writes, Some(seq), now()).await.unwrap();
    s.commit_notification(&[], &writes, Some(seq), now()).await.unwrap();
    let queued: Vec<_> = s.outbox_rows().await.unwrap().into_iter().map(|r| (r.op, r.payload)).collect();
    assert_eq!(queued, [(WriteOp::Post, "v0".into()), (WriteOp::Reply, "r1".into())], "one reply, not two");
}

pub async fn notifications_committed_together_each_stand_or_fall_alone_and_later_ones_build_on_earlier_ones(
    s: Arc<dyn Storage>,
) {
    use opsbot::store::{Handled, Living};
    let at = now().timestamp_millis();
    for key in ["event:1", "event:2", "event:3", "event:4"] {
        assert!(s.inbox_accept(key, b"{}", at).await.unwrap());
    }
    let seqs: Vec<i64> = s.inbox_pending(10, at).await.unwrap().into_iter().map(|r| r.seq).collect();
    let record = super::alarm_record;
    // Row 4 was handled already (another replica): it commits nothing again.
    s.commit_notification(&[], &[], Some(seqs[3]), now()).await.unwrap();
    let each = [
        // a new record, and its message posted
        Handled {
            records: vec![record("a", "a1", None)],
            writes: vec![queued_post("alarm:a", "C1", "a1")],
            handled: Some(seqs[0]),
        },
        // a record kept over a version nobody wrote: refused, nothing of it kept
        Handled {
            records: vec![record("b", "b1", Some(7))],
            writes: vec![queued_post("alarm:b", "C1", "b1")],
            handled: Some(seqs[1]),
        },
        // over what the first one keeps: the message takes the newest content
        Handled {
            records: vec![record("a", "a2", Some(1))],
            writes: vec![Queued::Update { key: "alarm:a".into(), payload: "a2".into() }],
            handled: Some(seqs[2]),
        },
        Handled { records: vec![], writes: vec![queued_post("alarm:d", "C2", "d1")], handled: Some(seqs[3]) },
    ];
    let done = s.commit_notifications(&each, now()).await;
    let ok: Vec<bool> = done.iter().map(Result::is_ok).collect();
    assert_eq!(ok, [true, false, true, true], "{done:?}");
    assert!(done[1].as_ref().unwrap_err().to_string().contains("changed since it was read"), "{done:?}");
    let kept = s.living(Living::Alarm, "a").await.unwrap().unwrap();
    assert_eq!((kept.body.as_str(), kept.version), ("a2", 2), "both notifications of `a`, one after the other");
    assert_eq!(s.living(Living::Alarm, "b").await.unwrap(), None);
    assert_eq!(
        rows(s.as_ref()).await,
        [(WriteOp::Post, "a2".into(), WriteState::Pending)],
        "b's and d's writes are not kept"
    );
    let waiting: Vec<i64> = s.inbox_pending(10, at).await.unwrap().into_iter().map(|r| r.seq).collect();
    assert_eq!(waiting, [seqs[1]], "only the refused row still waits");
}

pub async fn a_write_for_a_message_never_posted_is_dropped_and_the_rest_of_the_notification_still_commits(
    s: Arc<dyn Storage>,
) {
    let writes =
        [Queued::Update { key: "alarm:ghost".into(), payload: "v1".into() }, queued_post("alarm:b", "C2", "b0")];
    s.commit_notification(&[], &writes, None, now()).await.unwrap();
    assert_eq!(rows(s.as_ref()).await, [(WriteOp::Post, "b0".into(), WriteState::Pending)]);
}

pub async fn a_notification_repeated_after_a_crash_updates_its_message_instead_of_posting_it_again(
    s: Arc<dyn Storage>,
) {
    s.commit_notification(&[], &[queued_post("alarm:a", "C1", "v0")], None, now()).await.unwrap();
    posted(s.as_ref(), "alarm:a", "C1", "1.1").await;
    s.commit_notification(&[], &[queued_post("alarm:a", "C1", "v0")], None, now()).await.unwrap();
    assert_eq!(rows(s.as_ref()).await, [(WriteOp::Update, "v0".into(), WriteState::Pending)]);
}

pub async fn a_channel_is_sent_to_by_one_replica_until_its_lease_lapses_or_is_released(s: Arc<dyn Storage>) {
    let (c1, later) = (ch("C1"), |secs| now() + Duration::seconds(secs));
    assert!(s.outbox_lease(&c1, "replica-a", later(30), now()).await.unwrap(), "a free channel");
    assert!(!s.outbox_lease(&c1, "replica-b", later(40), later(10)).await.unwrap(), "held by A");
    assert!(s.outbox_lease(&ch("C2"), "replica-b", later(40), later(10)).await.unwrap(), "channels are leased apart");
    assert!(s.outbox_lease(&c1, "replica-a", later(50), later(20)).await.unwrap(), "A renews its own");
    assert!(!s.outbox_lease(&c1, "replica-b", later(60), later(40)).await.unwrap(), "the renewal counts");
    assert!(s.outbox_lease(&c1, "replica-b", later(90), later(50)).await.unwrap(), "lapsed: B takes it");
    assert!(!s.outbox_lease(&c1, "replica-a", later(91), later(51)).await.unwrap(), "A finds it taken");
    s.outbox_release(&c1, "replica-a").await.unwrap();
    assert!(!s.outbox_lease(&c1, "replica-c", later(92), later(52)).await.unwrap(), "only its holder releases it");
    s.outbox_release(&c1, "replica-b").await.unwrap();
    assert!(s.outbox_lease(&c1, "replica-c", later(92), later(52)).await.unwrap(), "released: taken at once");
}

pub async fn of_many_replicas_leasing_a_free_channel_exactly_one_wins(s: Arc<dyn Storage>) {
    let tries = (0..8).map(|n| {
        let s = s.clone();
        tokio::spawn(async move {
            s.outbox_lease(&ch("C1"), &format!("replica-{n}"), now() + Duration::seconds(30), now()).await.unwrap()
        })
    });
    let winners = futures_util::future::join_all(tries).await.into_iter().filter(|won| *won.as_ref().unwrap()).count();
    assert_eq!(winners, 1);
}
