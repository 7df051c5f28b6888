//! In-memory ports for the commands' unit tests: data in, no behaviour of its
//! own. Scenario tests with living data use `bot/sandbox`; real AWS behaviour
//! is tested against the emulators in `tests/`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{TimeZone, Utc};

use crate::cmd::Context;
use crate::error::{GatewayError, GatewayResult};
use crate::ports::*;
use crate::values::*;

/// A fixed "now" so relative times in assertions are stable.
pub fn now() -> Time {
    Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap()
}

pub fn ctx() -> Context {
    Context {
        request_id: "req-1".into(),
        user: SlackUserId::parse("U0DEV").unwrap(),
        user_name: Some("dev".into()),
        channel: ChannelId::parse("C0OPS").unwrap(),
        channel_name: Some("ops".into()),
        now: now(),
    }
}

/// An execution that last changed `secs_ago` seconds before [`now`].
pub fn execution(status: ExecStatus, secs_ago: i64) -> Execution {
    let updated = now() - chrono::Duration::seconds(secs_ago);
    Execution {
        id: "exec-1".into(),
        status,
        started: Some(updated - chrono::Duration::seconds(300)),
        updated: Some(updated),
        trigger: None,
        revisions: vec![],
    }
}

#[derive(Default)]
pub struct FakeAws {
    pub pipelines: BTreeMap<String, PipelineState>,
    pub services: Vec<ServiceDetail>,
    pub alarms: Vec<Alarm>,
    pub params: BTreeMap<String, Vec<ParamVersion>>,
    /// When set, every call fails with this (rebuilt per call).
    pub fail_with: Option<fn() -> GatewayError>,
}

impl FakeAws {
    pub fn with_pipeline(mut self, name: &str, latest: Option<Execution>) -> Self {
        let name = PipelineName::parse(name).unwrap();
        self.pipelines.insert(name.to_string(), PipelineState { name, latest, stages: vec![] });
        self
    }

    fn check(&self) -> GatewayResult<()> {
        self.fail_with.map_or(Ok(()), |f| Err(f()))
    }
}

#[async_trait]
impl Pipelines for FakeAws {
    async fn list(&self) -> GatewayResult<Vec<PipelineSummary>> {
        self.check()?;
        Ok(self
            .pipelines
            .values()
            .map(|p| PipelineSummary { name: p.name.clone(), latest: p.latest.clone() })
            .collect())
    }

    async fn state(&self, name: &PipelineName) -> GatewayResult<PipelineState> {
        self.check()?;
        self.pipelines.get(name.as_str()).cloned().ok_or_else(|| GatewayError::not_found(format!("pipeline `{name}`")))
    }
}

#[async_trait]
impl Services for FakeAws {
    async fn list(&self, cluster: Option<&ClusterName>) -> GatewayResult<Vec<ServiceSummary>> {
        self.check()?;
        Ok(self
            .services
            .iter()
            .filter(|s| cluster.is_none_or(|c| &s.summary.service.cluster == c))
            .map(|s| s.summary.clone())
            .collect())
    }

    async fn describe(&self, service: &ServiceRef) -> GatewayResult<ServiceDetail> {
        self.check()?;
        self.services
            .iter()
            .find(|s| &s.summary.service == service)
            .cloned()
            .ok_or_else(|| GatewayError::not_found(format!("service `{service}`")))
    }
}

#[async_trait]
impl Alarms for FakeAws {
    async fn list(&self, prefix: Option<&AlarmPrefix>) -> GatewayResult<Vec<Alarm>> {
        self.check()?;
        Ok(self.alarms.iter().filter(|a| prefix.is_none_or(|p| a.name.starts_with(p.as_str()))).cloned().collect())
    }
}

#[async_trait]
impl Params for FakeAws {
    async fn get(&self, name: &ParamName) -> GatewayResult<Parameter> {
        self.check()?;
        let latest = self
            .params
            .get(name.as_str())
            .and_then(|v| v.last())
            .ok_or_else(|| GatewayError::not_found(format!("parameter `{name}`")))?;
        Ok(Parameter {
            name: name.to_string(),
            kind: latest.kind.clone(),
            value: latest.value.clone(),
            version: latest.version,
            last_modified: latest.modified,
        })
    }

    async fn by_path(&self, path: &ParamPath) -> GatewayResult<Vec<Parameter>> {
        self.check()?;
        let mut out = Vec::new();
        for (name, versions) in &self.params {
            let under = name.starts_with(&format!("{}/", path.as_str().trim_end_matches('/')));
            if let (true, Some(v)) = (under, versions.last()) {
                out.push(Parameter {
                    name: name.clone(),
                    kind: v.kind.clone(),
                    value: v.value.clone(),
                    version: v.version,
                    last_modified: v.modified,
                });
            }
        }
        Ok(out)
    }

    async fn history(&self, name: &ParamName) -> GatewayResult<Vec<ParamVersion>> {
        self.check()?;
        self.params.get(name.as_str()).cloned().ok_or_else(|| GatewayError::not_found(format!("parameter `{name}`")))
    }
}
