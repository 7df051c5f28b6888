//! `deploy` against the fake: its grammar, each verdict of its plan, the calls
//! it makes, and how the flow reports the rollout's end.

use super::*;
use crate::change::Verdict;
use crate::ports::{AlarmState, RolloutState, StoppedContainer, StoppedTask};
use crate::testing::flow::run_change;
use crate::testing::{FakeAws, alarm_on, ctx, rolling_out, service};

const FLUENT_BIT: &str = "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.2";

fn parse(text: &str) -> Result<Deploy, UsageError> {
    Deploy::parse(&text.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
}

/// `prod/api` on `api:1` (image `…/api:v1`) with a log-router sidecar.
fn api_with_sidecar() -> ServiceDetail {
    let mut api = service("prod/api", 4, 4);
    api.containers.push(Container { name: "log-router".into(), image: FLUENT_BIT.into() });
    api
}

async fn plan(aws: FakeAws, text: &str) -> GatewayResult<Plan> {
    parse(text).unwrap().plan(&ctx(), &aws.gateways()).await
}

#[test]
fn a_tag_or_a_revision_is_required_and_not_both() {
    assert_eq!(parse("prod/api 1.42.0").unwrap().release, Release::Tag(TagArg::parse("1.42.0").unwrap()));
    let by_revision = parse("prod/api --revision 42 --timeout 30m").unwrap();
    assert_eq!((by_revision.revision(), by_revision.timeout), (Some(42), Duration::from_secs(1800)));
    assert_eq!(parse("prod/api 1.42.0").unwrap().timeout, rollout::DEFAULT_TIMEOUT);
    for (bad, says) in [
        ("", "needs CLUSTER/SERVICE"),
        ("prod/api", "needs an image TAG or `--revision N`"),
        ("prod/api 1.42.0 --revision 3", "not both"),
        ("prod/api 1 2", "does not take `2`"),
        ("prod/api --revision x", "a whole number from 1"),
        ("prod/api --revision", "`--revision` needs a revision number"),
        ("prod/api 1.0 --timeout 5d", "from `1m` to `3h`"),
        ("prod/api 1.0 --force", "no option `--force`"),
        ("prod/api r.io/api:1", "not a valid image tag"),
        ("prodapi 1.0", "CLUSTER/NAME"),
    ] {
        let err = parse(bad).unwrap_err().to_string();
        assert!(err.contains(says), "{bad}: {err}");
    }
}

#[tokio::test]
async fn a_tag_is_planned_for_the_app_container_and_leaves_the_sidecar_alone() {
    let plan = plan(FakeAws::default().with_service(api_with_sidecar()), "prod/api 1.42.0").await.unwrap();
    assert_eq!(plan.verdict, Verdict::Ready);
    let text = plan.lines.join("\n");
    assert!(text.contains("next revision of `api:1` with image tag *1.42.0*"), "{text}");
    assert!(text.contains("• `api`: `api:v1` → `api:1.42.0`"), "{text}");
    assert!(text.contains("• unchanged: `log-router`"), "{text}");
    assert!(text.contains("up to 15m"), "{text}");
}

#[tokio::test]
async fn deploying_the_tag_already_running_is_a_no_op() {
    let plan = plan(FakeAws::default().with_service(api_with_sidecar()), "prod/api v1").await.unwrap();
    assert_eq!(plan.verdict, Verdict::NoOp("prod/api already runs v1 (api:1)".into()));
}

#[tokio::test]
async fn a_tag_named_for_another_image_is_refused() {
    let plan = plan(FakeAws::default().with_service(api_with_sidecar()), "prod/api web:42").await.unwrap();
    let Verdict::Invalid(reasons) = plan.verdict else { panic!("{plan:?}") };
    assert!(reasons[0].contains("runs the image api (container api), not web"), "{reasons:?}");
}

#[tokio::test]
async fn the_current_revision_is_a_no_op_and_an_unknown_one_is_not_found() {
    let aws = || FakeAws::default().with_service(service("prod/api", 4, 4));
    let noop = plan(aws(), "prod/api --revision 1").await.unwrap();
    assert_eq!(noop.verdict, Verdict::NoOp("prod/api is already at revision 1 (api:1)".into()));
    let err = plan(aws(), "prod/api --revision 9").await.unwrap_err();
    assert_eq!(err.to_string(), "task definition `api:9` was not found");
}

#[tokio::test]
async fn a_revision_shows_its_images_and_a_deregistered_one_is_refused() {
    let aws = |status| {
        let v5 = [("api", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:v5")];
        FakeAws::default().with_service(service("prod/api", 4, 4)).with_task_definition("api", 5, status, &v5)
    };
    let ready = plan(aws("ACTIVE"), "prod/api --revision 5").await.unwrap();
    assert_eq!(ready.verdict, Verdict::Ready);
    assert!(ready.lines.join("\n").contains("*prod/api*: `api:1` → `api:5`\n• `api`: `api:v1` → `api:v5`"));
    let gone = plan(aws("INACTIVE"), "prod/api --revision 5").await.unwrap();
    assert!(matches!(&gone.verdict, Verdict::Invalid(r) if r[0].contains("api:5 is INACTIVE")), "{gone:?}");
}

#[tokio::test]
async fn a_deploy_is_refused_while_another_rolls_out() {
    let busy = rolling_out("prod/api", 2, 1, RolloutState::InProgress);
    let plan = plan(FakeAws::default().with_service(busy), "prod/api 1.42.0").await.unwrap();
    let Verdict::Unsafe(reasons) = plan.verdict else { panic!("{plan:?}") };
    assert_eq!(
        reasons,
        ["a deployment of prod/api is still rolling out (1/4 running, 1 pending); wait for it to finish \
          (`service prod/api`)"]
    );
}

#[tokio::test]
async fn a_deploy_is_refused_while_an_alarm_on_the_service_fires() {
    let aws = FakeAws::default()
        .with_service(service("prod/api", 4, 4))
        .with_alarm(alarm_on("api-cpu-high", "prod/api", AlarmState::Alarm, 600))
        .with_alarm(alarm_on("api-memory", "prod/api", AlarmState::Ok, 600))
        .with_alarm(alarm_on("web-cpu-high", "prod/web", AlarmState::Alarm, 600));
    let plan = plan(aws, "prod/api 1.42.0").await.unwrap();
    let Verdict::Unsafe(reasons) = plan.verdict else { panic!("{plan:?}") };
    assert_eq!(
        reasons,
        ["alarm api-cpu-high on prod/api has been firing for 10m; wait until it is OK (`alarms api-cpu-high`)"]
    );
}

#[tokio::test]
async fn a_tag_registers_a_copy_with_the_app_image_then_points_the_service_at_it() {
    let aws = std::sync::Arc::new(FakeAws::default().with_service(api_with_sidecar()));
    let deploy = parse("prod/api 1.42.0").unwrap();
    let outcome = deploy.act(&ctx(), &FakeAws::share(&aws)).await.unwrap();
    let image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:1.42.0";
    let base = TaskDefinitionRef { family: "api".into(), revision: 1 };
    assert_eq!(*aws.registered.lock().unwrap(), [(base, vec![Container { name: "api".into(), image: image.into() }])]);
    let update = ServiceUpdate {
        task_definition: Some(TaskDefinitionRef { family: "api".into(), revision: 2 }),
        force_new_deployment: false,
    };
    assert_eq!(*aws.updates.lock().unwrap(), [(ServiceRef::parse("prod/api").unwrap(), update)]);
    assert_eq!(outcome.aws_request_ids, ["req-register-api:2", "req-update-prod/api"]);
    assert_eq!(outcome.follow, Some(rollout::follow(rollout::DEFAULT_TIMEOUT)));
    assert!(outcome.lines[0].starts_with("Registered `api:2` with tag *1.42.0*"), "{:?}", outcome.lines);
}

#[tokio::test]
async fn a_revision_registers_nothing_and_points_the_service_at_it() {
    let aws = std::sync::Arc::new(FakeAws::default().with_service(service("prod/api", 4, 4)));
    let outcome = parse("prod/api --revision 7").unwrap().act(&ctx(), &FakeAws::share(&aws)).await.unwrap();
    assert!(aws.registered.lock().unwrap().is_empty());
    let updates = aws.updates.lock().unwrap();
    assert_eq!(updates[0].1.task_definition, Some(TaskDefinitionRef { family: "api".into(), revision: 7 }));
    assert_eq!(outcome.aws_request_ids, ["req-update-prod/api"]);
}

/// `prod/api` steady on `api:1`; once updated, its deployment to `api:2` goes
/// through `states` (running tasks and rollout state).
fn deploying(states: &[(i32, RolloutState)]) -> FakeAws {
    let states = states.iter().map(|(running, state)| rolling_out("prod/api", 2, *running, state.clone())).collect();
    FakeAws::default().with_service(service("prod/api", 4, 4)).after_update("prod/api", states)
}

#[tokio::test(start_paused = true)]
async fn the_rollout_is_followed_until_ecs_reports_it_completed() {
    use RolloutState::*;
    let ran =
        run_change(deploying(&[(0, InProgress), (2, InProgress), (4, Completed)]), "deploy prod/api 1.42.0").await;
    assert_eq!(ran.aws.updates.lock().unwrap().len(), 1, "one deployment, followed to its end");
    assert!(ran.shown.iter().any(|t| t.contains("rolling out api:2: 2/4 running, 1 pending")), "{:?}", ran.shown);
    assert!(ran.last.contains(":white_check_mark: Registered `api:2`"), "{}", ran.last);
    assert!(ran.last.contains("`api:2` rolled out: 4/4 running — done."), "{}", ran.last);
}

/// `prod/api` whose deployment to `api:2` (`ecs-svc/new-2`) fails once
/// updated: the circuit breaker stopped 3 tasks.
fn failing() -> FakeAws {
    let mut failed = rolling_out("prod/api", 2, 0, RolloutState::Failed);
    failed.deployments[0].rollout_reason = Some("ECS deployment circuit breaker: tasks failed to start.".into());
    failed.deployments[0].failed_tasks = 3;
    FakeAws::default().with_service(service("prod/api", 4, 4)).after_update("prod/api", vec![failed])
}

fn stopped(reason: &str, container: &str, exit_code: Option<i32>, why: Option<&str>) -> StoppedTask {
    let container = StoppedContainer { name: container.into(), exit_code, reason: why.map(str::to_owned) };
    StoppedTask { stopped_reason: Some(reason.into()), containers: vec![container] }
}

#[tokio::test(start_paused = true)]
async fn a_failed_rollout_is_reported_with_ecs_reason_and_why_its_tasks_stopped() {
    let exited = stopped("Essential container in task exited", "api", Some(1), None);
    let pull = stopped("CannotPullContainerError", "api", None, Some("pull access denied for api:1.42.0"));
    let tasks = vec![exited.clone(), pull, exited];
    let ran = run_change(failing().with_stopped_tasks("ecs-svc/new-2", tasks), "deploy prod/api 1.42.0").await;
    assert!(ran.last.contains(":x:"), "{}", ran.last);
    assert!(
        ran.last.contains(
            "the rollout of `api:2` failed: ECS deployment circuit breaker: tasks failed to start. \
             (0/4 running, 1 pending, 3 failed tasks).\n\
             :mag: Why *prod/api* stopped its tasks:\n\
             • 2 tasks: Essential container in task exited (api: exit 1)\n\
             • 1 task: CannotPullContainerError (api: pull access denied for api:1.42.0)"
        ),
        "{}",
        ran.last
    );
    let asked = ran.aws.stopped_asked.lock().unwrap().clone();
    assert_eq!(
        asked,
        [("prod".to_owned(), "api".to_owned(), "ecs-svc/new-2".to_owned())],
        "read once, for its deployment"
    );
    assert_eq!(ran.events.last(), Some(&crate::ports::store::AuditEvent::Failed));
}

#[tokio::test(start_paused = true)]
async fn a_failed_rollout_whose_stopped_tasks_cannot_be_read_is_still_reported_failed_with_a_note() {
    let denied = || GatewayError::AccessDenied { message: "not authorized to perform: ecs:ListTasks".into() };
    let ran = run_change(FakeAws { stopped_fail_with: Some(denied), ..failing() }, "deploy prod/api 1.42.0").await;
    assert!(ran.last.contains(":x:"), "{}", ran.last);
    assert!(ran.last.contains("the rollout of `api:2` failed: ECS deployment circuit breaker"), "{}", ran.last);
    assert!(
        ran.last.contains(
            ":warning: couldn't read why *prod/api* stopped its tasks: access denied \
             (not authorized to perform: ecs:ListTasks): grant the bot ecs:ListTasks and ecs:DescribeTasks"
        ),
        "{}",
        ran.last
    );
    assert_eq!(ran.aws.stopped_asked.lock().unwrap().len(), 1, "not retried as a failed check");
    assert_eq!(ran.events.last(), Some(&crate::ports::store::AuditEvent::Failed));
}

#[tokio::test(start_paused = true)]
async fn a_rollout_that_never_ends_times_out_after_the_timeout_given() {
    let ran = run_change(deploying(&[(1, RolloutState::InProgress)]), "deploy prod/api 1.42.0 --timeout 20m").await;
    assert!(ran.last.contains(":x:") && ran.last.contains("still not finished after 20m"), "{}", ran.last);
}

/// `prod/api` after someone deployed `api:2` (4 tasks, rolled out).
fn deployed_since() -> ServiceDetail {
    let mut api = service("prod/api", 4, 4);
    api.summary.task_definition.revision = 2;
    api.deployments[0].task_definition = Some(api.summary.task_definition.clone());
    api
}

#[tokio::test]
async fn the_plan_pins_the_revision_it_builds_on() {
    let aws = FakeAws::default().with_service(service("prod/api", 4, 4)).gateways();
    let tag = parse("prod/api api:1.42.0 --timeout 30m").unwrap();
    tag.plan(&ctx(), &aws).await.unwrap();
    assert_eq!(tag.pinned().as_deref(), Some("deploy prod/api api:1.42.0 --from 1 --timeout 30m"));
    assert_eq!(parse("prod/api api:1.42.0 --from 1 --timeout 30m").unwrap().from, Some(1));
    assert!(SPEC.usage().contains("[--from REVISION]"), "the usage shows it");
}

#[tokio::test]
async fn a_deploy_pinned_to_a_revision_that_was_replaced_registers_and_deploys_nothing() {
    let aws = std::sync::Arc::new(FakeAws::default().with_service(deployed_since()));
    let gateways = FakeAws::share(&aws);
    let command = parse("prod/api 1.42.0 --from 1").unwrap();
    let why = "prod/api runs api:2 now, not revision 1 you reviewed (it was deployed since) — ask again";
    assert_eq!(command.plan(&ctx(), &gateways).await.unwrap().verdict, Verdict::Moved(why.into()));
    let refused = command.act(&ctx(), &gateways).await.unwrap_err();
    assert!(matches!(&refused, GatewayError::Moved { what } if what == why), "{refused:?}");
    assert!(aws.registered.lock().unwrap().is_empty() && aws.updates.lock().unwrap().is_empty());
}
