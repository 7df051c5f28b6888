//! [`Automations`] with SSM Automation: `StartAutomationExecution` and
//! `GetAutomationExecution`; for preflight, `DescribeAutomationExecutions`
//! (filtered by document and by the statuses of a run not finished) and,
//! since its listing carries no parameters, `GetAutomationExecution` for each
//! one found. moto implements none of these; the mapping is tested with
//! aws-smithy-mocks against the documented shapes.
//!
//! The execution runs as whatever the runbook says (`AutomationAssumeRole`)
//! or as opsbot's role; the requester (`by`) is not sent — tagging the
//! execution would need `ssm:AddTagsToResource` on top, for no effect on
//! what runs. Steps come in the order SSM ran them.

use async_trait::async_trait;
use aws_sdk_ssm::Client;
use aws_sdk_ssm::operation::RequestId;
use aws_sdk_ssm::types::{
    AutomationExecution, AutomationExecutionFilter, AutomationExecutionFilterKey, AutomationExecutionMetadata,
    StepExecution,
};
use opsbot_commands::error::{GatewayError, GatewayResult};
use opsbot_commands::ports::{
    AutomationRun, AutomationStep, Automations, Receipt, RunStatus, RunningAutomation, Started,
};
use opsbot_commands::values::SlackUserId;
use opsbot_commands::values::ssm::{DocParams, DocumentName, ExecutionId};

use super::errors::OrGateway;
use super::time::utc;

pub struct AwsAutomations {
    client: Client,
}

impl AwsAutomations {
    pub fn new(client: Client) -> Self {
        AwsAutomations { client }
    }
}

#[async_trait]
impl Automations for AwsAutomations {
    async fn start(
        &self,
        document: &DocumentName,
        parameters: &DocParams,
        _by: &SlackUserId,
    ) -> GatewayResult<Started> {
        let mut start = self.client.start_automation_execution().document_name(document.as_str());
        for (key, values) in &parameters.0 {
            start = start.parameters(key, values.clone());
        }
        let done = start.send().await.or_gateway(&format!("automation document `{document}`"))?;
        let id = done.automation_execution_id().map(str::to_owned);
        let id = id.ok_or_else(|| GatewayError::other("StartAutomationExecution", "answer without an execution id"))?;
        Ok(Started { id, receipt: Receipt { request_id: done.request_id().map(str::to_owned) } })
    }

    async fn execution(&self, id: &ExecutionId) -> GatewayResult<AutomationRun> {
        let what = format!("automation execution `{id}`");
        let found = self.client.get_automation_execution().automation_execution_id(id.as_str()).send().await;
        let found = found.or_gateway(&what)?;
        found.automation_execution().map(run).ok_or_else(|| GatewayError::not_found(what))
    }

    async fn running(&self, document: &DocumentName) -> GatewayResult<Vec<RunningAutomation>> {
        let what = format!("the executions of `{document}` in progress");
        let filter = |key, values: &[&str]| {
            let values = values.iter().map(|v| (*v).to_owned()).collect();
            AutomationExecutionFilter::builder().key(key).set_values(Some(values)).build()
        };
        let filters = [
            filter(AutomationExecutionFilterKey::DocumentNamePrefix, &[document.as_str()]),
            filter(AutomationExecutionFilterKey::ExecutionStatus, &["Pending", "InProgress", "Waiting"]),
        ];
        let filters = filters.into_iter().collect::<Result<Vec<_>, _>>();
        let filters = filters.map_err(|e| GatewayError::other("DescribeAutomationExecutions", e))?;
        let pages = self.client.describe_automation_executions().set_filters(Some(filters)).into_paginator();
        let listed: Vec<AutomationExecutionMetadata> = pages.items().send().try_collect().await.or_gateway(&what)?;
        let mut running = Vec::new();
        // The filter is a prefix: `Shop-Flush` also lists `Shop-FlushCache`.
        for id in listed.iter().filter(|e| e.document_name() == Some(document.as_str())) {
            let id = id.automation_execution_id().unwrap_or_default();
            let found = self.client.get_automation_execution().automation_execution_id(id).send().await;
            let Some(execution) = found.or_gateway(&what)?.automation_execution else { continue };
            let mut parameters: Vec<(String, Vec<String>)> =
                execution.parameters.unwrap_or_default().into_iter().collect();
            parameters.sort();
            running.push(RunningAutomation { id: id.to_owned(), parameters: DocParams(parameters) });
        }
        Ok(running)
    }
}

fn status(raw: Option<&str>) -> RunStatus {
    raw.map_or(RunStatus::Pending, RunStatus::from_aws)
}

fn run(e: &AutomationExecution) -> AutomationRun {
    AutomationRun {
        id: e.automation_execution_id().unwrap_or_default().to_owned(),
        document: e.document_name().unwrap_or_default().to_owned(),
        status: status(e.automation_execution_status().map(|s| s.as_str())),
        steps: e.step_executions().iter().map(step).collect(),
        started: utc(e.execution_start_time()),
        ended: utc(e.execution_end_time()),
        failure: e.failure_message().map(str::to_owned),
        executed_by: e.executed_by().map(str::to_owned),
    }
}

fn step(s: &StepExecution) -> AutomationStep {
    AutomationStep {
        name: s.step_name().unwrap_or_default().to_owned(),
        action: s.action().map(str::to_owned),
        status: status(s.step_status().map(|s| s.as_str())),
        failure: s.failure_message().map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use aws_smithy_mocks::mock;

    use super::*;
    use crate::aws::mocked_client;

    const ID: &str = "4105a4fc-f944-11e6-9d32-8fb2db27a909";

    /// GetAutomationExecution as documented: one step done, one failed.
    const FAILED: &str = r#"{"AutomationExecution": {
      "AutomationExecutionId": "4105a4fc-f944-11e6-9d32-8fb2db27a909",
      "DocumentName": "AWS-RestartEC2Instance", "DocumentVersion": "1",
      "AutomationExecutionStatus": "Failed",
      "ExecutionStartTime": 1763812800.0, "ExecutionEndTime": 1763812860.5,
      "ExecutedBy": "arn:aws:sts::123456789012:assumed-role/opsbot/i-0abc",
      "FailureMessage": "Step fails when it is executing/cancelling aws:changeInstanceState.",
      "Parameters": {"InstanceId": ["i-0abc123def4567890"]},
      "StepExecutions": [
        {"StepName": "stopInstances", "Action": "aws:changeInstanceState", "StepStatus": "Success",
         "ExecutionStartTime": 1763812800.0, "ExecutionEndTime": 1763812830.0, "StepExecutionId": "s-1"},
        {"StepName": "startInstances", "Action": "aws:changeInstanceState", "StepStatus": "Failed",
         "FailureMessage": "Instance i-0abc123def4567890 is terminated", "StepExecutionId": "s-2"}]}}"#;

    #[tokio::test]
    async fn start_sends_the_document_and_parameters_and_returns_the_execution_id() {
        let start = mock!(Client::start_automation_execution)
            .match_requests(|req| {
                req.document_name() == Some("AWS-RestartEC2Instance")
                    && req.parameters().and_then(|p| p.get("InstanceId")) == Some(&vec!["i-0abc123def4567890".into()])
            })
            .sequence()
            .http_status(200, Some(format!(r#"{{"AutomationExecutionId": "{ID}"}}"#)))
            .build();
        let client: Client = mocked_client!(aws_sdk_ssm, [&start]);
        let params = DocParams::parse(&["InstanceId=i-0abc123def4567890".to_string()]).unwrap();
        let user = SlackUserId::parse("U0DEV").unwrap();

        let doc = DocumentName::parse("AWS-RestartEC2Instance").unwrap();
        let started = AwsAutomations::new(client).start(&doc, &params, &user).await.unwrap();

        assert_eq!(started.id, ID);
    }

    #[tokio::test]
    async fn an_execution_maps_its_status_steps_times_and_failure() {
        // Only the execution of exactly this document is read, for its parameters.
        let get = mock!(Client::get_automation_execution)
            .match_requests(|req| req.automation_execution_id() == Some(ID))
            .sequence()
            .http_status(200, Some(FAILED.into()))
            .build();
        let client: Client = mocked_client!(aws_sdk_ssm, [&get]);

        let run = AwsAutomations::new(client).execution(&ExecutionId::parse(ID).unwrap()).await.unwrap();

        assert_eq!((run.document.as_str(), &run.status), ("AWS-RestartEC2Instance", &RunStatus::Failed));
        assert_eq!(run.steps.len(), 2);
        assert_eq!(
            run.steps[1],
            AutomationStep {
                name: "startInstances".into(),
                action: Some("aws:changeInstanceState".into()),
                status: RunStatus::Failed,
                failure: Some("Instance i-0abc123def4567890 is terminated".into()),
            }
        );
        assert_eq!(run.ended.unwrap().to_rfc3339(), "2025-11-22T12:01:00.500+00:00");
        assert!(run.failure.unwrap().contains("aws:changeInstanceState"));
    }

    #[tokio::test]
    async fn executions_in_progress_of_exactly_that_document_come_with_their_parameters() {
        let listed = mock!(Client::describe_automation_executions)
            .match_requests(|req| {
                let filters: Vec<(&str, Vec<String>)> =
                    req.filters().iter().map(|f| (f.key().as_str(), f.values().to_vec())).collect();
                filters
                    == [
                        ("DocumentNamePrefix", vec!["AWS-RestartEC2Instance".into()]),
                        ("ExecutionStatus", vec!["Pending".into(), "InProgress".into(), "Waiting".into()]),
                    ]
            })
            .sequence()
            .http_status(
                200,
                Some(format!(
                    r#"{{"AutomationExecutionMetadataList": [
                      {{"AutomationExecutionId": "{ID}", "DocumentName": "AWS-RestartEC2Instance",
                        "AutomationExecutionStatus": "InProgress"}},
                      {{"AutomationExecutionId": "5105a4fc-f944-11e6-9d32-8fb2db27a909",
                        "DocumentName": "AWS-RestartEC2InstanceWithApproval", "AutomationExecutionStatus": "Waiting"}}]}}"#
                )),
            )
            .build();
        // Only the execution of exactly this document is read, for its parameters.
        let get = mock!(Client::get_automation_execution)
            .match_requests(|req| req.automation_execution_id() == Some(ID))
            .sequence()
            .http_status(200, Some(FAILED.into()))
            .build();
        let client: Client = mocked_client!(aws_sdk_ssm, [&listed, &get]);

        let doc = DocumentName::parse("AWS-RestartEC2Instance").unwrap();
        let running = AwsAutomations::new(client).running(&doc).await.unwrap();

        assert_eq!(
            running,
            [RunningAutomation {
                id: ID.into(),
                parameters: DocParams::parse(&["InstanceId=i-0abc123def4567890".to_string()]).unwrap()
            }]
        );
    }

    #[tokio::test]
    async fn an_unknown_execution_or_document_is_not_found() {
        let missing = mock!(Client::get_automation_execution)
            .sequence()
            .http_status(400, Some(r#"{"__type": "AutomationExecutionNotFoundException", "Message": "x"}"#.into()))
            .build();
        let no_doc = mock!(Client::start_automation_execution)
            .sequence()
            .http_status(400, Some(r#"{"__type": "AutomationDefinitionNotFoundException", "Message": "x"}"#.into()))
            .build();
        let client: Client = mocked_client!(aws_sdk_ssm, [&missing, &no_doc]);
        let automations = AwsAutomations::new(client);

        let err = automations.execution(&ExecutionId::parse(ID).unwrap()).await.unwrap_err();
        let doc = DocumentName::parse("Nope-Doc").unwrap();
        let user = SlackUserId::parse("U0DEV").unwrap();
        let no_doc = automations.start(&doc, &DocParams::default(), &user).await.unwrap_err();

        assert_eq!(err.to_string(), format!("automation execution `{ID}` was not found"));
        assert_eq!(no_doc.to_string(), "automation document `Nope-Doc` was not found");
    }
}
