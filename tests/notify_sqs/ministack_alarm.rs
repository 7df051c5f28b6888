//! The alarm path on ministack, whose CloudWatch runs alarm actions (moto's
//! does not): `PutMetricAlarm` with an SNS topic as its `AlarmActions` and
//! `OKActions`, `SetAlarmState`, the topic delivers to an SQS queue, and the
//! bot's poller hands over the SNS envelope whose `Message` is CloudWatch's
//! alarm JSON (AWS's format:
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-actions.html>).
//! Everything here — queue, topic, alarm, the poller's SQS client — talks to
//! ministack; its account is `000000000000`.

use aws_sdk_cloudwatch::types::StateValue;
use opsbot::notify::intake::sns::{SnsMessage, SnsType};
use serde_json::Value;

use super::{HIDE_FOR_30S, WITHIN, assert_queue_empties};
use crate::support::aws_setup::MinistackAlarm;
use crate::support::emulator_fixtures::check_or_record;
use crate::support::sqs_poller::{Deliveries, Poller, RecordingInbox};

const FIRING: &str = "Threshold Crossed: 1 datapoint [12.0] was greater than the threshold (5.0).";

/// An alarm whose ALARM and OK actions publish to a topic a queue is
/// subscribed to, with the bot's poller on that queue.
struct AlarmOnCall {
    on: MinistackAlarm,
    poller: Poller,
    deliveries: Deliveries,
}

impl AlarmOnCall {
    async fn new() -> AlarmOnCall {
        let on = MinistackAlarm::new("shop-checkout-5xx", HIDE_FOR_30S).await;
        let (inbox, deliveries) = RecordingInbox::keeping();
        let poller = Poller::start(on.sqs.clone(), &on.queue.url, inbox);
        AlarmOnCall { on, poller, deliveries }
    }

    async fn set(&self, state: StateValue, reason: &str) {
        self.on.set(state, reason).await;
    }

    /// The next body handed over, checked to be an SNS notification from the
    /// topic that the bot reads; returns it and its `Message` as JSON.
    async fn next_notification(&mut self, what: &str) -> (String, Value) {
        let body = self.deliveries.next(WITHIN, what).await.body;
        let read = SnsMessage::from_json(body.as_bytes()).expect("the bot reads ministack's envelope as SNS");
        assert_eq!((read.kind, read.topic_arn.as_str()), (SnsType::Notification, self.on.topic.as_str()), "{body}");
        let message = serde_json::from_str(&read.message).expect("the alarm message is JSON");
        (body, message)
    }

    async fn stop(self) {
        assert_queue_empties(&self.on.sqs, &self.on.queue.url).await;
        self.poller.stop().await;
    }
}

#[tokio::test]
async fn a_cloudwatch_alarm_going_off_in_ministack_reaches_the_inbox_through_its_sns_alarm_action() {
    let mut oncall = AlarmOnCall::new().await;

    oncall.set(StateValue::Alarm, FIRING).await;

    let (body, message) = oncall.next_notification("the ALARM notification").await;
    let envelope: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(envelope["Subject"], format!("ALARM: \"{}\" in us-east-1", oncall.on.alarm));
    assert_eq!(message["AlarmName"], oncall.on.alarm.as_str(), "{message}");
    assert_eq!((&message["NewStateValue"], &message["NewStateReason"]), (&"ALARM".into(), &FIRING.into()));
    assert_eq!(message["OldStateValue"], "INSUFFICIENT_DATA", "ministack alarms start without data, like AWS's");
    assert_eq!(message["Trigger"]["MetricName"], "HTTPCode_Target_5XX_Count");
    check_or_record("ministack-alarm-sns-envelope.json", &body);
    oncall.stop().await;
}

#[tokio::test]
async fn a_cloudwatch_alarm_back_to_ok_in_ministack_reaches_the_inbox_through_its_ok_action() {
    let mut oncall = AlarmOnCall::new().await;
    oncall.set(StateValue::Alarm, FIRING).await;
    oncall.next_notification("the ALARM notification").await;

    let recovered = "Threshold Crossed: 1 datapoint [0.0] was not greater than the threshold (5.0).";
    oncall.set(StateValue::Ok, recovered).await;

    let (body, message) = oncall.next_notification("the OK notification").await;
    let envelope: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(envelope["Subject"], format!("OK: \"{}\" in us-east-1", oncall.on.alarm));
    assert_eq!((&message["NewStateValue"], &message["NewStateReason"]), (&"OK".into(), &recovered.into()));
    assert_eq!(message["OldStateValue"], "ALARM");
    check_or_record("ministack-alarm-ok-sns-envelope.json", &body);
    oncall.stop().await;
}
