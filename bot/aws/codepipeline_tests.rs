//! CodePipeline mapping against documented response shapes (API reference:
//! GetPipeline, GetPipelineState, ListPipelineExecutions, GetPipelineExecution),
//! served as JSON through aws-smithy-mocks so the SDK's own deserializers run.
//! GetPipelineState is not implemented by moto, so this is where it is tested.

use aws_sdk_codepipeline::Client;
use aws_smithy_mocks::{Rule, mock};

use super::*;
use crate::aws::mocked_client;

const PIPELINE: &str = r#"{"pipeline": {"name": "web", "roleArn": "arn:aws:iam::123456789012:role/cp", "version": 3,
  "stages": [
    {"name": "Source", "actions": [{"name": "Checkout",
      "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "CodeStarSourceConnection", "version": "1"}}]},
    {"name": "Build", "actions": [{"name": "Compile",
      "actionTypeId": {"category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1"}}]},
    {"name": "Approve", "actions": [{"name": "LeadApproval",
      "actionTypeId": {"category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1"}}]},
    {"name": "Deploy", "actions": [{"name": "Rollout",
      "actionTypeId": {"category": "Deploy", "owner": "AWS", "provider": "ECS", "version": "1"}}]}
  ]}}"#;

/// Execution 222 failed in Build; the older 111 still waits for an approval.
const STATE: &str = r#"{"pipelineName": "web", "pipelineVersion": 3, "created": 1763800000, "updated": 1763800000,
  "stageStates": [
    {"stageName": "Source", "latestExecution": {"pipelineExecutionId": "222", "status": "Succeeded"},
     "actionStates": [{"actionName": "Checkout", "latestExecution": {"status": "Succeeded",
        "summary": "Fix checkout", "lastStatusChange": 1763812000.5}}]},
    {"stageName": "Build", "latestExecution": {"pipelineExecutionId": "222", "status": "Failed"},
     "actionStates": [{"actionName": "Compile", "entityUrl": "https://console/codebuild/web",
        "latestExecution": {"actionExecutionId": "a-1", "status": "Failed", "lastStatusChange": 1763812300,
          "externalExecutionId": "web:b-9", "externalExecutionUrl": "https://console/codebuild/web/b-9",
          "errorDetails": {"code": "JobFailed", "message": "Build terminated with state: FAILED"}}}]},
    {"stageName": "Approve", "latestExecution": {"pipelineExecutionId": "111", "status": "InProgress"},
     "actionStates": [{"actionName": "LeadApproval", "latestExecution": {"status": "InProgress",
        "token": "tok-1", "lastStatusChange": 1763811000}}]},
    {"stageName": "Deploy", "actionStates": [{"actionName": "Rollout"}]}
  ]}"#;

const EXECUTIONS: &str = r#"{"pipelineExecutionSummaries": [{"pipelineExecutionId": "222", "status": "InProgress",
  "startTime": 1763811900, "lastUpdateTime": 1763812300,
  "sourceRevisions": [{"actionName": "Checkout", "revisionId": "abc123"}],
  "trigger": {"triggerType": "Webhook", "triggerDetail": "arn:aws:codepipeline:us-east-1:123456789012:webhook:gh"}}]}"#;

const EXECUTION: &str = r#"{"pipelineExecution": {"pipelineName": "web", "pipelineVersion": 3,
  "pipelineExecutionId": "222", "status": "Failed",
  "artifactRevisions": [{"name": "SourceArtifact", "revisionId": "abc123",
    "revisionSummary": "{\"ProviderType\":\"GitHub\",\"CommitMessage\":\"Fix checkout\"}",
    "revisionUrl": "https://github.com/acme/web/commit/abc123"}],
  "trigger": {"triggerType": "StartPipelineExecution",
    "triggerDetail": "arn:aws:sts::123456789012:assumed-role/deployer/alice"}}}"#;

fn ok_rules() -> Vec<Rule> {
    vec![
        mock!(Client::get_pipeline).sequence().http_status(200, Some(PIPELINE.into())).repeatedly().build(),
        mock!(Client::get_pipeline_state).sequence().http_status(200, Some(STATE.into())).repeatedly().build(),
        mock!(Client::list_pipeline_executions)
            .sequence()
            .http_status(200, Some(EXECUTIONS.into()))
            .repeatedly()
            .build(),
        mock!(Client::get_pipeline_execution).sequence().http_status(200, Some(EXECUTION.into())).repeatedly().build(),
    ]
}

fn gateway(rules: &[Rule]) -> AwsPipelines {
    let client: Client = mocked_client!(aws_sdk_codepipeline, [&rules[0], &rules[1], &rules[2], &rules[3]]);
    AwsPipelines::new(client)
}

fn error_body(code: &str, message: &str) -> Option<String> {
    Some(format!(r#"{{"__type": "{code}", "message": "{message}"}}"#))
}

fn web() -> PipelineName {
    PipelineName::parse("web").unwrap()
}

#[tokio::test]
async fn pipeline_state_shows_a_failed_build_with_its_error_details() {
    let state = gateway(&ok_rules()).state(&web()).await.unwrap();

    let names: Vec<&str> = state.stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Source", "Build", "Approve", "Deploy"]);
    let build = &state.stages[1];
    assert_eq!(build.status, Some(ExecStatus::Failed));
    let compile = &build.actions[0];
    assert_eq!(compile.category, ActionCategory::Build);
    assert_eq!(compile.status, Some(ExecStatus::Failed));
    assert_eq!(
        compile.error,
        Some(ActionError { code: Some("JobFailed".into()), message: "Build terminated with state: FAILED".into() })
    );
    assert_eq!(compile.external_url.as_deref(), Some("https://console/codebuild/web/b-9"));
    assert_eq!(compile.last_change.unwrap().to_rfc3339(), "2025-11-22T11:51:40+00:00");
    assert_eq!(state.stages[0].actions[0].summary.as_deref(), Some("Fix checkout"));
}

#[tokio::test]
async fn pipeline_state_shows_a_manual_approval_waiting_and_actions_that_never_ran() {
    let state = gateway(&ok_rules()).state(&web()).await.unwrap();

    let approval = &state.stages[2].actions[0];
    assert_eq!(approval.category, ActionCategory::Approval);
    assert_eq!(approval.status, Some(ExecStatus::InProgress));
    assert!(approval.awaits_approval());
    assert_eq!(approval.token.as_deref(), Some("tok-1"), "what PutApprovalResult needs");
    assert!(!state.stages[1].actions[0].awaits_approval());
    let executions: Vec<Option<&str>> = state.stages.iter().map(|s| s.execution_id.as_deref()).collect();
    assert_eq!(executions, [Some("222"), Some("222"), Some("111"), None], "each stage's own latest execution");
    let rollout = &state.stages[3].actions[0];
    assert_eq!((rollout.status.as_ref(), rollout.last_change, state.stages[3].status.as_ref()), (None, None, None));
}

#[tokio::test]
async fn pipeline_state_carries_the_latest_execution_with_revisions_and_trigger() {
    let rules = ok_rules();
    let latest = gateway(&rules).state(&web()).await.unwrap().latest.unwrap();

    assert_eq!(latest.id, "222");
    assert_eq!(latest.status, ExecStatus::Failed, "GetPipelineExecution is the fresher status");
    assert_eq!(latest.started.unwrap().to_rfc3339(), "2025-11-22T11:45:00+00:00");
    assert_eq!(latest.updated.unwrap().to_rfc3339(), "2025-11-22T11:51:40+00:00");
    assert_eq!(latest.trigger.as_deref(), Some("StartPipelineExecution by alice"));
    assert_eq!(
        latest.revisions,
        [SourceRevision {
            action: "SourceArtifact".into(),
            id: "abc123".into(),
            summary: Some("Fix checkout".into()),
            url: Some("https://github.com/acme/web/commit/abc123".into()),
        }]
    );
    assert_eq!(rules[2].num_calls(), 1);
}

#[tokio::test]
async fn pipeline_list_has_each_pipeline_with_its_latest_execution() {
    let list = mock!(Client::list_pipelines)
        .sequence()
        .http_status(200, Some(r#"{"pipelines": [{"name": "web"}, {"name": "api"}], "nextToken": "p2"}"#.into()))
        .http_status(200, Some(r#"{"pipelines": [{"name": "batch"}]}"#.into()))
        .build();
    let executions = mock!(Client::list_pipeline_executions)
        .match_requests(|req| req.pipeline_name() != Some("batch") && req.max_results() == Some(1))
        .sequence()
        .http_status(200, Some(EXECUTIONS.into()))
        .repeatedly()
        .build();
    let never_ran = mock!(Client::list_pipeline_executions)
        .sequence()
        .http_status(200, Some(r#"{"pipelineExecutionSummaries": []}"#.into()))
        .build();
    let client: Client = mocked_client!(aws_sdk_codepipeline, [&list, &executions, &never_ran]);

    let pipelines = AwsPipelines::new(client).list().await.unwrap();

    let names: Vec<&str> = pipelines.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["api", "batch", "web"], "both pages, sorted");
    assert_eq!(pipelines[1].latest, None);
    let web = pipelines[2].latest.as_ref().unwrap();
    assert_eq!((web.id.as_str(), &web.status), ("222", &ExecStatus::InProgress));
    assert_eq!(web.trigger.as_deref(), Some("Webhook by gh"));
    assert_eq!(web.revisions[0].id, "abc123");
}

#[tokio::test]
async fn a_missing_pipeline_is_not_found() {
    let missing = mock!(Client::get_pipeline)
        .sequence()
        .http_status(
            400,
            error_body("PipelineNotFoundException", "Account '1' does not have a pipeline with name 'web'"),
        )
        .build();
    let client: Client = mocked_client!(aws_sdk_codepipeline, [&missing]);

    let err = AwsPipelines::new(client).state(&web()).await.unwrap_err();

    assert!(matches!(&err, GatewayError::NotFound { what } if what == "pipeline `web`"), "{err:?}");
    assert_eq!(err.to_string(), "pipeline `web` was not found");
}

#[tokio::test]
async fn throttling_is_retried_by_the_sdk_then_reported_as_throttled() {
    let throttled = mock!(Client::list_pipelines)
        .sequence()
        .http_status(400, error_body("ThrottlingException", "Rate exceeded"))
        .repeatedly()
        .build();
    let client: Client = mocked_client!(aws_sdk_codepipeline, [&throttled]);

    let err = AwsPipelines::new(client).list().await.unwrap_err();

    assert!(matches!(err, GatewayError::Throttled), "{err:?}");
    assert_eq!(throttled.num_calls(), 3, "standard retry mode: 3 attempts in all");
}

#[tokio::test]
async fn throttling_that_clears_within_the_retries_is_invisible() {
    let flaky = mock!(Client::list_pipelines)
        .sequence()
        .http_status(400, error_body("ThrottlingException", "Rate exceeded"))
        .times(2)
        .http_status(200, Some(r#"{"pipelines": []}"#.into()))
        .build();
    let client: Client = mocked_client!(aws_sdk_codepipeline, [&flaky]);

    assert_eq!(AwsPipelines::new(client).list().await.unwrap(), []);
    assert_eq!(flaky.num_calls(), 3);
}

#[tokio::test]
async fn access_denied_is_reported_with_the_aws_message_and_not_retried() {
    let denied = mock!(Client::get_pipeline)
        .sequence()
        .http_status(400, error_body("AccessDeniedException", "User: bot is not authorized to perform: GetPipeline"))
        .repeatedly()
        .build();
    let client: Client = mocked_client!(aws_sdk_codepipeline, [&denied]);

    let err = AwsPipelines::new(client).state(&web()).await.unwrap_err();

    match err {
        GatewayError::AccessDenied { message } => assert!(message.contains("not authorized"), "{message}"),
        other => panic!("expected AccessDenied, got {other:?}"),
    }
    assert_eq!(denied.num_calls(), 1);
}

#[tokio::test]
async fn an_unparseable_answer_is_another_error_with_its_cause() {
    let html = mock!(Client::get_pipeline)
        .sequence()
        .http_status(500, Some("<!doctype html><title>NotImplemented</title>".into()))
        .repeatedly()
        .build();
    let client: Client = mocked_client!(aws_sdk_codepipeline, [&html]);

    let err = AwsPipelines::new(client).state(&web()).await.unwrap_err();

    assert!(matches!(err, GatewayError::Other { .. }), "{err:?}");
    assert!(std::error::Error::source(&err).is_some());
}
