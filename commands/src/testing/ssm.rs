//! The fake's SSM changes: parameter writes become new versions that `get`
//! and `history` see; Automation executions and Run Command commands answer
//! scripted states, one per look (the last one stays), like
//! [`super::FakeAws::after_update`] does for ECS.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use async_trait::async_trait;

use super::{FakeAws, now};
use crate::error::{GatewayError, GatewayResult};
use crate::ports::*;
use crate::values::ssm::{DocParams, DocumentName, ExecutionId, Targets};
use crate::values::{ParamName, SlackUserId};

#[derive(Default)]
pub struct FakeSsm {
    /// What `settings` answers, by name; otherwise derived from the latest version.
    pub param_settings: BTreeMap<String, ParamSettings>,
    /// SecureString values in clear, by name, for `fingerprints` (the
    /// versions hold them masked, as every port does).
    pub secure_values: BTreeMap<String, String>,
    /// Every `put` and `restore`, in order.
    pub writes: Mutex<Vec<ParamWriteCall>>,
    /// Each parameter's tags, as `retag` leaves them.
    pub tags: Mutex<BTreeMap<String, ParamTags>>,
    /// Every `tags` read, by name, in order.
    pub tag_reads: Mutex<Vec<String>>,
    /// Every `retag`: name, tags set, keys removed.
    pub retags: Mutex<Vec<(String, ParamTags, Vec<String>)>>,
    /// Every `start`: document and parameters.
    pub started: Mutex<Vec<(String, DocParams)>>,
    /// What `execution` answers, one state per call.
    pub automation_states: Mutex<VecDeque<AutomationRun>>,
    /// Every `send`: document, targets and parameters.
    pub sent: Mutex<Vec<(String, Targets, DocParams)>>,
    /// What `status` answers, one state per call (outputs only when asked for).
    pub command_states: Mutex<VecDeque<CommandRun>>,
    /// The documents `document` knows, by name.
    pub documents: BTreeMap<String, Document>,
    /// The managed instances: id, ping status, tags.
    pub instances: Vec<(String, String, BTreeMap<String, String>)>,
    /// What `running` answers; tests add to it while a change waits.
    pub running_commands: Mutex<Vec<RunningCommand>>,
    pub running_automations: Mutex<Vec<RunningAutomation>>,
}

/// One write: a new value, or the value of an earlier version (`restored`).
#[derive(Debug, Clone)]
pub struct ParamWriteCall {
    pub name: String,
    pub value: Option<NewValue>,
    pub restored: Option<i64>,
    pub keep: ParamSettings,
    pub by: SlackUserId,
}

fn next<T: Clone>(states: &Mutex<VecDeque<T>>) -> Option<T> {
    let mut states = states.lock().unwrap();
    if states.len() > 1 { states.pop_front() } else { states.front().cloned() }
}

impl FakeAws {
    /// Scripts the states `execution` answers, in turn.
    pub fn with_automation_states(self, states: Vec<AutomationRun>) -> Self {
        *self.ssm.automation_states.lock().unwrap() = states.into();
        self
    }

    /// Scripts the states `status` answers, in turn.
    pub fn with_command_states(self, states: Vec<CommandRun>) -> Self {
        *self.ssm.command_states.lock().unwrap() = states.into();
        self
    }

    /// `name`'s tags (the parameter itself is added with `with_param`).
    pub fn with_param_tags(self, name: &str, tags: &[(&str, &str)]) -> Self {
        let tags = tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.ssm.tags.lock().unwrap().insert(name.into(), tags);
        self
    }

    /// A SecureString parameter whose value `fingerprints` hashes.
    pub fn with_secure_param(mut self, name: &str, value: &str) -> Self {
        self.ssm.secure_values.insert(name.into(), value.into());
        self.with_param(name, ParamKind::SecureString, value)
    }

    /// The latest SecureString value of `name`: as written since, else as given.
    pub(super) fn secure_value(&self, name: &str) -> Option<String> {
        let writes = self.ssm.writes.lock().unwrap();
        let written = writes.iter().rev().find(|w| w.name == name).and_then(|w| w.value.as_ref());
        written.map(|v| v.expose().to_owned()).or_else(|| self.ssm.secure_values.get(name).cloned())
    }

    /// Every name given or written since.
    pub(super) fn param_names(&self) -> std::collections::BTreeSet<String> {
        let written: Vec<String> = self.ssm.writes.lock().unwrap().iter().map(|w| w.name.clone()).collect();
        self.params.keys().cloned().chain(written).collect()
    }

    /// A document of `kind` with `(parameter, required)` parameters.
    pub fn with_document(mut self, name: &str, kind: DocumentKind, parameters: &[(&str, bool)]) -> Self {
        let parameters =
            parameters.iter().map(|(name, required)| DocumentParameter { name: (*name).into(), required: *required });
        self.ssm.documents.insert(name.into(), Document { kind, parameters: parameters.collect() });
        self
    }

    /// A managed instance whose agent answers `ping`, with `tags`.
    pub fn with_instance(mut self, id: &str, ping: &str, tags: &[(&str, &str)]) -> Self {
        let tags = tags.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        self.ssm.instances.push((id.into(), ping.into(), tags));
        self
    }

    /// What the SSM change tests run against: `AWS-RunShellScript` (needs
    /// `commands`), the runbooks `AWS-RestartEC2Instance` (needs
    /// `InstanceId`), `Shop-FlushCache` and `Doc` (all optional), and two
    /// online instances tagged `Environment=staging`.
    pub fn with_ssm_catalog(self) -> Self {
        let staging = [("Environment", "staging")];
        self.with_document(
            "AWS-RunShellScript",
            DocumentKind::Command,
            &[("commands", true), ("workingDirectory", false)],
        )
        .with_document(
            "AWS-RestartEC2Instance",
            DocumentKind::Automation,
            &[("InstanceId", true), ("AutomationAssumeRole", false)],
        )
        .with_document("Shop-FlushCache", DocumentKind::Automation, &[("Tier", false)])
        .with_document("Doc", DocumentKind::Automation, &[])
        .with_instance("i-0abc123def4567890", "Online", &staging)
        .with_instance("i-0abc123def4567891", "Online", &staging)
    }

    pub fn with_param_settings(mut self, name: &str, settings: ParamSettings) -> Self {
        self.ssm.param_settings.insert(name.into(), settings);
        self
    }

    /// The versions of `name`: as given, then as written since (a write
    /// to a name never given creates it).
    pub(super) fn versions(&self, name: &ParamName) -> Option<Vec<ParamVersion>> {
        let writes = self.ssm.writes.lock().unwrap();
        let created = writes.iter().any(|w| w.name == name.as_str());
        let mut versions = self.params.get(name.as_str()).cloned().or_else(|| created.then(Vec::new))?;
        for write in writes.iter().filter(|w| w.name == name.as_str()) {
            let value = match (&write.value, write.restored) {
                (Some(v), _) => ParamValue::of(&write.keep.kind, Some(v.expose().to_owned())),
                (None, Some(n)) => {
                    versions.iter().find(|v| v.version == n).map(|v| v.value.clone()).unwrap_or(ParamValue::Masked)
                }
                (None, None) => ParamValue::Masked,
            };
            let version = versions.last().map_or(1, |v| v.version + 1);
            let by = Some(format!("arn:aws:sts::123456789012:assumed-role/opsbot/{}", write.by));
            let kind = write.keep.kind.clone();
            versions.push(ParamVersion {
                version,
                kind,
                value,
                modified: Some(now()),
                modified_by: by,
                labels: vec![],
                description: write.keep.description.clone(),
            });
        }
        Some(versions)
    }

    fn write(&self, call: ParamWriteCall) -> GatewayResult<ParamWrite> {
        self.check()?;
        let name = ParamName::parse(&call.name).expect("a parsed name");
        let current = self.versions(&name).unwrap_or_default();
        if current.is_empty() && call.restored.is_some() {
            return Err(GatewayError::not_found(format!("parameter `{name}`")));
        }
        self.ssm.writes.lock().unwrap().push(call);
        let version = current.last().map_or(1, |v| v.version + 1);
        Ok(ParamWrite { version, receipt: Receipt { request_id: Some(format!("req-put-{version}")) } })
    }
}

#[async_trait]
impl ParamChanges for FakeAws {
    async fn settings(&self, name: &ParamName) -> GatewayResult<ParamSettings> {
        self.check()?;
        if let Some(settings) = self.ssm.param_settings.get(name.as_str()) {
            return Ok(settings.clone());
        }
        let latest = self.versions(name).and_then(|v| v.last().cloned());
        let latest = latest.ok_or_else(|| GatewayError::not_found(format!("parameter `{name}`")))?;
        let secure = latest.kind == ParamKind::SecureString;
        Ok(ParamSettings {
            key_id: secure.then(|| "alias/aws/ssm".into()),
            kind: latest.kind,
            tier: Some("Standard".into()),
            data_type: Some("text".into()),
            description: latest.description,
            allowed_pattern: None,
        })
    }

    async fn put(
        &self,
        name: &ParamName,
        value: &NewValue,
        keep: &ParamSettings,
        by: &SlackUserId,
    ) -> GatewayResult<ParamWrite> {
        let call = ParamWriteCall {
            name: name.to_string(),
            value: Some(value.clone()),
            restored: None,
            keep: keep.clone(),
            by: by.clone(),
        };
        self.write(call)
    }

    async fn restore(
        &self,
        name: &ParamName,
        version: i64,
        keep: &ParamSettings,
        by: &SlackUserId,
    ) -> GatewayResult<ParamWrite> {
        let call = ParamWriteCall {
            name: name.to_string(),
            value: None,
            restored: Some(version),
            keep: keep.clone(),
            by: by.clone(),
        };
        self.write(call)
    }

    async fn retag(&self, name: &ParamName, set: &ParamTags, remove: &[String]) -> GatewayResult<Receipt> {
        self.check()?;
        self.ssm.retags.lock().unwrap().push((name.to_string(), set.clone(), remove.to_vec()));
        let mut tags = self.ssm.tags.lock().unwrap();
        let now = tags.entry(name.to_string()).or_default();
        now.extend(set.clone());
        now.retain(|k, _| !remove.contains(k));
        Ok(Receipt { request_id: Some(format!("req-tag-{name}")) })
    }
}

#[async_trait]
impl Automations for FakeAws {
    async fn start(
        &self,
        document: &DocumentName,
        parameters: &DocParams,
        _by: &SlackUserId,
    ) -> GatewayResult<Started> {
        self.check()?;
        self.ssm.started.lock().unwrap().push((document.to_string(), parameters.clone()));
        let id = "4105a4fc-f944-11e6-9d32-8fb2db27a909".to_string();
        Ok(Started { id, receipt: Receipt { request_id: Some("req-automation".into()) } })
    }

    async fn execution(&self, id: &ExecutionId) -> GatewayResult<AutomationRun> {
        self.check()?;
        next(&self.ssm.automation_states).ok_or_else(|| GatewayError::not_found(format!("automation execution `{id}`")))
    }

    async fn running(&self, _document: &DocumentName) -> GatewayResult<Vec<RunningAutomation>> {
        self.check()?;
        Ok(self.ssm.running_automations.lock().unwrap().clone())
    }
}

#[async_trait]
impl Documents for FakeAws {
    async fn document(&self, name: &DocumentName) -> GatewayResult<Option<Document>> {
        self.check()?;
        Ok(self.ssm.documents.get(name.as_str()).cloned())
    }
}

#[async_trait]
impl RunCommands for FakeAws {
    async fn send(
        &self,
        document: &DocumentName,
        targets: &Targets,
        parameters: &DocParams,
        _by: &SlackUserId,
    ) -> GatewayResult<Started> {
        self.check()?;
        let mut sent = self.ssm.sent.lock().unwrap();
        sent.push((document.to_string(), targets.clone(), parameters.clone()));
        let id = format!("c0mmand-{}", sent.len());
        Ok(Started { id, receipt: Receipt { request_id: Some(format!("req-send-{}", sent.len())) } })
    }

    async fn status(&self, id: &str, with_output: bool) -> GatewayResult<CommandRun> {
        self.check()?;
        let mut run =
            next(&self.ssm.command_states).ok_or_else(|| GatewayError::not_found(format!("command `{id}`")))?;
        if !with_output {
            run.invocations.iter_mut().for_each(|i| i.output = None);
        }
        Ok(run)
    }

    async fn instances(&self, targets: &Targets) -> GatewayResult<Vec<ManagedInstance>> {
        self.check()?;
        let hit = |(id, _, tags): &&(String, String, BTreeMap<String, String>)| match targets {
            Targets::Tag { key, values } => tags.get(key).is_some_and(|v| values.contains(v)),
            Targets::Instances(ids) => ids.contains(id),
        };
        let mut found: Vec<ManagedInstance> = self
            .ssm
            .instances
            .iter()
            .filter(hit)
            .map(|(id, ping, _)| ManagedInstance { id: id.clone(), ping: ping.clone() })
            .collect();
        found.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(found)
    }

    async fn running(&self, _document: &DocumentName) -> GatewayResult<Vec<RunningCommand>> {
        self.check()?;
        Ok(self.ssm.running_commands.lock().unwrap().clone())
    }
}

/// An execution of `document` in `status` whose steps are `(name, status)`.
pub fn automation(document: &str, status: RunStatus, steps: &[(&str, RunStatus)]) -> AutomationRun {
    AutomationRun {
        id: "4105a4fc-f944-11e6-9d32-8fb2db27a909".into(),
        document: document.into(),
        status,
        steps: steps
            .iter()
            .map(|(name, status)| AutomationStep {
                name: (*name).into(),
                action: Some("aws:executeAwsApi".into()),
                status: status.clone(),
                failure: None,
            })
            .collect(),
        started: Some(super::before(120)),
        ended: None,
        failure: None,
        executed_by: Some("arn:aws:sts::123456789012:assumed-role/opsbot/bot".into()),
    }
}

/// A command of `document` in `status` with one invocation per `(instance, status, output)`.
pub fn command(document: &str, status: RunStatus, invocations: &[(&str, RunStatus, &str)]) -> CommandRun {
    let invocations: Vec<Invocation> = invocations
        .iter()
        .map(|(instance, status, output)| Invocation {
            instance: (*instance).into(),
            instance_name: None,
            status: status.clone(),
            detail: None,
            output: Some((*output).into()),
        })
        .collect();
    let done = invocations.iter().filter(|i| i.status.is_final()).count();
    let errors = invocations.iter().filter(|i| i.status.is_final() && i.status != RunStatus::Success).count();
    CommandRun {
        id: "c0mmand-1".into(),
        document: document.into(),
        status,
        targets: i32::try_from(invocations.len()).unwrap_or(0),
        completed: i32::try_from(done).unwrap_or(0),
        errors: i32::try_from(errors).unwrap_or(0),
        invocations,
    }
}

/// Declared parameters held in memory, one [`Declared`] per environment.
#[derive(Debug, Default)]
pub struct FakeDeclared(pub Vec<crate::ports::Declared>);

#[async_trait]
impl crate::ports::DeclaredParams for FakeDeclared {
    fn environments(&self) -> Vec<(String, crate::values::ParamPath)> {
        self.0.iter().map(|d| (d.env.clone(), d.prefix.clone())).collect()
    }

    async fn load(&self, env: &str) -> GatewayResult<crate::ports::Declared> {
        let found = self.0.iter().find(|d| d.env == env).cloned();
        found.ok_or_else(|| GatewayError::not_found(format!("declared parameters for `{env}`")))
    }
}
