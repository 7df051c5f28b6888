//! Load errors found while reading the YAML: syntax, unknown or repeated keys,
//! wrong kinds of value, keys in the wrong file.

use super::devs_rule_with;
use crate::support::load_error;

#[test]
fn an_unknown_key_in_a_rule_suggests_the_close_one_and_lists_the_keys() {
    assert_eq!(
        load_error("roles: { devs: { everyone: true } }\nrules:\n  - allow: [deploy]\n    too: devs\n"),
        "policies.yaml:4:5: unknown key `too` — did you mean `to`? Keys allowed here: allow, deny, to, where, \
         channels, approval, force, reason"
    );
}

#[test]
fn an_unknown_key_in_a_role_lists_the_keys() {
    assert_eq!(
        load_error("roles:\n  devs: { everyone: true, admins: true }\n"),
        "policies.yaml:2:27: unknown key `admins` — keys allowed here: users, groups, everyone"
    );
}

#[test]
fn a_role_defined_twice_is_refused() {
    assert_eq!(
        load_error("roles:\n  devs: { everyone: true }\n  devs: { users: [U1] }\n"),
        "policies.yaml:3:3: `devs` is written twice here — keep one and merge what the two say"
    );
}

#[test]
fn a_policies_key_at_the_top_of_a_policy_file_says_to_unindent() {
    assert_eq!(
        load_error("policies:\n  rules: []\n"),
        "policies.yaml:1:1: unknown key `policies` — a policy file's top level is roles, rules and freeze \
         themselves: remove the `policies:` line and un-indent what was under it"
    );
}

#[test]
fn a_file_key_in_a_policy_file_is_refused() {
    assert_eq!(
        load_error("file: other.yaml\n"),
        "policies.yaml:1:7: `file:` only works under `policies:` in the main config — a policy file holds roles, \
         rules and freeze itself"
    );
}

#[test]
fn broken_yaml_is_pointed_at() {
    assert_eq!(load_error("rules:\n  - allow: [deploy\n"), "policies.yaml:2:12: unclosed bracket '['");
}

#[test]
fn a_mapping_where_a_list_belongs_is_explained() {
    assert_eq!(load_error("rules: 3\n"), "policies.yaml:1:8: expected a list here, like `[deploy, restart]`");
    assert_eq!(
        load_error(&devs_rule_with("    where: [service]\n")),
        "policies.yaml:5:12: expected a mapping here, like `{ key: value }`"
    );
}
