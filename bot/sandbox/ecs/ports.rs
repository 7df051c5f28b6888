//! The `Services`, `ServiceChanges` and `StoppedTasks` ports of the sandbox
//! over its [`SimService`]s, each progressed to now on every read and write.
//! A deployment of a `broken` image stopped one task per failed task, each
//! unable to pull that image (as `CannotPullContainerError`). Apart from
//! the data (`ecs.rs`), which the account names, so that the data never
//! imports the [`Sandbox`] that holds it.

use async_trait::async_trait;
use opsbot_commands::ports::{
    Container, Receipt, ServiceChanges, ServiceDetail, ServiceSummary, ServiceUpdate, ServiceUpdated, Services,
    StoppedContainer, StoppedTask, StoppedTasks, TaskDefinition, TaskDefinitionRef,
};
use opsbot_commands::values::{ClusterName, ServiceRef};
use opsbot_commands::{GatewayError, GatewayResult};

use super::{EVENTS, SimService};
use crate::sandbox::Sandbox;
use crate::sandbox::account::Account;

impl SimService {
    fn detail(&self, account: &Account, cluster: &ClusterName, name: &str) -> ServiceDetail {
        let summary = self.summary(cluster, name);
        let containers =
            account.task_definitions.get(&summary.task_definition.to_string()).cloned().unwrap_or_default();
        let events = self.events.iter().take(EVENTS).cloned().collect();
        ServiceDetail { summary, containers, deployments: self.deployments.clone(), events }
    }
}

#[async_trait]
impl Services for Sandbox {
    async fn list(&self, cluster: Option<&ClusterName>) -> GatewayResult<Vec<ServiceSummary>> {
        self.read(|account| {
            let mut out = Vec::new();
            for (name, sim) in &account.clusters {
                if cluster.is_none_or(|wanted| wanted == name) {
                    out.extend(sim.services.iter().map(|(svc, s)| s.progressed(svc).summary(name, svc)));
                }
            }
            match cluster {
                Some(wanted) if !account.clusters.contains_key(wanted) => Err(missing_cluster(wanted)),
                _ => {
                    out.sort_by_cached_key(|s| s.service.to_string());
                    Ok(out)
                }
            }
        })
    }

    async fn describe(&self, service: &ServiceRef) -> GatewayResult<ServiceDetail> {
        self.read(|account| {
            let cluster = account.clusters.get(&service.cluster).ok_or_else(|| missing_cluster(&service.cluster))?;
            let sim = cluster.services.get(&service.service);
            let sim = sim.ok_or_else(|| GatewayError::not_found(format!("service `{service}`")))?;
            Ok(sim.progressed(&service.service).detail(account, &service.cluster, &service.service))
        })
    }
}

#[async_trait]
impl ServiceChanges for Sandbox {
    async fn scale(&self, service: &ServiceRef, desired: i32) -> GatewayResult<Receipt> {
        self.update(|account| {
            let sim = service_mut(account, service)?;
            sim.desired = desired;
            // The simulated scheduler places or stops tasks at once.
            if let Some(primary) = sim.deployments.iter_mut().find(|d| d.status == "PRIMARY") {
                (primary.desired, primary.running, primary.pending) = (desired, desired, 0);
            }
            Ok(Receipt { request_id: Some(format!("sandbox-scale-{}", service)) })
        })
    }

    async fn task_definition(&self, reference: &TaskDefinitionRef) -> GatewayResult<Option<TaskDefinition>> {
        Ok(self.read(|account| {
            let containers = account.task_definitions.get(&reference.to_string()).cloned();
            containers.map(|containers| TaskDefinition {
                reference: reference.clone(),
                status: "ACTIVE".into(),
                containers,
            })
        }))
    }

    async fn register_revision(
        &self,
        base: &TaskDefinitionRef,
        images: &[Container],
    ) -> GatewayResult<(TaskDefinitionRef, Receipt)> {
        self.update(|account| {
            let what = format!("task definition `{base}`");
            let containers =
                account.task_definitions.get(&base.to_string()).ok_or_else(|| GatewayError::not_found(&what))?;
            if let Some(missing) = images.iter().find(|i| !containers.iter().any(|c| c.name == i.name)) {
                return Err(GatewayError::other(
                    format!("{what} has no container `{}`", missing.name),
                    "no such container",
                ));
            }
            let swapped =
                containers.iter().map(|c| images.iter().find(|i| i.name == c.name).unwrap_or(c).clone()).collect();
            let revisions = account.task_definitions.keys().filter_map(|k| TaskDefinitionRef::from_aws(k));
            let latest = revisions.filter(|t| t.family == base.family).map(|t| t.revision).max().unwrap_or(0);
            let new = TaskDefinitionRef { family: base.family.clone(), revision: latest + 1 };
            account.task_definitions.insert(new.to_string(), swapped);
            Ok((new.clone(), Receipt { request_id: Some(format!("sandbox-register-{new}")) }))
        })
    }

    async fn update_service(&self, service: &ServiceRef, update: &ServiceUpdate) -> GatewayResult<ServiceUpdated> {
        self.update(|account| {
            let target = match &update.task_definition {
                Some(td) => {
                    let containers = account.task_definitions.get(&td.to_string());
                    let containers =
                        containers.ok_or_else(|| GatewayError::not_found(format!("task definition `{td}`")))?;
                    Some((td.clone(), containers.iter().any(|c| c.image.contains("broken"))))
                }
                None => None,
            };
            let sim = service_mut(account, service)?;
            *sim = sim.progressed(&service.service);
            let primary = sim.deployments.iter().find(|d| d.status == "PRIMARY");
            let current = primary.and_then(|d| d.task_definition.clone());
            let receipt = Receipt { request_id: Some(format!("sandbox-update-{service}")) };
            let (td, fails) = match (target, current) {
                (Some((td, fails)), current) if update.force_new_deployment || Some(&td) != current.as_ref() => {
                    (td, fails)
                }
                (None, Some(current)) if update.force_new_deployment => (current, false),
                // Nothing changes: ECS starts no deployment.
                _ => return Ok(ServiceUpdated { receipt, deployment: primary.map(|d| d.id.clone()) }),
            };
            let now = sim.clock.now();
            let deployment = sim.deploy(td, fails, now);
            Ok(ServiceUpdated { receipt, deployment: Some(deployment) })
        })
    }
}

#[async_trait]
impl StoppedTasks for Sandbox {
    async fn stopped_tasks(&self, cluster: &str, service: &str, deployment: &str) -> GatewayResult<Vec<StoppedTask>> {
        let what = || GatewayError::not_found(format!("service `{cluster}/{service}`"));
        let service = ServiceRef::parse(&format!("{cluster}/{service}")).map_err(|_| what())?;
        self.read(|account| {
            let cluster = account.clusters.get(&service.cluster).ok_or_else(|| missing_cluster(&service.cluster))?;
            let sim = cluster.services.get(&service.service).ok_or_else(what)?.progressed(&service.service);
            let Some(started) = sim.deployments.iter().find(|d| d.id == deployment) else { return Ok(Vec::new()) };
            let td = started.task_definition.as_ref().map(ToString::to_string).unwrap_or_default();
            let containers = account.task_definitions.get(&td).map(Vec::as_slice).unwrap_or_default();
            let unpulled = containers.iter().filter(|c| c.image.contains("broken")).map(|c| StoppedContainer {
                name: c.name.clone(),
                exit_code: None,
                reason: Some(format!("CannotPullContainerError: failed to resolve ref {}: not found", c.image)),
            });
            let task = StoppedTask {
                stopped_reason: Some("CannotPullContainerError: pull image manifest has been retried 5 time(s)".into()),
                containers: unpulled.collect(),
            };
            Ok(vec![task; usize::try_from(started.failed_tasks).unwrap_or(0)])
        })
    }
}

fn service_mut<'a>(account: &'a mut Account, service: &ServiceRef) -> GatewayResult<&'a mut SimService> {
    let cluster = account.clusters.get_mut(&service.cluster).ok_or_else(|| missing_cluster(&service.cluster))?;
    let sim = cluster.services.get_mut(&service.service);
    sim.ok_or_else(|| GatewayError::not_found(format!("service `{service}`")))
}

fn missing_cluster(cluster: &ClusterName) -> GatewayError {
    GatewayError::not_found(format!("cluster `{cluster}`"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::seed::tests::demo;
    use opsbot_commands::ports::RolloutState;

    fn svc(raw: &str) -> ServiceRef {
        ServiceRef::parse(raw).unwrap()
    }

    #[tokio::test]
    async fn prod_api_is_mid_rollout_with_both_revisions_running() {
        let api = demo().describe(&svc("prod/api")).await.unwrap();
        assert_eq!(api.summary.rollout, Some(RolloutState::InProgress));
        assert_eq!(api.summary.task_definition.to_string(), "api:57");
        let [primary, old] = &api.deployments[..] else { panic!("two deployments: {:?}", api.deployments) };
        assert_eq!((primary.status.as_str(), primary.running, primary.desired), ("PRIMARY", 2, 4));
        assert_eq!((old.status.as_str(), old.running), ("ACTIVE", 4));
        assert_eq!(api.summary.running, 6);
        assert!(api.containers.iter().any(|c| c.image.ends_with("/api:1.42.0")), "{:?}", api.containers);
        assert!(!api.events.is_empty());
    }

    #[tokio::test]
    async fn services_are_listed_per_cluster_or_all_sorted() {
        let sandbox = demo();
        let all = Services::list(&sandbox, None).await.unwrap();
        let names: Vec<String> = all.iter().map(|s| s.service.to_string()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        assert!(names.contains(&"staging/api".to_string()));
        let prod = Services::list(&sandbox, Some(&ClusterName::parse("prod").unwrap())).await.unwrap();
        assert!(prod.iter().all(|s| s.service.cluster.as_str() == "prod") && prod.len() < all.len());
    }

    #[tokio::test]
    async fn unknown_clusters_and_services_are_not_found() {
        let sandbox = demo();
        let err = Services::list(&sandbox, Some(&ClusterName::parse("qa").unwrap())).await.unwrap_err();
        assert_eq!(err.to_string(), "cluster `qa` was not found");
        let err = sandbox.describe(&svc("prod/nope")).await.unwrap_err();
        assert_eq!(err.to_string(), "service `prod/nope` was not found");
        let err = sandbox.describe(&svc("qa/api")).await.unwrap_err();
        assert_eq!(err.to_string(), "cluster `qa` was not found");
    }
}
