//! The message a CodePipeline manual-approval action publishes to its SNS
//! topic when the pipeline reaches it ("JSON data format for manual approval
//! notifications", CodePipeline user guide, approvals-json-format).
//!
//! The token is what PutApprovalResult needs and the approval's identity: the
//! dedup key is `approval:<token>` on every path. `expires` is written to the
//! minute (`2016-07-07T20:22Z`). The message has no account and no time; an
//! SNS envelope supplies them (the topic's account, its timestamp).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::wire;

/// A manual-approval action waiting for a decision (its SNS message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManualApproval {
    pub pipeline: String,
    pub stage: String,
    pub action: String,
    /// What PutApprovalResult needs.
    pub token: String,
    pub expires: Option<DateTime<Utc>>,
    pub external_entity_link: Option<String>,
    pub review_link: Option<String>,
    pub console_link: Option<String>,
    pub custom_data: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApprovalMessage {
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    console_link: Option<String>,
    approval: ApprovalBody,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApprovalBody {
    pipeline_name: String,
    stage_name: String,
    action_name: String,
    token: String,
    #[serde(default, deserialize_with = "wire::opt_time")]
    expires: Option<DateTime<Utc>>,
    #[serde(default)]
    external_entity_link: Option<String>,
    #[serde(default)]
    approval_review_link: Option<String>,
    #[serde(default)]
    custom_data: Option<String>,
}

pub(super) fn looks_like_approval(value: &Value) -> bool {
    value.get("approval").is_some_and(|approval| approval.get("token").is_some())
}

/// An approval message, read: its dedup key (`approval:<token>`), the region
/// it names, and the approval.
pub(super) type Read = (String, Option<String>, ManualApproval);

/// Reads an approval message; the error says why it could not be read.
pub(super) fn from_message(value: &Value) -> Result<Read, String> {
    let message = ApprovalMessage::deserialize(value).map_err(|error| error.to_string())?;
    let ApprovalBody {
        pipeline_name,
        stage_name,
        action_name,
        token,
        expires,
        external_entity_link,
        approval_review_link,
        custom_data,
    } = message.approval;
    let approval = ManualApproval {
        pipeline: pipeline_name,
        stage: stage_name,
        action: action_name,
        token,
        expires,
        external_entity_link,
        review_link: approval_review_link,
        console_link: message.console_link,
        custom_data,
    };
    Ok((format!("approval:{}", approval.token), message.region, approval))
}
