//! The alarm path on ministack, whose CloudWatch runs alarm actions (moto's
//! does not): `PutMetricAlarm` with an SNS topic as its `AlarmActions`,
//! `SetAlarmState` to ALARM, the topic delivers to an SQS queue, and the
//! bot's poller hands over the SNS envelope whose `Message` is CloudWatch's
//! alarm JSON (AWS's format:
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-actions.html>).
//! Everything here — queue, topic, alarm, the poller's SQS client — talks to
//! ministack; its account is `000000000000`.

use aws_sdk_cloudwatch::types::{ComparisonOperator, StateValue, Statistic};
use opsbot::notify::sns::{SnsMessage, SnsType};

use super::{HIDE_FOR_30S, WITHIN, assert_queue_empties};
use crate::support::aws_setup::{AwsHttp, create_queue};
use crate::support::emulator_fixtures::check_or_record;
use crate::support::emulators::{emulators, unique};
use crate::support::sqs_poller::{Poller, RecordingInbox};

#[tokio::test]
async fn a_cloudwatch_alarm_going_off_in_ministack_reaches_the_inbox_through_its_sns_alarm_action() {
    let emu = emulators().await;
    let sdk = emu.sdk_config().await; // CloudWatch goes to ministack already
    let sqs = aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::config::Builder::from(&sdk).endpoint_url(emu.ministack_url()).build(),
    );
    let ministack = AwsHttp::new(emu.ministack_url());
    let queue = create_queue(&sqs, &unique("alarms"), HIDE_FOR_30S).await;
    let topic = ministack.create_topic(&unique("oncall")).await;
    ministack.subscribe_queue(&topic, &queue.arn, false).await;
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&sdk);
    let alarm = unique("shop-checkout-5xx");
    cloudwatch
        .put_metric_alarm()
        .alarm_name(&alarm)
        .alarm_description("Checkout answers 5xx")
        .namespace("AWS/ApplicationELB")
        .metric_name("HTTPCode_Target_5XX_Count")
        .statistic(Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(5.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .alarm_actions(&topic)
        .send()
        .await
        .unwrap();
    let (inbox, mut deliveries) = RecordingInbox::keeping();
    let poller = Poller::start(sqs.clone(), &queue.url, inbox);

    let reason = "Threshold Crossed: 1 datapoint [12.0] was greater than the threshold (5.0).";
    let set = cloudwatch.set_alarm_state().alarm_name(&alarm).state_value(StateValue::Alarm).state_reason(reason);
    set.send().await.unwrap();

    let delivered = deliveries.next(WITHIN, "the alarm notification").await;
    let envelope = delivered.json();
    assert_eq!(envelope["Type"], "Notification", "{envelope}");
    assert_eq!(envelope["TopicArn"], topic.as_str());
    assert_eq!(envelope["Subject"], format!("ALARM: \"{alarm}\" in us-east-1"));
    let message: serde_json::Value =
        serde_json::from_str(envelope["Message"].as_str().expect("Message is a JSON string")).unwrap();
    assert_eq!(message["AlarmName"], alarm.as_str(), "{message}");
    assert_eq!(message["NewStateValue"], "ALARM");
    assert_eq!(message["NewStateReason"], reason);
    assert_eq!(message["OldStateValue"], "INSUFFICIENT_DATA", "ministack alarms start without data, like AWS's");
    assert_queue_empties(&sqs, &queue.url).await;
    let read = SnsMessage::from_json(delivered.body.as_bytes()).expect("the bot reads ministack's envelope as SNS");
    assert_eq!((read.kind, read.subject.as_deref()), (SnsType::Notification, envelope["Subject"].as_str()));
    check_or_record("ministack-alarm-sns-envelope.json", &delivered.body);
    poller.stop().await;
}
