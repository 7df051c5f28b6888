//! `param rollback` against the fake: which version it puts back, no-ops,
//! the SecureString safety check, the write and its check.

use std::sync::Arc;

use super::*;
use crate::Command;
use crate::ports::ParamSettings;
use crate::testing::{FakeAws, ctx, param_version};

fn rollback(text: &str) -> ParamRollback {
    match Command::parse(text).unwrap() {
        Command::ParamRollback(c) => c,
        other => panic!("{other:?}"),
    }
}

/// `/shop/staging/flags`: versions 1 `a`, 2 `a,b`, 3 `a,b,c`.
fn flags() -> FakeAws {
    let mut v2 = param_version(2, ParamKind::StringList, "a,b", 7200);
    v2.modified_by = Some("arn:aws:iam::123456789012:user/maria".into());
    FakeAws::default().with_param_versions(
        "/shop/staging/flags",
        vec![
            param_version(1, ParamKind::StringList, "a", 9000),
            v2,
            param_version(3, ParamKind::StringList, "a,b,c", 60),
        ],
    )
}

#[test]
fn a_version_is_optional_and_must_be_a_positive_number() {
    assert_eq!(rollback("param rollback /shop/x").version, None);
    assert_eq!(rollback("param rollback /shop/x 5").version, Some(5));
    for bad in ["0", "-1", "five"] {
        assert!(
            Command::parse(&format!("param rollback /shop/x {bad}")).unwrap_err().message.contains("version number")
        );
    }
}

#[tokio::test]
async fn by_default_the_previous_version_comes_back_and_the_plan_shows_both_values() {
    let plan = rollback("param rollback /shop/staging/flags").plan(&ctx(), &flags().gateways()).await.unwrap();
    assert_eq!(
        plan.lines[..3],
        [
            "*/shop/staging/flags* (StringList, version 3) → new version with the value of version 2".to_string(),
            "`a,b,c` → `a,b`".to_string(),
            "Version 2 was written 2026-11-22 10:00 UTC (2h ago) by maria.".to_string(),
        ]
    );
    assert_eq!(plan.verdict, Verdict::Ready);
}

#[tokio::test]
async fn nothing_to_roll_back_to_is_a_no_op_and_an_unknown_version_is_not_found() {
    let one = FakeAws::default().with_param("/shop/x", ParamKind::String, "v");
    let plan = rollback("param rollback /shop/x").plan(&ctx(), &one.gateways()).await.unwrap();
    assert!(matches!(&plan.verdict, Verdict::NoOp(why) if why.contains("only one version")), "{plan:?}");
    let current = rollback("param rollback /shop/staging/flags 3").plan(&ctx(), &flags().gateways()).await.unwrap();
    assert!(matches!(&current.verdict, Verdict::NoOp(why) if why.contains("is the current version")), "{current:?}");
    let err = rollback("param rollback /shop/staging/flags 9").plan(&ctx(), &flags().gateways()).await.unwrap_err();
    assert!(err.to_string().contains("version 9 of `/shop/staging/flags`"), "{err}");
}

#[tokio::test]
async fn an_old_value_equal_to_the_current_one_is_nothing_to_do() {
    let aws = FakeAws::default().with_param_versions(
        "/shop/x",
        vec![
            param_version(1, ParamKind::String, "on", 90),
            param_version(2, ParamKind::String, "off", 60),
            param_version(3, ParamKind::String, "on", 30),
        ],
    );
    let plan = rollback("param rollback /shop/x 1").plan(&ctx(), &aws.gateways()).await.unwrap();
    assert_eq!(plan.verdict, Verdict::NoOp("version 1 has the same value as the current version 3".into()));
}

#[tokio::test]
async fn a_secret_is_never_written_into_a_parameter_that_is_no_longer_secure() {
    let aws = FakeAws::default().with_param_versions(
        "/shop/x",
        vec![param_version(1, ParamKind::SecureString, "s3cret", 90), param_version(2, ParamKind::String, "plain", 60)],
    );
    let plan = rollback("param rollback /shop/x").plan(&ctx(), &aws.gateways()).await.unwrap();
    assert!(matches!(&plan.verdict, Verdict::Invalid(r) if r[0].contains("stored in clear")), "{plan:?}");
    assert!(plan.lines[1].contains("Value hidden"), "{:?}", plan.lines);
}

#[tokio::test]
async fn act_restores_the_version_inside_the_gateway_and_check_reads_the_new_one() {
    let aws = Arc::new(flags());
    let gw = FakeAws::share(&aws);
    let c = rollback("param rollback /shop/staging/flags 1");

    let outcome = c.act(&ctx(), &gw).await.unwrap();
    let progress = c.check(&ctx(), &gw, &outcome).await.unwrap();

    let writes = aws.ssm.writes.lock().unwrap().clone();
    assert_eq!((writes[0].restored, writes[0].value.is_none()), (Some(1), true));
    assert_eq!(writes[0].keep, ParamSettings { kind: ParamKind::StringList, key_id: None, ..writes[0].keep.clone() });
    assert_eq!(outcome.lines, ["*/shop/staging/flags* is now version *4*, with the value of version 1."]);
    assert_eq!(progress, Progress::Done("Version 4 is live.".into()));
    let history = gw.params.history(&c.name).await.unwrap();
    assert_eq!(history.last().unwrap().value, ParamValue::Plain("a".into()));
}

#[tokio::test]
async fn a_rollback_without_a_version_is_confirmed_and_run_as_the_version_its_plan_chose() {
    use crate::ports::store::{ChangeId, Store};
    let store = Arc::new(crate::testing::MemoryStore::default());
    let chat = Arc::new(crate::testing::MemoryChat::default());
    let policy = Arc::new(opsbot_policies::Policy::reads_for_everyone(["param rollback"]));
    let ops = crate::Ops::new(flags().gateways(), policy, store.clone(), chat);
    let plan = ops.handle(&ctx(), "param rollback /shop/staging/flags").await;
    assert!(plan.text().contains("`param rollback /shop/staging/flags 2`"), "{}", plan.text());
    let stored = store.change(&ChangeId("req-1".into())).await.unwrap().expect("the pending change");
    assert_eq!(stored.text, "param rollback /shop/staging/flags 2", "a later write cannot change what is restored");
    assert_eq!(stored.hash, crate::change::params_hash("param rollback /shop/staging/flags 2"));
}
