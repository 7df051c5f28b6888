//! [`AwsTags`]: the notifications' [`ReadTags`] port on AWS — an ECS
//! service's, a CloudWatch alarm's or a CodePipeline pipeline's tags
//! (`ListTagsForResource` of each service), by the resource's ARN.
//!
//! # Decisions
//! - The ARN says where to ask: its service picks the API, its region the
//!   endpoint, its account the credentials — the bot's own, or the read
//!   session of that account when it is one of `aws.accounts`
//!   ([`AwsAccounts::reading`]).
//! - A client is made per read: reads are rare (the cache keeps each
//!   resource's tags for ten minutes), and each is counted like every call.
//! - One file per API below (`tags/`), each naming only its SDK crate: the
//!   iam-policy test tells `ListTagsForResource` of one service from
//!   another's by the crate a file names, so this file and `tags/pages.rs`
//!   name none. What the three share (every page, tags into a map, error
//!   mapping) is in `pages.rs`, apart from this file, which imports the three.
//! - Other resources (parameters, documents) are not routed by tags: asking
//!   for theirs is `NotFound`, which the cache treats as "no tags".

use std::sync::Arc;

use async_trait::async_trait;
use aws_config::SdkConfig;
use opsbot_commands::error::{GatewayError, GatewayResult};

use super::accounts::AwsAccounts;
use crate::metrics::aws::AwsCalls;
use crate::notify::tags::{ReadTags, Tags};

mod cloudwatch;
mod codepipeline;
mod ecs;
mod pages;

/// Tags read from ECS, CloudWatch and CodePipeline.
pub struct AwsTags {
    accounts: Arc<AwsAccounts>,
    calls: AwsCalls,
}

impl AwsTags {
    /// Reads with the bot's credentials, or `accounts`' read session for
    /// their resources; `calls` counts every call.
    pub fn new(accounts: Arc<AwsAccounts>, calls: AwsCalls) -> Self {
        AwsTags { accounts, calls }
    }
}

#[async_trait]
impl ReadTags for AwsTags {
    async fn tags(&self, arn: &str) -> GatewayResult<Tags> {
        // arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [_, _, service, region, account, _] = parts[..] else {
            return Err(GatewayError::not_found(format!("resource `{arn}` (not an ARN)")));
        };
        let config = self.accounts.reading(account, region).await?;
        read(&config, &self.calls, service, arn).await
    }
}

/// `arn`'s tags through `service`'s API, with `config`.
async fn read(config: &SdkConfig, calls: &AwsCalls, service: &str, arn: &str) -> GatewayResult<Tags> {
    match service {
        "ecs" => ecs::tags(&ecs::client(config, calls), arn).await,
        "cloudwatch" => cloudwatch::tags(&cloudwatch::client(config, calls), arn).await,
        "codepipeline" => codepipeline::tags(&codepipeline::client(config, calls), arn).await,
        other => Err(GatewayError::not_found(format!(
            "tags of a `{other}` resource (routes read ECS service, alarm and pipeline tags)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_resource_of_another_service_has_no_tags_to_route_by() {
        let config = SdkConfig::builder().behavior_version(aws_config::BehaviorVersion::latest()).build();
        let err = read(&config, &AwsCalls::default(), "ssm", "arn:aws:ssm:eu-west-1:1:parameter/x").await.unwrap_err();
        assert!(matches!(err, GatewayError::NotFound { .. }), "{err:?}");
    }
}
