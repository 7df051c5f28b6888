//! Amazon ECS: "ECS Deployment State Change" and "ECS Service Action" events
//! ("Amazon ECS events" in the ECS developer guide: service deployment state
//! change events and service action events).
//!
//! The service ARN is the event's first resource. Routes match the name
//! "cluster/service": long-format ARNs (`service/<cluster>/<service>`) carry
//! both; an old short-format ARN (`service/<service>`) takes the cluster from
//! `clusterArn` when the event has one, else the name is the service alone.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::wire::{self, Arn};

pub(super) const DEPLOYMENT_CHANGE: &str = "ECS Deployment State Change";
pub(super) const SERVICE_ACTION: &str = "ECS Service Action";

/// INFO, WARN or ERROR; another word reads as `Unknown`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "String")]
pub enum EcsEventType {
    Info,
    Warn,
    Error,
    Unknown(String),
}

impl From<String> for EcsEventType {
    fn from(text: String) -> Self {
        match text.as_str() {
            "INFO" => EcsEventType::Info,
            "WARN" => EcsEventType::Warn,
            "ERROR" => EcsEventType::Error,
            _ => EcsEventType::Unknown(text),
        }
    }
}

/// SERVICE_DEPLOYMENT_IN_PROGRESS / _COMPLETED / _FAILED.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "String")]
pub enum DeploymentEvent {
    InProgress,
    Completed,
    Failed,
    Unknown(String),
}

impl From<String> for DeploymentEvent {
    fn from(text: String) -> Self {
        match text.as_str() {
            "SERVICE_DEPLOYMENT_IN_PROGRESS" => DeploymentEvent::InProgress,
            "SERVICE_DEPLOYMENT_COMPLETED" => DeploymentEvent::Completed,
            "SERVICE_DEPLOYMENT_FAILED" => DeploymentEvent::Failed,
            _ => DeploymentEvent::Unknown(text),
        }
    }
}

/// A service deployment started (initial or rollback: see `reason`), completed or failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcsDeployment {
    pub service_arn: String,
    /// "cluster/service".
    pub name: String,
    pub event_type: EcsEventType,
    pub event: DeploymentEvent,
    pub deployment_id: String,
    pub reason: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// Something the service scheduler reports: steady state, task placement
/// failures, throttling, ...
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcsServiceAction {
    pub service_arn: String,
    /// "cluster/service".
    pub name: String,
    pub event_type: EcsEventType,
    /// SERVICE_STEADY_STATE, SERVICE_TASK_PLACEMENT_FAILURE, ...
    pub event_name: String,
    pub cluster_arn: Option<String>,
    pub reason: Option<String>,
    pub capacity_provider_arns: Vec<String>,
    pub created_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeploymentDetail {
    event_type: EcsEventType,
    event_name: DeploymentEvent,
    deployment_id: String,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default, deserialize_with = "wire::opt_time")]
    updated_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ActionDetail {
    event_type: EcsEventType,
    event_name: String,
    #[serde(default)]
    cluster_arn: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    capacity_provider_arns: Vec<String>,
    #[serde(default, deserialize_with = "wire::opt_time")]
    created_at: Option<DateTime<Utc>>,
}

pub(super) fn deployment(detail: Value, resources: &[String]) -> Result<EcsDeployment, String> {
    let detail: DeploymentDetail = wire::read(detail)?;
    let service_arn = service_arn(resources)?;
    Ok(EcsDeployment {
        name: service_name(&service_arn, None),
        service_arn,
        event_type: detail.event_type,
        event: detail.event_name,
        deployment_id: detail.deployment_id,
        reason: detail.reason,
        updated_at: detail.updated_at,
    })
}

pub(super) fn service_action(detail: Value, resources: &[String]) -> Result<EcsServiceAction, String> {
    let detail: ActionDetail = wire::read(detail)?;
    let service_arn = service_arn(resources)?;
    Ok(EcsServiceAction {
        name: service_name(&service_arn, detail.cluster_arn.as_deref()),
        service_arn,
        event_type: detail.event_type,
        event_name: detail.event_name,
        cluster_arn: detail.cluster_arn,
        reason: detail.reason,
        capacity_provider_arns: detail.capacity_provider_arns,
        created_at: detail.created_at,
    })
}

fn service_arn(resources: &[String]) -> Result<String, String> {
    resources.first().cloned().ok_or_else(|| "no service ARN in `resources`".to_owned())
}

/// "cluster/service" from a service ARN (and the cluster ARN for short-format ARNs).
fn service_name(service_arn: &str, cluster_arn: Option<&str>) -> String {
    let resource = Arn::parse(service_arn).map_or(service_arn, |arn| arn.resource);
    let path = resource.strip_prefix("service/").unwrap_or(resource);
    if path.contains('/') {
        return path.to_owned();
    }
    let cluster = cluster_arn.and_then(Arn::parse).and_then(|arn| arn.resource.strip_prefix("cluster/"));
    match cluster {
        Some(cluster) => format!("{cluster}/{path}"),
        None => path.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::service_name;

    #[test]
    fn the_route_name_is_cluster_slash_service_for_both_arn_formats() {
        assert_eq!(service_name("arn:aws:ecs:us-west-2:1:service/prod/api", None), "prod/api");
        let cluster = Some("arn:aws:ecs:us-west-2:1:cluster/prod");
        assert_eq!(service_name("arn:aws:ecs:us-west-2:1:service/api", cluster), "prod/api");
        assert_eq!(service_name("arn:aws:ecs:us-west-2:1:service/api", None), "api");
    }
}
