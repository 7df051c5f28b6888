//! The pipeline changes through the whole change flow (plan → confirm →
//! execute → follow) against the fake: one PutApprovalResult however often
//! Confirm is pressed, a stale token ends as "decided elsewhere" rather than an
//! internal error, no-ops run nothing, and a start that outlives its timeout
//! says how to follow it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use opsbot_policies::Policy;

use crate::change::messages::ClickOutcome;
use crate::ops::Ops;
use crate::ports::ExecStatus::*;
use crate::ports::store::{ChangeId, ChangeState, Store};
use crate::testing::{FakeAws, MemoryChat, MemoryStore, STARTED_ID, all, change_button, ctx, pay, web};

struct World {
    ops: Arc<Ops>,
    /// Every pipeline change the fake received.
    calls: Arc<Mutex<Vec<String>>>,
    store: Arc<MemoryStore>,
    chat: Arc<MemoryChat>,
}

fn world(fake: FakeAws) -> World {
    let calls = fake.pipeline_calls.clone();
    let (store, chat) = (Arc::new(MemoryStore::default()), Arc::new(MemoryChat::default()));
    let allowed = ["pipeline start", "pipeline retry", "pipeline stop", "pipeline approve", "pipeline reject"];
    let policy = Arc::new(Policy::reads_for_everyone(allowed));
    let ops = Ops::new(fake.gateways(), policy, store.clone(), chat.clone());
    World { ops: Arc::new(ops), calls, store, chat }
}

/// Waits (in tokio time, which tests may pause) until the change has finished; its last message.
async fn finished(w: &World) -> String {
    for _ in 0..5000 {
        let change = w.store.change(&ChangeId("req-1".into())).await.unwrap().unwrap();
        if change.state.is_final() {
            return w.chat.texts().last().cloned().unwrap_or_default();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the change did not finish: {:?}", w.chat.texts());
}

#[tokio::test]
async fn approving_through_the_flow_puts_the_approval_once_and_reports_the_deploy() {
    let mut done = pay("exec-1");
    done.latest.as_mut().unwrap().status = Succeeded;
    let w = world(FakeAws::default().with_pipeline_state(pay("exec-1")).after_pipeline_change("pay", vec![done]));

    let plan = w.ops.handle(&ctx(), "pipeline approve pay LGTM").await;
    assert!(plan.text().contains("Approved by dev (U0DEV) via opsbot: LGTM"), "{}", plan.text());
    let confirm = change_button(&plan, "Confirm");
    assert!(matches!(w.ops.click(&ctx(), &confirm).await, ClickOutcome::Replace(_)));
    assert!(matches!(w.ops.click(&ctx(), &confirm).await, ClickOutcome::Note(_)), "a second press runs nothing");
    let last = finished(&w).await;

    assert_eq!(w.calls.lock().unwrap().len(), 1);
    assert!(last.contains(":white_check_mark: Approved *Approve/Approve* of *pay*"), "{last}");
    assert!(last.contains("succeeded after"), "{last}");
    let change = w.store.change(&ChangeId("req-1".into())).await.unwrap().unwrap();
    assert_eq!(change.state, ChangeState::Succeeded);
    let audit = w.store.audit.lock().unwrap().clone();
    assert!(audit.iter().any(|r| r.aws_request_ids == ["req-approve"]), "{audit:?}");
}

#[tokio::test]
async fn a_token_aws_no_longer_takes_ends_as_decided_elsewhere_not_as_an_internal_error() {
    let w = world(FakeAws { pipeline_too_late: true, ..FakeAws::default().with_pipeline_state(pay("exec-1")) });

    let plan = w.ops.handle(&ctx(), "pipeline reject pay").await;
    w.ops.click(&ctx(), &change_button(&plan, "Confirm")).await;
    let last = finished(&w).await;

    assert!(
        last.contains(":x: Not rejected: the approval at *Approve/Approve* was already decided elsewhere"),
        "{last}"
    );
    assert!(!last.contains("Something went wrong"), "{last}");
    let change = w.store.change(&ChangeId("req-1".into())).await.unwrap().unwrap();
    assert_eq!(change.state, ChangeState::Failed);
}

#[tokio::test]
async fn nothing_to_approve_or_stop_runs_nothing() {
    let w = world(FakeAws::default().with_pipeline_state(web("exec-1", Succeeded, all(Some(Succeeded)))));

    let approve = w.ops.handle(&ctx(), "pipeline approve web").await.text();
    let stop = w.ops.handle(&ctx(), "pipeline stop web").await.text();
    let retry = w.ops.handle(&ctx(), "pipeline retry web Build").await.text();

    assert!(approve.contains("Nothing to do: no approval is waiting in web — nothing to approve"), "{approve}");
    assert!(stop.contains("Nothing to do: nothing is running in web — nothing to stop"), "{stop}");
    assert!(retry.contains("Nothing to do: stage Build did not fail — nothing to retry"), "{retry}");
    assert!(w.calls.lock().unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_start_that_outlives_its_timeout_says_how_to_follow_it() {
    let running = web(STARTED_ID, InProgress, [Some(Succeeded), Some(InProgress), None]);
    let fake = FakeAws::default().with_pipeline_state(web("exec-1", Succeeded, all(Some(Succeeded))));
    let w = world(fake.after_pipeline_change("web", vec![running]));

    let plan = w.ops.handle(&ctx(), "pipeline start web --timeout 2m").await;
    w.ops.click(&ctx(), &change_button(&plan, "Confirm")).await;
    let last = finished(&w).await;

    assert!(last.contains("Started *web*: execution `exec-2`.\nstill running — follow with `pipeline web`"), "{last}");
    assert!(!last.contains("still not finished after"), "the flow's generic timeout came first: {last}");
}

#[tokio::test]
async fn several_approvals_waiting_are_refused_with_the_list() {
    let mut state = pay("exec-1");
    let mut eu = state.stages[1].clone();
    eu.name = "ApproveEU".into();
    state.stages.push(eu);
    let w = world(FakeAws::default().with_pipeline_state(state));

    let text = w.ops.handle(&ctx(), "pipeline approve pay").await.text();

    assert!(text.contains("2 approvals are waiting in pay — name the one you mean"), "{text}");
    assert!(text.contains("`pipeline approve pay ApproveEU/Approve`"), "{text}");
    assert!(w.calls.lock().unwrap().is_empty());
}

/// Only leads may decide approvals; everyone reads.
fn leads_decide(fake: FakeAws) -> World {
    let yaml = "roles:\n  leads: { users: [U0LEAD] }\n  devs: { everyone: true }\nrules:\n  - allow: [pipeline approve, pipeline reject]\n    to: leads\n";
    let known: Vec<&str> = crate::cmd::ENTRIES.iter().map(|e| e.spec.name).collect();
    let policy = Policy::from_yaml(yaml, std::path::Path::new("policy.yaml"), &known).unwrap();
    let calls = fake.pipeline_calls.clone();
    let (store, chat) = (Arc::new(MemoryStore::default()), Arc::new(MemoryChat::default()));
    let ops = Ops::new(fake.gateways(), Arc::new(policy), store.clone(), chat.clone());
    World { ops: Arc::new(ops), calls, store, chat }
}

fn lead(request: &str) -> crate::context::Context {
    let user = crate::values::SlackUserId::parse("U0LEAD").unwrap();
    crate::context::Context { request_id: request.into(), user, user_name: Some("Lee".into()), ..ctx() }
}

#[tokio::test]
async fn the_approve_button_of_a_notification_is_refused_to_a_non_lead_and_puts_the_approval_once_for_leads() {
    let mut done = pay("exec-1");
    done.stages[1].actions[0].status = Some(Succeeded);
    done.stages[1].actions[0].token = None;
    let w =
        leads_decide(FakeAws::default().with_pipeline_state(pay("exec-1")).after_pipeline_change("pay", vec![done]));
    let button = crate::click::Press::Run("pipeline approve pay Approve/Approve".into());

    let ClickOutcome::Note(refused) = w.ops.press(&ctx(), &button).await else { panic!("a note to the presser") };
    assert!(refused.text().contains("You can't run `pipeline approve` here"), "{}", refused.text());

    // A double press gives one plan (the second gets a note); pressed again
    // later it gives a second plan, and confirming both puts the approval once.
    let ClickOutcome::Note(first) = w.ops.press(&lead("req-0"), &button).await else { panic!("a plan") };
    let ClickOutcome::Note(again) = w.ops.press(&lead("req-0b"), &button).await else { panic!("a note") };
    assert!(first.text().contains("Approved by Lee") && again.text().contains("You just pressed this"));
    let mut plans = Vec::new();
    for (request, later) in [("req-1", 20), ("req-2", 40)] {
        let pressed = crate::context::Context { now: ctx().now + chrono::Duration::seconds(later), ..lead(request) };
        let ClickOutcome::Note(plan) = w.ops.press(&pressed, &button).await else { panic!("a plan") };
        assert!(plan.text().contains("Approved by Lee (U0LEAD) via opsbot"), "{}", plan.text());
        plans.push(change_button(&plan, "Confirm"));
    }
    for (request, confirm) in ["req-1", "req-2"].into_iter().zip(&plans) {
        w.ops.click(&lead(request), confirm).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for _ in 0..100 {
        let second = w.store.change(&ChangeId("req-2".into())).await.unwrap().unwrap();
        if second.state.is_final() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let approvals: Vec<String> = w.calls.lock().unwrap().iter().filter(|c| c.starts_with("approve")).cloned().collect();
    assert_eq!(approvals.len(), 1, "{approvals:?}");
    let second = w.store.change(&ChangeId("req-2".into())).await.unwrap().unwrap();
    assert_ne!(second.state, ChangeState::Succeeded, "the second confirmation found nothing left to approve");
}

/// Pipeline changes need an approval by `ops` (everyone; never the requester).
fn approved_by_ops(fake: FakeAws) -> (World, Arc<FakeAws>) {
    let yaml = "roles:\n  ops: { everyone: true }\nrules:\n  - allow: [pipeline approve, pipeline stop, pipeline retry]\n    \
                to: ops\n    approval: { by: ops, ttl: 1h }\n";
    let known: Vec<&str> = crate::cmd::ENTRIES.iter().map(|e| e.spec.name).collect();
    let policy = Policy::from_yaml(yaml, std::path::Path::new("policy.yaml"), &known).unwrap();
    let (calls, fake) = (fake.pipeline_calls.clone(), Arc::new(fake));
    let (store, chat) = (Arc::new(MemoryStore::default()), Arc::new(MemoryChat::default()));
    let ops = Ops::new(FakeAws::share(&fake), Arc::new(policy), store.clone(), chat.clone());
    (World { ops: Arc::new(ops), calls, store, chat }, fake)
}

/// Dana asks for `text` and confirms; `moved` changes the world; the lead
/// approves; the change runs to its end. Its last message.
async fn approved_after(w: &World, text: &str, moved: impl FnOnce()) -> String {
    let plan = w.ops.handle(&ctx(), text).await;
    w.ops.click(&ctx(), &change_button(&plan, "Confirm")).await;
    moved();
    let asking = w.chat.messages.lock().unwrap().last().unwrap().1.clone();
    let approve = asking.all_buttons().find(|b| b.label == "Approve").expect("an Approve button");
    w.ops.click(&lead("req-9"), approve.press.change().unwrap()).await;
    finished(w).await
}

fn refused_detail(w: &World) -> String {
    let audit = w.store.audit.lock().unwrap();
    let events: Vec<_> = audit.iter().map(|r| r.event).collect();
    assert_eq!(events.last(), Some(&crate::ports::store::AuditEvent::Refused), "{events:?}");
    audit.last().unwrap().detail.clone().unwrap_or_default()
}

#[tokio::test]
async fn an_approval_of_an_older_execution_is_refused_when_a_newer_one_reached_the_stage() {
    let (w, fake) = approved_by_ops(FakeAws::default().with_pipeline_state(pay("exec-1")));
    let last = approved_after(&w, "pipeline approve pay ship it", || fake.pipeline_state_now(pay("exec-2"))).await;

    assert!(w.calls.lock().unwrap().is_empty(), "no approval was put: {:?}", w.calls.lock().unwrap());
    let why =
        "the approval now waiting at Approve/Approve belongs to execution exec-2, not exec-1 you reviewed — ask again";
    assert!(last.contains(&format!("not run: {why}")), "{last}");
    assert_eq!(refused_detail(&w), why);
    let change = w.store.change(&ChangeId("req-1".into())).await.unwrap().unwrap();
    assert_eq!(change.state, ChangeState::Failed);
    assert!(change.shown.contains("--execution exec-1"), "what was approved names the execution: {}", change.shown);
}

#[tokio::test]
async fn an_approved_stop_does_not_stop_an_execution_that_started_since() {
    let running = || web("exec-1", InProgress, [Some(Succeeded), Some(InProgress), None]);
    let (w, fake) = approved_by_ops(FakeAws::default().with_pipeline_state(running()));
    let newer = web("exec-2", InProgress, [Some(InProgress), None, None]);
    approved_after(&w, "pipeline stop web", || fake.pipeline_state_now(newer)).await;

    assert!(w.calls.lock().unwrap().is_empty(), "nothing was stopped");
    assert!(refused_detail(&w).contains("execution exec-1 you reviewed is no longer running; running now: exec-2"));
}

#[tokio::test]
async fn an_approved_retry_does_not_retry_a_failure_of_another_execution() {
    let failed = |id| web(id, Failed, [Some(Succeeded), Some(Failed), None]);
    let (w, fake) = approved_by_ops(FakeAws::default().with_pipeline_state(failed("exec-1")));
    approved_after(&w, "pipeline retry web Build", || fake.pipeline_state_now(failed("exec-2"))).await;

    assert!(w.calls.lock().unwrap().is_empty(), "nothing was retried");
    assert!(refused_detail(&w).contains("stage Build failed now in execution exec-2, not exec-1 you reviewed"));
}

#[tokio::test]
async fn an_approval_whose_target_moves_between_the_last_look_and_the_act_is_refused_too() {
    let (w, fake) = approved_by_ops(FakeAws::default().with_pipeline_state(pay("exec-1")));
    // The re-plan before acting still sees exec-1; the act's own look sees exec-2.
    let last = approved_after(&w, "pipeline approve pay", || fake.pipeline_state_after(1, pay("exec-2"))).await;

    assert!(w.calls.lock().unwrap().is_empty(), "no approval was put: {:?}", w.calls.lock().unwrap());
    assert!(
        last.contains("not run: the approval now waiting at Approve/Approve belongs to execution exec-2"),
        "{last}"
    );
    assert!(refused_detail(&w).contains("not exec-1 you reviewed — ask again"));
    let events: Vec<_> = w.store.audit.lock().unwrap().iter().map(|r| r.event).collect();
    assert!(events.contains(&crate::ports::store::AuditEvent::Executing), "it had got as far as acting: {events:?}");
}
