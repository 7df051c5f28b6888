//! CodePipeline changes against the documented shapes (API reference:
//! StartPipelineExecution, RetryStageExecution, StopPipelineExecution,
//! PutApprovalResult, GetPipelineExecution): what each call is sent, what is
//! read back, and which error codes mean "too late" rather than a fault.
//! moto implements only StartPipelineExecution and GetPipelineExecution
//! (`tests/pipeline_changes.rs`); the rest is tested only here.

use aws_sdk_codepipeline::Client;
use aws_sdk_codepipeline::config::http::HttpResponse;
use aws_sdk_codepipeline::types::{ApprovalStatus, StageRetryMode};
use aws_smithy_mocks::{Rule, mock};
use aws_smithy_types::body::SdkBody;
use opsbot_commands::GatewayError;
use opsbot_commands::ports::{ExecStatus, Pipelines};

use super::*;
use crate::aws::mocked_client;

const EXECUTION_ID: &str = "5e1a7c93-2d4b-4b8f-a6e0-9c3f1d2b7e58";
const TOKEN: &str = "3f2b6c1e-8a4d-4e5f-9b0c-1d2e3f4a5b6c";

/// A JSON answer with AWS's request id header.
fn answer(status: u16, body: String, request_id: &'static str) -> HttpResponse {
    let mut response = HttpResponse::new(status.try_into().unwrap(), SdkBody::from(body));
    response.headers_mut().insert("x-amzn-RequestId", request_id);
    response
}

fn error(code: &'static str) -> HttpResponse {
    answer(400, format!(r#"{{"__type": "{code}", "message": "{code} (documented)"}}"#), "req-error")
}

fn gateway(rule: &Rule) -> AwsPipelines {
    AwsPipelines::new(mocked_client!(aws_sdk_codepipeline, [rule]))
}

fn pay() -> PipelineName {
    PipelineName::parse("payments-api").unwrap()
}

fn approval() -> WaitingApproval {
    WaitingApproval { stage: "ApproveProd".into(), action: "ManualApproval".into(), token: TOKEN.into() }
}

const SUMMARY: &str = "Approved by Dana (U0LEAD1) via opsbot: canary is green";

#[tokio::test]
async fn a_start_returns_the_new_execution_and_the_request_id() {
    let started = mock!(Client::start_pipeline_execution)
        .match_requests(|req| req.name() == Some("payments-api"))
        .sequence()
        .http_response(|| answer(200, format!(r#"{{"pipelineExecutionId": "{EXECUTION_ID}"}}"#), "req-start"))
        .build();

    let (id, receipt) = gateway(&started).start(&pay()).await.unwrap();

    assert_eq!((id.as_str(), receipt.request_id.as_deref()), (EXECUTION_ID, Some("req-start")));
    assert_eq!(started.num_calls(), 1);
}

#[tokio::test]
async fn a_retry_sends_the_failed_stage_its_execution_and_failed_actions_mode() {
    let retried = mock!(Client::retry_stage_execution)
        .match_requests(|req| {
            (req.pipeline_name(), req.stage_name(), req.pipeline_execution_id(), req.retry_mode())
                == (Some("payments-api"), Some("Build"), Some(EXECUTION_ID), Some(&StageRetryMode::FailedActions))
        })
        .sequence()
        .http_response(|| answer(200, format!(r#"{{"pipelineExecutionId": "{EXECUTION_ID}"}}"#), "req-retry"))
        .build();

    let applied = gateway(&retried).retry_stage(&pay(), "Build", EXECUTION_ID).await.unwrap();

    assert_eq!(applied, Applied::Done(Receipt { request_id: Some("req-retry".into()) }));
}

#[tokio::test]
async fn a_stop_sends_abandon_and_the_reason() {
    let stopped = mock!(Client::stop_pipeline_execution)
        .match_requests(|req| {
            req.pipeline_execution_id() == Some(EXECUTION_ID)
                && req.abandon() == Some(true)
                && req.reason() == Some("Stopped by Dana (U0LEAD1) via opsbot")
        })
        .sequence()
        .http_response(|| answer(200, format!(r#"{{"pipelineExecutionId": "{EXECUTION_ID}"}}"#), "req-stop"))
        .build();

    let applied =
        gateway(&stopped).stop(&pay(), EXECUTION_ID, true, "Stopped by Dana (U0LEAD1) via opsbot").await.unwrap();

    assert_eq!(applied, Applied::Done(Receipt { request_id: Some("req-stop".into()) }));
}

#[tokio::test]
async fn an_approval_is_put_once_with_its_token_status_and_the_summary_naming_the_user() {
    let put = mock!(Client::put_approval_result)
        .match_requests(|req| {
            let result = req.result().unwrap();
            (req.pipeline_name(), req.stage_name(), req.action_name(), req.token())
                == (Some("payments-api"), Some("ApproveProd"), Some("ManualApproval"), Some(TOKEN))
                && (result.status(), result.summary()) == (&ApprovalStatus::Approved, SUMMARY)
        })
        .sequence()
        .http_response(|| answer(200, r#"{"approvedAt": 1763812800}"#.into(), "req-approve"))
        .build();

    let applied = gateway(&put).put_approval(&pay(), &approval(), ApprovalDecision::Approve, SUMMARY).await.unwrap();

    assert_eq!(applied, Applied::Done(Receipt { request_id: Some("req-approve".into()) }));
    assert_eq!(put.num_calls(), 1);
}

#[tokio::test]
async fn a_rejection_is_sent_as_rejected() {
    let put = mock!(Client::put_approval_result)
        .match_requests(|req| req.result().is_some_and(|r| r.status() == &ApprovalStatus::Rejected))
        .sequence()
        .http_response(|| answer(200, r#"{"approvedAt": 1763812800}"#.into(), "req-reject"))
        .build();

    let applied = gateway(&put).put_approval(&pay(), &approval(), ApprovalDecision::Reject, "no").await.unwrap();

    assert_eq!(applied, Applied::Done(Receipt { request_id: Some("req-reject".into()) }));
}

#[tokio::test]
async fn an_expired_or_already_decided_approval_is_too_late_not_an_error_and_is_not_retried() {
    for code in ["InvalidApprovalTokenException", "ApprovalAlreadyCompletedException"] {
        let put = mock!(Client::put_approval_result).sequence().http_response(move || error(code)).repeatedly().build();

        let applied = gateway(&put).put_approval(&pay(), &approval(), ApprovalDecision::Approve, SUMMARY).await;

        assert_eq!(applied.unwrap(), Applied::TooLate, "{code}");
        assert_eq!(put.num_calls(), 1, "{code}");
    }
}

#[tokio::test]
async fn a_stage_no_longer_retryable_or_an_execution_no_longer_stoppable_is_too_late() {
    for code in ["StageNotRetryableException", "NotLatestPipelineExecutionException"] {
        let retry = mock!(Client::retry_stage_execution).sequence().http_response(move || error(code)).build();
        let applied = gateway(&retry).retry_stage(&pay(), "Build", EXECUTION_ID).await.unwrap();
        assert_eq!(applied, Applied::TooLate, "{code}");
    }
    for code in ["PipelineExecutionNotStoppableException", "DuplicatedStopRequestException"] {
        let stop = mock!(Client::stop_pipeline_execution).sequence().http_response(move || error(code)).build();
        let applied = gateway(&stop).stop(&pay(), EXECUTION_ID, false, "r").await.unwrap();
        assert_eq!(applied, Applied::TooLate, "{code}");
    }
}

#[tokio::test]
async fn missing_things_are_not_found_by_name_and_other_refusals_stay_errors() {
    let missing_action =
        mock!(Client::put_approval_result).sequence().http_response(|| error("ActionNotFoundException")).build();
    let err = gateway(&missing_action).put_approval(&pay(), &approval(), ApprovalDecision::Approve, "s").await;
    assert_eq!(
        err.unwrap_err().to_string(),
        "approval ApproveProd/ManualApproval of pipeline `payments-api` was not found"
    );

    let missing_stage =
        mock!(Client::retry_stage_execution).sequence().http_response(|| error("StageNotFoundException")).build();
    let err = gateway(&missing_stage).retry_stage(&pay(), "Biuld", EXECUTION_ID).await.unwrap_err();
    assert_eq!(err.to_string(), "stage `Biuld` of pipeline `payments-api` was not found");

    let conflict =
        mock!(Client::stop_pipeline_execution).sequence().http_response(|| error("ConflictException")).build();
    let err = gateway(&conflict).stop(&pay(), EXECUTION_ID, false, "r").await.unwrap_err();
    assert!(matches!(err, GatewayError::Other { .. }), "{err:?}");
}

#[tokio::test]
async fn one_execution_is_read_with_its_status_and_trigger() {
    let body = format!(
        r#"{{"pipelineExecution": {{"pipelineName": "payments-api", "pipelineVersion": 4,
        "pipelineExecutionId": "{EXECUTION_ID}", "status": "Stopping", "statusSummary": "Stopped by Dana",
        "trigger": {{"triggerType": "StartPipelineExecution", "triggerDetail": "arn:aws:sts::1:assumed-role/opsbot/U0LEAD1"}}}}}}"#
    );
    let found = mock!(Client::get_pipeline_execution)
        .match_requests(|req| req.pipeline_execution_id() == Some(EXECUTION_ID))
        .sequence()
        .http_response(move || answer(200, body.clone(), "req-get"))
        .build();

    let execution = gateway(&found).execution(&pay(), EXECUTION_ID).await.unwrap();

    assert_eq!((execution.id.as_str(), &execution.status), (EXECUTION_ID, &ExecStatus::Stopping));
    assert_eq!(execution.trigger.as_deref(), Some("StartPipelineExecution by U0LEAD1"));
    assert_eq!((execution.started, execution.updated), (None, None), "GetPipelineExecution has no times");
}

#[tokio::test]
async fn a_missing_execution_is_not_found() {
    let missing = mock!(Client::get_pipeline_execution)
        .sequence()
        .http_response(|| error("PipelineExecutionNotFoundException"))
        .build();
    let err = gateway(&missing).execution(&pay(), "nope").await.unwrap_err();
    assert_eq!(err.to_string(), "execution nope of pipeline `payments-api` was not found");
}
