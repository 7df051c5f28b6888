//! The SQS poller: long-polls each queue in `notifications.sqs_queues`, hands
//! every message body to the inbox, and deletes a message only once the inbox
//! has it on disk (or already had it). EventBridge rules and SNS topics
//! deliver into these queues, so no public endpoint is needed.
//!
//! # Decisions
//! - At-least-once: a message whose body could not be persisted is left in
//!   the queue; SQS shows it again after its visibility timeout. Duplicates
//!   (redeliveries, the same event through two paths) are the inbox's to
//!   drop, by key.
//! - One task per queue, 20 s long polls, 10 messages a call (SQS's maxima):
//!   an idle queue costs three requests a minute.
//! - Errors from SQS (throttling, a queue that is gone, no permission) are
//!   logged with the queue and retried with a capped backoff; the bot keeps
//!   serving meanwhile.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::types::DeleteMessageBatchRequestEntry;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::{Inbox, Source};

const WAIT: i32 = 20;
const BATCH: i32 = 10;
const BACKOFF_MAX: Duration = Duration::from_secs(60);

/// Polls `queue_url` until `stop` is cancelled.
pub async fn poll(client: aws_sdk_sqs::Client, queue_url: String, inbox: Arc<dyn Inbox>, stop: CancellationToken) {
    info!(queue = %queue_url, "polling SQS for notifications");
    let mut backoff = Duration::from_secs(1);
    loop {
        let receive =
            client.receive_message().queue_url(&queue_url).max_number_of_messages(BATCH).wait_time_seconds(WAIT).send();
        let received = tokio::select! {
            _ = stop.cancelled() => return,
            received = receive => received,
        };
        match received {
            Ok(out) => {
                backoff = Duration::from_secs(1);
                let messages = out.messages.unwrap_or_default();
                debug!(queue = %queue_url, count = messages.len(), "received");
                let done = keep(&*inbox, &messages).await;
                delete(&client, &queue_url, done).await;
            }
            Err(err) => {
                let cause = aws_sdk_sqs::error::DisplayErrorContext(&err);
                warn!(queue = %queue_url, error = %cause, retry_in = ?backoff, "cannot receive from SQS");
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    }
}

/// Hands each message to the inbox; returns the receipts of those it kept.
async fn keep(inbox: &dyn Inbox, messages: &[aws_sdk_sqs::types::Message]) -> Vec<(String, String)> {
    let mut done = Vec::new();
    for message in messages {
        let (Some(id), Some(receipt)) = (message.message_id(), message.receipt_handle()) else { continue };
        match inbox.receive(Source::Sqs, message.body().unwrap_or_default().as_bytes()).await {
            Ok(()) => done.push((id.to_owned(), receipt.to_owned())),
            Err(err) => warn!(message = id, error = %err, "notification not persisted; SQS will deliver it again"),
        }
    }
    done
}

async fn delete(client: &aws_sdk_sqs::Client, queue_url: &str, done: Vec<(String, String)>) {
    if done.is_empty() {
        return;
    }
    let entries: Vec<_> = done
        .iter()
        .enumerate()
        .filter_map(|(i, (_, receipt))| {
            DeleteMessageBatchRequestEntry::builder().id(i.to_string()).receipt_handle(receipt).build().ok()
        })
        .collect();
    match client.delete_message_batch().queue_url(queue_url).set_entries(Some(entries)).send().await {
        Ok(out) => {
            for failed in out.failed() {
                // Persisted already: a redelivery is dropped by the inbox as a duplicate.
                warn!(queue = %queue_url, entry = failed.id(), code = failed.code(), "SQS kept a message we handled");
            }
        }
        Err(err) => {
            let cause = aws_sdk_sqs::error::DisplayErrorContext(&err);
            warn!(queue = %queue_url, error = %cause, "cannot delete handled messages; their redelivery is a duplicate");
        }
    }
}
