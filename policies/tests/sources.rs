//! Where a policy comes from: `policies:` in the config, a file it names, or
//! nothing (the caller then uses the built-in policy).

use std::cell::RefCell;
use std::io;
use std::path::{Path, PathBuf};

use crate::support::{COMMANDS, ask};
use opsbot_policies::{Policy, PolicyError};

const POLICY_FILE: &str = "roles: { devs: { everyone: true } }\nrules:\n  - allow: [help]\n    to: devs\n";

fn from_config(text: &str, files: &[(&str, &str)]) -> (Result<Option<Policy>, PolicyError>, Vec<PathBuf>) {
    let asked = RefCell::new(Vec::new());
    let read = |path: &Path| {
        asked.borrow_mut().push(path.to_path_buf());
        files
            .iter()
            .find(|(name, _)| Path::new(name) == path)
            .map(|(_, text)| text.to_string())
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "No such file or directory"))
    };
    let result = Policy::from_config_yaml(text, Path::new("/etc/opsbot/config.yaml"), COMMANDS, read);
    (result, asked.into_inner())
}

#[test]
fn a_config_without_policies_gives_none_so_the_builtin_policy_applies() {
    let (result, asked) = from_config("slack: { bot_token: xoxb }\nstore: { sqlite: a.db }\n", &[]);
    assert!(result.expect("loads").is_none());
    assert!(asked.is_empty());
    assert!(from_config("", &[]).0.expect("loads").is_none());
}

#[test]
fn a_policy_file_named_by_the_config_is_read_beside_it() {
    let config = "slack: { bot_token: xoxb }\npolicies: { file: policies.yaml }\n";
    let (result, asked) = from_config(config, &[("/etc/opsbot/policies.yaml", POLICY_FILE)]);
    let policy = result.expect("loads").expect("has policies");
    assert_eq!(asked, [PathBuf::from("/etc/opsbot/policies.yaml")]);
    let decision = ask("help").of(&policy);
    assert_eq!(decision.rule().map(ToString::to_string).as_deref(), Some("/etc/opsbot/policies.yaml:3"));
}

#[test]
fn an_absolute_policy_file_path_is_used_as_is() {
    let (result, asked) = from_config("policies:\n  file: /srv/p.yaml\n", &[("/srv/p.yaml", POLICY_FILE)]);
    assert!(result.expect("loads").is_some());
    assert_eq!(asked, [PathBuf::from("/srv/p.yaml")]);
}

#[test]
fn an_unreadable_policy_file_is_reported_at_the_file_key() {
    let (result, _) = from_config("policies:\n  file: missing.yaml\n", &[]);
    assert_eq!(
        result.expect_err("fails").to_string(),
        "/etc/opsbot/config.yaml:2:9: cannot read the policy file `/etc/opsbot/missing.yaml`: No such file or directory"
    );
}

#[test]
fn errors_in_a_named_policy_file_point_into_that_file() {
    let bad = "rules:\n  - allow: [help]\n    to: devz\n";
    let (result, _) = from_config("policies: { file: p.yaml }\n", &[("/etc/opsbot/p.yaml", bad)]);
    let err = result.expect_err("fails");
    assert_eq!((err.file.as_str(), err.line, err.column), ("/etc/opsbot/p.yaml", 3, 9));
}

#[test]
fn a_file_key_next_to_inline_rules_is_refused() {
    let config = "policies:\n  file: p.yaml\n  rules: []\n";
    let (result, asked) = from_config(config, &[]);
    assert_eq!(
        result.expect_err("fails").to_string(),
        "/etc/opsbot/config.yaml:2:3: `policies:` names a `file:` and also has roles, rules or freeze — keep one: \
         move them into the file, or drop `file:`"
    );
    assert!(asked.is_empty());
}

#[test]
fn unknown_keys_under_policies_are_refused_but_other_config_keys_are_not_ours() {
    let (result, _) = from_config("server: { whatever: 1 }\npolicies:\n  rulez: []\n", &[]);
    assert_eq!(
        result.expect_err("fails").to_string(),
        "/etc/opsbot/config.yaml:3:3: unknown key `rulez` — did you mean `rules`? Keys allowed here: file, roles, \
         rules, freeze"
    );
}

#[test]
fn an_empty_policies_key_means_the_builtin_policy_but_an_empty_mapping_denies_everything() {
    assert!(from_config("policies:\n", &[]).0.expect("loads").is_none());
    let empty = from_config("policies: {}\n", &[]).0.expect("loads").expect("has policies");
    assert!(!ask("help").of(&empty).is_allowed());
}
