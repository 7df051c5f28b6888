//! The change flow seen by its users, against in-memory ports: plans before
//! anything runs, only the requester confirms, a change runs once however
//! often it is clicked, everything is audited, nothing runs without an audit
//! trail, requests expire, and changes run as their requester when an
//! identity is set.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use opsbot_policies::Policy;

use crate::change::identity::Identity;
use crate::change::messages::ClickOutcome;
use crate::click::Press;
use crate::cmd::default_policy;
use crate::context::Context;
use crate::ops::{Ops, PRESS_WINDOW};
use crate::ports::store::{AuditEvent, ChangeId, ChangeState, Lease, Store};
use crate::reply::Reply;
use crate::testing::{FakeAws, MemoryChat, MemoryStore, change_button, ctx, service};
use crate::values::SlackUserId;

struct World {
    ops: Arc<Ops>,
    aws: Arc<FakeAws>,
    store: Arc<MemoryStore>,
    chat: Arc<MemoryChat>,
}

/// `prod/api` wants 4 tasks and runs 6 (so a scale to 6 completes at once).
fn world_with(policy: Policy, fake: FakeAws) -> World {
    let aws = Arc::new(fake);
    let store = Arc::new(MemoryStore::default());
    let chat = Arc::new(MemoryChat::default());
    let gateways = FakeAws::share(&aws);
    let ops = Arc::new(Ops::new(gateways, Arc::new(policy), store.clone(), chat.clone()).with_replica("replica-a"));
    World { ops, aws, store, chat }
}

fn world() -> World {
    world_with(Policy::reads_for_everyone(["scale", "audit", "service"]), api())
}

/// `world()`'s AWS under a policy where scale needs an approval by `ops`.
fn world_needing_approval() -> World {
    world_with(approval_policy_with(""), api())
}

/// `prod/api` as every fake AWS sees it: 4 wanted, 6 running.
fn api() -> FakeAws {
    FakeAws { services: vec![service("prod/api", 4, 6)], ..FakeAws::default() }
}

fn as_user(user: &str) -> Context {
    Context { user: SlackUserId::parse(user).unwrap(), ..ctx() }
}

fn events(store: &MemoryStore) -> Vec<AuditEvent> {
    store.audit.lock().unwrap().iter().map(|r| r.event).collect()
}

/// Lets spawned executions finish.
async fn settle(w: &World, id: &str) {
    for _ in 0..200 {
        let state = w.store.change(&ChangeId(id.into())).await.unwrap().map(|c| c.state);
        if state.is_some_and(|s| s.is_final()) {
            return;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("change {id} did not finish");
}

#[tokio::test]
async fn a_change_first_shows_its_exact_plan_and_runs_nothing() {
    let w = world();
    let reply = w.ops.handle(&ctx(), "scale prod/api 6").await;
    let text = reply.text();
    assert!(text.contains("desired count *4 → 6*"), "{text}");
    assert!(text.contains("[Confirm] [Cancel]"), "{text}");
    assert!(w.aws.scaled.lock().unwrap().is_empty(), "nothing runs before confirmation");
    assert_eq!(events(&w.store), [AuditEvent::Requested]);
}

#[tokio::test]
async fn confirming_runs_the_change_once_however_often_it_is_clicked() {
    let w = world();
    let plan = w.ops.handle(&ctx(), "scale prod/api 6").await;
    let confirm = change_button(&plan, "Confirm");
    let clicks = (0..5).map(|_| {
        let (ops, click) = (w.ops.clone(), confirm.clone());
        tokio::spawn(async move { ops.click(&ctx(), &click).await })
    });
    let outcomes = futures_join(clicks).await;
    let confirmed = outcomes.iter().filter(|o| matches!(o, ClickOutcome::Replace(_))).count();
    assert_eq!(confirmed, 1, "{outcomes:?}");
    settle(&w, "req-1").await;
    assert_eq!(w.aws.scaled.lock().unwrap().len(), 1);
    assert_eq!(
        events(&w.store),
        [AuditEvent::Requested, AuditEvent::Confirmed, AuditEvent::Executing, AuditEvent::Executed]
    );
    let last = w.chat.texts().pop().unwrap();
    assert!(last.contains(":white_check_mark:") && last.contains("6/6 running"), "{last}");
}

async fn futures_join(tasks: impl Iterator<Item = tokio::task::JoinHandle<ClickOutcome>>) -> Vec<ClickOutcome> {
    let mut out = Vec::new();
    for task in tasks.collect::<Vec<_>>() {
        out.push(task.await.unwrap());
    }
    out
}

#[tokio::test]
async fn only_the_requester_can_confirm_or_cancel() {
    let w = world();
    let plan = w.ops.handle(&ctx(), "scale prod/api 6").await;
    for label in ["Confirm", "Cancel"] {
        let outcome = w.ops.click(&as_user("U0OTHER"), &change_button(&plan, label)).await;
        let ClickOutcome::Note(note) = outcome else { panic!("{outcome:?}") };
        assert!(note.text().contains("Only <@U0DEV>"), "{}", note.text());
    }
    assert!(w.aws.scaled.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_cancelled_change_never_runs_and_is_audited() {
    let w = world();
    let plan = w.ops.handle(&ctx(), "scale prod/api 6").await;
    w.ops.click(&ctx(), &change_button(&plan, "Cancel")).await;
    let again = w.ops.click(&ctx(), &change_button(&plan, "Confirm")).await;
    assert!(matches!(&again, ClickOutcome::Note(r) if r.text().contains("already cancelled")), "{again:?}");
    assert!(w.aws.scaled.lock().unwrap().is_empty());
    assert_eq!(events(&w.store), [AuditEvent::Requested, AuditEvent::Cancelled]);
}

#[tokio::test]
async fn a_change_that_would_do_nothing_says_so_and_stores_nothing() {
    let w = world();
    let reply = w.ops.handle(&ctx(), "scale prod/api 4").await;
    assert!(reply.text().contains("Nothing to do: prod/api already wants 4 tasks"), "{}", reply.text());
    assert_eq!(reply.all_buttons().count(), 0);
    assert!(w.store.changes.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_change_during_a_rollout_is_refused_with_what_to_wait_for() {
    let mut busy = service("prod/api", 4, 4);
    busy.summary.rollout = Some(crate::ports::RolloutState::InProgress);
    let w = world_with(Policy::reads_for_everyone(["scale"]), FakeAws { services: vec![busy], ..FakeAws::default() });
    let text = w.ops.handle(&ctx(), "scale prod/api 6").await.text();
    assert!(text.contains("would be unsafe") && text.contains("still rolling out"), "{text}");
    assert_eq!(events(&w.store), [AuditEvent::Refused]);
}

#[tokio::test]
async fn nothing_runs_when_the_audit_log_cannot_be_written() {
    let w = world();
    w.store.audit_down.store(true, Ordering::Relaxed);
    let reply = w.ops.handle(&ctx(), "scale prod/api 6").await;
    assert!(reply.text().contains("Nothing was done"), "{}", reply.text());
    assert_eq!(reply.all_buttons().count(), 0);

    // Audit fails between confirmation and execution: still nothing runs.
    w.store.audit_down.store(false, Ordering::Relaxed);
    let plan = w.ops.handle(&Context { request_id: "req-2".into(), ..ctx() }, "scale prod/api 6").await;
    w.store.audit_down.store(true, Ordering::Relaxed);
    w.ops.click(&ctx(), &change_button(&plan, "Confirm")).await;
    settle(&w, "req-2").await;
    assert!(w.aws.scaled.lock().unwrap().is_empty());
    assert!(w.chat.texts().pop().unwrap().contains("audit log could not be written"));
}

#[tokio::test]
async fn a_button_for_other_parameters_is_refused() {
    let w = world();
    let plan = w.ops.handle(&ctx(), "scale prod/api 6").await;
    let mut forged = change_button(&plan, "Confirm");
    forged.hash = crate::change::params_hash("scale prod/api 60");
    let outcome = w.ops.click(&ctx(), &forged).await;
    assert!(matches!(&outcome, ClickOutcome::Note(r) if r.text().contains("different version")), "{outcome:?}");
    assert!(w.aws.scaled.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_plan_not_confirmed_in_time_expires_and_cannot_run() {
    let w = world();
    let plan = w.ops.handle(&ctx(), "scale prod/api 6").await;
    let later = Context { now: ctx().now + chrono::Duration::minutes(11), ..ctx() };
    let outcome = w.ops.click(&later, &change_button(&plan, "Confirm")).await;
    assert!(matches!(&outcome, ClickOutcome::Replace(r) if r.text().contains("expired")), "{outcome:?}");
    assert!(w.aws.scaled.lock().unwrap().is_empty());
    let record = w.store.change(&ChangeId("req-1".into())).await.unwrap().unwrap();
    assert_eq!(record.state, ChangeState::Expired);
    assert_eq!(events(&w.store), [AuditEvent::Requested, AuditEvent::Expired]);
}

#[tokio::test]
async fn denied_requests_are_still_audited() {
    let w = world_with(default_policy(), FakeAws::default());
    let text = w.ops.handle(&ctx(), "scale prod/api 6").await.text();
    assert!(text.contains("You can't run `scale` here"), "{text}");
    let audit = w.store.audit.lock().unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!((audit[0].event, audit[0].text.as_str()), (AuditEvent::Denied, "scale prod/api 6"));
}

#[tokio::test]
async fn a_change_left_running_by_a_stop_is_closed_as_unknown_on_the_next_start() {
    let w = world();
    let plan = w.ops.handle(&ctx(), "scale prod/api 6").await;
    let id = ChangeId("req-1".into());
    // As if the process died between confirmation and the end of execution.
    w.store.transition(&id, ChangeState::AwaitingConfirmation, ChangeState::Running, None, None).await.unwrap();
    assert_eq!(plan.all_buttons().count(), 2);
    w.ops.recover().await;
    settle(&w, "req-1").await;
    assert_eq!(w.store.change(&id).await.unwrap().unwrap().state, ChangeState::Failed);
    let shown = w.chat.texts().pop().unwrap();
    assert!(shown.contains("outcome is unknown"), "{shown}");
    assert_eq!(events(&w.store).last(), Some(&AuditEvent::Failed));
}

#[tokio::test]
async fn every_audit_record_is_also_one_line_of_json_without_secrets() {
    let w = world();
    w.ops.handle(&ctx(), "scale prod/api 6").await;
    let record = w.store.audit.lock().unwrap()[0].clone();
    let line = crate::change::audit::audit_json(&record);
    assert!(!line.contains('\n'));
    let json: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!((json["audit"].as_str(), json["actor"].as_str()), (Some("requested"), Some("U0DEV")));
    assert_eq!(json["text"], "scale prod/api 6");
}

#[tokio::test]
async fn a_change_that_became_unsafe_before_it_was_confirmed_does_not_run() {
    let w = world();
    let plan = w.ops.handle(&ctx(), "scale prod/api 6").await;
    // A deployment starts between the plan and the click.
    let mut busy = service("prod/api", 4, 6);
    busy.summary.rollout = Some(crate::ports::RolloutState::InProgress);
    w.aws.describe_now(busy);
    w.ops.click(&ctx(), &change_button(&plan, "Confirm")).await;
    settle(&w, "req-1").await;
    assert!(w.aws.scaled.lock().unwrap().is_empty(), "nothing reached AWS");
    let last = w.chat.texts().pop().unwrap();
    assert!(last.contains("not run: it became unsafe") && last.contains("rolling out"), "{last}");
    assert_eq!(events(&w.store).last(), Some(&AuditEvent::Refused));
}

/// Gateways per Slack user, as an [`Identity`] that assumed a role for each
/// would hand out; users it has none for are denied.
struct ActAs {
    gateways: std::collections::BTreeMap<String, crate::ports::Gateways>,
    asked: std::sync::Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl Identity for ActAs {
    async fn gateways_for(&self, user: &SlackUserId) -> crate::GatewayResult<crate::ports::Gateways> {
        self.asked.lock().unwrap().push(user.to_string());
        self.gateways.get(user.as_str()).cloned().ok_or_else(|| crate::GatewayError::AccessDenied {
            message: format!("not authorized to perform sts:AssumeRole for {user}"),
        })
    }
}

/// [`api`], shared.
fn fake_aws() -> Arc<FakeAws> {
    Arc::new(api())
}

/// A world under `policy` whose changes run through `identity`.
fn acting_as(policy: Policy, identity: Arc<dyn Identity>) -> World {
    let (aws, store, chat) = (fake_aws(), Arc::new(MemoryStore::default()), Arc::new(MemoryChat::default()));
    let ops = Ops::new(FakeAws::share(&aws), Arc::new(policy), store.clone(), chat.clone()).with_identity(identity);
    World { ops: Arc::new(ops), aws, store, chat }
}

fn approval_policy() -> Policy {
    let yaml = "roles:\n  ops: { everyone: true }\nrules:\n  - allow: [scale]\n    to: ops\n    approval: { by: ops, ttl: 1h }\n";
    let known: Vec<&str> = crate::cmd::ENTRIES.iter().map(|e| e.spec.name).collect();
    Policy::from_yaml(yaml, std::path::Path::new("policy.yaml"), &known).unwrap()
}

#[tokio::test]
async fn an_approved_change_acts_as_its_requester_not_as_the_bot_or_the_approver() {
    let (requester, approver) = (fake_aws(), fake_aws());
    let users = [("U0DEV".to_string(), FakeAws::share(&requester)), ("U0LEAD".to_string(), FakeAws::share(&approver))];
    let identity = Arc::new(ActAs { gateways: users.into(), asked: Default::default() });
    let w = acting_as(approval_policy(), identity.clone());

    let plan = w.ops.handle(&ctx(), "scale prod/api 6").await;
    assert!(matches!(w.ops.click(&ctx(), &change_button(&plan, "Confirm")).await, ClickOutcome::Replace(_)));
    let asking = w.chat.messages.lock().unwrap().last().unwrap().1.clone();
    w.ops.click(&as_user("U0LEAD"), &change_button(&asking, "Approve")).await;
    settle(&w, "req-1").await;

    assert_eq!(requester.scaled.lock().unwrap().len(), 1, "the change ran as its requester");
    assert!(approver.scaled.lock().unwrap().is_empty(), "not as the approver");
    assert!(w.aws.scaled.lock().unwrap().is_empty(), "not with the bot's own credentials");
    assert_eq!(*identity.asked.lock().unwrap(), ["U0DEV"], "resolved once, for the requester");
    assert!(events(&w.store).contains(&AuditEvent::Executed));
}

#[tokio::test]
async fn a_change_whose_requester_cannot_be_assumed_runs_nothing_and_fails_audited() {
    let identity = Arc::new(ActAs { gateways: Default::default(), asked: Default::default() });
    let w = acting_as(Policy::reads_for_everyone(["scale"]), identity);

    let plan = w.ops.handle(&ctx(), "scale prod/api 6").await;
    w.ops.click(&ctx(), &change_button(&plan, "Confirm")).await;
    settle(&w, "req-1").await;

    assert!(w.aws.scaled.lock().unwrap().is_empty(), "nothing ran");
    assert_eq!(events(&w.store), [AuditEvent::Requested, AuditEvent::Confirmed, AuditEvent::Failed]);
    let change = w.store.change(&ChangeId("req-1".into())).await.unwrap().unwrap();
    assert_eq!(change.state, ChangeState::Failed);
    let last = w.chat.texts().pop().unwrap();
    assert!(last.contains("not run: opsbot could not act as <@U0DEV> in AWS — AWS denied access"), "{last}");
}

fn policy(yaml: &str) -> Policy {
    let known: Vec<&str> = crate::cmd::ENTRIES.iter().map(|e| e.spec.name).collect();
    Policy::from_yaml(yaml, std::path::Path::new("policy.yaml"), &known).unwrap()
}

/// `prod/api` (4 wanted, 6 running) in the middle of a rollout, under `yaml`.
fn rolling_out(yaml: &str) -> World {
    let mut busy = service("prod/api", 4, 6);
    busy.summary.rollout = Some(crate::ports::RolloutState::InProgress);
    world_with(policy(yaml), FakeAws { services: vec![busy], ..FakeAws::default() })
}

#[tokio::test]
async fn a_forced_change_runs_despite_a_rollout_where_a_rule_allows_force_and_says_so() {
    let w = rolling_out("roles: { ops: { everyone: true } }\nrules:\n  - { allow: [scale], to: ops, force: true }\n");
    let plan = w.ops.handle(&ctx(), "scale prod/api 6 --force").await;
    assert!(
        plan.text().contains(":warning: *forced* despite: a deployment of prod/api is still rolling out"),
        "{}",
        plan.text()
    );
    w.ops.click(&ctx(), &change_button(&plan, "Confirm")).await;
    settle(&w, "req-1").await;
    assert_eq!(w.aws.scaled.lock().unwrap().len(), 1, "the forced change ran");
    let requested = w.store.audit.lock().unwrap()[0].clone();
    assert!(requested.text.ends_with("--force"), "the audit keeps the flag: {}", requested.text);
    assert!(requested.detail.unwrap_or_default().starts_with("forced despite:"));
}

#[tokio::test]
async fn force_without_a_rule_that_allows_it_is_denied_and_runs_nothing() {
    let w = rolling_out("roles: { ops: { everyone: true } }\nrules:\n  - { allow: [scale], to: ops }\n");
    let text = w.ops.handle(&ctx(), "scale prod/api 6 --force").await.text();
    assert!(text.contains("no rule lets you force `scale`"), "{text}");
    assert_eq!(events(&w.store), [AuditEvent::Denied]);
}

/// Anyone may run these, and force them.
const FORCEABLE: &str =
    "roles: { ops: { everyone: true } }\nrules:\n  - { allow: [run, pipeline start], to: ops, force: true }\n";

#[tokio::test]
async fn force_goes_past_a_run_in_progress_but_not_past_a_document_that_does_not_fit() {
    let aws = FakeAws::default().with_ssm_catalog();
    aws.ssm.running_commands.lock().unwrap().push(crate::ports::RunningCommand {
        id: "cmd-theirs".into(),
        instances: vec!["i-0abc123def4567890".into()],
        tag: None,
    });
    let w = world_with(policy(FORCEABLE), aws);

    let busy = w.ops.handle(&ctx(), "run AWS-RunShellScript on i-0abc123def4567890 commands=uptime --force").await;
    assert!(busy.text().contains(":warning: *forced* despite: command `cmd-theirs`"), "{}", busy.text());
    assert!(busy.text().contains("[Confirm]"), "{}", busy.text());

    let misspelt = w.ops.handle(&ctx(), "run AWS-RunShellScript on i-0abc123def4567890 command=uptime --force").await;
    let text = misspelt.text();
    assert!(text.contains("cannot be done as asked") && text.contains("has no parameter `command`"), "{text}");
    assert!(!text.contains("[Confirm]"), "nothing to confirm: {text}");
    let missing = w.ops.handle(&ctx(), "run AWS-RunShelScript on i-0abc123def4567890 commands=uptime --force").await;
    assert!(missing.text().contains("there is no SSM document `AWS-RunShelScript`"), "{}", missing.text());
    let refused: Vec<_> =
        w.store.audit.lock().unwrap().iter().filter(|r| r.event == AuditEvent::Refused).cloned().collect();
    assert_eq!(refused.len(), 2, "both refusals are audited: {refused:?}");
    assert!(refused.iter().all(|r| r.text.ends_with("--force")));
}

#[tokio::test]
async fn a_forced_pipeline_start_goes_past_an_execution_in_progress_only() {
    let w = world_with(policy(FORCEABLE), FakeAws::default().with_pipeline_state(crate::testing::pay("exec-1")));
    let busy = w.ops.handle(&ctx(), "pipeline start pay --force").await.text();
    assert!(busy.contains(":warning: *forced* despite: execution `exec-1` is still in progress"), "{busy}");
    let nope = w.ops.handle(&ctx(), "pipeline start nope --force").await.text();
    assert!(nope.contains("`nope` was not found"), "a pipeline that is not there is not forced into being: {nope}");
    assert!(!nope.contains("[Confirm]"), "{nope}");
}

#[tokio::test]
async fn force_on_a_read_command_is_a_usage_error() {
    let text = world().ops.handle(&ctx(), "service prod/api --force").await.text();
    assert!(text.contains("`--force` is for changes; `service` changes nothing"), "{text}");
}

#[tokio::test(start_paused = true)]
async fn an_approved_pipeline_decision_names_its_requester_in_the_summary_aws_keeps() {
    let yaml = "roles:\n  ops: { everyone: true }\nrules:\n  - allow: [pipeline approve]\n    to: ops\n    \
                approval: { by: ops, ttl: 1h }\n";
    let w = world_with(policy(yaml), FakeAws::default().with_pipeline_state(crate::testing::pay("exec-1")));
    let plan = w.ops.handle(&ctx(), "pipeline approve pay").await;
    w.ops.click(&ctx(), &change_button(&plan, "Confirm")).await;
    let asking = w.chat.messages.lock().unwrap().last().unwrap().1.clone();
    let lead = Context { user_name: Some("Lee Lead".into()), ..as_user("U0LEAD") };
    w.ops.click(&lead, &change_button(&asking, "Approve")).await;
    for _ in 0..100 {
        if !w.aws.pipeline_calls.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    let calls = w.aws.pipeline_calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(calls[0].ends_with(": Approved by dev (U0DEV) via opsbot"), "{calls:?}");
}

/// Scale needs an approval by `ops` (everyone), plus `extra` YAML (a freeze).
fn approval_policy_with(extra: &str) -> Policy {
    policy(&format!(
        "roles:\n  ops: {{ everyone: true }}\nrules:\n  - allow: [scale]\n    to: ops\n    approval: {{ by: ops, ttl: 1h }}\n{extra}"
    ))
}

/// Confirms `scale prod/api 6` under `w` and returns the approval request's message.
async fn asked_for_approval(w: &World) -> Reply {
    let plan = w.ops.handle(&ctx(), "scale prod/api 6").await;
    w.ops.click(&ctx(), &change_button(&plan, "Confirm")).await;
    w.chat.messages.lock().unwrap().last().unwrap().1.clone()
}

/// An `Ops` on `w`'s fakes and store, under `policy` and reading the time
/// from `at` — opsbot restarted with another configuration, later.
fn restarted(w: &World, policy: Policy, at: crate::ports::Time) -> Arc<Ops> {
    let ops = Ops::new(FakeAws::share(&w.aws), Arc::new(policy), w.store.clone(), w.chat.clone());
    Arc::new(ops.with_clock(Arc::new(move || at)))
}

fn refusal(w: &World) -> String {
    let audit = w.store.audit.lock().unwrap();
    let refused = audit.iter().find(|r| r.event == AuditEvent::Refused).expect("a Refused record");
    refused.detail.clone().unwrap_or_default()
}

#[tokio::test]
async fn a_change_requested_before_a_freeze_and_approved_inside_it_does_not_run() {
    let freeze = "freeze:\n  - { name: release, from: 2026-11-22T12:30:00Z, to: 2026-11-22T18:00:00Z, commands: [scale], \
                  reason: release day }\n";
    let w = world_with(approval_policy_with(freeze), api());
    let asking = asked_for_approval(&w).await;
    let inside = crate::testing::now() + chrono::Duration::hours(1);
    let ops = restarted(&w, approval_policy_with(freeze), inside);
    ops.click(&as_user("U0LEAD"), &change_button(&asking, "Approve")).await;
    settle(&w, "req-1").await;

    assert!(w.aws.scaled.lock().unwrap().is_empty(), "nothing ran inside the freeze");
    assert_eq!(events(&w.store).last(), Some(&AuditEvent::Refused));
    let detail = refusal(&w);
    assert!(detail.contains("freeze `release` (policy.yaml:") && detail.contains("release day"), "{detail}");
    let last = w.chat.texts().pop().unwrap();
    assert!(last.contains("not run: the policy no longer allows it") && last.contains("release day"), "{last}");
    assert_eq!(w.store.change(&ChangeId("req-1".into())).await.unwrap().unwrap().state, ChangeState::Failed);
}

#[tokio::test]
async fn a_change_whose_rule_was_removed_after_the_request_does_not_run() {
    let w = world_needing_approval();
    let asking = asked_for_approval(&w).await;
    let without_scale = policy("roles:\n  ops: { everyone: true }\nrules:\n  - { allow: [service], to: ops }\n");
    let ops = restarted(&w, without_scale, crate::testing::now());
    ops.click(&as_user("U0LEAD"), &change_button(&asking, "Approve")).await;
    settle(&w, "req-1").await;

    assert!(w.aws.scaled.lock().unwrap().is_empty(), "nothing ran");
    assert_eq!(
        events(&w.store),
        [AuditEvent::Requested, AuditEvent::Confirmed, AuditEvent::Approved, AuditEvent::Refused]
    );
    assert!(refusal(&w).starts_with("the policy no longer allows it"), "{}", refusal(&w));
}

#[tokio::test]
async fn a_change_that_now_needs_an_approval_it_did_not_get_does_not_run() {
    let w = world_with(Policy::reads_for_everyone(["scale"]), api());
    let plan = w.ops.handle(&ctx(), "scale prod/api 6").await;
    let ops = restarted(&w, approval_policy_with(""), crate::testing::now());
    ops.click(&ctx(), &change_button(&plan, "Confirm")).await;
    settle(&w, "req-1").await;

    assert!(w.aws.scaled.lock().unwrap().is_empty(), "nothing ran");
    let detail = refusal(&w);
    assert!(
        detail.contains("now needs an approval by ops (rule policy.yaml:") && detail.ends_with("ask again"),
        "{detail}"
    );
}

#[tokio::test]
async fn a_change_approved_by_a_role_the_policy_no_longer_asks_for_does_not_run() {
    let w = world_needing_approval();
    let asking = asked_for_approval(&w).await;
    let leads = policy(
        "roles:\n  ops: { everyone: true }\n  leads: { users: [U0LEAD] }\nrules:\n  - allow: [scale]\n    to: ops\n    \
         approval: { by: leads, ttl: 1h }\n",
    );
    let ops = restarted(&w, leads, crate::testing::now());
    ops.click(&as_user("U0LEAD"), &change_button(&asking, "Approve")).await;
    settle(&w, "req-1").await;

    assert!(w.aws.scaled.lock().unwrap().is_empty(), "nothing ran");
    assert!(refusal(&w).contains("now needs an approval by leads"), "{}", refusal(&w));
}

#[tokio::test]
async fn a_change_still_allowed_when_it_runs_goes_ahead() {
    let w = world_needing_approval();
    let asking = asked_for_approval(&w).await;
    let ops = restarted(&w, approval_policy_with(""), crate::testing::now() + chrono::Duration::minutes(30));
    ops.click(&as_user("U0LEAD"), &change_button(&asking, "Approve")).await;
    settle(&w, "req-1").await;
    assert_eq!(w.aws.scaled.lock().unwrap().len(), 1, "the change ran");
}

/// A notification's Run button for `scale prod/api 6`, pressed by `user`
/// `after` the first press; whether it showed a plan, and its text.
async fn press_run(w: &World, user: &str, after: chrono::Duration, n: usize) -> (bool, String) {
    let ctx = Context { request_id: format!("req-{n}"), now: crate::testing::now() + after, ..as_user(user) };
    let ClickOutcome::Note(reply) = w.ops.press(&ctx, &Press::Run("scale prod/api 6".into())).await else {
        panic!("a Run button answers the presser alone")
    };
    (reply.all_buttons().any(|b| b.label == "Confirm"), reply.text())
}

#[tokio::test]
async fn a_run_button_pressed_twice_by_the_same_user_gives_one_plan() {
    let w = world();
    assert!(press_run(&w, "U0DEV", chrono::Duration::zero(), 1).await.0);
    let (plan, text) = press_run(&w, "U0DEV", chrono::Duration::seconds(3), 2).await;
    assert!(!plan && text.contains("You just pressed this; see the plan above"), "{text}");
    assert_eq!(events(&w.store), [AuditEvent::Requested], "one request, one plan");
}

#[tokio::test]
async fn a_run_button_pressed_twice_across_a_window_boundary_still_gives_one_plan() {
    let w = world();
    // 12:00:09 then 12:00:11: the two presses fall into different 10 s buckets.
    assert!(press_run(&w, "U0DEV", chrono::Duration::seconds(9), 1).await.0);
    assert!(!press_run(&w, "U0DEV", chrono::Duration::seconds(11), 2).await.0);
}

#[tokio::test]
async fn another_user_pressing_the_same_run_button_gets_their_own_plan() {
    let w = world();
    assert!(press_run(&w, "U0DEV", chrono::Duration::zero(), 1).await.0);
    assert!(press_run(&w, "U0LEAD", chrono::Duration::seconds(1), 2).await.0);
}

#[tokio::test]
async fn the_same_user_pressing_again_after_the_window_gets_a_new_plan() {
    let w = world();
    assert!(press_run(&w, "U0DEV", chrono::Duration::zero(), 1).await.0);
    assert!(press_run(&w, "U0DEV", PRESS_WINDOW * 2, 2).await.0);
    assert_eq!(events(&w.store), [AuditEvent::Requested, AuditEvent::Requested]);
}

#[tokio::test]
async fn a_run_button_whose_press_cannot_be_recorded_runs_nothing() {
    let w = world();
    w.store.claims_down.store(true, Ordering::Relaxed);
    let (plan, text) = press_run(&w, "U0DEV", chrono::Duration::zero(), 1).await;
    assert!(!plan && text.contains("Nothing was done: opsbot cannot record this request"), "{text}");
    assert!(events(&w.store).is_empty(), "nothing was requested");
}

#[tokio::test]
async fn a_deploy_confirmed_after_someone_else_deployed_is_refused_and_changes_nothing() {
    let fake = FakeAws { services: vec![service("prod/api", 4, 4)], ..FakeAws::default() };
    let w = world_with(Policy::reads_for_everyone(["deploy"]), fake);
    let plan = w.ops.handle(&ctx(), "deploy prod/api 1.43.0").await;
    let mut since = service("prod/api", 4, 4);
    since.summary.task_definition.revision = 2;
    since.deployments[0].task_definition = Some(since.summary.task_definition.clone());
    w.aws.describe_now(since);
    w.ops.click(&ctx(), &change_button(&plan, "Confirm")).await;
    settle(&w, "req-1").await;

    assert!(w.aws.registered.lock().unwrap().is_empty() && w.aws.updates.lock().unwrap().is_empty());
    assert_eq!(events(&w.store), [AuditEvent::Requested, AuditEvent::Confirmed, AuditEvent::Refused]);
    assert!(refusal(&w).starts_with("prod/api runs api:2 now, not revision 1 you reviewed"), "{}", refusal(&w));
    let change = w.store.change(&ChangeId("req-1".into())).await.unwrap().unwrap();
    assert_eq!((change.state, change.shown.as_str()), (ChangeState::Failed, "deploy prod/api 1.43.0 --from 1"));
}

/// Replica `name` of `w`'s bot: same store, chat and AWS, its own leases.
fn replica(w: &World, name: &str) -> Ops {
    let policy = Policy::reads_for_everyone(["scale", "audit", "service"]);
    Ops::new(FakeAws::share(&w.aws), Arc::new(policy), w.store.clone(), w.chat.clone()).with_replica(name)
}

/// Confirms `scale prod/api 8` on `w` (the service runs 6, so it is
/// followed) and waits until it is being followed.
async fn scaling_followed(w: &World) -> ChangeId {
    let plan = w.ops.handle(&ctx(), "scale prod/api 8").await;
    w.ops.click(&ctx(), &change_button(&plan, "Confirm")).await;
    let id = ChangeId("req-1".into());
    for _ in 0..100 {
        if w.store.change(&id).await.unwrap().unwrap().following.is_some() {
            return id;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the change was never followed");
}

fn finished_messages(w: &World) -> usize {
    w.chat.texts().iter().filter(|t| t.contains(":white_check_mark:") || t.contains(":x:")).count()
}

#[tokio::test(start_paused = true)]
async fn a_replica_stopping_while_it_follows_a_change_hands_it_over_and_another_reports_its_end_once() {
    let w = world();
    let id = scaling_followed(&w).await;
    w.ops.drain(std::time::Duration::from_secs(5)).await;
    let handed = w.store.change(&id).await.unwrap().unwrap();
    assert_eq!(handed.state, ChangeState::Running, "not failed by the stop");
    assert!(handed.lease.unwrap().lapsed(chrono::Utc::now()), "its lease was released");
    assert_eq!(finished_messages(&w), 0);

    w.aws.describe_now(service("prod/api", 8, 8));
    replica(&w, "replica-b").recover().await;
    settle(&w, "req-1").await;
    assert_eq!(w.store.change(&id).await.unwrap().unwrap().state, ChangeState::Succeeded);
    assert_eq!(w.aws.scaled.lock().unwrap().len(), 1, "acted on once");
    assert_eq!(finished_messages(&w), 1, "{:?}", w.chat.texts());
    let last = w.chat.texts().pop().unwrap();
    assert!(last.contains("desired count set to *8*") && last.contains("8/8 running"), "{last}");
    assert_eq!(
        events(&w.store),
        [AuditEvent::Requested, AuditEvent::Confirmed, AuditEvent::Executing, AuditEvent::Executed]
    );
}

#[tokio::test(start_paused = true)]
async fn a_change_whose_replica_is_alive_is_left_to_it() {
    let w = world();
    let id = scaling_followed(&w).await;
    let b = replica(&w, "replica-b");
    b.recover().await;
    tokio::time::sleep(std::time::Duration::from_secs(60)).await; // A renews its lease meanwhile
    b.recover().await;
    assert_eq!(w.store.change(&id).await.unwrap().unwrap().lease.unwrap().owner, "replica-a");
    w.aws.describe_now(service("prod/api", 8, 8));
    tokio::time::sleep(std::time::Duration::from_secs(10)).await; // A's next look
    settle(&w, "req-1").await;
    assert_eq!(finished_messages(&w), 1, "reported by A alone: {:?}", w.chat.texts());
}

#[tokio::test(start_paused = true)]
async fn a_replica_that_finds_its_change_taken_over_stops_following_it_without_a_word() {
    let w = world();
    let id = scaling_followed(&w).await;
    // As if A hung past its lease and B took the change over.
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    w.store.changes.lock().unwrap().get_mut(&id).unwrap().lease =
        Some(Lease { owner: "replica-b".into(), until: later });
    tokio::time::sleep(super::LEASE).await;
    w.aws.describe_now(service("prod/api", 8, 8));
    tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    assert_eq!(w.store.change(&id).await.unwrap().unwrap().state, ChangeState::Running, "left to B");
    assert_eq!(finished_messages(&w), 0, "{:?}", w.chat.texts());
}

#[tokio::test]
async fn a_pending_approval_is_judged_by_the_policy_reloaded_since_not_the_one_it_was_asked_under() {
    let live = crate::LivePolicy::from(Arc::new(approval_policy_with("")));
    let aws = fake_aws();
    let (store, chat) = (Arc::new(MemoryStore::default()), Arc::new(MemoryChat::default()));
    let ops = Arc::new(Ops::new(FakeAws::share(&aws), live.clone(), store.clone(), chat.clone()));
    let w = World { ops, aws, store, chat };
    let asking = asked_for_approval(&w).await;

    let without_scale = policy("roles:\n  ops: { everyone: true }\nrules:\n  - { allow: [service], to: ops }\n");
    live.replace(Arc::new(without_scale), crate::PolicyVersion::of(&["without scale"], crate::testing::now()));
    w.ops.click(&as_user("U0LEAD"), &change_button(&asking, "Approve")).await;
    settle(&w, "req-1").await;

    assert!(w.aws.scaled.lock().unwrap().is_empty(), "the same running bot, reloaded: nothing ran");
    assert_eq!(events(&w.store).last(), Some(&AuditEvent::Refused));
    assert!(refusal(&w).starts_with("the policy no longer allows it"), "{}", refusal(&w));
}

/// The change steps the runner tells its observer, in order.
#[derive(Default)]
struct Steps(std::sync::Mutex<Vec<(&'static str, AuditEvent)>>);

impl crate::ports::observe::Observe for Steps {
    fn command(&self, _: &'static str, _: crate::ports::observe::Outcome, _: std::time::Duration) {}
    fn decision(&self, _: &'static str, _: &'static str) {}
    fn change(&self, command: &'static str, event: AuditEvent) {
        self.0.lock().unwrap().push((command, event));
    }
}

#[tokio::test]
async fn every_audited_step_of_a_change_is_told_to_the_observer_as_it_happens() {
    let steps = Arc::new(Steps::default());
    let w = world();
    let observed = Ops::new(
        FakeAws::share(&w.aws),
        Arc::new(Policy::reads_for_everyone(["scale"])),
        w.store.clone(),
        w.chat.clone(),
    )
    .with_replica("replica-a")
    .with_observer(steps.clone());
    let w = World { ops: Arc::new(observed), ..w };
    let plan = w.ops.handle(&ctx(), "scale prod/api 6").await;
    w.ops.click(&ctx(), &change_button(&plan, "Confirm")).await;
    settle(&w, "req-1").await;
    let told: Vec<(&str, AuditEvent)> = steps.0.lock().unwrap().clone();
    let audited: Vec<(&str, AuditEvent)> = events(&w.store).into_iter().map(|e| ("scale", e)).collect();
    assert_eq!(told, audited, "one step told per audit record");
    assert_eq!(told.last(), Some(&("scale", AuditEvent::Executed)));
}

#[tokio::test]
async fn an_approval_the_store_cannot_record_says_nothing_was_done_and_may_be_pressed_again() {
    let w = world_needing_approval();
    let asking = asked_for_approval(&w).await;
    w.store.transitions_down.store(true, Ordering::Relaxed);
    let outcome = w.ops.click(&as_user("U0LEAD"), &change_button(&asking, "Approve")).await;
    let ClickOutcome::Note(said) = outcome else { panic!("a note to the approver: {outcome:?}") };
    assert!(said.text().contains("Nothing was done"), "{}", said.text());
    assert!(!said.text().contains("Someone else"), "a store failure is not a lost race: {}", said.text());
    assert_eq!(w.store.change(&ChangeId("req-1".into())).await.unwrap().unwrap().state, ChangeState::AwaitingApproval);

    w.store.transitions_down.store(false, Ordering::Relaxed);
    let outcome = w.ops.click(&as_user("U0LEAD"), &change_button(&asking, "Approve")).await;
    assert!(matches!(&outcome, ClickOutcome::Note(r) if r.text().contains("Approved")), "{outcome:?}");
    settle(&w, "req-1").await;
    assert_eq!(w.aws.scaled.lock().unwrap().len(), 1, "the second press ran the change, once");
}

#[tokio::test]
async fn a_confirmation_the_store_cannot_record_says_nothing_was_done() {
    let w = world();
    let plan = w.ops.handle(&ctx(), "scale prod/api 6").await;
    w.store.transitions_down.store(true, Ordering::Relaxed);
    let outcome = w.ops.click(&ctx(), &change_button(&plan, "Confirm")).await;
    assert!(matches!(&outcome, ClickOutcome::Note(r) if r.text().contains("Nothing was done")), "{outcome:?}");
    assert!(w.aws.scaled.lock().unwrap().is_empty());
}
