//! `params apply` against the fake: the plan is the diff and pins it, a
//! parameter the policy will not let the requester set refuses the whole
//! plan, extras are left alone, and the writes (creating, updating, changing
//! type) read back.

use std::sync::Arc;

use opsbot_policies::Policy;

use super::*;
use crate::Command;
use crate::cmd::params_diff::tests::{SECRET, gateways, plain, prod, secret};
use crate::hooks::ParamHooks;
use crate::ports::NewValue;
use crate::ports::ParamKind::{String as Plain, StringList};
use crate::testing::{FakeAws, MemoryChat, MemoryStore, ctx};
use crate::values::{ParamName, SlackUserId};

fn apply(text: &str) -> ParamsApply {
    match Command::parse(text).unwrap() {
        Command::ParamsApply(c) => c,
        other => panic!("{other:?}"),
    }
}

/// Everyone may `param set` under /shop/prod/ except /shop/prod/payments/.
fn with_policy(mut aws: Gateways) -> Gateways {
    let yaml = "roles:\n  devs: { everyone: true }\nrules:\n  - deny: [param set]\n    where: { name: \"^/shop/prod/payments/\" }\n  - allow: [param set, params apply]\n    to: devs\n    where: { name: \"^/shop/prod/\" }\n  - allow: [params apply]\n    to: devs\n";
    let known: Vec<&str> = crate::cmd::ENTRIES.iter().map(|e| e.spec.name).collect();
    let policy = Policy::from_yaml(yaml, std::path::Path::new("policy.yaml"), &known).unwrap();
    aws.param_hooks = Arc::new(ParamHooks::new(vec![], Arc::new(policy)));
    aws
}

fn drifted() -> Arc<FakeAws> {
    Arc::new(
        FakeAws::default()
            .with_param("/shop/prod/db-host", Plain, "db-old.internal")
            .with_param("/shop/prod/hosts", Plain, "a,b")
            .with_secure_param("/shop/prod/db-password", "old-pass")
            .with_param("/shop/prod/legacy", Plain, "x"),
    )
}

fn declared() -> Arc<crate::testing::ssm::FakeDeclared> {
    prod(vec![
        plain("/shop/prod/db-host", Plain, "db.internal"),
        plain("/shop/prod/hosts", StringList, "a,b"),
        secret("/shop/prod/db-password", SECRET),
        plain("/shop/prod/new-flag", Plain, "on"),
    ])
}

#[test]
fn only_the_plan_adds_a_pin_and_anything_else_is_refused() {
    assert_eq!(apply("params apply prod --plan 0123456789abcdef").pin.as_deref(), Some("0123456789abcdef"));
    let err = Command::parse("params apply prod --delete").unwrap_err();
    assert!(err.message.contains("takes an environment and nothing else"), "{}", err.message);
}

#[tokio::test]
async fn the_plan_is_the_diff_leaves_extras_alone_and_pins_what_it_showed() {
    let aws = with_policy(Gateways { declared: declared(), ..FakeAws::share(&drifted()) });
    let command = apply("params apply prod");

    let plan = command.plan(&ctx(), &aws).await.unwrap();

    let text = plan.lines.join("\n");
    assert!(text.contains("• `/shop/prod/new-flag` _String_ `on`"), "{text}");
    assert!(text.contains("• `/shop/prod/db-host`: value `db-old.internal` → `db.internal`"), "{text}");
    assert!(text.contains("• `/shop/prod/db-password`: value differs (SecureString, compared by hash)"), "{text}");
    assert!(text.contains("Leaves the 1 extra parameter alone: opsbot never deletes parameters"), "{text}");
    assert!(!text.contains(SECRET) && !text.contains("old-pass"), "{text}");
    assert_eq!(plan.verdict, Verdict::Ready);
    let pinned = command.pinned().unwrap();
    assert!(pinned.starts_with("params apply prod --plan "), "{pinned}");
    assert_eq!(apply(&pinned).plan(&ctx(), &aws).await.unwrap().verdict, Verdict::Ready);
}

#[tokio::test]
async fn a_parameter_the_requester_may_not_set_refuses_the_whole_plan_naming_it() {
    let declared = prod(vec![
        plain("/shop/prod/db-host", Plain, "db.internal"),
        plain("/shop/prod/payments/api-key-id", Plain, "k-2"),
    ]);
    let aws = with_policy(gateways(FakeAws::default(), declared));

    let plan = apply("params apply prod").plan(&ctx(), &aws).await.unwrap();

    let Verdict::Denied(why) = plan.verdict else { panic!("{:?}", plan.verdict) };
    assert_eq!(why.len(), 1, "{why:?}");
    assert!(why[0].starts_with("you may not `param set` /shop/prod/payments/api-key-id here"), "{why:?}");
}

#[tokio::test]
async fn apply_creates_updates_and_changes_types_then_nothing_is_left_to_do() {
    let fake = drifted();
    let aws = with_policy(Gateways { declared: declared(), ..FakeAws::share(&fake) });
    let command = apply("params apply prod");
    command.plan(&ctx(), &aws).await.unwrap();
    let command = apply(&command.pinned().unwrap());
    command.plan(&ctx(), &aws).await.unwrap();

    let outcome = command.act(&ctx(), &aws).await.unwrap();
    let progress = command.check(&ctx(), &aws, &outcome).await.unwrap();

    let writes = fake.ssm.writes.lock().unwrap().clone();
    let written: Vec<(&str, &str)> = writes.iter().map(|w| (w.name.as_str(), w.keep.kind.label())).collect();
    assert_eq!(
        written,
        [
            ("/shop/prod/new-flag", "String"),
            ("/shop/prod/db-host", "String"),
            ("/shop/prod/hosts", "StringList"),
            ("/shop/prod/db-password", "SecureString")
        ]
    );
    assert!(outcome.lines.contains(&"*/shop/prod/new-flag* is now version *1*.".to_string()), "{:?}", outcome.lines);
    assert!(
        matches!(&progress, Progress::Done(text) if text.contains("/shop/prod/hosts: Version 2 is live.")),
        "{progress:?}"
    );
    let again = apply("params apply prod").plan(&ctx(), &aws).await.unwrap();
    assert_eq!(again.verdict, Verdict::NoOp("Parameter Store already has every declared parameter of prod".into()));
}

#[tokio::test]
async fn a_parameter_written_since_the_plan_refuses_the_apply() {
    let fake = drifted();
    let aws = with_policy(Gateways { declared: declared(), ..FakeAws::share(&fake) });
    let command = apply("params apply prod");
    command.plan(&ctx(), &aws).await.unwrap();
    let pinned = apply(&command.pinned().unwrap());
    let (name, someone) = (ParamName::parse("/shop/prod/db-host").unwrap(), SlackUserId::parse("U0OTHER").unwrap());
    let keep = aws.param_changes.settings(&name).await.unwrap();
    aws.param_changes.put(&name, &NewValue::new("db-other.internal"), &keep, &someone).await.unwrap();

    let err = pinned.act(&ctx(), &aws).await.unwrap_err();

    assert!(
        matches!(&err, GatewayError::Moved { what } if what.contains("changed since you reviewed the plan")),
        "{err:?}"
    );
    assert_eq!(fake.ssm.writes.lock().unwrap().len(), 1, "only the other person's write");
}

#[tokio::test]
async fn force_does_not_get_an_apply_past_a_parameter_the_policy_denies_and_the_refusal_is_audited() {
    use crate::ops::Ops;
    use crate::ports::store::AuditEvent;
    let yaml = "roles:\n  devs: { everyone: true }\nrules:\n  - deny: [param set]\n    where: { name: \"^/shop/prod/payments/\" }\n  - allow: [param set]\n    to: devs\n  - allow: [params apply]\n    to: devs\n    force: true\n";
    let known: Vec<&str> = crate::cmd::ENTRIES.iter().map(|e| e.spec.name).collect();
    let policy = Arc::new(Policy::from_yaml(yaml, std::path::Path::new("policy.yaml"), &known).unwrap());
    let declared = prod(vec![plain("/shop/prod/payments/key-id", Plain, "k-2")]);
    let fake = Arc::new(FakeAws::default());
    let (store, chat) = (Arc::new(MemoryStore::default()), Arc::new(MemoryChat::default()));
    let ops =
        Ops::new(Gateways { declared, ..FakeAws::share(&fake) }, policy, store.clone(), chat).with_param_hooks(vec![]);

    let text = ops.handle(&ctx(), "params apply prod --force").await.text();

    assert!(text.contains("the policy does not allow all of it, so nothing is done"), "{text}");
    assert!(text.contains("you may not `param set` /shop/prod/payments/key-id here"), "{text}");
    assert!(fake.ssm.writes.lock().unwrap().is_empty());
    let audit = store.audit.lock().unwrap();
    assert!(audit.iter().any(|r| r.event == AuditEvent::Refused), "{audit:?}");
}

/// `param set` under /shop/prod/ needs an approval by leads; the `params
/// apply` rule adds `apply_rule_extra` (its own approval, or nothing).
fn approving_world(apply_rule_extra: &str) -> ApprovingWorld {
    let yaml = format!(
        "roles:\n  devs: {{ everyone: true }}\n  leads: {{ users: [U0LEAD] }}\n  ops: {{ users: [U0OPS] }}\nrules:\n  \
         - allow: [param set]\n    to: devs\n    where: {{ name: \"^/shop/prod/\" }}\n    approval: {{ by: leads, ttl: 1h }}\n  \
         - allow: [params apply]\n    to: devs\n{apply_rule_extra}"
    );
    let known: Vec<&str> = crate::cmd::ENTRIES.iter().map(|e| e.spec.name).collect();
    let policy = Arc::new(Policy::from_yaml(&yaml, std::path::Path::new("policy.yaml"), &known).unwrap());
    let declared = prod(vec![plain("/shop/prod/db-host", Plain, "db.internal")]);
    let fake = Arc::new(FakeAws::default().with_param("/shop/prod/db-host", Plain, "db-old.internal"));
    let (store, chat) = (Arc::new(MemoryStore::default()), Arc::new(MemoryChat::default()));
    let ops = crate::ops::Ops::new(Gateways { declared, ..FakeAws::share(&fake) }, policy, store.clone(), chat.clone())
        .with_param_hooks(vec![]);
    ApprovingWorld { ops, fake, store, chat }
}

struct ApprovingWorld {
    ops: crate::ops::Ops,
    fake: Arc<FakeAws>,
    store: Arc<MemoryStore>,
    chat: Arc<MemoryChat>,
}

#[tokio::test]
async fn an_apply_cannot_write_without_the_approval_param_set_needs_for_a_parameter() {
    use crate::ports::store::AuditEvent;

    for apply_rule_extra in ["", "    approval: { by: ops, ttl: 1h }\n"] {
        let ApprovingWorld { ops, fake, store, .. } = approving_world(apply_rule_extra);

        let text = ops.handle(&ctx(), "params apply prod").await.text();

        assert!(text.contains("the policy does not allow all of it, so nothing is done"), "{text}");
        assert!(
            text.contains(
                "`/shop/prod/db-host` needs approval by leads under `param set` (rule policy.yaml:6); \
                 ask with a `params apply` rule that requires the same approval"
            ),
            "{text}"
        );
        assert!(!text.contains("[Confirm]"), "{text}");
        assert!(fake.ssm.writes.lock().unwrap().is_empty());
        assert!(store.audit.lock().unwrap().iter().any(|r| r.event == AuditEvent::Refused));
    }
}

#[tokio::test]
async fn an_apply_whose_own_rule_asks_the_same_approval_writes_once_approved() {
    use crate::ports::store::{ChangeId, ChangeState, Store};
    use crate::testing::change_button;

    let ApprovingWorld { ops, fake, store, chat } = approving_world("    approval: { by: leads, ttl: 1h }\n");

    let plan = ops.handle(&ctx(), "params apply prod").await;
    assert!(plan.text().contains("[Confirm]"), "{}", plan.text());
    ops.click(&ctx(), &change_button(&plan, "Confirm")).await;
    let change = store.change(&ChangeId("req-1".into())).await.unwrap().unwrap();
    assert_eq!((change.state, change.approvers.as_deref()), (ChangeState::AwaitingApproval, Some("leads")));
    let asking = chat.messages.lock().unwrap().last().unwrap().1.clone();
    let lead = crate::context::Context { user: SlackUserId::parse("U0LEAD").unwrap(), ..ctx() };
    ops.click(&lead, &change_button(&asking, "Approve")).await;
    // The approved change runs in a task of its own: let it reach its end.
    for _ in 0..200 {
        let now = store.change(&change.id).await.unwrap().map(|c| c.state);
        if now.is_some_and(|s| s.is_final()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }

    let writes = fake.ssm.writes.lock().unwrap().clone();
    assert_eq!(writes.iter().map(|w| w.name.as_str()).collect::<Vec<_>>(), ["/shop/prod/db-host"]);
    let done = store.change(&change.id).await.unwrap().unwrap();
    assert_eq!(done.state, ChangeState::Succeeded, "{done:?}");
}

#[tokio::test]
async fn an_apply_over_parameters_needing_no_approval_is_ready_as_before() {
    let yaml = "roles:\n  devs: { everyone: true }\n  leads: { users: [U0LEAD] }\nrules:\n  \
                - allow: [param set]\n    to: devs\n    where: { name: \"^/shop/prod/payments/\" }\n    \
                approval: { by: leads, ttl: 1h }\n  - allow: [param set, params apply]\n    to: devs\n";
    let known: Vec<&str> = crate::cmd::ENTRIES.iter().map(|e| e.spec.name).collect();
    let policy = Policy::from_yaml(yaml, std::path::Path::new("policy.yaml"), &known).unwrap();
    let mut aws = Gateways { declared: declared(), ..FakeAws::share(&drifted()) };
    aws.param_hooks = Arc::new(ParamHooks::new(vec![], Arc::new(policy)));

    let plan = apply("params apply prod").plan(&ctx(), &aws).await.unwrap();

    assert_eq!(plan.verdict, Verdict::Ready);
}

#[tokio::test]
async fn apply_sets_and_removes_declared_tags_without_writing_a_version_and_tags_new_parameters() {
    let tags = |pairs: &[(&str, &str)]| Some(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
    let fake = Arc::new(
        FakeAws::default()
            .with_param("/shop/prod/db-host", Plain, "db.internal")
            .with_param_tags("/shop/prod/db-host", &[("owner", "web"), ("old", "x")]),
    );
    let declared = prod(vec![
        DeclaredParam { tags: tags(&[("owner", "platform")]), ..plain("/shop/prod/db-host", Plain, "db.internal") },
        DeclaredParam { tags: tags(&[("team", "shop")]), ..plain("/shop/prod/new-flag", Plain, "on") },
    ]);
    let aws = with_policy(Gateways { declared, ..FakeAws::share(&fake) });
    let command = apply("params apply prod");
    let plan = command.plan(&ctx(), &aws).await.unwrap();
    let text = plan.lines.join("\n");
    assert!(text.contains("• `/shop/prod/db-host`: `owner` `web` → `platform`; extra `old=x`"), "{text}");
    assert!(text.contains("• `/shop/prod/new-flag` _String_ `on`, tags `team=shop`"), "{text}");
    assert_eq!(plan.verdict, Verdict::Ready);

    let outcome = command.act(&ctx(), &aws).await.unwrap();
    let progress = command.check(&ctx(), &aws, &outcome).await.unwrap();

    let written: Vec<String> = fake.ssm.writes.lock().unwrap().iter().map(|w| w.name.clone()).collect();
    assert_eq!(written, ["/shop/prod/new-flag"], "retagging writes no version");
    let retags = fake.ssm.retags.lock().unwrap().clone();
    assert_eq!(retags.len(), 2, "{retags:?}");
    assert_eq!((retags[1].0.as_str(), retags[1].2.clone()), ("/shop/prod/db-host", vec!["old".to_string()]));
    assert!(outcome.lines.contains(&"*/shop/prod/db-host*: tags set `owner=platform`; removed `old`.".to_string()));
    assert!(
        matches!(&progress, Progress::Done(t) if t.contains("/shop/prod/db-host: tags as declared")),
        "{progress:?}"
    );
    let again = apply("params apply prod").plan(&ctx(), &aws).await.unwrap();
    assert!(matches!(again.verdict, Verdict::NoOp(_)), "{:?}", again.verdict);
}

#[tokio::test]
async fn retagging_a_parameter_the_requester_may_not_set_refuses_the_plan() {
    let tags = Some([("team".to_string(), "pay".to_string())].into());
    let fake = FakeAws::default().with_param("/shop/prod/payments/key-id", Plain, "k-1");
    let declared = prod(vec![DeclaredParam { tags, ..plain("/shop/prod/payments/key-id", Plain, "k-1") }]);
    let aws = with_policy(gateways(fake, declared));

    let plan = apply("params apply prod").plan(&ctx(), &aws).await.unwrap();

    let Verdict::Denied(why) = plan.verdict else { panic!("{:?}", plan.verdict) };
    assert!(why[0].starts_with("you may not `param set` /shop/prod/payments/key-id here"), "{why:?}");
}
