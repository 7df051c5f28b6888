//! The fake's ECS changes: `register_revision` and `update_service` are
//! recorded (see [`FakeAws::registered`] and [`FakeAws::updates`]); once a
//! service was updated, `describe` answers the states
//! [`FakeAws::after_update`] scripted, one per look (the last one stays), as
//! a deployment would move along. `stopped_tasks` answers what
//! [`FakeAws::with_stopped_tasks`] gave it. Also the ECS test data: alarms on
//! a service and services half-way through a deployment.

use async_trait::async_trait;

use super::{FakeAws, alarm, deployment, service};
use crate::error::GatewayResult;
use crate::ports::*;
use crate::values::ServiceRef;

/// An AWS/ECS CPU alarm on `service` (`cluster/name`), in `state` since `secs_ago`.
pub fn alarm_on(name: &str, service: &str, state: AlarmState, secs_ago: i64) -> Alarm {
    let service = ServiceRef::parse(service).unwrap();
    Alarm {
        metric: Some("AWS/ECS CPUUtilization".into()),
        dimensions: vec![
            ("ClusterName".into(), service.cluster.to_string()),
            ("ServiceName".into(), service.service.clone()),
        ],
        ..alarm(name, state, secs_ago)
    }
}

/// [`service`] `cluster/name` (4 tasks wanted) half-way through a deployment
/// to revision `to` of its family: the PRIMARY deployment runs `running` of 4
/// in `state`, the ACTIVE one on revision 1 the rest.
pub fn rolling_out(name: &str, to: i32, running: i32, state: RolloutState) -> ServiceDetail {
    let mut detail = service(name, 4, 4);
    let family = detail.summary.task_definition.family.clone();
    let mut old = detail.deployments.remove(0);
    (old.status, old.running, old.desired) = ("ACTIVE".into(), 4 - running, 4 - running);
    let mut new = deployment("PRIMARY", to, state.clone());
    new.id = format!("ecs-svc/new-{to}");
    new.task_definition = Some(TaskDefinitionRef { family: family.clone(), revision: to });
    (new.desired, new.running, new.pending) = (4, running, i32::from(running < 4));
    new.rollout_reason = Some(format!("ECS deployment {} {}.", new.id, state.label()));
    detail.summary.task_definition = TaskDefinitionRef { family, revision: to };
    detail.summary.rollout = Some(state);
    detail.deployments = vec![new, old];
    detail
}

impl FakeAws {
    /// Registers `family:revision` with `(container, image)` containers, in `status`.
    pub fn with_task_definition(mut self, family: &str, revision: i32, status: &str, images: &[(&str, &str)]) -> Self {
        let reference = TaskDefinitionRef { family: family.into(), revision };
        let containers = images.iter().map(|(n, i)| Container { name: (*n).into(), image: (*i).into() }).collect();
        self.task_definitions
            .insert(reference.to_string(), TaskDefinition { reference, status: status.into(), containers });
        self
    }

    /// Deployment `deployment`'s stopped tasks.
    pub fn with_stopped_tasks(mut self, deployment: &str, tasks: Vec<StoppedTask>) -> Self {
        self.stopped.insert(deployment.into(), tasks);
        self
    }

    /// Once `service` is updated, `describe` answers these states in turn
    /// (the last one for good): a deployment as ECS would move it along.
    pub fn after_update(self, service: &str, states: Vec<ServiceDetail>) -> Self {
        self.scripts.lock().unwrap().insert(service.into(), states.into());
        self
    }

    /// From now on, `describe` answers `state` for its service.
    pub fn describe_now(&self, state: ServiceDetail) {
        self.now_described.lock().unwrap().insert(state.summary.service.to_string(), state);
    }

    /// The scripted state of `service`: set by [`Self::describe_now`], or
    /// once it was updated, by [`Self::after_update`].
    pub(super) fn scripted_service(&self, service: &ServiceRef) -> Option<ServiceDetail> {
        if let Some(state) = self.now_described.lock().unwrap().get(&service.to_string()) {
            return Some(state.clone());
        }
        if !self.updates.lock().unwrap().iter().any(|(s, _)| s == service) {
            return None;
        }
        let mut scripts = self.scripts.lock().unwrap();
        let states = scripts.get_mut(&service.to_string())?;
        if states.len() > 1 { states.pop_front() } else { states.front().cloned() }
    }
}

#[async_trait]
impl StoppedTasks for FakeAws {
    async fn stopped_tasks(&self, cluster: &str, service: &str, deployment: &str) -> GatewayResult<Vec<StoppedTask>> {
        self.stopped_asked.lock().unwrap().push((cluster.into(), service.into(), deployment.into()));
        self.check()?;
        if let Some(fail) = self.stopped_fail_with {
            return Err(fail());
        }
        Ok(self.stopped.get(deployment).cloned().unwrap_or_default())
    }
}

#[async_trait]
impl ServiceChanges for FakeAws {
    async fn scale(&self, service: &ServiceRef, desired: i32) -> GatewayResult<Receipt> {
        self.check()?;
        self.scaled.lock().unwrap().push((service.clone(), desired));
        Ok(Receipt { request_id: Some(format!("req-scale-{desired}")) })
    }

    async fn task_definition(&self, reference: &TaskDefinitionRef) -> GatewayResult<Option<TaskDefinition>> {
        self.check()?;
        if let Some(found) = self.task_definitions.get(&reference.to_string()) {
            return Ok(Some(found.clone()));
        }
        let running = self.services.iter().find(|s| &s.summary.task_definition == reference);
        Ok(running.map(|s| TaskDefinition {
            reference: reference.clone(),
            status: "ACTIVE".into(),
            containers: s.containers.clone(),
        }))
    }

    async fn register_revision(
        &self,
        base: &TaskDefinitionRef,
        images: &[Container],
    ) -> GatewayResult<(TaskDefinitionRef, Receipt)> {
        self.check()?;
        let mut registered = self.registered.lock().unwrap();
        let known = self.task_definitions.values().filter(|t| t.reference.family == base.family);
        let latest = known.map(|t| t.reference.revision).fold(base.revision, i32::max);
        let earlier = registered.iter().filter(|(b, _)| b.family == base.family).count();
        registered.push((base.clone(), images.to_vec()));
        let revision = latest + i32::try_from(earlier).unwrap_or(0) + 1;
        let new = TaskDefinitionRef { family: base.family.clone(), revision };
        Ok((new.clone(), Receipt { request_id: Some(format!("req-register-{new}")) }))
    }

    async fn update_service(&self, service: &ServiceRef, update: &ServiceUpdate) -> GatewayResult<ServiceUpdated> {
        self.check()?;
        self.updates.lock().unwrap().push((service.clone(), update.clone()));
        let scripts = self.scripts.lock().unwrap();
        let first = scripts.get(&service.to_string()).and_then(|states| states.front());
        let primary = first.and_then(|s| s.deployments.iter().find(|d| d.status == "PRIMARY"));
        Ok(ServiceUpdated {
            receipt: Receipt { request_id: Some(format!("req-update-{service}")) },
            deployment: primary.map(|d| d.id.clone()),
        })
    }
}
