//! Demo ECS: clusters `prod` and `staging`. `prod/api` is rolling out api:57
//! (image 1.42.0): the PRIMARY deployment has 2 of 4 tasks running, the old
//! api:56 deployment still runs all 4; it moves one task every
//! [`API_STEP`] and completes within a minute of the demo's start. Every other
//! service is steady, and the services the demo pipelines deploy
//! (`prod/catalog`, `staging/payments`) changed when those pipelines ran.
//! Each steady service's previous revision is registered too (the image
//! before), so `rollback` has somewhere to go.

use opsbot_commands::ports::{Container, Deployment, RolloutState, ServiceEvent, TaskDefinitionRef, Time};
use opsbot_commands::values::ClusterName;

use super::common::ago;
use crate::sandbox::account::Account;
use crate::sandbox::account::{ACCOUNT_ID, REGION};
use crate::sandbox::ecs::{Rollout, SimClock, SimService, deployment_id, task_id};

/// The pace of `prod/api`'s seeded rollout: slower than a new deploy's, so
/// the demo's first look finds it still rolling out.
pub const API_STEP: chrono::Duration = chrono::Duration::seconds(15);

/// `(cluster, service, task family, revision, image, the revision before's image, desired,
/// minutes since deployed)`.
type Steady = (&'static str, &'static str, &'static str, i32, &'static str, &'static str, i32, i64);
const STEADY: &[Steady] = &[
    ("prod", "catalog", "catalog", 23, "catalog:3.7.2", "catalog:3.7.1", 2, 180),
    ("prod", "payments", "payments", 41, "payments:2.11.0", "payments:2.10.4", 3, 2 * 1440),
    ("prod", "web", "web", 88, "storefront-web:5.3.1", "storefront-web:5.3.0", 6, 1500),
    ("staging", "api", "api-staging", 58, "api:1.43.0-rc.1", "api:1.42.0", 1, 300),
    ("staging", "payments", "payments-staging", 19, "payments:2.12.0", "payments:2.11.0", 1, 41),
    ("staging", "web", "web-staging", 90, "storefront-web:5.4.0-rc.3", "storefront-web:5.4.0-rc.2", 1, 95),
];

pub(super) fn seed(account: &mut Account) {
    let now = account.now;
    for &(cluster, service, family, revision, image, before, desired, since) in STEADY {
        register(account, family, revision - 1, &[(service, before)]);
        register(account, family, revision, &[(service, image)]);
        insert(account, cluster, service, steady(service, td(family, revision), desired, now, ago(now, since)));
    }
    register(account, "api", 56, &[("api", "api:1.41.3"), ("log-router", FLUENT_BIT)]);
    register(account, "api", 57, &[("api", "api:1.42.0"), ("log-router", FLUENT_BIT)]);
    insert(account, "prod", "api", rolling_api(now));
}

const FLUENT_BIT: &str = "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.2";

/// Registers `family:revision` with `(container, image)`; bare `repo:tag`
/// images live in the account's ECR.
fn register(account: &mut Account, family: &str, revision: i32, containers: &[(&str, &str)]) {
    let containers = containers
        .iter()
        .map(|(name, image)| Container {
            name: (*name).into(),
            image: if image.contains('/') {
                (*image).into()
            } else {
                format!("{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/{image}")
            },
        })
        .collect();
    account.task_definitions.insert(format!("{family}:{revision}"), containers);
}

fn insert(account: &mut Account, cluster: &str, name: &str, service: SimService) {
    let cluster = ClusterName::parse(cluster).expect("demo cluster names are valid");
    account.clusters.entry(cluster).or_default().services.insert(name.into(), service);
}

fn td(family: &str, revision: i32) -> TaskDefinitionRef {
    TaskDefinitionRef { family: family.into(), revision }
}

/// A service whose only deployment completed `since`.
fn steady(name: &str, td: TaskDefinitionRef, desired: i32, now: Time, since: Time) -> SimService {
    let id = deployment_id(&td.to_string());
    let tasks: Vec<String> = (0..desired).map(|i| task_id(&format!("{td}/{i}"))).collect();
    let settled = since + chrono::Duration::minutes(6);
    SimService {
        status: "ACTIVE".into(),
        desired,
        deployments: vec![deployment(
            &id,
            "PRIMARY",
            td,
            RolloutState::Completed,
            (desired, desired, 0),
            since,
            settled,
        )],
        events: vec![
            event(settled, format!("(service {name}) has reached a steady state.")),
            event(settled, format!("(service {name}) (deployment {id}) deployment completed.")),
            event(since + chrono::Duration::minutes(1), started(name, &tasks)),
        ],
        clock: SimClock::starting(now),
        rollout: None,
    }
}

fn rolling_api(now: Time) -> SimService {
    let (new, old) = (td("api", 57), td("api", 56));
    let (new_id, old_id) = (deployment_id(&new.to_string()), deployment_id(&old.to_string()));
    let target_group =
        format!("arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT_ID}:targetgroup/prod-api/6d0ecf831eec9f09");
    let tasks: Vec<String> = (0..3).map(|i| task_id(&format!("{new}/{i}"))).collect();
    SimService {
        status: "ACTIVE".into(),
        desired: 4,
        deployments: vec![
            deployment(&new_id, "PRIMARY", new, RolloutState::InProgress, (4, 2, 1), ago(now, 6), ago(now, 1)),
            deployment(&old_id, "ACTIVE", old, RolloutState::Completed, (4, 4, 0), ago(now, 2 * 1440), ago(now, 6)),
        ],
        events: vec![
            event(ago(now, 1), started("api", &tasks[2..])),
            event(ago(now, 2), format!("(service api) registered 2 targets in (target-group {target_group})")),
            event(ago(now, 5), started("api", &tasks[..2])),
            event(ago(now, 2 * 1440 - 7), "(service api) has reached a steady state.".into()),
        ],
        clock: SimClock::starting(now),
        rollout: Some(Rollout { next: now + API_STEP, every: API_STEP, fails: false }),
    }
}

/// `counts` are `(desired, running, pending)`.
fn deployment(
    id: &str,
    status: &str,
    td: TaskDefinitionRef,
    rollout: RolloutState,
    (desired, running, pending): (i32, i32, i32),
    created: Time,
    updated: Time,
) -> Deployment {
    let reason = match rollout {
        RolloutState::Completed => format!("ECS deployment {id} completed."),
        _ => format!("ECS deployment {id} in progress."),
    };
    Deployment {
        id: id.into(),
        status: status.into(),
        task_definition: Some(td),
        rollout: Some(rollout),
        rollout_reason: Some(reason),
        desired,
        running,
        pending,
        failed_tasks: 0,
        created: Some(created),
        updated: Some(updated),
    }
}

fn event(at: Time, message: String) -> ServiceEvent {
    ServiceEvent { at: Some(at), message }
}

fn started(service: &str, tasks: &[String]) -> String {
    let list: Vec<String> = tasks.iter().map(|t| format!("(task {t})")).collect();
    format!("(service {service}) has started {} tasks: {}.", tasks.len(), list.join(" "))
}
