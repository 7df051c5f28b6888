//! Two replicas' senders draining one store: each channel is sent to by one
//! of them at a time (its lease), so every write goes out once, in order,
//! at the channel's pace; a replica that stops gives its channels up at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use opsbot::slack::outbox::{Outbox, Pacing};
use opsbot::store::{Storage, WriteState};
use opsbot_commands::ports::system_clock;
use tokio_util::sync::CancellationToken;

use super::{FAST, ch, msg, text, web};
use crate::support::fake_slack::FakeSlack;

struct Replica {
    outbox: Outbox,
    stop: CancellationToken,
    sender: tokio::task::JoinHandle<()>,
}

fn replica(slack: &FakeSlack, store: &Arc<dyn Storage>, pacing: Pacing, name: &str) -> Replica {
    let (outbox, sender) = Outbox::new(store.clone(), web(slack), system_clock(), pacing, name);
    let stop = CancellationToken::new();
    let sender = tokio::spawn(sender.run(stop.clone()));
    Replica { outbox, stop, sender }
}

impl Replica {
    async fn stop(self) {
        self.stop.cancel();
        tokio::time::timeout(Duration::from_secs(6), self.sender).await.expect("the sender stops").unwrap();
    }
}

async fn drained(store: &Arc<dyn Storage>, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let rows = store.outbox_rows().await.unwrap();
        if rows.iter().all(|r| r.state == WriteState::Failed) {
            return;
        }
        assert!(Instant::now() < deadline, "still queued after {within:?}: {rows:#?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn two_replicas_send_every_write_once_in_order_at_each_channels_pace() {
    let slack = FakeSlack::start().await;
    let store = opsbot::store::open(None).unwrap();
    let pacing = Pacing { interval: Duration::from_millis(200), ..FAST };
    let (a, b) = (replica(&slack, &store, pacing, "replica-a"), replica(&slack, &store, pacing, "replica-b"));
    let started = Instant::now();
    for n in 1..=6 {
        for channel in ["C1", "C2", "C3"] {
            // Queued through both, as notifications handled on either would be.
            let outbox = if n % 2 == 0 { &a.outbox } else { &b.outbox };
            outbox.post(&format!("alarm:{channel}-{n}"), &ch(channel), &msg(&format!("{channel} {n}"))).await.unwrap();
        }
    }
    drained(&store, Duration::from_secs(10)).await;
    for channel in ["C1", "C2", "C3"] {
        let texts: Vec<String> = slack.messages(channel).iter().map(text).collect();
        let wanted: Vec<String> = (1..=6).map(|n| format!("{channel} {n}")).collect();
        assert_eq!(texts, wanted, "{channel}: each once, in order");
    }
    assert_eq!(slack.calls().iter().filter(|c| c.method == "chat.postMessage").count(), 18);
    // One sender per channel: a burst of three, then one per 200 ms — not
    // two replicas' bursts on top of each other.
    assert!(started.elapsed() >= Duration::from_millis(580), "six posts a channel took {:?}", started.elapsed());
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_replica_that_stops_gives_its_channels_up_and_the_other_sends_to_them_at_once() {
    let slack = FakeSlack::start().await;
    let store = opsbot::store::open(None).unwrap();
    let a = replica(&slack, &store, FAST, "replica-a");
    a.outbox.post("alarm:first", &ch("C1"), &msg("first")).await.unwrap();
    drained(&store, Duration::from_secs(5)).await;
    a.stop().await;

    let b = replica(&slack, &store, FAST, "replica-b");
    b.outbox.post("alarm:second", &ch("C1"), &msg("second")).await.unwrap();
    // Without the release, B would wait out A's 30-second lease.
    drained(&store, Duration::from_secs(3)).await;
    assert_eq!(slack.messages("C1").iter().map(text).collect::<Vec<_>>(), ["first", "second"]);
    b.stop().await;
}

#[tokio::test]
async fn a_channel_held_by_a_live_replica_is_not_sent_to_by_another() {
    let slack = FakeSlack::start().await;
    let store = opsbot::store::open(None).unwrap();
    let far = system_clock()() + chrono::Duration::minutes(5);
    assert!(store.outbox_lease(&ch("C1"), "replica-elsewhere", far, system_clock()()).await.unwrap());
    let b = replica(&slack, &store, FAST, "replica-b");
    b.outbox.post("alarm:held", &ch("C1"), &msg("held")).await.unwrap();
    b.outbox.post("alarm:free", &ch("C2"), &msg("free")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(slack.messages("C2").len(), 1, "other channels go on");
    assert!(slack.messages("C1").is_empty(), "C1 is another replica's to send");
    b.stop().await;
}
