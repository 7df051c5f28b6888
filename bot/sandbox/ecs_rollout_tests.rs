//! Sandbox rollouts on paused tokio time: a deploy starts empty, moves one
//! task per step and completes; a broken image fails; the seeded `prod/api`
//! finishes by itself; registering numbers and swaps as ECS does.

use std::sync::Arc;
use std::time::Duration;

use opsbot_commands::ports::{
    Container, RolloutState, ServiceChanges, ServiceDetail, ServiceUpdate, Services, StoppedTasks, TaskDefinitionRef,
};
use opsbot_commands::values::ServiceRef;

use crate::sandbox::Sandbox;
use crate::sandbox::seed::tests::demo;

fn svc(raw: &str) -> ServiceRef {
    ServiceRef::parse(raw).unwrap()
}

fn td(family: &str, revision: i32) -> TaskDefinitionRef {
    TaskDefinitionRef { family: family.into(), revision }
}

fn to(td: TaskDefinitionRef) -> ServiceUpdate {
    ServiceUpdate { task_definition: Some(td), force_new_deployment: false }
}

/// `(status, running, rollout)` of each deployment, PRIMARY first.
fn shape(detail: &ServiceDetail) -> Vec<(String, i32, Option<RolloutState>)> {
    detail.deployments.iter().map(|d| (d.status.clone(), d.running, d.rollout.clone())).collect()
}

async fn after(sandbox: &Sandbox, secs: u64, service: &str) -> ServiceDetail {
    tokio::time::advance(Duration::from_secs(secs)).await;
    sandbox.describe(&svc(service)).await.unwrap()
}

/// `prod/web` (6 tasks on web:88) after registering web:89 with `tag` and
/// deploying it.
async fn deploy_web(tag: &str) -> (Arc<Sandbox>, String) {
    let sandbox = Arc::new(demo());
    let image = format!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/storefront-web:{tag}");
    let (new, _) = sandbox.register_revision(&td("web", 88), &[Container { name: "web".into(), image }]).await.unwrap();
    assert_eq!(new, td("web", 89));
    let updated = sandbox.update_service(&svc("prod/web"), &to(new)).await.unwrap();
    (sandbox, updated.deployment.expect("a new deployment"))
}

#[tokio::test(start_paused = true)]
async fn a_deploy_starts_empty_moves_one_task_per_step_and_completes() {
    use RolloutState::*;
    let (sandbox, id) = deploy_web("5.4.0").await;
    let web = after(&sandbox, 0, "prod/web").await;
    assert_eq!(web.deployments[0].id, id);
    assert_eq!(shape(&web), [("PRIMARY".into(), 0, Some(InProgress)), ("ACTIVE".into(), 6, Some(Completed))]);
    assert_eq!((web.summary.task_definition, web.summary.rollout), (td("web", 89), Some(InProgress)));
    assert!(web.containers[0].image.ends_with("storefront-web:5.4.0"), "{:?}", web.containers);

    let web = after(&sandbox, 5, "prod/web").await;
    assert_eq!(shape(&web), [("PRIMARY".into(), 1, Some(InProgress)), ("ACTIVE".into(), 5, Some(Completed))]);
    assert!(web.events[0].message.starts_with("(service web) has started 1 tasks"), "{:?}", web.events[0]);

    let web = after(&sandbox, 25, "prod/web").await;
    assert_eq!(shape(&web), [("PRIMARY".into(), 6, Some(InProgress)), ("ACTIVE".into(), 0, Some(Completed))]);

    let web = after(&sandbox, 5, "prod/web").await;
    assert_eq!(shape(&web), [("PRIMARY".into(), 6, Some(Completed))]);
    assert_eq!((web.summary.running, web.summary.rollout), (6, Some(Completed)));
    assert_eq!(web.events[0].message, "(service web) has reached a steady state.");
    assert_eq!(web.events[1].message, format!("(service web) (deployment {id}) deployment completed."));
}

#[tokio::test(start_paused = true)]
async fn a_broken_image_fails_the_rollout_while_the_old_tasks_keep_serving() {
    let (sandbox, _) = deploy_web("5.4.0-broken").await;
    let web = after(&sandbox, 15, "prod/web").await;
    let primary = &web.deployments[0];
    assert_eq!((primary.rollout.clone(), primary.failed_tasks, primary.running), (Some(RolloutState::Failed), 3, 0));
    assert_eq!(primary.rollout_reason.as_deref(), Some("ECS deployment circuit breaker: tasks failed to start."));
    assert_eq!((web.deployments[1].status.as_str(), web.deployments[1].running), ("ACTIVE", 6));
    let later = after(&sandbox, 600, "prod/web").await;
    assert_eq!(later.deployments, web.deployments, "a failed rollout stays as it is");
}

#[tokio::test(start_paused = true)]
async fn a_broken_image_s_failed_tasks_stopped_because_it_could_not_be_pulled() {
    let (sandbox, id) = deploy_web("5.4.0-broken").await;
    after(&sandbox, 15, "prod/web").await;
    let tasks = sandbox.stopped_tasks("prod", "web", &id).await.unwrap();
    assert_eq!(tasks.len(), 3, "one per failed task: {tasks:?}");
    let web = &tasks[0].containers[0];
    assert_eq!((web.name.as_str(), web.exit_code), ("web", None));
    assert!(web.reason.as_deref().is_some_and(|r| r.contains("storefront-web:5.4.0-broken")), "{web:?}");
    assert!(sandbox.stopped_tasks("prod", "web", "ecs-svc/other").await.unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn the_seeded_rollout_of_prod_api_completes_within_a_minute() {
    let sandbox = demo();
    let api = after(&sandbox, 30, "prod/api").await;
    assert_eq!(api.summary.rollout, Some(RolloutState::InProgress));
    assert_eq!((api.deployments[0].running, api.deployments[1].running), (4, 2));
    let api = after(&sandbox, 15, "prod/api").await;
    assert_eq!(shape(&api), [("PRIMARY".into(), 4, Some(RolloutState::Completed))]);
    assert_eq!(api.summary.task_definition, td("api", 57));
}

#[tokio::test(start_paused = true)]
async fn a_forced_deployment_replaces_the_tasks_on_the_same_revision() {
    let sandbox = demo();
    let restart = ServiceUpdate { task_definition: None, force_new_deployment: true };
    let updated = sandbox.update_service(&svc("prod/payments"), &restart).await.unwrap();
    let payments = after(&sandbox, 0, "prod/payments").await;
    assert_eq!(payments.deployments[0].id, updated.deployment.unwrap());
    let revisions: Vec<_> = payments.deployments.iter().map(|d| d.task_definition.clone().unwrap()).collect();
    assert_eq!(revisions, [td("payments", 41), td("payments", 41)]);
}

#[tokio::test(start_paused = true)]
async fn the_current_revision_without_force_starts_nothing_and_an_unknown_one_is_not_found() {
    let sandbox = demo();
    let before = sandbox.describe(&svc("prod/web")).await.unwrap();
    let same = sandbox.update_service(&svc("prod/web"), &to(td("web", 88))).await.unwrap();
    assert_eq!(same.deployment.as_deref(), Some(before.deployments[0].id.as_str()));
    assert_eq!(sandbox.describe(&svc("prod/web")).await.unwrap().deployments, before.deployments);
    let err = sandbox.update_service(&svc("prod/web"), &to(td("web", 99))).await.unwrap_err();
    assert_eq!(err.to_string(), "task definition `web:99` was not found");
}

#[tokio::test(start_paused = true)]
async fn registering_swaps_the_named_images_only_and_takes_the_next_revision() {
    let sandbox = demo();
    let image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:1.43.0";
    let (new, receipt) = sandbox
        .register_revision(&td("api", 56), &[Container { name: "api".into(), image: image.into() }])
        .await
        .unwrap();
    assert_eq!(new, td("api", 58), "after api:57, whichever revision it copies");
    assert!(receipt.request_id.is_some());
    let registered = sandbox.task_definition(&new).await.unwrap().unwrap();
    assert_eq!(registered.containers[0].image, image);
    assert!(registered.containers[1].image.contains("aws-for-fluent-bit"), "the sidecar is copied as it was");
    assert_eq!(sandbox.task_definition(&td("api", 99)).await.unwrap(), None);
}
