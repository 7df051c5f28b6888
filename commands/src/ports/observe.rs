//! What the runner tells whoever watches it: each command line's outcome,
//! each policy decision, and each step of a change's life (the events the
//! audit log records), as counts an operator can graph. The bot
//! implements [`Observe`] with its metrics; this crate knows no metrics
//! library, and by default nobody watches ([`Unobserved`]).
//!
//! Everything passed is a closed set (command names from the command list,
//! the [`Outcome`] and decision names), never user, channel or free text, so
//! an implementation can use them as metric labels.

use std::time::Duration;

use super::store::AuditEvent;

/// How a command line typed (or run by a button) ended, as `Ops::handle` saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A read answered.
    Answered,
    /// A read that failed in AWS or the store (the asker saw why).
    Failed,
    /// Refused by the policy.
    Denied,
    /// A change the policy let through: its plan (or why not) was shown; what
    /// becomes of it afterwards is told as it happens ([`Observe::change`]).
    Requested,
    /// The line did not parse (unknown command, bad arguments).
    UsageError,
}

impl Outcome {
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Answered => "answered",
            Outcome::Failed => "failed",
            Outcome::Denied => "denied",
            Outcome::Requested => "requested",
            Outcome::UsageError => "usage_error",
        }
    }
}

/// The command name given for a line that did not parse.
pub const UNPARSED: &str = "unparsed";

pub trait Observe: Send + Sync {
    /// `command` (a command's name, or [`UNPARSED`]) ended as `outcome` after `took`.
    fn command(&self, command: &'static str, outcome: Outcome, took: Duration);
    /// The policy judged a request for `command`: `allow`, `deny` or `approval`.
    fn decision(&self, command: &'static str, decision: &'static str);
    /// A change of `command` moved on: `event` is what its audit record says
    /// (requested, confirmed, approved, executed, failed, ...).
    fn change(&self, command: &'static str, event: AuditEvent);
}

/// Nobody watches.
pub struct Unobserved;

impl Observe for Unobserved {
    fn command(&self, _: &'static str, _: Outcome, _: Duration) {}
    fn decision(&self, _: &'static str, _: &'static str) {}
    fn change(&self, _: &'static str, _: AuditEvent) {}
}
