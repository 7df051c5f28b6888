//! [`BuildLogs`] with CodeBuild and CloudWatch Logs: `BatchGetBuilds` for the
//! build's project, failed phase and log stream, then `GetLogEvents`
//! (`startFromHead=false`, limited) for the last lines of that stream.
//!
//! A build record that names no stream (moto's) is read at CodeBuild's
//! default names. The build's environment variables are read only to learn which values to
//! redact (Parameter Store / Secrets Manager ones, and plaintext ones whose
//! name says secret); they are never returned for showing. Links are built
//! from the client's region and the names, so they do not depend on what the
//! build record happens to carry. moto implements both calls; the mapping is
//! tested against it (tests/build_log_e2e.rs) and with aws-smithy-mocks.

use async_trait::async_trait;
use aws_sdk_codebuild::types::{Build, EnvironmentVariableType, LogsConfigStatusType, StatusType};
use opsbot_commands::error::{GatewayError, GatewayResult};

use super::errors::OrGateway;
use crate::notify::build_log::{BuildLog, BuildLogs, LogStream, build_console_url, log_stream_console_url};

pub struct AwsBuildLogs {
    codebuild: aws_sdk_codebuild::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
}

impl AwsBuildLogs {
    pub fn new(codebuild: aws_sdk_codebuild::Client, logs: aws_sdk_cloudwatchlogs::Client) -> Self {
        AwsBuildLogs { codebuild, logs }
    }

    fn region(&self) -> String {
        self.codebuild.config().region().map_or_else(|| "us-east-1".to_owned(), |r| r.as_ref().to_owned())
    }
}

#[async_trait]
impl BuildLogs for AwsBuildLogs {
    async fn failed_build(&self, id: &str, lines: usize) -> GatewayResult<BuildLog> {
        let what = format!("build `{id}`");
        let found = self.codebuild.batch_get_builds().ids(id).send().await.or_gateway(&what)?;
        let build = found.builds().first().ok_or_else(|| GatewayError::not_found(&what))?;
        let region = self.region();
        let mut log = record(build, &region);
        if let Some(stream) = &log.stream {
            let limit = i32::try_from(lines).unwrap_or(i32::MAX);
            let events = self
                .logs
                .get_log_events()
                .log_group_name(&stream.group)
                .log_stream_name(&stream.name)
                .start_from_head(false)
                .limit(limit)
                .send()
                .await
                .or_gateway(&format!("log stream `{}/{}`", stream.group, stream.name))?;
            // A build's output arrives in chunks that may hold several lines.
            let text = events.events().iter().filter_map(|e| e.message()).flat_map(str::lines);
            let all: Vec<String> = text.map(str::to_owned).collect();
            log.lines = all[all.len().saturating_sub(lines)..].to_vec();
        }
        Ok(log)
    }
}

/// Our record of `build`: names, links, the failed phase, what to redact.
fn record(build: &Build, region: &str) -> BuildLog {
    let id = build.id().unwrap_or_default().to_owned();
    let project = build.project_name().unwrap_or_else(|| id.split(':').next().unwrap_or_default()).to_owned();
    let stream = log_names(build, &project, &id).map(|(group, name)| LogStream {
        link: Some(log_stream_console_url(region, &group, &name)),
        group,
        name,
    });
    let failed = build
        .phases()
        .iter()
        .find(|p| p.phase_status().is_some_and(|s| !matches!(s, StatusType::Succeeded | StatusType::InProgress)));
    let phase_message = failed.and_then(|p| p.contexts().iter().find_map(|c| c.message())).filter(|m| !m.is_empty());
    BuildLog {
        build_link: Some(build_console_url(region, &project, &id)),
        id,
        project,
        stream,
        failed_phase: failed.and_then(|p| p.phase_type()).map(|t| t.as_str().to_owned()),
        phase_message: phase_message.map(str::to_owned),
        lines: Vec::new(),
        sensitive: sensitive_values(build),
    }
}

/// The build's log group and stream: as the record names them, or — when it
/// names neither but CloudWatch Logs is on (moto's records, and records read
/// before CodeBuild filled them in) — CodeBuild's defaults:
/// `/aws/codebuild/<project>` and the build id's part after `:`.
fn log_names(build: &Build, project: &str, id: &str) -> Option<(String, String)> {
    let logs = build.logs()?;
    if let (Some(group), Some(stream)) = (logs.group_name(), logs.stream_name()) {
        return Some((group.to_owned(), stream.to_owned()));
    }
    if logs.cloud_watch_logs().map(|c| c.status()) == Some(&LogsConfigStatusType::Disabled) {
        return None;
    }
    let (_, uuid) = id.split_once(':')?;
    Some((format!("/aws/codebuild/{project}"), uuid.to_owned()))
}

/// The environment values a log line must never show.
fn sensitive_values(build: &Build) -> Vec<String> {
    let variables = build.environment().map(|e| e.environment_variables()).unwrap_or_default();
    variables
        .iter()
        .filter(|v| match v.r#type() {
            Some(EnvironmentVariableType::ParameterStore | EnvironmentVariableType::SecretsManager) => true,
            _ => secret_name(v.name()),
        })
        .map(|v| v.value().to_owned())
        .collect()
}

fn secret_name(name: &str) -> bool {
    let name = name.to_ascii_uppercase();
    ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "KEY", "CREDENTIAL"].iter().any(|word| name.contains(word))
}

#[cfg(test)]
#[path = "codebuild_tests.rs"]
mod tests;
