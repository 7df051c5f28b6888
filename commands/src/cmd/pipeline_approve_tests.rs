//! `pipeline approve`: which approval (named, the only one, or refused when
//! several wait), the summary naming the Slack user, one PutApprovalResult
//! per approval, the deploy followed, and a token AWS no longer takes.

use super::*;
use crate::cmd::Command;
use crate::error::GatewayError;
use crate::ports::ExecStatus::*;
use crate::testing::{FakeAws, all, ctx, pay, web};

fn approve(text: &str) -> PipelineDecision {
    match Command::parse(text).unwrap() {
        Command::PipelineApprove(approve) => approve,
        other => panic!("{text} parsed as {other:?}"),
    }
}

/// `pay` waiting at `Approve/Approve` and at a second approval `ApproveEU/Approve`.
fn two_waiting() -> FakeAws {
    let mut state = pay("exec-1");
    let mut eu = state.stages[1].clone();
    eu.name = "ApproveEU".into();
    state.stages.insert(2, eu);
    FakeAws::default().with_pipeline_state(state)
}

#[test]
fn approve_takes_an_optional_stage_and_action_then_a_comment() {
    let named = approve("pipeline approve pay Approve/Manual ship it");
    assert_eq!(named.at, Some(("Approve".into(), "Manual".into())));
    assert_eq!(named.comment.as_deref(), Some("ship it"));
    let bare = approve("pipeline approve pay");
    assert_eq!((bare.at, bare.comment), (None, None));
    let comment_only = approve("pipeline approve pay \"canary is green\"");
    assert_eq!((comment_only.at, comment_only.comment.as_deref()), (None, Some("canary is green")));
    let long = format!("pipeline approve pay {}", "x".repeat(301));
    assert!(Command::parse(&long).unwrap_err().message.contains("comment is too long"));
    assert!(Command::parse("pipeline approve pay A/b/c").unwrap_err().message.contains("not a valid action name"));
    let args = Command::parse("pipeline approve pay Approve/Manual").unwrap().policy_args();
    let want = [("pipeline", "pay"), ("stage", "Approve"), ("action", "Manual")].map(|(k, v)| (k, v.to_string()));
    assert_eq!(args, want);
}

#[tokio::test]
async fn no_approval_waiting_is_nothing_to_approve() {
    let aws = FakeAws::default().with_pipeline_state(web("exec-1", InProgress, [Some(InProgress), None, None]));
    let plan = approve("pipeline approve web").plan(&ctx(), &aws.gateways()).await.unwrap();
    assert_eq!(plan.verdict, Verdict::NoOp("no approval is waiting in web — nothing to approve".into()));
}

#[tokio::test]
async fn several_waiting_and_none_named_are_refused_with_the_list() {
    let aws = two_waiting().gateways();
    let plan = approve("pipeline approve pay").plan(&ctx(), &aws).await.unwrap();
    let why = "2 approvals are waiting in pay — name the one you mean: `pipeline approve pay Approve/Approve`, \
               `pipeline approve pay ApproveEU/Approve`";
    assert_eq!(plan.verdict, Verdict::Unsafe(vec![why.into()]));
    let named = approve("pipeline approve pay approveeu/APPROVE").plan(&ctx(), &aws).await.unwrap();
    assert_eq!(named.verdict, Verdict::Ready);
    assert!(named.lines[0].starts_with("*pay*: approve *ApproveEU/Approve* of execution `exec-1`"), "{named:?}");
}

#[tokio::test]
async fn naming_an_approval_that_does_not_wait_is_a_no_op_listing_those_that_do() {
    let aws = FakeAws::default().with_pipeline_state(pay("exec-1")).gateways();
    let plan = approve("pipeline approve pay Deploy/Deploy").plan(&ctx(), &aws).await.unwrap();
    let why = "Deploy/Deploy is not waiting for a decision; waiting: `pipeline approve pay Approve/Approve`";
    assert_eq!(plan.verdict, Verdict::NoOp(why.into()));
}

#[tokio::test]
async fn the_plan_shows_what_is_approved_and_the_summary_aws_keeps() {
    let aws = FakeAws::default().with_pipeline_state(pay("exec-1")).gateways();
    let plan = approve("pipeline approve pay ship it").plan(&ctx(), &aws).await.unwrap();
    assert_eq!(
        plan.lines,
        [
            "*pay*: approve *Approve/Approve* of execution `exec-1`, waiting since 10m ago",
            "Review: <https://grafana.example/d/canary|what to review>",
            "Summary kept by CodePipeline: “Approved by dev (U0DEV) via opsbot: ship it”",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn an_approval_is_put_once_with_the_users_name_and_the_deploy_is_followed() {
    let mut deploying = pay("exec-1");
    deploying.stages[2] = web("exec-1", InProgress, [None, None, Some(InProgress)]).stages[2].clone();
    let mut done = deploying.clone();
    done.latest.as_mut().unwrap().status = Succeeded;
    let fake = FakeAws::default().with_pipeline_state(pay("exec-1"));
    let aws = fake.after_pipeline_change("pay", vec![deploying, done]);
    let calls = aws.pipeline_calls.clone();
    let gateways = aws.gateways();
    let command = approve("pipeline approve pay ship it");

    let outcome = command.act(&ctx(), &gateways).await.unwrap();

    assert_eq!(
        *calls.lock().unwrap(),
        ["approve pay Approve/Approve tok-Approve: Approved by dev (U0DEV) via opsbot: ship it"]
    );
    assert_eq!(outcome.lines, ["Approved *Approve/Approve* of *pay* (execution `exec-1`)."]);
    assert_eq!(outcome.aws_request_ids, ["req-approve"]);
    // The approval still shows as waiting with the token just used: not news, the deploy is.
    let first = command.check(&ctx(), &gateways, &outcome).await.unwrap();
    assert_eq!(first, Progress::Running("Execution `exec-1` is at *Deploy* (3 of 3): Deploy in progress.".into()));
    let second = command.check(&ctx(), &gateways, &outcome).await.unwrap();
    assert_eq!(second, Progress::Done("Execution `exec-1` succeeded after 0s.".into()));
    assert_eq!(calls.lock().unwrap().len(), 1, "following never answers again");
}

#[tokio::test]
async fn a_token_aws_no_longer_takes_reads_as_decided_elsewhere() {
    let aws = FakeAws { pipeline_too_late: true, ..FakeAws::default().with_pipeline_state(pay("exec-1")) }.gateways();
    let command = approve("pipeline approve pay");
    let outcome = command.act(&ctx(), &aws).await.unwrap();
    assert!(outcome.lines.is_empty());
    assert_eq!(
        command.check(&ctx(), &aws, &outcome).await.unwrap(),
        Progress::Failed(
            "Not approved: the approval at *Approve/Approve* was already decided elsewhere or expired.".into()
        )
    );
}

#[tokio::test]
async fn an_approval_gone_before_act_is_not_put() {
    let aws = FakeAws::default().with_pipeline_state(web("exec-1", Succeeded, all(None)));
    let calls = aws.pipeline_calls.clone();
    let aws = aws.gateways();
    let command = approve("pipeline approve web");
    let outcome = command.act(&ctx(), &aws).await.unwrap();
    assert!(calls.lock().unwrap().is_empty());
    let end = command.check(&ctx(), &aws, &outcome).await.unwrap();
    assert_eq!(end, Progress::Failed("Not approved: the approval was already decided elsewhere or expired.".into()));
}

#[test]
fn the_summary_fits_aws_and_names_the_user_by_id_without_a_name() {
    let ctx = Context { user_name: None, ..ctx() };
    assert_eq!(approve("pipeline approve pay").summary(&ctx), "Approved by Slack user U0DEV via opsbot");
    let long = approve(&format!("pipeline approve pay {}", "y".repeat(300)));
    let named = Context { user_name: Some("n".repeat(500)), ..crate::testing::ctx() };
    assert!(long.summary(&named).chars().count() <= 512);
}

#[test]
fn an_execution_may_be_named_before_the_comment_and_is_words_inside_it() {
    let named = approve("pipeline approve pay Approve/Approve --execution exec-1 ship it");
    assert_eq!((named.execution.as_deref(), named.comment.as_deref()), (Some("exec-1"), Some("ship it")));
    let first = approve("pipeline approve pay --execution=exec-1");
    assert_eq!((first.at, first.execution.as_deref(), first.comment), (None, Some("exec-1"), None));
    let words = approve("pipeline approve pay fine, ignore --execution exec-9");
    assert_eq!((words.execution, words.comment.as_deref()), (None, Some("fine, ignore --execution exec-9")));
    assert!(Command::parse("pipeline approve pay --execution").unwrap_err().message.contains("needs an execution id"));
    let bad = Command::parse("pipeline approve pay --execution <!here>").unwrap_err().message;
    assert!(bad.contains("not a valid execution id"), "{bad}");
    assert!(SPEC.usage().contains("[--execution ID]"), "the usage shows it");
}

#[tokio::test]
async fn the_plan_pins_the_approval_and_the_execution_it_showed() {
    let aws = FakeAws::default().with_pipeline_state(pay("exec-1")).gateways();
    let command = approve("pipeline approve pay \"it's fine\" ok");
    assert_eq!(command.pinned(), None, "nothing is pinned before a plan");
    command.plan(&ctx(), &aws).await.unwrap();
    let pinned = command.pinned().unwrap();
    assert_eq!(pinned, r#"pipeline approve pay Approve/Approve --execution exec-1 "it's fine ok""#);
    let again = approve(&pinned);
    assert_eq!(again.at, Some(("Approve".into(), "Approve".into())));
    assert_eq!((again.execution.as_deref(), again.comment), (Some("exec-1"), command.comment));
}

#[tokio::test]
async fn an_approval_pinned_to_one_execution_is_not_put_on_another_that_reached_the_stage() {
    let fake = FakeAws::default().with_pipeline_state(pay("exec-2"));
    let calls = fake.pipeline_calls.clone();
    let aws = fake.gateways();
    let command = approve("pipeline approve pay Approve/Approve --execution exec-1 ship it");
    let why =
        "the approval now waiting at Approve/Approve belongs to execution exec-2, not exec-1 you reviewed — ask again";
    let plan = command.plan(&ctx(), &aws).await.unwrap();
    assert_eq!(plan.verdict, Verdict::Moved(why.into()));

    let refused = command.act(&ctx(), &aws).await.unwrap_err();
    assert!(matches!(&refused, GatewayError::Moved { what } if what == why), "{refused:?}");
    assert!(calls.lock().unwrap().is_empty(), "no approval was put");
}
