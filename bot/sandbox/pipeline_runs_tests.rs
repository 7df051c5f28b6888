//! The sandbox's pipelines moving in (paused) tokio time: approvals, rejections,
//! retries, starts and stops, as the demo's users will see them — and the
//! whole story through the console: approve `payments-api` and watch it
//! deploy, retry `storefront-web`'s build.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use opsbot_commands::ports::{
    Applied, ApprovalDecision, ExecStatus, PipelineChanges, PipelineState, Pipelines, WaitingApproval,
};
use opsbot_commands::values::PipelineName;

use crate::sandbox::Sandbox;

fn demo() -> Sandbox {
    Sandbox::demo(Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap())
}

fn name(raw: &str) -> PipelineName {
    PipelineName::parse(raw).unwrap()
}

async fn state(sandbox: &Sandbox, pipeline: &str) -> PipelineState {
    sandbox.state(&name(pipeline)).await.unwrap()
}

fn stage<'a>(state: &'a PipelineState, stage: &str) -> &'a opsbot_commands::ports::StageState {
    state.stages.iter().find(|s| s.name == stage).unwrap_or_else(|| panic!("no stage {stage}"))
}

fn latest(state: &PipelineState) -> ExecStatus {
    state.latest.clone().unwrap().status
}

async fn waiting_approval(sandbox: &Sandbox) -> WaitingApproval {
    let state = state(sandbox, "payments-api").await;
    let token = stage(&state, "ApproveProd").actions[0].token.clone().expect("a token");
    WaitingApproval { stage: "ApproveProd".into(), action: "ManualApproval".into(), token }
}

async fn advance(secs: u64) {
    tokio::time::advance(std::time::Duration::from_secs(secs)).await;
}

#[tokio::test(start_paused = true)]
async fn approving_payments_deploys_it_to_prod_over_time() {
    let sandbox = demo();
    let approval = waiting_approval(&sandbox).await;
    let summary = "Approved by dev (U0DEV) via opsbot: LGTM";

    let applied = sandbox.put_approval(&name("payments-api"), &approval, ApprovalDecision::Approve, summary).await;

    assert!(matches!(applied.unwrap(), Applied::Done(_)));
    let now = state(&sandbox, "payments-api").await;
    let approved = &stage(&now, "ApproveProd").actions[0];
    assert_eq!((approved.status.clone(), approved.summary.as_deref()), (Some(ExecStatus::Succeeded), Some(summary)));
    assert_eq!(stage(&now, "DeployProd").status, Some(ExecStatus::InProgress));
    assert_eq!(latest(&now), ExecStatus::InProgress);
    advance(24).await;
    assert_eq!(latest(&state(&sandbox, "payments-api").await), ExecStatus::InProgress);
    advance(1).await;
    let deployed = state(&sandbox, "payments-api").await;
    assert_eq!(
        (latest(&deployed), stage(&deployed, "DeployProd").status.clone()),
        (ExecStatus::Succeeded, Some(ExecStatus::Succeeded))
    );
    let updated = deployed.latest.unwrap().updated.unwrap();
    assert_eq!(updated, Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 25).unwrap(), "account time moved with tokio time");
}

#[tokio::test(start_paused = true)]
async fn a_second_decision_or_a_wrong_token_is_too_late() {
    let sandbox = demo();
    let approval = waiting_approval(&sandbox).await;
    let wrong = WaitingApproval { token: "not-the-token".into(), ..approval.clone() };
    let pay = name("payments-api");

    assert_eq!(sandbox.put_approval(&pay, &wrong, ApprovalDecision::Approve, "s").await.unwrap(), Applied::TooLate);
    assert!(matches!(
        sandbox.put_approval(&pay, &approval, ApprovalDecision::Reject, "s").await.unwrap(),
        Applied::Done(_)
    ));
    assert_eq!(sandbox.put_approval(&pay, &approval, ApprovalDecision::Approve, "s").await.unwrap(), Applied::TooLate);
}

#[tokio::test(start_paused = true)]
async fn rejecting_ends_the_execution_failed_with_who_rejected() {
    let sandbox = demo();
    let approval = waiting_approval(&sandbox).await;
    let summary = "Rejected by lead (U0LEAD) via opsbot: canary shows 5xx";

    sandbox.put_approval(&name("payments-api"), &approval, ApprovalDecision::Reject, summary).await.unwrap();

    let now = state(&sandbox, "payments-api").await;
    assert_eq!(latest(&now), ExecStatus::Failed);
    let rejected = &stage(&now, "ApproveProd").actions[0];
    assert_eq!(rejected.error.as_ref().map(|e| e.message.as_str()), Some(summary));
    assert_eq!(stage(&now, "DeployProd").status, None, "nothing after it ran");
}

#[tokio::test(start_paused = true)]
async fn retrying_storefronts_build_passes_and_deploys() {
    let sandbox = demo();
    let failed = state(&sandbox, "storefront-web").await;
    let id = failed.latest.clone().unwrap().id;

    let applied = sandbox.retry_stage(&name("storefront-web"), "Build", &id).await.unwrap();

    assert!(matches!(applied, Applied::Done(_)));
    let building = state(&sandbox, "storefront-web").await;
    assert_eq!(
        (latest(&building), stage(&building, "Build").status.clone()),
        (ExecStatus::InProgress, Some(ExecStatus::InProgress))
    );
    assert_eq!(stage(&building, "Build").actions[0].error, None);
    advance(30).await;
    assert_eq!(stage(&state(&sandbox, "storefront-web").await, "Deploy").status, Some(ExecStatus::InProgress));
    advance(25).await;
    let done = state(&sandbox, "storefront-web").await;
    assert_eq!((latest(&done), done.latest.unwrap().id), (ExecStatus::Succeeded, id), "the same execution");
}

#[tokio::test(start_paused = true)]
async fn a_stage_that_did_not_fail_or_an_old_execution_is_not_retried() {
    let sandbox = demo();
    let id = state(&sandbox, "storefront-web").await.latest.unwrap().id;
    let web = name("storefront-web");
    assert_eq!(sandbox.retry_stage(&web, "Source", &id).await.unwrap(), Applied::TooLate);
    assert_eq!(sandbox.retry_stage(&web, "Build", "some-older-id").await.unwrap(), Applied::TooLate);
    let err = sandbox.retry_stage(&web, "Tests", &id).await.unwrap_err();
    assert_eq!(err.to_string(), "stage `Tests` of pipeline `storefront-web` was not found");
}

#[tokio::test(start_paused = true)]
async fn a_start_runs_every_stage_in_turn() {
    let sandbox = demo();
    let catalog = name("catalog-service");

    let (id, _) = sandbox.start(&catalog).await.unwrap();

    let running = sandbox.execution(&catalog, &id).await.unwrap();
    assert_eq!(
        (running.status, running.trigger.as_deref()),
        (ExecStatus::InProgress, Some("StartPipelineExecution by opsbot"))
    );
    for (after, stage_now) in [(0, "Source"), (5, "Build"), (30, "Deploy")] {
        advance(after).await;
        let now = state(&sandbox, "catalog-service").await;
        assert_eq!(stage(&now, stage_now).status, Some(ExecStatus::InProgress), "after {after}s more");
        assert_eq!(stage(&now, stage_now).execution_id.as_deref(), Some(id.as_str()));
    }
    advance(25).await;
    assert_eq!(sandbox.execution(&catalog, &id).await.unwrap().status, ExecStatus::Succeeded);
    assert_eq!(Pipelines::list(&sandbox).await.unwrap()[0].latest.clone().unwrap().id, id);
}

#[tokio::test(start_paused = true)]
async fn a_start_supersedes_the_execution_waiting_for_approval() {
    let sandbox = demo();
    let pay = name("payments-api");
    let old = state(&sandbox, "payments-api").await.latest.unwrap().id;

    let (new, _) = sandbox.start(&pay).await.unwrap();

    assert_ne!(new, old);
    assert_eq!(sandbox.execution(&pay, &old).await.unwrap().status, ExecStatus::Superseded);
    advance(5 + 30 + 25).await;
    let now = state(&sandbox, "payments-api").await;
    let approval = &stage(&now, "ApproveProd").actions[0];
    assert!(approval.awaits_approval() && approval.token.is_some(), "the new one waits for its own approval");
    assert_eq!(stage(&now, "ApproveProd").execution_id.as_deref(), Some(new.as_str()));
}

#[tokio::test(start_paused = true)]
async fn stopping_lets_the_current_action_finish_and_abandoning_does_not_wait() {
    let sandbox = demo();
    let catalog = name("catalog-service");
    let (id, _) = sandbox.start(&catalog).await.unwrap();

    assert!(matches!(sandbox.stop(&catalog, &id, false, "Stopped by dev").await.unwrap(), Applied::Done(_)));
    assert_eq!(sandbox.execution(&catalog, &id).await.unwrap().status, ExecStatus::Stopping);
    assert_eq!(sandbox.stop(&catalog, &id, false, "again").await.unwrap(), Applied::TooLate, "already stopping");
    advance(5).await;
    let stopped = state(&sandbox, "catalog-service").await;
    assert_eq!(latest(&stopped), ExecStatus::Stopped);
    assert_eq!(stage(&stopped, "Source").status, Some(ExecStatus::Succeeded), "finished first");
    assert_ne!(stage(&stopped, "Build").execution_id.as_deref(), Some(id.as_str()), "never started");
    assert!(sandbox.read(|a| a.pipelines[&catalog].log.contains(&format!("stop {id} abandon=false: Stopped by dev"))));

    let (again, _) = sandbox.start(&catalog).await.unwrap();
    sandbox.stop(&catalog, &again, true, "abandon").await.unwrap();
    let abandoned = state(&sandbox, "catalog-service").await;
    assert_eq!(latest(&abandoned), ExecStatus::Stopped);
    assert_eq!(stage(&abandoned, "Source").actions[0].status, Some(ExecStatus::Abandoned));
    assert_eq!(sandbox.stop(&catalog, &again, true, "r").await.unwrap(), Applied::TooLate, "nothing running");
}

/// The demo as a user types it: a command, `1` to confirm, then the channel
/// message as it ends (the console waits for running changes at the end).
async fn console(script: &str) -> String {
    use crate::console::{Screen, Session, run, screen::Captured};
    let sandbox = Arc::new(Sandbox::demo(Utc::now()));
    let store = crate::store::open(None).unwrap();
    let captured = Captured::default();
    let wiring = crate::app::Wiring::new(sandbox.gateways()).with_policy(Arc::new(crate::console::demo::policy()));
    let session = Session::new(&wiring, store, vec![], Screen::new(captured.clone()), None);
    let user = crate::console::ConsoleUser { name: Some("dev".into()), ..crate::console::ConsoleUser::local() };
    run(&session, user, script.as_bytes(), false).await.unwrap();
    captured.text()
}

/// Asked by the console user, confirmed, then approved by a lead (the demo
/// policy wants a lead for every change).
fn asked_and_approved(command: &str) -> String {
    format!("{command}\n1\n:as U0LEAD1\n3\n")
}

#[tokio::test(start_paused = true)]
async fn the_demo_approves_payments_and_watches_it_deploy() {
    // Leads decide manual approvals themselves: their decision is the second look.
    let out = console(":as U0LEAD1\npipeline approve payments-api LGTM\n1\n").await;
    assert!(out.contains("Summary kept by CodePipeline: “Approved by Slack user U0LEAD1 via opsbot: LGTM”"), "{out}");
    assert!(out.contains("is at DeployProd (5 of 5): DeployProd in progress."), "the deploy shows as it runs:\n{out}");
    assert!(out.contains("✓ Approved ApproveProd/ManualApproval of payments-api (execution `5e1a7c93`).\nExecution `5e1a7c93` succeeded after 30s."), "{out}");
}

#[tokio::test(start_paused = true)]
async fn the_demo_retries_storefronts_build_until_it_is_deployed() {
    let out = console(&asked_and_approved("pipeline retry storefront-web Build")).await;
    assert!(out.contains("• UnitTests failed 3m ago: JobFailed — npm test: 2 failing"), "the plan shows why:\n{out}");
    assert!(out.contains("is at Build (2 of 3): UnitTests in progress."), "{out}");
    assert!(out.contains("is at Deploy (3 of 3): Deploy in progress."), "{out}");
    assert!(
        out.contains(
            "✓ Retrying Build of storefront-web in execution `d3f1a2b4`.\nExecution `d3f1a2b4` succeeded after"
        ),
        "{out}"
    );
}
