//! Where policies come from: the `policies:` key of the main config file, or
//! a separate file that key names (`policies: { file: policies.yaml }`, relative
//! to the config file's directory), or a standalone policy file (for
//! `opsbot policy lint`).
//!
//! The engine does no I/O itself: the caller passes the text, and a
//! `read_file` function for the one file a config may name. Every other key of
//! the config (slack, server, store, ...) is ignored here.

use std::path::{Path, PathBuf};

use crate::compile::compile;
use crate::error::PolicyError;
use crate::file::{ConfigFile, RawPolicies};
use crate::policy::Policy;

impl Policy {
    /// The policy in the main config file `text` (read from `path`), or `None`
    /// when it has no `policies:` key (or one with no value) — the caller then
    /// uses [`Policy::builtin`]. `policies: {}` is a policy without rules: it
    /// denies everything. Fails with the first problem; [`Policy::check_config_yaml`]
    /// reports them all.
    /// `known_commands` are the command names that exist (`"param get"`, ...);
    /// `read_file` reads the file named by `policies: { file: ... }`.
    pub fn from_config_yaml(
        text: &str,
        path: &Path,
        known_commands: &[&str],
        read_file: impl Fn(&Path) -> std::io::Result<String>,
    ) -> Result<Option<Policy>, PolicyError> {
        Self::check_config_yaml(text, path, known_commands, read_file).map_err(first)
    }

    /// [`Policy::from_config_yaml`], failing with every problem found, in
    /// file order (for `opsbot config check`: fix them all in one go).
    pub fn check_config_yaml(
        text: &str,
        path: &Path,
        known_commands: &[&str],
        read_file: impl Fn(&Path) -> std::io::Result<String>,
    ) -> Result<Option<Policy>, Vec<PolicyError>> {
        let shown = path.display().to_string();
        let config: Option<ConfigFile> =
            serde_saphyr::from_str(text).map_err(|e| vec![PolicyError::from_yaml(&shown, &e)])?;
        let Some(policies) = config.and_then(|c| c.policies) else { return Ok(None) };
        let raw = policies.value;
        let Some(file) = &raw.file else { return compile(&raw, &shown, known_commands).map(Some) };
        if raw.roles.is_some() || raw.rules.is_some() || raw.freeze.is_some() {
            let message = "`policies:` names a `file:` and also has roles, rules or freeze — keep one: move them \
                           into the file, or drop `file:`";
            return Err(vec![PolicyError::at(&shown, policies.referenced, message)]);
        }
        let target = beside(path, &file.value);
        let text = read_file(&target).map_err(|e| {
            let message = format!("cannot read the policy file `{}`: {e}", target.display());
            vec![PolicyError::at(&shown, file.referenced, message)]
        })?;
        Policy::check_yaml(&text, &target, known_commands).map(Some)
    }

    /// A standalone policy file: its top level is `roles`, `rules` and
    /// `freeze`. Fails with the first problem; [`Policy::check_yaml`] reports
    /// them all.
    pub fn from_yaml(text: &str, path: &Path, known_commands: &[&str]) -> Result<Policy, PolicyError> {
        Self::check_yaml(text, path, known_commands).map_err(first)
    }

    /// [`Policy::from_yaml`], failing with every problem found, in file order.
    pub fn check_yaml(text: &str, path: &Path, known_commands: &[&str]) -> Result<Policy, Vec<PolicyError>> {
        let shown = path.display().to_string();
        let raw: Option<RawPolicies> = serde_saphyr::from_str(text).map_err(|e| vec![standalone_error(&shown, &e)])?;
        let raw = raw.unwrap_or_default();
        if let Some(file) = &raw.file {
            let message = "`file:` only works under `policies:` in the main config — a policy file holds roles, \
                           rules and freeze itself";
            return Err(vec![PolicyError::at(&shown, file.referenced, message)]);
        }
        compile(&raw, &shown, known_commands)
    }
}

/// The first of the problems (file order): there is always at least one.
fn first(mut problems: Vec<PolicyError>) -> PolicyError {
    problems.swap_remove(0)
}

/// A relative `file` is relative to the config file's directory.
fn beside(config: &Path, file: &str) -> PathBuf {
    let file = Path::new(file);
    match config.parent() {
        Some(dir) if file.is_relative() => dir.join(file),
        _ => file.to_path_buf(),
    }
}

/// A `policies:` key at the top of a standalone file gets its own advice.
fn standalone_error(file: &str, err: &serde_saphyr::Error) -> PolicyError {
    let mut error = PolicyError::from_yaml(file, err);
    if let serde_saphyr::Error::SerdeUnknownField { field, .. } = err.without_snippet()
        && field == "policies"
    {
        error.message = "unknown key `policies` — a policy file's top level is roles, rules and freeze themselves: \
                         remove the `policies:` line and un-indent what was under it"
            .into();
    }
    error
}
