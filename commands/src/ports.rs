//! Ports: what the commands need from the outside world, in our words
//! (CONVENTIONS #9). `bot/aws/*` implements them with the AWS SDK, `bot/sandbox`
//! with an in-process simulated account (demo and scenario tests).
//!
//! Invariants every implementation keeps:
//! - Lists are complete: implementations follow every page.
//! - SecureString values never cross a port: [`ParamValue::Masked`] is all a
//!   gateway may return for them (the AWS gateway never asks for decryption).
//! - Times are UTC; a missing time is `None`, never "now".

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::GatewayResult;

pub mod chat;
pub mod store;
use crate::values::{AlarmPrefix, ClusterName, ParamName, ParamPath, PipelineName, ServiceRef};

pub type Time = DateTime<Utc>;

// ---------------------------------------------------------------- CodePipeline

#[async_trait]
pub trait Pipelines: Send + Sync {
    /// Every pipeline with its latest execution, if it ever ran.
    async fn list(&self) -> GatewayResult<Vec<PipelineSummary>>;
    /// Stages and actions of one pipeline, with its latest execution's details.
    async fn state(&self, name: &PipelineName) -> GatewayResult<PipelineState>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecStatus {
    InProgress,
    Succeeded,
    Failed,
    Stopped,
    Stopping,
    Superseded,
    Cancelled,
    Abandoned,
    Other(String),
}

impl ExecStatus {
    /// Maps CodePipeline's status strings (`InProgress`, `Succeeded`, ...).
    pub fn from_aws(raw: &str) -> Self {
        match raw {
            "InProgress" => Self::InProgress,
            "Succeeded" => Self::Succeeded,
            "Failed" => Self::Failed,
            "Stopped" => Self::Stopped,
            "Stopping" => Self::Stopping,
            "Superseded" => Self::Superseded,
            "Cancelled" => Self::Cancelled,
            "Abandoned" => Self::Abandoned,
            other => Self::Other(other.to_owned()),
        }
    }

    pub fn label(&self) -> &str {
        match self {
            Self::InProgress => "In progress",
            Self::Succeeded => "Succeeded",
            Self::Failed => "Failed",
            Self::Stopped => "Stopped",
            Self::Stopping => "Stopping",
            Self::Superseded => "Superseded",
            Self::Cancelled => "Cancelled",
            Self::Abandoned => "Abandoned",
            Self::Other(raw) => raw,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineSummary {
    pub name: PipelineName,
    pub latest: Option<Execution>,
}

/// One pipeline execution as far as it is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execution {
    pub id: String,
    pub status: ExecStatus,
    pub started: Option<Time>,
    /// Last status change; with `started` it gives the duration.
    pub updated: Option<Time>,
    /// Who or what started it, e.g. "Webhook", "StartPipelineExecution by alice".
    pub trigger: Option<String>,
    pub revisions: Vec<SourceRevision>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRevision {
    /// Source action (artifact) name.
    pub action: String,
    /// Commit id or object version.
    pub id: String,
    /// Commit message or summary, if the source provides one.
    pub summary: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineState {
    pub name: PipelineName,
    pub latest: Option<Execution>,
    pub stages: Vec<StageState>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageState {
    pub name: String,
    pub status: Option<ExecStatus>,
    pub actions: Vec<ActionState>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionCategory {
    Source,
    Build,
    Test,
    Deploy,
    Approval,
    Invoke,
    Other(String),
}

impl ActionCategory {
    pub fn from_aws(raw: &str) -> Self {
        match raw {
            "Source" => Self::Source,
            "Build" => Self::Build,
            "Test" => Self::Test,
            "Deploy" => Self::Deploy,
            "Approval" => Self::Approval,
            "Invoke" => Self::Invoke,
            other => Self::Other(other.to_owned()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionState {
    pub name: String,
    pub category: ActionCategory,
    /// `None` when the action never ran.
    pub status: Option<ExecStatus>,
    pub last_change: Option<Time>,
    pub summary: Option<String>,
    pub error: Option<ActionError>,
    pub external_url: Option<String>,
}

impl ActionState {
    /// A manual approval waiting for someone's decision.
    pub fn awaits_approval(&self) -> bool {
        self.category == ActionCategory::Approval && self.status == Some(ExecStatus::InProgress)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionError {
    pub code: Option<String>,
    pub message: String,
}

// ------------------------------------------------------------------------ ECS

#[async_trait]
pub trait Services: Send + Sync {
    /// Services of one cluster, or of every cluster when `None`.
    async fn list(&self, cluster: Option<&ClusterName>) -> GatewayResult<Vec<ServiceSummary>>;
    async fn describe(&self, service: &ServiceRef) -> GatewayResult<ServiceDetail>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSummary {
    pub service: ServiceRef,
    /// ACTIVE, DRAINING or INACTIVE.
    pub status: String,
    pub desired: i32,
    pub running: i32,
    pub pending: i32,
    pub task_definition: TaskDefinitionRef,
    /// Rollout state of the PRIMARY deployment.
    pub rollout: Option<RolloutState>,
}

/// `family:revision` of a task definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskDefinitionRef {
    pub family: String,
    pub revision: i32,
}

impl TaskDefinitionRef {
    /// From an ARN (`arn:aws:ecs:...:task-definition/web:42`) or `web:42`.
    pub fn from_aws(raw: &str) -> Option<Self> {
        let tail = raw.rsplit('/').next()?;
        let (family, revision) = tail.rsplit_once(':')?;
        Some(TaskDefinitionRef { family: family.to_owned(), revision: revision.parse().ok()? })
    }
}

impl std::fmt::Display for TaskDefinitionRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.family, self.revision)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RolloutState {
    InProgress,
    Completed,
    Failed,
    Other(String),
}

impl RolloutState {
    pub fn from_aws(raw: &str) -> Self {
        match raw {
            "IN_PROGRESS" => Self::InProgress,
            "COMPLETED" => Self::Completed,
            "FAILED" => Self::Failed,
            other => Self::Other(other.to_owned()),
        }
    }

    pub fn label(&self) -> &str {
        match self {
            Self::InProgress => "rolling out",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Other(raw) => raw,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceDetail {
    pub summary: ServiceSummary,
    /// Container name and image of the service's current task definition.
    pub containers: Vec<Container>,
    /// PRIMARY first, then ACTIVE (older) deployments.
    pub deployments: Vec<Deployment>,
    /// Newest first.
    pub events: Vec<ServiceEvent>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    pub name: String,
    pub image: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    pub id: String,
    /// PRIMARY, ACTIVE or INACTIVE.
    pub status: String,
    pub task_definition: Option<TaskDefinitionRef>,
    pub rollout: Option<RolloutState>,
    pub rollout_reason: Option<String>,
    pub desired: i32,
    pub running: i32,
    pub pending: i32,
    pub failed_tasks: i32,
    pub created: Option<Time>,
    pub updated: Option<Time>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEvent {
    pub at: Option<Time>,
    pub message: String,
}

// ----------------------------------------------------------------- CloudWatch

#[async_trait]
pub trait Alarms: Send + Sync {
    /// Metric and composite alarms whose name starts with `prefix` (all when
    /// `None`), in every state.
    async fn list(&self, prefix: Option<&AlarmPrefix>) -> GatewayResult<Vec<Alarm>>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlarmState {
    Ok,
    Alarm,
    InsufficientData,
}

impl AlarmState {
    pub fn from_aws(raw: &str) -> Option<Self> {
        match raw {
            "OK" => Some(Self::Ok),
            "ALARM" => Some(Self::Alarm),
            "INSUFFICIENT_DATA" => Some(Self::InsufficientData),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alarm {
    pub name: String,
    pub arn: Option<String>,
    pub state: AlarmState,
    pub reason: Option<String>,
    /// When the alarm entered its current state.
    pub since: Option<Time>,
    /// `Namespace MetricName`, for metric alarms.
    pub metric: Option<String>,
}

// ------------------------------------------------------------ Parameter Store

#[async_trait]
pub trait Params: Send + Sync {
    async fn get(&self, name: &ParamName) -> GatewayResult<Parameter>;
    /// Every parameter under `path`, recursively, sorted by name.
    async fn by_path(&self, path: &ParamPath) -> GatewayResult<Vec<Parameter>>;
    /// Every version, oldest first.
    async fn history(&self, name: &ParamName) -> GatewayResult<Vec<ParamVersion>>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamKind {
    String,
    StringList,
    SecureString,
}

impl ParamKind {
    pub fn from_aws(raw: &str) -> Self {
        match raw {
            "SecureString" => Self::SecureString,
            "StringList" => Self::StringList,
            _ => Self::String,
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Self::String => "String",
            Self::StringList => "StringList",
            Self::SecureString => "SecureString",
        }
    }
}

/// A parameter's value as it may be shown: SecureString values are never
/// fetched in clear, so there is nothing secret to leak.
#[derive(Clone, PartialEq, Eq)]
pub enum ParamValue {
    Plain(String),
    Masked,
}

impl ParamValue {
    /// The value for a parameter of `kind`: masked whenever it is a SecureString.
    pub fn of(kind: &ParamKind, raw: Option<String>) -> Self {
        match (kind, raw) {
            (ParamKind::SecureString, _) | (_, None) => Self::Masked,
            (_, Some(value)) => Self::Plain(value),
        }
    }
}

impl std::fmt::Debug for ParamValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Plain(v) => write!(f, "Plain({v:?})"),
            Self::Masked => f.write_str("Masked"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    pub name: String,
    pub kind: ParamKind,
    pub value: ParamValue,
    pub version: i64,
    pub last_modified: Option<Time>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamVersion {
    pub version: i64,
    pub kind: ParamKind,
    pub value: ParamValue,
    pub modified: Option<Time>,
    /// IAM ARN of whoever wrote this version.
    pub modified_by: Option<String>,
    pub labels: Vec<String>,
    pub description: Option<String>,
}

// ---------------------------------------------------------------- changes

/// What an AWS call that changed something left behind.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Receipt {
    /// AWS's request id (`x-amzn-RequestId`), for the audit log.
    pub request_id: Option<String>,
}

/// Changes to ECS services.
#[async_trait]
pub trait ServiceChanges: Send + Sync {
    /// Sets the service's desired task count.
    async fn scale(&self, service: &ServiceRef, desired: i32) -> GatewayResult<Receipt>;
}

/// Everything the commands reach, bundled for the pipeline.
#[derive(Clone)]
pub struct Gateways {
    pub pipelines: std::sync::Arc<dyn Pipelines>,
    pub services: std::sync::Arc<dyn Services>,
    pub alarms: std::sync::Arc<dyn Alarms>,
    pub params: std::sync::Arc<dyn Params>,
    pub service_changes: std::sync::Arc<dyn ServiceChanges>,
}
