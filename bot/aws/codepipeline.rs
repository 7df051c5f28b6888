//! [`Pipelines`] with CodePipeline.
//!
//! - `list`: every pipeline (paginated), each with its latest execution from
//!   `ListPipelineExecutions` (max 1), fetched at most 8 at a time so a big
//!   account neither waits for N round trips in a row nor trips the API limits.
//! - `state`: the declared structure (`GetPipeline`: stage and action order,
//!   action categories, which `GetPipelineState` does not carry) joined with
//!   `GetPipelineState` (statuses, summaries, errors, links) and the latest
//!   execution (`ListPipelineExecutions` for its times, `GetPipelineExecution`
//!   for its artifact revisions and trigger).
//!
//! - `execution`: `GetPipelineExecution` (status and trigger; it has no times).
//! - the changes (start, retry, stop, approvals) are in `codepipeline_changes.rs`.
//!
//! Actions that never ran have no status. A revision summary that is a JSON
//! document (CodeStar connections send `{"ProviderType":..,"CommitMessage":..}`)
//! is reduced to its commit message.

use async_trait::async_trait;
use aws_sdk_codepipeline::Client;
use aws_sdk_codepipeline::operation::get_pipeline_state::GetPipelineStateOutput;
use aws_sdk_codepipeline::types as sdk;
use futures_util::{StreamExt, TryStreamExt, stream};
use opsbot_commands::error::{GatewayError, GatewayResult};
use opsbot_commands::ports::*;
use opsbot_commands::values::PipelineName;

use super::errors::OrGateway;
use super::time::utc;

/// How many `ListPipelineExecutions` calls `list` runs at once.
const CONCURRENCY: usize = 8;

pub struct AwsPipelines {
    client: Client,
}

impl AwsPipelines {
    pub fn new(client: Client) -> Self {
        AwsPipelines { client }
    }

    pub(super) fn client(&self) -> &Client {
        &self.client
    }

    async fn names(&self) -> GatewayResult<Vec<String>> {
        let pipelines: Vec<sdk::PipelineSummary> =
            self.client.list_pipelines().into_paginator().items().send().try_collect().await.or_gateway("pipelines")?;
        Ok(pipelines.into_iter().filter_map(|p| p.name).collect())
    }

    async fn latest_summary(&self, name: &str) -> GatewayResult<Option<sdk::PipelineExecutionSummary>> {
        let page = self.client.list_pipeline_executions().pipeline_name(name).max_results(1).send().await;
        let page = page.or_gateway(&format!("pipeline `{name}`"))?;
        Ok(page.pipeline_execution_summaries.unwrap_or_default().into_iter().next())
    }

    async fn summary(&self, name: String) -> GatewayResult<Option<PipelineSummary>> {
        // CodePipeline enforces the same name pattern; anything else cannot be asked about.
        let Ok(parsed) = PipelineName::parse(&name) else { return Ok(None) };
        let latest = match self.latest_summary(&name).await {
            Ok(latest) => latest.as_ref().and_then(execution_from_summary),
            // Deleted between the listing and this call: it is gone, not an error.
            Err(GatewayError::NotFound { .. }) => return Ok(None),
            Err(err) => return Err(err),
        };
        Ok(Some(PipelineSummary { name: parsed, latest }))
    }

    /// The latest execution with its times, then its revisions and trigger.
    async fn latest_execution(&self, name: &PipelineName) -> GatewayResult<Option<Execution>> {
        let Some(mut latest) = self.latest_summary(name.as_str()).await?.as_ref().and_then(execution_from_summary)
        else {
            return Ok(None);
        };
        let detail =
            self.client.get_pipeline_execution().pipeline_name(name.as_str()).pipeline_execution_id(&latest.id);
        let detail = detail.send().await.or_gateway(&format!("execution {} of pipeline `{name}`", latest.id))?;
        if let Some(detail) = detail.pipeline_execution {
            merge_detail(&mut latest, &detail);
        }
        Ok(Some(latest))
    }
}

#[async_trait]
impl Pipelines for AwsPipelines {
    async fn list(&self) -> GatewayResult<Vec<PipelineSummary>> {
        let names = self.names().await?;
        let summaries: Vec<Option<PipelineSummary>> =
            stream::iter(names).map(|name| self.summary(name)).buffer_unordered(CONCURRENCY).try_collect().await?;
        let mut summaries: Vec<PipelineSummary> = summaries.into_iter().flatten().collect();
        summaries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(summaries)
    }

    async fn state(&self, name: &PipelineName) -> GatewayResult<PipelineState> {
        let what = format!("pipeline `{name}`");
        let declared = self.client.get_pipeline().name(name.as_str()).send().await.or_gateway(&what)?;
        let (state, latest) = tokio::try_join!(
            async { self.client.get_pipeline_state().name(name.as_str()).send().await.or_gateway(&what) },
            self.latest_execution(name),
        )?;
        let declared = declared.pipeline.map(|p| p.stages).unwrap_or_default();
        Ok(PipelineState { name: name.clone(), latest, stages: stages(&declared, &state) })
    }

    async fn execution(&self, name: &PipelineName, id: &str) -> GatewayResult<Execution> {
        let what = format!("execution {id} of pipeline `{name}`");
        let found = self.client.get_pipeline_execution().pipeline_name(name.as_str()).pipeline_execution_id(id);
        let found = found.send().await.or_gateway(&what)?;
        let detail = found.pipeline_execution.ok_or_else(|| GatewayError::not_found(what))?;
        let mut execution = Execution {
            id: id.to_owned(),
            status: exec_status(None),
            started: None,
            updated: None,
            trigger: None,
            revisions: Vec::new(),
        };
        merge_detail(&mut execution, &detail);
        Ok(execution)
    }
}

fn execution_from_summary(summary: &sdk::PipelineExecutionSummary) -> Option<Execution> {
    let revisions = summary.source_revisions().iter().filter_map(|r| {
        let id = r.revision_id()?.to_owned();
        Some(SourceRevision {
            action: r.action_name().to_owned(),
            id,
            summary: r.revision_summary().map(commit_message),
            url: r.revision_url().map(str::to_owned),
        })
    });
    Some(Execution {
        id: summary.pipeline_execution_id()?.to_owned(),
        status: exec_status(summary.status().map(|s| s.as_str())),
        started: utc(summary.start_time()),
        updated: utc(summary.last_update_time()),
        trigger: summary.trigger().and_then(trigger),
        revisions: revisions.collect(),
    })
}

/// `GetPipelineExecution` knows the artifact revisions and is the fresher status.
fn merge_detail(latest: &mut Execution, detail: &sdk::PipelineExecution) {
    if let Some(status) = detail.status() {
        latest.status = ExecStatus::from_aws(status.as_str());
    }
    if let Some(trigger) = detail.trigger().and_then(trigger) {
        latest.trigger = Some(trigger);
    }
    let artifacts: Vec<SourceRevision> = detail
        .artifact_revisions()
        .iter()
        .filter_map(|a| {
            Some(SourceRevision {
                action: a.name().unwrap_or_default().to_owned(),
                id: a.revision_id()?.to_owned(),
                summary: a.revision_summary().map(commit_message),
                url: a.revision_url().map(str::to_owned),
            })
        })
        .collect();
    if !artifacts.is_empty() {
        latest.revisions = artifacts;
    }
}

/// "Webhook", or "StartPipelineExecution by alice" when AWS names who or what.
fn trigger(trigger: &sdk::ExecutionTrigger) -> Option<String> {
    let kind = trigger.trigger_type()?.as_str();
    match trigger.trigger_detail().filter(|d| !d.is_empty()) {
        // ARNs name the caller or source last: `...:assumed-role/deployer/alice`
        // → `alice`, `...:webhook:github-main` → `github-main`.
        Some(arn) if arn.starts_with("arn:") => Some(format!("{kind} by {}", arn.rsplit(['/', ':']).next()?)),
        Some(detail) => Some(format!("{kind} by {detail}")),
        None => Some(kind.to_owned()),
    }
}

fn commit_message(summary: &str) -> String {
    serde_json::from_str::<serde_json::Value>(summary)
        .ok()
        .and_then(|json| json.get("CommitMessage")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| summary.to_owned())
}

fn exec_status(raw: Option<&str>) -> ExecStatus {
    ExecStatus::from_aws(raw.unwrap_or("Unknown"))
}

/// Declared stages in order, each with what `GetPipelineState` says about it.
fn stages(declared: &[sdk::StageDeclaration], state: &GetPipelineStateOutput) -> Vec<StageState> {
    declared
        .iter()
        .map(|stage| {
            let live = state.stage_states().iter().find(|s| s.stage_name() == Some(stage.name()));
            let latest = live.and_then(|s| s.latest_execution());
            StageState {
                name: stage.name().to_owned(),
                status: latest.map(|e| ExecStatus::from_aws(e.status().as_str())),
                actions: stage.actions().iter().map(|a| action(a, live)).collect(),
                execution_id: latest.map(|e| e.pipeline_execution_id().to_owned()),
            }
        })
        .collect()
}

fn action(declared: &sdk::ActionDeclaration, stage: Option<&sdk::StageState>) -> ActionState {
    let category = declared.action_type_id().map_or("", |t| t.category().as_str());
    let live = stage
        .and_then(|s| s.action_states().iter().find(|a| a.action_name() == Some(declared.name())))
        .and_then(|a| a.latest_execution());
    ActionState {
        name: declared.name().to_owned(),
        category: ActionCategory::from_aws(category),
        status: live.and_then(|e| e.status()).map(|s| ExecStatus::from_aws(s.as_str())),
        last_change: live.and_then(|e| utc(e.last_status_change())),
        summary: live.and_then(|e| e.summary()).map(str::to_owned),
        error: live.and_then(|e| e.error_details()).map(|d| ActionError {
            code: d.code().map(str::to_owned),
            message: d.message().unwrap_or_default().to_owned(),
        }),
        external_url: live.and_then(|e| e.external_execution_url()).map(str::to_owned),
        token: live.and_then(|e| e.token()).map(str::to_owned),
    }
}

#[path = "codepipeline_changes.rs"]
mod changes;

#[cfg(test)]
#[path = "codepipeline_tests.rs"]
mod tests;
