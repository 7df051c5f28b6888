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
//!
//! Changes: `scale` places or stops tasks at once; `register_revision` adds
//! the family's next revision with the named containers' images swapped;
//! `update_service` starts a deployment that rolls out over time
//! (`ecs_rollout.rs`, moved along by `ecs/progress.rs`). Every read and write
//! sees a service progressed to now.
//! The ports (`Services`, `ServiceChanges`) are in `ecs/ports.rs`.

use std::collections::BTreeMap;

use opsbot_commands::ports::{Deployment, ServiceEvent, ServiceSummary, TaskDefinitionRef};
use opsbot_commands::values::{ClusterName, ServiceRef};

#[path = "ecs_rollout.rs"]
mod rollout;
pub use rollout::{Rollout, STEP, SimClock, deployment_id, task_id};
mod ports;
mod progress;

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
    /// The service's time, which moves its rollout along.
    pub clock: SimClock,
    /// The PRIMARY deployment's rollout while it is in progress.
    pub rollout: Option<Rollout>,
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
}
