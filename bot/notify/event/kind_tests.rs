//! Every kind, read from AWS's documented examples (tests/fixtures/notifications).

use chrono::{DateTime, Utc};

use super::pipeline::{ActionType, ExecutionResult, FailedAction, PipelineFailure};
use super::*;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/notifications/", $name))
    };
}
pub(super) use fixture;

pub(super) fn read(body: &str) -> Inbound {
    parse(body.as_bytes()).expect("a notification")
}

pub(super) fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).expect("a test timestamp").with_timezone(&Utc)
}

#[test]
fn a_started_pipeline_says_who_started_it_and_which_attempt_it_is() {
    let inbound = read(fixture!("codepipeline-pipeline-started.json"));
    let Notification::PipelineExecution(execution) = &inbound.notification else { panic!("{inbound:?}") };
    assert_eq!((execution.pipeline.as_str(), execution.state.clone()), ("myPipeline", ExecutionState::Started));
    assert_eq!(execution.execution_id, "12345678-1234-5678-abcd-12345678abcd");
    let trigger = execution.execution_trigger.as_ref().expect("a trigger");
    assert_eq!(trigger.trigger_type.as_deref(), Some("StartPipelineExecution"));
    assert_eq!(trigger.trigger_detail.as_deref(), Some("arn:aws:sts::123456789012:assumed-role/Admin/my-user"));
    assert_eq!((execution.version, execution.attempt), (Some(1), Some(1)));
    assert_eq!(execution.start_time, Some(at("2023-10-26T13:49:39.208Z")));
    assert_eq!((inbound.account.as_deref(), inbound.region.as_deref()), (Some("123456789012"), Some("us-east-1")));
    assert_eq!(inbound.time, at("2020-01-24T22:03:07Z"));
    assert_eq!((inbound.notification.kind(), inbound.notification.name()), (Kind::Pipeline, "myPipeline"));
}

#[test]
fn a_pipeline_started_from_a_git_tag_keeps_the_tag_and_commit() {
    let inbound = read(fixture!("codepipeline-pipeline-succeeded-git-tags.json"));
    let Notification::PipelineExecution(execution) = inbound.notification else { panic!() };
    assert_eq!(execution.state, ExecutionState::Succeeded);
    assert_eq!(execution.version, Some(32));
    let trigger = execution.execution_trigger.expect("a trigger");
    assert_eq!(trigger.tag_name.as_deref(), Some("gitlab-v4.2.1"));
    assert_eq!(trigger.commit_message.as_deref(), Some("Update file README.md"));
    assert_eq!(trigger.full_repository_name.as_deref(), Some("mmajor/sample-project"));
    assert_eq!(trigger.trigger_type, None);
}

#[test]
fn a_failed_pipeline_from_codestar_notifications_names_the_failed_stage_and_action() {
    let body = fixture!("codepipeline-pipeline-failed-processed.json");
    let inbound = read(body);
    let Notification::PipelineExecution(execution) = &inbound.notification else { panic!("{inbound:?}") };
    assert_eq!(execution.state, ExecutionState::Failed);
    let failure = PipelineFailure {
        stage: Some("Deploy".into()),
        actions: vec![FailedAction { action: "Deploy".into(), information: Some("Deployment <ID> failed".into()) }],
    };
    assert_eq!(execution.failure, Some(failure));
    assert_eq!(inbound.key, wire::content_key(body.as_bytes()), "no event id in the processed form");
    assert_eq!(inbound.time, at("2021-06-24T00:46:16Z"));
}

#[test]
fn stage_events_carry_the_stage_and_the_last_retry_time_after_a_retry() {
    let Notification::PipelineStage(stage) = read(fixture!("codepipeline-stage-started.json")).notification else {
        panic!()
    };
    assert_eq!((stage.stage.as_str(), stage.state), ("Prod", ExecutionState::Started));
    assert_eq!(stage.last_retry_at, None);
    let Notification::PipelineStage(stage) = read(fixture!("codepipeline-stage-resumed.json")).notification else {
        panic!()
    };
    assert_eq!((stage.pipeline.as_str(), stage.state), ("BuildFromTag", ExecutionState::Resumed));
    assert_eq!((stage.attempt, stage.last_retry_at), (Some(2), Some(at("2023-10-26T14:14:56.305Z"))));
}

#[test]
fn an_action_event_names_the_action_and_its_type() {
    let Notification::PipelineAction(action) = read(fixture!("codepipeline-action-started.json")).notification else {
        panic!()
    };
    assert_eq!((action.stage.as_str(), action.action.as_str()), ("Prod", "myAction"));
    let expected = ActionType {
        owner: "AWS".into(),
        category: "Deploy".into(),
        provider: "CodeDeploy".into(),
        version: Some("1".into()),
    };
    assert_eq!(action.action_type, Some(expected));
    assert_eq!(action.action_execution_id.as_deref(), Some("47f821c5-a902-44b2-ae61-b878d31ecd21"));
    assert_eq!((action.result, action.additional_information), (None, None));
}

#[test]
fn a_failed_action_carries_the_providers_error_in_both_forms() {
    let Notification::PipelineAction(action) = read(fixture!("codepipeline-action-failed.json")).notification else {
        panic!()
    };
    let result = ExecutionResult {
        external_execution_id: Some("<ID>".into()),
        external_execution_url: Some(
            "https://us-west-2.console.aws.amazon.com/codedeploy/home?#/deployments/<ID>".into(),
        ),
        external_execution_summary: Some("Deployment <ID> failed".into()),
        error_code: Some("JobFailed".into()),
    };
    assert_eq!((action.state, action.result), (ExecutionState::Failed, Some(result)));
    assert_eq!(action.action_region.as_deref(), Some("us-west-2"));
    let Notification::PipelineAction(processed) =
        read(fixture!("codepipeline-action-failed-processed.json")).notification
    else {
        panic!()
    };
    assert_eq!(processed.additional_information.as_deref(), Some("Deployment <ID> failed"));
    assert_eq!(processed.result.and_then(|result| result.error_code).as_deref(), Some("JobFailed"));
}

#[test]
fn a_manual_approval_has_its_token_links_and_expiry_and_is_a_pipeline_kind() {
    let inbound = read(fixture!("codepipeline-approval.json"));
    assert_eq!(inbound.key, "approval:1a2b3c4d-573f-4ea7-a67E-XAMPLETOKEN");
    assert_eq!((inbound.region.as_deref(), inbound.account.as_deref()), (Some("us-east-2"), None));
    assert_eq!((inbound.notification.kind(), inbound.notification.name()), (Kind::Pipeline, "MyFirstPipeline"));
    let Notification::ManualApproval(approval) = inbound.notification else { panic!() };
    assert_eq!((approval.stage.as_str(), approval.action.as_str()), ("MyApprovalStage", "MyApprovalAction"));
    assert_eq!(approval.expires, Some(at("2016-07-07T20:22:00Z")));
    assert_eq!(approval.external_entity_link.as_deref(), Some("http://example.com"));
    assert!(approval.review_link.is_some_and(|link| link.ends_with("/approve/1a2b3c4d-573f-4ea7-a67E-XAMPLETOKEN")));
    assert!(approval.console_link.is_some_and(|link| link.ends_with("#/view/MyFirstPipeline")));
    assert_eq!(
        approval.custom_data.as_deref(),
        Some("Review the latest changes and approve or reject within seven days.")
    );
}

#[test]
fn an_approval_message_missing_its_stage_is_other_not_half_an_approval() {
    let body = r#"{"region":"us-east-2","approval":{"pipelineName":"web","actionName":"Approve","token":"t-1"}}"#;
    let inbound = read(body);
    let Notification::Other(other) = &inbound.notification else { panic!("{inbound:?}") };
    assert!(other.summary.contains(r#""token":"t-1""#));
    assert!(inbound.key.starts_with("sha256:"));
}

#[test]
fn parameter_changes_name_the_operation_and_type_but_never_a_value() {
    for (body, operation) in [
        (fixture!("ssm-parameter-create.json"), ParameterOperation::Create),
        (fixture!("ssm-parameter-update.json"), ParameterOperation::Update),
        (fixture!("ssm-parameter-delete.json"), ParameterOperation::Delete),
    ] {
        let inbound = read(body);
        assert_eq!((inbound.notification.kind(), inbound.notification.name()), (Kind::Parameter, "MyExampleParameter"));
        let Notification::ParameterChange(change) = inbound.notification else { panic!() };
        let expected = ParameterChange {
            name: "MyExampleParameter".into(),
            operation,
            parameter_type: Some("String".into()),
            description: Some("Sample Parameter".into()),
        };
        assert_eq!(change, expected);
    }
}

#[test]
fn an_automation_execution_names_its_document_status_and_who_ran_it() {
    let inbound = read(fixture!("ssm-automation-execution.json"));
    assert_eq!((inbound.notification.kind(), inbound.notification.name()), (Kind::Automation, "runcommand1"));
    let Notification::Automation(execution) = inbound.notification else { panic!() };
    assert_eq!(execution.execution_id, "333ba70b-2333-48db-b17e-a5e69c6f4d1c");
    assert_eq!((execution.status.as_str(), execution.document_version.as_deref()), ("Success", Some("1.0")));
    assert_eq!(execution.started_at, Some(at("2016-11-29T19:43:20Z")));
    assert_eq!(execution.ended_at, Some(at("2016-11-29T19:43:26Z")));
    assert_eq!(execution.executed_by.as_deref(), Some("arn:aws:iam::123456789012:user/userName"));
}

#[test]
fn automation_step_events_are_kept_as_other() {
    let inbound = read(fixture!("ssm-automation-step.json"));
    let Notification::Other(other) = inbound.notification else { panic!() };
    assert_eq!(other.detail_type.as_deref(), Some("EC2 Automation Step Status-change Notification"));
    assert_eq!(inbound.key, "eventbridge:eeca120b-a321-433e-9635-dab369006a6b");
}

#[test]
fn kinds_read_and_print_as_the_config_spells_them() {
    for kind in Kind::ALL {
        assert_eq!(Kind::parse(kind.as_str()), Some(kind));
    }
    assert_eq!(Kind::parse(" Alarm "), Some(Kind::Alarm));
    assert_eq!(Kind::parse("approval"), None, "approvals are pipeline notifications");
    assert_eq!(Kind::Ecs.to_string(), "ecs");
}

#[test]
fn pipeline_events_of_one_execution_share_a_living_message_and_approvals_stand_alone() {
    let execution = read(fixture!("codepipeline-pipeline-started.json")).notification;
    let stage = read(fixture!("codepipeline-stage-started.json")).notification;
    let action = read(fixture!("codepipeline-action-failed.json")).notification;
    let expected = Some("pipeline:12345678-1234-5678-abcd-12345678abcd".to_owned());
    assert_eq!(
        [execution.living_key(), stage.living_key(), action.living_key()],
        [expected.clone(), expected.clone(), expected]
    );
    assert_eq!(read(fixture!("codepipeline-approval.json")).notification.living_key(), None);
    let automation = read(fixture!("ssm-automation-execution.json")).notification;
    assert_eq!(automation.living_key().as_deref(), Some("automation:333ba70b-2333-48db-b17e-a5e69c6f4d1c"));
}
