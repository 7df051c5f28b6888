//! Every load error, with its exact `file:line:column` and the advice it gives:
//! names (commands, roles, arguments, ids) and rule shape here; freeze entries
//! in `freeze`; YAML and key errors in `yaml`.

mod freeze;
mod yaml;

use crate::support::{COMMANDS, load_error, load_error_value};

pub(super) const DEVS: &str = "roles: { devs: { everyone: true } }\nrules:\n  - allow: [deploy]\n    to: devs\n";

/// The `DEVS` policy with `extra` appended to its one rule (line 5 onwards).
pub(super) fn devs_rule_with(extra: &str) -> String {
    format!("{DEVS}{extra}")
}

#[test]
fn a_misspelt_command_suggests_the_close_one_and_lists_all() {
    let err = load_error("roles: { devs: { everyone: true } }\nrules:\n  - allow: [deploi]\n    to: devs\n");
    let expected = format!(
        "policies.yaml:3:13: unknown command `deploi` in allow — did you mean `deploy`? Commands: {}",
        COMMANDS.join(", ")
    );
    assert_eq!(err, expected);
}

#[test]
fn an_unknown_command_with_nothing_close_lists_the_commands() {
    let err = load_error("freeze:\n  - { name: x, weekly: [sat], commands: [frobnicate] }\n");
    let expected =
        format!("policies.yaml:2:42: unknown command `frobnicate` in freeze `x` — commands: {}", COMMANDS.join(", "));
    assert_eq!(err, expected);
}

#[test]
fn a_misspelt_role_suggests_the_close_one_and_lists_those_defined() {
    let yaml = "roles:\n  leads: { users: [U1] }\n  oncall: { groups: [S1] }\n  devs: { everyone: true }\n\
                rules:\n  - allow: [deploy]\n    to: lead\n";
    assert_eq!(
        load_error(yaml),
        "policies.yaml:7:9: unknown role `lead` — did you mean `leads`? Roles defined: leads, oncall, devs"
    );
}

#[test]
fn an_unknown_role_in_a_list_of_roles_is_pointed_at() {
    let yaml = "roles: { devs: { everyone: true } }\nrules:\n  - allow: [deploy]\n    to: [devs, ops]\n";
    assert_eq!(load_error(yaml), "policies.yaml:4:16: unknown role `ops` — roles defined: devs");
}

#[test]
fn a_role_used_before_any_is_defined_says_how_to_define_one() {
    assert_eq!(
        load_error("rules:\n  - allow: [deploy]\n    to: devs\n"),
        "policies.yaml:3:9: unknown role `devs` — no roles are defined; add e.g. `roles: { devs: { everyone: true } }`"
    );
}

#[test]
fn an_unknown_approving_role_is_pointed_at() {
    assert_eq!(
        load_error(&devs_rule_with("    approval: { by: leads }\n")),
        "policies.yaml:5:21: unknown role `leads` — roles defined: devs"
    );
}

#[test]
fn an_approval_without_by_asks_for_the_role() {
    assert_eq!(
        load_error(&devs_rule_with("    approval: { ttl: 1h }\n")),
        "policies.yaml:5:15: `approval:` needs `by:` naming the approving role — roles defined: devs"
    );
}

#[test]
fn a_bad_regex_is_pointed_at_with_the_problem() {
    assert_eq!(
        load_error(&devs_rule_with("    where: { service: \"^(prod\" }\n")),
        "policies.yaml:5:23: invalid regex `^(prod` for `service`: unclosed group — write e.g. \"^prod/\" (quoted)"
    );
}

#[test]
fn an_unknown_argument_in_where_suggests_the_close_one_and_lists_all() {
    assert_eq!(
        load_error(&devs_rule_with("    where: { servce: \"^prod/\" }\n")),
        "policies.yaml:5:14: unknown argument `servce` in where — did you mean `service`? Arguments: service, name, \
         value, pipeline, stage, action, document, targets, count, revision, cluster, env, account, region"
    );
}

#[test]
fn a_ttl_without_a_unit_asks_for_one() {
    assert_eq!(
        load_error(&devs_rule_with("    approval: { by: devs, ttl: 30 }\n")),
        "policies.yaml:5:32: `ttl: 30` is not a duration from 1s to 24h — write a number and a unit: 90s, 30m, 2h or 1d"
    );
}

#[test]
fn a_ttl_with_an_unknown_unit_is_refused() {
    let err = load_error_value(&devs_rule_with("    approval: { by: devs, ttl: 2w }\n"));
    assert_eq!((err.line, err.column), (5, 32));
    assert!(err.message.starts_with("`ttl: 2w` is not a duration"), "{}", err.message);
}

#[test]
fn a_ttl_over_a_day_is_refused() {
    let err = load_error_value(&devs_rule_with("    approval: { by: devs, ttl: 25h }\n"));
    assert_eq!((err.line, err.column), (5, 32));
    assert!(err.message.contains("from 1s to 24h"), "{}", err.message);
}

#[test]
fn a_rule_that_both_allows_and_denies_is_refused() {
    assert_eq!(
        load_error(&devs_rule_with("    deny: [deploy]\n")),
        "policies.yaml:3:5: a rule either allows or denies — split this into an `allow:` rule and a `deny:` rule"
    );
}

#[test]
fn a_rule_that_neither_allows_nor_denies_is_refused() {
    assert_eq!(
        load_error("roles: { devs: { everyone: true } }\nrules:\n  - to: devs\n"),
        "policies.yaml:3:5: a rule needs `allow: [commands]` or `deny: [commands]`"
    );
}

#[test]
fn an_allow_rule_without_to_asks_for_a_role() {
    assert_eq!(
        load_error("roles: { devs: { everyone: true } }\nrules:\n  - allow: [deploy]\n"),
        "policies.yaml:3:5: an allow rule needs `to:` naming a role — roles defined: devs"
    );
}

#[test]
fn a_deny_rule_cannot_ask_for_approval() {
    assert_eq!(
        load_error("roles: { devs: { everyone: true } }\nrules:\n  - deny: [deploy]\n    approval: { by: devs }\n"),
        "policies.yaml:4:15: a deny rule cannot ask for approval — remove `approval:` or make this an allow rule"
    );
}

#[test]
fn an_empty_command_list_is_refused() {
    assert_eq!(
        load_error("roles: { devs: { everyone: true } }\nrules:\n  - allow: []\n    to: devs\n"),
        "policies.yaml:3:5: `allow` lists no commands — write e.g. `[deploy, restart]`"
    );
}

#[test]
fn channel_names_instead_of_ids_are_refused() {
    assert_eq!(
        load_error(&devs_rule_with("    channels: [\"#deploys\"]\n")),
        "policies.yaml:5:16: `#deploys` is not a Slack channel id — list ids like C0123ABCD (in Slack: the profile \
         or details panel → Copy ID), not names"
    );
}

#[test]
fn an_empty_channel_list_is_refused_rather_than_meaning_anywhere() {
    assert_eq!(
        load_error(&devs_rule_with("    channels: []\n")),
        "policies.yaml:3:5: `channels:` lists no channel — remove it to allow any channel"
    );
}

#[test]
fn user_names_instead_of_ids_are_refused() {
    assert_eq!(
        load_error("roles:\n  devs: { users: [\"@alice\"] }\n"),
        "policies.yaml:2:19: `@alice` is not a Slack user id — list ids like U0123ABCD (in Slack: the profile or \
         details panel → Copy ID), not names"
    );
}

#[test]
fn a_role_without_members_is_refused() {
    assert_eq!(
        load_error("roles:\n  devs: {}\n"),
        "policies.yaml:2:3: role `devs` has no members — give `users: [U…]`, `groups: [S…]` or `everyone: true`"
    );
}

#[test]
fn every_broken_rule_and_freeze_is_reported_in_one_load_in_file_order() {
    let yaml = "roles: { devs: { everyone: true } }\nrules:\n  - allow: [deploi]\n    to: devs\n  - allow: [scale]\n    to: devs\n  - allow: [restart]\n    to: dev\nfreeze:\n  - { name: x, weekly: [sat], commands: [frobnicate] }\n";
    let problems = opsbot_policies::Policy::check_yaml(yaml, std::path::Path::new("policies.yaml"), COMMANDS)
        .expect_err("three entries are broken");
    let places: Vec<String> = problems.iter().map(|p| format!("{}:{}", p.line, p.column)).collect();
    assert_eq!(places, ["3:13", "8:9", "10:42"], "{problems:?}");
    assert!(problems[1].message.contains("did you mean `devs`"), "{}", problems[1]);
    assert_eq!(load_error(yaml), problems[0].to_string(), "the single-error API reports the first");
}
