//! [`RunCommands`] with SSM Run Command: `SendCommand` (tag targets or
//! instance ids), `ListCommands` for the command's status and counts, and
//! `ListCommandInvocations` (paginated) for each instance — with `Details`
//! only when the output is wanted, since it carries every step's output.
//! For preflight, `DescribeInstanceInformation` resolves targets with its own
//! filters (`InstanceIds`, `tag:KEY`), so no EC2 client or permission is
//! needed, and `ListCommands` filtered by document and status finds the
//! commands still running.
//!
//! The comment SSM keeps with the command (visible in the console and in
//! CloudTrail) names the Slack user it was run for. An unknown command id
//! (`InvalidCommandId`) is `NotFound`. moto implements `SendCommand` and
//! `ListCommands` but not `ListCommandInvocations`; the mapping is tested
//! with aws-smithy-mocks against the documented shapes.

use async_trait::async_trait;
use aws_sdk_ssm::Client;
use aws_sdk_ssm::operation::RequestId;
use aws_sdk_ssm::types::{
    Command, CommandFilter, CommandFilterKey, CommandInvocation, InstanceInformationStringFilter, Target,
};
use opsbot_commands::error::{GatewayError, GatewayResult};
use opsbot_commands::ports::{
    CommandRun, Invocation, ManagedInstance, Receipt, RunCommands, RunStatus, RunningCommand, Started,
};
use opsbot_commands::values::SlackUserId;
use opsbot_commands::values::ssm::{DocParams, DocumentName, Targets};

use super::errors::{code_of, gateway_error};

pub struct AwsRunCommands {
    client: Client,
}

impl AwsRunCommands {
    pub fn new(client: Client) -> Self {
        AwsRunCommands { client }
    }
}

/// `InvalidCommandId` is how SSM says "no such command".
fn or_missing<T, E, R>(result: Result<T, aws_sdk_ssm::error::SdkError<E, R>>, what: &str) -> GatewayResult<T>
where
    E: aws_sdk_ssm::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    result.map_err(|err| match code_of(&err) {
        Some("InvalidCommandId" | "InvalidDocument") => GatewayError::not_found(what),
        _ => gateway_error(err, what),
    })
}

#[async_trait]
impl RunCommands for AwsRunCommands {
    async fn send(
        &self,
        document: &DocumentName,
        targets: &Targets,
        parameters: &DocParams,
        by: &SlackUserId,
    ) -> GatewayResult<Started> {
        let mut send = self.client.send_command().document_name(document.as_str()).comment(format!("opsbot, for {by}"));
        send = match targets {
            Targets::Tag { key, values } => {
                send.targets(Target::builder().key(format!("tag:{key}")).set_values(Some(values.clone())).build())
            }
            Targets::Instances(ids) => send.set_instance_ids(Some(ids.clone())),
        };
        for (key, values) in &parameters.0 {
            send = send.parameters(key, values.clone());
        }
        let done = or_missing(send.send().await, &format!("document `{document}`"))?;
        let id = done.command().and_then(|c| c.command_id()).map(str::to_owned);
        let id = id.ok_or_else(|| GatewayError::other("SendCommand", "answer without a command id"))?;
        Ok(Started { id, receipt: Receipt { request_id: done.request_id().map(str::to_owned) } })
    }

    async fn status(&self, id: &str, with_output: bool) -> GatewayResult<CommandRun> {
        let what = format!("command `{id}`");
        let listed = or_missing(self.client.list_commands().command_id(id).send().await, &what)?;
        let command = listed.commands().first().ok_or_else(|| GatewayError::not_found(what.clone()))?;
        let pages = self.client.list_command_invocations().command_id(id).details(with_output).into_paginator();
        let invocations: Vec<CommandInvocation> = or_missing(pages.items().send().try_collect().await, &what)?;
        let mut invocations: Vec<Invocation> = invocations.iter().map(|i| invocation(i, with_output)).collect();
        invocations.sort_by(|a, b| a.instance.cmp(&b.instance));
        Ok(CommandRun {
            id: id.to_owned(),
            document: command.document_name().unwrap_or_default().to_owned(),
            status: command.status().map_or(RunStatus::Pending, |s| RunStatus::from_aws(s.as_str())),
            targets: command.target_count(),
            completed: command.completed_count(),
            errors: command.error_count() + command.delivery_timed_out_count(),
            invocations,
        })
    }

    async fn instances(&self, targets: &Targets) -> GatewayResult<Vec<ManagedInstance>> {
        let (key, values) = match targets {
            Targets::Tag { key, values } => (format!("tag:{key}"), values.clone()),
            Targets::Instances(ids) => ("InstanceIds".to_owned(), ids.clone()),
        };
        let filter = InstanceInformationStringFilter::builder().key(key).set_values(Some(values)).build();
        let filter = filter.map_err(|e| GatewayError::other("DescribeInstanceInformation", e))?;
        let pages = self.client.describe_instance_information().filters(filter).into_paginator();
        let found = pages.items().send().try_collect().await;
        let found = found.map_err(|err| gateway_error(err, &format!("the instances of {targets}")))?;
        let mut instances: Vec<ManagedInstance> = found
            .iter()
            .map(|i| ManagedInstance {
                id: i.instance_id().unwrap_or_default().to_owned(),
                ping: i.ping_status().map_or("Unknown", |p| p.as_str()).to_owned(),
            })
            .collect();
        instances.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(instances)
    }

    async fn running(&self, document: &DocumentName) -> GatewayResult<Vec<RunningCommand>> {
        let mut running = Vec::new();
        // One call per status: SSM takes one value per filter key.
        for status in ["Pending", "InProgress"] {
            let by = |key, value: &str| CommandFilter::builder().key(key).value(value).build();
            let filters = [by(CommandFilterKey::DocumentName, document.as_str()), by(CommandFilterKey::Status, status)];
            let filters = filters.into_iter().collect::<Result<Vec<_>, _>>();
            let filters = filters.map_err(|e| GatewayError::other("ListCommands", e))?;
            let pages = self.client.list_commands().set_filters(Some(filters)).into_paginator().items().send();
            let found: Vec<Command> = pages
                .try_collect()
                .await
                .map_err(|err| gateway_error(err, &format!("the commands of `{document}` in progress")))?;
            running.extend(found.iter().map(running_command));
        }
        Ok(running)
    }
}

/// Where a listed command was sent: ids, or a `tag:KEY` target (other
/// targets, such as resource groups, are not ones opsbot sends).
fn running_command(c: &Command) -> RunningCommand {
    let mut instances = c.instance_ids().to_vec();
    let mut tag = None;
    for target in c.targets() {
        match target.key().unwrap_or_default() {
            "InstanceIds" => instances.extend(target.values().iter().cloned()),
            key => {
                if let Some(key) = key.strip_prefix("tag:") {
                    tag = Some(Targets::Tag { key: key.to_owned(), values: target.values().to_vec() });
                }
            }
        }
    }
    RunningCommand { id: c.command_id().unwrap_or_default().to_owned(), instances, tag }
}

fn invocation(i: &CommandInvocation, with_output: bool) -> Invocation {
    let plugins = i.command_plugins();
    let output = with_output.then(|| match plugins {
        [one] => one.output().unwrap_or_default().to_owned(),
        many => many
            .iter()
            .map(|p| format!("[{}]\n{}", p.name().unwrap_or("step"), p.output().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join("\n"),
    });
    Invocation {
        instance: i.instance_id().unwrap_or_default().to_owned(),
        instance_name: i.instance_name().filter(|n| !n.is_empty()).map(str::to_owned),
        status: i.status().map_or(RunStatus::Pending, |s| RunStatus::from_aws(s.as_str())),
        detail: i.status_details().map(str::to_owned),
        output,
    }
}

#[cfg(test)]
#[path = "run_command_tests.rs"]
mod tests;
