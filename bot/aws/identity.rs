//! [`Identity`] with STS `AssumeRole`: a change runs under `aws.assume_role`,
//! assumed with `SourceIdentity` = the requester's Slack user id, so CloudTrail
//! names the human on every call the change makes (and on every role chained
//! from that session: AWS keeps the source identity and never lets it change).
//!
//! The same role may also be assumed for the bot itself (an account of
//! `aws.accounts` is read that way, see `accounts.rs`): session `opsbot`, no
//! source identity.
//!
//! # Decisions
//! - Session name `opsbot-<user id>`, source identity `<user id>`: Slack user
//!   ids are upper-case letters and digits, inside both fields' character set.
//! - The temporary credentials go into a copy of the bot's `SdkConfig` (same
//!   region, HTTP client, retries, endpoints) as a static provider carrying
//!   their expiry; the gateways are the production ones ([`gateways`]).
//! - One session per user, reused until [`REFRESH_BEFORE`] its expiry, so a
//!   change that is followed for minutes never outlives its credentials.
//! - Nothing is retried here beyond the SDK's own retries: a denied
//!   `AssumeRole` is `GatewayError::AccessDenied`, and the change does not run.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_sts::config::{Credentials, SharedCredentialsProvider};
use opsbot_commands::change::identity::Identity;
use opsbot_commands::error::{GatewayError, GatewayResult};
use opsbot_commands::ports::Gateways;
use opsbot_commands::values::SlackUserId;

use super::errors::OrGateway;
use super::gateways::{client, gateways};
use crate::metrics::aws::AwsCalls;

/// How long before its expiry a session is replaced by a new one.
pub const REFRESH_BEFORE: Duration = Duration::from_secs(5 * 60);

/// Changes run as `role_arn`, assumed for each requester.
pub struct AssumeRole {
    role_arn: String,
    duration: Duration,
    base: SdkConfig,
    sts: aws_sdk_sts::Client,
    /// Counts the calls of the gateways made for each requester.
    calls: AwsCalls,
    /// Per Slack user (`None`: the bot itself): the config acting as them and
    /// when its credentials expire.
    cache: Mutex<HashMap<Option<SlackUserId>, (SdkConfig, SystemTime)>>,
}

impl AssumeRole {
    /// Assumes `role_arn` for `duration` with the credentials of `base`, the
    /// bot's own configuration; `calls` counts every AWS call made.
    pub fn new(base: &SdkConfig, role_arn: impl Into<String>, duration: Duration, calls: AwsCalls) -> Self {
        Self::with_sts(base, client!(aws_sdk_sts, base, calls), role_arn, duration, calls)
    }

    /// [`AssumeRole::new`] with the STS client given (tests).
    pub fn with_sts(
        base: &SdkConfig,
        sts: aws_sdk_sts::Client,
        role_arn: impl Into<String>,
        duration: Duration,
        calls: AwsCalls,
    ) -> Self {
        let role_arn = role_arn.into();
        AssumeRole { role_arn, duration, base: base.clone(), sts, calls, cache: Mutex::new(HashMap::new()) }
    }

    /// The bot's configuration with credentials acting as `user`, from the
    /// cache while they have more than [`REFRESH_BEFORE`] left.
    pub async fn config_for(&self, user: &SlackUserId) -> GatewayResult<SdkConfig> {
        Ok(self.session(Some(user)).await?.0)
    }

    /// The configuration acting as `user` (`None`: as the bot, session
    /// `opsbot`, no source identity) and when its credentials expire; from
    /// the cache while they have more than [`REFRESH_BEFORE`] left.
    pub async fn session(&self, user: Option<&SlackUserId>) -> GatewayResult<(SdkConfig, SystemTime)> {
        let now = SystemTime::now();
        if let Some((config, expires)) = self.cache.lock().unwrap().get(&user.cloned())
            && *expires > now + REFRESH_BEFORE
        {
            return Ok((config.clone(), *expires));
        }
        let (config, expires) = self.assume(user).await?;
        self.cache.lock().unwrap().insert(user.cloned(), (config.clone(), expires));
        Ok((config, expires))
    }

    async fn assume(&self, user: Option<&SlackUserId>) -> GatewayResult<(SdkConfig, SystemTime)> {
        let request = self
            .sts
            .assume_role()
            .role_arn(&self.role_arn)
            .duration_seconds(self.duration.as_secs().try_into().unwrap_or(i32::MAX));
        let request = match user {
            Some(user) => request.role_session_name(format!("opsbot-{user}")).source_identity(user.as_str()),
            None => request.role_session_name("opsbot"),
        };
        let answer = request.send().await.or_gateway(&format!("role `{}`", self.role_arn))?;
        let Some(session) = answer.credentials else {
            let message = format!("STS returned no credentials for role `{}`", self.role_arn);
            return Err(GatewayError::other(message.clone(), message));
        };
        let expires = SystemTime::try_from(*session.expiration()).unwrap_or_else(|_| SystemTime::now());
        let credentials = Credentials::new(
            session.access_key_id(),
            session.secret_access_key(),
            Some(session.session_token().to_owned()),
            Some(expires),
            "opsbot-assume-role",
        );
        let config = self.base.to_builder().credentials_provider(SharedCredentialsProvider::new(credentials)).build();
        Ok((config, expires))
    }
}

#[async_trait]
impl Identity for AssumeRole {
    async fn gateways_for(&self, user: &SlackUserId) -> GatewayResult<Gateways> {
        Ok(gateways(&self.config_for(user).await?, &self.calls))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use aws_sdk_sts::Client;
    use aws_sdk_sts::config::ProvideCredentials;
    use aws_sdk_sts::operation::assume_role::{AssumeRoleError, AssumeRoleOutput};
    use aws_smithy_mocks::mock;
    use aws_smithy_types::error::ErrorMetadata;

    use super::*;
    use crate::aws::mocked_client;

    const ROLE: &str = "arn:aws:iam::123456789012:role/opsbot-changes";

    fn dev() -> SlackUserId {
        SlackUserId::parse("U0DEV").unwrap()
    }

    /// What STS answers: a session that expires in `expires_in` (also
    /// `accounts.rs`'s roles' sessions).
    pub(crate) fn session(expires_in: Duration) -> AssumeRoleOutput {
        let expires = aws_smithy_types::DateTime::from(SystemTime::now() + expires_in);
        let credentials = aws_sdk_sts::types::Credentials::builder()
            .access_key_id("ASIADEV")
            .secret_access_key("secret")
            .session_token("token")
            .expiration(expires)
            .build()
            .unwrap();
        AssumeRoleOutput::builder().credentials(credentials).build()
    }

    /// The bot's own configuration, without credentials (STS is mocked).
    pub(crate) fn base() -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build()
    }

    async fn access_key(config: &SdkConfig) -> String {
        let credentials = config.credentials_provider().unwrap().provide_credentials().await.unwrap();
        credentials.access_key_id().to_owned()
    }

    #[tokio::test]
    async fn the_role_is_assumed_with_the_requester_as_source_identity_and_session_name() {
        let assume = mock!(Client::assume_role)
            .match_requests(|req| {
                req.role_arn() == Some(ROLE)
                    && req.source_identity() == Some("U0DEV")
                    && req.role_session_name() == Some("opsbot-U0DEV")
                    && req.duration_seconds() == Some(900)
            })
            .then_output(|| session(Duration::from_secs(900)));
        let sts: Client = mocked_client!(aws_sdk_sts, [&assume]);
        let identity = AssumeRole::with_sts(&base(), sts, ROLE, Duration::from_secs(900), AwsCalls::default());

        let config = identity.config_for(&dev()).await.unwrap();

        assert_eq!(access_key(&config).await, "ASIADEV");
        assert_eq!(config.region().map(|r| r.as_ref()), Some("us-east-1"), "the rest of the bot's config stays");
        assert_eq!(assume.num_calls(), 1);
    }

    #[tokio::test]
    async fn a_session_is_reused_until_five_minutes_before_it_expires() {
        let long = mock!(Client::assume_role)
            .match_requests(|req| req.source_identity() == Some("U0DEV"))
            .then_output(|| session(Duration::from_secs(3600)));
        let short = mock!(Client::assume_role)
            .match_requests(|req| req.source_identity() == Some("U0OPS"))
            .then_output(|| session(Duration::from_secs(240)));
        let sts: Client = mocked_client!(aws_sdk_sts, [&long, &short]);
        let identity = AssumeRole::with_sts(&base(), sts, ROLE, Duration::from_secs(3600), AwsCalls::default());
        let ops = SlackUserId::parse("U0OPS").unwrap();

        for _ in 0..3 {
            identity.gateways_for(&dev()).await.unwrap();
            identity.config_for(&ops).await.unwrap();
        }

        assert_eq!(long.num_calls(), 1, "an hour-long session is cached");
        assert_eq!(short.num_calls(), 3, "one within five minutes of expiry is not");
    }

    #[tokio::test]
    async fn the_bots_own_session_has_no_source_identity_and_is_cached_apart_from_the_users() {
        let bot = mock!(Client::assume_role)
            .match_requests(|req| req.source_identity().is_none() && req.role_session_name() == Some("opsbot"))
            .then_output(|| session(Duration::from_secs(3600)));
        let user = mock!(Client::assume_role)
            .match_requests(|req| req.source_identity() == Some("U0DEV"))
            .then_output(|| session(Duration::from_secs(3600)));
        let sts: Client = mocked_client!(aws_sdk_sts, [&bot, &user]);
        let identity = AssumeRole::with_sts(&base(), sts, ROLE, Duration::from_secs(3600), AwsCalls::default());

        for _ in 0..2 {
            identity.session(None).await.unwrap();
            identity.config_for(&dev()).await.unwrap();
        }

        assert_eq!((bot.num_calls(), user.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn a_denied_assume_role_is_access_denied() {
        let denied = mock!(Client::assume_role).then_error(|| {
            AssumeRoleError::generic(
                ErrorMetadata::builder()
                    .code("AccessDenied")
                    .message("User: arn:aws:sts::123456789012:assumed-role/opsbot/x is not authorized to perform: sts:SetSourceIdentity")
                    .build(),
            )
        });
        let sts: Client = mocked_client!(aws_sdk_sts, [&denied]);
        let identity = AssumeRole::with_sts(&base(), sts, ROLE, Duration::from_secs(900), AwsCalls::default());

        let err = identity.gateways_for(&dev()).await.err().unwrap();

        assert!(
            matches!(&err, GatewayError::AccessDenied { message } if message.contains("sts:SetSourceIdentity")),
            "{err:?}"
        );
    }
}
