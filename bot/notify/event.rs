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
//! [`pipeline`] (CodePipeline events), [`approval`] (manual approvals), [`alarm`] (CloudWatch),
//! [`ecs`], [`ssm`] (Parameter Store, Automation), [`other`], and `wire`
//! (timestamps, ARNs, summaries). Shapes and field names are AWS's documented
//! examples; tests/fixtures/notifications/README.md lists the pages.

mod eventbridge;
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

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::intake::sns::{SnsMessage, SnsType};
pub use alarm::{AlarmChange, AlarmState};
pub use approval::ManualApproval;
pub use ecs::{DeploymentEvent, EcsDeployment, EcsEventType, EcsServiceAction};
pub use other::Other;
pub use pipeline::{ExecutionState, PipelineAction, PipelineExecution, PipelineStage};
pub use ssm::{AutomationExecution, ParameterChange, ParameterOperation};

/// One notification, parsed from any of the bodies we accept.
#[derive(Debug, Clone, PartialEq)]
pub struct Inbound {
    /// Dedup key, equal for the same notification on every delivery path.
    pub key: String,
    pub account: Option<String>,
    /// A region code (`us-east-1`), never a display name.
    pub region: Option<String>,
    /// When it happened: the event's time, the alarm's state change, else the
    /// SNS timestamp, else when it was parsed.
    pub time: DateTime<Utc>,
    pub notification: Notification,
}

/// What a notification is about.
#[derive(Debug, Clone, PartialEq)]
pub enum Notification {
    PipelineExecution(PipelineExecution),
    PipelineStage(PipelineStage),
    PipelineAction(PipelineAction),
    ManualApproval(ManualApproval),
    Alarm(AlarmChange),
    EcsDeployment(EcsDeployment),
    EcsServiceAction(EcsServiceAction),
    ParameterChange(ParameterChange),
    Automation(AutomationExecution),
    Other(Other),
}

impl Notification {
    pub fn kind(&self) -> Kind {
        match self {
            Notification::PipelineExecution(_)
            | Notification::PipelineStage(_)
            | Notification::PipelineAction(_)
            | Notification::ManualApproval(_) => Kind::Pipeline,
            Notification::Alarm(_) => Kind::Alarm,
            Notification::EcsDeployment(_) | Notification::EcsServiceAction(_) => Kind::Ecs,
            Notification::ParameterChange(_) => Kind::Parameter,
            Notification::Automation(_) => Kind::Automation,
            Notification::Other(_) => Kind::Other,
        }
    }

    /// What routes match `name` against: the pipeline, the alarm,
    /// "cluster/service", the parameter, the Automation document; for
    /// [`Other`], the event source, the SNS subject or the first line.
    pub fn name(&self) -> &str {
        match self {
            Notification::PipelineExecution(n) => &n.pipeline,
            Notification::PipelineStage(n) => &n.pipeline,
            Notification::PipelineAction(n) => &n.pipeline,
            Notification::ManualApproval(n) => &n.pipeline,
            Notification::Alarm(n) => &n.name,
            Notification::EcsDeployment(n) => &n.name,
            Notification::EcsServiceAction(n) => &n.name,
            Notification::ParameterChange(n) => &n.name,
            Notification::Automation(n) => &n.document,
            Notification::Other(n) => &n.name,
        }
    }

    /// What this notification is about, when successive notifications are
    /// about the same thing: `pipeline:<execution id>` for pipeline, stage and
    /// action events, `alarm:<ARN>`, `ecs:<deployment id>`,
    /// `automation:<execution id>`. One-message kinds use it as their message
    /// key (`summary`); the alarm lifecycle keys its messages per episode of
    /// the ARN (`alarm::AlertRecord::message_key`). Approvals, parameter
    /// changes, service actions and others stand alone.
    pub fn living_key(&self) -> Option<String> {
        match self {
            Notification::PipelineExecution(n) => Some(format!("pipeline:{}", n.execution_id)),
            Notification::PipelineStage(n) => Some(format!("pipeline:{}", n.execution_id)),
            Notification::PipelineAction(n) => Some(format!("pipeline:{}", n.execution_id)),
            Notification::Alarm(n) => Some(format!("alarm:{}", n.arn)),
            Notification::EcsDeployment(n) => Some(format!("ecs:{}", n.deployment_id)),
            Notification::Automation(n) => Some(format!("automation:{}", n.execution_id)),
            Notification::ManualApproval(_)
            | Notification::EcsServiceAction(_)
            | Notification::ParameterChange(_)
            | Notification::Other(_) => None,
        }
    }
}

/// The kinds a route's `match: { kind: ... }` names. Manual approvals are
/// [`Kind::Pipeline`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Pipeline,
    Alarm,
    Ecs,
    Parameter,
    Automation,
    Other,
}

impl Kind {
    pub const ALL: [Kind; 6] = [Kind::Pipeline, Kind::Alarm, Kind::Ecs, Kind::Parameter, Kind::Automation, Kind::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Pipeline => "pipeline",
            Kind::Alarm => "alarm",
            Kind::Ecs => "ecs",
            Kind::Parameter => "parameter",
            Kind::Automation => "automation",
            Kind::Other => "other",
        }
    }

    /// The kind a config names; `None` for a word that is not one of [`Kind::ALL`].
    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

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
    let inbound = parse_body(body)?;
    if let Notification::Other(other) = &inbound.notification {
        tracing::info!(key = %inbound.key, name = %other.name, summary = %other.summary, "notification of an unknown kind");
    }
    Ok(inbound)
}

fn parse_body(body: &[u8]) -> Result<Inbound, ParseError> {
    let text = String::from_utf8_lossy(body);
    if text.trim().is_empty() {
        return Err(ParseError::Empty);
    }
    let delivery = Delivery { envelope: None, body };
    let Ok(value) = serde_json::from_str::<Value>(&text) else {
        return Ok(delivery.other(Other::from_text(&text, None)));
    };
    if !looks_like_sns_envelope(&value) {
        return Ok(from_payload(value, &delivery));
    }
    let Ok(envelope) = serde_json::from_value::<SnsMessage>(value.clone()) else {
        return Ok(delivery.other(Other::from_json(&value, None)));
    };
    if envelope.kind != SnsType::Notification {
        return Err(ParseError::Control(Box::new(envelope)));
    }
    let delivery = Delivery { envelope: Some(&envelope), body: envelope.message.as_bytes() };
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
        return alarm::inbound_from_sns(value, delivery);
    }
    if approval::looks_like_approval(&value) {
        return approval::inbound_from_approval(value, delivery);
    }
    let subject = delivery.envelope.and_then(|envelope| envelope.subject.as_deref());
    delivery.other(Other::from_json(&value, subject))
}

/// How a payload arrived: inside an SNS envelope or alone.
struct Delivery<'a> {
    envelope: Option<&'a SnsMessage>,
    /// The payload's bytes (the envelope's `Message` when there is one).
    body: &'a [u8],
}

impl Delivery<'_> {
    /// The key of a payload with no identity of its own.
    fn fallback_key(&self) -> String {
        match self.envelope {
            Some(envelope) => format!("sns:{}", envelope.message_id),
            None => wire::content_key(self.body),
        }
    }

    fn time(&self) -> DateTime<Utc> {
        self.envelope.and_then(|envelope| wire::parse_time(&envelope.timestamp)).unwrap_or_else(Utc::now)
    }

    /// The account and region of the SNS topic that carried the payload.
    fn topic_account_region(&self) -> (Option<String>, Option<String>) {
        let arn = self.envelope.and_then(|envelope| wire::Arn::parse(&envelope.topic_arn));
        let non_empty = |text: &str| (!text.is_empty()).then(|| text.to_owned());
        (arn.and_then(|arn| non_empty(arn.account)), arn.and_then(|arn| non_empty(arn.region)))
    }

    fn other(&self, other: Other) -> Inbound {
        let (account, region) = self.topic_account_region();
        Inbound {
            key: self.fallback_key(),
            account,
            region,
            time: self.time(),
            notification: Notification::Other(other),
        }
    }
}
