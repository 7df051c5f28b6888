//! Typed notifications from the raw bodies AWS delivers: what arrives from an
//! SQS queue (EventBridge rules and SNS topics deliver there) or at `POST /sns`.
//!
//! [`parse`] accepts, for every kind:
//! - a raw EventBridge event (`version`, `id`, `detail-type`, `source`, ...);
//! - an SNS envelope ([`SnsMessage`], `Type: Notification`) whose `Message` is
//!   an EventBridge event, a CloudWatch alarm message, a CodePipeline
//!   manual-approval message, or anything else;
//! - a raw-delivery SNS payload: the same messages without the envelope.
//!
//! # Decisions
//! - Nothing is dropped: a body that is not JSON, a kind we do not know, and a
//!   known kind whose fields cannot be read all become [`Notification::Other`]
//!   with a one-line summary, for the default channel. The only errors are an
//!   empty body and SNS subscription control messages ([`ParseError::Control`]),
//!   which callers confirm or ignore rather than post.
//! - [`Inbound::key`] is the dedup key, the same whichever path delivered the
//!   notification: `eventbridge:<id>` for an event (also when an SNS topic
//!   carried it), `alarm:<AlarmArn>:<StateChangeTime>:<NewStateValue>` for an
//!   alarm message, `approval:<token>` for an approval; otherwise
//!   `sns:<MessageId>` in an envelope and `sha256:<hex of the body>` without one.
//! - [`Notification::living_key`] is a different thing: the message a
//!   notification updates (one per pipeline execution, one per alarm ARN).
//! - Parameter Store events never carry a parameter's value, and nothing here
//!   adds one.
//!
//! # Parts
//! - this file: [`parse`], which tells the bodies apart, and the assembly of an
//!   alarm or approval message (from SNS) into an [`Inbound`];
//! - `notification.rs`: the vocabulary, [`Inbound`], [`Notification`], [`Kind`];
//! - `delivery.rs`: how a payload arrived, and what its SNS envelope supplies;
//! - `eventbridge.rs`: the event envelope, and which kind its `detail-type` is;
//! - the kinds, each its type and how to read it: [`pipeline`] (CodePipeline
//!   events), [`approval`] (manual approvals), [`alarm`] (CloudWatch), [`ecs`],
//!   [`ssm`] (Parameter Store, Automation), [`other`];
//! - `wire`: timestamps, ARNs, summaries.
//!
//! The kinds import neither the vocabulary nor this file: what they read
//! becomes an [`Inbound`] in `eventbridge.rs` or here. Shapes and field names
//! are AWS's documented examples; tests/fixtures/notifications/README.md lists
//! the pages.

mod delivery;
mod eventbridge;
mod notification;
mod wire;

pub mod alarm;
pub mod approval;
pub mod ecs;
pub mod other;
pub mod pipeline;
pub mod ssm;

#[cfg(test)]
mod alarm_ecs_tests;
#[cfg(test)]
mod kind_tests;
#[cfg(test)]
mod tests;

use serde_json::Value;

use super::intake::sns::{SnsMessage, SnsType};
pub use alarm::{AlarmChange, AlarmState};
pub use approval::ManualApproval;
use delivery::Delivery;
pub use ecs::{DeploymentEvent, EcsDeployment, EcsEventType, EcsServiceAction};
pub use notification::{Inbound, Kind, Notification};
pub use other::Other;
pub use pipeline::{ExecutionState, PipelineAction, PipelineExecution, PipelineStage};
pub use ssm::{AutomationExecution, ParameterChange, ParameterOperation};

/// Why a body gave no notification.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("the notification body is empty: nothing to route (check the sender's message template)")]
    Empty,
    #[error(
        "SNS {:?} for topic {} is not a notification: confirm or ignore the subscription instead of posting it",
        .0.kind,
        .0.topic_arn
    )]
    Control(Box<SnsMessage>),
}

/// Parses one body from SQS or `POST /sns` into a typed notification.
/// Notifications of unknown kinds are logged here (once, at info) as well as
/// returned, so none goes unnoticed even before it is routed.
pub fn parse(body: &[u8]) -> Result<Inbound, ParseError> {
    parse_delivered(body).map(|(inbound, _)| inbound)
}

/// [`parse`], and the SNS envelope the notification came in, if any: what
/// the inbox keeps of it is made from that ([`kept`]), only when it is kept.
pub fn parse_delivered(body: &[u8]) -> Result<(Inbound, Option<SnsMessage>), ParseError> {
    let (inbound, envelope) = read_body(body)?;
    Ok((logged(inbound), envelope))
}

/// The notification in an SNS envelope that was parsed already (`POST /sns`
/// parses it to check it): [`parse`] of the body it came in, without
/// parsing the envelope again.
pub fn parse_envelope(envelope: &SnsMessage) -> Result<Inbound, ParseError> {
    from_envelope(envelope).map(logged)
}

fn logged(inbound: Inbound) -> Inbound {
    if let Notification::Other(other) = &inbound.notification {
        tracing::info!(key = %inbound.key, name = %other.name, summary = %other.summary, "notification of an unknown kind");
    }
    inbound
}

/// What the inbox keeps of an SNS notification: the envelope without what
/// only the signature check reads (`Signature`, `SigningCertURL`,
/// `UnsubscribeURL`: about a quarter of an alarm's envelope), which [`parse`]
/// reads back to the same notification. Bodies kept whole by earlier
/// versions (and any body that came without an envelope) are kept as they
/// came and parse as they always did.
pub fn kept(envelope: &SnsMessage) -> Vec<u8> {
    let kept = KeptEnvelope {
        kind: envelope.kind,
        message_id: &envelope.message_id,
        topic_arn: &envelope.topic_arn,
        subject: envelope.subject.as_deref(),
        message: &envelope.message,
        timestamp: &envelope.timestamp,
        signature_version: "",
        signature: "",
        signing_cert_url: "",
    };
    serde_json::to_vec(&kept).expect("string fields serialise")
}

/// What [`kept`] writes: the fields the parser reads; the signature's are
/// left empty (a kept body is never checked again: it was checked before it
/// was kept).
#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct KeptEnvelope<'a> {
    #[serde(rename = "Type")]
    kind: SnsType,
    message_id: &'a str,
    topic_arn: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<&'a str>,
    message: &'a str,
    timestamp: &'a str,
    signature_version: &'a str,
    signature: &'a str,
    #[serde(rename = "SigningCertURL")]
    signing_cert_url: &'a str,
}

fn read_body(body: &[u8]) -> Result<(Inbound, Option<SnsMessage>), ParseError> {
    // `from_utf8` first: valid UTF-8 (every AWS body) is checked much faster
    // than by `from_utf8_lossy`, which is for the rest.
    let text = std::str::from_utf8(body).map_or_else(|_| String::from_utf8_lossy(body), std::borrow::Cow::Borrowed);
    if text.trim().is_empty() {
        return Err(ParseError::Empty);
    }
    let delivery = Delivery { envelope: None, body };
    let Ok(value) = serde_json::from_str::<Value>(&text) else {
        return Ok((delivery.other(Other::from_text(&text, None)), None));
    };
    if !looks_like_sns_envelope(&value) {
        return Ok((from_payload(value, &delivery), None));
    }
    let Ok(envelope) = <SnsMessage as serde::Deserialize>::deserialize(&value) else {
        return Ok((delivery.other(Other::from_json(&value, None)), None));
    };
    let inbound = from_envelope(&envelope)?;
    Ok((inbound, Some(envelope)))
}

fn from_envelope(envelope: &SnsMessage) -> Result<Inbound, ParseError> {
    if envelope.kind != SnsType::Notification {
        return Err(ParseError::Control(Box::new(envelope.clone())));
    }
    if let Some(read) = alarm::from_text(&envelope.message) {
        return Ok(alarm_read(read));
    }
    let delivery = Delivery { envelope: Some(envelope), body: envelope.message.as_bytes() };
    Ok(match serde_json::from_str::<Value>(&envelope.message) {
        Ok(message) if message.is_object() => from_payload(message, &delivery),
        _ => delivery.other(Other::from_text(&envelope.message, envelope.subject.as_deref())),
    })
}

fn looks_like_sns_envelope(value: &Value) -> bool {
    ["Type", "MessageId", "TopicArn"].iter().all(|field| value.get(field).is_some_and(Value::is_string))
}

/// A payload: an EventBridge event, an alarm or approval message, or other JSON.
fn from_payload(value: Value, delivery: &Delivery) -> Inbound {
    if eventbridge::looks_like_event(&value) {
        return eventbridge::inbound(value, delivery);
    }
    if alarm::looks_like_sns_alarm(&value) {
        return alarm_inbound(value, delivery);
    }
    if approval::looks_like_approval(&value) {
        return approval_inbound(value, delivery);
    }
    let subject = delivery.envelope.and_then(|envelope| envelope.subject.as_deref());
    delivery.other(Other::from_json(&value, subject))
}

/// An alarm's SNS message; [`Other`] saying why when it cannot be read.
fn alarm_inbound(value: Value, delivery: &Delivery) -> Inbound {
    match alarm::from_sns(&value) {
        Ok(read) => alarm_read(read),
        Err(why) => {
            tracing::warn!(%why, "a CloudWatch alarm message could not be read; posting it as other");
            let subject = delivery.envelope.and_then(|envelope| envelope.subject.as_deref());
            let mut other = Other::from_json(&value, subject);
            other.summary = wire::one_line(
                &format!("could not read alarm message: {why}: {}", other.summary),
                wire::SUMMARY_MAX_CHARS,
            );
            delivery.other(other)
        }
    }
}

fn alarm_read((key, account, region, change): alarm::Read) -> Inbound {
    Inbound { key, account, region, time: change.at, notification: Notification::Alarm(change) }
}

/// A manual-approval message, with the account, and the region when the
/// message names none, of the topic that carried it and the envelope's time;
/// [`Other`] when it cannot be read.
fn approval_inbound(value: Value, delivery: &Delivery) -> Inbound {
    let (key, region, approval) = match approval::from_message(&value) {
        Ok(read) => read,
        Err(why) => {
            tracing::warn!(%why, "a CodePipeline approval message could not be read; posting it as other");
            let subject = delivery.envelope.and_then(|envelope| envelope.subject.as_deref());
            return delivery.other(Other::from_json(&value, subject));
        }
    };
    let (topic_account, topic_region) = delivery.topic_account_region();
    Inbound {
        key,
        account: topic_account,
        region: region.or(topic_region),
        time: delivery.time(),
        notification: Notification::ManualApproval(approval),
    }
}
