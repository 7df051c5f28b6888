//! `param set` against the fake: parsing that never quotes a value, plans for
//! plain and secret values, no-ops, refusals, the write and its check.

use std::sync::Arc;

use super::*;
use crate::Command;
use crate::testing::{FakeAws, ctx, param_version};

const SECRET: &str = "hunter2-Zq9";

fn set(text: &str) -> ParamSet {
    match Command::parse(text).unwrap() {
        Command::ParamSet(c) => c,
        other => panic!("{other:?}"),
    }
}

fn secret_aws() -> FakeAws {
    FakeAws::default().with_param("/shop/prod/db-password", ParamKind::SecureString, "old-pass").with_param_settings(
        "/shop/prod/db-password",
        ParamSettings {
            kind: ParamKind::SecureString,
            key_id: Some("alias/shop-prod".into()),
            tier: Some("Standard".into()),
            data_type: Some("text".into()),
            description: Some("DB password".into()),
            allowed_pattern: None,
        },
    )
}

#[test]
fn a_name_and_one_value_parse_and_extra_words_are_never_quoted() {
    let c = set("param set /shop/prod/flag \"two words\"");
    assert_eq!((c.name.as_str(), c.value.expose()), ("/shop/prod/flag", "two words"));
    let err = Command::parse(&format!("param set /shop/prod/db-password {SECRET} and more")).unwrap_err();
    assert!(!format!("{err:?}").contains(SECRET) && !format!("{err:?}").contains("more"), "{err:?}");
    assert!(err.message.contains("quotes"), "{}", err.message);
    assert!(Command::parse("param set /shop/x \"\"").unwrap_err().message.contains("cannot be empty"));
    assert!(Command::parse("param set /shop/x").unwrap_err().message.contains("VALUE"));
}

#[test]
fn the_value_is_masked_in_debug_and_in_the_shown_text_but_policies_see_it() {
    let command = Command::parse(&format!("param set /shop/prod/db-password {SECRET}")).unwrap();
    assert!(!format!("{command:?}").contains(SECRET), "{command:?}");
    let shown = command.shown(&format!("param set /shop/prod/db-password {SECRET}"));
    assert_eq!(shown, "param set /shop/prod/db-password ••••••");
    assert!(command.policy_args().contains(&("value", SECRET.to_string())));
}

#[tokio::test]
async fn a_string_plan_shows_old_and_new_values() {
    let aws = FakeAws::default().with_param("/shop/staging/flags", ParamKind::StringList, "a,b");
    let plan = set("param set /shop/staging/flags a,b,c").plan(&ctx(), &aws.gateways()).await.unwrap();
    assert_eq!(plan.lines[0], "*/shop/staging/flags* (StringList, version 1): `a,b` → `a,b,c`");
    assert_eq!(plan.lines[1], "Keeps its type.");
    assert_eq!(plan.verdict, Verdict::Ready);
}

#[tokio::test]
async fn the_same_plain_value_is_nothing_to_do() {
    let aws = FakeAws::default().with_param("/shop/staging/host", ParamKind::String, "db.internal");
    let plan = set("param set /shop/staging/host db.internal").plan(&ctx(), &aws.gateways()).await.unwrap();
    assert_eq!(plan.verdict, Verdict::NoOp("/shop/staging/host already has that value (version 1)".into()));
}

#[tokio::test]
async fn a_secure_string_plan_hides_both_values_and_cannot_tell_a_no_op() {
    let plan = set(&format!("param set /shop/prod/db-password {SECRET}"))
        .plan(&ctx(), &secret_aws().gateways())
        .await
        .unwrap();
    assert!(plan.lines[0].starts_with(
        "*/shop/prod/db-password* (SecureString, KMS key `alias/shop-prod`, version 1): value changes (hidden)"
    ));
    assert!(plan.lines[0].contains("cannot tell whether the value differs"), "{:?}", plan.lines);
    assert_eq!(plan.lines[1], "Keeps its type and KMS key.");
    assert!(!format!("{plan:?}").contains(SECRET) && !format!("{plan:?}").contains("old-pass"));
    let same = set("param set /shop/prod/db-password old-pass").plan(&ctx(), &secret_aws().gateways()).await.unwrap();
    assert_eq!(same.verdict, Verdict::Ready, "never compared, so never a no-op");
}

#[tokio::test]
async fn a_missing_parameter_is_not_found_with_what_to_do_instead() {
    let err = set("param set /shop/nope x").plan(&ctx(), &FakeAws::default().gateways()).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, GatewayError::NotFound { .. }), "{err:?}");
    assert!(text.contains("existing parameters only") && text.contains("aws ssm put-parameter"), "{text}");
}

#[tokio::test]
async fn values_that_do_not_fit_the_tier_or_the_pattern_are_refused() {
    let keep = |pattern: Option<&str>| ParamSettings {
        kind: ParamKind::String,
        key_id: None,
        tier: Some("Standard".into()),
        data_type: None,
        description: None,
        allowed_pattern: pattern.map(str::to_owned),
    };
    let aws = FakeAws::default()
        .with_param("/shop/staging/port", ParamKind::String, "80")
        .with_param_settings("/shop/staging/port", keep(Some("^[0-9]+$")));
    let plan = set("param set /shop/staging/port eighty").plan(&ctx(), &aws.gateways()).await.unwrap();
    assert_eq!(
        plan.verdict,
        Verdict::Invalid(vec!["the value does not match the parameter's allowed pattern `^[0-9]+$`".into()])
    );
    assert!(unfit(&"x".repeat(5000), &keep(None))[0].contains("a Standard parameter holds 4096"));
    assert!(unfit(&"x".repeat(5000), &ParamSettings { tier: Some("Advanced".into()), ..keep(None) }).is_empty());
}

#[tokio::test]
async fn act_writes_with_the_same_type_and_key_and_check_reads_the_version_back() {
    let aws = Arc::new(secret_aws());
    let gw = FakeAws::share(&aws);
    let c = set(&format!("param set /shop/prod/db-password {SECRET}"));

    let outcome = c.act(&ctx(), &gw).await.unwrap();
    let progress = c.check(&ctx(), &gw, &outcome).await.unwrap();

    let writes = aws.ssm.writes.lock().unwrap().clone();
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].value.as_ref().map(NewValue::expose), Some(SECRET));
    assert_eq!(
        (writes[0].keep.kind.clone(), writes[0].keep.key_id.as_deref()),
        (ParamKind::SecureString, Some("alias/shop-prod"))
    );
    assert_eq!(writes[0].by.as_str(), "U0DEV");
    assert_eq!(outcome.lines, ["*/shop/prod/db-password* is now version *2*."]);
    assert_eq!(outcome.aws_request_ids, ["req-put-2"]);
    assert_eq!(progress, Progress::Done("Version 2 is live.".into()));
    assert!(!format!("{outcome:?}{progress:?}{writes:?}").contains(SECRET));
}

#[tokio::test]
async fn check_waits_until_the_new_version_reads_back() {
    let c = set("param set /shop/staging/host db2");
    let aws = FakeAws::default()
        .with_param_versions("/shop/staging/host", vec![param_version(1, ParamKind::String, "db1", 60)]);
    let gw = aws.gateways();
    c.written.keep(Written { version: 2, runs: vec![], unsent: vec![] });
    let progress = c.check(&ctx(), &gw, &Outcome::default()).await.unwrap();
    assert_eq!(progress, Progress::Running("waiting for version 2 to be readable".into()));
}

#[test]
fn a_version_to_write_over_may_follow_the_value() {
    let c = set("param set /shop/x \"two words\" --if-version 7");
    assert_eq!((c.value.expose(), c.if_version), ("two words", Some(7)));
    assert_eq!(set("param set /shop/x v --if-version=3").if_version, Some(3));
    assert_eq!(set("param set /shop/x --if-version").value.expose(), "--if-version", "a value is a value");
    assert_eq!(c.shown(), "param set /shop/x •••••• --if-version 7");
    let bad = Command::parse("param set /shop/x v --if-version seven").unwrap_err().message;
    assert!(bad.contains("`seven` is not a valid version"), "{bad}");
    assert!(SPEC.usage().contains("[--if-version N]"), "the usage shows it");
}

#[tokio::test]
async fn the_plan_pins_the_version_it_showed_and_the_pinned_line_keeps_the_value() {
    let aws = FakeAws::default().with_param("/shop/staging/flags", ParamKind::String, "a");
    let command = set("param set /shop/staging/flags \"b c\"");
    command.plan(&ctx(), &aws.gateways()).await.unwrap();
    let pinned = command.pinned().unwrap();
    assert_eq!(pinned, "param set /shop/staging/flags \"b c\" --if-version 1");
    let again = set(&pinned);
    assert_eq!((again.value.expose(), again.if_version), ("b c", Some(1)));
}

#[tokio::test]
async fn a_set_over_a_version_written_since_is_refused_and_writes_nothing() {
    let history =
        vec![param_version(1, ParamKind::String, "a", 7200), param_version(2, ParamKind::String, "someone else's", 60)];
    let aws = Arc::new(FakeAws::default().with_param_versions("/shop/staging/flags", history));
    let gateways = FakeAws::share(&aws);
    let command = set("param set /shop/staging/flags b --if-version 1");
    let why = "/shop/staging/flags was written since you reviewed it: it is at version 2, not 1 — ask again \
               (`param history /shop/staging/flags` shows who wrote it)";
    assert_eq!(command.plan(&ctx(), &gateways).await.unwrap().verdict, Verdict::Moved(why.into()));
    let refused = command.act(&ctx(), &gateways).await.unwrap_err();
    assert!(matches!(&refused, GatewayError::Moved { what } if what == why), "{refused:?}");
    assert!(aws.ssm.writes.lock().unwrap().is_empty(), "nothing was written");
}
