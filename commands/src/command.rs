//! What every command implements: [`CommandDef`] — its [`Spec`], how it
//! parses the words after its name, what the policy engine matches on, and
//! what it does ([`Body`]): answer a read ([`Read`]) or be a change
//! ([`ChangeCommand`]: plan, act, check).
//!
//! `cmd` lists every implementation once and generates the `Command` enum,
//! the table help and the parser read, and the dispatch from this trait; so
//! adding a command is its file plus one line in that list.

use async_trait::async_trait;

use crate::change::ChangeCommand;
use crate::context::Context;
use crate::error::{GatewayResult, UsageError};
use crate::ports::Gateways;
use crate::ports::alerts::Alerts;
use crate::ports::store::Store;
use crate::reply::Reply;
use crate::spec::Spec;

/// One command: spec, grammar, policy arguments and what it does.
pub trait CommandDef: Sized {
    /// Name, usage, summary and example; whether it changes anything.
    const SPEC: &'static Spec;

    /// Parses the words after the command's name.
    fn parse(args: &[String]) -> Result<Self, UsageError>;

    /// Named arguments the policy engine matches on (`service`, `name`, ...).
    fn policy_args(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    /// `canonical` (this command's canonical text) as it may be shown and
    /// audited: secret values masked.
    fn shown(&self, canonical: &str) -> String {
        canonical.to_owned()
    }

    /// What the command does: a read answered at once, or a change.
    fn body(&self) -> Body<'_>;
}

/// A command either reads or changes; changes go through the change lifecycle.
pub enum Body<'a> {
    Read(&'a dyn Read),
    Change(&'a dyn ChangeCommand),
}

/// What a read command may look at.
pub struct Reach<'a> {
    pub aws: &'a Gateways,
    /// The audit trail.
    pub store: &'a dyn Store,
    /// The alerts of the alarm notifications this process follows.
    pub alerts: &'a dyn Alerts,
    /// The policy in force (`whoami` shows its version).
    pub policy: &'a crate::live_policy::LivePolicy,
}

/// A command that only reads, answered at once.
#[async_trait]
pub trait Read: Send + Sync {
    async fn read(&self, ctx: &Context, reach: &Reach<'_>) -> GatewayResult<Reply>;
}
