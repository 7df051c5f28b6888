//! When things go wrong between SQS and the inbox: the inbox cannot keep a
//! message, the queue does not exist (yet), SQS cannot be reached. Nothing
//! may be lost, nothing may spin, and the poller must still stop at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_smithy_types::retry::RetryConfig;

use super::{WITHIN, assert_queue_empties, moto};
use crate::support::aws_setup::create_queue;
use crate::support::emulators::{emulators, unique};
use crate::support::sqs_poller::{LogCapture, Poller, RecordingInbox, wait_until};

const NOT_RECEIVED: &str = "cannot receive from SQS";

#[tokio::test]
async fn a_message_the_inbox_could_not_keep_stays_queued_and_is_kept_when_sqs_shows_it_again() {
    let moto = moto().await;
    let visibility = Duration::from_secs(1);
    let queue = create_queue(&moto.sqs, &unique("flaky-disk"), visibility).await;
    let (inbox, mut deliveries) = RecordingInbox::refusing(1);
    let poller = Poller::start(moto.sqs.clone(), &queue.url, inbox);
    let body = r#"{"version":"0","id":"7e3c","detail-type":"Parameter Store Change","source":"aws.ssm","detail":{}}"#;

    moto.sqs.send_message().queue_url(&queue.url).message_body(body).send().await.unwrap();

    let refused = deliveries.next(WITHIN, "the first delivery").await;
    assert!(!refused.kept);
    let again = deliveries.next(WITHIN, "the redelivery after the visibility timeout").await;
    assert!(again.kept, "the inbox works again");
    assert_eq!((refused.body.as_str(), again.body.as_str()), (body, body));
    let hidden = again.at - refused.at;
    assert!(hidden >= visibility - Duration::from_millis(100), "shown again by SQS, not retried at once: {hidden:?}");
    assert_queue_empties(&moto.sqs, &queue.url).await;
    assert!(deliveries.drain().is_empty(), "kept once, then deleted: no third delivery");
    poller.stop().await;
}

#[tokio::test]
async fn a_queue_that_does_not_exist_yet_is_retried_and_polled_once_it_exists() {
    let logs = LogCapture::start();
    let moto = moto().await;
    let name = unique("created-later");
    let url = format!("{}/123456789012/{name}", emulators().await.moto_url());
    let (inbox, mut deliveries) = RecordingInbox::keeping();
    let poller = Poller::start(moto.sqs.clone(), &url, inbox);

    wait_until(WITHIN, "the missing queue is logged", || async { !logs.lines_with(NOT_RECEIVED).is_empty() }).await;
    let line = &logs.lines_with(NOT_RECEIVED)[0];
    assert!(line.contains(&url) && line.contains("NonExistentQueue"), "names the queue and the cause: {line}");
    assert!(!poller.is_finished(), "the poller keeps going");
    let queue = create_queue(&moto.sqs, &name, Duration::from_secs(30)).await;
    assert_eq!(queue.url, url);
    moto.sqs.send_message().queue_url(&url).message_body("{\"hello\":1}").send().await.unwrap();

    let delivered = deliveries.next(WITHIN, "the first message of the new queue").await;
    assert_eq!(delivered.body, "{\"hello\":1}");
    poller.stop().await;
}

/// An "SQS" that accepts connections and hangs up at once, counting them:
/// every request fails like a dropped connection, and the port stays ours
/// (a closed port could be taken by another test process meanwhile).
async fn hanging_up_sqs() -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (addr, connections)
}

#[tokio::test]
async fn an_unreachable_sqs_is_retried_with_a_doubling_backoff_and_stopping_cuts_the_wait_short() {
    let logs = LogCapture::start();
    let sdk = emulators().await.sdk_config().await;
    let (sqs_addr, connections) = hanging_up_sqs().await;
    // The SDK's own retries off: what is measured is the poller's backoff.
    let config = aws_sdk_sqs::config::Builder::from(&sdk)
        .endpoint_url(format!("http://{sqs_addr}"))
        .retry_config(RetryConfig::disabled())
        .build();
    let url = format!("http://{sqs_addr}/123456789012/{}", unique("nowhere"));
    let (inbox, mut deliveries) = RecordingInbox::keeping();
    let poller = Poller::start(aws_sdk_sqs::Client::from_conf(config), &url, inbox);

    wait_until(Duration::from_secs(6), "three failed receives are logged", || async {
        logs.lines_with(NOT_RECEIVED).len() >= 3
    })
    .await;

    let failed = logs.lines_with(NOT_RECEIVED);
    let waits: Vec<&str> = failed
        .iter()
        .map(|line| line.split("retry_in=").nth(1).and_then(|w| w.split(' ').next()).unwrap_or(""))
        .collect();
    assert_eq!(waits, ["1s", "2s", "4s"], "{failed:#?}");
    assert_eq!(connections.load(Ordering::SeqCst), 3, "one request per attempt: the poller does not spin");
    assert!(failed[0].contains(&url), "the log names the queue: {}", failed[0]);
    poller.stop().await; // in the middle of the 4 s wait; `stop` allows it STOP_WITHIN
    assert!(deliveries.drain().is_empty());
}
