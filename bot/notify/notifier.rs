//! The notifier: one parsed notification in, one [`Batch`] out — the living
//! records it changes and the Slack writes it asks for — which the caller
//! commits in one transaction with the inbox row it came from, so a crash
//! leaves either all of it or none (and the row is handled again).
//!
//! Also the time-driven half of the lifecycles ([`Notifier::sweep`]):
//! escalating alarms nobody acknowledged, and closing flapping alarms that
//! have calmed down. And the alert book the `alerts` / `alert ack` commands
//! use ([`Notifier`] implements the commands' `Alerts` port).
//!
//! Decisions:
//! - Routing happens when a lifecycle starts; later events of the same alarm
//!   or execution go to the message already posted (the outbox knows its
//!   channel), even if the routes changed meanwhile.
//! - An approval's decision is read back from GetPipelineState (the summary
//!   CodePipeline kept); if that read fails, the decision is shown without it
//!   rather than not at all.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use opsbot_commands::LivePolicy;
use opsbot_commands::click::Press;
use opsbot_commands::cmd::{automation_status, stopped_tasks};
use opsbot_commands::error::GatewayError;
use opsbot_commands::mrkdwn;
use opsbot_commands::mrkdwn::Mrkdwn;
use opsbot_commands::ports::store::StoreError;
use opsbot_commands::ports::{AutomationRun, Automations, Pipelines, RunStatus, StoppedTasks};
use opsbot_commands::reply::{Block, Reply};
use opsbot_commands::target::ACCOUNT;
use opsbot_commands::text::one_line;
use opsbot_commands::values::ssm::ExecutionId;
use opsbot_commands::values::{ChannelId, PipelineName};
use serde::de::DeserializeOwned;
use tracing::{debug, warn};

use super::build_log::{self, BuildLogs};
use super::earlier::Earlier;
use super::event::{
    AutomationExecution, DeploymentEvent, EcsDeployment, ExecutionState, Inbound, Notification, PipelineAction,
};
use super::lifecycle::Lifecycle;
use super::lifecycle::alarm::{self, AlertRecord, Effect};
use super::lifecycle::approval::{self, ApprovalRecord, Waiting};
use super::lifecycle::pipeline::{self as run, RunRecord, What};
use super::lifecycle::route::{About, Target, target};
use super::lifecycle::summary::summary;
use super::tags::{TagCache, Tags};
use super::why_reads::{AccountReads, WhyReads};
use crate::settings::NotificationSettings;
pub use crate::slack::outbox::Write;
use crate::store::{Kept, Living, LivingRecord, Storage};

/// What handling one notification changes.
#[derive(Debug, Default)]
pub struct Batch {
    pub records: Vec<LivingRecord>,
    pub writes: Vec<Write>,
}

pub struct Notifier {
    pub(super) store: Arc<dyn Storage>,
    pub(super) settings: NotificationSettings,
    /// Names the roles routes mention; read per notification, so a reload applies.
    pub(super) policy: LivePolicy,
    pub(super) pipelines: Arc<dyn Pipelines>,
    /// Resource tags, for routes that test them.
    pub(super) tags: Option<Arc<TagCache>>,
    /// Where a failed build's log is read from; `None`: failed builds are
    /// shown with the action's error only.
    pub(super) builds: Option<Arc<dyn BuildLogs>>,
    /// Where a failed ECS deployment's stopped tasks are read; `None`: not shown.
    pub(super) tasks: Option<Arc<dyn StoppedTasks>>,
    /// Where a failed Automation execution's steps are read; `None`: not shown.
    pub(super) automations: Option<Arc<dyn Automations>>,
    /// Where failures in the configured accounts are read; `None` (and for
    /// other accounts): through `builds`, `tasks` and `automations`.
    pub(super) accounts: Option<Arc<dyn AccountReads>>,
}

impl Batch {
    /// Keeps `record` as `id`'s, over the `version` it was read at (`None`: new).
    pub(super) fn keep<T: Lifecycle>(&mut self, kind: Living, id: &str, open: bool, record: &T, version: Option<u64>) {
        let body = serde_json::to_string(record).expect("living records serialise");
        let message = record.message_key();
        self.records.push(LivingRecord { kind, id: id.to_owned(), open, body, message, version });
    }

    /// Names the configured account (`aws.accounts`) the notification came
    /// from on every message it posts or edits (thread replies hang under
    /// a message that names it already).
    fn name_account(&mut self, name: Option<&str>) {
        let Some(name) = name else { return };
        for write in &mut self.writes {
            if let Write::Post { reply, .. } | Write::Update { reply, .. } = write {
                *reply = named(reply.clone(), Some(name));
            }
        }
    }

    /// The writes `effects` ask for on message `key`; a post goes to
    /// `channel` (`None` where the message exists already: the outbox
    /// remembers where).
    pub(super) fn effects(
        &mut self,
        key: String,
        channel: Option<&ChannelId>,
        effects: Vec<Effect>,
        render: impl Fn() -> Reply,
    ) {
        for effect in effects {
            self.writes.push(match (effect, channel) {
                (Effect::Post, Some(channel)) => {
                    Write::Post { key: key.clone(), channel: channel.clone(), reply: render() }
                }
                (Effect::Post, None) => {
                    warn!(%key, "a post without a channel skipped");
                    continue;
                }
                (Effect::Update, _) => Write::Update { key: key.clone(), reply: render() },
                (Effect::Thread(line), _) => thread(key.clone(), line),
            });
        }
    }
}

/// A line in the thread of message `key`.
fn thread(key: String, line: Mrkdwn) -> Write {
    Write::Reply { key, reply: Reply::in_channel(line.plain()).section(line) }
}

impl Notifier {
    pub fn new(
        store: Arc<dyn Storage>,
        settings: NotificationSettings,
        policy: impl Into<LivePolicy>,
        pipelines: Arc<dyn Pipelines>,
    ) -> Self {
        Notifier {
            store,
            settings,
            policy: policy.into(),
            pipelines,
            tags: None,
            builds: None,
            tasks: None,
            automations: None,
            accounts: None,
        }
    }

    /// Reads resources' tags through `tags` for the routes that test them.
    pub fn with_tags(self, tags: Arc<TagCache>) -> Self {
        Notifier { tags: Some(tags), ..self }
    }

    /// The tags of the notification's resource, when some route tests tags.
    async fn tags_of(&self, inbound: &Inbound) -> Option<Tags> {
        let cache = self.tags.as_ref().filter(|_| self.settings.routes_by_tags())?;
        let arn = inbound.notification.resource_arn(inbound.account.as_deref(), inbound.region.as_deref())?;
        cache.tags(&arn).await
    }

    /// Failed CodeBuild actions show the end of their build's log, read from `builds`.
    pub fn with_build_logs(self, builds: Arc<dyn BuildLogs>) -> Self {
        Notifier { builds: Some(builds), ..self }
    }

    /// Failed Automation executions show their failing step, read from `automations`.
    pub fn with_automations(self, automations: Arc<dyn Automations>) -> Self {
        Notifier { automations: Some(automations), ..self }
    }

    /// Failed ECS deployments show why their tasks stopped, read from `tasks`.
    pub fn with_stopped_tasks(self, tasks: Arc<dyn StoppedTasks>) -> Self {
        Notifier { tasks: Some(tasks), ..self }
    }

    /// Failures in the accounts of `aws.accounts` are read there, through `accounts`.
    pub fn with_account_reads(self, accounts: Arc<dyn AccountReads>) -> Self {
        Notifier { accounts: Some(accounts), ..self }
    }

    /// The reader `pick` chooses in the account `inbound` came from, or
    /// `home` (see `why_reads`'s decisions).
    async fn reader<T: ?Sized>(
        &self,
        inbound: &Inbound,
        home: &Arc<T>,
        pick: impl FnOnce(WhyReads) -> Arc<T>,
    ) -> Result<Arc<T>, GatewayError> {
        let (Some(accounts), Some(account)) = (&self.accounts, &inbound.account) else { return Ok(home.clone()) };
        Ok(accounts.why_reads(account, inbound.region.as_deref()).await?.map_or_else(|| home.clone(), pick))
    }

    /// Whether handling `inbound` may read AWS (a resource's tags for a
    /// route, a failed build's log, why tasks stopped or an automation
    /// failed, an approval's decision): such a notification is not worked out
    /// while its source waits for an answer (see `Notifications::receive`).
    pub fn reads_aws(&self, inbound: &Inbound) -> bool {
        if self.tags.is_some() && self.settings.routes_by_tags() {
            return true;
        }
        match &inbound.notification {
            Notification::PipelineAction(a) => {
                is_approval(a)
                    || (self.builds.is_some() && a.state == ExecutionState::Failed && codebuild_id(a).is_some())
            }
            Notification::EcsDeployment(d) => self.tasks.is_some() && d.event == DeploymentEvent::Failed,
            Notification::Automation(a) => {
                self.automations.is_some() && matches!(a.status.as_str(), "Failed" | "TimedOut")
            }
            _ => false,
        }
    }

    /// The batch for one notification, judged at `now`.
    pub async fn handle(&self, inbound: &Inbound, now: DateTime<Utc>) -> Result<Batch, StoreError> {
        self.handle_after(inbound, now, &Earlier::default()).await
    }

    /// The batch for one notification, judged at `now`, over the records
    /// `earlier` notifications of its chunk decided (read before the store's).
    pub async fn handle_after(
        &self,
        inbound: &Inbound,
        now: DateTime<Utc>,
        earlier: &Earlier,
    ) -> Result<Batch, StoreError> {
        let mut batch = Batch::default();
        let tags = self.tags_of(inbound).await;
        let about = About {
            kind: inbound.notification.kind(),
            name: inbound.notification.name(),
            account: inbound.account.as_deref(),
            region: inbound.region.as_deref(),
            tags: tags.as_ref(),
        };
        let Some(to) = target(&self.settings, &self.policy.current(), about) else {
            warn!(key = %inbound.key, "no route and no default channel: notification kept in the log only");
            return Ok(batch);
        };
        match &inbound.notification {
            Notification::Alarm(change) => {
                let (kept, version) = self.kept::<AlertRecord>(Living::Alarm, &change.arn, earlier).await?;
                let step = alarm::apply(kept, change, &self.settings.alarms, &to.mention);
                if let Some(alert) = step.alert {
                    batch.keep(Living::Alarm, &alert.arn, alert.is_open(), &alert, version);
                    batch.effects(alert.message_key(), Some(&to.channel), step.effects, || alarm::render(&alert, now));
                }
            }
            Notification::PipelineExecution(e) => {
                let trigger = e.execution_trigger.as_ref().and_then(|t| t.describe());
                let what = What::Execution { state: e.state.clone(), trigger: trigger.as_deref() };
                self.pipeline(&mut batch, &to, &e.pipeline, &e.execution_id, inbound, what, now, earlier).await?;
            }
            Notification::PipelineStage(s) => {
                let what = What::Stage { stage: &s.stage, state: s.state.clone() };
                self.pipeline(&mut batch, &to, &s.pipeline, &s.execution_id, inbound, what, now, earlier).await?;
            }
            Notification::PipelineAction(a) => {
                let error = action_error(a);
                let what = What::Action {
                    stage: &a.stage,
                    action: &a.action,
                    state: a.state.clone(),
                    error: error.as_deref(),
                    build: codebuild_id(a),
                };
                self.pipeline(&mut batch, &to, &a.pipeline, &a.execution_id, inbound, what, now, earlier).await?;
                if is_approval(a) {
                    self.approval_moved(&mut batch, &to, a, (inbound.time, now), earlier).await?;
                }
            }
            Notification::ManualApproval(m) => {
                let waiting = Waiting {
                    pipeline: &m.pipeline,
                    stage: &m.stage,
                    action: &m.action,
                    expires: m.expires,
                    review: m.review_link.as_deref().or(m.external_entity_link.as_deref()),
                    console: m.console_link.as_deref(),
                    custom: m.custom_data.as_deref(),
                };
                self.announce(&mut batch, &to, &waiting, now, earlier).await?;
            }
            _ => {
                if let Some((key, reply)) = summary(inbound) {
                    batch.writes.push(Write::Post { key: key.clone(), channel: to.channel.clone(), reply });
                    let why = match &inbound.notification {
                        Notification::EcsDeployment(d) if d.event == DeploymentEvent::Failed => {
                            self.why_tasks_stopped(d, inbound).await
                        }
                        Notification::Automation(a) if matches!(a.status.as_str(), "Failed" | "TimedOut") => {
                            self.why_automation_failed(a, inbound).await
                        }
                        _ => None,
                    };
                    batch.writes.extend(why.map(|line| thread(key, line)));
                }
            }
        }
        batch
            .name_account(inbound.account.as_deref().and_then(|id| self.settings.accounts.get(id)).map(String::as_str));
        // At debug: in a storm an info line per notification was most of the
        // log (and of its cost); /metrics counts them by source and kind.
        debug!(key = %inbound.key, kind = %about.kind, channel = %to.channel, writes = batch.writes.len(), "notification handled");
        Ok(batch)
    }

    /// The record kept under `id` (decided `earlier` in the chunk, else in
    /// the store), and the version it is kept at (which the new record is
    /// written over).
    async fn kept<T: DeserializeOwned>(
        &self,
        kind: Living,
        id: &str,
        earlier: &Earlier,
    ) -> Result<(Option<T>, Option<u64>), StoreError> {
        let kept = match earlier.get(kind, id) {
            Some(kept) => Some(kept.clone()),
            None => self.store.living(kind, id).await?,
        };
        let Some(kept) = kept else { return Ok((None, None)) };
        match serde_json::from_str(&kept.body) {
            Ok(record) => Ok((Some(record), Some(kept.version))),
            Err(err) => {
                // A record this version cannot read starts afresh rather than
                // stopping every later notification of the same thing.
                warn!(?kind, id, error = %err, "unreadable living record replaced");
                Ok((None, Some(kept.version)))
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn pipeline(
        &self,
        batch: &mut Batch,
        to: &Target,
        pipeline: &str,
        execution: &str,
        from: &Inbound,
        what: What<'_>,
        now: DateTime<Utc>,
        earlier: &Earlier,
    ) -> Result<(), StoreError> {
        let (kept, version) = self.kept::<RunRecord>(Living::Pipeline, execution, earlier).await?;
        let build = failed_build(&what);
        let event = run::Event { pipeline, execution, at: from.time, what };
        let (mut record, mut effects) = run::apply(kept, &event);
        if let (Some(builds), Some((action, id))) = (&self.builds, build)
            && record.explain_once(id)
        {
            effects.push(Effect::Thread(self.why_build_failed(from, builds, action, id).await));
        }
        let open = !record.state.as_ref().is_some_and(ExecutionState::ended);
        batch.keep(Living::Pipeline, execution, open, &record, version);
        batch.effects(record.message_key(), Some(&to.channel), effects, || run::render(&record, now));
        Ok(())
    }

    /// The end of build `id`'s log, read in `from`'s account, or why it could
    /// not be read (logged too).
    async fn why_build_failed(&self, from: &Inbound, home: &Arc<dyn BuildLogs>, action: &str, id: &str) -> Mrkdwn {
        let read = match self.reader(from, home, |there| there.builds).await {
            Ok(builds) => builds.failed_build(id, self.settings.build_log_lines).await,
            Err(err) => Err(err),
        };
        match read {
            Ok(log) => build_log::explain(action, &log),
            Err(err) => {
                warn!(build = id, error = %err, "cannot read the failed build's log");
                build_log::unreadable(action, id, &err)
            }
        }
    }

    /// Why the failed deployment `d`'s tasks stopped, or why that could not
    /// be read (logged too); `None` without the port.
    async fn why_tasks_stopped(&self, d: &EcsDeployment, from: &Inbound) -> Option<Mrkdwn> {
        let home = self.tasks.as_ref()?;
        let region = from.region.as_deref();
        // Old short service ARNs name no cluster: ECS's own default then.
        let (cluster, service) = d.name.split_once('/').unwrap_or(("default", &d.name));
        let read = match self.reader(from, home, |there| there.tasks).await {
            Ok(tasks) => tasks.stopped_tasks(cluster, service, &d.deployment_id).await,
            Err(err) => Err(err),
        };
        Some(match read {
            Ok(stopped) => stopped_tasks::explain(Some(region.unwrap_or("us-east-1")), cluster, service, &stopped),
            Err(err) => {
                warn!(service = %d.name, deployment = %d.deployment_id, error = %err, "cannot read the stopped tasks");
                stopped_tasks::unreadable(cluster, service, &err)
            }
        })
    }

    /// The failed execution `a`'s failing steps and failure, or why they
    /// could not be read (logged too); `None` without the port.
    async fn why_automation_failed(&self, a: &AutomationExecution, from: &Inbound) -> Option<Mrkdwn> {
        let home = self.automations.as_ref()?;
        let id = ExecutionId::try_from(a.execution_id.clone()).ok()?;
        let read = match self.reader(from, home, |there| there.automations).await {
            Ok(automations) => automations.execution(&id).await,
            Err(err) => Err(err),
        };
        Some(match read {
            Ok(run) => {
                // Only the steps that failed: the rest are in the console, a link away.
                let failed = run
                    .steps
                    .iter()
                    .filter(|s| s.failure.is_some() || matches!(s.status, RunStatus::Failed | RunStatus::TimedOut));
                let run = AutomationRun { steps: failed.cloned().collect(), ..run };
                let mut lines = vec![mrkdwn!(":mag: Why *{}* failed:", run.document)];
                lines.extend(automation_status::step_lines(&run));
                let failure = run.failure.as_deref();
                lines.extend(
                    failure.map(|f| mrkdwn!("{}", automation_status::failure_text(f, automation_status::FAILURE_MAX))),
                );
                Mrkdwn::join(lines, "\n")
            }
            Err(err) => {
                warn!(execution = %a.execution_id, error = %err, "cannot read the failed automation's steps");
                mrkdwn!(":warning: couldn't read why *{}* failed: {}", a.document, one_line(&err.to_string()))
            }
        })
    }

    /// The undecided approval at this place, if opsbot shows one, with its
    /// version (what `earlier` decided replaces what the store keeps).
    async fn waiting_at(
        &self,
        (pipeline, stage, action): (&str, &str, &str),
        earlier: &Earlier,
    ) -> Result<Option<(ApprovalRecord, u64)>, StoreError> {
        let read = |k: &Kept| serde_json::from_str::<ApprovalRecord>(&k.body).ok().map(|r| (r, k.version));
        let stored = self.store.living_open(Living::Approval).await?;
        let stored =
            stored.iter().filter_map(read).filter(|(r, _)| earlier.get(Living::Approval, &r.message_key()).is_none());
        let decided = earlier.of(Living::Approval).filter(|(_, _, open)| *open).filter_map(|(_, k, _)| read(k));
        Ok(stored.chain(decided).find(|(r, _)| r.is_waiting_at(pipeline, stage, action)))
    }

    async fn announce(
        &self,
        batch: &mut Batch,
        to: &Target,
        waiting: &Waiting<'_>,
        now: DateTime<Utc>,
        earlier: &Earlier,
    ) -> Result<(), StoreError> {
        // What waits here is the record announce keeps (same key); none: a new one.
        let (kept, version) =
            self.waiting_at((waiting.pipeline, waiting.stage, waiting.action), earlier).await?.unzip();
        let (record, effects) = approval::announce(kept, waiting, now);
        let key = record.message_key();
        batch.keep(Living::Approval, &key, record.decided.is_none(), &record, version);
        batch.effects(key, Some(&to.channel), effects, || approval::render(&record, now));
        Ok(())
    }

    /// An Approval action started (announce it) or ended (show the decision).
    async fn approval_moved(
        &self,
        batch: &mut Batch,
        to: &Target,
        a: &PipelineAction,
        (at, now): (DateTime<Utc>, DateTime<Utc>),
        earlier: &Earlier,
    ) -> Result<(), StoreError> {
        let approved = match a.state {
            ExecutionState::Started => {
                let waiting =
                    Waiting { pipeline: &a.pipeline, stage: &a.stage, action: &a.action, ..Waiting::default() };
                return self.announce(batch, to, &waiting, now, earlier).await;
            }
            ExecutionState::Succeeded => true,
            ExecutionState::Failed | ExecutionState::Canceled | ExecutionState::Abandoned => false,
            _ => return Ok(()),
        };
        let Some((mut record, version)) = self.waiting_at((&a.pipeline, &a.stage, &a.action), earlier).await? else {
            return Ok(());
        };
        let summary = self.decision_summary(a).await;
        let effects = approval::decide(&mut record, approved, at, summary.as_deref());
        let key = record.message_key();
        batch.keep(Living::Approval, &key, false, &record, Some(version));
        batch.effects(key, Some(&to.channel), effects, || approval::render(&record, now));
        Ok(())
    }

    /// The summary CodePipeline kept with an approval's decision.
    async fn decision_summary(&self, a: &PipelineAction) -> Option<String> {
        let name = PipelineName::parse(&a.pipeline).ok()?;
        match self.pipelines.state(&name).await {
            Ok(state) => {
                state
                    .stages
                    .into_iter()
                    .find(|s| s.name == a.stage)?
                    .actions
                    .into_iter()
                    .find(|x| x.name == a.action)?
                    .summary
            }
            Err(err) => {
                warn!(pipeline = %a.pipeline, error = %err, "cannot read who decided the approval");
                None
            }
        }
    }

    /// The time-driven half: escalations and calmed-down flapping alarms,
    /// one batch per alarm. Each alarm's record and writes are committed on
    /// their own: in a storm dozens of alarms calm down in one sweep, and
    /// all of them in one commit outgrew DynamoDB's 100 writes per
    /// transaction — refused on every sweep, leaving every alarm "flapping"
    /// (found by the two-replica storm test on a loaded machine).
    pub async fn sweep(&self, now: DateTime<Utc>) -> Result<Vec<Batch>, StoreError> {
        let mut batches = Vec::new();
        for kept in self.store.living_open(Living::Alarm).await? {
            let Ok(mut alert) = serde_json::from_str::<AlertRecord>(&kept.body) else { continue };
            let mut effects = Vec::new();
            if let Some(line) = alarm::escalate(&mut alert, now, &self.settings.alarms) {
                effects.push(Effect::Update);
                effects.push(Effect::Thread(line));
            }
            if alarm::settle(&mut alert, now, &self.settings.alarms) {
                effects.push(Effect::Update);
                effects.push(Effect::Thread(mrkdwn!(
                    ":white_check_mark: Calm again: OK since {}",
                    alert.changed.format("%H:%M UTC")
                )));
            }
            if effects.is_empty() {
                continue;
            }
            let mut batch = Batch::default();
            batch.keep(Living::Alarm, &alert.arn, alert.is_open(), &alert, Some(kept.version));
            // The alarm's ARN names its account: arn:aws:cloudwatch:REGION:ACCOUNT:alarm:NAME.
            let account = alert.arn.split(':').nth(4).and_then(|id| self.settings.accounts.get(id));
            batch.effects(alert.message_key(), None, effects, || {
                named(alarm::render(&alert, now), account.map(String::as_str))
            });
            batches.push(batch);
        }
        Ok(batches)
    }
}

/// `reply` with a context line naming the account `name`, if any, and its
/// buttons' command lines acting there (`--account NAME`): a Retry or an
/// Approve pressed on a prod pipeline's message must act in prod.
fn named(reply: Reply, name: Option<&str>) -> Reply {
    let Some(name) = name else { return reply };
    let mut reply = reply.context(vec![mrkdwn!("Account *{}*", name)]);
    for block in &mut reply.blocks {
        let Block::Buttons(buttons) = block else { continue };
        for button in buttons {
            if let Press::Run(line) | Press::Ask(line) = &mut button.press {
                line.push_str(&format!(" {ACCOUNT} {name}"));
            }
        }
    }
    reply
}

/// The action and build id of a failed CodeBuild action (its external execution id).
fn failed_build<'a>(what: &What<'a>) -> Option<(&'a str, &'a str)> {
    match what {
        What::Action { action, state: ExecutionState::Failed, build: Some(build), .. } => Some((action, build)),
        _ => None,
    }
}

fn is_approval(a: &PipelineAction) -> bool {
    a.action_type.as_ref().is_some_and(|t| t.category == "Approval")
}

/// The CodeBuild build an action ran, when its provider is CodeBuild.
fn codebuild_id(a: &PipelineAction) -> Option<&str> {
    a.action_type.as_ref().filter(|t| t.provider == "CodeBuild")?;
    a.result.as_ref()?.external_execution_id.as_deref().filter(|id| !id.is_empty())
}

/// What a failed action's event says went wrong.
fn action_error(a: &PipelineAction) -> Option<String> {
    let result = a.result.as_ref();
    let summary = result.and_then(|r| r.external_execution_summary.clone());
    summary.or_else(|| a.additional_information.clone()).or_else(|| result.and_then(|r| r.error_code.clone()))
}

#[cfg(test)]
#[path = "notifier_tests.rs"]
mod tests;
