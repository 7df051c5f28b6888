//! Helpers: the command names tests pass as "known", policies from inline
//! YAML, and [`Ask`], a request builder with sensible defaults.

use std::path::Path;

use chrono::{DateTime, Utc};
use opsbot_policies::{Decision, Policy, PolicyError, Request};

/// The command names a policy may mention in these tests.
pub const COMMANDS: &[&str] = &[
    "pipelines",
    "pipeline",
    "pipeline start",
    "services",
    "service",
    "alarms",
    "params",
    "param get",
    "param history",
    "param set",
    "whoami",
    "audit",
    "help",
    "deploy",
    "restart",
    "rollback",
    "scale",
];

/// A standalone policy file named `policies.yaml`; panics with the error.
pub fn policy(yaml: &str) -> Policy {
    Policy::from_yaml(yaml, Path::new("policies.yaml"), COMMANDS).unwrap_or_else(|e| panic!("{e}"))
}

/// The load error of a standalone policy file named `policies.yaml`, as shown.
pub fn load_error(yaml: &str) -> String {
    load_error_value(yaml).to_string()
}

pub fn load_error_value(yaml: &str) -> PolicyError {
    match Policy::from_yaml(yaml, Path::new("policies.yaml"), COMMANDS) {
        Ok(_) => panic!("expected a load error for:\n{yaml}"),
        Err(e) => e,
    }
}

/// A request under construction: user U0DEV in channel C0GENERAL, no groups,
/// no arguments, on Tuesday 2026-05-05 at noon UTC unless told otherwise.
pub struct Ask {
    command: String,
    user: String,
    groups: Vec<String>,
    channel: String,
    args: Vec<(&'static str, String)>,
    at: DateTime<Utc>,
    force: bool,
}

pub fn ask(command: &str) -> Ask {
    Ask {
        command: command.into(),
        user: "U0DEV".into(),
        groups: vec![],
        channel: "C0GENERAL".into(),
        args: vec![],
        at: time("2026-05-05T12:00:00Z"),
        force: false,
    }
}

pub fn time(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).expect("test time").with_timezone(&Utc)
}

impl Ask {
    pub fn by(mut self, user: &str) -> Self {
        self.user = user.into();
        self
    }

    pub fn in_group(mut self, group: &str) -> Self {
        self.groups.push(group.into());
        self
    }

    pub fn in_channel(mut self, channel: &str) -> Self {
        self.channel = channel.into();
        self
    }

    pub fn with(mut self, name: &'static str, value: &str) -> Self {
        self.args.push((name, value.into()));
        self
    }

    /// Asked with `--force`.
    pub fn forced(mut self) -> Self {
        self.force = true;
        self
    }

    pub fn at(mut self, rfc3339: &str) -> Self {
        self.at = time(rfc3339);
        self
    }

    pub fn of(&self, policy: &Policy) -> Decision {
        policy.evaluate(&Request {
            command: &self.command,
            user: &self.user,
            groups: &self.groups,
            channel: &self.channel,
            args: &self.args,
            at: self.at,
            force: self.force,
        })
    }
}

/// `"allow"`, `"deny"` or `"approval"` plus the rule, for compact asserts.
pub fn verdict(decision: &Decision) -> (&'static str, Option<String>) {
    (decision.kind(), decision.rule().map(ToString::to_string))
}
