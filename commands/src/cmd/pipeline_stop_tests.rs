//! `pipeline stop`: nothing running is a no-op, an execution already stopping
//! needs `--abandon`, several running are refused, the reason names the Slack
//! user, and the stop is followed until the execution is Stopped.

use std::time::Duration;

use super::*;
use crate::cmd::Command;
use crate::error::GatewayError;
use crate::ports::ExecStatus::*;
use crate::testing::{FakeAws, all, ctx, pay, web};

fn stop(text: &str) -> PipelineStop {
    match Command::parse(text).unwrap() {
        Command::PipelineStop(stop) => stop,
        other => panic!("{text} parsed as {other:?}"),
    }
}

fn building() -> FakeAws {
    FakeAws::default().with_pipeline_state(web("exec-1", InProgress, [Some(Succeeded), Some(InProgress), None]))
}

#[test]
fn stop_takes_a_name_and_abandon_anywhere() {
    assert!(!stop("pipeline stop web").abandon);
    assert!(stop("pipeline stop --abandon web").abandon);
    assert!(stop("pipeline stop web --abandon").abandon);
    assert!(Command::parse("pipeline stop web --now").unwrap_err().message.contains("unknown option `--now`"));
    assert!(Command::parse("pipeline stop --abandon").unwrap_err().message.contains("needs NAME"));
}

#[tokio::test]
async fn nothing_running_is_nothing_to_stop() {
    let aws = FakeAws::default().with_pipeline_state(web("exec-1", Succeeded, all(Some(Succeeded)))).gateways();
    let plan = stop("pipeline stop web").plan(&ctx(), &aws).await.unwrap();
    assert_eq!(plan.verdict, Verdict::NoOp("nothing is running in web — nothing to stop".into()));
}

#[tokio::test]
async fn an_execution_already_stopping_needs_abandon() {
    let aws = FakeAws::default().with_pipeline_state(web("exec-1", Stopping, [Some(Succeeded), Some(Stopping), None]));
    let aws = aws.gateways();
    let plan = stop("pipeline stop web").plan(&ctx(), &aws).await.unwrap();
    let why = "execution exec-1 is already stopping; add --abandon to abandon its in-progress actions";
    assert_eq!(plan.verdict, Verdict::NoOp(why.into()));
    let abandon = stop("pipeline stop web --abandon").plan(&ctx(), &aws).await.unwrap();
    assert_eq!(abandon.verdict, Verdict::Ready);
    assert!(abandon.lines[1].contains("*abandoned*"), "{abandon:?}");
}

#[tokio::test]
async fn several_executions_in_progress_are_named_not_guessed() {
    let mut state = web("exec-2", InProgress, [Some(InProgress), None, None]);
    state.stages[2] = pay("exec-1").stages[1].clone();
    let aws = FakeAws::default().with_pipeline_state(state).gateways();
    let plan = stop("pipeline stop web").plan(&ctx(), &aws).await.unwrap();
    let Verdict::Unsafe(reasons) = plan.verdict else { panic!("{plan:?}") };
    assert!(reasons[0].starts_with("2 executions of web are in progress (`exec-2`, `exec-1`)"), "{reasons:?}");
}

#[tokio::test]
async fn the_plan_shows_where_it_stops_and_the_reason_naming_the_user() {
    let aws = building().gateways();
    let plan = stop("pipeline stop web").plan(&ctx(), &aws).await.unwrap();
    assert_eq!(
        plan.lines,
        [
            "*web*: stop execution `exec-1` (at *Build*)",
            "in-progress actions finish first; nothing after them starts",
            "Reason kept by CodePipeline: “Stopped by dev (U0DEV) via opsbot”",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_stop_is_followed_until_the_execution_stopped() {
    let aws = building().after_pipeline_change(
        "web",
        vec![
            web("exec-1", Stopping, [Some(Succeeded), Some(InProgress), None]),
            web("exec-1", Stopped, [Some(Succeeded), Some(Succeeded), None]),
        ],
    );
    let calls = aws.pipeline_calls.clone();
    let gateways = aws.gateways();
    let command = stop("pipeline stop web");

    let outcome = command.act(&ctx(), &gateways).await.unwrap();

    assert_eq!(*calls.lock().unwrap(), ["stop web exec-1 abandon=false: Stopped by dev (U0DEV) via opsbot"]);
    assert_eq!(outcome.lines, ["Stopping execution `exec-1` of *web*, letting in-progress actions finish."]);
    let stopping = command.check(&ctx(), &gateways, &outcome).await.unwrap();
    let waiting = "Execution `exec-1` is stopping: its in-progress actions finish first.";
    assert_eq!(stopping, Progress::Running(waiting.into()));
    tokio::time::advance(Duration::from_secs(10)).await;
    let stopped = command.check(&ctx(), &gateways, &outcome).await.unwrap();
    assert_eq!(stopped, Progress::Done("Execution `exec-1` stopped.".into()));
}

#[tokio::test]
async fn a_stop_aws_finds_moot_ends_as_not_stopped() {
    let aws = FakeAws { pipeline_too_late: true, ..building() }.gateways();
    let command = stop("pipeline stop web --abandon");
    let outcome = command.act(&ctx(), &aws).await.unwrap();
    assert_eq!(
        command.check(&ctx(), &aws, &outcome).await.unwrap(),
        Progress::Failed("Not stopped: execution `exec-1` is no longer running or already stopping.".into())
    );
}

#[tokio::test]
async fn without_a_slack_name_the_reason_names_the_user_id() {
    let ctx = Context { user_name: None, ..ctx() };
    assert_eq!(PipelineStop::reason(&ctx), "Stopped by Slack user U0DEV via opsbot");
}

#[test]
fn stop_takes_an_execution_anywhere() {
    assert_eq!(stop("pipeline stop web --execution exec-1").execution.as_deref(), Some("exec-1"));
    assert_eq!(stop("pipeline stop --execution=exec-1 web --abandon").execution.as_deref(), Some("exec-1"));
    assert!(SPEC.usage().contains("[--execution ID]"), "the usage shows it");
}

#[tokio::test]
async fn the_plan_pins_the_execution_it_would_stop() {
    let aws = building().gateways();
    let command = stop("pipeline stop web --abandon");
    command.plan(&ctx(), &aws).await.unwrap();
    assert_eq!(command.pinned().as_deref(), Some("pipeline stop web --execution exec-1 --abandon"));
}

#[tokio::test]
async fn a_stop_pinned_to_one_execution_does_not_stop_another_running_now() {
    let fake = FakeAws::default().with_pipeline_state(web("exec-2", InProgress, [Some(InProgress), None, None]));
    let calls = fake.pipeline_calls.clone();
    let aws = fake.gateways();
    let command = stop("pipeline stop web --execution exec-1");
    let why = "execution exec-1 you reviewed is no longer running; running now: exec-2 — ask again";
    assert_eq!(command.plan(&ctx(), &aws).await.unwrap().verdict, Verdict::Moved(why.into()));
    let refused = command.act(&ctx(), &aws).await.unwrap_err();
    assert!(matches!(&refused, GatewayError::Moved { what } if what == why), "{refused:?}");
    assert!(calls.lock().unwrap().is_empty(), "nothing was stopped");
}

#[tokio::test]
async fn a_stop_pinned_to_an_execution_that_ended_has_nothing_to_do() {
    let aws = FakeAws::default().with_pipeline_state(web("exec-1", Succeeded, all(Some(Succeeded)))).gateways();
    let plan = stop("pipeline stop web --execution exec-1").plan(&ctx(), &aws).await.unwrap();
    assert_eq!(plan.verdict, Verdict::NoOp("execution exec-1 of web is no longer running — nothing to stop".into()));
}

#[tokio::test]
async fn naming_one_of_several_executions_in_progress_stops_that_one() {
    let mut state = web("exec-2", InProgress, [Some(InProgress), None, None]);
    state.stages[2] = pay("exec-1").stages[1].clone();
    let fake = FakeAws::default().with_pipeline_state(state);
    let calls = fake.pipeline_calls.clone();
    let aws = fake.gateways();
    let command = stop("pipeline stop web --execution exec-1");
    assert_eq!(command.plan(&ctx(), &aws).await.unwrap().verdict, Verdict::Ready);
    command.act(&ctx(), &aws).await.unwrap();
    assert!(calls.lock().unwrap()[0].starts_with("stop web exec-1 "), "{:?}", calls.lock().unwrap());
}
