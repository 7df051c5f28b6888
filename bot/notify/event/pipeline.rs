//! CodePipeline: pipeline, stage and action execution state changes
//! (EventBridge events, and the "processed" form CodeStar Notifications
//! publishes to SNS).
//!
//! Shapes: "Monitoring CodePipeline events" (CodePipeline user guide,
//! detect-state-changes-cloudwatch-events), including the processed form's
//! `additionalAttributes` (failed stage and actions). Fields the documented examples show only sometimes are `Option`.
//! States are typed, but a state AWS adds later reads as
//! [`ExecutionState::Unknown`] rather than losing the event.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::wire;

pub(super) const EXECUTION_CHANGE: &str = "CodePipeline Pipeline Execution State Change";
pub(super) const STAGE_CHANGE: &str = "CodePipeline Stage Execution State Change";
pub(super) const ACTION_CHANGE: &str = "CodePipeline Action Execution State Change";

/// A pipeline, stage or action execution state (stored as CodePipeline spells it).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(from = "String", into = "String")]
pub enum ExecutionState {
    Started,
    Stopping,
    Stopped,
    Succeeded,
    Resumed,
    Failed,
    Canceled,
    Superseded,
    Abandoned,
    Unknown(String),
}

impl From<String> for ExecutionState {
    fn from(text: String) -> Self {
        match text.as_str() {
            "STARTED" => ExecutionState::Started,
            "STOPPING" => ExecutionState::Stopping,
            "STOPPED" => ExecutionState::Stopped,
            "SUCCEEDED" => ExecutionState::Succeeded,
            "RESUMED" => ExecutionState::Resumed,
            "FAILED" => ExecutionState::Failed,
            "CANCELED" => ExecutionState::Canceled,
            "SUPERSEDED" => ExecutionState::Superseded,
            "ABANDONED" => ExecutionState::Abandoned,
            _ => ExecutionState::Unknown(text),
        }
    }
}

impl From<ExecutionState> for String {
    fn from(state: ExecutionState) -> String {
        state.as_str().to_owned()
    }
}

impl ExecutionState {
    /// CodePipeline's spelling (`STARTED`, ...).
    pub fn as_str(&self) -> &str {
        match self {
            ExecutionState::Started => "STARTED",
            ExecutionState::Stopping => "STOPPING",
            ExecutionState::Stopped => "STOPPED",
            ExecutionState::Succeeded => "SUCCEEDED",
            ExecutionState::Resumed => "RESUMED",
            ExecutionState::Failed => "FAILED",
            ExecutionState::Canceled => "CANCELED",
            ExecutionState::Superseded => "SUPERSEDED",
            ExecutionState::Abandoned => "ABANDONED",
            ExecutionState::Unknown(text) => text,
        }
    }

    /// Whether nothing follows this state (an unknown one counts as ended).
    pub fn ended(&self) -> bool {
        !matches!(self, ExecutionState::Started | ExecutionState::Resumed | ExecutionState::Stopping)
    }
}

impl ExecutionTrigger {
    /// Who or what started the execution, in words: the trigger type, then
    /// the commit (short id, first line of its message, author) or the detail.
    pub fn describe(&self) -> Option<String> {
        let kind = self.trigger_type.as_deref()?;
        let commit = self.commit_id.as_deref().map(|id| {
            let short = id.get(..7).unwrap_or(id);
            let message = self.commit_message.as_deref().and_then(|m| m.lines().next()).map(|m| format!(" “{m}”"));
            let author = self.author_display_name.as_deref().map(|a| format!(" by {a}"));
            format!("commit {short}{}{}", message.unwrap_or_default(), author.unwrap_or_default())
        });
        let detail = commit.or_else(|| self.trigger_detail.clone());
        Some(match detail {
            Some(detail) => format!("{kind}: {detail}"),
            None => kind.to_owned(),
        })
    }
}

/// "CodePipeline Pipeline Execution State Change".
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PipelineExecution {
    pub pipeline: String,
    pub execution_id: String,
    pub state: ExecutionState,
    /// The pipeline structure's version.
    #[serde(default, deserialize_with = "wire::opt_count")]
    pub version: Option<u64>,
    #[serde(default, deserialize_with = "wire::opt_time")]
    pub start_time: Option<DateTime<Utc>>,
    #[serde(default)]
    pub execution_trigger: Option<ExecutionTrigger>,
    #[serde(default, rename = "pipeline-execution-attempt", deserialize_with = "wire::opt_count")]
    pub attempt: Option<u64>,
    #[serde(default, rename = "stop-execution-comments")]
    pub stop_comments: Option<String>,
    /// The processed (CodeStar Notifications) form of a FAILED event only.
    #[serde(skip)]
    pub failure: Option<PipelineFailure>,
}

/// Who or what started an execution: `trigger-type`/`trigger-detail`, or for
/// Git triggers the commit (`tag-name` or `branch-name`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ExecutionTrigger {
    pub trigger_type: Option<String>,
    pub trigger_detail: Option<String>,
    pub provider_type: Option<String>,
    pub full_repository_name: Option<String>,
    pub branch_name: Option<String>,
    pub tag_name: Option<String>,
    pub commit_id: Option<String>,
    pub commit_message: Option<String>,
    pub author_display_name: Option<String>,
}

/// Where a failed execution failed (processed form's `additionalAttributes`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PipelineFailure {
    #[serde(rename = "failedStage")]
    pub stage: Option<String>,
    #[serde(default, rename = "failedActions")]
    pub actions: Vec<FailedAction>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailedAction {
    pub action: String,
    #[serde(default, rename = "additionalInformation")]
    pub information: Option<String>,
}

/// "CodePipeline Stage Execution State Change".
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PipelineStage {
    pub pipeline: String,
    pub execution_id: String,
    pub stage: String,
    pub state: ExecutionState,
    #[serde(default, deserialize_with = "wire::opt_count")]
    pub version: Option<u64>,
    #[serde(default, deserialize_with = "wire::opt_time")]
    pub start_time: Option<DateTime<Utc>>,
    #[serde(default, rename = "pipeline-execution-attempt", deserialize_with = "wire::opt_count")]
    pub attempt: Option<u64>,
    /// Present on every stage event after the stage was retried.
    #[serde(default, rename = "stage-last-retry-attempt-time", deserialize_with = "wire::opt_time")]
    pub last_retry_at: Option<DateTime<Utc>>,
}

/// "CodePipeline Action Execution State Change".
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PipelineAction {
    pub pipeline: String,
    pub execution_id: String,
    pub stage: String,
    pub action: String,
    pub state: ExecutionState,
    #[serde(default)]
    pub action_execution_id: Option<String>,
    #[serde(default, rename = "type")]
    pub action_type: Option<ActionType>,
    /// The action's region (may differ from the pipeline's, the event's `region`).
    #[serde(default, rename = "region")]
    pub action_region: Option<String>,
    #[serde(default, rename = "execution-result")]
    pub result: Option<ExecutionResult>,
    #[serde(default, deserialize_with = "wire::opt_count")]
    pub version: Option<u64>,
    #[serde(default, deserialize_with = "wire::opt_time")]
    pub start_time: Option<DateTime<Utc>>,
    #[serde(default, rename = "pipeline-execution-attempt", deserialize_with = "wire::opt_count")]
    pub attempt: Option<u64>,
    /// The processed form's `additionalAttributes.additionalInformation`.
    #[serde(skip)]
    pub additional_information: Option<String>,
}

/// The action's type: owner (AWS, ThirdParty, Custom), category (Source,
/// Build, Deploy, Approval, ...), provider (CodeDeploy, Manual, ...).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ActionType {
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub provider: String,
    #[serde(default, deserialize_with = "wire::opt_text")]
    pub version: Option<String>,
}

/// What the action's provider reported (on success and on failure).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ExecutionResult {
    pub external_execution_id: Option<String>,
    pub external_execution_url: Option<String>,
    pub external_execution_summary: Option<String>,
    pub error_code: Option<String>,
}

pub(super) fn execution(detail: Value, additional: Option<Value>) -> Result<PipelineExecution, String> {
    let mut execution: PipelineExecution = wire::read(detail)?;
    execution.failure = additional
        .and_then(|attributes| serde_json::from_value::<PipelineFailure>(attributes).ok())
        .filter(|failure| failure.stage.is_some() || !failure.actions.is_empty());
    Ok(execution)
}

pub(super) fn stage(detail: Value) -> Result<PipelineStage, String> {
    wire::read(detail)
}

pub(super) fn action(detail: Value, additional: Option<Value>) -> Result<PipelineAction, String> {
    let mut action: PipelineAction = wire::read(detail)?;
    action.additional_information = additional
        .as_ref()
        .and_then(|attributes| attributes.get("additionalInformation"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(action)
}
