//! The policy from the README (tests/fixtures/config.yaml), inside a full
//! config file, judged for the requests a team actually makes.

use std::path::Path;

use crate::support::{COMMANDS, ask, verdict};
use opsbot_policies::Policy;

fn example() -> Policy {
    let text = include_str!("fixtures/config.yaml");
    let no_files = |p: &Path| panic!("no file should be read, asked for {}", p.display());
    Policy::from_config_yaml(text, Path::new("config.yaml"), COMMANDS, no_files)
        .unwrap_or_else(|e| panic!("{e}"))
        .expect("the fixture has policies")
}

#[test]
fn anyone_may_read_pipelines_and_services() {
    let decision = ask("pipeline").with("pipeline", "web").of(&example());
    assert_eq!(verdict(&decision), ("allow", Some("config.yaml:12".into())));
    assert!(decision.reason().starts_with("allowed by config.yaml:12 (pipeline by devs)"), "{}", decision.reason());
}

#[test]
fn a_developer_may_deploy_to_staging_anywhere() {
    let decision = ask("deploy").with("service", "staging/api").of(&example());
    assert_eq!(verdict(&decision), ("allow", Some("config.yaml:14".into())));
    assert_eq!(decision.reason(), "allowed by config.yaml:14 (deploy by devs where service matches ^staging/)");
}

#[test]
fn a_prod_deploy_in_the_deploys_channel_needs_a_lead() {
    let decision = ask("deploy").with("service", "prod/api").in_channel("C0DEPLOYS").of(&example());
    assert_eq!(verdict(&decision), ("approval", Some("config.yaml:17".into())));
    assert_eq!(decision.approvers(), Some("leads"));
    assert_eq!(
        decision.reason(),
        "needs a second person: a member of leads other than you must approve within 30m \
         (rule config.yaml:17: deploy by devs where service matches ^prod/ in channel C0DEPLOYS)"
    );
}

#[test]
fn a_prod_deploy_elsewhere_is_denied_by_default() {
    let decision = ask("deploy").with("service", "prod/api").in_channel("C0GENERAL").of(&example());
    assert_eq!(verdict(&decision), ("deny", None));
}

#[test]
fn prod_scaling_is_not_allowed_to_anyone() {
    let decision = ask("scale").with("service", "prod/api").with("count", "3").in_channel("C0DEPLOYS").of(&example());
    assert_eq!(decision.kind(), "deny");
}

#[test]
fn secrets_are_not_readable_from_chat() {
    let decision = ask("param get").with("name", "/shop/prod/secrets/db").of(&example());
    assert_eq!(verdict(&decision), ("deny", Some("config.yaml:22".into())));
    assert_eq!(decision.reason(), "denied by rule config.yaml:22: secrets are not readable from chat");
    assert!(ask("param get").with("name", "/shop/prod/db-host").of(&example()).is_allowed());
}

#[test]
fn deploys_stop_for_the_holidays() {
    let request = ask("restart").with("service", "staging/api").at("2026-12-23T10:00:00Z");
    let decision = request.of(&example());
    assert_eq!(verdict(&decision), ("deny", Some("config.yaml:26".into())));
    assert!(decision.reason().contains("holiday change freeze"), "{}", decision.reason());
}

#[test]
fn deploys_stop_at_weekends_but_restarts_do_not() {
    let saturday = "2026-05-09T10:00:00Z";
    let deploy = ask("deploy").with("service", "staging/api").at(saturday).of(&example());
    assert_eq!(verdict(&deploy), ("deny", Some("config.yaml:27".into())));
    assert!(deploy.reason().contains("no weekend deploys"), "{}", deploy.reason());
    assert!(ask("restart").with("service", "staging/api").at(saturday).of(&example()).is_allowed());
}

#[test]
fn leads_are_listed_by_user_and_group() {
    let policy = example();
    assert!(policy.may_approve("leads", "U0LEAD2", &[]));
    assert!(policy.may_approve("leads", "U0DEV", &["S0RELEASE".to_string()]));
    assert!(!policy.may_approve("leads", "U0DEV", &["S0ONCALL".to_string()]));
}
