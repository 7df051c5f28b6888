//! [`PipelineChanges`] with CodePipeline: StartPipelineExecution,
//! RetryStageExecution (FAILED_ACTIONS), StopPipelineExecution and
//! PutApprovalResult, one call each, never retried by us beyond the SDK's
//! own retries of throttling and transient errors.
//!
//! Errors that mean "what you acted on moved on" become
//! [`Applied::TooLate`], news for the user rather than a fault:
//! - approvals: `InvalidApprovalTokenException` (expired, or a newer
//!   execution holds the approval), `ApprovalAlreadyCompletedException`;
//! - retries: `StageNotRetryableException`, `NotLatestPipelineExecutionException`;
//! - stops: `PipelineExecutionNotStoppableException`, `DuplicatedStopRequestException`.
//!
//! Everything else goes through the shared mapping (`errors.rs`); missing
//! pipelines, stages, actions and executions are `NotFound` naming them.

use async_trait::async_trait;
use aws_sdk_codepipeline::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_codepipeline::operation::RequestId;
use aws_sdk_codepipeline::types::{ApprovalResult, ApprovalStatus, StageRetryMode};
use opsbot_commands::error::GatewayResult;
use opsbot_commands::ports::{Applied, ApprovalDecision, PipelineChanges, Receipt, WaitingApproval};
use opsbot_commands::values::PipelineName;

use super::AwsPipelines;
use crate::aws::errors::{OrGateway, code_of, gateway_error};

const APPROVAL_GONE: &[&str] = &["InvalidApprovalTokenException", "ApprovalAlreadyCompletedException"];
const NOT_RETRYABLE: &[&str] = &["StageNotRetryableException", "NotLatestPipelineExecutionException"];
const NOT_STOPPABLE: &[&str] = &["PipelineExecutionNotStoppableException", "DuplicatedStopRequestException"];

#[async_trait]
impl PipelineChanges for AwsPipelines {
    async fn start(&self, name: &PipelineName) -> GatewayResult<(String, Receipt)> {
        let started = self.client().start_pipeline_execution().name(name.as_str()).send().await;
        let started = started.or_gateway(&format!("pipeline `{name}`"))?;
        let receipt = receipt(&started);
        Ok((started.pipeline_execution_id.unwrap_or_default(), receipt))
    }

    async fn retry_stage(&self, name: &PipelineName, stage: &str, execution_id: &str) -> GatewayResult<Applied> {
        let retry = self.client().retry_stage_execution().pipeline_name(name.as_str()).stage_name(stage);
        let retry = retry.pipeline_execution_id(execution_id).retry_mode(StageRetryMode::FailedActions);
        applied(retry.send().await, NOT_RETRYABLE, &format!("stage `{stage}` of pipeline `{name}`"))
    }

    async fn stop(
        &self,
        name: &PipelineName,
        execution_id: &str,
        abandon: bool,
        reason: &str,
    ) -> GatewayResult<Applied> {
        let stop = self.client().stop_pipeline_execution().pipeline_name(name.as_str());
        let stop = stop.pipeline_execution_id(execution_id).abandon(abandon).reason(reason);
        applied(stop.send().await, NOT_STOPPABLE, &format!("execution {execution_id} of pipeline `{name}`"))
    }

    async fn put_approval(
        &self,
        name: &PipelineName,
        approval: &WaitingApproval,
        decision: ApprovalDecision,
        summary: &str,
    ) -> GatewayResult<Applied> {
        let status = match decision {
            ApprovalDecision::Approve => ApprovalStatus::Approved,
            ApprovalDecision::Reject => ApprovalStatus::Rejected,
        };
        let result = ApprovalResult::builder().status(status).summary(summary).build();
        let result = result.map_err(|err| opsbot_commands::GatewayError::other("approval result", err))?;
        let put = self.client().put_approval_result().pipeline_name(name.as_str()).stage_name(&approval.stage);
        let put = put.action_name(&approval.action).token(&approval.token).result(result);
        let what = format!("approval {}/{} of pipeline `{name}`", approval.stage, approval.action);
        applied(put.send().await, APPROVAL_GONE, &what)
    }
}

fn receipt(output: &impl RequestId) -> Receipt {
    Receipt { request_id: output.request_id().map(str::to_owned) }
}

/// `Done` with the request id, `TooLate` for the codes in `too_late`, else the shared mapping.
fn applied<T, E, R>(result: Result<T, SdkError<E, R>>, too_late: &[&str], what: &str) -> GatewayResult<Applied>
where
    T: RequestId,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(output) => Ok(Applied::Done(receipt(&output))),
        Err(err) if code_of(&err).is_some_and(|code| too_late.contains(&code)) => {
            tracing::info!(code = code_of(&err), what, "CodePipeline: too late for this change");
            Ok(Applied::TooLate)
        }
        Err(err) => Err(gateway_error(err, what)),
    }
}

#[cfg(test)]
#[path = "codepipeline_changes_tests.rs"]
mod tests;
