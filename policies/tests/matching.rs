//! Which rule matches: roles (users, groups, everyone), channels, `where`
//! regexes, deny over allow, first allow wins, default deny, built-in policy.

use crate::support::{ask, policy, verdict};
use opsbot_policies::{Decision, Policy};

const TEAM: &str = "
roles:
  leads: { users: [U0LEAD] }
  release: { groups: [S0RELEASE] }
  devs: { everyone: true }
rules:
  - allow: [scale]
    to: [leads, release]
  - allow: [restart]
    to: devs
    channels: [C0OPS, C0DEPLOYS]
  - allow: [deploy]
    to: devs
    where: { service: \"^staging/\" }
  - allow: [params]
    to: devs
  - deny: [params]
    where: { name: \"^/secret\" }
";

#[test]
fn a_request_no_rule_mentions_is_denied_by_default() {
    let decision = ask("rollback").of(&policy(TEAM));
    assert_eq!(verdict(&decision), ("deny", None));
    assert_eq!(decision.reason(), "no rule allows `rollback` for you in this channel (opsbot denies by default)");
}

#[test]
fn a_matching_deny_beats_an_earlier_allow() {
    let decision = ask("params").with("name", "/secret/db").of(&policy(TEAM));
    assert_eq!(verdict(&decision), ("deny", Some("policies.yaml:17".into())));
    assert_eq!(decision.reason(), "denied by rule policies.yaml:17 (params where name matches ^/secret)");
    assert!(ask("params").with("name", "/public").of(&policy(TEAM)).is_allowed());
}

#[test]
fn a_role_with_users_admits_only_those_users() {
    let team = policy(TEAM);
    assert_eq!(verdict(&ask("scale").by("U0LEAD").of(&team)), ("allow", Some("policies.yaml:7".into())));
    assert_eq!(verdict(&ask("scale").by("U0OTHER").of(&team)), ("deny", None));
}

#[test]
fn a_role_with_groups_admits_members_of_any_listed_group() {
    let team = policy(TEAM);
    let decision = ask("scale").by("U0OTHER").in_group("S0NOPE").in_group("S0RELEASE").of(&team);
    assert!(decision.is_allowed(), "{decision:?}");
    assert!(!ask("scale").by("U0OTHER").in_group("S0NOPE").of(&team).is_allowed());
}

#[test]
fn a_rule_for_several_roles_admits_members_of_any_of_them() {
    let decision = ask("scale").by("U0LEAD").of(&policy(TEAM));
    assert_eq!(decision.reason(), "allowed by policies.yaml:7 (scale by leads or release)");
}

#[test]
fn the_everyone_role_admits_any_user() {
    assert!(ask("params").by("U0SOMEONE").of(&policy(TEAM)).is_allowed());
}

#[test]
fn a_channel_restricted_rule_applies_only_in_its_channels() {
    let team = policy(TEAM);
    assert!(ask("restart").in_channel("C0DEPLOYS").of(&team).is_allowed());
    assert!(ask("restart").in_channel("C0OPS").of(&team).is_allowed());
    assert_eq!(verdict(&ask("restart").in_channel("C0GENERAL").of(&team)), ("deny", None));
    let reason = ask("restart").in_channel("C0OPS").of(&team).reason().to_owned();
    assert_eq!(reason, "allowed by policies.yaml:9 (restart by devs in channels C0OPS or C0DEPLOYS)");
}

#[test]
fn a_where_regex_matches_as_written_with_its_own_anchors() {
    let team = policy(TEAM);
    assert!(ask("deploy").with("service", "staging/api").of(&team).is_allowed());
    assert!(!ask("deploy").with("service", "prod/staging/api").of(&team).is_allowed());
}

#[test]
fn a_where_on_an_argument_the_request_lacks_does_not_match() {
    let team = policy(TEAM);
    assert!(!ask("deploy").of(&team).is_allowed());
    assert!(ask("params").of(&team).is_allowed(), "the deny's where on `name` must not match either");
}

#[test]
fn an_argument_given_twice_must_match_everywhere_to_allow_and_anywhere_to_deny() {
    let team = policy(TEAM);
    let mixed = ask("deploy").with("service", "staging/a").with("service", "prod/b").of(&team);
    assert!(!mixed.is_allowed());
    let secret = ask("params").with("name", "/public").with("name", "/secret/x").of(&team);
    assert_eq!(secret.kind(), "deny");
}

#[test]
fn the_first_matching_allow_decides_even_when_a_later_one_needs_no_approval() {
    let yaml = "
roles: { devs: { everyone: true }, leads: { users: [U0LEAD] } }
rules:
  - allow: [deploy]
    to: devs
    approval: { by: leads }
  - allow: [deploy]
    to: devs
";
    let decision = ask("deploy").of(&policy(yaml));
    assert_eq!(verdict(&decision), ("approval", Some("policies.yaml:4".into())));
}

#[test]
fn a_deny_without_to_applies_to_everyone_and_may_give_its_reason() {
    let yaml = "
roles: { leads: { users: [U0LEAD] } }
rules:
  - allow: [scale]
    to: leads
  - deny: [scale]
    where: { count: \"^[0-9]{3,}$\" }
    reason: three-digit task counts cost too much
";
    let decision = ask("scale").by("U0LEAD").with("count", "100").of(&policy(yaml));
    assert_eq!(decision.reason(), "denied by rule policies.yaml:6: three-digit task counts cost too much");
    assert!(ask("scale").by("U0LEAD").with("count", "10").of(&policy(yaml)).is_allowed());
}

#[test]
fn an_allow_rule_may_give_its_own_reason() {
    let yaml = "
roles: { devs: { everyone: true } }
rules:
  - allow: help
    to: devs
    reason: everyone may ask for help
";
    assert_eq!(ask("help").of(&policy(yaml)).reason(), "allowed by policies.yaml:4: everyone may ask for help");
}

#[test]
fn an_empty_policy_denies_everything() {
    assert!(!ask("help").of(&policy("")).is_allowed());
    assert!(!ask("help").of(&policy("rules: []")).is_allowed());
}

#[test]
fn the_builtin_policy_allows_reads_to_everyone_and_changes_to_no_one() {
    let builtin = Policy::builtin(["pipelines", "param get"]);
    let read = ask("param get").by("U0ANYONE").of(&builtin);
    assert_eq!(
        read,
        Decision::Allow {
            rule: None,
            reason: "`param get` is a read-only command open to everyone (built-in policy)".into()
        }
    );
    let change = ask("deploy").of(&builtin);
    assert_eq!(verdict(&change), ("deny", None));
    assert!(change.reason().contains("the built-in policy allows only read commands"), "{}", change.reason());
    assert_eq!(Policy::reads_for_everyone(["help"]).rule_count(), 1);
}

#[test]
fn roles_beyond_the_sixty_fourth_are_matched_too() {
    let mut yaml = String::from("roles:\n");
    for r in 0..70 {
        yaml.push_str(&format!("  r{r}: {{ users: [U0R{r}] }}\n"));
    }
    yaml.push_str("rules:\n  - allow: [deploy]\n    to: [r1, r68]\n  - allow: [deploy]\n    to: r69\n");
    let many = policy(&yaml);
    assert_eq!(verdict(&ask("deploy").by("U0R69").of(&many)), ("allow", Some("policies.yaml:75".into())));
    assert_eq!(verdict(&ask("deploy").by("U0R68").of(&many)), ("allow", Some("policies.yaml:73".into())));
    assert_eq!(verdict(&ask("deploy").by("U0R2").of(&many)), ("deny", None));
}
