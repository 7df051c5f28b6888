//! [`Services`] with ECS.
//!
//! - `list`: the given cluster, or every cluster (`ListClusters`, paginated);
//!   for each, `ListServices` (paginated) then `DescribeServices` in batches of
//!   10, the API's maximum.
//! - `describe`: `DescribeServices` for the one service, then
//!   `DescribeTaskDefinition` of its task definition for containers and images.
//!
//! ECS reports a missing service in `failures` (reason `MISSING`), not as an
//! error; both that and a missing cluster (`ClusterNotFoundException`) become
//! `NotFound` naming what is missing. A deleted service can still be described
//! for a while with status INACTIVE; it is shown as such. Events are kept
//! newest first, the last [`EVENTS`].
//!
//! [`ServiceChanges`] (scale, register a revision, update the service) lives
//! in `ecs_changes.rs`.

use async_trait::async_trait;
use aws_sdk_ecs::Client;
use aws_sdk_ecs::error::SdkError;
use aws_sdk_ecs::types as sdk;
use opsbot_commands::error::{GatewayError, GatewayResult};
use opsbot_commands::ports::*;
use opsbot_commands::values::{ClusterName, ServiceRef};

use super::errors::{OrGateway, code_of, gateway_error};
use super::time::utc;

/// `DescribeServices` takes at most 10 services per call.
const BATCH: usize = 10;
/// Service events kept for `describe`.
const EVENTS: usize = 10;

pub struct AwsServices {
    client: Client,
}

impl AwsServices {
    pub fn new(client: Client) -> Self {
        AwsServices { client }
    }

    async fn cluster_names(&self, cluster: Option<&ClusterName>) -> GatewayResult<Vec<ClusterName>> {
        if let Some(cluster) = cluster {
            return Ok(vec![cluster.clone()]);
        }
        let arns: Vec<String> =
            self.client.list_clusters().into_paginator().items().send().try_collect().await.or_gateway("clusters")?;
        arns.iter().map(|arn| cluster_name(arn)).collect()
    }

    async fn cluster_services(&self, cluster: &ClusterName) -> GatewayResult<Vec<ServiceSummary>> {
        let what = format!("cluster `{cluster}`");
        let arns: Vec<String> = self
            .client
            .list_services()
            .cluster(cluster.as_str())
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .or_gateway(&what)?;
        let mut summaries = Vec::with_capacity(arns.len());
        for batch in arns.chunks(BATCH) {
            let described =
                self.client.describe_services().cluster(cluster.as_str()).set_services(Some(batch.to_vec()));
            let described = described.send().await.or_gateway(&what)?;
            summaries.extend(described.services().iter().map(|s| summary(cluster, s)));
        }
        Ok(summaries)
    }

    async fn containers(&self, task_definition: &str) -> GatewayResult<Vec<Container>> {
        let described = self.client.describe_task_definition().task_definition(task_definition).send().await;
        let described = described.or_gateway(&format!("task definition `{task_definition}`"))?;
        let definitions = described.task_definition().map(|t| t.container_definitions()).unwrap_or_default();
        Ok(container_list(definitions))
    }
}

#[async_trait]
impl Services for AwsServices {
    async fn list(&self, cluster: Option<&ClusterName>) -> GatewayResult<Vec<ServiceSummary>> {
        let mut all = Vec::new();
        for cluster in self.cluster_names(cluster).await? {
            all.extend(self.cluster_services(&cluster).await?);
        }
        all.sort_by_cached_key(|s| s.service.to_string());
        Ok(all)
    }

    async fn describe(&self, service: &ServiceRef) -> GatewayResult<ServiceDetail> {
        let described = self.client.describe_services().cluster(service.cluster.as_str()).services(&service.service);
        let described = described.send().await.map_err(|err| missing_cluster_or(err, service))?;
        let Some(found) = described.services().first() else {
            // `failures: [{reason: MISSING}]`: ECS's way of saying "no such service".
            return Err(GatewayError::not_found(format!("service `{service}`")));
        };
        let containers = match found.task_definition() {
            Some(arn) => self.containers(arn).await?,
            None => Vec::new(),
        };
        Ok(ServiceDetail {
            summary: summary(&service.cluster, found),
            containers,
            deployments: deployments(found.deployments()),
            events: events(found.events()),
        })
    }
}

fn missing_cluster_or<E, R>(err: SdkError<E, R>, service: &ServiceRef) -> GatewayError
where
    E: aws_sdk_ecs::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match code_of(&err) {
        Some("ClusterNotFoundException") => gateway_error(err, &format!("cluster `{}`", service.cluster)),
        _ => gateway_error(err, &format!("service `{service}`")),
    }
}

/// Name and image of each container definition.
fn container_list(definitions: &[sdk::ContainerDefinition]) -> Vec<Container> {
    let container = |c: &sdk::ContainerDefinition| Container {
        name: c.name().unwrap_or_default().to_owned(),
        image: c.image().unwrap_or_default().to_owned(),
    };
    definitions.iter().map(container).collect()
}

/// `arn:aws:ecs:REGION:ACCOUNT:cluster/NAME` (or a bare name) → `NAME`.
fn cluster_name(arn: &str) -> GatewayResult<ClusterName> {
    let name = arn.rsplit('/').next().unwrap_or(arn);
    ClusterName::parse(name).map_err(|err| GatewayError::other(format!("unexpected ECS cluster `{arn}`"), err))
}

fn summary(cluster: &ClusterName, service: &sdk::Service) -> ServiceSummary {
    let primary = service.deployments().iter().find(|d| d.status() == Some("PRIMARY"));
    let task_definition = service
        .task_definition()
        .or_else(|| primary.and_then(|d| d.task_definition()))
        .and_then(TaskDefinitionRef::from_aws)
        // Services with an external deployment controller have no task definition.
        .unwrap_or_else(|| TaskDefinitionRef { family: "-".into(), revision: 0 });
    ServiceSummary {
        service: ServiceRef {
            cluster: cluster.clone(),
            service: service.service_name().unwrap_or_default().to_owned(),
        },
        status: service.status().unwrap_or_default().to_owned(),
        desired: service.desired_count(),
        running: service.running_count(),
        pending: service.pending_count(),
        task_definition,
        rollout: primary.and_then(|d| d.rollout_state()).map(|r| RolloutState::from_aws(r.as_str())),
    }
}

/// PRIMARY first, then the others newest first.
fn deployments(deployments: &[sdk::Deployment]) -> Vec<Deployment> {
    let mut mapped: Vec<Deployment> = deployments
        .iter()
        .map(|d| Deployment {
            id: d.id().unwrap_or_default().to_owned(),
            status: d.status().unwrap_or_default().to_owned(),
            task_definition: d.task_definition().and_then(TaskDefinitionRef::from_aws),
            rollout: d.rollout_state().map(|r| RolloutState::from_aws(r.as_str())),
            rollout_reason: d.rollout_state_reason().map(str::to_owned),
            desired: d.desired_count(),
            running: d.running_count(),
            pending: d.pending_count(),
            failed_tasks: d.failed_tasks(),
            created: utc(d.created_at()),
            updated: utc(d.updated_at()),
        })
        .collect();
    mapped.sort_by_key(|d| (d.status != "PRIMARY", std::cmp::Reverse(d.created)));
    mapped
}

fn events(events: &[sdk::ServiceEvent]) -> Vec<ServiceEvent> {
    let mut mapped: Vec<ServiceEvent> = events
        .iter()
        .map(|e| ServiceEvent { at: utc(e.created_at()), message: e.message().unwrap_or_default().to_owned() })
        .collect();
    mapped.sort_by_key(|e| std::cmp::Reverse(e.at));
    mapped.truncate(EVENTS);
    mapped
}

#[path = "ecs_changes.rs"]
mod changes;

#[cfg(test)]
#[path = "ecs_tests.rs"]
mod tests;
