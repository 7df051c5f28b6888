//! `on_param_change`: the hooks that send a document to instances after a
//! parameter under a prefix changes (see `opsbot_commands::cmd::param_hooks`).
//!
//! ```yaml
//! on_param_change:
//!   - prefix: /shop/staging/
//!     document: AWS-RunShellScript
//!     targets: tag:Environment=staging
//!     parameters: { commands: "systemctl reload shop" }   # optional; a list for several values
//! ```
//! Each entry is checked at start-up like a `run` command line would be; a
//! bad one stops start-up with its file:line:column and what to write.

use std::collections::BTreeMap;
use std::path::Path;

use opsbot_commands::UsageError;
use opsbot_commands::hooks::ParamHook;
use opsbot_commands::values::ssm::{DocParams, DocumentName, Targets};
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::error::SettingsError;

/// One `on_param_change` entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct HookFile {
    prefix: String,
    document: String,
    targets: String,
    #[serde(default)]
    parameters: BTreeMap<String, OneOrMany>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// The entries, checked, in file order; fails with every broken one.
pub(super) fn compile(path: &Path, raw: &[Spanned<HookFile>]) -> Result<Vec<ParamHook>, SettingsError> {
    let (hooks, broken): (Vec<_>, Vec<_>) =
        raw.iter().map(|entry| hook(&entry.value).map_err(|e| invalid(path, entry, &e))).partition(Result::is_ok);
    match broken.is_empty() {
        true => Ok(hooks.into_iter().filter_map(Result::ok).collect()),
        false => Err(SettingsError::all(broken.into_iter().filter_map(Result::err).collect())),
    }
}

fn hook(raw: &HookFile) -> Result<ParamHook, UsageError> {
    let words: Vec<String> = raw
        .parameters
        .iter()
        .flat_map(|(key, values)| match values {
            OneOrMany::One(v) => vec![format!("{key}={v}")],
            OneOrMany::Many(vs) => vs.iter().map(|v| format!("{key}={v}")).collect(),
        })
        .collect();
    let document = DocumentName::parse(&raw.document)?;
    ParamHook::new(&raw.prefix, document, Targets::parse(&raw.targets)?, DocParams::parse(&words)?)
}

fn invalid(path: &Path, entry: &Spanned<HookFile>, err: &UsageError) -> SettingsError {
    let at = entry.referenced;
    SettingsError::Invalid {
        path: path.into(),
        line: at.line(),
        column: at.column(),
        message: format!("on_param_change: {}", err.message),
    }
}

#[cfg(test)]
mod tests {
    use super::super::Settings;
    use super::*;

    fn load(yaml: &str) -> Result<Settings, SettingsError> {
        Settings::from_test_yaml(yaml)
    }

    #[test]
    fn hooks_are_read_in_order_with_their_parameters() {
        let yaml = "on_param_change:\n  - prefix: /shop/staging/\n    document: AWS-RunShellScript\n    targets: tag:Environment=staging\n    parameters: { commands: [\"systemctl reload shop\", uptime] }\n  - prefix: /shop/prod/\n    document: Shop-ReloadConfig\n    targets: i-0a1b2c3d4e5f60021\n";
        let hooks = load(yaml).unwrap().on_param_change;
        assert_eq!(hooks.len(), 2);
        assert_eq!(
            hooks[0].command_line(),
            "run AWS-RunShellScript on tag:Environment=staging \"commands=systemctl reload shop\" commands=uptime"
        );
        assert_eq!(hooks[1].command_line(), "run Shop-ReloadConfig on i-0a1b2c3d4e5f60021");
    }

    #[test]
    fn a_bad_hook_stops_start_up_with_its_place_and_what_to_write() {
        let yaml = "store:\n  path: x.db\non_param_change:\n  - prefix: /shop/staging/\n    document: AWS-RunShellScript\n    targets: staging\n";
        let err = load(yaml).unwrap_err().to_string();
        assert!(err.contains("opsbot.yaml:4:") && err.contains("tag:KEY=VALUE"), "{err}");
        let err = load("on_param_change:\n  - prefix: shop/\n    document: D-1\n    targets: tag:A=b\n").unwrap_err();
        assert!(err.to_string().contains("starting with `/`"), "{err}");
    }

    #[test]
    fn every_bad_hook_is_reported_with_its_place() {
        let yaml = "on_param_change:\n  - { prefix: /a/, document: D-1, targets: staging }\n  - { prefix: /b/, document: D-1, targets: tag:A=b }\n  - { prefix: c/, document: D-1, targets: tag:A=b }\n";
        let err = load(yaml).unwrap_err().to_string();
        assert!(err.contains("opsbot.yaml:2:") && err.contains("opsbot.yaml:4:"), "{err}");
        assert!(!err.contains("opsbot.yaml:3:"), "the good one is not a problem: {err}");
    }

    #[test]
    fn unknown_keys_in_a_hook_are_refused() {
        let yaml = "on_param_change:\n  - prefix: /a/\n    document: D-1\n    targets: tag:A=b\n    target: x\n";
        let err = load(yaml).unwrap_err().to_string();
        assert!(err.contains("opsbot.yaml:") && err.contains("target"), "{err}");
    }

    #[test]
    fn without_the_key_there_are_no_hooks() {
        assert!(load("store:\n  path: x.db\n").unwrap().on_param_change.is_empty());
    }
}
