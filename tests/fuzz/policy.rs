//! The policy loader on any YAML, both ways a policy arrives: the config
//! file's `policies:` key (naming a file or not) and a standalone policy file.
//! Beyond "no panic": every error carries a line and column inside the text
//! (1-based, at most one past its last line) and a message.

use std::path::Path;

use opsbot_policies::{Policy, PolicyError};

use super::{Shape, Target, coarse};

pub const TARGET: Target = Target {
    name: "policy",
    seed_dirs: &["policies/tests/fixtures"],
    shape: Shape::Yaml,
    dictionary: &[
        "policies",
        "roles",
        "rules",
        "freeze",
        "file",
        "allow",
        "deny",
        "to",
        "where",
        "channels",
        "approval",
        "by",
        "ttl",
        "force",
        "reason",
        "users",
        "groups",
        "everyone",
        "name",
        "from",
        "weekly",
        "commands",
        "service",
        "count",
        "deploy",
        "\"param get\"",
        "[sat, sun]",
        "2026-12-22T00:00:00Z",
        "9999-99-99T99:99:99Z",
        "30m",
        "25h",
        "0s",
        "-1m",
        "99999999999999999999d",
        "\"^prod/\"",
        "\"(\"",
        "\"[\"",
        "\"a{99999}\"",
        "true",
        "null",
        "~",
        "&a",
        "*a",
        "!!map",
        "!!binary",
        "<<: *a",
        "? ",
        "- ",
        "{}",
        "[]",
        "policies.yaml",
        "/etc/shadow",
    ],
    check,
};

/// The file a config's `policies: { file: policies.yaml }` names, as a
/// read function sees it: this text, or not there.
const NAMED_FILE: &str = include_str!("corpus/policy/standalone.yaml");

fn check(input: &[u8]) -> Result<String, String> {
    let text = String::from_utf8_lossy(input);
    let known: Vec<&str> = opsbot_commands::cmd::ENTRIES.iter().map(|e| e.spec.name).collect();
    let read = |path: &Path| match path.file_name().and_then(|n| n.to_str()) {
        Some("policies.yaml") => Ok(NAMED_FILE.to_owned()),
        _ => Err(std::io::Error::new(std::io::ErrorKind::NotFound, "no such file")),
    };
    let in_config = Policy::from_config_yaml(&text, Path::new("fuzz/opsbot.yaml"), &known, read);
    let standalone = Policy::from_yaml(&text, Path::new("fuzz/standalone.yaml"), &known);
    let mut outcome = String::new();
    for result in [in_config.map(|p| p.is_some()), standalone.map(|_| true)] {
        match result {
            Ok(found) => outcome.push_str(if found { "ok;" } else { "none;" }),
            Err(err) => {
                located(&text, &err)?;
                outcome.push_str(&coarse(&err.message));
                outcome.push(';');
            }
        }
    }
    Ok(outcome)
}

/// The error points into the text (or into the named file) and says something.
fn located(text: &str, err: &PolicyError) -> Result<(), String> {
    let lines = if err.file.ends_with("policies.yaml") { line_count(NAMED_FILE) } else { line_count(text) };
    if err.line == 0 || err.column == 0 || err.line > lines + 1 {
        return Err(format!("error outside the text ({lines} lines): {err}"));
    }
    if err.message.trim().is_empty() {
        return Err(format!("an error without a message at {}:{}", err.line, err.column));
    }
    Ok(())
}

/// Lines as YAML counts them: `\n`, `\r\n` and a lone `\r` each end one.
fn line_count(text: &str) -> u64 {
    let lone_cr = text.as_bytes().windows(2).filter(|w| w[0] == b'\r' && w[1] != b'\n').count();
    let trailing_cr = usize::from(text.ends_with('\r'));
    (text.matches('\n').count() + lone_cr + trailing_cr + 1) as u64
}

#[test]
fn the_policy_loader_survives_fuzzing_and_every_error_has_a_place() {
    super::run(&TARGET);
}
