//! ECS changes against documented shapes: what RegisterTaskDefinition and
//! UpdateService are sent, and what is read back (revision, request ids, the
//! new PRIMARY deployment). moto checks the same calls for real in
//! `tests/aws_changes.rs`; what it cannot show (every field of a Fargate task
//! definition, the deployment UpdateService starts) is checked here.

use std::sync::{Arc, Mutex};

use aws_sdk_ecs::Client;
use aws_sdk_ecs::config::http::HttpResponse;
use aws_sdk_ecs::operation::register_task_definition::RegisterTaskDefinitionInput;
use aws_smithy_mocks::mock;
use aws_smithy_types::body::SdkBody;

use super::*;
use crate::aws::mocked_client;

const BASE: &str = r#"{"taskDefinition": {
  "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/api:57",
  "family": "api", "revision": 57, "status": "ACTIVE",
  "taskRoleArn": "arn:aws:iam::123456789012:role/api-task",
  "executionRoleArn": "arn:aws:iam::123456789012:role/api-exec",
  "networkMode": "awsvpc",
  "containerDefinitions": [
    {"name": "api", "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:1.41.3", "essential": true,
     "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
     "environment": [{"name": "MODE", "value": "prod"}],
     "secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/db-password"}],
     "logConfiguration": {"logDriver": "awsfirelens"}},
    {"name": "log-router", "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.2", "essential": true,
     "firelensConfiguration": {"type": "fluentbit"}}],
  "volumes": [{"name": "scratch", "host": {}}],
  "placementConstraints": [{"type": "memberOf", "expression": "attribute:ecs.availability-zone in [us-east-1a]"}],
  "requiresCompatibilities": ["FARGATE"], "compatibilities": ["EC2", "FARGATE"],
  "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.ecr-auth"}],
  "cpu": "512", "memory": "1024", "pidMode": "task", "ipcMode": "task",
  "proxyConfiguration": {"type": "APPMESH", "containerName": "envoy", "properties": [{"name": "AppPorts", "value": "8080"}]},
  "ephemeralStorage": {"sizeInGiB": 30},
  "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
  "enableFaultInjection": true,
  "registeredAt": 1763700000, "registeredBy": "arn:aws:iam::123456789012:role/deployer"},
 "tags": [{"key": "team", "value": "shop"}, {"key": "aws:cloudformation:stack-name", "value": "api"}]}"#;

const REGISTERED: &str = r#"{"taskDefinition": {"family": "api", "revision": 58, "status": "ACTIVE",
  "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/api:58"}}"#;

const UPDATED: &str = r#"{"service": {"serviceName": "api", "status": "ACTIVE",
  "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/api:58",
  "deployments": [
    {"id": "ecs-svc/old", "status": "ACTIVE", "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/api:57"},
    {"id": "ecs-svc/new", "status": "PRIMARY", "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/api:58",
     "rolloutState": "IN_PROGRESS"}]}}"#;

/// A JSON answer with AWS's request id header.
fn answer(status: u16, body: &'static str, request_id: &'static str) -> HttpResponse {
    let mut response = HttpResponse::new(status.try_into().unwrap(), SdkBody::from(body));
    response.headers_mut().insert("x-amzn-RequestId", request_id);
    response
}

fn api_57() -> TaskDefinitionRef {
    TaskDefinitionRef { family: "api".into(), revision: 57 }
}

fn prod_api() -> ServiceRef {
    ServiceRef::parse("prod/api").unwrap()
}

#[tokio::test]
async fn a_new_revision_copies_every_field_and_tag_and_changes_only_the_named_image() {
    let base = mock!(Client::describe_task_definition)
        .match_requests(|req| {
            req.task_definition() == Some("api:57") && req.include() == [sdk::TaskDefinitionField::Tags]
        })
        .then_http_response(|| answer(200, BASE, "req-describe"));
    let sent: Arc<Mutex<Option<RegisterTaskDefinitionInput>>> = Arc::default();
    let seen = sent.clone();
    let register = mock!(Client::register_task_definition)
        .match_requests(move |req| {
            *seen.lock().unwrap() = Some(req.clone());
            true
        })
        .then_http_response(|| answer(200, REGISTERED, "req-register"));
    let client: Client = mocked_client!(aws_sdk_ecs, [&base, &register]);

    let image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:1.42.0";
    let swap = [Container { name: "api".into(), image: image.into() }];
    let (new, receipt) = AwsServices::new(client).register_revision(&api_57(), &swap).await.unwrap();

    assert_eq!((new.to_string(), receipt.request_id.as_deref()), ("api:58".into(), Some("req-register")));
    let sent = sent.lock().unwrap().clone().expect("RegisterTaskDefinition was called");
    assert_eq!(sent.family(), Some("api"));
    assert_eq!(sent.task_role_arn(), Some("arn:aws:iam::123456789012:role/api-task"));
    assert_eq!(sent.execution_role_arn(), Some("arn:aws:iam::123456789012:role/api-exec"));
    assert_eq!(sent.network_mode(), Some(&sdk::NetworkMode::Awsvpc));
    assert_eq!((sent.cpu(), sent.memory()), (Some("512"), Some("1024")));
    assert_eq!((sent.pid_mode(), sent.ipc_mode()), (Some(&sdk::PidMode::Task), Some(&sdk::IpcMode::Task)));
    assert_eq!(sent.requires_compatibilities(), [sdk::Compatibility::Fargate]);
    assert_eq!(sent.volumes()[0].name(), Some("scratch"));
    assert_eq!(sent.placement_constraints()[0].r#type(), Some(&sdk::TaskDefinitionPlacementConstraintType::MemberOf));
    assert_eq!(sent.proxy_configuration().map(|p| p.container_name()), Some("envoy"));
    assert_eq!(sent.ephemeral_storage().map(|e| e.size_in_gib()), Some(30));
    let platform = sent.runtime_platform().and_then(|p| p.cpu_architecture());
    assert_eq!(platform, Some(&sdk::CpuArchitecture::Arm64));
    assert_eq!(sent.enable_fault_injection(), Some(true));
    let tags: Vec<(Option<&str>, Option<&str>)> = sent.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(tags, [(Some("team"), Some("shop"))], "aws: tags are AWS's to set");

    let [app, router] = sent.container_definitions() else { panic!("{:?}", sent.container_definitions()) };
    assert_eq!(app.image(), Some(image));
    assert_eq!(app.secrets()[0].value_from(), "arn:aws:ssm:us-east-1:123456789012:parameter/db-password");
    assert_eq!((app.environment().len(), app.port_mappings()[0].container_port()), (1, Some(8080)));
    assert_eq!(router.image(), Some("public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.2"));
    assert!(router.firelens_configuration().is_some());
}

#[tokio::test]
async fn naming_a_container_the_base_lacks_registers_nothing() {
    let base = mock!(Client::describe_task_definition).then_http_response(|| answer(200, BASE, "req-describe"));
    let register = mock!(Client::register_task_definition).then_http_response(|| answer(200, REGISTERED, "req"));
    let client: Client = mocked_client!(aws_sdk_ecs, [&base, &register]);

    let swap = [Container { name: "worker".into(), image: "r.io/api:2".into() }];
    let err = AwsServices::new(client).register_revision(&api_57(), &swap).await.unwrap_err();

    assert_eq!(err.to_string(), "task definition `api:57` has no container `worker`");
    assert_eq!(register.num_calls(), 0);
}

#[tokio::test]
async fn a_revision_ecs_cannot_describe_is_none_and_other_errors_stay_errors() {
    let unknown = r#"{"__type": "ClientException", "message": "Unable to describe task definition."}"#;
    let missing = mock!(Client::describe_task_definition)
        .match_requests(|req| req.task_definition() == Some("api:9"))
        .then_http_response(move || answer(400, unknown, "req-missing"));
    let denied = mock!(Client::describe_task_definition)
        .match_requests(|req| req.task_definition() == Some("api:8"))
        .then_http_response(|| answer(400, r#"{"__type": "AccessDeniedException", "message": "no"}"#, "req-denied"));
    let found = mock!(Client::describe_task_definition)
        .match_requests(|req| req.task_definition() == Some("api:57"))
        .then_http_response(|| answer(200, BASE, "req-found"));
    let gateway = AwsServices::new(mocked_client!(aws_sdk_ecs, [&missing, &denied, &found]));

    let revision = |n| TaskDefinitionRef { family: "api".into(), revision: n };
    assert_eq!(gateway.task_definition(&revision(9)).await.unwrap(), None);
    assert!(matches!(gateway.task_definition(&revision(8)).await, Err(GatewayError::AccessDenied { .. })));
    let api = gateway.task_definition(&revision(57)).await.unwrap().unwrap();
    assert_eq!((api.status.as_str(), api.containers.len()), ("ACTIVE", 2));
}

#[tokio::test]
async fn an_update_sends_the_revision_and_names_the_deployment_it_started() {
    let update = mock!(Client::update_service)
        .match_requests(|req| {
            (req.cluster(), req.service(), req.task_definition(), req.force_new_deployment())
                == (Some("prod"), Some("api"), Some("api:58"), None)
        })
        .then_http_response(|| answer(200, UPDATED, "req-update"));
    let client: Client = mocked_client!(aws_sdk_ecs, [&update]);

    let to_58 = ServiceUpdate {
        task_definition: Some(TaskDefinitionRef { family: "api".into(), revision: 58 }),
        ..Default::default()
    };
    let updated = AwsServices::new(client).update_service(&prod_api(), &to_58).await.unwrap();

    assert_eq!(updated.receipt.request_id.as_deref(), Some("req-update"));
    assert_eq!(updated.deployment.as_deref(), Some("ecs-svc/new"));
}

#[tokio::test]
async fn a_restart_forces_a_new_deployment_without_naming_a_revision() {
    let update = mock!(Client::update_service)
        .match_requests(|req| req.force_new_deployment() == Some(true) && req.task_definition().is_none())
        .then_http_response(|| answer(200, UPDATED, "req-restart"));
    let client: Client = mocked_client!(aws_sdk_ecs, [&update]);

    let restart = ServiceUpdate { task_definition: None, force_new_deployment: true };
    let updated = AwsServices::new(client).update_service(&prod_api(), &restart).await.unwrap();

    assert_eq!(updated.receipt.request_id.as_deref(), Some("req-restart"));
}
