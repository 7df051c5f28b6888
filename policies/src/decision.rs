//! What the engine is asked ([`Request`]) and what it answers ([`Decision`]).
//!
//! Every decision carries a sentence a person understands and, when a rule or
//! freeze decided, where it is written ([`RuleRef`], shown as `file:line`), so
//! a refused user and an auditor can both find the line that decided.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// One request to be judged. The engine has no clock: `at` is the caller's now.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The command's spec name, e.g. `"deploy"` or `"param get"`.
    pub command: &'a str,
    /// The requester's Slack user id.
    pub user: &'a str,
    /// The requester's Slack user-group ids (roles may name groups).
    pub groups: &'a [String],
    /// The channel id the request was typed in.
    pub channel: &'a str,
    /// Named arguments (`service`, `name`, ...) that `where:` conditions match on.
    pub args: &'a [(&'a str, String)],
    /// When the request is judged (freeze windows are checked against it).
    pub at: DateTime<Utc>,
    /// `--force`: run despite a freeze or the change's own safety checks.
    /// Only an allow rule with `force: true` lets a forced request through.
    pub force: bool,
}

/// Where a rule (or freeze entry) is written: `policies.yaml:14`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RuleRef {
    pub file: String,
    pub line: u64,
}

impl fmt::Display for RuleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// The verdict, always with a reason a person can read. `rule` is `None` for
/// the default deny and for the built-in policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow {
        rule: Option<RuleRef>,
        reason: String,
    },
    Deny {
        rule: Option<RuleRef>,
        reason: String,
    },
    /// Allowed once a member of the role `approvers` (never the requester)
    /// approves within `ttl`.
    NeedsApproval {
        approvers: String,
        ttl: Duration,
        rule: Option<RuleRef>,
        reason: String,
    },
}

impl Decision {
    /// True only for `Allow`: a request needing approval is not allowed yet.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow { .. })
    }

    /// `"allow"`, `"deny"` or `"approval"` — the JSON view's `decision` field.
    pub fn kind(&self) -> &'static str {
        match self {
            Decision::Allow { .. } => "allow",
            Decision::Deny { .. } => "deny",
            Decision::NeedsApproval { .. } => "approval",
        }
    }

    /// The rule or freeze entry that decided, if any.
    pub fn rule(&self) -> Option<&RuleRef> {
        match self {
            Decision::Allow { rule, .. } | Decision::Deny { rule, .. } | Decision::NeedsApproval { rule, .. } => {
                rule.as_ref()
            }
        }
    }

    /// The sentence explaining the decision.
    pub fn reason(&self) -> &str {
        match self {
            Decision::Allow { reason, .. } | Decision::Deny { reason, .. } | Decision::NeedsApproval { reason, .. } => {
                reason
            }
        }
    }

    /// The role whose member must approve, for `NeedsApproval`.
    pub fn approvers(&self) -> Option<&str> {
        match self {
            Decision::NeedsApproval { approvers, .. } => Some(approvers),
            Decision::Allow { .. } | Decision::Deny { .. } => None,
        }
    }
}
