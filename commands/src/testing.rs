//! In-memory ports for the commands' unit tests: data in, no behaviour of its
//! own. Scenario tests with living data use `bot/sandbox`; real AWS behaviour
//! is tested against the emulators in `tests/`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{TimeZone, Utc};

use std::sync::Mutex;

use crate::context::Context;
use crate::error::{GatewayError, GatewayResult};
use crate::ports::chat::{Chat, ChatError, MessageRef};
use crate::ports::store::{AuditQuery, AuditRecord, ChangeId, ChangeRecord, ChangeState, Lease, Store, StoreError};
use crate::ports::*;
use crate::reply::Reply;
use crate::values::*;

mod accounts;
mod alerts;
mod pipelines;
pub use accounts::FakeAccounts;
pub use pipelines::*;

mod ecs;
pub use ecs::*;
pub mod flow;
pub use alerts::MemoryAlerts;
pub mod ssm;

/// A fixed "now" so relative times in assertions are stable.
pub fn now() -> Time {
    Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap()
}

pub fn ctx() -> Context {
    Context {
        request_id: "req-1".into(),
        user: SlackUserId::parse("U0DEV").unwrap(),
        user_name: Some("dev".into()),
        groups: Vec::new(),
        channel: ChannelId::parse("C0OPS").unwrap(),
        channel_name: Some("ops".into()),
        now: now(),
    }
}

/// `secs` seconds before [`now`].
pub fn before(secs: i64) -> Time {
    now() - chrono::Duration::seconds(secs)
}

/// An execution that last changed `secs_ago` seconds before [`now`], 5 minutes after it started.
pub fn execution(status: ExecStatus, secs_ago: i64) -> Execution {
    let updated = before(secs_ago);
    Execution {
        id: "exec-1".into(),
        status,
        started: Some(updated - chrono::Duration::seconds(300)),
        updated: Some(updated),
        trigger: None,
        revisions: vec![],
    }
}

pub fn stage(name: &str, status: Option<ExecStatus>, actions: Vec<ActionState>) -> StageState {
    StageState { name: name.into(), status, actions, execution_id: None }
}

/// An action that last changed `secs_ago` seconds before [`now`]; no error, summary or URL.
pub fn action(name: &str, category: ActionCategory, status: Option<ExecStatus>, secs_ago: i64) -> ActionState {
    ActionState {
        name: name.into(),
        category,
        status,
        last_change: Some(before(secs_ago)),
        summary: None,
        error: None,
        external_url: None,
        token: None,
    }
}

/// A steady ACTIVE service `cluster/name` on task definition `name:1`, one
/// container and a completed PRIMARY deployment.
pub fn service(service: &str, desired: i32, running: i32) -> ServiceDetail {
    let service = ServiceRef::parse(service).unwrap();
    let task_definition = TaskDefinitionRef { family: service.service.clone(), revision: 1 };
    let image = format!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/{}:v1", service.service);
    let mut primary = deployment("PRIMARY", 1, RolloutState::Completed);
    primary.task_definition = Some(task_definition.clone());
    (primary.desired, primary.running) = (desired, running);
    ServiceDetail {
        containers: vec![Container { name: service.service.clone(), image }],
        summary: ServiceSummary {
            service,
            status: "ACTIVE".into(),
            desired,
            running,
            pending: 0,
            task_definition,
            rollout: Some(RolloutState::Completed),
        },
        deployments: vec![primary],
        events: vec![],
    }
}

/// A deployment of task definition `app:revision`, created an hour before [`now`].
pub fn deployment(status: &str, revision: i32, rollout: RolloutState) -> Deployment {
    Deployment {
        id: format!("ecs-svc/{revision}000"),
        status: status.into(),
        task_definition: Some(TaskDefinitionRef { family: "app".into(), revision }),
        rollout: Some(rollout),
        rollout_reason: None,
        desired: 1,
        running: 1,
        pending: 0,
        failed_tasks: 0,
        created: Some(before(3600)),
        updated: Some(before(3600)),
    }
}

pub fn event(secs_ago: i64, message: &str) -> ServiceEvent {
    ServiceEvent { at: Some(before(secs_ago)), message: message.into() }
}

/// An alarm that entered `state` `secs_ago` seconds before [`now`].
pub fn alarm(name: &str, state: AlarmState, secs_ago: i64) -> Alarm {
    Alarm {
        name: name.into(),
        arn: Some(format!("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:{name}")),
        state,
        reason: None,
        since: Some(before(secs_ago)),
        metric: None,
        dimensions: vec![],
    }
}

/// A version written `secs_ago` seconds before [`now`]; SecureString values are masked
/// the way every gateway masks them.
pub fn param_version(version: i64, kind: ParamKind, value: &str, secs_ago: i64) -> ParamVersion {
    ParamVersion {
        version,
        value: ParamValue::of(&kind, Some(value.into())),
        kind,
        modified: Some(before(secs_ago)),
        modified_by: None,
        labels: vec![],
        description: None,
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
    /// Parameter writes, Automation and Run Command (see [`ssm::FakeSsm`]).
    pub ssm: ssm::FakeSsm,
    /// Every `scale` call, in order.
    pub scaled: Mutex<Vec<(ServiceRef, i32)>>,
    /// Every pipeline change, in words (`start web`, ...; see `testing/pipelines.rs`), in
    /// order; shared, so a test keeps it after `gateways()` took the fake.
    pub pipeline_calls: std::sync::Arc<Mutex<Vec<String>>>,
    /// When set, `retry_stage`, `stop` and `put_approval` answer `TooLate`.
    pub pipeline_too_late: bool,
    /// What `state` and `execution` answer once a pipeline was changed, one
    /// state per `execution` call (the last one stays); see
    /// [`FakeAws::after_pipeline_change`].
    pub pipeline_scripts: Mutex<BTreeMap<String, std::collections::VecDeque<PipelineState>>>,
    /// What `state` answers from now on, whatever happened (set mid-test
    /// to change the world between two steps of a flow).
    pub pipeline_now: Mutex<BTreeMap<String, PipelineState>>,
    /// A state `state` answers from now on once this many more calls were
    /// answered; see [`FakeAws::pipeline_state_after`].
    pub pipeline_moves: Mutex<Option<(usize, PipelineState)>>,
    /// Registered task definitions by `family:revision`, besides the ones
    /// services run (which `task_definition` finds as ACTIVE).
    pub task_definitions: BTreeMap<String, TaskDefinition>,
    /// Every `register_revision` call: its base and container images, in order.
    pub registered: Mutex<Vec<(TaskDefinitionRef, Vec<Container>)>>,
    /// Every `update_service` call, in order.
    pub updates: Mutex<Vec<(ServiceRef, ServiceUpdate)>>,
    /// What `describe` answers after a service was updated, one state per
    /// call (the last one stays); see [`FakeAws::after_update`].
    pub scripts: Mutex<BTreeMap<String, std::collections::VecDeque<ServiceDetail>>>,
    /// What `describe` answers from now on, whatever happened (set mid-test
    /// to change the world between two steps of a flow).
    pub now_described: Mutex<BTreeMap<String, ServiceDetail>>,
    /// The stopped tasks of each deployment, by deployment id (none: an
    /// empty list); see [`FakeAws::with_stopped_tasks`].
    pub stopped: BTreeMap<String, Vec<StoppedTask>>,
    /// When set, reading stopped tasks fails with this (rebuilt per call).
    pub stopped_fail_with: Option<fn() -> GatewayError>,
    /// Every stopped-tasks read: `(cluster, service, deployment)`, in order.
    pub stopped_asked: Mutex<Vec<(String, String, String)>>,
}

impl FakeAws {
    pub fn with_pipeline(mut self, name: &str, latest: Option<Execution>) -> Self {
        let name = PipelineName::parse(name).unwrap();
        self.pipelines.insert(name.to_string(), PipelineState { name, latest, stages: vec![] });
        self
    }

    /// Gives pipeline `name` (added before with [`Self::with_pipeline`]) its stages.
    pub fn with_stages(mut self, name: &str, stages: Vec<StageState>) -> Self {
        self.pipelines.get_mut(name).expect("add the pipeline first").stages = stages;
        self
    }

    pub fn with_service(mut self, service: ServiceDetail) -> Self {
        self.services.push(service);
        self
    }

    pub fn with_alarm(mut self, alarm: Alarm) -> Self {
        self.alarms.push(alarm);
        self
    }

    /// A parameter with a single version, written an hour before [`now`].
    pub fn with_param(self, name: &str, kind: ParamKind, value: &str) -> Self {
        self.with_param_versions(name, vec![param_version(1, kind, value, 3600)])
    }

    /// A parameter with these versions, oldest first.
    pub fn with_param_versions(mut self, name: &str, versions: Vec<ParamVersion>) -> Self {
        self.params.insert(name.into(), versions);
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
        self.pipeline_state(name)
    }

    async fn execution(&self, name: &PipelineName, id: &str) -> GatewayResult<Execution> {
        self.check()?;
        self.pipeline_execution(name, id)
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
        if let Some(state) = self.scripted_service(service) {
            return Ok(state);
        }
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
        let versions = self.versions(name);
        let latest = versions
            .as_ref()
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
        self.versions(name).ok_or_else(|| GatewayError::not_found(format!("parameter `{name}`")))
    }

    async fn fingerprints(&self, path: &ParamPath) -> GatewayResult<Vec<LiveParam>> {
        self.check()?;
        let base = format!("{}/", path.as_str().trim_end_matches('/'));
        let mut out = Vec::new();
        for name in self.param_names().into_iter().filter(|n| n.starts_with(&base)) {
            let parsed = ParamName::parse(&name).expect("a parsed name");
            let Some(latest) = self.versions(&parsed).and_then(|v| v.last().cloned()) else { continue };
            let value = match (&latest.kind, &latest.value) {
                (ParamKind::SecureString, _) => {
                    Fingerprint::of(&latest.kind, &self.secure_value(&name).unwrap_or_default())
                }
                (_, ParamValue::Plain(v)) => Fingerprint::Plain(v.clone()),
                (_, ParamValue::Masked) => Fingerprint::Plain(String::new()),
            };
            let (kind, description, version) = (latest.kind, latest.description, latest.version);
            out.push(LiveParam { name, kind, value, description, version });
        }
        Ok(out)
    }

    async fn tags(&self, name: &ParamName) -> GatewayResult<ParamTags> {
        self.check()?;
        self.ssm.tag_reads.lock().unwrap().push(name.to_string());
        Ok(self.ssm.tags.lock().unwrap().get(name.as_str()).cloned().unwrap_or_default())
    }
}

impl FakeAws {
    /// Every port backed by this fake.
    pub fn gateways(self) -> Gateways {
        Self::share(&std::sync::Arc::new(self))
    }

    /// Every port backed by `aws`, which the test keeps to look at the calls.
    pub fn share(aws: &std::sync::Arc<FakeAws>) -> Gateways {
        let aws = aws.clone();
        Gateways {
            pipelines: aws.clone(),
            services: aws.clone(),
            alarms: aws.clone(),
            params: aws.clone(),
            param_changes: aws.clone(),
            automations: aws.clone(),
            run_commands: aws.clone(),
            documents: aws.clone(),
            param_hooks: Default::default(),
            declared: std::sync::Arc::new(crate::ports::NoDeclared),
            pipeline_changes: aws.clone(),
            stopped_tasks: aws.clone(),
            service_changes: aws,
        }
    }
}

/// The store as plain data behind a mutex, with the same compare-and-set
/// semantics as the real ones.
#[derive(Default)]
pub struct MemoryStore {
    pub claims: Mutex<std::collections::HashSet<String>>,
    pub changes: Mutex<BTreeMap<ChangeId, ChangeRecord>>,
    pub audit: Mutex<Vec<AuditRecord>>,
    /// When set, audit appends fail (to prove nothing runs without an audit trail).
    pub audit_down: std::sync::atomic::AtomicBool,
    /// When set, claims fail (to prove nothing runs unclaimed).
    pub claims_down: std::sync::atomic::AtomicBool,
    /// When set, moving a change fails (a click must not read it as lost).
    pub transitions_down: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl Store for MemoryStore {
    async fn claim(&self, key: &str, _now: Time) -> Result<bool, StoreError> {
        if self.claims_down.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(StoreError("disk full".into()));
        }
        Ok(self.claims.lock().unwrap().insert(key.to_owned()))
    }

    async fn insert_change(&self, change: &ChangeRecord) -> Result<(), StoreError> {
        self.changes.lock().unwrap().insert(change.id.clone(), change.clone());
        Ok(())
    }

    async fn change(&self, id: &ChangeId) -> Result<Option<ChangeRecord>, StoreError> {
        Ok(self.changes.lock().unwrap().get(id).cloned())
    }

    async fn transition(
        &self,
        id: &ChangeId,
        from: ChangeState,
        to: ChangeState,
        by: Option<&SlackUserId>,
        lease: Option<&Lease>,
    ) -> Result<bool, StoreError> {
        if self.transitions_down.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(StoreError("the table is unreachable".into()));
        }
        let mut changes = self.changes.lock().unwrap();
        let Some(change) = changes.get_mut(id).filter(|c| c.state == from) else { return Ok(false) };
        change.state = to;
        change.decided_by = by.cloned().or(change.decided_by.take());
        if to == ChangeState::Running {
            change.lease = lease.cloned();
        }
        if to.is_final() {
            change.text = change.shown.clone();
            change.lease = None;
            change.following = None;
        }
        Ok(true)
    }

    async fn hold_lease(&self, id: &ChangeId, lease: &Lease, now: Time) -> Result<bool, StoreError> {
        let mut changes = self.changes.lock().unwrap();
        let Some(change) = changes.get_mut(id).filter(|c| c.state == ChangeState::Running) else { return Ok(false) };
        let free = change.lease.as_ref().is_none_or(|held| held.owner == lease.owner || held.lapsed(now));
        if free {
            change.lease = Some(lease.clone());
        }
        Ok(free)
    }

    async fn release_lease(&self, id: &ChangeId, owner: &str, now: Time) -> Result<(), StoreError> {
        let mut changes = self.changes.lock().unwrap();
        if let Some(lease) = changes.get_mut(id).and_then(|c| c.lease.as_mut()).filter(|l| l.owner == owner) {
            lease.until = now;
        }
        Ok(())
    }

    async fn set_following(&self, id: &ChangeId, owner: &str, following: &str) -> Result<bool, StoreError> {
        let mut changes = self.changes.lock().unwrap();
        let Some(change) = changes.get_mut(id).filter(|c| c.lease.as_ref().is_some_and(|l| l.owner == owner)) else {
            return Ok(false);
        };
        change.following = Some(following.to_owned());
        Ok(true)
    }

    async fn set_message(&self, id: &ChangeId, message: &MessageRef) -> Result<(), StoreError> {
        if let Some(change) = self.changes.lock().unwrap().get_mut(id) {
            change.message = Some(message.clone());
        }
        Ok(())
    }

    async fn in_state(&self, state: ChangeState) -> Result<Vec<ChangeRecord>, StoreError> {
        Ok(self.changes.lock().unwrap().values().filter(|c| c.state == state).cloned().collect())
    }

    async fn overdue(&self, now: Time) -> Result<Vec<ChangeRecord>, StoreError> {
        let changes = self.changes.lock().unwrap();
        let waiting = [ChangeState::AwaitingConfirmation, ChangeState::AwaitingApproval];
        Ok(changes.values().filter(|c| waiting.contains(&c.state) && c.expires < now).cloned().collect())
    }

    async fn append_audit(&self, record: &AuditRecord) -> Result<(), StoreError> {
        if self.audit_down.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(StoreError("disk full".into()));
        }
        self.audit.lock().unwrap().push(record.clone());
        Ok(())
    }

    async fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
        let audit = self.audit.lock().unwrap();
        let matches = |r: &&AuditRecord| {
            query.user.as_ref().is_none_or(|u| &r.actor == u) && query.command.as_ref().is_none_or(|c| &r.command == c)
        };
        Ok(audit.iter().rev().filter(matches).take(query.limit).cloned().collect())
    }
}

/// The change button labelled `label` in `reply` (Confirm, Approve, ...); panics naming the reply when there is none.
pub fn change_button(reply: &Reply, label: &str) -> crate::click::Click {
    let button = reply.all_buttons().find(|b| b.label == label);
    let button = button.unwrap_or_else(|| panic!("no {label} button in:\n{}", reply.text()));
    button.press.change().cloned().expect("a change button")
}

/// A chat that remembers every message, as posted and as last updated, and
/// every version it showed, in order.
#[derive(Default)]
pub struct MemoryChat {
    pub messages: Mutex<Vec<(MessageRef, Reply)>>,
    pub whispers: Mutex<Vec<(SlackUserId, Reply)>>,
    /// The text of every post and update, oldest first.
    pub shown: Mutex<Vec<String>>,
}

impl MemoryChat {
    /// The latest version of every channel message, oldest first.
    pub fn texts(&self) -> Vec<String> {
        self.messages.lock().unwrap().iter().map(|(_, r)| r.text()).collect()
    }
}

#[async_trait]
impl Chat for MemoryChat {
    async fn post(&self, channel: &ChannelId, reply: &Reply) -> Result<MessageRef, ChatError> {
        let mut messages = self.messages.lock().unwrap();
        let message = MessageRef { channel: channel.clone(), ts: format!("{}.000", messages.len() + 1) };
        messages.push((message.clone(), reply.clone()));
        self.shown.lock().unwrap().push(reply.text());
        Ok(message)
    }

    async fn update(&self, message: &MessageRef, reply: &Reply) -> Result<(), ChatError> {
        let mut messages = self.messages.lock().unwrap();
        let slot =
            messages.iter_mut().find(|(m, _)| m == message).ok_or_else(|| ChatError("no such message".into()))?;
        slot.1 = reply.clone();
        self.shown.lock().unwrap().push(reply.text());
        Ok(())
    }

    async fn whisper(&self, _channel: &ChannelId, user: &SlackUserId, reply: &Reply) -> Result<(), ChatError> {
        self.whispers.lock().unwrap().push((user.clone(), reply.clone()));
        Ok(())
    }
}
