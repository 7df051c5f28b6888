//! Notifications reaching the bot through SQS, end to end on real protocol
//! servers: EventBridge rules and SNS topics in moto deliver into SQS queues,
//! a CloudWatch alarm in ministack publishes through its SNS alarm action, and
//! the bot's poller (`opsbot::notify::intake::sqs::poll`, with the real aws-sdk-sqs
//! client) hands each body to a recording inbox.
//!
//! What a user relies on, and what each test shows:
//! - what AWS delivers reaches the inbox unchanged, whichever way it came
//!   (EventBridge event, SNS envelope, raw SNS message, alarm action);
//! - a message leaves the queue only once the inbox kept it; one the inbox
//!   could not keep comes back after the queue's visibility timeout, alone,
//!   while the rest of its receive is deleted; a burst larger than one
//!   receive (10) arrives whole, each message once (`batches`);
//! - a missing queue or an unreachable SQS is logged and retried with a
//!   growing backoff, and a poller told to stop ends at once — also in the
//!   middle of a 20 s long poll, which is where every test here stops it
//!   (`failures`);
//! - a CloudWatch alarm's SNS action reaches the bot (`ministack_alarm`).
//!
//! Each test makes its own uniquely named queue, topic and rule (the servers
//! are shared), and rule patterns match the test's own resource ARNs, so
//! parallel tests never see each other's events. The bodies delivered are
//! checked against, or recorded as, `tests/fixtures/notifications/emulators/`.

mod batches;
mod failures;
mod ministack_alarm;

use std::time::Duration;

use opsbot::notify::intake::sns::{SnsMessage, SnsType};
use serde_json::json;

use crate::support::aws_events::{PutEvent, approval_notification};
use crate::support::aws_setup::{AwsHttp, create_queue, queue_depth};
use crate::support::emulator_fixtures::check_or_record;
use crate::support::emulators::{emulators, unique};
use crate::support::sqs_poller::{Poller, RecordingInbox, wait_until};

/// How long anything here may take to arrive (moto delivers in milliseconds;
/// a redelivery waits out a 1 s visibility timeout).
const WITHIN: Duration = Duration::from_secs(5);
const HIDE_FOR_30S: Duration = Duration::from_secs(30);

struct Moto {
    sqs: aws_sdk_sqs::Client,
    aws: AwsHttp,
}

async fn moto() -> Moto {
    let emu = emulators().await;
    Moto { sqs: aws_sdk_sqs::Client::new(&emu.sdk_config().await), aws: AwsHttp::new(emu.moto_url()) }
}

async fn assert_queue_empties(sqs: &aws_sdk_sqs::Client, url: &str) {
    wait_until(WITHIN, "the queue has no message left, visible or in flight", || async {
        queue_depth(sqs, url).await == (0, 0)
    })
    .await;
}

// ------------------------------------------------------- EventBridge → SQS

#[tokio::test]
async fn a_codepipeline_event_put_to_eventbridge_reaches_the_inbox_as_sent_and_leaves_the_queue() {
    let moto = moto().await;
    let queue = create_queue(&moto.sqs, &unique("pipeline-events"), HIDE_FOR_30S).await;
    let event = PutEvent::pipeline_execution(&unique("storefront"), "4c7a9b2e-0f3d-4e1a-9c55-2d8e6f1a7b30", "STARTED");
    let rule = unique("pipelines-to-opsbot");
    let pattern = json!({
        "source": ["aws.codepipeline"],
        "detail-type": ["CodePipeline Pipeline Execution State Change"],
        "resources": event.resources,
    });
    moto.aws.put_rule(&rule, &pattern).await;
    moto.aws.target_queue(&rule, &queue.arn).await;
    let (inbox, mut deliveries) = RecordingInbox::keeping();
    let poller = Poller::start(moto.sqs.clone(), &queue.url, inbox);

    let ids = moto.aws.put_events(std::slice::from_ref(&event)).await;

    let delivered = deliveries.next(WITHIN, "the pipeline event").await;
    let body = delivered.json();
    assert_eq!(body["id"], ids[0].as_str(), "{body}");
    assert_eq!(body["source"], "aws.codepipeline");
    assert_eq!(body["detail-type"], "CodePipeline Pipeline Execution State Change");
    assert_eq!(body["resources"], json!(event.resources));
    assert_eq!(body["detail"], event.detail, "the detail arrives as an object, exactly as put");
    assert_eq!(SnsMessage::from_json(delivered.body.as_bytes()), None, "not mistaken for an SNS envelope");
    assert_queue_empties(&moto.sqs, &queue.url).await;
    assert!(deliveries.drain().is_empty(), "handed over once");
    check_or_record("eventbridge-codepipeline.json", &delivered.body);
    poller.stop().await;
}

#[tokio::test]
async fn alarm_deployment_and_parameter_events_reach_the_inbox_and_events_the_rule_does_not_match_do_not() {
    let moto = moto().await;
    let queue = create_queue(&moto.sqs, &unique("service-events"), HIDE_FOR_30S).await;
    let service = unique("api");
    let events = [
        PutEvent::alarm_state_change(&unique("shop-cpu"), "ALARM", "OK"),
        PutEvent::ecs_deployment("prod", &service, "SERVICE_DEPLOYMENT_COMPLETED"),
        PutEvent::parameter_change(&format!("/{}/feature-flag", unique("shop")), "Update"),
    ];
    let mut unmatched = PutEvent::ecs_deployment("prod", &service, "SERVICE_DEPLOYMENT_COMPLETED");
    unmatched.detail_type = "ECS Task State Change".into();
    let rule = unique("ops-events-to-opsbot");
    let pattern = json!({
        "source": ["aws.cloudwatch", "aws.ecs", "aws.ssm"],
        "detail-type": ["CloudWatch Alarm State Change", "ECS Deployment State Change", "Parameter Store Change"],
        "resources": events.iter().flat_map(|e| e.resources.clone()).collect::<Vec<_>>(),
    });
    moto.aws.put_rule(&rule, &pattern).await;
    moto.aws.target_queue(&rule, &queue.arn).await;
    let (inbox, mut deliveries) = RecordingInbox::keeping();
    let poller = Poller::start(moto.sqs.clone(), &queue.url, inbox);

    let mut sent = events.to_vec();
    sent.push(unmatched);
    let ids = moto.aws.put_events(&sent).await;

    for (event, fixture) in events.iter().zip(["cloudwatch-alarm", "ecs-deployment", "parameter-store"]) {
        let delivered = deliveries.next(WITHIN, &event.detail_type).await;
        let body = delivered.json();
        assert_eq!((&body["source"], &body["detail-type"]), (&json!(event.source), &json!(event.detail_type)));
        assert_eq!(body["detail"], event.detail);
        check_or_record(&format!("eventbridge-{fixture}.json"), &delivered.body);
    }
    // moto delivers during PutEvents: had the unmatched event been routed, it
    // would be handed over or still queued by now.
    assert_queue_empties(&moto.sqs, &queue.url).await;
    let extra: Vec<_> = deliveries.drain().into_iter().map(|d| d.body).collect();
    assert!(extra.is_empty(), "only the three matching events (not {}) arrive: {extra:?}", ids[3]);
    poller.stop().await;
}

// ------------------------------------------------------------- SNS → SQS

/// What one SNS publish produced.
struct Published {
    topic: String,
    message_id: String,
    message: String,
    /// The body the inbox got.
    delivered: String,
}

/// Publishes CodePipeline's approval notification to a topic a queue is
/// subscribed to (`raw`: with raw message delivery), polls the queue, and
/// checks the message then left it.
async fn publish_approval_through_sns(raw: bool) -> Published {
    let moto = moto().await;
    let queue = create_queue(&moto.sqs, &unique("approvals"), HIDE_FOR_30S).await;
    let topic = moto.aws.create_topic(&unique("pipeline-approvals")).await;
    moto.aws.subscribe_queue(&topic, &queue.arn, raw).await;
    let (inbox, mut deliveries) = RecordingInbox::keeping();
    let poller = Poller::start(moto.sqs.clone(), &queue.url, inbox);
    let (subject, message) = approval_notification("storefront-web", "Approve", "LeadSignOff", "0b5f1c9e-token");

    let message_id = moto.aws.publish(&topic, &subject, &message).await;

    let delivered = deliveries.next(WITHIN, "the approval notification").await.body;
    assert_queue_empties(&moto.sqs, &queue.url).await;
    poller.stop().await;
    Published { topic, message_id, message, delivered }
}

#[tokio::test]
async fn an_sns_notification_reaches_the_inbox_in_its_sns_envelope() {
    let sns = publish_approval_through_sns(false).await;

    let envelope: serde_json::Value = serde_json::from_str(&sns.delivered).unwrap();
    assert_eq!(envelope["Type"], "Notification");
    assert_eq!(envelope["MessageId"], sns.message_id.as_str());
    assert_eq!(envelope["TopicArn"], sns.topic.as_str());
    assert_eq!(envelope["Subject"], "APPROVAL NEEDED: AWS CodePipeline storefront-web for action LeadSignOff");
    assert_eq!(envelope["Message"], sns.message.as_str(), "the message is carried as a string, unchanged");
    let read = SnsMessage::from_json(sns.delivered.as_bytes()).expect("the bot reads moto's envelope as SNS");
    assert_eq!((read.kind, read.message.as_str()), (SnsType::Notification, sns.message.as_str()));
    check_or_record("sns-envelope.json", &sns.delivered);
}

#[tokio::test]
async fn a_raw_delivery_sns_message_reaches_the_inbox_alone() {
    let sns = publish_approval_through_sns(true).await;

    assert_eq!(sns.delivered, sns.message, "raw delivery: the published message, byte for byte, no envelope");
    assert_eq!(SnsMessage::from_json(sns.delivered.as_bytes()), None, "told apart from an envelope");
    check_or_record("sns-raw.json", &sns.delivered);
}
