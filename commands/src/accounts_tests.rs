//! Commands in several AWS accounts (`--account`, `--region`, `prod:`
//! prefixes) through the whole runner, against [`FakeAccounts`]: reads go to
//! the account named, changes are bound to it and run there for their
//! requester, the policy can name it and its region, and an unknown one is
//! refused. A region named reads and changes there, not in the account's own.
//! A write's `on_param_change` hooks are judged and run in its account.

use std::sync::Arc;

use opsbot_policies::Policy;

use crate::change::messages::ClickOutcome;
use crate::hooks::ParamHook;
use crate::ops::Ops;
use crate::ports::store::{ChangeId, Store};
use crate::ports::{ParamKind, RunStatus};
use crate::testing::{FakeAccounts, FakeAws, MemoryChat, MemoryStore, change_button, ctx};
use crate::values::ssm::{DocParams, DocumentName, Targets};
use crate::{Reply, Visibility};

struct World {
    ops: Ops,
    home: Arc<FakeAws>,
    accounts: Arc<FakeAccounts>,
    store: Arc<MemoryStore>,
    chat: Arc<MemoryChat>,
}

fn param(value: &str) -> FakeAws {
    FakeAws::default().with_param("/shop/db-host", ParamKind::String, value).with_ssm_catalog().with_command_states(
        vec![crate::testing::ssm::command(
            "AWS-RunShellScript",
            RunStatus::Success,
            &[("i-1", RunStatus::Success, "")],
        )],
    )
}

fn world(policy: Policy, default: Option<&str>) -> World {
    let home = Arc::new(param("home-db"));
    let accounts = FakeAccounts::new(vec![("prod", param("prod-db")), ("staging", param("staging-db"))], default)
        .with_place("eu-west-1", param("home-eu-db"))
        .with_place("prod eu-west-1", param("prod-eu-db"));
    let accounts = Arc::new(accounts);
    let store = Arc::new(MemoryStore::default());
    let chat = Arc::new(MemoryChat::default());
    let ops =
        Ops::new(FakeAws::share(&home), Arc::new(policy), store.clone(), chat.clone()).with_accounts(accounts.clone());
    World { ops, home, accounts, store, chat }
}

fn reads() -> Policy {
    Policy::reads_for_everyone(["param get", "param set"])
}

async fn ask(w: &World, line: &str) -> Reply {
    w.ops.handle(&ctx(), line).await
}

#[tokio::test]
async fn a_query_naming_an_account_reads_in_that_account_by_flag_or_by_prefix() {
    let w = world(reads(), None);
    let prod = ask(&w, "param get /shop/db-host --account prod").await;
    assert!(prod.text().contains("prod-db"), "{}", prod.text());
    assert!(prod.text().contains("In *prod*"), "the answer names its account: {}", prod.text());
    assert!(ask(&w, "param get staging:/shop/db-host").await.text().contains("staging-db"));
    assert!(ask(&w, "param get /shop/db-host").await.text().contains("home-db"), "no account: the bot's own");
    assert_eq!(*w.accounts.asked.lock().unwrap(), ["reads prod", "reads staging"]);
}

#[tokio::test]
async fn a_query_naming_no_account_reads_in_the_default_account_when_one_is_set() {
    let w = world(reads(), Some("staging"));
    assert!(ask(&w, "param get /shop/db-host").await.text().contains("staging-db"));
}

#[tokio::test]
async fn an_unknown_account_is_refused_with_the_known_ones_before_anything_is_read() {
    let w = world(reads(), None);
    let reply = ask(&w, "param get /shop/db-host --account prdo").await;
    assert_eq!(reply.visibility, Visibility::Ephemeral);
    let text = reply.text();
    assert!(text.contains("I don't know the account `prdo`") && text.contains("`prod`, `staging`"), "{text}");
    assert!(text.contains("--account prod"), "did you mean: {text}");
    assert!(w.accounts.asked.lock().unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_change_in_an_account_names_it_in_its_plan_and_runs_there_as_its_requester() {
    let w = world(reads(), None);
    let plan = ask(&w, "param set prod:/shop/db-host new-db").await;
    assert!(plan.text().contains("--account prod"), "the plan names the account: {}", plan.text());
    let stored = w.store.change(&ChangeId("req-1".into())).await.unwrap().unwrap();
    assert!(stored.text.ends_with("--account prod"), "the approved line binds the account: {}", stored.text);

    let confirm = change_button(&plan, "Confirm");
    assert!(matches!(w.ops.click(&ctx(), &confirm).await, ClickOutcome::Replace(_)));
    while !w.store.change(&ChangeId("req-1".into())).await.unwrap().unwrap().state.is_final() {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }

    assert_eq!(w.accounts.account("prod").ssm.writes.lock().unwrap().len(), 1, "written in prod");
    assert!(w.home.ssm.writes.lock().unwrap().is_empty(), "not in the bot's own account");
    assert!(w.accounts.account("staging").ssm.writes.lock().unwrap().is_empty());
    let asked = w.accounts.asked.lock().unwrap().clone();
    assert!(asked.contains(&"changes prod for U0DEV".to_owned()), "acting for the requester: {asked:?}");
}

#[tokio::test]
async fn a_policy_rule_naming_an_account_allows_the_change_there_and_nowhere_else() {
    let yaml = "roles:\n  devs: { everyone: true }\nrules:\n  - allow: [param set]\n    to: devs\n    where: { account: \"^staging$\" }\n";
    let known: Vec<&str> = crate::cmd::ENTRIES.iter().map(|e| e.spec.name).collect();
    let policy = Policy::from_yaml(yaml, std::path::Path::new("p.yaml"), &known).unwrap();
    let w = world(policy, None);
    let staging = ask(&w, "param set /shop/db-host new-db --account staging").await;
    assert!(change_button(&staging, "Confirm").change.0 == "req-1", "{}", staging.text());
    let prod = ask(&w, "param set prod:/shop/db-host new-db").await;
    assert!(prod.text().contains("no rule allows `param set`"), "{}", prod.text());
}

#[tokio::test]
async fn a_query_naming_a_region_reads_there_and_says_so() {
    let w = world(reads(), None);
    let eu = ask(&w, "param get /shop/db-host --region eu-west-1").await;
    assert!(eu.text().contains("home-eu-db") && eu.text().contains("In *eu-west-1*"), "{}", eu.text());
    let prod_eu = ask(&w, "param get prod:/shop/db-host --region eu-west-1").await;
    assert!(prod_eu.text().contains("prod-eu-db"), "{}", prod_eu.text());
    assert!(ask(&w, "param get /shop/db-host").await.text().contains("home-db"), "no region: the bot's own");
    assert_eq!(*w.accounts.asked.lock().unwrap(), ["reads eu-west-1", "reads prod eu-west-1"]);
}

#[tokio::test(start_paused = true)]
async fn a_change_naming_a_region_is_bound_to_it_and_runs_there() {
    let w = world(reads(), None);
    let plan = ask(&w, "param set /shop/db-host new-db --region eu-west-1").await;
    let stored = w.store.change(&ChangeId("req-1".into())).await.unwrap().unwrap();
    assert!(stored.text.ends_with("--region eu-west-1"), "the approved line binds the region: {}", stored.text);
    let confirm = change_button(&plan, "Confirm");
    assert!(matches!(w.ops.click(&ctx(), &confirm).await, ClickOutcome::Replace(_)));
    while !w.store.change(&ChangeId("req-1".into())).await.unwrap().unwrap().state.is_final() {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    assert_eq!(w.accounts.place("eu-west-1").ssm.writes.lock().unwrap().len(), 1, "written in eu-west-1");
    assert!(w.home.ssm.writes.lock().unwrap().is_empty(), "not in the bot's own region");
    let audit = w.store.audit.lock().unwrap().clone();
    assert!(audit.iter().all(|r| r.text.ends_with("--region eu-west-1")), "every audit record names it: {audit:?}");
}

#[tokio::test]
async fn a_policy_rule_naming_a_region_allows_the_change_there_and_nowhere_else() {
    let yaml = "roles:\n  devs: { everyone: true }\nrules:\n  - allow: [param set]\n    to: devs\n    where: { region: \"^eu-\" }\n";
    let known: Vec<&str> = crate::cmd::ENTRIES.iter().map(|e| e.spec.name).collect();
    let policy = Policy::from_yaml(yaml, std::path::Path::new("p.yaml"), &known).unwrap();
    let w = world(policy, None);
    let eu = ask(&w, "param set /shop/db-host new-db --region eu-west-1").await;
    assert!(change_button(&eu, "Confirm").change.0 == "req-1", "{}", eu.text());
    let home = ask(&w, "param set /shop/db-host new-db").await;
    assert!(home.text().contains("no rule allows `param set`"), "{}", home.text());
    let us = ask(&w, "param set /shop/db-host new-db --region us-east-2").await;
    assert!(us.text().contains("no rule allows `param set`"), "{}", us.text());
}

/// Reloads the shop after a write under `/shop/`.
fn reload_hook() -> ParamHook {
    let params = DocParams::parse(&["commands=systemctl reload shop".to_string()]).unwrap();
    let document = DocumentName::parse("AWS-RunShellScript").unwrap();
    ParamHook::new("/shop/", document, Targets::parse("tag:Environment=staging").unwrap(), params).unwrap()
}

/// Asks for `line` as U0DEV, confirms it, and waits for the change `id` to end.
async fn confirm_and_finish(w: &World, line: &str, id: &str) -> Reply {
    let plan = w.ops.handle(&ctx_for(id), line).await;
    assert!(matches!(w.ops.click(&ctx_for(id), &change_button(&plan, "Confirm")).await, ClickOutcome::Replace(_)));
    while !w.store.change(&ChangeId(id.into())).await.unwrap().unwrap().state.is_final() {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    plan
}

fn ctx_for(request: &str) -> crate::context::Context {
    crate::context::Context { request_id: request.into(), ..ctx() }
}

#[tokio::test(start_paused = true)]
async fn a_writes_hooks_are_judged_with_its_account_and_run_in_it() {
    let yaml = "roles:\n  devs: { everyone: true }\nrules:\n  - allow: [param set]\n    to: devs\n  - allow: [run]\n    to: devs\n    where: { account: \"^prod$\" }\n";
    let known: Vec<&str> = crate::cmd::ENTRIES.iter().map(|e| e.spec.name).collect();
    let policy = Policy::from_yaml(yaml, std::path::Path::new("p.yaml"), &known).unwrap();
    let w = world(policy, None);
    let w = World { ops: w.ops.with_param_hooks(vec![reload_hook()]), ..w };

    let prod = confirm_and_finish(&w, "param set prod:/shop/db-host new-db", "req-prod").await;
    assert!(prod.text().contains("Then runs `AWS-RunShellScript`"), "allowed in prod: {}", prod.text());
    assert_eq!(w.accounts.account("prod").ssm.sent.lock().unwrap().len(), 1, "the hook ran in prod");
    assert!(w.home.ssm.sent.lock().unwrap().is_empty(), "not in the bot's own account");

    let staging = confirm_and_finish(&w, "param set staging:/shop/db-host new-db", "req-staging").await;
    assert!(staging.text().contains("Will not run `AWS-RunShellScript`"), "{}", staging.text());
    assert!(w.accounts.account("staging").ssm.sent.lock().unwrap().is_empty(), "run is not allowed in staging");
    let said = w.chat.texts().join("\n");
    assert!(
        said.contains("Ask for it with `run AWS-RunShellScript on tag:Environment=staging")
            && said.contains("--account staging`"),
        "the line to ask for names the account: {said}"
    );
}
