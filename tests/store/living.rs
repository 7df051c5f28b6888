//! Living records (see `store::living`): kept with a version, and written
//! only over the version they were read at, so two replicas handling two
//! events of one alarm never lose one.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use opsbot::store::{Living, LivingRecord, Queued, Storage};
use opsbot_commands::values::ChannelId;

fn alarm(body: &str, version: Option<u64>) -> LivingRecord {
    LivingRecord {
        kind: Living::Alarm,
        id: "arn:shop-5xx".into(),
        open: true,
        body: body.into(),
        message: "alarm:arn:shop-5xx:1".into(),
        version,
    }
}

fn at(minute: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 6, 9, minute, 0).unwrap()
}

pub async fn a_record_is_kept_at_version_one_and_each_write_over_it_moves_it_on(store: Arc<dyn Storage>) {
    store.commit_notification(&[alarm("{\"v\":1}", None)], &[], None, at(0)).await.unwrap();
    let kept = store.living(Living::Alarm, "arn:shop-5xx").await.unwrap().unwrap();
    assert_eq!((kept.body.as_str(), kept.version), ("{\"v\":1}", 1));
    store.commit_notification(&[alarm("{\"v\":2}", Some(1))], &[], None, at(1)).await.unwrap();
    let kept = store.living(Living::Alarm, "arn:shop-5xx").await.unwrap().unwrap();
    assert_eq!((kept.body.as_str(), kept.version), ("{\"v\":2}", 2));
    let open = store.living_open(Living::Alarm).await.unwrap();
    assert_eq!(open.iter().map(|k| k.version).collect::<Vec<_>>(), [2], "listed with the version it is kept at");
}

pub async fn a_record_that_moved_on_since_it_was_read_is_refused_and_nothing_of_its_notification_commits(
    store: Arc<dyn Storage>,
) {
    store.commit_notification(&[alarm("{\"v\":1}", None)], &[], None, at(0)).await.unwrap();
    // Replica A and replica B both read version 1; A commits first.
    store.commit_notification(&[alarm("{\"by\":\"A\"}", Some(1))], &[], None, at(1)).await.unwrap();
    assert!(store.inbox_accept("event:B", b"{}", 0).await.unwrap());
    let seq = store.inbox_pending(1, 0).await.unwrap()[0].seq;
    let post = Queued::Post {
        key: "alarm:arn:shop-5xx:2".into(),
        channel: ChannelId::parse("C0OPS").unwrap(),
        payload: "B".into(),
    };
    let err = store.commit_notification(&[alarm("{\"by\":\"B\"}", Some(1))], &[post], Some(seq), at(2)).await;
    let err = err.expect_err("B wrote over a version that moved on").to_string();
    assert!(err.contains("changed since it was read"), "{err}");
    let kept = store.living(Living::Alarm, "arn:shop-5xx").await.unwrap().unwrap();
    assert_eq!((kept.body.as_str(), kept.version), ("{\"by\":\"A\"}", 2), "A's write stands");
    assert!(store.outbox_rows().await.unwrap().is_empty(), "B's writes were not queued");
    assert_eq!(store.inbox_pending(10, 0).await.unwrap().len(), 1, "B's notification waits to be handled again");
    let again = store.commit_notification(&[alarm("{\"v\":1}", None)], &[], None, at(3)).await;
    assert!(again.is_err(), "a record that exists is not kept as new");
}
