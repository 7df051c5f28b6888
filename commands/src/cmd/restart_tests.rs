//! `restart` against the fake: grammar, verdicts, the call, and its end.

use super::*;
use crate::change::Verdict;
use crate::ports::{AlarmState, RolloutState, TaskDefinitionRef};
use crate::testing::flow::run_change;
use crate::testing::{FakeAws, alarm_on, ctx, rolling_out, service};

fn parse(text: &str) -> Result<Restart, UsageError> {
    Restart::parse(&text.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
}

async fn plan(aws: FakeAws) -> Plan {
    parse("prod/api").unwrap().plan(&ctx(), &aws.gateways()).await.unwrap()
}

#[test]
fn restart_takes_one_service_and_a_timeout() {
    assert_eq!(parse("prod/api --timeout 1h").unwrap().timeout, Duration::from_secs(3600));
    for (bad, says) in [
        ("", "needs CLUSTER/SERVICE"),
        ("prod/api now", "does not take `now`"),
        ("prod/api --revision 3", "no option `--revision`"),
        ("prod/api --timeout 10", "not a valid timeout"),
    ] {
        let err = parse(bad).unwrap_err().to_string();
        assert!(err.contains(says), "{bad}: {err}");
    }
}

#[tokio::test]
async fn a_restart_replaces_every_task_on_the_same_revision() {
    let plan = plan(FakeAws::default().with_service(service("prod/api", 4, 4))).await;
    assert_eq!(plan.verdict, Verdict::Ready);
    assert!(plan.lines[0].contains("replace 4 tasks of `api:1` with fresh ones"), "{:?}", plan.lines);
}

#[tokio::test]
async fn a_service_without_tasks_has_nothing_to_restart() {
    let plan = plan(FakeAws::default().with_service(service("prod/api", 0, 0))).await;
    assert_eq!(plan.verdict, Verdict::NoOp("prod/api runs no tasks (desired count 0)".into()));
}

#[tokio::test]
async fn a_restart_is_refused_while_a_deployment_rolls_out() {
    let plan = plan(FakeAws::default().with_service(rolling_out("prod/api", 2, 3, RolloutState::InProgress))).await;
    assert!(matches!(&plan.verdict, Verdict::Unsafe(r) if r[0].contains("still rolling out")), "{plan:?}");
}

#[tokio::test]
async fn a_restart_is_refused_while_an_alarm_on_the_service_fires() {
    let aws = FakeAws::default().with_service(service("prod/api", 4, 4)).with_alarm(alarm_on(
        "api-5xx",
        "prod/api",
        AlarmState::Alarm,
        120,
    ));
    let plan = plan(aws).await;
    assert!(matches!(&plan.verdict, Verdict::Unsafe(r) if r[0].starts_with("alarm api-5xx on prod/api")), "{plan:?}");
}

#[tokio::test]
async fn a_restart_forces_a_new_deployment_and_nothing_else() {
    let aws = std::sync::Arc::new(FakeAws::default().with_service(service("prod/api", 4, 4)));
    let outcome = parse("prod/api").unwrap().act(&ctx(), &FakeAws::share(&aws)).await.unwrap();
    let update = ServiceUpdate { task_definition: None, force_new_deployment: true };
    assert_eq!(*aws.updates.lock().unwrap(), [(ServiceRef::parse("prod/api").unwrap(), update)]);
    assert!(aws.registered.lock().unwrap().is_empty());
    assert_eq!(outcome.aws_request_ids, ["req-update-prod/api"]);
}

#[tokio::test(start_paused = true)]
async fn the_new_deployment_is_followed_to_its_end_and_a_takeover_is_a_failure() {
    use RolloutState::*;
    // Same revision: a restart's new deployment runs what the old one ran.
    let restarted = |running, state| rolling_out("prod/api", 1, running, state);
    let aws = FakeAws::default()
        .with_service(service("prod/api", 4, 4))
        .after_update("prod/api", vec![restarted(2, InProgress), restarted(4, Completed)]);
    let ran = run_change(aws, "restart prod/api").await;
    assert!(ran.last.contains("`api:1` rolled out: 4/4 running — done."), "{}", ran.last);

    // Someone else deploys before the restart completes: ours is no longer PRIMARY.
    let mut taken_over = restarted(2, InProgress);
    taken_over.deployments[0].status = "ACTIVE".into();
    let mut theirs = crate::testing::deployment("PRIMARY", 3, InProgress);
    theirs.task_definition = Some(TaskDefinitionRef { family: "api".into(), revision: 3 });
    taken_over.deployments.insert(0, theirs);
    let aws = FakeAws::default()
        .with_service(service("prod/api", 4, 4))
        .after_update("prod/api", vec![restarted(1, InProgress), taken_over]);
    let ran = run_change(aws, "restart prod/api").await;
    assert!(ran.last.contains("another deployment (`api:3`) took over before `api:1` finished"), "{}", ran.last);
}

#[tokio::test]
async fn a_restart_pinned_to_a_revision_that_was_replaced_restarts_nothing() {
    let mut since = service("prod/api", 4, 4);
    since.summary.task_definition.revision = 2;
    let aws = std::sync::Arc::new(FakeAws::default().with_service(since));
    let gateways = FakeAws::share(&aws);
    let command = parse("prod/api --from 1").unwrap();
    assert!(matches!(command.plan(&ctx(), &gateways).await.unwrap().verdict, Verdict::Moved(_)));
    let refused = command.act(&ctx(), &gateways).await.unwrap_err();
    assert!(refused.to_string().starts_with("prod/api runs api:2 now, not revision 1 you reviewed"), "{refused}");
    assert!(aws.updates.lock().unwrap().is_empty(), "nothing was restarted");
    let planned = parse("prod/api").unwrap();
    planned.plan(&ctx(), &gateways).await.unwrap();
    assert_eq!(planned.pinned().as_deref(), Some("restart prod/api --from 2"));
}
