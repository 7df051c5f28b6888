//! [`gateways`]: the production wiring of every port to its SDK gateway. Apart
//! from the module root so that [`AssumeRole`](super::identity::AssumeRole)
//! can build the same set for an assumed role without importing the root.

use std::sync::Arc;

use aws_config::SdkConfig;
use opsbot_commands::ports::Gateways;

use super::automation::AwsAutomations;
use super::cloudwatch::AwsAlarms;
use super::codepipeline::AwsPipelines;
use super::ecs::AwsServices;
use super::run_command::AwsRunCommands;
use super::ssm::AwsParams;
use super::ssm_changes::AwsParamChanges;

/// Every port the read commands use, each backed by its own SDK client.
pub fn gateways(sdk: &SdkConfig) -> Gateways {
    let ecs = Arc::new(AwsServices::new(aws_sdk_ecs::Client::new(sdk)));
    Gateways {
        pipelines: Arc::new(AwsPipelines::new(aws_sdk_codepipeline::Client::new(sdk))),
        pipeline_changes: Arc::new(AwsPipelines::new(aws_sdk_codepipeline::Client::new(sdk))),
        services: ecs.clone(),
        service_changes: ecs,
        alarms: Arc::new(AwsAlarms::new(aws_sdk_cloudwatch::Client::new(sdk))),
        params: Arc::new(AwsParams::new(aws_sdk_ssm::Client::new(sdk))),
        param_changes: Arc::new(AwsParamChanges::new(aws_sdk_ssm::Client::new(sdk))),
        automations: Arc::new(AwsAutomations::new(aws_sdk_ssm::Client::new(sdk))),
        run_commands: Arc::new(AwsRunCommands::new(aws_sdk_ssm::Client::new(sdk))),
        param_hooks: Default::default(),
    }
}
