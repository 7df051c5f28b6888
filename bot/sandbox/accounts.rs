//! [`DemoAccounts`]: the demo's one account as a configured account (the
//! way `serve` sees an account listed in `aws.accounts`), so its messages
//! name it — notifications say `Account *shop*` and their buttons run lines
//! with `--account shop` — and those lines act in the same sandbox.
//!
//! # Decisions
//! - The account is listed without a region and without being the default:
//!   a line naming no account acts in the bot's own (the same sandbox), so
//!   what people type reads as it does in `serve` without `aws.accounts`.
//! - Anything else (another account or region) is refused as `HomeOnly`
//!   refuses it: there is nothing else to simulate.

use async_trait::async_trait;
use opsbot_commands::error::{GatewayError, GatewayResult};
use opsbot_commands::ports::{Accounts, Gateways};
use opsbot_commands::target::{AccountNames, Target};
use opsbot_commands::values::SlackUserId;

use super::account::ACCOUNT_NAME;

/// The sandbox's gateways under its account name.
pub struct DemoAccounts {
    aws: Gateways,
}

impl DemoAccounts {
    /// `aws`: the sandbox's gateways as wired (declared parameters included).
    pub fn new(aws: Gateways) -> Self {
        DemoAccounts { aws }
    }

    fn gateways(&self, target: &Target) -> GatewayResult<Gateways> {
        match (target.account.as_deref(), target.region.as_deref()) {
            (Some(ACCOUNT_NAME), None | Some(super::account::REGION)) => Ok(self.aws.clone()),
            _ => {
                let what = target.label().unwrap_or_default();
                Err(GatewayError::not_found(format!("`{what}` (the demo simulates the account `{ACCOUNT_NAME}` only)")))
            }
        }
    }
}

#[async_trait]
impl Accounts for DemoAccounts {
    fn names(&self) -> AccountNames {
        AccountNames::new(vec![ACCOUNT_NAME.to_owned()], None)
    }

    async fn reads(&self, target: &Target) -> GatewayResult<Gateways> {
        self.gateways(target)
    }

    async fn changes(&self, target: &Target, _user: &SlackUserId) -> GatewayResult<Gateways> {
        self.gateways(target)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::sandbox::Sandbox;

    #[tokio::test]
    async fn the_demo_account_is_known_by_its_name_in_its_region_and_nothing_else_is() {
        let accounts = DemoAccounts::new(Arc::new(Sandbox::demo(chrono::Utc::now())).gateways());
        assert_eq!(accounts.names().names(), [ACCOUNT_NAME]);
        let at = |account: Option<&str>, region: Option<&str>| Target {
            account: account.map(Into::into),
            region: region.map(Into::into),
        };
        assert!(accounts.reads(&at(Some("shop"), None)).await.is_ok());
        assert!(accounts.reads(&at(Some("shop"), Some("eu-west-1"))).await.is_ok());
        let elsewhere = accounts.reads(&at(Some("shop"), Some("us-east-1"))).await.err().unwrap();
        assert!(elsewhere.to_string().contains("simulates the account `shop` only"), "{elsewhere}");
        assert!(accounts.reads(&at(None, Some("us-east-1"))).await.is_err());
    }
}
