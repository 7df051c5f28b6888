//! The inbox's rules (see `store::inbox`): once per key, arrival order,
//! retries with back-off, parking.

use std::sync::Arc;

use opsbot::store::{Failure, PARK_AFTER, ParkedRow, Storage};

/// Marks row `seq` handled, as handling a notification does.
async fn handled(store: &dyn Storage, seq: i64) {
    let now = chrono::DateTime::from_timestamp_millis(0).unwrap();
    store.commit_notification(&[], &[], Some(seq), now).await.unwrap();
}

pub async fn a_key_is_stored_once_however_often_it_arrives(store: Arc<dyn Storage>) {
    assert!(store.inbox_accept("eventbridge:1", b"{}", 0).await.unwrap());
    assert!(!store.inbox_accept("eventbridge:1", b"{\"again\":1}", 1).await.unwrap());
    let pending = store.inbox_pending(10, 1).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].body, b"{}", "the first copy is kept");
}

pub async fn rows_wait_in_arrival_order_until_handled_and_stay_known_after(store: Arc<dyn Storage>) {
    for (key, at) in [("a", 0), ("b", 10), ("c", 20)] {
        store.inbox_accept(key, key.as_bytes(), at).await.unwrap();
    }
    let rows = store.inbox_pending(10, 20).await.unwrap();
    let keys: Vec<&str> = rows.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["a", "b", "c"]);
    let received: Vec<i64> = rows.iter().map(|r| r.received_ms).collect();
    assert_eq!(received, [0, 10, 20], "each row says when it arrived: the handling lag is measured from it");
    let first = store.inbox_pending(1, 20).await.unwrap().remove(0);
    handled(store.as_ref(), first.seq).await;
    assert_eq!(store.inbox_pending(10, 20).await.unwrap().len(), 2);
    assert!(store.inbox_knows("a").await.unwrap());
    assert!(!store.inbox_accept("a", b"a", 1).await.unwrap(), "a handled key is still a duplicate");
}

pub async fn a_failed_row_waits_for_its_retry_while_the_rows_behind_it_are_due(store: Arc<dyn Storage>) {
    for key in ["bad", "good"] {
        store.inbox_accept(key, key.as_bytes(), 0).await.unwrap();
    }
    let bad = store.inbox_pending(1, 0).await.unwrap().remove(0);
    assert_eq!(
        store.inbox_failed(bad.seq, "disk I/O error", 1_000).await.unwrap(),
        Failure::RetryAt { attempts: 1, at_ms: 6_000 }
    );
    let due: Vec<String> = store.inbox_pending(10, 5_999).await.unwrap().into_iter().map(|r| r.key).collect();
    assert_eq!(due, ["good"], "the failed row waits; the one behind it does not");
    assert_eq!(store.inbox_next_retry().await.unwrap(), Some(6_000));
    let again = store.inbox_pending(10, 6_000).await.unwrap();
    assert_eq!((again[0].key.as_str(), again[0].attempts), ("bad", 1), "due again, oldest first");
}

pub async fn a_row_that_keeps_failing_is_parked_with_its_body_and_last_error(store: Arc<dyn Storage>) {
    store.inbox_accept("poison", b"{\"x\":1}", 0).await.unwrap();
    let seq = store.inbox_pending(1, 0).await.unwrap()[0].seq;
    let mut now = 0;
    for n in 1..PARK_AFTER {
        let Failure::RetryAt { attempts, at_ms } = store.inbox_failed(seq, &format!("error {n}"), now).await.unwrap()
        else {
            panic!("parked after {n} failures");
        };
        assert_eq!(attempts, n);
        now = at_ms;
    }
    assert_eq!(store.inbox_failed(seq, "the last error", now).await.unwrap(), Failure::Parked { attempts: PARK_AFTER });
    assert!(store.inbox_pending(10, i64::MAX).await.unwrap().is_empty(), "a parked row is out of the queue");
    assert_eq!(store.inbox_next_retry().await.unwrap(), None);
    let (count, parked) = store.inbox_parked(10).await.unwrap();
    assert_eq!(count, 1);
    let expected =
        ParkedRow { key: "poison".into(), error: "the last error".into(), attempts: 8, received_ms: 0, parked_ms: now };
    assert_eq!(parked, [expected]);
    assert!(!store.inbox_accept("poison", b"{}", now).await.unwrap(), "a parked key is still a duplicate");
}

pub async fn arrivals_are_each_handled_with_their_key_or_kept_and_a_known_key_writes_nothing(store: Arc<dyn Storage>) {
    use opsbot::store::{Arrival, Arrived, Living, Queued};
    let now = chrono::DateTime::from_timestamp_millis(5).unwrap();
    store.inbox_accept("known", b"known", 0).await.unwrap();
    let record = |id: &str, version| super::alarm_record(id, &format!("{id} body"), version);
    let post = |id: &str| Queued::Post {
        key: format!("alarm:{id}"),
        channel: opsbot_commands::values::ChannelId::parse("C1").unwrap(),
        payload: format!("{id} shown"),
    };
    let arrival = |key: &str, effects: Option<(&str, Option<u64>)>| Arrival {
        key: key.into(),
        body: format!("{key} body").into_bytes(),
        received_ms: 5,
        effects: effects.map(|(id, version)| (vec![record(id, version)], vec![post(id)])),
    };
    let arrivals = [
        arrival("a", Some(("a", None))),
        arrival("a", Some(("a", Some(1)))), // the same key again in the lot
        arrival("known", Some(("k", None))),
        arrival("b", Some(("b", Some(7)))), // over a version nobody wrote: its record moved on
        arrival("c", None),                 // not worked out
    ];
    let (told, answered) = std::sync::mpsc::channel();
    let told = Box::new(move |done: &Result<Vec<Arrived>, _>| told.send(done.as_ref().unwrap().clone()).unwrap());
    let done = store.inbox_arrivals(arrivals.to_vec(), now, told).await.unwrap();
    assert_eq!(answered.try_recv().unwrap(), done, "told what became of the lot before the future returned");
    let pending = |rows: Vec<opsbot::store::InboxRow>| -> Vec<(String, Vec<u8>)> {
        rows.into_iter().map(|r| (r.key, r.body)).collect()
    };
    let waiting = pending(store.inbox_pending(10, 5).await.unwrap());
    let shown: Vec<String> = store.outbox_rows().await.unwrap().into_iter().map(|r| r.payload).collect();
    let kept = |key: &str| (key.to_owned(), format!("{key} body").into_bytes());
    let known = ("known".to_owned(), b"known".to_vec());
    use Arrived::{Duplicate, Handled, Kept};
    if store.commits_notifications_together() {
        assert_eq!(done, [Handled, Duplicate, Duplicate, Kept, Kept]);
        assert_eq!(
            waiting,
            [known.clone(), kept("b"), kept("c")],
            "the refused and the unworked wait with their bodies"
        );
        assert_eq!(shown, ["a shown"], "only the handled one's write");
        assert!(store.living(Living::Alarm, "a").await.unwrap().is_some());
    } else {
        assert_eq!(done, [Kept, Duplicate, Duplicate, Kept, Kept], "kept, to be handled from the inbox");
        assert_eq!(waiting, [known, kept("a"), kept("b"), kept("c")]);
        assert!(shown.is_empty(), "nothing is handled on arrival: {shown:?}");
    }
    assert_eq!(store.living(Living::Alarm, "b").await.unwrap(), None, "nothing of a refused arrival is kept");
    assert_eq!(store.living(Living::Alarm, "k").await.unwrap(), None, "a known key writes nothing");
    for key in ["a", "b", "c"] {
        assert!(store.inbox_knows(key).await.unwrap(), "{key} is known: a redelivery is a duplicate");
    }
}

/// A storm in one lot: many changes of one alarm, each worked out over the
/// one before. The last record and the last content are what stay, the
/// record's version counts every change, and a change worked out over a
/// version the store never had is kept in the inbox, with the changes built
/// on it, while the rest of the lot is handled.
pub async fn a_lot_of_one_alarms_changes_keeps_the_last_of_each_and_a_break_in_their_chain_keeps_the_rest_waiting(
    store: Arc<dyn Storage>,
) {
    use opsbot::store::{Arrival, Arrived, Living, Queued, WriteOp};
    let now = chrono::DateTime::from_timestamp_millis(5).unwrap();
    let record = super::alarm_record;
    let c1 = opsbot_commands::values::ChannelId::parse("C1").unwrap();
    let post = |id: &str, payload: &str| Queued::Post {
        key: format!("alarm:{id}"),
        channel: c1.clone(),
        payload: payload.into(),
    };
    let update = |payload: &str| Queued::Update { key: "alarm:a".into(), payload: payload.into() };
    // `a` is kept at version 1, its post still waiting.
    store.commit_notification(&[record("a", "a0", None)], &[post("a", "a0")], None, now).await.unwrap();
    let arrival = |key: &str, records, writes| Arrival {
        key: key.into(),
        body: format!("{key} body").into_bytes(),
        received_ms: 5,
        effects: Some((records, writes)),
    };
    let arrivals = vec![
        arrival("k1", vec![record("a", "a1", Some(1))], vec![update("a1")]),
        arrival("k2", vec![record("a", "a2", Some(2))], vec![update("a2")]),
        arrival(
            "k3",
            vec![record("a", "a3", Some(3))],
            vec![update("a3"), Queued::Reply { key: "alarm:a".into(), payload: "r3".into() }],
        ),
        arrival("k4", vec![record("a", "a9", Some(9))], vec![update("a9")]), // over a version never kept
        arrival("k5", vec![record("a", "a10", Some(10))], vec![update("a10")]), // built on k4
        arrival("k6", vec![record("b", "b1", None)], vec![post("b", "b1")]),
    ];
    let done = store.inbox_arrivals(arrivals, now, Box::new(|_| {})).await.unwrap();
    let waiting: Vec<String> = store.inbox_pending(10, 5).await.unwrap().into_iter().map(|r| r.key).collect();
    let shown: Vec<(WriteOp, String)> =
        store.outbox_rows().await.unwrap().into_iter().map(|r| (r.op, r.payload)).collect();
    let a = store.living(Living::Alarm, "a").await.unwrap().unwrap();
    use Arrived::{Handled, Kept};
    if store.commits_notifications_together() {
        assert_eq!(done, [Handled, Handled, Handled, Kept, Kept, Handled]);
        assert_eq!(waiting, ["k4", "k5"], "the break in the chain and what was built on it wait");
        assert_eq!((a.body.as_str(), a.version), ("a3", 4), "the last record kept, one version per change");
        assert_eq!(
            shown,
            [(WriteOp::Post, "a3".into()), (WriteOp::Reply, "r3".into()), (WriteOp::Post, "b1".into())],
            "one post of `a` with its last content, its reply, and `b`'s post"
        );
        assert_eq!(store.living(Living::Alarm, "b").await.unwrap().unwrap().version, 1);
    } else {
        assert_eq!(done, [Kept; 6], "kept, to be handled from the inbox");
        assert_eq!(waiting, ["k1", "k2", "k3", "k4", "k5", "k6"]);
        assert_eq!((a.body.as_str(), a.version), ("a0", 1), "nothing is handled on arrival");
        assert_eq!(shown, [(WriteOp::Post, "a0".into())]);
    }
}
