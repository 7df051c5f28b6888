//! Systems Manager: "Parameter Store Change" and "EC2 Automation Execution
//! Status-change Notification" events ("Amazon EventBridge event examples for
//! Systems Manager", SSM user guide).
//!
//! A Parameter Store event names the parameter and the operation, never the
//! value; [`ParameterChange`] has no field that could hold one.
//! Automation times are written "Nov 29, 2016 7:43:25 PM" (read as UTC).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::wire;

pub(super) const PARAMETER_CHANGE: &str = "Parameter Store Change";
pub(super) const AUTOMATION_EXECUTION_CHANGE: &str = "EC2 Automation Execution Status-change Notification";

/// Create, Update, Delete or LabelParameterVersion; another word reads as `Unknown`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "String")]
pub enum ParameterOperation {
    Create,
    Update,
    Delete,
    LabelParameterVersion,
    Unknown(String),
}

impl From<String> for ParameterOperation {
    fn from(text: String) -> Self {
        match text.as_str() {
            "Create" => ParameterOperation::Create,
            "Update" => ParameterOperation::Update,
            "Delete" => ParameterOperation::Delete,
            "LabelParameterVersion" => ParameterOperation::LabelParameterVersion,
            _ => ParameterOperation::Unknown(text),
        }
    }
}

/// A parameter was created, updated, deleted or labelled.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ParameterChange {
    pub name: String,
    pub operation: ParameterOperation,
    /// String, StringList or SecureString.
    #[serde(default, rename = "type")]
    pub parameter_type: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// An Automation execution changed status (Success, Failed, TimedOut, ...).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AutomationExecution {
    pub execution_id: String,
    /// The Automation document (runbook) name.
    #[serde(rename = "Definition")]
    pub document: String,
    #[serde(default, rename = "DefinitionVersion", deserialize_with = "wire::opt_text")]
    pub document_version: Option<String>,
    pub status: String,
    #[serde(default, rename = "StartTime", deserialize_with = "wire::opt_time")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, rename = "EndTime", deserialize_with = "wire::opt_time")]
    pub ended_at: Option<DateTime<Utc>>,
    /// The IAM identity that started it.
    #[serde(default)]
    pub executed_by: Option<String>,
}

pub(super) fn parameter(detail: Value) -> Result<ParameterChange, String> {
    wire::read(detail)
}

pub(super) fn automation(detail: Value) -> Result<AutomationExecution, String> {
    wire::read(detail)
}
