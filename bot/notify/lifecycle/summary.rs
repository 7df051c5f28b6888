//! One-message notifications for the kinds without a lifecycle of their own:
//! ECS deployments (one message per deployment, edited as it moves), ECS
//! service actions, Parameter Store changes, Automation executions (one
//! message per execution) and anything opsbot does not know — which is
//! shown, compactly, never dropped.

use opsbot_commands::mrkdwn;
use opsbot_commands::mrkdwn::unesc;
use opsbot_commands::reply::{Mrkdwn, Reply};
use opsbot_commands::text::{one_line, truncate};

use crate::notify::event::{DeploymentEvent, EcsEventType, Inbound, Notification, ParameterOperation};

/// The message key and content for a notification shown as one message;
/// `None` for the kinds that have a lifecycle (alarms, pipelines, approvals).
pub fn summary(inbound: &Inbound) -> Option<(String, Reply)> {
    let key = inbound.notification.living_key().unwrap_or_else(|| inbound.key.clone());
    let reply = match &inbound.notification {
        Notification::EcsDeployment(d) => {
            let (icon, words) = match &d.event {
                DeploymentEvent::InProgress => (":arrows_counterclockwise:", "rolling out".to_owned()),
                DeploymentEvent::Completed => (":white_check_mark:", "completed".to_owned()),
                DeploymentEvent::Failed => (":x:", "failed".to_owned()),
                DeploymentEvent::Unknown(other) => (":grey_question:", other.to_lowercase()),
            };
            line(mrkdwn!("{} ECS deployment of *{}* {}", icon, d.name, words), d.reason.as_deref(), &d.deployment_id)
        }
        Notification::EcsServiceAction(a) => {
            let icon = match a.event_type {
                EcsEventType::Error => ":x:",
                EcsEventType::Warn => ":warning:",
                EcsEventType::Info | EcsEventType::Unknown(_) => ":information_source:",
            };
            line(mrkdwn!("{} *{}*: {}", icon, a.name, a.event_name), a.reason.as_deref(), &a.service_arn)
        }
        Notification::ParameterChange(p) => {
            let verb = match &p.operation {
                ParameterOperation::Create => "created".to_owned(),
                ParameterOperation::Update => "updated".to_owned(),
                ParameterOperation::Delete => "deleted".to_owned(),
                ParameterOperation::LabelParameterVersion => "labelled".to_owned(),
                ParameterOperation::Unknown(other) => other.to_lowercase(),
            };
            let kind = p.parameter_type.as_deref().map(|t| mrkdwn!(" ({})", t)).unwrap_or_default();
            line(mrkdwn!(":key: Parameter *{}*{} {}", p.name, kind, verb), p.description.as_deref(), "")
        }
        Notification::Automation(a) => {
            let icon = match a.status.as_str() {
                "Success" => ":white_check_mark:",
                "Failed" | "TimedOut" | "Cancelled" => ":x:",
                _ => ":gear:",
            };
            let by = a.executed_by.as_deref().map(|b| mrkdwn!(" · started by {}", b)).unwrap_or_default();
            let head = mrkdwn!("{} Automation *{}* {}{}", icon, a.document, a.status, by);
            line(head, None, &a.execution_id)
        }
        Notification::Other(o) => {
            line(mrkdwn!(":mailbox_with_mail: {}", truncate(&one_line(&o.summary), 300)), None, &o.name)
        }
        Notification::PipelineExecution(_)
        | Notification::PipelineStage(_)
        | Notification::PipelineAction(_)
        | Notification::ManualApproval(_)
        | Notification::Alarm(_) => return None,
    };
    Some((key, reply))
}

fn line(head: Mrkdwn, detail: Option<&str>, id: &str) -> Reply {
    // The plain fallback is the head without its markup (the renderer escapes it again).
    let fallback = unesc(&head.as_str().replace('*', ""));
    let mut text = head;
    if let Some(detail) = detail.filter(|d| !d.is_empty()) {
        text.push(mrkdwn!("\n{}", truncate(&one_line(detail), 500)));
    }
    let reply = Reply::in_channel(fallback).section(text);
    if id.is_empty() { reply } else { reply.context(vec![mrkdwn!("`{}`", id)]) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::event::parse;

    fn shown(fixture: &str) -> (String, String) {
        let path = format!("{}/tests/fixtures/notifications/{fixture}", env!("CARGO_MANIFEST_DIR"));
        let inbound = parse(&std::fs::read(&path).unwrap()).unwrap();
        let (key, reply) = summary(&inbound).expect("a one-message kind");
        (key, reply.text())
    }

    #[test]
    fn each_kind_without_a_lifecycle_reads_as_one_line_with_its_id() {
        let dir = format!("{}/tests/fixtures/notifications", env!("CARGO_MANIFEST_DIR"));
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if !name.ends_with(".json") || !(name.starts_with("ecs") || name.starts_with("ssm")) {
                continue;
            }
            let (key, text) = shown(&name);
            assert!(!key.is_empty() && !text.is_empty(), "{name}");
            seen += 1;
        }
        assert!(seen >= 3, "ECS and SSM fixtures were read");
    }

    #[test]
    fn an_unknown_notification_is_shown_not_dropped() {
        let inbound = parse(br#"{"version":"0","id":"e-9","detail-type":"AWS Health Event","source":"aws.health","account":"111122223333","time":"2026-11-22T08:00:00Z","region":"eu-west-1","resources":[],"detail":{"eventTypeCode":"AWS_EC2_MAINTENANCE"}}"#).unwrap();
        let (key, reply) = summary(&inbound).unwrap();
        assert_eq!(key, "eventbridge:e-9");
        assert!(reply.text().starts_with(":mailbox_with_mail: "), "{}", reply.text());
    }
}
