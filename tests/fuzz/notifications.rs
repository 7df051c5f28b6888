//! The notification parsers on any body, as SQS or `POST /sns` hands it
//! over: EventBridge events, SNS envelopes (with JSON or text inside their
//! `Message`), CloudWatch alarm messages, approval messages, anything else.
//! Each parsed notification is also rendered the way it would be posted
//! (summary line, alarm message), where slicing and escaping could fail.
//! Beyond "no panic": the dedup key is never empty and is the same on a
//! second delivery of the same bytes (it is what makes notifications once).

use chrono::Utc;
use opsbot::notify::event::{self, Notification, ParseError};
use opsbot::notify::intake::sns::SnsMessage;
use opsbot::notify::lifecycle::{alarm, summary};
use opsbot::settings::AlarmSettings;
use opsbot_commands::mrkdwn::Mrkdwn;

use super::{Shape, Target};

pub const TARGET: Target = Target {
    name: "notifications",
    seed_dirs: &["tests/fixtures/notifications", "tests/fixtures/sns"],
    shape: Shape::Json,
    dictionary: &[
        "Type",
        "Notification",
        "SubscriptionConfirmation",
        "UnsubscribeConfirmation",
        "MessageId",
        "TopicArn",
        "Message",
        "Subject",
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertURL",
        "detail-type",
        "source",
        "detail",
        "resources",
        "account",
        "region",
        "time",
        "id",
        "version",
        "aws.codepipeline",
        "aws.ecs",
        "aws.ssm",
        "aws.cloudwatch",
        "CodePipeline Pipeline Execution State Change",
        "ECS Deployment State Change",
        "CloudWatch Alarm State Change",
        "Parameter Store Change",
        "AlarmName",
        "NewStateValue",
        "NewStateReason",
        "OldStateValue",
        "StateChangeTime",
        "AlarmArn",
        "Trigger",
        "approval",
        "pipelineName",
        "stageName",
        "actionName",
        "token",
        "state",
        "pipeline",
        "execution-id",
        "ALARM",
        "OK",
        "INSUFFICIENT_DATA",
        "FAILED",
        "SUCCEEDED",
        "arn:aws:sns:us-east-1:123456789012:ops",
        "arn:aws:cloudwatch:eu-west-1:1:alarm:x",
        "arn:",
        "arn:aws:ecs:::service/a/b",
        "1970-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999Z",
        "+275760-09-13T00:00:00Z",
        "2026-02-30T25:61:61Z",
        "EU (Ireland)",
        "",
    ],
    check,
};

fn check(input: &[u8]) -> Result<String, String> {
    let _ = SnsMessage::from_json(input);
    match event::parse(input) {
        Ok(inbound) => {
            if inbound.key.is_empty() {
                return Err(format!("an empty dedup key for {:?}", inbound.notification));
            }
            let again = event::parse(input).map_err(|e| format!("parsed once, then refused: {e}"))?;
            if again.key != inbound.key {
                return Err(format!("the dedup key moved between deliveries: {} then {}", inbound.key, again.key));
            }
            render(&inbound);
            Ok(format!("{} {}", inbound.notification.kind(), inbound.notification.living_key().is_some()))
        }
        Err(ParseError::Empty) => Ok("empty".into()),
        Err(ParseError::Control(message)) => Ok(format!("control {}", message.kind.as_str())),
    }
}

/// The rendering a notification meets first: its summary message, or for
/// an alarm the alert it opens and the message that shows it.
fn render(inbound: &event::Inbound) {
    let notification = &inbound.notification;
    let _ = (notification.name(), summary::summary(inbound));
    if let Notification::Alarm(change) = notification {
        let step = alarm::apply(None, change, &AlarmSettings::default(), &Mrkdwn::here());
        if let Some(alert) = &step.alert {
            let _ = (alarm::render(alert, Utc::now()), alarm::as_alert(alert));
        }
    }
}

#[test]
fn the_notification_parsers_survive_fuzzing_and_keep_a_stable_dedup_key() {
    super::run(&TARGET);
}
