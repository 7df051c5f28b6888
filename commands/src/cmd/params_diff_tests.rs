//! `params diff` against the fake: missing, extra and changed parameters
//! grouped, SecureStrings compared by hash and never shown, and environments
//! found by name or prefix.

use std::sync::Arc;

use super::*;
use crate::Command;
use crate::ports::ParamKind::{SecureString, String as Plain, StringList};
use crate::ports::{Declared, DeclaredParam, DeclaredValue};
use crate::ports::{NewValue, ParamKind};
use crate::testing::ssm::FakeDeclared;
use crate::testing::{FakeAws, ctx};
use crate::values::{ParamName, ParamPath};

pub(crate) const SECRET: &str = "s3cr3t-Declared";

pub(crate) fn plain(name: &str, kind: ParamKind, value: &str) -> DeclaredParam {
    let name = ParamName::parse(name).unwrap();
    DeclaredParam { name, kind, value: DeclaredValue::Plain(value.into()), description: None, tags: None }
}

pub(crate) fn secret(name: &str, value: &str) -> DeclaredParam {
    let value = DeclaredValue::Secret { from: "env:SHOP_DB_PASSWORD".into(), value: NewValue::new(value) };
    DeclaredParam { name: ParamName::parse(name).unwrap(), kind: SecureString, value, description: None, tags: None }
}

pub(crate) fn prod(params: Vec<DeclaredParam>) -> Arc<FakeDeclared> {
    let prefix = ParamPath::parse("/shop/prod/").unwrap();
    Arc::new(FakeDeclared(vec![Declared { env: "prod".into(), prefix, source: "params/prod.yaml".into(), params }]))
}

pub(crate) fn gateways(aws: FakeAws, declared: Arc<FakeDeclared>) -> Gateways {
    Gateways { declared, ..aws.gateways() }
}

async fn diff(aws: FakeAws, declared: Arc<FakeDeclared>, which: &str) -> String {
    let Command::ParamsDiff(c) = Command::parse(&format!("params diff {which}")).unwrap() else { panic!() };
    c.run(&ctx(), &gateways(aws, declared)).await.unwrap().text()
}

#[tokio::test]
async fn missing_changed_and_extra_parameters_are_grouped_with_their_values() {
    let aws = FakeAws::default()
        .with_param("/shop/prod/db-host", Plain, "db-old.internal")
        .with_param("/shop/prod/hosts", Plain, "a,b")
        .with_param("/shop/prod/legacy", Plain, "x")
        .with_param("/shop/staging/db-host", Plain, "not compared");
    let declared = prod(vec![
        plain("/shop/prod/db-host", Plain, "db.internal"),
        plain("/shop/prod/hosts", StringList, "a,b"),
        plain("/shop/prod/new-flag", Plain, "on"),
    ]);

    let text = diff(aws, declared, "prod").await;

    let want = "Parameters of prod (/shop/prod/, from params/prod.yaml)\n\
                *Missing* (declared, not in Parameter Store):\n\
                • `/shop/prod/new-flag` _String_ `on`\n\
                *Changed*:\n\
                • `/shop/prod/db-host`: value `db-old.internal` → `db.internal`\n\
                • `/shop/prod/hosts`: type String → StringList\n\
                *Extra* (in Parameter Store under `/shop/prod/`, not declared):\n\
                • `/shop/prod/legacy` _String_";
    assert!(text.starts_with(want), "{text}");
    assert!(text.contains("1 missing, 2 changed, 1 extra"), "{text}");
    assert!(text.contains("`params apply prod` writes the missing and changed ones"), "{text}");
    assert!(!text.contains("staging"), "{text}");
}

#[tokio::test]
async fn a_secure_string_is_compared_by_hash_and_never_shown() {
    let same = FakeAws::default().with_secure_param("/shop/prod/db-password", SECRET);
    let text = diff(same, prod(vec![secret("/shop/prod/db-password", SECRET)]), "prod").await;
    assert!(text.contains("Parameter Store matches the 1 declared parameters"), "{text}");

    let other = FakeAws::default().with_secure_param("/shop/prod/db-password", "live-value-9");
    let text = diff(other, prod(vec![secret("/shop/prod/db-password", SECRET)]), "prod").await;
    assert!(text.contains("• `/shop/prod/db-password`: value differs (SecureString, compared by hash)"), "{text}");
    assert!(!text.contains(SECRET) && !text.contains("live-value-9"), "{text}");
}

#[tokio::test]
async fn a_description_left_out_is_not_managed_and_a_declared_one_is_compared() {
    let live = || FakeAws::default().with_param("/shop/prod/db-host", Plain, "db.internal");
    let text = diff(live(), prod(vec![plain("/shop/prod/db-host", Plain, "db.internal")]), "prod").await;
    assert!(text.contains("matches"), "{text}");
    let described =
        DeclaredParam { description: Some("Primary DB".into()), ..plain("/shop/prod/db-host", Plain, "db.internal") };
    let text = diff(live(), prod(vec![described]), "prod").await;
    assert!(text.contains("• `/shop/prod/db-host`: description \"(none)\" → \"Primary DB\""), "{text}");
}

#[tokio::test]
async fn an_environment_is_found_by_its_prefix_and_an_unknown_one_lists_the_configured() {
    let aws = || FakeAws::default().with_param("/shop/prod/db-host", Plain, "db.internal");
    let declared = || prod(vec![plain("/shop/prod/db-host", Plain, "db.internal")]);
    assert!(diff(aws(), declared(), "/shop/prod").await.contains("matches"));

    let Command::ParamsDiff(c) = Command::parse("params diff qa").unwrap() else { panic!() };
    let err = c.run(&ctx(), &gateways(aws(), declared())).await.unwrap_err();
    assert_eq!(err.to_string(), "environment `qa` among the declared ones: `prod` (/shop/prod/) was not found");

    let err = c.run(&ctx(), &FakeAws::default().gateways()).await.unwrap_err();
    assert!(err.to_string().contains("none are configured: add `params.environments`"), "{err}");
}

fn tagged(name: &str, value: &str, tags: &[(&str, &str)]) -> DeclaredParam {
    let tags = tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    DeclaredParam { tags: Some(tags), ..plain(name, Plain, value) }
}

#[tokio::test]
async fn tag_drift_is_its_own_kind_missing_changed_and_extra_tags_told_apart() {
    let aws = FakeAws::default()
        .with_param("/shop/prod/db-host", Plain, "db.internal")
        .with_param_tags("/shop/prod/db-host", &[("owner", "web"), ("old", "x")]);
    let declared = prod(vec![tagged("/shop/prod/db-host", "db.internal", &[("owner", "platform"), ("team", "shop")])]);

    let text = diff(aws, declared, "prod").await;

    let want = "*Tags* (declared, not as on the parameter):\n\
                • `/shop/prod/db-host`: missing `team=shop`; `owner` `web` → `platform`; extra `old=x`";
    assert!(text.contains(want), "{text}");
    assert!(!text.contains("*Changed*"), "the value is as declared: {text}");
    assert!(text.contains("1 with other tags"), "{text}");
}

#[tokio::test]
async fn tags_are_read_only_for_live_parameters_that_declare_them() {
    let fake = Arc::new(
        FakeAws::default()
            .with_param("/shop/prod/db-host", Plain, "db.internal")
            .with_param("/shop/prod/hosts", Plain, "a,b")
            .with_param_tags("/shop/prod/hosts", &[("team", "shop")]),
    );
    let declared = prod(vec![
        plain("/shop/prod/db-host", Plain, "db.internal"),
        tagged("/shop/prod/hosts", "a,b", &[("team", "shop")]),
        tagged("/shop/prod/new", "on", &[("team", "shop")]),
    ]);
    let Command::ParamsDiff(c) = Command::parse("params diff prod").unwrap() else { panic!() };

    let text = c.run(&ctx(), &Gateways { declared, ..FakeAws::share(&fake) }).await.unwrap().text();

    assert_eq!(*fake.ssm.tag_reads.lock().unwrap(), ["/shop/prod/hosts"]);
    assert!(text.contains("• `/shop/prod/new` _String_ `on`, tags `team=shop`"), "{text}");
    assert!(!text.contains("*Tags*"), "{text}");
}
