//! [`BuildLogs`] for the sandbox: the one failed build the demo's story
//! tells (`story::FAILED_BUILD`), with its log; any other build is unknown,
//! as CodeBuild says of a build it does not have.

use async_trait::async_trait;
use opsbot_commands::error::{GatewayError, GatewayResult};

use super::Sandbox;
use super::account::REGION;
use super::story::{FAILED_BUILD, failed_build_log};
use crate::notify::build_log::{BuildLog, BuildLogs, LogStream, build_console_url, log_stream_console_url};

#[async_trait]
impl BuildLogs for Sandbox {
    async fn failed_build(&self, id: &str, lines: usize) -> GatewayResult<BuildLog> {
        if id != FAILED_BUILD {
            return Err(GatewayError::not_found(format!("build `{id}`")));
        }
        let (project, stream) = id.split_once(':').unwrap_or((id, id));
        let group = format!("/aws/codebuild/{project}");
        let log = failed_build_log();
        Ok(BuildLog {
            id: id.to_owned(),
            project: project.to_owned(),
            stream: Some(LogStream {
                link: Some(log_stream_console_url(REGION, &group, stream)),
                group,
                name: stream.to_owned(),
            }),
            failed_phase: Some("BUILD".into()),
            phase_message: Some("Error while executing command: npm test. Reason: exit status 1".into()),
            build_link: Some(build_console_url(REGION, project, id)),
            lines: log[log.len().saturating_sub(lines)..].to_vec(),
            sensitive: vec![],
        })
    }
}
