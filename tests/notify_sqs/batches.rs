//! Many messages at once: SQS hands out at most 10 per receive and deletes
//! in batches, so a burst spans several receives and one receive mixes
//! messages the inbox kept with one it could not keep.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

use super::{HIDE_FOR_30S, WITHIN, assert_queue_empties, moto};
use crate::support::aws_setup::create_queue;
use crate::support::emulators::unique;
use crate::support::sqs_poller::{Poller, RecordingInbox};

/// Sends `bodies` to the queue, ten per `SendMessageBatch` (SQS's maximum).
async fn send_all(sqs: &aws_sdk_sqs::Client, url: &str, bodies: &[String]) {
    for chunk in bodies.chunks(10) {
        let entries = chunk
            .iter()
            .enumerate()
            .map(|(i, body)| SendMessageBatchRequestEntry::builder().id(i.to_string()).message_body(body).build())
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let sent = sqs.send_message_batch().queue_url(url).set_entries(Some(entries)).send().await.unwrap();
        assert!(sent.failed().is_empty(), "{:?}", sent.failed());
    }
}

fn events(count: usize) -> Vec<String> {
    (0..count).map(|n| format!(r#"{{"id":"burst-{n}","detail-type":"ECS Deployment State Change"}}"#)).collect()
}

#[tokio::test]
async fn a_burst_larger_than_one_receive_is_handed_over_whole_and_each_message_once() {
    let moto = moto().await;
    let queue = create_queue(&moto.sqs, &unique("burst"), HIDE_FOR_30S).await;
    let (inbox, mut deliveries) = RecordingInbox::keeping();
    let poller = Poller::start(moto.sqs.clone(), &queue.url, inbox);
    let sent = events(25);

    send_all(&moto.sqs, &queue.url, &sent).await;

    let mut received = Vec::new();
    for n in 0..sent.len() {
        received.push(deliveries.next(WITHIN, &format!("message {} of {}", n + 1, sent.len())).await.body);
    }
    assert_queue_empties(&moto.sqs, &queue.url).await;
    assert!(deliveries.drain().is_empty(), "no message is handed over twice");
    let (received, sent): (BTreeSet<_>, BTreeSet<_>) = (received.into_iter().collect(), sent.into_iter().collect());
    assert_eq!(received, sent);
    poller.stop().await;
}

#[tokio::test]
async fn only_the_message_the_inbox_refused_comes_back_and_the_rest_of_its_receive_is_deleted() {
    let moto = moto().await;
    let queue = create_queue(&moto.sqs, &unique("mixed-batch"), Duration::from_secs(1)).await;
    let sent = events(3);
    send_all(&moto.sqs, &queue.url, &sent).await; // queued first: one receive gets all three
    let (inbox, mut deliveries) = RecordingInbox::refusing(1);

    let poller = Poller::start(moto.sqs.clone(), &queue.url, inbox);

    let mut first_round = Vec::new();
    for n in 1..=3 {
        first_round.push(deliveries.next(WITHIN, &format!("message {n} of the first receive")).await);
    }
    let refused: Vec<_> = first_round.iter().filter(|d| !d.kept).collect();
    assert_eq!(refused.len(), 1, "{first_round:?}");
    let again = deliveries.next(WITHIN, "the refused message, after the visibility timeout").await;
    assert_eq!(again.body, refused[0].body, "the one the inbox refused, and only it");
    assert!(again.kept);
    assert_queue_empties(&moto.sqs, &queue.url).await;
    assert!(deliveries.drain().is_empty(), "the two kept in the first receive were deleted, not redelivered");
    poller.stop().await;
}
