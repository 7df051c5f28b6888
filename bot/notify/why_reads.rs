//! Where a notification's "why it failed" reads go: the account (and region)
//! the notification came from.
//!
//! - [`AccountReads`]: the port the notifier asks for the readers of one
//!   account (implemented by `AwsAccounts`, through the read session it
//!   already keeps for commands);
//! - [`WhyReads`]: those readers — build logs, stopped tasks, automations.
//!
//! # Decisions
//! - Only an account of `aws.accounts` is read through its own session; the
//!   bot's own account, and an account id not configured, keep the
//!   notifier's home readers (the bot's clients in its region). An unknown
//!   account is not refused: the bot may have been granted reads there by
//!   other means, and the thread says so when it was not.
//! - A session that cannot be had (the role cannot be assumed) is a read
//!   that failed: the thread says why, the notification itself still posts.

use std::sync::Arc;

use async_trait::async_trait;
use opsbot_commands::error::GatewayResult;
use opsbot_commands::ports::{Automations, StoppedTasks};

use super::build_log::BuildLogs;

/// The readers of why something failed, in one account and region.
#[derive(Clone)]
pub struct WhyReads {
    pub builds: Arc<dyn BuildLogs>,
    pub tasks: Arc<dyn StoppedTasks>,
    pub automations: Arc<dyn Automations>,
}

/// Readers in the configured accounts.
#[async_trait]
pub trait AccountReads: Send + Sync {
    /// The readers in account `account_id` (12 digits), in `region` (`None`:
    /// the account's configured region); `Ok(None)` when the account is not
    /// one of `aws.accounts`, whose failures the home readers read.
    async fn why_reads(&self, account_id: &str, region: Option<&str>) -> GatewayResult<Option<WhyReads>>;
}
