//! opsbot's policy engine: decides whether a request may run, pure and
//! deterministic (no I/O, no clock of its own — the caller passes the time).
//!
//! # Layout
//! - [`Request`]: who asks, where, for which command, with which named arguments.
//! - [`Decision`]: `Allow`, `Deny { reason }` or `NeedsApproval { .. }`, each with
//!   a sentence a human understands.
//! - [`Policy`]: an ordered list of rules. Default deny: a request no rule allows
//!   is refused.
//!
//! The built-in policy ([`Policy::reads_for_everyone`]) allows the read-only
//! commands to everyone and every change to no one; a configured policy file
//! replaces it.

use std::collections::BTreeSet;

/// One request to be judged. Command names are the spec names (`"param get"`).
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub command: &'a str,
    pub user: &'a str,
    pub channel: &'a str,
    pub args: &'a [(&'a str, String)],
}

/// The verdict, always with a reason a person can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow { reason: String },
    Deny { reason: String },
    NeedsApproval { approvers: String, reason: String },
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow { .. })
    }
}

/// An ordered rule set. Default deny.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    everyone_may: BTreeSet<String>,
}

impl Policy {
    /// The safe built-in policy: the given (read-only) commands for everyone,
    /// nothing else for anyone.
    pub fn reads_for_everyone<'a>(read_commands: impl IntoIterator<Item = &'a str>) -> Self {
        Policy { everyone_may: read_commands.into_iter().map(str::to_owned).collect() }
    }

    pub fn evaluate(&self, request: &Request<'_>) -> Decision {
        if self.everyone_may.contains(request.command) {
            Decision::Allow { reason: format!("`{}` is a read-only command open to everyone", request.command) }
        } else {
            Decision::Deny {
                reason: format!(
                    "no policy rule allows `{}` (opsbot denies by default); ask an admin to add a rule",
                    request.command
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(policy: &Policy, command: &str) -> Decision {
        policy.evaluate(&Request { command, user: "U1", channel: "C1", args: &[] })
    }

    #[test]
    fn listed_read_commands_are_allowed_to_everyone() {
        let policy = Policy::reads_for_everyone(["pipelines", "param get"]);
        assert!(ask(&policy, "param get").is_allowed());
    }

    #[test]
    fn anything_not_listed_is_denied_with_a_reason() {
        let policy = Policy::reads_for_everyone(["pipelines"]);
        match ask(&policy, "deploy") {
            Decision::Deny { reason } => assert!(reason.contains("denies by default"), "{reason}"),
            other => panic!("expected deny, got {other:?}"),
        }
    }
}
