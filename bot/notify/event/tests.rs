//! Every body form: raw EventBridge, SNS envelope, raw SNS delivery, control
//! messages, garbage; and dedup keys that agree across delivery paths.

use super::kind_tests::{at, fixture, read};
use super::wire::SUMMARY_MAX_CHARS;
use super::*;

fn other(inbound: &Inbound) -> &Other {
    match &inbound.notification {
        Notification::Other(other) => other,
        notification => panic!("not other: {notification:?}"),
    }
}

#[test]
fn an_eventbridge_event_through_an_sns_topic_is_the_same_notification_with_the_same_key() {
    let direct = read(fixture!("cloudwatch-alarm-single-metric.json"));
    let via_sns = read(fixture!("sns-envelope-eventbridge-alarm.json"));
    assert_eq!(via_sns, direct);
    assert_eq!(via_sns.key, "eventbridge:c4c1c1c9-6542-e61b-6ef0-8c4d36933a92");
}

#[test]
fn an_alarm_message_enveloped_or_raw_is_one_notification() {
    let raw = read(fixture!("cloudwatch-alarm-sns-message.json"));
    let enveloped = read(fixture!("sns-envelope-alarm.json"));
    assert_eq!(enveloped, raw);
    assert!(enveloped.key.starts_with("alarm:arn:aws:cloudwatch:"));
}

#[test]
fn an_approval_enveloped_or_raw_has_one_key_and_the_envelope_adds_account_and_time() {
    let raw = read(fixture!("codepipeline-approval.json"));
    let enveloped = read(fixture!("sns-envelope-approval.json"));
    assert_eq!(enveloped.key, raw.key);
    assert_eq!(enveloped.notification, raw.notification);
    assert_eq!(enveloped.account.as_deref(), Some("123456789012"), "from the topic ARN");
    assert_eq!(enveloped.region.as_deref(), Some("us-east-2"), "the message's own region");
    assert_eq!(enveloped.time, at("2019-10-02T17:04:41.123Z"), "the SNS timestamp");
}

#[test]
fn moto_events_without_an_account_still_parse() {
    let inbound = read(fixture!("eventbridge-moto-no-account.json"));
    assert_eq!(inbound.account, None);
    assert_eq!(inbound.region.as_deref(), Some("us-east-1"));
    assert_eq!(inbound.notification.kind(), Kind::Alarm);
}

#[test]
fn plain_text_in_an_envelope_is_other_named_by_the_subject_and_keyed_by_message_id() {
    let inbound = read(fixture!("sns-envelope-text.json"));
    let other = other(&inbound);
    assert_eq!(other.name, "Nightly backup");
    assert_eq!(other.summary, "Backup finished. See the report for details.");
    assert_eq!(inbound.key, "sns:0c4a2c31-4d43-5e36-8e2b-9f5a8bfa7d02");
    assert_eq!((inbound.account.as_deref(), inbound.region.as_deref()), (Some("123456789012"), Some("us-east-1")));
    assert_eq!(inbound.time, at("2019-10-02T17:04:41.123Z"));
}

#[test]
fn malformed_json_in_an_sns_message_is_other_not_a_crash() {
    let inbound = read(fixture!("sns-envelope-malformed-json.json"));
    let other = other(&inbound);
    assert_eq!(other.summary, r#"{"AlarmName": "half-written", "NewStateValue":"#);
    assert_eq!(inbound.key, "sns:7d1b0b8c-1f5e-5b6a-b0a4-2d0c6e9f3a44");
}

#[test]
fn subscription_and_unsubscribe_confirmations_are_control_messages_not_notifications() {
    for (body, kind) in [
        (fixture!("sns-subscription-confirmation.json"), SnsType::SubscriptionConfirmation),
        (fixture!("sns-unsubscribe-confirmation.json"), SnsType::UnsubscribeConfirmation),
    ] {
        let Err(ParseError::Control(message)) = parse(body.as_bytes()) else { panic!("not a control message") };
        assert_eq!(message.kind, kind);
        assert!(message.subscribe_url.is_some() && message.token.is_some());
    }
    let error = parse(fixture!("sns-subscription-confirmation.json").as_bytes()).expect_err("control");
    assert_eq!(
        error.to_string(),
        "SNS SubscriptionConfirmation for topic arn:aws:sns:us-west-2:123456789012:MyTopic is not a notification: \
         confirm or ignore the subscription instead of posting it"
    );
}

#[test]
fn an_empty_body_is_the_only_body_that_is_refused() {
    for body in [&b""[..], b"  \n\t "] {
        let error = parse(body).expect_err("empty");
        assert!(matches!(error, ParseError::Empty));
        assert!(error.to_string().contains("empty"));
    }
}

#[test]
fn garbage_is_kept_as_other_keyed_by_its_content() {
    let body = b"\xff\xfe not json at all \x00 {";
    let inbound = parse(body).expect("kept");
    assert_eq!(inbound.key, wire::content_key(body));
    assert!(other(&inbound).summary.contains("not json at all"));
    assert_eq!((inbound.account, inbound.region), (None, None));
}

#[test]
fn unknown_json_is_other_and_its_key_depends_only_on_its_content() {
    let first = read(r#"{"hello": "world"}"#);
    assert_eq!(other(&first).summary, r#"{"hello":"world"}"#);
    assert_eq!(read(r#"{"hello": "world"}"#).key, first.key);
    assert_ne!(read(r#"{"hello": "there"}"#).key, first.key);
    assert!(first.key.starts_with("sha256:") && first.key.len() == "sha256:".len() + 64);
}

#[test]
fn an_eventbridge_event_of_an_unknown_kind_is_other_named_by_its_source() {
    let body = r#"{"version":"0","id":"e-42","detail-type":"ECS Task State Change","source":"aws.ecs",
        "time":"2026-11-22T08:00:00Z","region":"eu-west-1","resources":[],"detail":{"lastStatus":"RUNNING"}}"#;
    let inbound = read(body);
    assert_eq!((inbound.key.as_str(), inbound.notification.name()), ("eventbridge:e-42", "aws.ecs"));
    assert_eq!(other(&inbound).summary, "ECS Task State Change from aws.ecs");
    assert_eq!(inbound.time, at("2026-11-22T08:00:00Z"));
}

#[test]
fn a_known_event_kind_with_unreadable_detail_is_other_saying_what_was_wrong() {
    let body = r#"{"version":"0","id":"e-43","detail-type":"Parameter Store Change","source":"aws.ssm",
        "time":"2026-11-22T08:00:00Z","region":"eu-west-1","resources":[],"detail":{"operation":"Create"}}"#;
    let inbound = read(body);
    assert_eq!(inbound.key, "eventbridge:e-43", "still deduplicated by its id");
    let summary = &other(&inbound).summary;
    assert!(
        summary.starts_with("Parameter Store Change from aws.ssm: could not read it: missing field `name`"),
        "{summary}"
    );
}

#[test]
fn long_text_becomes_a_truncated_one_line_summary() {
    let body = format!("Something happened\n{}", "very long line ".repeat(100));
    let inbound = read(&body);
    let other = other(&inbound);
    assert_eq!(other.name, "Something happened");
    assert_eq!(other.summary.chars().count(), SUMMARY_MAX_CHARS);
    assert!(!other.summary.contains('\n') && other.summary.ends_with('…'));
}

#[test]
fn an_envelope_missing_sns_fields_is_kept_as_other() {
    let body = r#"{"Type":"Notification","MessageId":"m-1","TopicArn":"arn:aws:sns:us-east-1:1:t","Message":"hi"}"#;
    let inbound = read(body);
    assert!(matches!(inbound.notification, Notification::Other(_)));
    assert!(inbound.key.starts_with("sha256:"));
}

#[test]
fn json_that_is_not_an_object_is_other() {
    for body in ["[1, 2, 3]", "42", r#""just a string""#, "null"] {
        let inbound = read(body);
        assert!(matches!(inbound.notification, Notification::Other(_)), "{body}");
        assert_eq!(inbound.key, wire::content_key(body.as_bytes()));
    }
    let enveloped = r#"{"Type":"Notification","MessageId":"m-2","TopicArn":"arn:aws:sns:us-east-1:1:t","Message":"[1,2]",
        "Timestamp":"2026-11-22T08:00:00.000Z","SignatureVersion":"2","Signature":"c2ln","SigningCertURL":"https://x"}"#;
    let inbound = read(enveloped);
    assert_eq!((other(&inbound).summary.as_str(), inbound.key.as_str()), ("[1,2]", "sns:m-2"));
}

#[test]
fn what_moto_delivers_from_an_eventbridge_rule_to_sqs_is_a_pipeline_execution() {
    let inbound = read(fixture!("moto-eventbridge-to-sqs.json"));
    assert_eq!(inbound.key, "eventbridge:39d8aeec-dd2e-4ac5-bf48-d850d5dd089a");
    assert_eq!((inbound.account, inbound.region.as_deref()), (None, Some("us-east-1")));
    assert_eq!((inbound.notification.kind(), inbound.notification.name()), (Kind::Pipeline, "storefront-web"));
}

#[test]
fn what_moto_delivers_from_an_sns_topic_to_sqs_is_an_envelope_named_by_its_subject() {
    let inbound = read(fixture!("moto-sns-to-sqs.json"));
    assert_eq!(inbound.key, "sns:df9cdef0-b2d7-45b7-a73d-15929d8d80e7");
    assert_eq!(other(&inbound).name, "hello", "a bare detail is not an event: kept as other");
}

#[test]
fn what_ministack_delivers_for_an_alarm_action_is_an_alarm_change() {
    let inbound = read(fixture!("ministack-alarm-sns-to-sqs.json"));
    assert_eq!(
        inbound.key,
        "alarm:arn:aws:cloudwatch:us-east-1:000000000000:alarm:shop-checkout-5xx:2026-11-22T08:51:58Z:ALARM"
    );
    let Notification::Alarm(change) = inbound.notification else { panic!("{inbound:?}") };
    assert_eq!(
        (change.name.as_str(), change.state, change.reason.as_str()),
        ("shop-checkout-5xx", AlarmState::Alarm, "Set by test")
    );
    assert_eq!((change.previous, change.at), (Some(AlarmState::InsufficientData), at("2026-11-22T08:51:58Z")));
}

#[test]
fn what_the_inbox_keeps_of_an_sns_notification_is_smaller_and_parses_to_the_same_notification_by_either_path() {
    for body in [
        fixture!("sns-envelope-alarm.json"),
        fixture!("sns-envelope-approval.json"),
        fixture!("sns-envelope-eventbridge-alarm.json"),
        fixture!("sns-envelope-text.json"),
        fixture!("sns-envelope-malformed-json.json"),
    ] {
        let (inbound, envelope) = parse_delivered(body.as_bytes()).unwrap();
        let kept = kept(&envelope.expect("an SNS notification is kept compact"));
        assert!(kept.len() < body.len(), "{} < {}", kept.len(), body.len());
        assert!(!String::from_utf8_lossy(&kept).contains("SimpleNotificationService-"), "no signature fields");
        assert_eq!(parse(&kept).unwrap(), inbound, "read back: {}", String::from_utf8_lossy(&kept));
        assert_eq!(parse(body.as_bytes()).unwrap(), inbound, "the whole body, as earlier versions kept it");
        let parsed = SnsMessage::from_json(body.as_bytes()).unwrap();
        assert_eq!(parse_envelope(&parsed).unwrap(), inbound, "POST /sns's envelope, not parsed again");
    }
    let (_, envelope) = parse_delivered(fixture!("cloudwatch-alarm-single-metric.json").as_bytes()).unwrap();
    assert_eq!(envelope, None, "any other body is kept as it came");
}
