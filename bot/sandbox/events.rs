//! EventBridge events as the simulated account emits them: the envelope
//! every one shares, for the demo's story (`story.rs`) and for what the
//! sandbox's pipelines tell as their executions move (`pipelines/told.rs`).

use serde_json::{Value, json};

use super::account::{ACCOUNT_ID, REGION};
use opsbot_commands::ports::Time;

/// One event: `detail-type` from `source` about `resource`, at `at`.
pub fn event(id: &str, at: Time, detail_type: &str, source: &str, resource: String, detail: Value) -> String {
    json!({"version": "0", "id": id, "detail-type": detail_type, "source": source, "account": ACCOUNT_ID,
        "time": at.to_rfc3339(), "region": REGION, "resources": [resource], "detail": detail})
    .to_string()
}

/// An event of `pipeline`'s execution `execution`: `detail-type` with
/// `extra` added to the detail every CodePipeline event carries.
pub fn run_event(pipeline: &str, execution: &str, id: &str, at: Time, detail_type: &str, extra: Value) -> String {
    let mut detail = json!({"pipeline": pipeline, "execution-id": execution, "version": 3});
    for (k, v) in extra.as_object().into_iter().flatten() {
        detail[k] = v.clone();
    }
    let arn = format!("arn:aws:codepipeline:{REGION}:{ACCOUNT_ID}:{pipeline}");
    event(id, at, detail_type, "aws.codepipeline", arn, detail)
}
