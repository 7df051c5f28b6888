//! The mapping against documented BatchGetBuilds and GetLogEvents shapes
//! (CodeBuild and CloudWatch Logs API references); moto is used end to end
//! in tests/build_log_e2e.rs.

use aws_sdk_cloudwatchlogs as logs;
use aws_sdk_codebuild as codebuild;
use aws_smithy_mocks::mock;

use super::*;
use crate::aws::mocked_client;

const BUILD: &str = r#"{"builds": [{
  "id": "storefront-web:8f2c0d1e-1111-2222-3333-444455556666",
  "arn": "arn:aws:codebuild:us-east-1:111122223333:build/storefront-web:8f2c0d1e-1111-2222-3333-444455556666",
  "buildStatus": "FAILED", "currentPhase": "COMPLETED", "projectName": "storefront-web",
  "phases": [
    {"phaseType": "INSTALL", "phaseStatus": "SUCCEEDED"},
    {"phaseType": "BUILD", "phaseStatus": "FAILED",
     "contexts": [{"statusCode": "COMMAND_EXECUTION_ERROR",
                   "message": "Error while executing command: npm test. Reason: exit status 1"}]},
    {"phaseType": "FINALIZING", "phaseStatus": "SUCCEEDED"}],
  "environment": {"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0", "computeType": "BUILD_GENERAL1_SMALL",
    "environmentVariables": [
      {"name": "NODE_ENV", "value": "test", "type": "PLAINTEXT"},
      {"name": "NPM_TOKEN", "value": "npm_plaintextvalue", "type": "PLAINTEXT"},
      {"name": "DB_URL", "value": "/storefront/db-url", "type": "PARAMETER_STORE"}]},
  "logs": {"groupName": "/aws/codebuild/storefront-web", "streamName": "8f2c0d1e-1111-2222-3333-444455556666",
    "deepLink": "https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#logEvent:group=/aws/codebuild/storefront-web;stream=8f2c0d1e-1111-2222-3333-444455556666"}
}], "buildsNotFound": []}"#;

const EVENTS: &str = r#"{"events": [
  {"timestamp": 1763812800000, "message": "[Container] Running command npm test\n", "ingestionTime": 1763812801000},
  {"timestamp": 1763812801000, "message": "FAIL src/cart.test.ts\n  Expected: 3\n", "ingestionTime": 1763812802000},
  {"timestamp": 1763812802000, "message": "[Container] Phase complete: BUILD State: FAILED\n", "ingestionTime": 1763812803000}],
  "nextForwardToken": "f/1", "nextBackwardToken": "b/1"}"#;

const ID: &str = "storefront-web:8f2c0d1e-1111-2222-3333-444455556666";

#[tokio::test]
async fn a_failed_build_reads_its_phase_stream_and_last_lines_and_marks_secret_values() {
    let builds = mock!(codebuild::Client::batch_get_builds)
        .match_requests(|req| req.ids() == [ID.to_string()])
        .sequence()
        .http_status(200, Some(BUILD.into()))
        .build();
    let events = mock!(logs::Client::get_log_events)
        .match_requests(|req| {
            req.log_group_name() == Some("/aws/codebuild/storefront-web")
                && req.log_stream_name() == Some("8f2c0d1e-1111-2222-3333-444455556666")
                && req.start_from_head() == Some(false)
                && req.limit() == Some(3)
        })
        .sequence()
        .http_status(200, Some(EVENTS.into()))
        .build();
    let gateway = AwsBuildLogs::new(mocked_client!(codebuild, [&builds]), mocked_client!(logs, [&events]));
    let log = gateway.failed_build(ID, 3).await.unwrap();
    assert_eq!(log.project, "storefront-web");
    assert_eq!(log.failed_phase.as_deref(), Some("BUILD"));
    assert_eq!(log.phase_message.as_deref(), Some("Error while executing command: npm test. Reason: exit status 1"));
    // Three lines: the newest, though they came in chunks of several.
    assert_eq!(
        log.lines,
        ["FAIL src/cart.test.ts", "  Expected: 3", "[Container] Phase complete: BUILD State: FAILED"]
    );
    assert_eq!(log.sensitive, ["npm_plaintextvalue", "/storefront/db-url"]);
    let stream = log.stream.unwrap();
    assert_eq!(stream.group, "/aws/codebuild/storefront-web");
    assert!(stream.link.unwrap().starts_with("https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#logsV2:log-groups/log-group/$252Faws$252Fcodebuild$252Fstorefront-web/log-events/8f2c0d1e"));
    assert_eq!(
        log.build_link.as_deref(),
        Some(
            "https://us-east-1.console.aws.amazon.com/codesuite/codebuild/projects/storefront-web/build/storefront-web%3A8f2c0d1e-1111-2222-3333-444455556666/?region=us-east-1"
        )
    );
}

#[tokio::test]
async fn a_log_the_bot_may_not_read_is_access_denied_with_aws_message() {
    let builds = mock!(codebuild::Client::batch_get_builds).sequence().http_status(200, Some(BUILD.into())).build();
    let denied = mock!(logs::Client::get_log_events).sequence()
        .http_status(
            400,
            Some(r#"{"__type": "AccessDeniedException", "message": "User: arn:aws:sts::111122223333:assumed-role/opsbot/x is not authorized to perform: logs:GetLogEvents"}"#.into()),
        )
        .build();
    let gateway = AwsBuildLogs::new(mocked_client!(codebuild, [&builds]), mocked_client!(logs, [&denied]));
    match gateway.failed_build(ID, 20).await {
        Err(GatewayError::AccessDenied { message }) => assert!(message.contains("logs:GetLogEvents"), "{message}"),
        other => panic!("expected AccessDenied, got {other:?}"),
    }
}

#[tokio::test]
async fn a_build_codebuild_does_not_know_is_not_found() {
    let none = mock!(codebuild::Client::batch_get_builds)
        .sequence()
        .http_status(200, Some(r#"{"builds": [], "buildsNotFound": ["storefront-web:gone"]}"#.into()))
        .build();
    let events = mock!(logs::Client::get_log_events).sequence().http_status(200, Some(EVENTS.into())).build();
    let gateway = AwsBuildLogs::new(mocked_client!(codebuild, [&none]), mocked_client!(logs, [&events]));
    let err = gateway.failed_build("storefront-web:gone", 20).await.unwrap_err();
    assert_eq!(err.to_string(), "build `storefront-web:gone` was not found");
}
