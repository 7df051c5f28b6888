//! ECS in the sandbox: clusters, services and their deployments.
//!
//! A service stores what ECS stores — its desired count, its deployments
//! (PRIMARY first) and its event log; the counts, task definition and rollout
//! state the port reports are derived from the deployments, so a rollout
//! progresses by changing deployment counts only. Containers come from the
//! account's registered task definitions, as `DescribeTaskDefinition` would.
//!
//! Like `bot/aws/ecs.rs`: services sort by `cluster/service`, `describe` keeps
//! the newest [`EVENTS`] events, and a missing cluster is reported as the
//! cluster (``cluster `qa` ``), a missing service as the service.

use std::collections::BTreeMap;

use async_trait::async_trait;
use opsbot_commands::ports::{
    Deployment, Receipt, ServiceChanges, ServiceDetail, ServiceEvent, ServiceSummary, Services, TaskDefinitionRef,
};
use opsbot_commands::values::{ClusterName, ServiceRef};
use opsbot_commands::{GatewayError, GatewayResult};

use super::{Account, Sandbox};

/// Service events `describe` returns, newest first (as the AWS gateway).
pub const EVENTS: usize = 10;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimCluster {
    pub services: BTreeMap<String, SimService>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimService {
    /// ACTIVE, DRAINING or INACTIVE.
    pub status: String,
    pub desired: i32,
    /// PRIMARY first, then older ACTIVE ones.
    pub deployments: Vec<Deployment>,
    /// Newest first.
    pub events: Vec<ServiceEvent>,
}

impl SimService {
    fn primary(&self) -> Option<&Deployment> {
        self.deployments.iter().find(|d| d.status == "PRIMARY")
    }

    fn summary(&self, cluster: &ClusterName, name: &str) -> ServiceSummary {
        let primary = self.primary();
        let unknown = TaskDefinitionRef { family: name.to_owned(), revision: 0 };
        ServiceSummary {
            service: ServiceRef { cluster: cluster.clone(), service: name.to_owned() },
            status: self.status.clone(),
            desired: self.desired,
            running: self.deployments.iter().map(|d| d.running).sum(),
            pending: self.deployments.iter().map(|d| d.pending).sum(),
            task_definition: primary.and_then(|d| d.task_definition.clone()).unwrap_or(unknown),
            rollout: primary.and_then(|d| d.rollout.clone()),
        }
    }

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
                    out.extend(sim.services.iter().map(|(svc, s)| s.summary(name, svc)));
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
            Ok(sim.detail(account, &service.cluster, &service.service))
        })
    }
}

#[async_trait]
impl ServiceChanges for Sandbox {
    async fn scale(&self, service: &ServiceRef, desired: i32) -> GatewayResult<Receipt> {
        self.update(|account| {
            let cluster =
                account.clusters.get_mut(&service.cluster).ok_or_else(|| missing_cluster(&service.cluster))?;
            let sim = cluster.services.get_mut(&service.service);
            let sim = sim.ok_or_else(|| GatewayError::not_found(format!("service `{service}`")))?;
            sim.desired = desired;
            // The simulated scheduler places or stops tasks at once.
            if let Some(primary) = sim.deployments.iter_mut().find(|d| d.status == "PRIMARY") {
                (primary.desired, primary.running, primary.pending) = (desired, desired, 0);
            }
            Ok(Receipt { request_id: Some(format!("sandbox-scale-{}", service)) })
        })
    }
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
