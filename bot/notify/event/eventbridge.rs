//! The EventBridge event envelope, and which typed notification its
//! `detail-type` becomes.
//!
//! Two spellings arrive: the event as EventBridge emits it (`id`,
//! `detail-type`; see "Amazon EventBridge events" in the EventBridge user
//! guide) and the "processed" form AWS CodeStar Notifications publishes to SNS
//! (`detailType`, no `id`, an `additionalAttributes` object; see "Monitoring
//! CodePipeline events" in the CodePipeline user guide). moto's
//! EventBridge → SQS delivery leaves `account` out, so it is optional.

use serde::Deserialize;
use serde_json::Value;

use super::delivery::Delivery;
use super::notification::{Inbound, Notification};
use super::other::Other;
use super::{alarm, ecs, pipeline, ssm, wire};

#[derive(Debug, Deserialize)]
struct Event {
    #[serde(default)]
    id: Option<String>,
    #[serde(rename = "detail-type", alias = "detailType")]
    detail_type: String,
    source: String,
    #[serde(default)]
    account: Option<String>,
    #[serde(default)]
    time: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    resources: Vec<String>,
    detail: Value,
    #[serde(default, rename = "additionalAttributes")]
    additional: Option<Value>,
}

/// An object with `source`, `detail` and a detail type in either spelling.
pub(super) fn looks_like_event(value: &Value) -> bool {
    let has = |field: &str| value.get(field).is_some();
    has("source") && has("detail") && (has("detail-type") || has("detailType"))
}

pub(super) fn inbound(value: Value, delivery: &Delivery) -> Inbound {
    let event = match Event::deserialize(&value) {
        Ok(event) => event,
        Err(error) => {
            tracing::warn!(%error, "an EventBridge-like notification could not be read; posting it as other");
            let subject = delivery.envelope.and_then(|envelope| envelope.subject.as_deref());
            return delivery.other(Other::from_json(&value, subject));
        }
    };
    let key = match &event.id {
        Some(id) => format!("eventbridge:{id}"),
        None => delivery.fallback_key(),
    };
    let time = event.time.as_deref().and_then(wire::parse_time).unwrap_or_else(|| delivery.time());
    let (account, region) = (event.account.clone(), event.region.clone());
    Inbound { key, account, region, time, notification: notification(event, time) }
}

fn notification(event: Event, time: chrono::DateTime<chrono::Utc>) -> Notification {
    let Event { detail_type, source, resources, detail, additional, account, region, .. } = event;
    let read = match detail_type.as_str() {
        pipeline::EXECUTION_CHANGE => pipeline::execution(detail, additional).map(Notification::PipelineExecution),
        pipeline::STAGE_CHANGE => pipeline::stage(detail).map(Notification::PipelineStage),
        pipeline::ACTION_CHANGE => pipeline::action(detail, additional).map(Notification::PipelineAction),
        alarm::STATE_CHANGE => {
            let at = alarm::EventContext {
                resources: &resources,
                account: account.as_deref(),
                region: region.as_deref(),
                time,
            };
            alarm::from_event(detail, &at).map(Notification::Alarm)
        }
        ecs::DEPLOYMENT_CHANGE => ecs::deployment(detail, &resources).map(Notification::EcsDeployment),
        ecs::SERVICE_ACTION => ecs::service_action(detail, &resources).map(Notification::EcsServiceAction),
        ssm::PARAMETER_CHANGE => ssm::parameter(detail).map(Notification::ParameterChange),
        ssm::AUTOMATION_EXECUTION_CHANGE => ssm::automation(detail).map(Notification::Automation),
        _ => return Notification::Other(Other::from_event(&source, &detail_type, &resources, None)),
    };
    read.unwrap_or_else(|why| {
        tracing::warn!(%detail_type, %source, %why, "a known event kind could not be read; posting it as other");
        Notification::Other(Other::from_event(&source, &detail_type, &resources, Some(&why)))
    })
}
