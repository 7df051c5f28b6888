//! `pipeline retry`: a stage that did not fail is a no-op, an unknown stage is
//! named back with the real ones, the stage's own execution is retried, and a
//! retry AWS finds moot ends as "not retried".

use super::*;
use crate::cmd::Command;
use crate::error::GatewayError;
use crate::ports::ExecStatus::*;
use crate::testing::{FakeAws, all, ctx, web};

fn retry(text: &str) -> PipelineRetry {
    match Command::parse(text).unwrap() {
        Command::PipelineRetry(retry) => retry,
        other => panic!("{text} parsed as {other:?}"),
    }
}

fn failed_build() -> FakeAws {
    FakeAws::default().with_pipeline_state(web("exec-1", Failed, [Some(Succeeded), Some(Failed), None]))
}

#[test]
fn retry_takes_a_pipeline_and_a_stage() {
    let parsed = retry("pipeline retry web Build --timeout 2h");
    assert_eq!((parsed.name.as_str(), parsed.stage.as_str()), ("web", "Build"));
    assert_eq!(parsed.timeout, Duration::from_secs(7200));
    assert!(Command::parse("pipeline retry web").unwrap_err().message.contains("needs STAGE"));
    assert!(Command::parse("pipeline retry web Build Deploy").unwrap_err().message.contains("does not take"));
    assert!(Command::parse("pipeline retry web Bu/ild").unwrap_err().message.contains("not a valid stage name"));
    let args = Command::parse("pipeline retry web Build").unwrap().policy_args();
    assert_eq!(args, [("pipeline", "web".to_string()), ("stage", "Build".to_string())]);
}

#[tokio::test]
async fn a_stage_that_did_not_fail_has_nothing_to_retry() {
    let aws = FakeAws::default().with_pipeline_state(web("exec-1", Succeeded, all(Some(Succeeded)))).gateways();
    let plan = retry("pipeline retry web Build").plan(&ctx(), &aws).await.unwrap();
    assert_eq!(plan.verdict, Verdict::NoOp("stage Build did not fail — nothing to retry".into()));
}

#[tokio::test]
async fn an_unknown_stage_is_answered_with_the_stages_there_are() {
    let aws = failed_build().gateways();
    let plan = retry("pipeline retry web Tests").plan(&ctx(), &aws).await.unwrap();
    assert_eq!(plan.verdict, Verdict::NoOp("web has no stage Tests — its stages are Source, Build, Deploy".into()));
}

#[tokio::test]
async fn the_plan_names_the_failed_execution_and_its_error() {
    let aws = failed_build().gateways();
    let plan = retry("pipeline retry web build").plan(&ctx(), &aws).await.unwrap();
    assert_eq!(plan.verdict, Verdict::Ready);
    assert_eq!(
        plan.lines,
        [
            "*web*: retry the failed actions of *Build* in execution `exec-1`",
            "• Build failed 2m ago: JobFailed — 3 tests failed",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_retry_retries_the_stages_own_execution_and_follows_it() {
    let aws = failed_build().after_pipeline_change(
        "web",
        vec![
            web("exec-1", InProgress, [Some(Succeeded), Some(InProgress), None]),
            web("exec-1", Succeeded, all(Some(Succeeded))),
        ],
    );
    let calls = aws.pipeline_calls.clone();
    let gateways = aws.gateways();
    let command = retry("pipeline retry web build");

    let outcome = command.act(&ctx(), &gateways).await.unwrap();

    assert_eq!(*calls.lock().unwrap(), ["retry web Build exec-1"], "spelled as the pipeline does");
    assert_eq!(outcome.lines, ["Retrying *Build* of *web* in execution `exec-1`."]);
    assert_eq!(outcome.aws_request_ids, ["req-retry"]);
    let first = command.check(&ctx(), &gateways, &outcome).await.unwrap();
    assert_eq!(first, Progress::Running("Execution `exec-1` is at *Build* (2 of 3): Build in progress.".into()));
    tokio::time::advance(Duration::from_secs(40)).await;
    let done = command.check(&ctx(), &gateways, &outcome).await.unwrap();
    assert_eq!(done, Progress::Done("Execution `exec-1` succeeded after 40s.".into()));
}

#[tokio::test]
async fn a_retry_aws_finds_moot_ends_as_not_retried() {
    let aws = FakeAws { pipeline_too_late: true, ..failed_build() }.gateways();
    let command = retry("pipeline retry web Build");
    let outcome = command.act(&ctx(), &aws).await.unwrap();
    assert!(outcome.lines.is_empty() && outcome.aws_request_ids.is_empty(), "{outcome:?}");
    assert_eq!(
        command.check(&ctx(), &aws, &outcome).await.unwrap(),
        Progress::Failed(
            "Not retried: stage Build can no longer be retried (retried elsewhere, or the pipeline changed).".into()
        )
    );
}

#[tokio::test]
async fn a_stage_retried_elsewhere_before_act_is_not_retried_again() {
    let aws = FakeAws::default().with_pipeline_state(web("exec-1", InProgress, all(None)));
    let calls = aws.pipeline_calls.clone();
    let aws = aws.gateways();
    let command = retry("pipeline retry web Build");
    let outcome = command.act(&ctx(), &aws).await.unwrap();
    assert!(calls.lock().unwrap().is_empty());
    let end = command.check(&ctx(), &aws, &outcome).await.unwrap();
    assert_eq!(end, Progress::Failed("Not retried: stage Build did not fail — nothing to retry.".into()));
}

#[tokio::test]
async fn the_plan_pins_the_execution_whose_failure_it_showed() {
    let aws = failed_build().gateways();
    let command = retry("pipeline retry web build --timeout 2h");
    command.plan(&ctx(), &aws).await.unwrap();
    let pinned = command.pinned().unwrap();
    assert_eq!(pinned, "pipeline retry web build --execution exec-1 --timeout 2h");
    assert_eq!(retry(&pinned).execution.as_deref(), Some("exec-1"));
    assert!(SPEC.usage().contains("[--execution ID]"), "the usage shows it");
}

#[tokio::test]
async fn a_retry_pinned_to_one_execution_does_not_retry_a_later_failure_of_another() {
    let fake = FakeAws::default().with_pipeline_state(web("exec-2", Failed, [Some(Succeeded), Some(Failed), None]));
    let calls = fake.pipeline_calls.clone();
    let aws = fake.gateways();
    let command = retry("pipeline retry web Build --execution exec-1");
    let why = "stage Build failed now in execution exec-2, not exec-1 you reviewed — ask again";
    assert_eq!(command.plan(&ctx(), &aws).await.unwrap().verdict, Verdict::Moved(why.into()));
    let refused = command.act(&ctx(), &aws).await.unwrap_err();
    assert!(matches!(&refused, GatewayError::Moved { what } if what == why), "{refused:?}");
    assert!(calls.lock().unwrap().is_empty(), "nothing was retried");
}
