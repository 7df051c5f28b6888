//! The outbox against the fake Slack: notifications' writes paced per
//! channel, retried as Slack asks, given up when Slack refuses them, edits
//! coalesced, replies threaded, and each message posted once across a crash.
//! Wall-clock time (the fake serves real sockets), with fast pacing, so the
//! assertions are about order and counts, and only coarse about time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use opsbot::settings::Secret;
use opsbot::slack::outbox::{Outbox, Pacing};
use opsbot::slack::web::SlackWeb;
use opsbot::store::{Storage, WriteOp, WriteState};
use opsbot_commands::Reply;
use opsbot_commands::ports::system_clock;
use opsbot_commands::values::ChannelId;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::support::bot::init_logs;
use crate::support::fake_slack::{Failure, FakeSlack};

mod replicas;
mod restart;
mod storm;

const FAST: Pacing = Pacing {
    interval: Duration::from_millis(100),
    burst: 3,
    backoff: Duration::from_millis(50),
    backoff_cap: Duration::from_millis(400),
};

/// A fake Slack, an outbox on `store`, and its sender running until dropped.
struct Harness {
    slack: FakeSlack,
    store: Arc<dyn Storage>,
    outbox: Outbox,
    stop: CancellationToken,
    sender: tokio::task::JoinHandle<()>,
}

fn web(slack: &FakeSlack) -> Arc<SlackWeb> {
    Arc::new(
        SlackWeb::new(&slack.api_url(), &Secret::new(slack.bot_token()), Default::default()).expect("Slack client"),
    )
}

impl Harness {
    async fn start(pacing: Pacing) -> Harness {
        Self::with(FakeSlack::start().await, opsbot::store::open(None).unwrap(), pacing)
    }

    fn with(slack: FakeSlack, store: Arc<dyn Storage>, pacing: Pacing) -> Harness {
        init_logs();
        let (outbox, sender) = Outbox::new(store.clone(), web(&slack), system_clock(), pacing, "replica-a");
        let stop = CancellationToken::new();
        let sender = tokio::spawn(sender.run(stop.clone()));
        Harness { slack, store, outbox, stop, sender }
    }

    /// Waits (wall clock, 10 s at most) until no row is pending or sending.
    async fn drained(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let rows = self.store.outbox_rows().await.unwrap();
            if rows.iter().all(|r| r.state == WriteState::Failed) {
                return;
            }
            assert!(Instant::now() < deadline, "the outbox still holds {rows:#?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn count(&self, method: &str) -> usize {
        self.slack.calls().iter().filter(|c| c.method == method).count()
    }

    fn texts(&self, channel: &str) -> Vec<String> {
        self.slack.messages(channel).iter().map(text).collect()
    }

    async fn stop(self) -> FakeSlack {
        self.stop.cancel();
        tokio::time::timeout(Duration::from_secs(6), self.sender).await.expect("the sender stops").unwrap();
        self.slack
    }
}

fn ch(raw: &str) -> ChannelId {
    ChannelId::parse(raw).unwrap()
}

fn msg(text: &str) -> Reply {
    Reply::in_channel(text).section(text)
}

fn text(message: &Value) -> String {
    message["text"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn one_channel_gets_a_burst_then_a_steady_pace_in_the_order_queued() {
    let h = Harness::start(Pacing { interval: Duration::from_millis(200), ..FAST }).await;
    let started = Instant::now();
    for n in 1..=6 {
        h.outbox.post(&format!("pipeline:e{n}"), &ch("C1"), &msg(&format!("run {n}"))).await.unwrap();
    }
    h.drained().await;
    let took = started.elapsed();
    assert_eq!(h.texts("C1"), ["run 1", "run 2", "run 3", "run 4", "run 5", "run 6"]);
    // Three at once, then one per 200 ms: the sixth no sooner than 600 ms in.
    assert!(took >= Duration::from_millis(580), "six posts took only {took:?}");
    assert_eq!(h.count("chat.postMessage"), 6);
}

#[tokio::test]
async fn a_channel_waiting_out_retry_after_does_not_hold_up_other_channels() {
    let h = Harness::start(FAST).await;
    h.slack.fail_next("chat.postMessage", Failure::RateLimited { retry_after_secs: 2 });
    let started = Instant::now();
    h.outbox.post("alarm:slow", &ch("C1"), &msg("slow")).await.unwrap();
    h.slack.next_call("chat.postMessage").await;
    for n in 1..=3 {
        h.outbox.post(&format!("alarm:{n}"), &ch("C2"), &msg(&format!("fast {n}"))).await.unwrap();
    }
    while h.slack.messages("C2").len() < 3 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(h.slack.messages("C1").is_empty(), "C1 was posted to before its Retry-After");
    h.drained().await;
    assert!(started.elapsed() >= Duration::from_secs(2), "Retry-After: 2 was not honoured");
    assert_eq!(h.texts("C1"), ["slow"]);
    assert_eq!(h.count("chat.postMessage"), 5, "one refused attempt, then each message once");
}

#[tokio::test]
async fn server_errors_are_retried_and_the_message_is_posted_once() {
    let h = Harness::start(FAST).await;
    h.slack.fail_next("chat.postMessage", Failure::Status(500));
    h.slack.fail_next("chat.postMessage", Failure::Status(503));
    h.outbox.post("alarm:a", &ch("C1"), &msg("ALARM")).await.unwrap();
    h.drained().await;
    assert_eq!(h.texts("C1"), ["ALARM"]);
    assert_eq!(h.count("chat.postMessage"), 3);
    // After an ambiguous failure Slack may have posted it: each retry looks first.
    assert_eq!(h.count("conversations.history"), 2);
    let ts = h.slack.messages("C1")[0]["ts"].as_str().unwrap().to_owned();
    assert_eq!(h.outbox.message_ref("alarm:a").await.unwrap().map(|m| m.ts), Some(ts));
}

#[tokio::test]
async fn a_write_slack_refuses_is_given_up_with_its_error_and_the_channel_moves_on() {
    let h = Harness::start(FAST).await;
    h.slack.fail_next("chat.postMessage", Failure::Error("invalid_blocks".into()));
    h.outbox.post("alarm:bad", &ch("C1"), &msg("bad")).await.unwrap();
    h.outbox.post("alarm:good", &ch("C1"), &msg("good")).await.unwrap();
    h.drained().await;
    assert_eq!(h.texts("C1"), ["good"]);
    assert_eq!(h.count("chat.postMessage"), 2, "the refused post was not retried");
    let rows = h.store.outbox_rows().await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].key.as_str(), rows[0].state), ("alarm:bad", WriteState::Failed));
    assert!(rows[0].error.as_deref().unwrap().contains("invalid_blocks"), "{:?}", rows[0].error);
}

#[tokio::test]
async fn ten_updates_while_the_channel_is_paced_become_few_edits_and_the_last_one_wins() {
    let h = Harness::start(Pacing { interval: Duration::from_millis(300), burst: 1, ..FAST }).await;
    h.outbox.post("alarm:a", &ch("C1"), &msg("state 0")).await.unwrap();
    while h.outbox.message_ref("alarm:a").await.unwrap().is_none() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    for n in 1..=10 {
        h.outbox.update("alarm:a", &msg(&format!("state {n}"))).await.unwrap();
    }
    h.drained().await;
    assert_eq!(h.texts("C1"), ["state 10"]);
    let edits = h.count("chat.update");
    assert!((1..=2).contains(&edits), "{edits} chat.update calls for 10 updates");
    assert_eq!(h.count("chat.postMessage"), 1);
}

#[tokio::test]
async fn replies_queued_before_their_message_is_posted_land_in_its_thread_in_order() {
    let h = Harness::start(FAST).await;
    h.outbox.post("alarm:a", &ch("C1"), &msg("ALARM")).await.unwrap();
    h.outbox.reply("alarm:a", &msg("OK → ALARM at 09:00")).await.unwrap();
    h.outbox.reply("alarm:a", &msg("acknowledged by ana")).await.unwrap();
    h.drained().await;
    let all = h.slack.messages("C1");
    let parent = all[0]["ts"].as_str().unwrap();
    assert_eq!(text(&all[0]), "ALARM");
    assert!(all[0].get("thread_ts").is_none());
    let replies: Vec<(String, &str)> = all[1..].iter().map(|m| (text(m), m["thread_ts"].as_str().unwrap())).collect();
    assert_eq!(replies, [("OK → ALARM at 09:00".into(), parent), ("acknowledged by ana".into(), parent)]);
}

#[tokio::test]
async fn a_reply_to_a_message_slack_refused_is_given_up_instead_of_waiting_forever() {
    let h = Harness::start(FAST).await;
    h.slack.fail_next("chat.postMessage", Failure::Error("not_in_channel".into()));
    h.outbox.post("alarm:a", &ch("C1"), &msg("ALARM")).await.unwrap();
    h.outbox.reply("alarm:a", &msg("OK → ALARM")).await.unwrap();
    h.outbox.post("alarm:b", &ch("C1"), &msg("next")).await.unwrap();
    h.drained().await;
    assert_eq!(h.texts("C1"), ["next"]);
    let failed: Vec<(WriteOp, Option<String>)> =
        h.store.outbox_rows().await.unwrap().into_iter().map(|r| (r.op, r.error)).collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert_eq!(failed[0].0, WriteOp::Post);
    assert!(failed[0].1.as_deref().unwrap().contains("not_in_channel"), "{failed:?}");
    assert!(failed[1].1.as_deref().unwrap().contains("never posted"), "{failed:?}");
}

#[tokio::test]
async fn stopping_the_sender_does_not_wait_out_a_retry_after_which_stays_scheduled() {
    let h = Harness::start(FAST).await;
    h.slack.fail_next("chat.postMessage", Failure::RateLimited { retry_after_secs: 30 });
    h.outbox.post("alarm:a", &ch("C1"), &msg("ALARM")).await.unwrap();
    h.slack.next_call("chat.postMessage").await;
    while h.store.outbox_rows().await.unwrap()[0].state != WriteState::Pending {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let store = h.store.clone();
    let stopping = Instant::now();
    h.stop().await;
    assert!(stopping.elapsed() < Duration::from_secs(1), "stopping took {:?}", stopping.elapsed());
    let row = store.outbox_rows().await.unwrap().remove(0);
    let waits = row.next_attempt - chrono::Utc::now();
    assert!(waits > chrono::TimeDelta::seconds(25), "next attempt only {waits} away");
}
