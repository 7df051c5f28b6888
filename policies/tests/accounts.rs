//! `where: { account: … }` and `where: { region: … }`: rules that name the
//! AWS account (`aws.accounts`) and the region a command acts in.

use crate::support::{ask, policy, verdict};

const ACCOUNTS: &str = "
roles:
  leads: { users: [U0LEAD] }
  devs: { everyone: true }
rules:
  - deny: [param set]
    where: { account: \"^prod$\", name: \"^/secret\" }
    reason: secrets in prod are set by the platform team
  - allow: [deploy]
    to: devs
    where: { account: \"^staging$\" }
  - allow: [deploy]
    to: devs
    where: { account: \"^prod$\" }
    approval: { by: leads }
  - allow: [param set]
    to: devs
";

#[test]
fn a_deploy_in_staging_is_allowed_and_the_same_deploy_in_prod_needs_a_lead() {
    let team = policy(ACCOUNTS);
    let staging = ask("deploy").with("service", "web/api").with("account", "staging").of(&team);
    assert_eq!(verdict(&staging), ("allow", Some("policies.yaml:9".into())));
    let prod = ask("deploy").with("service", "web/api").with("account", "prod").of(&team);
    assert_eq!(verdict(&prod), ("approval", Some("policies.yaml:12".into())));
}

#[test]
fn a_rule_naming_an_account_does_not_match_a_command_in_the_bots_own_account() {
    let decision = ask("deploy").with("service", "web/api").of(&policy(ACCOUNTS));
    assert_eq!(verdict(&decision), ("deny", None), "no account named: neither account rule applies");
}

#[test]
fn a_deny_can_name_an_account_together_with_another_argument() {
    let team = policy(ACCOUNTS);
    let prod = ask("param set").with("name", "/secret/db").with("account", "prod").of(&team);
    assert_eq!(verdict(&prod), ("deny", Some("policies.yaml:6".into())));
    assert!(prod.reason().contains("set by the platform team"), "{}", prod.reason());
    let staging = ask("param set").with("name", "/secret/db").with("account", "staging").of(&team);
    assert!(staging.is_allowed(), "{staging:?}");
}

#[test]
fn a_rule_can_name_the_region_and_does_not_match_a_command_naming_none() {
    let team = policy(
        "
roles:
  devs: { everyone: true }
rules:
  - allow: [deploy]
    to: devs
    where: { account: \"^prod$\", region: \"^eu-\" }
",
    );
    let eu = ask("deploy").with("service", "web/api").with("account", "prod").with("region", "eu-west-1").of(&team);
    assert_eq!(verdict(&eu), ("allow", Some("policies.yaml:5".into())));
    let us = ask("deploy").with("service", "web/api").with("account", "prod").with("region", "us-east-1").of(&team);
    assert_eq!(verdict(&us), ("deny", None));
    let unnamed = ask("deploy").with("service", "web/api").with("account", "prod").of(&team);
    assert_eq!(verdict(&unnamed), ("deny", None), "the bot's own region is not named");
}
