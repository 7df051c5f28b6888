//! Whose AWS identity a change runs under.
//!
//! By default every call goes out with the bot's own credentials. With an
//! [`Identity`] set ([`crate::ops::Ops::with_identity`]), a change's re-plan, its
//! action and its follow-up checks go through gateways that act for the
//! requester — the AWS gateway assumes a role with the requester's Slack user
//! id as its `SourceIdentity`, so CloudTrail names the human, not the bot.
//!
//! Reads keep using the bot's credentials: only what changes something needs
//! a person's name on it.

use async_trait::async_trait;

use crate::error::GatewayResult;
use crate::ports::Gateways;
use crate::values::SlackUserId;

/// Gateways acting for one Slack user.
#[async_trait]
pub trait Identity: Send + Sync {
    /// The gateways `user`'s changes run through; an error (the role cannot be
    /// assumed) means the change must not run at all.
    async fn gateways_for(&self, user: &SlackUserId) -> GatewayResult<Gateways>;
}
