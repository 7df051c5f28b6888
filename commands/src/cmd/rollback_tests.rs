//! `rollback` against the fake: which revision it picks and says why, its
//! verdicts, the call, and its end.

use super::*;
use crate::change::Verdict;
use crate::ports::{AlarmState, RolloutState};
use crate::testing::flow::run_change;
use crate::testing::{FakeAws, alarm_on, ctx, rolling_out, service};

const API_V0: &str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:v0";

fn parse(text: &str) -> Result<Rollback, UsageError> {
    Rollback::parse(&text.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
}

/// `prod/api` steady on `api:revision`.
fn at_revision(revision: i32) -> ServiceDetail {
    let mut api = service("prod/api", 4, 4);
    api.summary.task_definition.revision = revision;
    api.deployments[0].task_definition = Some(api.summary.task_definition.clone());
    api
}

async fn plan(aws: FakeAws) -> Plan {
    parse("prod/api").unwrap().plan(&ctx(), &aws.gateways()).await.unwrap()
}

fn unsafe_reasons(plan: Plan) -> Vec<String> {
    match plan.verdict {
        Verdict::Unsafe(reasons) => reasons,
        other => panic!("{other:?}"),
    }
}

/// What cannot be done as asked (never forced past).
fn invalid_reasons(plan: Plan) -> Vec<String> {
    match plan.verdict {
        Verdict::Invalid(reasons) => reasons,
        other => panic!("{other:?}"),
    }
}

#[test]
fn rollback_takes_one_service() {
    assert!(parse("prod/api").is_ok());
    assert!(parse("").unwrap_err().to_string().contains("needs CLUSTER/SERVICE"));
    assert!(parse("prod/api 41").unwrap_err().to_string().contains("does not take `41`"));
}

#[tokio::test]
async fn after_a_failed_rollout_it_returns_to_what_the_active_deployment_runs() {
    let aws = FakeAws::default()
        .with_service(rolling_out("prod/api", 7, 0, RolloutState::Failed))
        .with_task_definition("api", 1, "ACTIVE", &[("api", API_V0)]);
    let plan = plan(aws).await;
    assert_eq!(plan.verdict, Verdict::Ready);
    let text = plan.lines.join("\n");
    assert!(
        text.contains("*prod/api*: `api:7` → `api:1` — the revision its older ACTIVE deployment still runs"),
        "{text}"
    );
    assert!(text.contains("• `api`: `api:v1` → `api:v0`"), "{text}");
}

#[tokio::test]
async fn otherwise_it_takes_the_revision_before_and_says_so() {
    let aws =
        FakeAws::default().with_service(at_revision(5)).with_task_definition("api", 4, "ACTIVE", &[("api", API_V0)]);
    let plan = plan(aws).await;
    assert_eq!(plan.verdict, Verdict::Ready);
    assert!(plan.lines[0].ends_with("`api:5` → `api:4` — the revision before api:5; no older deployment is running"));
}

#[tokio::test]
async fn the_first_revision_has_nothing_to_roll_back_to() {
    let plan = plan(FakeAws::default().with_service(at_revision(1))).await;
    assert_eq!(plan.verdict, Verdict::NoOp("prod/api is at api:1, the first revision of its family".into()));
}

#[tokio::test]
async fn a_missing_or_deregistered_previous_revision_is_refused_with_what_to_do() {
    let missing = invalid_reasons(plan(FakeAws::default().with_service(at_revision(5))).await);
    assert_eq!(missing, ["api:4 is not registered; deploy a revision explicitly: `deploy prod/api --revision N`"]);
    let inactive = FakeAws::default().with_service(at_revision(5)).with_task_definition("api", 4, "INACTIVE", &[]);
    let reasons = invalid_reasons(plan(inactive).await);
    assert!(reasons[0].starts_with("api:4 is INACTIVE (deregistered)"), "{reasons:?}");
}

#[tokio::test]
async fn a_rollback_is_refused_while_a_deployment_rolls_out() {
    let aws = FakeAws::default()
        .with_service(rolling_out("prod/api", 7, 2, RolloutState::InProgress))
        .with_task_definition("api", 1, "ACTIVE", &[("api", API_V0)]);
    let reasons = unsafe_reasons(plan(aws).await);
    assert!(reasons[0].starts_with("a deployment of prod/api is still rolling out (2/4 running, 1 pending)"));
}

#[tokio::test]
async fn a_rollback_is_refused_while_an_alarm_on_the_service_fires() {
    let aws = FakeAws::default()
        .with_service(at_revision(5))
        .with_task_definition("api", 4, "ACTIVE", &[("api", API_V0)])
        .with_alarm(alarm_on("api-latency", "prod/api", AlarmState::Alarm, 3600));
    let reasons = unsafe_reasons(plan(aws).await);
    assert_eq!(
        reasons,
        ["alarm api-latency on prod/api has been firing for 1h; wait until it is OK (`alarms api-latency`)"]
    );
}

#[tokio::test]
async fn a_rollback_points_the_service_at_the_previous_revision() {
    let aws =
        FakeAws::default().with_service(at_revision(5)).with_task_definition("api", 4, "ACTIVE", &[("api", API_V0)]);
    let aws = std::sync::Arc::new(aws);
    let outcome = parse("prod/api").unwrap().act(&ctx(), &FakeAws::share(&aws)).await.unwrap();
    let update = ServiceUpdate {
        task_definition: Some(TaskDefinitionRef { family: "api".into(), revision: 4 }),
        force_new_deployment: false,
    };
    assert_eq!(*aws.updates.lock().unwrap(), [(ServiceRef::parse("prod/api").unwrap(), update)]);
    assert_eq!(outcome.lines, ["Pointed *prod/api* back at `api:4`; ECS is rolling it out."]);
}

#[tokio::test(start_paused = true)]
async fn the_rollback_is_followed_until_it_completes() {
    let back = |running, state| {
        let mut detail = rolling_out("prod/api", 4, running, state);
        detail.deployments[1].task_definition = Some(TaskDefinitionRef { family: "api".into(), revision: 5 });
        detail
    };
    let aws = FakeAws::default()
        .with_service(at_revision(5))
        .with_task_definition("api", 4, "ACTIVE", &[("api", API_V0)])
        .after_update("prod/api", vec![back(1, RolloutState::InProgress), back(4, RolloutState::Completed)]);
    let ran = run_change(aws, "rollback prod/api").await;
    assert!(ran.last.contains(":white_check_mark: Pointed *prod/api* back at `api:4`"), "{}", ran.last);
    assert!(ran.last.contains("`api:4` rolled out: 4/4 running — done."), "{}", ran.last);
}

#[tokio::test]
async fn a_rollback_pinned_to_a_revision_that_was_replaced_goes_nowhere() {
    let aws = std::sync::Arc::new(FakeAws::default().with_service(at_revision(6)).with_task_definition(
        "api",
        5,
        "ACTIVE",
        &[("api", "api:v5")],
    ));
    let gateways = FakeAws::share(&aws);
    let command = parse("prod/api --from 5").unwrap();
    let why = "prod/api runs api:6 now, not revision 5 you reviewed (it was deployed since) — ask again";
    assert_eq!(command.plan(&ctx(), &gateways).await.unwrap().verdict, Verdict::Moved(why.into()));
    assert!(matches!(command.act(&ctx(), &gateways).await, Err(GatewayError::Moved { .. })));
    assert!(aws.updates.lock().unwrap().is_empty(), "nothing was rolled back");
    let planned = parse("prod/api").unwrap();
    planned.plan(&ctx(), &gateways).await.unwrap();
    assert_eq!(planned.pinned().as_deref(), Some("rollback prod/api --from 6"));
}
