//! Gateways implementing the commands' ports (`opsbot_commands::ports`) with the
//! AWS SDK for Rust: [`AwsPipelines`] (CodePipeline), [`AwsServices`] (ECS),
//! [`AwsAlarms`] (CloudWatch) and [`AwsParams`] (SSM Parameter Store).
//!
//! # Layout
//! - this file: [`load_sdk_config`] and the SDK-wide settings ([`loader`],
//!   [`retry_config`]);
//! - `gateways.rs`: [`gateways()`], every port wired to its SDK gateway;
//! - `time.rs`: the one time conversion (`utc`), shared by the gateways;
//! - `http.rs`: the SDK's HTTP client, on [`crate::https`];
//! - `errors.rs`: the single mapping from an SDK error to a `GatewayError`;
//! - `codepipeline.rs`, `ecs.rs`, `cloudwatch.rs`, `ssm.rs`: one gateway each,
//!   with their aws-smithy-mocks tests (the only tests that build SDK types).
//! - `ssm_changes.rs` (parameter writes), `automation.rs` (SSM Automation),
//!   `run_command.rs` (SSM Run Command), `ssm_documents.rs` (the documents
//!   they run, for preflight): the change ports of SSM, likewise.
//! - `codebuild.rs`: [`AwsBuildLogs`], a failed build's record and log lines
//!   (CodeBuild and CloudWatch Logs) for the notifier; `ecs_stopped.rs`:
//!   [`AwsStoppedTasks`], why a failed ECS deployment's tasks stopped (for
//!   the notifier and for the rollouts `deploy`, `restart` and `rollback` follow).
//! - `identity.rs`: [`AssumeRole`], changes run as a role assumed for their
//!   requester (`aws.assume_role`).
//! - `accounts.rs`: [`AwsAccounts`], gateways in the accounts of
//!   `aws.accounts` and in other regions, through their roles.
//! - `tags.rs`: [`AwsTags`], resources' tags for routing notifications.
//! - `s3.rs`: [`AwsObjects`], a declared-parameters file in S3 (`GetObject`).
//!
//! # Decisions
//! - The SDK crates are built without default features, so the loader is given
//!   an explicit HTTPS client (`http.rs`: hyper on the process's one rustls
//!   setup, see there why not the SDK's own); without it the first request
//!   panics ("a http_client is required").
//! - No endpoint is ever set in code: `AWS_ENDPOINT_URL` and
//!   `AWS_ENDPOINT_URL_<SERVICE>` (or a profile's `endpoint_url` / `services`
//!   section) keep working, which is how the emulator tests route CloudWatch to
//!   ministack and everything else to moto.
//! - Retries: standard mode, at most 3 attempts. The SDK retries throttling and
//!   transient errors itself; what still fails after that reaches the user as
//!   `Throttled` / `Unavailable`, never retried a second time by us.
//! - Lists follow every page (SDK paginators), as the ports promise.

mod accounts;
mod automation;
mod cloudwatch;
mod codebuild;
mod codepipeline;
mod ecs;
mod ecs_stopped;
mod errors;
mod gateways;
mod http;
mod identity;
mod run_command;
mod s3;
mod ssm;
mod ssm_changes;
mod ssm_documents;
mod tags;
mod time;

use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_smithy_types::retry::RetryConfig;

pub use accounts::AwsAccounts;
pub use automation::AwsAutomations;
pub use cloudwatch::AwsAlarms;
pub use codebuild::AwsBuildLogs;
pub use codepipeline::AwsPipelines;
pub use ecs::AwsServices;
pub use ecs_stopped::AwsStoppedTasks;
pub(crate) use gateways::client;
pub use gateways::{build_logs, gateways, stopped_tasks};
pub use identity::{AssumeRole, REFRESH_BEFORE};
pub use run_command::AwsRunCommands;
pub use s3::AwsObjects;
pub use ssm::AwsParams;
pub use ssm_changes::AwsParamChanges;
pub use tags::AwsTags;

/// The SDK configuration from the default chain (env, profile, web identity,
/// ECS/IMDS credentials), with our HTTPS client and retry policy.
pub async fn load_sdk_config() -> SdkConfig {
    loader().load().await
}

/// The loader [`load_sdk_config`] uses, before `.load()`: tests add their own
/// region, credentials and profile on top, so they exercise the same settings.
pub fn loader() -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest()).http_client(http::client()).retry_config(retry_config())
}

/// Standard retry mode, at most 3 attempts in all (throttling included).
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(3)
}

/// Builds an SDK client whose requests are answered by aws-smithy-mocks rules,
/// with our retry policy (backoff shortened to milliseconds). Written out
/// instead of `mock_client!`, which needs the SDK crates' `test-util` feature
/// and so a second build of every SDK crate for tests.
#[cfg(test)]
macro_rules! mocked_client {
    ($sdk:ident, [$($rule:expr),* $(,)?]) => {{
        let interceptor = aws_smithy_mocks::MockResponseInterceptor::new()
            .rule_mode(aws_smithy_mocks::RuleMode::MatchAny)
            $(.with_rule($rule))*;
        let retry = crate::aws::retry_config().with_initial_backoff(std::time::Duration::from_millis(1));
        $sdk::Client::from_conf(
            $sdk::Config::builder()
                .behavior_version($sdk::config::BehaviorVersion::latest())
                .region($sdk::config::Region::new("us-east-1"))
                .credentials_provider($sdk::config::Credentials::new("AKIDTEST", "secret", None, None, "mock"))
                .http_client(aws_smithy_mocks::create_mock_http_client())
                .interceptor(interceptor)
                .retry_config(retry)
                .build(),
        )
    }};
}
#[cfg(test)]
pub(crate) use mocked_client;
