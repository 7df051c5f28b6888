//! `aws.accounts` against moto: two accounts are two account ids whose roles
//! moto's STS assumes (moto keeps every resource per account id), wired the
//! production way (`opsbot::aws::AwsAccounts` in `Wiring`). A query reads in
//! the account it names; a change's approval is bound to its account and the
//! change runs there, as its requester; a resource's tags for routing are
//! read in the account it is in. moto keeps resources per region too: a
//! command naming `--region` reads and writes there, and only there. The source identity on the requests
//! is checked by the aws-smithy-mocks tests in `bot/aws/` (moto does not keep it).

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_ssm::types::ParameterType;
use opsbot::aws::{AssumeRole, AwsAccounts};
use opsbot::settings::{AccountSettings, AccountsSettings};
use opsbot_commands::ClickOutcome;
use opsbot_commands::Ops;
use opsbot_commands::ports::store::ChangeId;
use opsbot_commands::testing::{MemoryChat, change_button};

use crate::support::change_flow::{Flow, as_user, finished, on_moto};
use crate::support::emulators::{emulators, unique};

/// Anyone may read and set parameters; in prod a lead approves.
const POLICY: &str = "roles:
  devs: { everyone: true }
  leads: { users: [U0LEAD] }
rules:
  - allow: [\"param set\"]
    to: devs
    where: { account: \"^prod$\" }
    approval: { by: leads }
  - allow: [\"param set\", \"param get\"]
    to: devs
";

struct World {
    ops: Arc<Ops>,
    /// The accounts the bot acts in, as wired.
    accounts: Arc<AwsAccounts>,
    sdk: aws_config::SdkConfig,
    /// The bot's read session in prod.
    prod_sdk: aws_config::SdkConfig,
    store: Arc<dyn opsbot::store::Storage>,
    chat: Arc<MemoryChat>,
    /// SSM clients acting in each account, to set up and look.
    prod: aws_sdk_ssm::Client,
    staging: aws_sdk_ssm::Client,
}

/// Creates an ECS cluster tagged `team=<team>` in the account of `sdk`,
/// returning its ARN.
async fn tagged_cluster(sdk: &aws_config::SdkConfig, name: &str, team: &str) -> String {
    let ecs = aws_sdk_ecs::Client::new(sdk);
    let tag = aws_sdk_ecs::types::Tag::builder().key("team").value(team).build();
    let made = ecs.create_cluster().cluster_name(name).tags(tag).send().await.unwrap();
    made.cluster().unwrap().cluster_arn().unwrap().to_owned()
}

/// A 12-digit account id of this test alone.
fn account_id() -> String {
    let n: u64 = unique("").rsplit('-').next().unwrap().parse().unwrap();
    format!("{:06}{:06}", std::process::id() % 1_000_000, n)
}

fn account(name: &str, id: &str) -> AccountSettings {
    let role_arn = format!("arn:aws:iam::{id}:role/opsbot");
    AccountSettings { name: name.into(), role_arn, account_id: id.into(), region: None }
}

async fn world() -> World {
    world_with_prod_in(None).await
}

/// The world with prod's configuration naming `region` (`None`: the bot's).
async fn world_with_prod_in(region: Option<&str>) -> World {
    let sdk = emulators().await.sdk_config().await;
    let prod = AccountSettings { region: region.map(Into::into), ..account("prod", &account_id()) };
    let accounts = AccountsSettings { accounts: vec![prod, account("staging", &account_id())], default: None };
    let in_account = |name: &str| {
        let role = &accounts.named(name).unwrap().role_arn;
        AssumeRole::new(&sdk, role, Duration::from_secs(900), Default::default())
    };
    let prod_sdk = in_account("prod").session(None).await.unwrap().0;
    let prod_sdk = match region {
        Some(region) => prod_sdk.to_builder().region(aws_config::Region::new(region.to_owned())).build(),
        None => prod_sdk,
    };
    let prod = aws_sdk_ssm::Client::new(&prod_sdk);
    let staging = aws_sdk_ssm::Client::new(&in_account("staging").session(None).await.unwrap().0);
    let aws = Arc::new(AwsAccounts::new(&sdk, accounts, Duration::from_secs(900), None, Default::default()));
    let Flow { ops, store, chat, .. } = on_moto(&sdk, POLICY, |w| w.with_accounts(aws.clone()));
    World { ops, accounts: aws, sdk, prod_sdk, store, chat, prod, staging }
}

async fn put(ssm: &aws_sdk_ssm::Client, name: &str, value: &str) {
    ssm.put_parameter().name(name).r#type(ParameterType::String).value(value).overwrite(true).send().await.unwrap();
}

async fn values(ssm: &aws_sdk_ssm::Client, name: &str) -> Vec<String> {
    let history = ssm.get_parameter_history().name(name).send().await.unwrap();
    history.parameters().iter().map(|p| p.value().unwrap_or_default().to_owned()).collect()
}

#[tokio::test]
async fn a_query_reads_in_the_account_it_names_and_nowhere_else() {
    let w = world().await;
    let name = format!("/{}/release", unique("accounts"));
    put(&w.prod, &name, "prod-v7").await;
    put(&w.staging, &name, "staging-v9").await;
    let dev = as_user("U0DEV", &unique("req"));

    let prod = w.ops.handle(&dev, &format!("param get prod:{name}")).await.text();
    let staging = w.ops.handle(&dev, &format!("param get {name} --account staging")).await.text();
    let home = w.ops.handle(&dev, &format!("param get {name}")).await.text();

    assert!(prod.contains("prod-v7") && !prod.contains("staging-v9"), "{prod}");
    assert!(staging.contains("staging-v9"), "{staging}");
    assert!(home.contains("was not found"), "the bot's own account has no such parameter: {home}");
}

#[tokio::test]
async fn an_approval_for_prod_is_bound_to_prod_and_the_change_runs_there() {
    let w = world().await;
    let name = format!("/{}/release", unique("accounts"));
    put(&w.prod, &name, "v1").await;
    put(&w.staging, &name, "v1").await;
    let request = unique("req");
    let dev = as_user("U0DEV", &request);

    let plan = w.ops.handle(&dev, &format!("param set prod:{name} v2")).await;
    assert!(plan.text().contains("--account prod"), "the plan names the account: {}", plan.text());
    assert!(matches!(w.ops.click(&dev, &change_button(&plan, "Confirm")).await, ClickOutcome::Replace(_)));
    let approval = w.chat.messages.lock().unwrap().last().expect("an approval request").1.clone();
    assert!(approval.text().contains("--account prod"), "the approver sees the account: {}", approval.text());
    w.ops.click(&as_user("U0LEAD", &unique("click")), &change_button(&approval, "Approve")).await;
    finished(&*w.store, &w.chat, &request).await;
    let change = w.store.change(&ChangeId(request)).await.unwrap().expect("the change is stored");
    assert!(change.text.ends_with("--account prod"), "what was approved names prod: {}", change.text);

    assert_eq!(values(&w.prod, &name).await, ["v1", "v2"], "written in prod");
    assert_eq!(values(&w.staging, &name).await, ["v1"], "staging untouched");
}

#[tokio::test]
async fn a_resources_tags_are_read_in_the_account_it_is_in() {
    use opsbot::notify::tags::ReadTags;
    let w = world().await;
    let name = unique("tagged");
    let prod = tagged_cluster(&w.prod_sdk, &name, "payments").await;
    let own = tagged_cluster(&w.sdk, &name, "search").await;
    assert_ne!(prod, own, "one name, two accounts");
    let tags = opsbot::aws::AwsTags::new(w.accounts.clone(), Default::default());

    assert_eq!(tags.tags(&prod).await.unwrap()["team"], "payments", "read through prod's role");
    assert_eq!(tags.tags(&own).await.unwrap()["team"], "search", "read with the bot's own credentials");
}

/// An SSM client of the bot's own account acting in `region`.
fn ssm_in(sdk: &aws_config::SdkConfig, region: &str) -> aws_sdk_ssm::Client {
    let config = sdk.to_builder().region(aws_config::Region::new(region.to_owned())).build();
    aws_sdk_ssm::Client::new(&config)
}

#[tokio::test]
async fn a_query_naming_a_region_reads_there_and_a_query_naming_none_does_not() {
    let w = world().await;
    let name = format!("/{}/release", unique("regions"));
    put(&ssm_in(&w.sdk, "eu-west-1"), &name, "eu-v3").await;
    let dev = as_user("U0DEV", &unique("req"));

    let eu = w.ops.handle(&dev, &format!("param get {name} --region eu-west-1")).await.text();
    let home = w.ops.handle(&dev, &format!("param get {name}")).await.text();

    assert!(eu.contains("eu-v3") && eu.contains("eu-west-1"), "read in eu-west-1, and says so: {eu}");
    assert!(home.contains("was not found"), "the bot's own region has no such parameter: {home}");
}

#[tokio::test]
async fn a_change_naming_a_region_writes_there_and_nowhere_else() {
    let w = world().await;
    let name = format!("/{}/release", unique("regions"));
    let (eu, home) = (ssm_in(&w.sdk, "eu-west-1"), ssm_in(&w.sdk, "us-east-1"));
    put(&eu, &name, "v1").await;
    put(&home, &name, "v1").await;
    let request = unique("req");
    let dev = as_user("U0DEV", &request);

    let plan = w.ops.handle(&dev, &format!("param set {name} v2 --region eu-west-1")).await;
    assert!(plan.text().contains("--region eu-west-1"), "the plan names the region: {}", plan.text());
    assert!(matches!(w.ops.click(&dev, &change_button(&plan, "Confirm")).await, ClickOutcome::Replace(_)));
    finished(&*w.store, &w.chat, &request).await;

    assert_eq!(values(&eu, &name).await, ["v1", "v2"], "written in eu-west-1");
    assert_eq!(values(&home, &name).await, ["v1"], "the bot's own region untouched");
}

#[tokio::test]
async fn an_account_whose_configuration_names_a_region_is_read_and_changed_there_and_its_lines_say_so() {
    let w = world_with_prod_in(Some("eu-west-1")).await;
    let name = format!("/{}/release", unique("regions"));
    put(&w.prod, &name, "v1").await;
    let request = unique("req");
    let dev = as_user("U0DEV", &request);

    let read = w.ops.handle(&as_user("U0DEV", &unique("req")), &format!("param get prod:{name}")).await.text();
    assert!(read.contains("v1") && read.contains("prod eu-west-1"), "read in prod's region: {read}");
    let plan = w.ops.handle(&dev, &format!("param set prod:{name} v2")).await;
    assert!(plan.text().contains("--account prod --region eu-west-1"), "the line names it: {}", plan.text());
    assert!(matches!(w.ops.click(&dev, &change_button(&plan, "Confirm")).await, ClickOutcome::Replace(_)));
    let approval = w.chat.messages.lock().unwrap().last().expect("an approval request").1.clone();
    w.ops.click(&as_user("U0LEAD", &unique("click")), &change_button(&approval, "Approve")).await;
    finished(&*w.store, &w.chat, &request).await;

    assert_eq!(values(&w.prod, &name).await, ["v1", "v2"], "written in prod's eu-west-1");
    let elsewhere =
        aws_sdk_ssm::Client::new(&w.prod_sdk.to_builder().region(aws_config::Region::new("us-east-1")).build());
    assert!(elsewhere.get_parameter().name(&name).send().await.is_err(), "nothing in prod's us-east-1");
}
