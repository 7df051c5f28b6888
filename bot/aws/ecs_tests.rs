//! ECS mapping against documented DescribeServices shapes, including a rollout
//! in progress (which moto cannot produce: its deployments never change).

use aws_sdk_ecs::Client;
use aws_smithy_mocks::mock;

use super::*;
use crate::aws::mocked_client;

const ROLLING_OUT: &str = r#"{"services": [{"serviceName": "api", "status": "ACTIVE",
  "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/prod",
  "desiredCount": 3, "runningCount": 3, "pendingCount": 1,
  "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/api:43",
  "deployments": [
    {"id": "ecs-svc/old", "status": "ACTIVE", "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/api:42",
     "desiredCount": 0, "runningCount": 2, "pendingCount": 0, "failedTasks": 0,
     "createdAt": 1763700000, "updatedAt": 1763812000, "rolloutState": "COMPLETED"},
    {"id": "ecs-svc/new", "status": "PRIMARY", "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/api:43",
     "desiredCount": 3, "runningCount": 1, "pendingCount": 1, "failedTasks": 2,
     "createdAt": 1763812000, "updatedAt": 1763812600, "rolloutState": "IN_PROGRESS",
     "rolloutStateReason": "ECS deployment ecs-svc/new in progress."}],
  "events": [
    {"id": "e1", "createdAt": 1763812000, "message": "(service api) has started 1 tasks"},
    {"id": "e2", "createdAt": 1763812600, "message": "(service api) has started 2 tasks"}]}],
  "failures": []}"#;

const TASK_DEFINITION: &str = r#"{"taskDefinition": {"family": "api", "revision": 43,
  "containerDefinitions": [{"name": "app", "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:2.4.1"},
                           {"name": "envoy", "image": "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29"}]}}"#;

fn prod_api() -> ServiceRef {
    ServiceRef::parse("prod/api").unwrap()
}

#[tokio::test]
async fn a_service_shows_its_rollout_containers_and_newest_events() {
    let services = mock!(Client::describe_services)
        .match_requests(|req| req.cluster() == Some("prod") && req.services() == ["api".to_owned()])
        .sequence()
        .http_status(200, Some(ROLLING_OUT.into()))
        .build();
    let task = mock!(Client::describe_task_definition)
        .match_requests(|req| {
            req.task_definition() == Some("arn:aws:ecs:us-east-1:123456789012:task-definition/api:43")
        })
        .sequence()
        .http_status(200, Some(TASK_DEFINITION.into()))
        .build();
    let client: Client = mocked_client!(aws_sdk_ecs, [&services, &task]);

    let detail = AwsServices::new(client).describe(&prod_api()).await.unwrap();

    assert_eq!(detail.summary.task_definition.to_string(), "api:43");
    assert_eq!(detail.summary.rollout, Some(RolloutState::InProgress));
    assert_eq!((detail.summary.desired, detail.summary.running, detail.summary.pending), (3, 3, 1));
    let ids: Vec<&str> = detail.deployments.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["ecs-svc/new", "ecs-svc/old"], "PRIMARY first");
    let primary = &detail.deployments[0];
    assert_eq!(primary.failed_tasks, 2);
    assert_eq!(primary.rollout_reason.as_deref(), Some("ECS deployment ecs-svc/new in progress."));
    assert_eq!(detail.events[0].message, "(service api) has started 2 tasks", "newest first");
    assert_eq!(
        detail.containers[1],
        Container { name: "envoy".into(), image: "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29".into() }
    );
}

#[tokio::test]
async fn a_service_reported_missing_is_not_found() {
    let missing = mock!(Client::describe_services)
        .sequence()
        .http_status(
            200,
            Some(
                r#"{"services": [], "failures": [{"arn": "arn:aws:ecs:us-east-1:123456789012:service/prod/api",
                    "reason": "MISSING"}]}"#
                    .into(),
            ),
        )
        .build();
    let client: Client = mocked_client!(aws_sdk_ecs, [&missing]);

    let err = AwsServices::new(client).describe(&prod_api()).await.unwrap_err();

    assert_eq!(err.to_string(), "service `prod/api` was not found");
}

#[tokio::test]
async fn a_missing_cluster_is_not_found_by_its_name() {
    let missing = mock!(Client::describe_services)
        .sequence()
        .http_status(400, Some(r#"{"__type": "ClusterNotFoundException", "message": "Cluster not found."}"#.into()))
        .build();
    let client: Client = mocked_client!(aws_sdk_ecs, [&missing]);

    let err = AwsServices::new(client).describe(&prod_api()).await.unwrap_err();

    assert_eq!(err.to_string(), "cluster `prod` was not found");
}
