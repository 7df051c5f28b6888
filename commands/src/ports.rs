//! Ports: what the commands need from the outside world, in our words
//! (CONVENTIONS #9). `bot/aws/*` implements them with the AWS SDK, `bot/sandbox`
//! with an in-process simulated account (demo and scenario tests).
//!
//! Invariants every implementation keeps:
//! - Lists are complete: implementations follow every page.
//! - SecureString values never cross a port: [`ParamValue::Masked`] is all a
//!   gateway may return for them, and [`Fingerprint::Hash`] all that
//!   [`Params::fingerprints`] (the one read that decrypts) may.
//! - Times are UTC; a missing time is `None`, never "now".
//! - A value on its way in travels as [`NewValue`], which never prints;
//!   [`ParamChanges::restore`] copies an old value without bringing it out.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::error::{GatewayError, GatewayResult};

pub mod alerts;
pub mod chat;
pub mod observe;
pub mod store;
use crate::hooks::ParamHooks;
use crate::target::{AccountNames, Target};
use crate::values::ssm::{DocParams, DocumentName, ExecutionId, Targets};
use crate::values::{AlarmPrefix, ClusterName, ParamName, ParamPath, PipelineName, ServiceRef, SlackUserId};

pub type Time = DateTime<Utc>;

/// Where the time is read outside a request (a request brings its own `now`);
/// tests move it.
pub type Clock = std::sync::Arc<dyn Fn() -> Time + Send + Sync>;

/// The clock outside tests: the system's.
pub fn system_clock() -> Clock {
    std::sync::Arc::new(Utc::now)
}

// ---------------------------------------------------------------- CodePipeline

#[async_trait]
pub trait Pipelines: Send + Sync {
    /// Every pipeline with its latest execution, if it ever ran.
    async fn list(&self) -> GatewayResult<Vec<PipelineSummary>>;
    /// Stages and actions of one pipeline, with its latest execution's details.
    async fn state(&self, name: &PipelineName) -> GatewayResult<PipelineState>;
    /// One execution by id (`GetPipelineExecution`: status and trigger; no times).
    async fn execution(&self, name: &PipelineName, id: &str) -> GatewayResult<Execution>;
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
    /// The execution the stage's latest state belongs to — not always the
    /// pipeline's latest (an older one may wait at an approval further on).
    pub execution_id: Option<String>,
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
    /// The token of a manual approval waiting for a decision (what
    /// `PutApprovalResult` needs); `None` for every other action.
    pub token: Option<String>,
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

/// Changes to CodePipeline executions. Calls that act on something that may
/// have moved on meanwhile (an approval decided elsewhere, a stage no longer
/// failed, an execution no longer running) answer [`Applied::TooLate`]
/// instead of an error: that is news for the user, not a fault.
#[async_trait]
pub trait PipelineChanges: Send + Sync {
    /// Starts a new execution from the latest source revision; returns its id.
    async fn start(&self, name: &PipelineName) -> GatewayResult<(String, Receipt)>;
    /// Retries the failed actions of `stage` in `execution_id` (the stage's
    /// latest execution), which keeps its id.
    async fn retry_stage(&self, name: &PipelineName, stage: &str, execution_id: &str) -> GatewayResult<Applied>;
    /// Stops `execution_id`: in-progress actions finish first, or with
    /// `abandon` are abandoned. `reason` is kept with the execution (≤ 200 chars).
    async fn stop(
        &self,
        name: &PipelineName,
        execution_id: &str,
        abandon: bool,
        reason: &str,
    ) -> GatewayResult<Applied>;
    /// Answers the manual approval `approval`; `summary` (≤ 512 chars) is kept
    /// with the action. Called once per decision.
    async fn put_approval(
        &self,
        name: &PipelineName,
        approval: &WaitingApproval,
        decision: ApprovalDecision,
        summary: &str,
    ) -> GatewayResult<Applied>;
}

/// A manual approval waiting for a decision, as `GetPipelineState` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingApproval {
    pub stage: String,
    pub action: String,
    pub token: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalDecision {
    Approve,
    Reject,
}

/// What a pipeline change came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    Done(Receipt),
    /// What it acted on changed meanwhile: the approval was decided elsewhere
    /// or expired, the stage is no longer retryable, the execution no longer
    /// running. Nothing was changed.
    TooLate,
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

/// Reads the tasks a deployment stopped: why a failed rollout failed
/// (`cmd::stopped_tasks` words it). ECS keeps stopped tasks for about an
/// hour, so an empty list is a normal answer for an old deployment.
#[async_trait]
pub trait StoppedTasks: Send + Sync {
    /// The stopped tasks of `service` in `cluster` that deployment `deployment` started.
    async fn stopped_tasks(&self, cluster: &str, service: &str, deployment: &str) -> GatewayResult<Vec<StoppedTask>>;
}

/// A stopped task as far as its failure goes: never its environment or overrides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoppedTask {
    pub stopped_reason: Option<String>,
    pub containers: Vec<StoppedContainer>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoppedContainer {
    pub name: String,
    pub exit_code: Option<i32>,
    pub reason: Option<String>,
}

// ----------------------------------------------------------------- CloudWatch

#[async_trait]
pub trait Alarms: Send + Sync {
    /// Metric and composite alarms whose name starts with `prefix` (all when
    /// `None`), in every state.
    async fn list(&self, prefix: Option<&AlarmPrefix>) -> GatewayResult<Vec<Alarm>>;

    /// Alarms in ALARM that watch `service` (see [`Alarm::watches`]).
    /// Gateways that can ask for firing alarms only should do so.
    async fn firing_on(&self, service: &ServiceRef) -> GatewayResult<Vec<Alarm>> {
        let all = self.list(None).await?;
        Ok(all.into_iter().filter(|a| a.state == AlarmState::Alarm && a.watches(service)).collect())
    }
}

/// A CloudWatch alarm's state; serde and [`AlarmState::as_str`] use
/// CloudWatch's spelling (`OK`, `ALARM`, `INSUFFICIENT_DATA`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlarmState {
    Ok,
    Alarm,
    InsufficientData,
}

impl AlarmState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::Alarm => "ALARM",
            Self::InsufficientData => "INSUFFICIENT_DATA",
        }
    }

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
    /// `(name, value)` dimensions of the alarm's metric — of every metric, for
    /// metric-math alarms; empty for composite alarms.
    pub dimensions: Vec<(String, String)>,
}

impl Alarm {
    /// Whether this alarm watches ECS service `service`: its metric has the
    /// dimensions `ClusterName` = the cluster and `ServiceName` = the service
    /// (AWS/ECS and Container Insights metrics are shaped like that).
    pub fn watches(&self, service: &ServiceRef) -> bool {
        let has = |name: &str, value: &str| self.dimensions.iter().any(|(n, v)| n == name && v == value);
        has("ClusterName", service.cluster.as_str()) && has("ServiceName", &service.service)
    }
}

// ------------------------------------------------------------ Parameter Store

#[async_trait]
pub trait Params: Send + Sync {
    async fn get(&self, name: &ParamName) -> GatewayResult<Parameter>;
    /// Every parameter under `path`, recursively, sorted by name.
    async fn by_path(&self, path: &ParamPath) -> GatewayResult<Vec<Parameter>>;
    /// Every version, oldest first.
    async fn history(&self, name: &ParamName) -> GatewayResult<Vec<ParamVersion>>;
    /// Every parameter under `path`, recursively, sorted by name, as
    /// compared with declared parameters: SecureStrings decrypted and hashed
    /// inside the gateway ([`fingerprint`]), descriptions included.
    async fn fingerprints(&self, path: &ParamPath) -> GatewayResult<Vec<LiveParam>>;
    /// The tags of parameter `name` (`ListTagsForResource`, one call each).
    async fn tags(&self, name: &ParamName) -> GatewayResult<ParamTags>;
}

/// A parameter's tags, key → value, in key order.
pub type ParamTags = std::collections::BTreeMap<String, String>;

/// A live parameter as `params diff` compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveParam {
    pub name: String,
    pub kind: ParamKind,
    pub value: Fingerprint,
    pub description: Option<String>,
    pub version: i64,
}

/// A value as compared: String and StringList values as they are, a
/// SecureString's only as its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fingerprint {
    Plain(String),
    Hash(String),
}

impl Fingerprint {
    /// `raw` as a parameter of `kind` is compared.
    pub fn of(kind: &ParamKind, raw: &str) -> Self {
        match kind {
            ParamKind::SecureString => Fingerprint::Hash(fingerprint(raw)),
            _ => Fingerprint::Plain(raw.to_owned()),
        }
    }

    /// Whether two values are the same, hashing a plain one to compare it
    /// with a hash (a parameter whose type changes).
    pub fn same(&self, other: &Fingerprint) -> bool {
        let hashed = |f: &Fingerprint| match f {
            Fingerprint::Plain(v) => fingerprint(v),
            Fingerprint::Hash(h) => h.clone(),
        };
        match (self, other) {
            (Fingerprint::Plain(a), Fingerprint::Plain(b)) => a == b,
            _ => hashed(self) == hashed(other),
        }
    }
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

// ------------------------------------------------- declared parameters

// Declared parameters: what a team keeps in git (or behind a URL) as the
// parameters an environment should have, and the port through which the
// commands read it ([`DeclaredParams`], implemented in `bot/declared`).
// Comparing it with Parameter Store is `cmd::drift`.
//
// # Decisions
// - A declared file never holds a secret. A SecureString names where its
//   value comes from (`from: env:NAME`, an environment variable of the bot
//   process); the source resolves it when the file is loaded into a
//   [`NewValue`], which never prints.
// - SecureStrings are compared by [`fingerprint`] only: the AWS gateway
//   hashes the decrypted value before it leaves the gateway, the declared
//   side is hashed the same way, and the hashes are compared, never shown.
// - The file is read again for every `params diff` and `params apply`, so a
//   merged change is seen without a restart.

/// One environment's declared parameters, as loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    /// The environment's name in the config (`prod`).
    pub env: String,
    /// Every live parameter under it is compared; names outside it are refused on load.
    pub prefix: ParamPath,
    /// Where it was read from (a path or URL), for messages.
    pub source: String,
    /// Sorted by name, each name once.
    pub params: Vec<DeclaredParam>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredParam {
    pub name: ParamName,
    pub kind: ParamKind,
    pub value: DeclaredValue,
    /// `None`: the description is not managed (whatever is live stays).
    pub description: Option<String>,
    /// `None`: the tags are not managed (never read, never written). `Some`:
    /// exactly these, so a live tag not among them is drift and is removed.
    pub tags: Option<ParamTags>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeclaredValue {
    /// A String or StringList value, written in the file.
    Plain(String),
    /// A SecureString's value, read from `from` (`env:NAME`) on load.
    Secret { from: String, value: NewValue },
}

impl DeclaredValue {
    /// The value to write.
    pub fn new_value(&self) -> NewValue {
        match self {
            DeclaredValue::Plain(v) => NewValue::new(v.clone()),
            DeclaredValue::Secret { value, .. } => value.clone(),
        }
    }
}

/// The hash SecureString values are compared by: SHA-256, hex. Both sides
/// hash the same bytes, so equal values have equal fingerprints.
pub fn fingerprint(value: &str) -> String {
    Sha256::digest(value.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Where declared parameters come from: the environments configured under
/// `params.environments`.
#[async_trait]
pub trait DeclaredParams: Send + Sync {
    /// Every configured environment: name and prefix, in name order.
    fn environments(&self) -> Vec<(String, ParamPath)>;
    /// Reads and checks `env`'s file now. A broken file is
    /// [`GatewayError::Invalid`], with file:line:column in its text.
    async fn load(&self, env: &str) -> GatewayResult<Declared>;
}

/// No environment configured: every lookup says how to configure one.
#[derive(Debug, Default)]
pub struct NoDeclared;

#[async_trait]
impl DeclaredParams for NoDeclared {
    fn environments(&self) -> Vec<(String, ParamPath)> {
        Vec::new()
    }

    async fn load(&self, env: &str) -> GatewayResult<Declared> {
        Err(GatewayError::not_found(format!("declared parameters for `{env}`")))
    }
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
    /// The registered revision `reference`; `None` when there is no such revision.
    async fn task_definition(&self, reference: &TaskDefinitionRef) -> GatewayResult<Option<TaskDefinition>>;
    /// Registers the next revision of `base`'s family: a copy of `base` with
    /// every setting and tag it has, except that each container named in
    /// `images` gets that image. Returns the new revision.
    async fn register_revision(
        &self,
        base: &TaskDefinitionRef,
        images: &[Container],
    ) -> GatewayResult<(TaskDefinitionRef, Receipt)>;
    /// Points the service at another revision and/or starts a new deployment.
    async fn update_service(&self, service: &ServiceRef, update: &ServiceUpdate) -> GatewayResult<ServiceUpdated>;
}

/// A registered task definition revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskDefinition {
    pub reference: TaskDefinitionRef,
    /// ACTIVE; INACTIVE once deregistered (ECS starts no new tasks from it).
    pub status: String,
    pub containers: Vec<Container>,
}

/// What `update_service` changes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceUpdate {
    /// Run this revision; `None` keeps the current one.
    pub task_definition: Option<TaskDefinitionRef>,
    /// Start a new deployment even when nothing else changes: every task is
    /// replaced (images pulled and secrets read again).
    pub force_new_deployment: bool,
}

/// What `update_service` started.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceUpdated {
    pub receipt: Receipt,
    /// The PRIMARY deployment after the update, as ECS answered; `None` when
    /// the answer named none.
    pub deployment: Option<String>,
}

// ------------------------------------------------------------- SSM changes

/// A parameter value on its way in, as the requester typed it. `Debug` never
/// shows it; only a gateway's write reads it ([`NewValue::expose`]).
#[derive(Clone, PartialEq, Eq)]
pub struct NewValue(String);

impl NewValue {
    pub fn new(value: impl Into<String>) -> Self {
        NewValue(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewValue(••••••)")
    }
}

/// What a write keeps from the parameter as it is (`DescribeParameters`), so
/// a SecureString stays encrypted under its own KMS key and an Advanced
/// parameter stays Advanced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamSettings {
    pub kind: ParamKind,
    /// The KMS key of a SecureString, as SSM reports it (`alias/aws/ssm`, a key id or ARN).
    pub key_id: Option<String>,
    /// `Standard`, `Advanced` or `Intelligent-Tiering`.
    pub tier: Option<String>,
    /// `text`, `aws:ec2:image` or `aws:ssm:integration`.
    pub data_type: Option<String>,
    pub description: Option<String>,
    /// A regex every value must match (SSM checks it on write).
    pub allowed_pattern: Option<String>,
}

/// A version written by [`ParamChanges`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamWrite {
    pub version: i64,
    pub receipt: Receipt,
}

/// Writes to Parameter Store. `by` is the Slack user the write is for: the
/// sandbox records it as the writer; the AWS gateway writes as opsbot's role.
#[async_trait]
pub trait ParamChanges: Send + Sync {
    /// Type, KMS key, tier, data type, description and pattern — never the value.
    async fn settings(&self, name: &ParamName) -> GatewayResult<ParamSettings>;
    /// Writes `value` as a new version (overwrite), keeping everything in
    /// `keep`; creates the parameter, as `keep` describes it, when missing.
    async fn put(
        &self,
        name: &ParamName,
        value: &NewValue,
        keep: &ParamSettings,
        by: &SlackUserId,
    ) -> GatewayResult<ParamWrite>;
    /// Writes the value of `version` again as a new version. The value goes
    /// from SSM back to SSM inside the gateway and never crosses this port.
    async fn restore(
        &self,
        name: &ParamName,
        version: i64,
        keep: &ParamSettings,
        by: &SlackUserId,
    ) -> GatewayResult<ParamWrite>;
    /// Sets `set` (added or overwritten) and removes `remove` on `name`'s
    /// tags (`AddTagsToResource`, `RemoveTagsFromResource`); no new version.
    async fn retag(&self, name: &ParamName, set: &ParamTags, remove: &[String]) -> GatewayResult<Receipt>;
}

/// The status of an Automation execution or step, a Run Command command or
/// one of its invocations (the four share most of SSM's words).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunStatus {
    Pending,
    InProgress,
    /// Automation: waiting for an approval or a signal; invocation: `Delayed`.
    Waiting,
    Success,
    Failed,
    TimedOut,
    Cancelling,
    Cancelled,
    Other(String),
}

impl RunStatus {
    pub fn from_aws(raw: &str) -> Self {
        match raw {
            "Pending" | "Scheduled" => Self::Pending,
            "InProgress" | "RunbookInProgress" => Self::InProgress,
            "Waiting" | "Delayed" | "PendingApproval" | "Approved" => Self::Waiting,
            "Success" | "CompletedWithSuccess" => Self::Success,
            "Failed" | "CompletedWithFailure" | "Undeliverable" | "Terminated" => Self::Failed,
            "TimedOut" | "DeliveryTimedOut" | "ExecutionTimedOut" => Self::TimedOut,
            "Cancelling" => Self::Cancelling,
            "Cancelled" | "Rejected" => Self::Cancelled,
            other => Self::Other(other.to_owned()),
        }
    }

    pub fn label(&self) -> &str {
        match self {
            Self::Pending => "pending",
            Self::InProgress => "in progress",
            Self::Waiting => "waiting",
            Self::Success => "success",
            Self::Failed => "failed",
            Self::TimedOut => "timed out",
            Self::Cancelling => "cancelling",
            Self::Cancelled => "cancelled",
            Self::Other(raw) => raw,
        }
    }

    /// Whether nothing more will happen (`Other` statuses are taken as still going).
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Success | Self::Failed | Self::TimedOut | Self::Cancelled)
    }
}

/// Something an SSM call started and that goes on after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    /// Automation execution id or Run Command command id.
    pub id: String,
    pub receipt: Receipt,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutomationRun {
    pub id: String,
    pub document: String,
    pub status: RunStatus,
    /// In the document's order.
    pub steps: Vec<AutomationStep>,
    pub started: Option<Time>,
    pub ended: Option<Time>,
    pub failure: Option<String>,
    /// IAM ARN of whoever started it.
    pub executed_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutomationStep {
    pub name: String,
    /// `aws:executeAwsApi`, `aws:runCommand`, ...
    pub action: Option<String>,
    pub status: RunStatus,
    pub failure: Option<String>,
}

/// SSM Automation.
#[async_trait]
pub trait Automations: Send + Sync {
    async fn start(&self, document: &DocumentName, parameters: &DocParams, by: &SlackUserId) -> GatewayResult<Started>;
    async fn execution(&self, id: &ExecutionId) -> GatewayResult<AutomationRun>;
    /// Executions of `document` still pending or in progress, with the
    /// parameters each was started with (to tell whether one runs on the
    /// same targets).
    async fn running(&self, document: &DocumentName) -> GatewayResult<Vec<RunningAutomation>>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningAutomation {
    pub id: String,
    pub parameters: DocParams,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandRun {
    pub id: String,
    pub document: String,
    pub status: RunStatus,
    /// Instances the command was sent to (0 until tag targets are resolved).
    pub targets: i32,
    pub completed: i32,
    pub errors: i32,
    /// One per instance, sorted by instance id.
    pub invocations: Vec<Invocation>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub instance: String,
    /// The instance's Name tag, when SSM knows it.
    pub instance_name: Option<String>,
    pub status: RunStatus,
    /// SSM's status details (`Undeliverable`, `DeliveryTimedOut`, ...).
    pub detail: Option<String>,
    /// Output of every step, as SSM keeps it for the API (its first 2,500
    /// characters per step); only when asked for.
    pub output: Option<String>,
}

/// SSM Run Command.
#[async_trait]
pub trait RunCommands: Send + Sync {
    async fn send(
        &self,
        document: &DocumentName,
        targets: &Targets,
        parameters: &DocParams,
        by: &SlackUserId,
    ) -> GatewayResult<Started>;
    /// The command and every invocation; their output only `with_output`.
    async fn status(&self, id: &str, with_output: bool) -> GatewayResult<CommandRun>;
    /// The SSM-managed instances `targets` name: those with the tag, or those
    /// of the listed ids SSM manages (an id SSM does not know is left out),
    /// sorted by id.
    async fn instances(&self, targets: &Targets) -> GatewayResult<Vec<ManagedInstance>>;
    /// Commands of `document` still pending or in progress.
    async fn running(&self, document: &DocumentName) -> GatewayResult<Vec<RunningCommand>>;
}

/// An instance SSM manages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedInstance {
    pub id: String,
    /// Whether its agent answers (`PingStatus` `Online`); otherwise what SSM
    /// says instead (`ConnectionLost`, `Inactive`).
    pub ping: String,
}

impl ManagedInstance {
    pub fn online(&self) -> bool {
        self.ping == "Online"
    }
}

/// A Run Command command that has not finished, and where it was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningCommand {
    pub id: String,
    /// Its instance ids, when it was sent to ids.
    pub instances: Vec<String>,
    /// Its tag target, when it was sent to a tag.
    pub tag: Option<Targets>,
}

/// What kind of work an SSM document describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentKind {
    /// Run Command.
    Command,
    Automation,
    /// Anything else (`Session`, `Package`, ...), as SSM names it.
    Other(String),
}

/// An SSM document as `DescribeDocument` tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub kind: DocumentKind,
    pub parameters: Vec<DocumentParameter>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentParameter {
    pub name: String,
    /// SSM requires a parameter that has no default value.
    pub required: bool,
}

/// SSM documents (shared by Run Command and Automation).
#[async_trait]
pub trait Documents: Send + Sync {
    /// The document, or `None` when this account cannot see one by that name.
    async fn document(&self, name: &DocumentName) -> GatewayResult<Option<Document>>;
}

// ---------------------------------------------------------------- Accounts

/// The gateways of the accounts and regions a command may name
/// (`aws.accounts`, `--region`, see [`crate::target`]); the bot's own account
/// in its own region (a home [`Target`]) is never asked for.
#[async_trait]
pub trait Accounts: Send + Sync {
    /// The configured account names and the default one.
    fn names(&self) -> AccountNames;
    /// Gateways reading in `target`, as the bot.
    async fn reads(&self, target: &Target) -> GatewayResult<Gateways>;
    /// Gateways changing in `target`, acting for `user` (the AWS gateway
    /// assumes the account's role with them as its source identity); an
    /// error means the change must not run.
    async fn changes(&self, target: &Target, user: &SlackUserId) -> GatewayResult<Gateways>;
}

/// No account or region but the bot's own (the sandbox, most tests).
pub struct HomeOnly;

#[async_trait]
impl Accounts for HomeOnly {
    fn names(&self) -> AccountNames {
        AccountNames::default()
    }

    async fn reads(&self, target: &Target) -> GatewayResult<Gateways> {
        Err(elsewhere(target))
    }

    async fn changes(&self, target: &Target, _user: &SlackUserId) -> GatewayResult<Gateways> {
        Err(elsewhere(target))
    }
}

fn elsewhere(target: &Target) -> crate::error::GatewayError {
    let what = target.label().unwrap_or_default();
    crate::error::GatewayError::not_found(format!("`{what}` (this opsbot acts in its own account and region only)"))
}

/// Everything the commands reach, bundled for [`crate::ops::Ops`].
#[derive(Clone)]
pub struct Gateways {
    pub pipelines: std::sync::Arc<dyn Pipelines>,
    pub services: std::sync::Arc<dyn Services>,
    pub alarms: std::sync::Arc<dyn Alarms>,
    pub params: std::sync::Arc<dyn Params>,
    pub service_changes: std::sync::Arc<dyn ServiceChanges>,
    /// Why a failed rollout's tasks stopped (`deploy`, `restart`, `rollback`).
    pub stopped_tasks: std::sync::Arc<dyn StoppedTasks>,
    pub pipeline_changes: std::sync::Arc<dyn PipelineChanges>,
    pub param_changes: std::sync::Arc<dyn ParamChanges>,
    pub automations: std::sync::Arc<dyn Automations>,
    pub run_commands: std::sync::Arc<dyn RunCommands>,
    pub documents: std::sync::Arc<dyn Documents>,
    /// What runs after a parameter change (`on_param_change`); none unless
    /// `Ops::with_param_hooks` sets them.
    pub param_hooks: std::sync::Arc<ParamHooks>,
    /// The declared parameters (`params.environments`); none unless the
    /// wiring sets them (`Wiring::with_declared` in the bot).
    pub declared: std::sync::Arc<dyn DeclaredParams>,
}
