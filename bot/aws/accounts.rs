//! [`AwsAccounts`]: the commands' [`Accounts`] port on AWS — gateways in the
//! accounts of `aws.accounts` and in other regions (`--region`).
//!
//! # Decisions
//! - An account's gateways are made on first use, from its role assumed by
//!   [`AssumeRole`] (the one implementation of STS sessions): reads as the
//!   bot (session `opsbot`), changes per requester with their Slack id as
//!   source identity, exactly like `aws.assume_role`.
//! - Read gateways are cached per account and region until their session is
//!   [`REFRESH_BEFORE`] its expiry; change gateways are made per change from
//!   the per-user session cache, as at home.
//! - The bot's own account in another region uses the bot's credentials (and
//!   `aws.assume_role` for changes, when set) with only the region changed.
//! - Notifications' "why it failed" reads ([`AccountReads`]) in an account
//!   of `aws.accounts` use the same read session (session `opsbot`), with
//!   clients made per read: a failure is explained once.
//! - Every client counts its calls (`client!` through [`gateways`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_config::{Region, SdkConfig};
use opsbot_commands::error::{GatewayError, GatewayResult};
use opsbot_commands::ports::{Accounts, Gateways};
use opsbot_commands::target::{AccountNames, Target};
use opsbot_commands::values::SlackUserId;

use super::gateways::{gateways, why_reads};
use super::identity::{AssumeRole, REFRESH_BEFORE};
use crate::metrics::aws::AwsCalls;
use crate::notify::why_reads::{AccountReads, WhyReads};
use crate::settings::AccountsSettings;

/// Gateways in the configured accounts and in other regions.
pub struct AwsAccounts {
    base: SdkConfig,
    calls: AwsCalls,
    settings: AccountsSettings,
    /// Each account's role, by account name.
    roles: HashMap<String, AssumeRole>,
    /// `aws.assume_role`: changes in the bot's own account, in another region.
    home: Option<Arc<AssumeRole>>,
    /// Read gateways by target, with when their credentials expire (`None`: the bot's own, never).
    reads: Mutex<HashMap<Target, (Gateways, Option<SystemTime>)>>,
}

impl AwsAccounts {
    /// The accounts of `settings`, their roles assumed with the credentials
    /// of `base` (the bot's) for `duration`; `home` acts for requesters in
    /// the bot's own account (`aws.assume_role`).
    pub fn new(
        base: &SdkConfig,
        settings: AccountsSettings,
        duration: Duration,
        home: Option<Arc<AssumeRole>>,
        calls: AwsCalls,
    ) -> Self {
        let role = |a: &crate::settings::AccountSettings| AssumeRole::new(base, &a.role_arn, duration, calls.clone());
        let roles = settings.accounts.iter().map(|a| (a.name.clone(), role(a))).collect();
        Self::with_roles(base, settings, roles, home, calls)
    }

    /// [`AwsAccounts::new`] with the roles given (tests give them mocked STS clients).
    pub fn with_roles(
        base: &SdkConfig,
        settings: AccountsSettings,
        roles: HashMap<String, AssumeRole>,
        home: Option<Arc<AssumeRole>>,
        calls: AwsCalls,
    ) -> Self {
        AwsAccounts { base: base.clone(), calls, settings, roles, home, reads: Mutex::default() }
    }

    /// The role of `target`'s account and the region to act in.
    fn place<'a>(&'a self, target: &'a Target) -> GatewayResult<(Option<&'a AssumeRole>, Option<&'a str>)> {
        let Some(name) = &target.account else { return Ok((None, target.region.as_deref())) };
        let (Some(account), Some(role)) = (self.settings.named(name), self.roles.get(name)) else {
            return Err(GatewayError::not_found(format!("account `{name}` (not in aws.accounts)")));
        };
        Ok((Some(role), target.region.as_deref().or(account.region.as_deref())))
    }
}

/// `config` acting in `region`, when one is named.
fn in_region(config: SdkConfig, region: Option<&str>) -> SdkConfig {
    match region {
        Some(region) => config.to_builder().region(Region::new(region.to_owned())).build(),
        None => config,
    }
}

impl AwsAccounts {
    /// The bot's reading configuration for resources of account `account_id`
    /// in `region`: the account's read session when it is one of
    /// `aws.accounts`, else the bot's own credentials.
    pub async fn reading(&self, account_id: &str, region: &str) -> GatewayResult<SdkConfig> {
        let role =
            self.settings.accounts.iter().find(|a| a.account_id == account_id).and_then(|a| self.roles.get(&a.name));
        let config = match role {
            Some(role) => role.session(None).await?.0,
            None => self.base.clone(),
        };
        Ok(in_region(config, Some(region)))
    }
}

#[async_trait]
impl AccountReads for AwsAccounts {
    async fn why_reads(&self, account_id: &str, region: Option<&str>) -> GatewayResult<Option<WhyReads>> {
        let account = self.settings.accounts.iter().find(|a| a.account_id == account_id);
        let Some((account, role)) = account.and_then(|a| Some((a, self.roles.get(&a.name)?))) else {
            return Ok(None);
        };
        let config = role.session(None).await?.0;
        let region = region.or(account.region.as_deref());
        Ok(Some(why_reads(&in_region(config, region), &self.calls)))
    }
}

#[async_trait]
impl Accounts for AwsAccounts {
    fn names(&self) -> AccountNames {
        self.settings.names()
    }

    async fn reads(&self, target: &Target) -> GatewayResult<Gateways> {
        let fresh = |expires: &Option<SystemTime>| expires.is_none_or(|e| e > SystemTime::now() + REFRESH_BEFORE);
        if let Some((aws, expires)) = self.reads.lock().unwrap().get(target)
            && fresh(expires)
        {
            return Ok(aws.clone());
        }
        let (role, region) = self.place(target)?;
        let (config, expires) = match role {
            Some(role) => role.session(None).await.map(|(config, expires)| (config, Some(expires)))?,
            None => (self.base.clone(), None),
        };
        let aws = gateways(&in_region(config, region), &self.calls);
        self.reads.lock().unwrap().insert(target.clone(), (aws.clone(), expires));
        Ok(aws)
    }

    async fn changes(&self, target: &Target, user: &SlackUserId) -> GatewayResult<Gateways> {
        let (role, region) = self.place(target)?;
        let config = match role.or(self.home.as_deref()) {
            Some(role) => role.config_for(user).await?,
            None => self.base.clone(),
        };
        Ok(gateways(&in_region(config, region), &self.calls))
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_sts::Client;
    use aws_smithy_mocks::mock;

    use super::*;
    use crate::aws::identity::tests::{base, session};
    use crate::aws::mocked_client;
    use crate::settings::AccountSettings;

    const PROD: &str = "arn:aws:iam::111111111111:role/opsbot";
    /// How long STS's sessions last.
    const HOUR: Duration = Duration::from_secs(3600);

    fn settings() -> AccountsSettings {
        let prod = AccountSettings {
            name: "prod".into(),
            role_arn: PROD.into(),
            account_id: "111111111111".into(),
            region: Some("eu-west-1".into()),
        };
        AccountsSettings { accounts: vec![prod], default: None }
    }

    fn target(account: Option<&str>, region: Option<&str>) -> Target {
        Target { account: account.map(Into::into), region: region.map(Into::into) }
    }

    #[tokio::test]
    async fn an_accounts_reads_assume_its_role_once_as_the_bot_and_its_changes_as_each_requester() {
        let as_bot = mock!(Client::assume_role)
            .match_requests(|req| req.role_arn() == Some(PROD) && req.source_identity().is_none())
            .then_output(|| session(HOUR));
        let as_dev = mock!(Client::assume_role)
            .match_requests(|req| req.role_arn() == Some(PROD) && req.source_identity() == Some("U0DEV"))
            .then_output(|| session(HOUR));
        let sts: Client = mocked_client!(aws_sdk_sts, [&as_bot, &as_dev]);
        let role = AssumeRole::with_sts(&base(), sts, PROD, Duration::from_secs(900), AwsCalls::default());
        let roles = HashMap::from([("prod".to_owned(), role)]);
        let accounts = AwsAccounts::with_roles(&base(), settings(), roles, None, AwsCalls::default());

        for _ in 0..3 {
            accounts.reads(&target(Some("prod"), None)).await.unwrap();
        }
        accounts.changes(&target(Some("prod"), None), &SlackUserId::parse("U0DEV").unwrap()).await.unwrap();

        assert_eq!(as_bot.num_calls(), 1, "reads are cached per account");
        assert_eq!(as_dev.num_calls(), 1, "changes act for their requester");
    }

    #[tokio::test]
    async fn a_failure_in_a_configured_account_is_read_with_its_session_and_elsewhere_with_the_bots() {
        let as_bot =
            mock!(Client::assume_role).match_requests(|req| req.role_arn() == Some(PROD)).then_output(|| session(HOUR));
        let sts: Client = mocked_client!(aws_sdk_sts, [&as_bot]);
        let role = AssumeRole::with_sts(&base(), sts, PROD, Duration::from_secs(900), AwsCalls::default());
        let roles = HashMap::from([("prod".to_owned(), role)]);
        let accounts = AwsAccounts::with_roles(&base(), settings(), roles, None, AwsCalls::default());

        assert!(accounts.why_reads("999999999999", Some("eu-west-1")).await.unwrap().is_none(), "home clients read");
        assert_eq!(as_bot.num_calls(), 0, "an account not configured assumes nothing");
        assert!(accounts.why_reads("111111111111", None).await.unwrap().is_some());
        assert!(accounts.why_reads("111111111111", Some("ap-south-1")).await.unwrap().is_some());
        assert_eq!(as_bot.num_calls(), 1, "prod's read session, the one its commands' reads use");
    }

    #[tokio::test]
    async fn an_account_not_configured_is_not_found_and_assumes_nothing() {
        let accounts = AwsAccounts::with_roles(&base(), settings(), HashMap::new(), None, AwsCalls::default());
        let err = accounts.reads(&target(Some("dev"), None)).await.err().unwrap();
        assert!(err.to_string().contains("account `dev`"), "{err}");
    }

    #[test]
    fn the_region_named_wins_over_the_accounts_own_then_the_bots() {
        let accounts = AwsAccounts::new(&base(), settings(), Duration::from_secs(900), None, AwsCalls::default());
        let region = |t: Target| accounts.place(&t).map(|(_, r)| r.map(str::to_owned)).unwrap();
        assert_eq!(region(target(Some("prod"), Some("ap-south-1"))).as_deref(), Some("ap-south-1"));
        assert_eq!(region(target(Some("prod"), None)).as_deref(), Some("eu-west-1"), "the account's own");
        assert_eq!(region(target(None, None)), None, "the bot's");
        assert_eq!(region(target(None, Some("ap-south-1"))).as_deref(), Some("ap-south-1"));
        assert_eq!(
            in_region(base(), Some("ap-south-1")).region().map(|r| r.as_ref().to_owned()).as_deref(),
            Some("ap-south-1")
        );
    }
}
