//! Changes: commands that alter production. Each follows need → safe → act →
//! verify, and runs only after its requester confirmed the exact plan and —
//! when the policy says so — a second person approved it.
//!
//! # Parts
//! - [`ChangeCommand`]: what a change command implements (plan, act, check).
//! - [`Click`]: a button press, bound to one change and the hash of its exact
//!   parameters, in the form it travels through Slack and back.
//! - [`identity::Identity`]: whose AWS identity a change runs under.
//! - `flow`: the life of a change (request → confirm → approve → execute →
//!   follow), its audit trail and its messages.
//!
//! # Invariants
//! - The audit record of intent is written before any AWS call; if it cannot
//!   be written, nothing runs.
//! - Every step is a compare-and-set transition in the store, so double
//!   clicks, concurrent approvers and Slack retries run a change exactly once.
//! - The requester never approves their own change.

use std::time::Duration;

use async_trait::async_trait;

use crate::cmd::Context;
use crate::error::GatewayResult;
use crate::ports::Gateways;
use crate::ports::store::ChangeId;

pub(crate) mod flow;
pub mod identity;
pub use flow::ClickOutcome;
#[cfg(test)]
mod flow_tests;

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
    Unsafe(Vec<String>),
    /// What the command line pins (see [`ChangeCommand::pinned`]) is not what
    /// is there now — an approval of another execution waits, the parameter
    /// was written since — so it would act on something nobody reviewed.
    /// Never forced past: it must be asked for again.
    Moved(String),
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
}

/// What a button does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClickKind {
    Confirm,
    Cancel,
    Approve,
    Reject,
}

impl ClickKind {
    const ALL: [ClickKind; 4] = [Self::Confirm, Self::Cancel, Self::Approve, Self::Reject];

    fn action_id(self) -> &'static str {
        match self {
            Self::Confirm => "opsbot.confirm",
            Self::Cancel => "opsbot.cancel",
            Self::Approve => "opsbot.approve",
            Self::Reject => "opsbot.reject",
        }
    }
}

/// A button press on a change, bound to the hash of its exact parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Click {
    pub kind: ClickKind,
    pub change: ChangeId,
    pub hash: String,
}

impl Click {
    /// The Slack `action_id` and `value` of this button.
    pub fn to_wire(&self) -> (&'static str, String) {
        (self.kind.action_id(), format!("{}:{}", self.change, self.hash))
    }

    /// Back from Slack's `action_id` and `value`; `None` for anything else.
    pub fn from_wire(action_id: &str, value: &str) -> Option<Click> {
        let kind = ClickKind::ALL.into_iter().find(|k| k.action_id() == action_id)?;
        let (change, hash) = value.rsplit_once(':')?;
        (!change.is_empty() && !hash.is_empty()).then(|| Click {
            kind,
            change: ChangeId(change.to_owned()),
            hash: hash.to_owned(),
        })
    }
}

/// What pressing a button does: move a change along, or run a command line
/// as whoever pressed it (a notification's Ack or Retry stage), judged by the
/// policy like the same line typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Press {
    Change(Click),
    Run(String),
    /// Asks the presser for a comment (a Slack modal), then runs the command
    /// line with the comment appended — e.g. an approval with a reason.
    Ask(String),
}

/// The `action_id` of a button that runs its `value` as a command line.
const RUN_ACTION_ID: &str = "opsbot.run";
/// The `action_id` of a button that asks for a comment first.
const ASK_ACTION_ID: &str = "opsbot.ask";

impl Press {
    /// The Slack `action_id` and `value` of this button.
    pub fn to_wire(&self) -> (&'static str, String) {
        match self {
            Press::Change(click) => click.to_wire(),
            Press::Run(line) => (RUN_ACTION_ID, line.clone()),
            Press::Ask(line) => (ASK_ACTION_ID, line.clone()),
        }
    }

    /// Back from Slack's `action_id` and `value`; `None` for anything else.
    pub fn from_wire(action_id: &str, value: &str) -> Option<Press> {
        let line = || (!value.trim().is_empty()).then(|| value.to_owned());
        match action_id {
            RUN_ACTION_ID => return line().map(Press::Run),
            ASK_ACTION_ID => return line().map(Press::Ask),
            _ => {}
        }
        Click::from_wire(action_id, value).map(Press::Change)
    }

    /// The change click, for buttons that are one.
    pub fn change(&self) -> Option<&Click> {
        match self {
            Press::Change(click) => Some(click),
            Press::Run(_) | Press::Ask(_) => None,
        }
    }
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
    fn a_click_survives_the_round_trip_through_slack() {
        let click = Click { kind: ClickKind::Approve, change: ChangeId("r-1:x".into()), hash: "ab12".into() };
        let (id, value) = click.to_wire();
        assert_eq!(Click::from_wire(id, &value), Some(click));
    }

    #[test]
    fn a_command_button_survives_the_round_trip_and_needs_a_command() {
        for press in [
            Press::Run("alert ack arn:aws:cloudwatch:eu-west-1:1:alarm:x".into()),
            Press::Ask("pipeline approve web".into()),
        ] {
            let (id, value) = press.to_wire();
            assert_eq!(Press::from_wire(id, &value), Some(press));
        }
        assert_eq!(Press::from_wire("opsbot.run", " "), None);
    }

    #[test]
    fn foreign_or_malformed_buttons_are_not_clicks() {
        assert_eq!(Click::from_wire("someone.else", "r:h"), None);
        assert_eq!(Click::from_wire("opsbot.approve", "no-hash"), None);
        assert_eq!(Click::from_wire("opsbot.approve", ":h"), None);
    }

    #[test]
    fn the_hash_changes_with_any_parameter() {
        assert_eq!(params_hash("scale prod/api 6"), params_hash("scale prod/api 6"));
        assert_ne!(params_hash("scale prod/api 6"), params_hash("scale prod/api 7"));
        assert_eq!(params_hash("x").len(), 16);
    }
}
