//! The SSM changes through the whole pipeline (plan → confirm → execute →
//! follow) against the fake: a SecureString value never shows anywhere,
//! `on_param_change` hooks run only when `run` is allowed and its preflight
//! passes, and a run that never ends is reported as timed out.

use std::sync::Arc;

use opsbot_policies::Policy;

use crate::change::messages::ClickOutcome;
use crate::hooks::ParamHook;
use crate::ops::Ops;
use crate::ports::store::{ChangeId, Store};
use crate::ports::{ParamKind, RunStatus};
use crate::reply::Reply;
use crate::testing::ssm::{automation, command};
use crate::testing::{FakeAws, MemoryChat, MemoryStore, change_button, ctx};
use crate::values::ssm::{DocParams, DocumentName, Targets};

const SECRET: &str = "pR0d-7f#Kq9!vLx2";

struct World {
    ops: Arc<Ops>,
    aws: Arc<FakeAws>,
    store: Arc<MemoryStore>,
    chat: Arc<MemoryChat>,
}

fn world(allowed: &[&str], fake: FakeAws, hooks: Vec<ParamHook>) -> World {
    let aws = Arc::new(fake);
    let (store, chat) = (Arc::new(MemoryStore::default()), Arc::new(MemoryChat::default()));
    let policy = Arc::new(Policy::reads_for_everyone(allowed.iter().copied()));
    let ops = Ops::new(FakeAws::share(&aws), policy, store.clone(), chat.clone()).with_param_hooks(hooks);
    World { ops: Arc::new(ops), aws, store, chat }
}

fn staging_hook() -> ParamHook {
    let params = DocParams::parse(&["commands=systemctl reload shop".to_string()]).unwrap();
    let document = DocumentName::parse("AWS-RunShellScript").unwrap();
    ParamHook::new("/shop/staging/", document, Targets::parse("tag:Environment=staging").unwrap(), params).unwrap()
}

/// Asks for `text`, confirms the plan and waits until the change has finished.
async fn confirm_and_finish(w: &World, text: &str) -> Reply {
    let plan = w.ops.handle(&ctx(), text).await;
    let confirm = change_button(&plan, "Confirm");
    assert!(matches!(w.ops.click(&ctx(), &confirm).await, ClickOutcome::Replace(_)));
    // Backing off to a minute: quick when real time runs, and paused-time
    // tests reach an hour-long timeout in a few hundred looks.
    let mut wait = std::time::Duration::from_millis(5);
    for _ in 0..500 {
        let change = w.store.change(&ChangeId("req-1".into())).await.unwrap().unwrap();
        if change.state.is_final() {
            return plan;
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(std::time::Duration::from_secs(60));
    }
    panic!("the change did not finish: {:?}", w.chat.texts());
}

#[tokio::test(start_paused = true)]
async fn a_secure_string_value_is_written_but_never_shown_stored_or_audited() {
    let fake = FakeAws::default().with_param("/shop/prod/db-password", ParamKind::SecureString, "old");
    let w = world(&["param set"], fake, vec![]);

    let plan = confirm_and_finish(&w, &format!("param set /shop/prod/db-password \"{SECRET}\"")).await;

    let write = w.aws.ssm.writes.lock().unwrap()[0].clone();
    assert_eq!(write.value.unwrap().expose(), SECRET, "AWS gets the value");
    let messages = w.chat.messages.lock().unwrap().clone();
    let whispers = w.chat.whispers.lock().unwrap().clone();
    let audit = w.store.audit.lock().unwrap().clone();
    let changes = w.store.changes.lock().unwrap().clone();
    let everything = format!("{plan:?}{messages:?}{whispers:?}{audit:?}{changes:?}");
    assert!(!everything.contains(SECRET), "the value leaked: {everything}");
    assert!(w.chat.texts().last().unwrap().contains(":white_check_mark: */shop/prod/db-password* is now version *2*."));
    // The text approved and audited pins the version written over (defect 1 of issue 9).
    assert!(audit.iter().all(|r| r.text == "param set /shop/prod/db-password •••••• --if-version 1"), "{audit:?}");
}

#[tokio::test(start_paused = true)]
async fn a_change_under_a_hook_prefix_sends_the_document_and_follows_it() {
    let fake = FakeAws::default()
        .with_ssm_catalog()
        .with_param("/shop/staging/db-host", ParamKind::String, "db1")
        .with_command_states(vec![
            command("AWS-RunShellScript", RunStatus::InProgress, &[("i-1", RunStatus::InProgress, "")]),
            command("AWS-RunShellScript", RunStatus::Success, &[("i-1", RunStatus::Success, "reloaded")]),
        ]);
    let w = world(&["param set", "run"], fake, vec![staging_hook()]);

    let plan = confirm_and_finish(&w, "param set /shop/staging/db-host db2").await;

    assert!(plan.text().contains("Then runs `AWS-RunShellScript` on `tag:Environment=staging`"), "{}", plan.text());
    let sent = w.aws.ssm.sent.lock().unwrap().clone();
    assert_eq!((sent.len(), sent[0].0.as_str()), (1, "AWS-RunShellScript"));
    let last = w.chat.texts().last().unwrap().clone();
    assert!(last.contains("Sent `AWS-RunShellScript` on `tag:Environment=staging` (command `c0mmand-1`)."), "{last}");
    assert!(last.contains("Version 2 is live.") && last.contains("Output of `i-1`:\n```\nreloaded\n```"), "{last}");
}

#[tokio::test(start_paused = true)]
async fn a_hook_whose_preflight_fails_is_not_sent_and_the_change_ends_failed_saying_why() {
    let misspelt = {
        let params = DocParams::parse(&["command=systemctl reload shop".to_string()]).unwrap();
        let document = DocumentName::parse("AWS-RunShellScript").unwrap();
        ParamHook::new("/shop/staging/", document, Targets::parse("tag:Environment=stagin").unwrap(), params).unwrap()
    };
    let fake = FakeAws::default().with_ssm_catalog().with_param("/shop/staging/db-host", ParamKind::String, "db1");
    let w = world(&["param set", "run"], fake, vec![misspelt]);

    let plan = confirm_and_finish(&w, "param set /shop/staging/db-host db2").await;

    assert!(plan.text().contains("but its preflight fails now, so it would not be sent"), "{}", plan.text());
    assert!(w.aws.ssm.sent.lock().unwrap().is_empty(), "nothing sent");
    assert_eq!(w.aws.ssm.writes.lock().unwrap().len(), 1, "the write itself stands");
    let last = w.chat.texts().last().unwrap().clone();
    assert!(last.contains(":x:") && last.contains("Did not send `AWS-RunShellScript`"), "{last}");
    assert!(last.contains("has no parameter `command`"), "{last}");
    assert!(last.contains("no SSM-managed instance matches"), "{last}");
    assert!(last.contains("Version 2 is live.") && last.contains("1 follow-up was not sent"), "{last}");
    assert_eq!(last.matches("Did not send").count(), 1, "said once: {last}");
    let events: Vec<_> = w.store.audit.lock().unwrap().iter().map(|r| r.event).collect();
    assert!(events.contains(&crate::ports::store::AuditEvent::Failed), "{events:?}");
}

#[tokio::test(start_paused = true)]
async fn a_hook_the_requester_may_not_run_is_named_and_not_sent() {
    let fake = FakeAws::default().with_param("/shop/staging/db-host", ParamKind::String, "db1");
    let w = world(&["param set"], fake, vec![staging_hook()]);

    confirm_and_finish(&w, "param set /shop/staging/db-host db2").await;

    assert!(w.aws.ssm.sent.lock().unwrap().is_empty());
    let last = w.chat.texts().last().unwrap().clone();
    assert!(last.contains(":white_check_mark:") && last.contains("Not running `AWS-RunShellScript`"), "{last}");
    assert!(last.contains("Ask for it with `run AWS-RunShellScript on tag:Environment=staging"), "{last}");
}

#[tokio::test(start_paused = true)]
async fn a_change_outside_every_prefix_runs_no_hook() {
    let fake = FakeAws::default().with_param("/shop/prod/db-host", ParamKind::String, "db1");
    let w = world(&["param set", "run"], fake, vec![staging_hook()]);
    confirm_and_finish(&w, "param set /shop/prod/db-host db2").await;
    assert!(w.aws.ssm.sent.lock().unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn an_automation_that_never_ends_is_reported_as_timed_out() {
    let stuck = automation("Shop-FlushCache", RunStatus::InProgress, &[("flush", RunStatus::InProgress)]);
    let fake = FakeAws::default().with_ssm_catalog().with_automation_states(vec![stuck]);
    let w = world(&["automation run"], fake, vec![]);

    confirm_and_finish(&w, "automation run Shop-FlushCache").await;

    let last = w.chat.texts().last().unwrap().clone();
    assert!(last.contains(":x:") && last.contains("still not finished after 1h"), "{last}");
    let events: Vec<_> = w.store.audit.lock().unwrap().iter().map(|r| r.event).collect();
    assert!(events.contains(&crate::ports::store::AuditEvent::Failed), "{events:?}");
}

#[tokio::test(start_paused = true)]
async fn a_run_command_that_never_ends_is_reported_as_timed_out() {
    let stuck = command("AWS-RunShellScript", RunStatus::InProgress, &[("i-1", RunStatus::InProgress, "")]);
    let w = world(&["run"], FakeAws::default().with_ssm_catalog().with_command_states(vec![stuck]), vec![]);

    confirm_and_finish(&w, "run AWS-RunShellScript on tag:Environment=staging commands=uptime").await;

    let last = w.chat.texts().last().unwrap().clone();
    assert!(last.contains(":x:") && last.contains("still not finished after 15m"), "{last}");
}

#[tokio::test(start_paused = true)]
async fn a_param_change_whose_follow_up_never_ends_times_out_with_the_version_live() {
    let stuck = command("AWS-RunShellScript", RunStatus::InProgress, &[("i-1", RunStatus::InProgress, "")]);
    let fake = FakeAws::default()
        .with_ssm_catalog()
        .with_param("/shop/staging/db-host", ParamKind::String, "db1")
        .with_command_states(vec![stuck]);
    let w = world(&["param set", "run"], fake, vec![staging_hook()]);

    confirm_and_finish(&w, "param set /shop/staging/db-host db2").await;

    let last = w.chat.texts().last().unwrap().clone();
    assert!(last.contains("is now version *2*") && last.contains("still not finished after 15m"), "{last}");
    assert_eq!(w.aws.ssm.writes.lock().unwrap().len(), 1, "written once, whatever happens after");
}

#[tokio::test]
async fn a_run_that_became_unsafe_before_it_was_confirmed_is_refused_audited_and_not_sent() {
    let w = world(&["run"], FakeAws::default().with_ssm_catalog(), vec![]);
    let plan = w.ops.handle(&ctx(), "run AWS-RunShellScript on i-0abc123def4567890 commands=uptime").await;
    assert!(plan.text().contains("Resolves to 1 instance (`i-0abc123def4567890`)"), "{}", plan.text());
    w.aws.ssm.running_commands.lock().unwrap().push(crate::ports::RunningCommand {
        id: "cmd-theirs".into(),
        instances: vec![],
        tag: Some(Targets::parse("tag:Environment=staging").unwrap()),
    });

    w.ops.click(&ctx(), &change_button(&plan, "Confirm")).await;
    for _ in 0..200 {
        if w.store.change(&ChangeId("req-1".into())).await.unwrap().unwrap().state.is_final() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }

    assert!(w.aws.ssm.sent.lock().unwrap().is_empty(), "nothing sent");
    let refused = w.store.audit.lock().unwrap().last().cloned().unwrap();
    assert_eq!(refused.event, crate::ports::store::AuditEvent::Refused);
    let detail = refused.detail.unwrap_or_default();
    assert!(detail.contains("command `cmd-theirs` of `AWS-RunShellScript` is still running"), "{detail}");
    assert!(w.chat.texts().last().unwrap().contains("it became unsafe since it was planned"), "{:?}", w.chat.texts());
}

#[tokio::test]
async fn a_param_written_by_someone_else_after_the_plan_is_not_overwritten() {
    let fake = FakeAws::default().with_param("/shop/staging/flags", ParamKind::String, "a");
    let w = world(&["param set"], fake, vec![]);
    let plan = w.ops.handle(&ctx(), "param set /shop/staging/flags b").await;
    let theirs = crate::testing::ssm::ParamWriteCall {
        name: "/shop/staging/flags".into(),
        value: Some(crate::ports::NewValue::new(String::from("theirs"))),
        restored: None,
        keep: crate::ports::ParamSettings {
            kind: ParamKind::String,
            key_id: None,
            tier: Some("Standard".into()),
            data_type: Some("text".into()),
            description: None,
            allowed_pattern: None,
        },
        by: crate::values::SlackUserId::parse("U0OTHER").unwrap(),
    };
    w.aws.ssm.writes.lock().unwrap().push(theirs);
    let confirm = plan.all_buttons().find(|b| b.label == "Confirm").unwrap().press.change().cloned().unwrap();
    w.ops.click(&ctx(), &confirm).await;
    for _ in 0..200 {
        if w.store.change(&ChangeId("req-1".into())).await.unwrap().unwrap().state.is_final() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }

    assert_eq!(w.aws.ssm.writes.lock().unwrap().len(), 1, "only their write");
    let audit = w.store.audit.lock().unwrap().clone();
    let refused = audit.last().unwrap();
    assert_eq!(refused.event, crate::ports::store::AuditEvent::Refused, "{audit:?}");
    let detail = refused.detail.clone().unwrap_or_default();
    assert!(detail.starts_with("/shop/staging/flags was written since you reviewed it: it is at version 2, not 1"));
    assert!(w.chat.texts().last().unwrap().contains("not run: /shop/staging/flags was written since you reviewed it"));
}
