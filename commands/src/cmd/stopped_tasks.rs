//! Why an ECS deployment failed, in words: the reasons its tasks stopped,
//! counted, with a link to the service in the console when the region is
//! known. Pure; the tasks are read through [`StoppedTasks`]
//! (`bot/aws/ecs_stopped.rs`, the sandbox, the fakes).
//!
//! - [`explain`] / [`unreadable`]: the text, shown by the notifier in a failed
//!   deployment's thread and by `deploy`, `restart` and `rollback` when the
//!   rollout they follow fails (`rollout::check`);
//! - [`service_console_url`]: the service's deployments in the console.
//!
//! # Decisions
//! - Tasks that stopped for the same reason are one line ("3 tasks: …"):
//!   a circuit breaker stops many tasks for one cause, and the cause is what
//!   the reader needs. At most [`REASONS`] lines, most frequent first.
//! - A reason is ECS's `stoppedReason` with each container that failed
//!   (a non-zero exit code, or a reason of its own such as
//!   `CannotPullContainerError`) — never the task's environment or overrides.
//!   A container's reason is the runtime's own text, which may quote a
//!   command line, so it goes through [`redact`] like any AWS output shown.

use std::collections::BTreeMap;

use crate::error::GatewayError;
use crate::mrkdwn;
use crate::mrkdwn::Mrkdwn;
use crate::ports::StoppedTask;
#[cfg(doc)]
use crate::ports::StoppedTasks;
use crate::text::{count, one_line, redact, truncate};

/// The most distinct reasons shown.
pub const REASONS: usize = 5;

/// The service's page in the ECS console.
pub fn service_console_url(region: &str, cluster: &str, service: &str) -> String {
    format!(
        "https://{region}.console.aws.amazon.com/ecs/v2/clusters/{cluster}/services/{service}/deployments?region={region}"
    )
}

/// Why the failed deployment of `cluster/service` stopped its tasks; the
/// name links to the console when `region` is known.
pub fn explain(region: Option<&str>, cluster: &str, service: &str, tasks: &[StoppedTask]) -> Mrkdwn {
    let link = region.map(|region| service_console_url(region, cluster, service));
    let name = Mrkdwn::link(link.as_deref(), format!("{cluster}/{service}"))
        .unwrap_or_else(|| mrkdwn!("*{}/{}*", cluster, service));
    if tasks.is_empty() {
        let see = if link.is_some() { mrkdwn!("; see {}", name) } else { Mrkdwn::new() };
        return mrkdwn!(
            ":mag: No stopped tasks of this deployment are left to read (ECS keeps them about an hour){}.",
            see
        );
    }
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for task in tasks {
        *reasons.entry(reason(task)).or_default() += 1;
    }
    let mut reasons: Vec<(String, usize)> = reasons.into_iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut text = mrkdwn!(":mag: Why {} stopped its tasks:", name);
    for (why, n) in reasons.iter().take(REASONS) {
        text.push(mrkdwn!("\n• {}: {}", count(*n, "task"), why));
    }
    if reasons.len() > REASONS {
        text.push(mrkdwn!("\n• …and {} more", count(reasons.len() - REASONS, "other reason")));
    }
    text
}

/// One task's reason in words: "Essential container in task exited (web: exit 1)".
fn reason(task: &StoppedTask) -> String {
    let stopped = task.stopped_reason.as_deref().map(|r| redact(&one_line(r), &[])).unwrap_or_else(|| "stopped".into());
    let failed: Vec<String> = task
        .containers
        .iter()
        .filter(|c| c.exit_code.is_some_and(|code| code != 0) || c.reason.is_some())
        .map(|c| match (&c.reason, c.exit_code) {
            (Some(reason), _) => format!("{}: {}", c.name, redact(&one_line(reason), &[])),
            (None, Some(code)) => format!("{}: exit {code}", c.name),
            (None, None) => c.name.clone(),
        })
        .collect();
    let why = if failed.is_empty() { stopped } else { format!("{stopped} ({})", failed.join(", ")) };
    truncate(&why, 300)
}

/// What is said instead when the stopped tasks could not be read.
pub fn unreadable(cluster: &str, service: &str, err: &GatewayError) -> Mrkdwn {
    let why = match err {
        GatewayError::AccessDenied { message } => format!(
            "access denied ({message}): grant the bot ecs:ListTasks and ecs:DescribeTasks (see `opsbot iam-policy`)"
        ),
        other => one_line(&other.to_string()),
    };
    mrkdwn!(":warning: couldn't read why *{}/{}* stopped its tasks: {}", cluster, service, why)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::StoppedContainer;

    fn task(reason: &str, containers: &[(&str, Option<i32>, Option<&str>)]) -> StoppedTask {
        StoppedTask {
            stopped_reason: Some(reason.into()),
            containers: containers
                .iter()
                .map(|(name, exit_code, reason)| StoppedContainer {
                    name: name.to_string(),
                    exit_code: *exit_code,
                    reason: reason.map(str::to_owned),
                })
                .collect(),
        }
    }

    #[test]
    fn tasks_stopped_for_the_same_reason_are_counted_on_one_line_most_frequent_first() {
        let exited = task("Essential container in task exited", &[("web", Some(1), None), ("envoy", Some(0), None)]);
        let pull = task("CannotPullContainerError", &[("web", None, Some("pull access denied for web:43"))]);
        let text = explain(Some("eu-west-1"), "prod", "web", &[exited.clone(), pull, exited.clone(), exited]);
        assert_eq!(
            text.as_str(),
            ":mag: Why <https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/prod/services/web/deployments?region=eu-west-1|prod/web> stopped its tasks:\
             \n• 3 tasks: Essential container in task exited (web: exit 1)\
             \n• 1 task: CannotPullContainerError (web: pull access denied for web:43)"
        );
    }

    #[test]
    fn no_stopped_tasks_left_says_where_to_look_instead() {
        let text = explain(Some("eu-west-1"), "prod", "web", &[]);
        assert!(text.as_str().starts_with(":mag: No stopped tasks of this deployment are left to read"), "{text:?}");
        assert!(text.as_str().contains("clusters/prod/services/web"), "{text:?}");
    }

    #[test]
    fn without_a_region_the_service_is_named_without_a_link() {
        let exited = task("Essential container in task exited", &[("web", Some(1), None)]);
        let text = explain(None, "prod", "web", &[exited]);
        assert_eq!(
            text.as_str(),
            ":mag: Why *prod/web* stopped its tasks:\n• 1 task: Essential container in task exited (web: exit 1)"
        );
        let none = explain(None, "prod", "web", &[]);
        assert_eq!(
            none.as_str(),
            ":mag: No stopped tasks of this deployment are left to read (ECS keeps them about an hour)."
        );
    }

    #[test]
    fn a_container_reason_that_quotes_a_secret_is_redacted() {
        let quoted = "CannotStartContainerError: exec: \"migrate --password=hunter2\": not found";
        let failed = task("Task failed to start", &[("web", None, Some(quoted))]);
        let text = explain(None, "prod", "web", &[failed]);
        assert!(!text.as_str().contains("hunter2"), "{text:?}");
        assert!(text.as_str().contains("--password=[redacted]"), "{text:?}");
    }

    #[test]
    fn an_unreadable_task_list_names_the_permissions_to_grant() {
        let denied = GatewayError::AccessDenied { message: "not authorized to perform: ecs:ListTasks".into() };
        assert!(
            unreadable("prod", "web", &denied)
                .as_str()
                .ends_with("grant the bot ecs:ListTasks and ecs:DescribeTasks (see `opsbot iam-policy`)")
        );
    }
}
