//! `pipeline start`: parsing, the plan, and following the execution it
//! started — the following is shared by retry and approve, so its endings
//! (succeeded, failed, waiting for an approval, timed out) are tested here.

use super::*;
use crate::cmd::Command;
use crate::ports::ExecStatus::*;
use crate::testing::{FakeAws, STARTED_ID, all, ctx, pay, web};

fn start(text: &str) -> PipelineStart {
    match Command::parse(text).unwrap() {
        Command::PipelineStart(start) => start,
        other => panic!("{text} parsed as {other:?}"),
    }
}

#[test]
fn start_takes_a_name_and_an_optional_timeout() {
    assert_eq!(start("pipeline start web").timeout, Duration::from_secs(3600));
    assert_eq!(start("pipeline start web --timeout 90m").timeout, Duration::from_secs(90 * 60));
    assert_eq!(start("pipeline start --timeout=2h web").timeout, Duration::from_secs(2 * 3600));
    for bad in ["web --timeout 5x", "web --timeout 30s", "web --timeout 25h", "web --timeout", "web --timeout m"] {
        let err = Command::parse(&format!("pipeline start {bad}")).unwrap_err();
        assert!(err.message.contains("timeout"), "{bad}: {err}");
    }
    let err = Command::parse("pipeline start web --abandon").unwrap_err();
    assert!(err.message.contains("unknown option `--abandon`"), "{err}");
    assert!(Command::parse("pipeline start").unwrap_err().message.contains("needs NAME"));
}

#[test]
fn pipeline_name_alone_still_reads_the_pipeline() {
    assert!(matches!(Command::parse("pipeline web").unwrap(), Command::Pipeline(_)));
    assert!(matches!(Command::parse("Pipeline START web").unwrap(), Command::PipelineStart(_)));
    assert_eq!(Command::parse("pipeline start web").unwrap().policy_args(), [("pipeline", "web".to_string())]);
}

#[tokio::test]
async fn a_start_is_refused_while_another_execution_is_in_progress_saying_where_it_is() {
    let aws = FakeAws::default().with_pipeline_state(pay("exec-1")).gateways();
    let plan = start("pipeline start pay").plan(&ctx(), &aws).await.unwrap();
    assert_eq!(plan.lines, ["*pay*: start a new execution from the latest source revision"]);
    let Verdict::Unsafe(reasons) = plan.verdict else { panic!("{:?}", plan.verdict) };
    assert!(reasons[0].contains("`exec-1` is still in progress, waiting for approval at *Approve/Approve*"));
    assert!(reasons[0].ends_with("stop it (`pipeline stop pay`), or add `--force`"), "{reasons:?}");

    let idle = FakeAws::default().with_pipeline_state(web("exec-1", Succeeded, all(Some(Succeeded)))).gateways();
    assert_eq!(start("pipeline start web").plan(&ctx(), &idle).await.unwrap().verdict, Verdict::Ready);
}

#[tokio::test]
async fn a_missing_pipeline_is_not_found_before_anything_runs() {
    let aws = FakeAws::default().gateways();
    let err = start("pipeline start nope").plan(&ctx(), &aws).await.unwrap_err();
    assert_eq!(err.to_string(), "pipeline `nope` was not found");
}

/// `web` after a start: each look at the execution shows the next state.
fn started(states: Vec<crate::ports::PipelineState>) -> FakeAws {
    FakeAws::default()
        .with_pipeline_state(web("exec-1", Succeeded, all(Some(Succeeded))))
        .after_pipeline_change("web", states)
}

async fn looks(command: &PipelineStart, aws: &Gateways, outcome: &Outcome, n: usize) -> Vec<Progress> {
    let mut seen = Vec::new();
    for _ in 0..n {
        seen.push(command.check(&ctx(), aws, outcome).await.unwrap());
        tokio::time::advance(Duration::from_secs(10)).await;
    }
    seen
}

#[tokio::test(start_paused = true)]
async fn a_started_execution_is_followed_stage_by_stage_until_it_succeeds() {
    let aws = started(vec![
        web(STARTED_ID, InProgress, [Some(InProgress), None, None]),
        web(STARTED_ID, InProgress, [Some(Succeeded), Some(InProgress), None]),
        web(STARTED_ID, Succeeded, all(Some(Succeeded))),
    ]);
    let calls = aws.pipeline_calls.clone();
    let gateways = aws.gateways();
    let command = start("pipeline start web");

    let outcome = command.act(&ctx(), &gateways).await.unwrap();

    assert_eq!(*calls.lock().unwrap(), ["start web"]);
    assert_eq!(outcome.lines, ["Started *web*: execution `exec-2`."]);
    assert_eq!(outcome.aws_request_ids, ["req-start"]);
    let follow = outcome.follow.unwrap();
    assert_eq!((follow.every, follow.timeout), (Duration::from_secs(10), Duration::from_secs(3610)));
    assert_eq!(
        looks(&command, &gateways, &outcome, 3).await,
        [
            Progress::Running("Execution `exec-2` is at *Source* (1 of 3): Source in progress.".into()),
            Progress::Running("Execution `exec-2` is at *Build* (2 of 3): Build in progress.".into()),
            Progress::Done("Execution `exec-2` succeeded after 20s.".into()),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_execution_says_where_and_why() {
    let aws = started(vec![web(STARTED_ID, Failed, [Some(Succeeded), Some(Failed), None])]).gateways();
    let command = start("pipeline start web");
    let outcome = command.act(&ctx(), &aws).await.unwrap();
    assert_eq!(
        command.check(&ctx(), &aws, &outcome).await.unwrap(),
        Progress::Failed("Execution `exec-2` failed at *Build/Build*: JobFailed — 3 tests failed".into())
    );
}

#[tokio::test(start_paused = true)]
async fn following_ends_when_the_execution_waits_for_an_approval() {
    let mut waiting = pay(STARTED_ID);
    waiting.name = crate::values::PipelineName::parse("web").unwrap();
    let aws = started(vec![waiting]).gateways();
    let command = start("pipeline start web");
    let outcome = command.act(&ctx(), &aws).await.unwrap();
    assert_eq!(
        command.check(&ctx(), &aws, &outcome).await.unwrap(),
        Progress::Done(
            "Execution `exec-2` waits for approval at *Approve/Approve* — `pipeline approve web` when it is ready."
                .into()
        )
    );
}

#[tokio::test(start_paused = true)]
async fn an_execution_still_running_at_the_timeout_says_how_to_follow_it() {
    let aws = started(vec![web(STARTED_ID, InProgress, [Some(Succeeded), Some(InProgress), None])]).gateways();
    let command = start("pipeline start web --timeout 1m");
    let outcome = command.act(&ctx(), &aws).await.unwrap();

    let seen = looks(&command, &aws, &outcome, 7).await;

    assert!(seen[..6].iter().all(|p| matches!(p, Progress::Running(_))), "{seen:?}");
    assert_eq!(seen[6], Progress::Failed("still running — follow with `pipeline web`".into()));
    assert!(outcome.follow.unwrap().timeout > Duration::from_secs(60), "the flow's own deadline comes later");
}

#[tokio::test(start_paused = true)]
async fn an_execution_superseded_or_stopped_meanwhile_ends_the_follow() {
    let aws = started(vec![web(STARTED_ID, Superseded, [Some(Succeeded), None, None])]).gateways();
    let command = start("pipeline start web");
    let outcome = command.act(&ctx(), &aws).await.unwrap();
    assert_eq!(
        command.check(&ctx(), &aws, &outcome).await.unwrap(),
        Progress::Failed("Execution `exec-2` ended: Superseded.".into())
    );
}
