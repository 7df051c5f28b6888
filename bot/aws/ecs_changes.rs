//! [`ServiceChanges`] with ECS.
//!
//! - `scale`: UpdateService `desiredCount`.
//! - `task_definition`: DescribeTaskDefinition of `family:revision`. ECS (and
//!   moto) answer a revision that does not exist with `ClientException`
//!   "Unable to describe task definition.", which becomes `None`.
//! - `register_revision`: DescribeTaskDefinition of the base with its tags,
//!   then RegisterTaskDefinition with every field RegisterTaskDefinition
//!   accepts copied from it — family, task and execution roles, network mode,
//!   containers, volumes, placement constraints, required compatibilities,
//!   cpu, memory, pid and ipc mode, proxy configuration, ephemeral storage,
//!   runtime platform, fault injection — and its tags except `aws:` ones,
//!   which only AWS may set. What ECS derives (ARN, revision, status,
//!   compatibilities, requiresAttributes, registeredAt / By) is not an input;
//!   inference accelerators (Elastic Inference, retired by AWS and deprecated
//!   in the SDK) are not copied. Only the named containers' images change;
//!   naming a container the base does not have registers nothing.
//! - `update_service`: UpdateService with `taskDefinition` (`family:revision`)
//!   and/or `forceNewDeployment`; the PRIMARY deployment in its answer is the
//!   one it started.
//!
//! Receipts carry each change call's request id (`x-amzn-RequestId`).

use async_trait::async_trait;
use aws_sdk_ecs::error::SdkError;
use aws_sdk_ecs::operation::RequestId;
use aws_sdk_ecs::operation::register_task_definition::builders::RegisterTaskDefinitionFluentBuilder;
use aws_sdk_ecs::types as sdk;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use opsbot_commands::error::{GatewayError, GatewayResult};
use opsbot_commands::ports::{
    Container, Receipt, ServiceChanges, ServiceUpdate, ServiceUpdated, TaskDefinition, TaskDefinitionRef,
};
use opsbot_commands::values::ServiceRef;

use super::{AwsServices, container_list, missing_cluster_or};
use crate::aws::errors::OrGateway;

#[async_trait]
impl ServiceChanges for AwsServices {
    async fn scale(&self, service: &ServiceRef, desired: i32) -> GatewayResult<Receipt> {
        let update = self.client.update_service().cluster(service.cluster.as_str()).service(&service.service);
        let done = update.desired_count(desired).send().await.map_err(|err| missing_cluster_or(err, service))?;
        Ok(Receipt { request_id: done.request_id().map(str::to_owned) })
    }

    async fn task_definition(&self, reference: &TaskDefinitionRef) -> GatewayResult<Option<TaskDefinition>> {
        let described = self.client.describe_task_definition().task_definition(reference.to_string()).send().await;
        let described = match described {
            Err(err) if unknown_revision(&err) => return Ok(None),
            other => other.or_gateway(&format!("task definition `{reference}`"))?,
        };
        Ok(described.task_definition().map(|found| TaskDefinition {
            reference: reference.clone(),
            status: found.status().map_or("ACTIVE", |s| s.as_str()).to_owned(),
            containers: container_list(found.container_definitions()),
        }))
    }

    async fn register_revision(
        &self,
        base: &TaskDefinitionRef,
        images: &[Container],
    ) -> GatewayResult<(TaskDefinitionRef, Receipt)> {
        let what = format!("task definition `{base}`");
        let described = self.client.describe_task_definition().task_definition(base.to_string());
        let described = described.include(sdk::TaskDefinitionField::Tags).send().await.or_gateway(&what)?;
        let found = described.task_definition().ok_or_else(|| GatewayError::not_found(what.clone()))?;
        let containers = with_images(found.container_definitions(), images)
            .map_err(|name| GatewayError::other(format!("{what} has no container `{name}`"), name))?;
        let register = copy_of(&self.client, found, described.tags()).set_container_definitions(Some(containers));
        let registered = register.send().await.or_gateway(&what)?;
        let new = registered.task_definition().map(|t| TaskDefinitionRef {
            family: t.family().unwrap_or(&base.family).to_owned(),
            revision: t.revision(),
        });
        let new =
            new.ok_or_else(|| GatewayError::other(format!("no revision registered for {what}"), "empty answer"))?;
        Ok((new, Receipt { request_id: registered.request_id().map(str::to_owned) }))
    }

    async fn update_service(&self, service: &ServiceRef, update: &ServiceUpdate) -> GatewayResult<ServiceUpdated> {
        let call = self.client.update_service().cluster(service.cluster.as_str()).service(&service.service);
        let call = call.set_task_definition(update.task_definition.as_ref().map(ToString::to_string));
        let call = call.set_force_new_deployment(update.force_new_deployment.then_some(true));
        let done = call.send().await.map_err(|err| missing_cluster_or(err, service))?;
        let deployments = done.service().map(|s| s.deployments()).unwrap_or_default();
        let primary = deployments.iter().find(|d| d.status() == Some("PRIMARY"));
        Ok(ServiceUpdated {
            receipt: Receipt { request_id: done.request_id().map(str::to_owned) },
            deployment: primary.and_then(|d| d.id()).map(str::to_owned),
        })
    }
}

/// ECS's answer to DescribeTaskDefinition of a revision that does not exist.
fn unknown_revision<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    err.code() == Some("ClientException")
        && err.message().is_some_and(|m| m.starts_with("Unable to describe task definition"))
}

/// `base`'s container definitions with the images `images` names; `Err` is
/// the name of a container `base` does not have.
fn with_images(
    base: &[sdk::ContainerDefinition],
    images: &[Container],
) -> Result<Vec<sdk::ContainerDefinition>, String> {
    if let Some(missing) = images.iter().find(|i| !base.iter().any(|c| c.name() == Some(i.name.as_str()))) {
        return Err(missing.name.clone());
    }
    let swap = |c: &sdk::ContainerDefinition| {
        let mut c = c.clone();
        if let Some(new) = images.iter().find(|i| c.name() == Some(i.name.as_str())) {
            c.image = Some(new.image.clone());
        }
        c
    };
    Ok(base.iter().map(swap).collect())
}

/// RegisterTaskDefinition with everything `base` has (see the module docs),
/// containers included; the caller replaces those it changes.
fn copy_of(
    client: &aws_sdk_ecs::Client,
    base: &sdk::TaskDefinition,
    tags: &[sdk::Tag],
) -> RegisterTaskDefinitionFluentBuilder {
    let ours: Vec<sdk::Tag> =
        tags.iter().filter(|t| !t.key().is_some_and(|k| k.starts_with("aws:"))).cloned().collect();
    client
        .register_task_definition()
        .set_family(base.family().map(str::to_owned))
        .set_task_role_arn(base.task_role_arn().map(str::to_owned))
        .set_execution_role_arn(base.execution_role_arn().map(str::to_owned))
        .set_network_mode(base.network_mode().cloned())
        .set_container_definitions(some(base.container_definitions()))
        .set_volumes(some(base.volumes()))
        .set_placement_constraints(some(base.placement_constraints()))
        .set_requires_compatibilities(some(base.requires_compatibilities()))
        .set_cpu(base.cpu().map(str::to_owned))
        .set_memory(base.memory().map(str::to_owned))
        .set_pid_mode(base.pid_mode().cloned())
        .set_ipc_mode(base.ipc_mode().cloned())
        .set_proxy_configuration(base.proxy_configuration().cloned())
        .set_ephemeral_storage(base.ephemeral_storage().cloned())
        .set_runtime_platform(base.runtime_platform().cloned())
        .set_enable_fault_injection(base.enable_fault_injection())
        .set_tags(some(&ours))
}

/// A list as the SDK's setters take it: absent rather than empty.
fn some<T: Clone>(items: &[T]) -> Option<Vec<T>> {
    (!items.is_empty()).then(|| items.to_vec())
}

#[cfg(test)]
#[path = "ecs_changes_tests.rs"]
mod tests;
