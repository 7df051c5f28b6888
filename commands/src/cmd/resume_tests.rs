//! A replica takes over a running change: every change command whose `check`
//! needs what `act` kept is acted on by one instance, its `progress()` handed
//! to a fresh parse of the same line (as the lifecycle parses a stored
//! change), and the resumed instance must answer `check` as the original.
//! The replica checks with an empty [`Outcome`]: it has only the line, the
//! progress and the follow timing. Also: a command that keeps nothing still
//! follows, and progress that does not fit is refused.

use std::sync::Arc;

use crate::Command;
use crate::change::{Outcome, Progress};
use crate::ports::{Gateways, ParamKind, RolloutState, RunStatus, ServiceDetail};
use crate::testing::ssm::{automation, command};
use crate::testing::{FakeAws, STARTED_ID, all, ctx, pay, rolling_out, service, web};

use crate::ports::ExecStatus::*;

/// The command `text` as the lifecycle reads a stored change.
fn parse(text: &str) -> Command {
    let command = Command::parse(text).unwrap();
    assert!(command.as_change().is_some(), "{text} is not a change");
    command
}

/// Acts on `text` as the replica that started it: the command, what `act`
/// answered, and the progress it leaves.
async fn acted(aws: &Gateways, text: &str) -> (Command, Outcome, String) {
    let original = parse(text);
    let outcome = original.as_change().unwrap().act(&ctx(), aws).await.unwrap();
    let progress = original.as_change().unwrap().progress().unwrap_or_else(|| panic!("{text} left no progress"));
    (original, outcome, progress)
}

/// `text` parsed again by another replica and resumed from `progress`.
fn resumed(text: &str, progress: &str) -> Command {
    let replica = parse(text);
    replica.as_change().unwrap().resume(progress).unwrap_or_else(|why| panic!("{text}: {why}"));
    replica
}

async fn check(command: &Command, aws: &Gateways, outcome: &Outcome) -> Progress {
    command.as_change().unwrap().check(&ctx(), aws, outcome).await.unwrap()
}

/// Acts, resumes a replica, and answers (the original's check, the replica's).
async fn both_checks(aws: &Gateways, text: &str) -> (Progress, Progress) {
    let (original, outcome, progress) = acted(aws, text).await;
    let replica = resumed(text, &progress);
    (check(&original, aws, &outcome).await, check(&replica, aws, &Outcome::default()).await)
}

/// `prod/api` once the deployment to revision `to` started and another one took over.
fn superseded(to: i32) -> ServiceDetail {
    let mut detail = rolling_out("prod/api", to, 2, RolloutState::InProgress);
    detail.deployments[0].status = "ACTIVE".into();
    detail.deployments[1].status = "PRIMARY".into();
    detail
}

/// `prod/api` steady on `api:revision`.
fn at_revision(revision: i32) -> ServiceDetail {
    let mut api = service("prod/api", 4, 4);
    api.summary.task_definition.revision = revision;
    api.deployments[0].task_definition = Some(api.summary.task_definition.clone());
    api
}

#[tokio::test]
async fn a_resumed_deploy_restart_or_rollback_follows_the_deployment_it_started() {
    let api = |revision| ("api", revision, "ACTIVE", [("api", "r.io/api:v")]);
    for (base, (family, revision, status, images), text) in [
        (service("prod/api", 4, 4), api(2), "deploy prod/api --revision 2"),
        (service("prod/api", 4, 4), api(2), "restart prod/api"),
        (at_revision(3), api(2), "rollback prod/api"),
    ] {
        let aws = FakeAws::default().with_service(base).with_task_definition(family, revision, status, &images);
        let aws = Arc::new(aws.after_update("prod/api", vec![rolling_out("prod/api", 2, 2, RolloutState::InProgress)]));
        let gateways = FakeAws::share(&aws);
        let (original, outcome, progress) = acted(&gateways, text).await;
        aws.describe_now(superseded(2));
        let replica = resumed(text, &progress);

        let want = check(&original, &gateways, &outcome).await;
        assert!(matches!(&want, Progress::Failed(t) if t.contains("took over")), "{text}: {want:?}");
        assert_eq!(check(&replica, &gateways, &Outcome::default()).await, want, "{text}");
        let unresumed = check(&parse(text), &gateways, &Outcome::default()).await;
        assert_ne!(unresumed, want, "{text}: without its progress a replica follows another deployment");
    }
}

#[tokio::test]
async fn a_resumed_param_set_or_rollback_checks_the_version_it_wrote() {
    for text in ["param set /shop/prod/flag on", "param rollback /shop/prod/flag"] {
        let versions = vec![
            crate::testing::param_version(1, ParamKind::String, "on", 7200),
            crate::testing::param_version(2, ParamKind::String, "off", 3600),
        ];
        let aws = FakeAws::default().with_param_versions("/shop/prod/flag", versions).gateways();
        let (original, resumed) = both_checks(&aws, text).await;
        assert_eq!(original, Progress::Done("Version 3 is live.".into()), "{text}");
        assert_eq!(resumed, original, "{text}");
    }
}

#[tokio::test]
async fn a_resumed_automation_run_follows_the_execution_it_started() {
    let running = automation("Doc", RunStatus::InProgress, &[("stop", RunStatus::InProgress)]);
    let aws = FakeAws::default().with_automation_states(vec![running]).gateways();
    let (original, resumed) = both_checks(&aws, "automation run Doc").await;
    assert!(matches!(&original, Progress::Running(t) if t.contains("step 1 `stop`")), "{original:?}");
    assert_eq!(resumed, original);
}

#[tokio::test]
async fn a_resumed_run_follows_the_command_it_sent() {
    let done = command("AWS-RunShellScript", RunStatus::Success, &[("i-0abc123def4567890", RunStatus::Success, "ok")]);
    let aws = FakeAws::default().with_command_states(vec![done]).gateways();
    let (original, resumed) = both_checks(&aws, "run AWS-RunShellScript on tag:Role=web commands=uptime").await;
    assert!(matches!(&original, Progress::Done(t) if t.contains("on 1 of 1 instances")), "{original:?}");
    assert_eq!(resumed, original);
}

#[tokio::test(start_paused = true)]
async fn a_resumed_pipeline_start_keeps_when_following_began() {
    let aws = FakeAws::default()
        .with_pipeline_state(web("exec-1", Succeeded, all(Some(Succeeded))))
        .after_pipeline_change("web", vec![web(STARTED_ID, Succeeded, all(Some(Succeeded)))])
        .gateways();
    let (original, outcome, _) = acted(&aws, "pipeline start web").await;
    // The paused clock moves; the wall clock progress is written in does not, so take it after.
    tokio::time::advance(std::time::Duration::from_secs(90)).await;
    let progress = original.as_change().unwrap().progress().unwrap();
    let replica = resumed("pipeline start web", &progress);
    let want = check(&original, &aws, &outcome).await;
    assert_eq!(want, Progress::Done(format!("Execution `{STARTED_ID}` succeeded after 1m.")));
    assert_eq!(check(&replica, &aws, &Outcome::default()).await, want);
}

#[tokio::test]
async fn a_resumed_pipeline_approve_or_reject_knows_which_approval_it_answered() {
    for text in ["pipeline approve pay", "pipeline reject pay"] {
        let aws = FakeAws::default().with_pipeline_state(pay("exec-1")).gateways();
        let (original, resumed) = both_checks(&aws, text).await;
        assert!(matches!(original, Progress::Running(_)), "{text}: {original:?}");
        assert_eq!(resumed, original, "{text}");
    }
    // Without the token it answered, the approval still shown waiting looks like a new one.
    let aws = FakeAws::default().with_pipeline_state(pay("exec-1")).gateways();
    let (original, outcome, _) = acted(&aws, "pipeline approve pay").await;
    let want = check(&original, &aws, &outcome).await;
    assert_ne!(check(&parse("pipeline approve pay"), &aws, &outcome).await, want);
}

#[tokio::test]
async fn a_resumed_pipeline_retry_or_stop_follows_its_execution() {
    let failed = web("exec-1", Failed, [Some(Succeeded), Some(Failed), None]);
    let running = web("exec-1", InProgress, [Some(Succeeded), Some(InProgress), None]);
    for (state, text) in [(failed, "pipeline retry web Build"), (running.clone(), "pipeline stop web")] {
        let aws = FakeAws::default().with_pipeline_state(state).after_pipeline_change("web", vec![running.clone()]);
        let aws = aws.gateways();
        let (original, resumed) = both_checks(&aws, text).await;
        assert!(matches!(original, Progress::Running(_)), "{text}: {original:?}");
        assert_eq!(resumed, original, "{text}");
    }
}

#[tokio::test]
async fn a_resumed_change_that_came_too_late_still_says_why() {
    let failed = web("exec-1", Failed, [Some(Succeeded), Some(Failed), None]);
    let aws = FakeAws { pipeline_too_late: true, ..FakeAws::default() }.with_pipeline_state(failed).gateways();
    let (original, resumed) = both_checks(&aws, "pipeline retry web Build").await;
    assert!(matches!(&original, Progress::Failed(t) if t.starts_with("Not retried")), "{original:?}");
    assert_eq!(resumed, original);
}

#[tokio::test]
async fn a_command_that_keeps_nothing_follows_from_its_line_alone() {
    let aws = FakeAws::default().with_service(service("prod/api", 4, 4)).gateways();
    let original = parse("scale prod/api 4");
    let change = original.as_change().unwrap();
    let outcome = change.act(&ctx(), &aws).await.unwrap();
    assert_eq!(change.progress(), None);
    let replica = parse("scale prod/api 4");
    assert_eq!(check(&replica, &aws, &Outcome::default()).await, check(&original, &aws, &outcome).await);
    let refused = replica.as_change().unwrap().resume(r#"{"v":1}"#).unwrap_err();
    assert!(refused.contains("keeps no progress"), "{refused}");
}

#[tokio::test]
async fn progress_that_is_not_json_or_of_another_change_is_refused() {
    let aws = FakeAws::default().with_automation_states(vec![automation("Doc", RunStatus::Success, &[])]).gateways();
    let (_, _, progress) = acted(&aws, "automation run Doc").await;
    let refused = |text: &str, progress: &str| parse(text).as_change().unwrap().resume(progress).unwrap_err();

    let garbled = refused("automation run Doc", "{\"v\":1,");
    assert!(garbled.starts_with("the progress is not what opsbot writes"), "{garbled}");
    let other_command = refused("run AWS-RunShellScript on tag:Role=web", &progress);
    assert_eq!(
        other_command,
        "the progress is of `automation run` on `Doc`, not of `run` on `AWS-RunShellScript on tag:Role=web`"
    );
    let other_target = refused("automation run Other", &progress);
    assert_eq!(other_target, "the progress is of `automation run` on `Doc`, not of `automation run` on `Other`");
    let approve = {
        let aws = FakeAws::default().with_pipeline_state(pay("exec-1")).gateways();
        acted(&aws, "pipeline approve pay").await.2
    };
    let reject = refused("pipeline reject pay", &approve);
    assert!(reject.contains("not of `pipeline reject` on `pay`"), "{reject}");
    let bad_id = progress.replace("4105a4fc", "zz");
    let unfit = refused("automation run Doc", &bad_id);
    assert!(unfit.starts_with("the progress of `automation run` does not fit it"), "{unfit}");
}
