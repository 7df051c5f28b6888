//! EventBridge events as the simulated account emits them: the envelope
//! every one shares, for the demo's story (`story.rs`) and for the events
//! changes made in the account send (`pipelines/ports.rs`: a decided
//! approval).

use serde_json::{Value, json};

use super::account::{ACCOUNT_ID, REGION};
use opsbot_commands::ports::Time;

/// One event: `detail-type` from `source` about `resource`, at `at`.
pub fn event(id: &str, at: Time, detail_type: &str, source: &str, resource: String, detail: Value) -> String {
    json!({"version": "0", "id": id, "detail-type": detail_type, "source": source, "account": ACCOUNT_ID,
        "time": at.to_rfc3339(), "region": REGION, "resources": [resource], "detail": detail})
    .to_string()
}

/// CodePipeline's event for a manual approval decided: the action `SUCCEEDED`
/// when approved, `FAILED` when rejected.
pub fn approval_decided(
    pipeline: &str,
    execution: &str,
    stage: &str,
    action: &str,
    approved: bool,
    at: Time,
) -> String {
    let detail = json!({"pipeline": pipeline, "execution-id": execution, "stage": stage, "action": action,
        "state": if approved { "SUCCEEDED" } else { "FAILED" }, "version": 1,
        "type": {"owner": "AWS", "category": "Approval", "provider": "Manual", "version": "1"}});
    let arn = format!("arn:aws:codepipeline:{REGION}:{ACCOUNT_ID}:{pipeline}");
    let id = format!("decided-{execution}-{stage}-{action}");
    event(&id, at, "CodePipeline Action Execution State Change", "aws.codepipeline", arn, detail)
}
