//! Many messages at once: every key's message ends with its last content,
//! posted once, with its replies in its thread — through injected server
//! errors, and through a sender killed mid-stream and started again.

use std::collections::BTreeMap;
use std::time::Duration;

use opsbot::store::WriteState;
use serde_json::Value;

use super::{FAST, Harness, ch, msg, text};
use crate::support::fake_slack::{Failure, FakeSlack};

const CHANNELS: [&str; 4] = ["C1", "C2", "C3", "C4"];
const ALARMS: usize = 12;
const TRANSITIONS: usize = 8;

fn key(n: usize) -> String {
    format!("alarm:arn:aws:cloudwatch:eu-west-1:111122223333:alarm:shop-{n}")
}

/// Queues every alarm's post, then its transitions (edits) a round every
/// 25 ms while the sender works, then one thread reply each.
async fn storm(h: &Harness) {
    for n in 0..ALARMS {
        h.outbox.post(&key(n), &ch(CHANNELS[n % CHANNELS.len()]), &msg(&format!("shop-{n}: state 0"))).await.unwrap();
    }
    for t in 1..=TRANSITIONS {
        tokio::time::sleep(Duration::from_millis(25)).await;
        for n in 0..ALARMS {
            h.outbox.update(&key(n), &msg(&format!("shop-{n}: state {t}"))).await.unwrap();
        }
    }
    for n in 0..ALARMS {
        h.outbox.reply(&key(n), &msg(&format!("shop-{n}: history"))).await.unwrap();
    }
}

/// Each alarm exactly once per channel with its last state, and its one reply under it.
fn assert_every_alarm_right_once(slack: &FakeSlack) {
    for (c, channel) in CHANNELS.iter().enumerate() {
        let all = slack.messages(channel);
        let (parents, replies): (Vec<&Value>, Vec<&Value>) = all.iter().partition(|m| m.get("thread_ts").is_none());
        let expected: Vec<usize> = (0..ALARMS).filter(|n| n % CHANNELS.len() == c).collect();
        let mut finals: Vec<String> = parents.iter().map(|m| text(m)).collect();
        finals.sort();
        let mut wanted: Vec<String> = expected.iter().map(|n| format!("shop-{n}: state {TRANSITIONS}")).collect();
        wanted.sort();
        assert_eq!(finals, wanted, "top-level messages in {channel}");
        let mut threads: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for r in replies {
            threads.entry(r["thread_ts"].as_str().unwrap().to_owned()).or_default().push(text(r));
        }
        assert_eq!(threads.len(), parents.len(), "one thread per alarm in {channel}: {threads:#?}");
        for parent in parents {
            let under = &threads[parent["ts"].as_str().unwrap()];
            let name = text(parent).split(':').next().unwrap().to_owned();
            assert_eq!(under, &[format!("{name}: history")], "replies under {name}");
        }
    }
}

#[tokio::test]
async fn a_storm_through_server_errors_ends_with_every_message_right_and_none_twice() {
    let h = Harness::start(FAST).await;
    for failure in [500, 502, 503] {
        h.slack.fail_next("chat.postMessage", Failure::Status(failure));
        h.slack.fail_next("chat.update", Failure::Status(failure));
    }
    storm(&h).await;
    h.drained().await;
    assert_every_alarm_right_once(&h.slack);
    let edits = h.count("chat.update");
    assert!(edits < ALARMS * TRANSITIONS / 2, "{edits} edits for {} transitions", ALARMS * TRANSITIONS);
}

#[tokio::test]
async fn a_sender_killed_mid_stream_and_started_again_loses_nothing_and_repeats_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("opsbot.db");
    let first = Harness::with(FakeSlack::start().await, opsbot::store::open(Some(&path)).unwrap(), FAST);
    for n in 0..ALARMS {
        first
            .outbox
            .post(&key(n), &ch(CHANNELS[n % CHANNELS.len()]), &msg(&format!("shop-{n}: state 0")))
            .await
            .unwrap();
    }
    // Pull the plug as Slack takes the fifth post, before the bot reads the answer.
    for _ in 0..5 {
        first.slack.next_call("chat.postMessage").await;
    }
    first.sender.abort();
    let _ = first.sender.await;
    let rows = first.store.outbox_rows().await.unwrap();
    let interrupted = rows.iter().filter(|r| r.state == WriteState::Sending).count();
    assert!(interrupted > 0, "the kill left no post half-sent, so this test shows nothing: {rows:#?}");
    let slack = first.slack;
    drop(first.store);

    let second = Harness::with(slack, opsbot::store::open(Some(&path)).unwrap(), FAST);
    storm(&second).await;
    second.drained().await;
    assert_every_alarm_right_once(&second.slack);
}
