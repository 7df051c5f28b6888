//! Changes: commands that alter production. Each follows need → safe → act →
//! verify, and runs only after its requester confirmed the exact plan and —
//! when the policy says so — a second person approved it.
//!
//! # Parts
//! - [`ChangeCommand`]: what a change command implements (plan, act, check;
//!   progress and resume, so another replica can follow a running change),
//!   with what it returns ([`Plan`], [`Outcome`], [`Progress`]).
//! - [`ChangeRequest`], [`Approval`]: a change as asked for and the approval
//!   its policy wants; [`params_hash`] binds buttons to its exact parameters.
//! - [`lifecycle::Changes`]: the life of a change (request → confirm →
//!   approve → execute → follow), owned by [`crate::ops::Ops`].
//! - [`messages`]: what the lifecycle shows (plans, progress, approvals,
//!   notes to whoever clicked).
//! - [`audit`]: the audit records it writes.
//! - [`identity::Identity`]: whose AWS identity a change runs under.
//!
//! The children build on this module, never the other way round.
//!
//! # Invariants
//! - The audit record of intent is written before any AWS call; if it cannot
//!   be written, nothing runs.
//! - Every step is a compare-and-set transition in the store, so double
//!   clicks, concurrent approvers and Slack retries run a change exactly once.
//! - The requester never approves their own change.

use std::time::Duration;

use async_trait::async_trait;

use crate::context::Context;
use crate::error::GatewayResult;
pub use crate::hooks::NeededApproval;
use crate::ports::Gateways;

pub mod audit;
pub mod identity;
pub mod lifecycle;
pub mod messages;

/// What a change will do, worked out before anyone confirms it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The exact effect, one mrkdwn line each ("desired count 4 → 6").
    pub lines: Vec<String>,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Ready,
    /// Nothing would change ("already at revision 42").
    NoOp(String),
    /// It would be unsafe now; the reasons say why and what to wait for.
    /// The one verdict `--force` (where a policy allows it) goes past.
    Unsafe(Vec<String>),
    /// It cannot be done as asked, now or later: what it names is not there
    /// or does not fit (a document that does not exist or does not take the
    /// parameters given, targets that reach no instance, a value SSM would
    /// refuse). Never forced past: `--force` overrides the safety checks of
    /// [`Verdict::Unsafe`] and nothing else. May carry unsafe reasons too.
    Invalid(Vec<String>),
    /// The policy allows the command but not everything it would touch
    /// (`params apply` writing a parameter the requester may not `param
    /// set`); the reasons name each part. Never forced past.
    Denied(Vec<String>),
    /// What the command line pins (see [`ChangeCommand::pinned`]) is not what
    /// is there now — an approval of another execution waits, the parameter
    /// was written since — so it would act on something nobody reviewed.
    /// Never forced past: it must be asked for again.
    Moved(String),
    /// Ready only under an approval by each part's role: `params apply`
    /// writing parameters whose `param set` rules need an approval, so that an
    /// apply never writes what `param set` would not without a second person.
    /// The change's own approval must be by that role, else it is refused
    /// with the parts' reasons. Never forced past.
    NeedsApproval(Vec<NeededApproval>),
}

/// What the AWS call did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    pub lines: Vec<String>,
    pub aws_request_ids: Vec<String>,
    /// How to follow it to its end, if it goes on after the call.
    pub follow: Option<Follow>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Follow {
    pub every: Duration,
    pub timeout: Duration,
}

/// One look at a change in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    Running(String),
    Done(String),
    Failed(String),
}

#[async_trait]
pub trait ChangeCommand: Send + Sync {
    /// Need and safety: what exactly would change, or why not now.
    async fn plan(&self, ctx: &Context, aws: &Gateways) -> GatewayResult<Plan>;
    /// The change itself.
    async fn act(&self, ctx: &Context, aws: &Gateways) -> GatewayResult<Outcome>;
    /// The command line that does exactly what the last plan showed, when the
    /// typed one leaves something to be worked out later (`param rollback
    /// NAME` → `param rollback NAME 6`): the change is stored, approved and
    /// run as that line, so an approval can never come to mean something else.
    /// When the line pins a target (`--execution ID`, a version), `plan`
    /// answers [`Verdict::Moved`] once the live target differs, and `act`
    /// refuses to touch another one with [`GatewayError::Moved`]; either way
    /// the change ends refused (audited), not run.
    ///
    /// [`GatewayError::Moved`]: crate::GatewayError::Moved
    fn pinned(&self) -> Option<String> {
        None
    }
    /// Verification: where the change stands now (called while `Outcome::follow` says).
    async fn check(&self, _ctx: &Context, _aws: &Gateways, _outcome: &Outcome) -> GatewayResult<Progress> {
        Ok(Progress::Done(String::new()))
    }
    /// After `act` succeeded: everything `check` needs to follow this change
    /// that the command line does not say (the deployment, execution or
    /// version `act` started or wrote), as one compact JSON string to store
    /// with the change. A replica that takes over a running change — the one
    /// that started it stopped or died — parses the stored line again and
    /// hands this to [`ChangeCommand::resume`]. `None`: `check` needs nothing
    /// but the command line (or `act` started nothing to follow).
    fn progress(&self) -> Option<String> {
        None
    }
    /// On a freshly parsed command of the same line, restores what
    /// [`ChangeCommand::progress`] wrote, so `check` answers as the instance
    /// that acted would. Refuses, saying why, progress that is not JSON
    /// opsbot wrote, was written for another command or target, or comes
    /// to a command that keeps none.
    fn resume(&self, _progress: &str) -> Result<(), String> {
        Err("this command keeps no progress to resume: it follows its change from its command line alone".into())
    }
}

/// A change as asked for: its command line, canonical and as shown.
pub struct ChangeRequest<'a> {
    /// Spec name.
    pub command: &'a str,
    pub canonical: &'a str,
    /// `canonical` with secret values masked.
    pub shown: &'a str,
    /// The policy rule that decided (`file:line`).
    pub rule: Option<String>,
    /// `--force`, which the policy allowed: safety checks warn instead of refusing.
    pub force: bool,
}

/// The approval a policy asked for.
pub struct Approval {
    pub role: String,
    pub ttl: std::time::Duration,
}

/// The hash that binds approvals to exact parameters: SHA-256 of the
/// canonical command line, first 16 hex digits.
pub fn params_hash(canonical: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(canonical.as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_changes_with_any_parameter() {
        assert_eq!(params_hash("scale prod/api 6"), params_hash("scale prod/api 6"));
        assert_ne!(params_hash("scale prod/api 6"), params_hash("scale prod/api 7"));
        assert_eq!(params_hash("x").len(), 16);
    }
}
