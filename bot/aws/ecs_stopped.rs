//! [`StoppedTasks`] with ECS: `ListTasks` (the service's STOPPED tasks, at
//! most 100: a failed deployment's are the newest) and `DescribeTasks` for
//! their reasons, keeping the tasks the deployment started (`startedBy` is
//! the deployment id for a service's tasks). ECS keeps stopped tasks for
//! about an hour, so an empty answer is normal for an old failure.

use async_trait::async_trait;
use aws_sdk_ecs::Client;
use aws_sdk_ecs::types::DesiredStatus;
use opsbot_commands::error::GatewayResult;

use super::errors::OrGateway;
use opsbot_commands::ports::{StoppedContainer, StoppedTask, StoppedTasks};

pub struct AwsStoppedTasks {
    client: Client,
}

impl AwsStoppedTasks {
    pub fn new(client: Client) -> Self {
        AwsStoppedTasks { client }
    }
}

#[async_trait]
impl StoppedTasks for AwsStoppedTasks {
    async fn stopped_tasks(&self, cluster: &str, service: &str, deployment: &str) -> GatewayResult<Vec<StoppedTask>> {
        let what = format!("service `{cluster}/{service}`");
        let listed = self
            .client
            .list_tasks()
            .cluster(cluster)
            .service_name(service)
            .desired_status(DesiredStatus::Stopped)
            .max_results(100)
            .send()
            .await
            .or_gateway(&what)?;
        if listed.task_arns().is_empty() {
            return Ok(Vec::new());
        }
        let described = self
            .client
            .describe_tasks()
            .cluster(cluster)
            .set_tasks(Some(listed.task_arns().to_vec()))
            .send()
            .await
            .or_gateway(&what)?;
        let ours = described.tasks().iter().filter(|t| t.started_by() == Some(deployment));
        Ok(ours
            .map(|t| StoppedTask {
                stopped_reason: t.stopped_reason().map(str::to_owned),
                containers: t
                    .containers()
                    .iter()
                    .map(|c| StoppedContainer {
                        name: c.name().unwrap_or_default().to_owned(),
                        exit_code: c.exit_code(),
                        reason: c.reason().map(str::to_owned),
                    })
                    .collect(),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_ecs::Client;
    use aws_smithy_mocks::mock;

    use super::*;
    use crate::aws::mocked_client;

    const LISTED: &str = r#"{"taskArns": ["arn:aws:ecs:eu-west-1:111122223333:task/prod/a1", "arn:aws:ecs:eu-west-1:111122223333:task/prod/b2", "arn:aws:ecs:eu-west-1:111122223333:task/prod/c3"]}"#;

    const DESCRIBED: &str = r#"{"tasks": [
      {"taskArn": "arn:aws:ecs:eu-west-1:111122223333:task/prod/a1", "startedBy": "ecs-svc/9876", "lastStatus": "STOPPED",
       "stopCode": "EssentialContainerExited", "stoppedReason": "Essential container in task exited",
       "containers": [{"name": "web", "exitCode": 1, "lastStatus": "STOPPED"}, {"name": "envoy", "exitCode": 0}],
       "overrides": {"containerOverrides": [{"name": "web", "environment": [{"name": "DB_PASSWORD", "value": "hunter2"}]}]}},
      {"taskArn": "arn:aws:ecs:eu-west-1:111122223333:task/prod/b2", "startedBy": "ecs-svc/9876", "lastStatus": "STOPPED",
       "stoppedReason": "CannotPullContainerError: pull access denied",
       "containers": [{"name": "web", "reason": "CannotPullContainerError: pull access denied for web:43"}]},
      {"taskArn": "arn:aws:ecs:eu-west-1:111122223333:task/prod/c3", "startedBy": "ecs-svc/1111", "lastStatus": "STOPPED",
       "stoppedReason": "Scaling activity initiated by (deployment ecs-svc/1111)", "containers": []}],
      "failures": []}"#;

    #[tokio::test]
    async fn only_the_tasks_the_failed_deployment_started_are_read_with_their_containers_and_no_environment() {
        let list = mock!(Client::list_tasks)
            .match_requests(|req| {
                req.cluster() == Some("prod")
                    && req.service_name() == Some("web")
                    && req.desired_status() == Some(&DesiredStatus::Stopped)
            })
            .sequence()
            .http_status(200, Some(LISTED.into()))
            .build();
        let describe = mock!(Client::describe_tasks)
            .match_requests(|req| req.tasks().len() == 3)
            .sequence()
            .http_status(200, Some(DESCRIBED.into()))
            .build();
        let gateway = AwsStoppedTasks::new(mocked_client!(aws_sdk_ecs, [&list, &describe]));
        let tasks = gateway.stopped_tasks("prod", "web", "ecs-svc/9876").await.unwrap();
        assert_eq!(tasks.len(), 2, "{tasks:?}");
        assert_eq!(tasks[0].stopped_reason.as_deref(), Some("Essential container in task exited"));
        assert_eq!(tasks[0].containers[0], StoppedContainer { name: "web".into(), exit_code: Some(1), reason: None });
        assert_eq!(
            tasks[1].containers[0].reason.as_deref(),
            Some("CannotPullContainerError: pull access denied for web:43")
        );
        assert!(!format!("{tasks:?}").contains("hunter2"));
    }

    #[tokio::test]
    async fn a_service_with_no_stopped_tasks_is_not_described() {
        let list = mock!(Client::list_tasks).sequence().http_status(200, Some(r#"{"taskArns": []}"#.into())).build();
        let gateway = AwsStoppedTasks::new(mocked_client!(aws_sdk_ecs, [&list]));
        assert!(gateway.stopped_tasks("prod", "web", "ecs-svc/9876").await.unwrap().is_empty());
    }
}
