//! The vocabulary every parser in `event` produces: [`Inbound`] (one
//! notification with its dedup key, account, region and time), the
//! [`Notification`] it carries, and the [`Kind`] routes match on.
//!
//! It names the kinds' own types (`pipeline`, `approval`, `alarm`, `ecs`,
//! `ssm`, `other`) and none of their parsers, so those modules never import it:
//! only the assembling modules (`delivery`, `eventbridge`, the module root) do.

use chrono::{DateTime, Utc};

use super::alarm::AlarmChange;
use super::approval::ManualApproval;
use super::ecs::{EcsDeployment, EcsServiceAction};
use super::other::Other;
use super::pipeline::{PipelineAction, PipelineExecution, PipelineStage};
use super::ssm::{AutomationExecution, ParameterChange};

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

    /// The ARN of the resource whose tags routes may test: the alarm, the
    /// ECS service, or the pipeline (its ARN made from the event's `account`
    /// and `region`, in the `aws` partition); `None` for other kinds.
    pub fn resource_arn(&self, account: Option<&str>, region: Option<&str>) -> Option<String> {
        let pipeline = |name: &str| Some(format!("arn:aws:codepipeline:{}:{}:{name}", region?, account?));
        match self {
            Notification::Alarm(n) => Some(n.arn.clone()),
            Notification::EcsDeployment(n) => Some(n.service_arn.clone()),
            Notification::EcsServiceAction(n) => Some(n.service_arn.clone()),
            Notification::PipelineExecution(_)
            | Notification::PipelineStage(_)
            | Notification::PipelineAction(_)
            | Notification::ManualApproval(_) => pipeline(self.name()),
            Notification::ParameterChange(_) | Notification::Automation(_) | Notification::Other(_) => None,
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
