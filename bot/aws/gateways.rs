//! [`gateways`]: the production wiring of every port to its SDK gateway. Apart
//! from the module root so that [`AssumeRole`](super::identity::AssumeRole)
//! can build the same set for an assumed role without importing the root.
//! Every SDK client the bot makes is made by [`client!`], which adds the
//! interceptor counting its calls for `/metrics`.

use std::sync::Arc;

use aws_config::SdkConfig;
use opsbot_commands::ports::{Gateways, StoppedTasks};

use super::automation::AwsAutomations;
use super::cloudwatch::AwsAlarms;
use super::codebuild::AwsBuildLogs;
use super::codepipeline::AwsPipelines;
use super::ecs::AwsServices;
use super::ecs_stopped::AwsStoppedTasks;
use super::run_command::AwsRunCommands;
use super::ssm::AwsParams;
use super::ssm_changes::AwsParamChanges;
use super::ssm_documents::AwsDocuments;
use crate::metrics::aws::AwsCalls;
use crate::notify::build_log::BuildLogs;
use crate::notify::why_reads::WhyReads;

/// The SDK crate `$sdk`'s client for `$config`, its calls counted by `$calls` (an [`AwsCalls`]).
macro_rules! client {
    ($sdk:ident, $config:expr, $calls:expr) => {
        $sdk::Client::from_conf($sdk::config::Builder::from($config).interceptor($calls.clone()).build())
    };
}
pub(crate) use client;

/// Every port the commands use, each backed by its own SDK client (the
/// ECS ones share one), every call counted by `calls`.
pub fn gateways(sdk: &SdkConfig, calls: &AwsCalls) -> Gateways {
    let ecs_client = client!(aws_sdk_ecs, sdk, calls);
    let ecs = Arc::new(AwsServices::new(ecs_client.clone()));
    Gateways {
        pipelines: Arc::new(AwsPipelines::new(client!(aws_sdk_codepipeline, sdk, calls))),
        pipeline_changes: Arc::new(AwsPipelines::new(client!(aws_sdk_codepipeline, sdk, calls))),
        services: ecs.clone(),
        service_changes: ecs,
        stopped_tasks: Arc::new(AwsStoppedTasks::new(ecs_client)),
        alarms: Arc::new(AwsAlarms::new(client!(aws_sdk_cloudwatch, sdk, calls))),
        params: Arc::new(AwsParams::new(client!(aws_sdk_ssm, sdk, calls))),
        param_changes: Arc::new(AwsParamChanges::new(client!(aws_sdk_ssm, sdk, calls))),
        automations: Arc::new(AwsAutomations::new(client!(aws_sdk_ssm, sdk, calls))),
        run_commands: Arc::new(AwsRunCommands::new(client!(aws_sdk_ssm, sdk, calls))),
        documents: Arc::new(AwsDocuments::new(client!(aws_sdk_ssm, sdk, calls))),
        param_hooks: Default::default(),
        declared: std::sync::Arc::new(opsbot_commands::ports::NoDeclared),
    }
}

/// Where the notifier reads failed builds, its calls counted by `calls`.
pub fn build_logs(sdk: &SdkConfig, calls: &AwsCalls) -> Arc<dyn BuildLogs> {
    Arc::new(AwsBuildLogs::new(client!(aws_sdk_codebuild, sdk, calls), client!(aws_sdk_cloudwatchlogs, sdk, calls)))
}

/// Where the notifier reads a failed deployment's stopped tasks, its calls counted by `calls`.
pub fn stopped_tasks(sdk: &SdkConfig, calls: &AwsCalls) -> Arc<dyn StoppedTasks> {
    Arc::new(AwsStoppedTasks::new(client!(aws_sdk_ecs, sdk, calls)))
}

/// Where the notifier reads why something failed in another account, its
/// calls counted by `calls`.
pub fn why_reads(sdk: &SdkConfig, calls: &AwsCalls) -> WhyReads {
    WhyReads {
        builds: build_logs(sdk, calls),
        tasks: stopped_tasks(sdk, calls),
        automations: Arc::new(AwsAutomations::new(client!(aws_sdk_ssm, sdk, calls))),
    }
}
