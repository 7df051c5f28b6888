//! Starting notifications with the app (whose outbox they write through):
//! the notification handler, one SQS poller per queue and — when SNS topics are configured —
//! the `POST /sns` endpoint. Nothing starts unless `notifications:` names a
//! source (SQS queues or SNS topics).

use std::sync::Arc;
use std::time::Duration;

use opsbot_commands::ports::{Pipelines, StoppedTasks};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::build_log::BuildLogs;
use super::intake::sns::confirm::ConfirmPolicy;
use super::intake::sns::fetch::{HttpsCertSource, SnsHttp};
use super::intake::sns::{SnsError, verify::SnsVerifier};
use super::notifier::Notifier;
use super::service::Notifications;
use super::tags::{ReadTags, TagCache};
use super::why_reads::AccountReads;
use crate::metrics::Metrics;
use crate::notify::intake::sns::endpoint::SnsEndpoint;
use crate::settings::NotificationSettings;
use crate::slack::outbox::Outbox;
use crate::store::Storage;
use opsbot_commands::ports::Clock;

/// What [`start`] started.
pub struct Started {
    pub notifications: Arc<Notifications>,
    /// `POST /sns`, when SNS topics are configured.
    pub sns: Option<SnsEndpoint>,
    pub tasks: Vec<JoinHandle<()>>,
}

/// What notifications are started from.
pub struct Parts<'a> {
    pub settings: &'a NotificationSettings,
    pub store: Arc<dyn Storage>,
    pub outbox: Outbox,
    pub policy: opsbot_commands::LivePolicy,
    pub pipelines: Arc<dyn Pipelines>,
    /// Where routes that test tags read them (cached here).
    pub tags: Option<Arc<dyn ReadTags>>,
    /// Where a failed build's log is read (`None`: not shown).
    pub builds: Option<Arc<dyn BuildLogs>>,
    /// Where a failed ECS deployment's stopped tasks are read (`None`: not shown).
    pub stopped_tasks: Option<Arc<dyn StoppedTasks>>,
    /// Where a failed Automation execution's steps are read (`None`: not shown).
    pub automations: Option<Arc<dyn opsbot_commands::ports::Automations>>,
    /// Where those three are read for a notification from an account of
    /// `aws.accounts` (`None`: through the three above, whatever the account).
    pub account_reads: Option<Arc<dyn AccountReads>>,
    pub sqs: Option<aws_sdk_sqs::Client>,
    pub clock: Clock,
    /// How often alarms are checked for escalation and calm (the app's sweep interval).
    pub sweep_every: Duration,
    /// Where intake and handling lag are counted.
    pub metrics: Arc<Metrics>,
}

/// Starts notifications when configured; `None` when `notifications:` names
/// no source. SQS polling ends with `intake` (a stopping replica takes no
/// more), handling with `stop`.
pub fn start(
    parts: Parts<'_>,
    intake: &CancellationToken,
    stop: &CancellationToken,
) -> Result<Option<Started>, SnsError> {
    let settings = parts.settings;
    if settings.sqs_queues.is_empty() && settings.sns_topics.is_empty() {
        return Ok(None);
    }
    let mut notifier = Notifier::new(parts.store, settings.clone(), parts.policy, parts.pipelines);
    if let Some(tags) = parts.tags {
        notifier = notifier.with_tags(Arc::new(TagCache::new(tags)));
    }
    if let Some(builds) = parts.builds {
        notifier = notifier.with_build_logs(builds);
    }
    if let Some(tasks) = parts.stopped_tasks {
        notifier = notifier.with_stopped_tasks(tasks);
    }
    if let Some(automations) = parts.automations {
        notifier = notifier.with_automations(automations);
    }
    if let Some(accounts) = parts.account_reads {
        notifier = notifier.with_account_reads(accounts);
    }
    let notifications =
        Notifications::new(notifier, Arc::new(parts.outbox), parts.clock, parts.sweep_every, parts.metrics);
    let mut tasks = vec![tokio::spawn(notifications.clone().run(stop.clone()))];
    match parts.sqs {
        Some(client) => {
            for queue in &settings.sqs_queues {
                let poll =
                    super::intake::sqs::poll(client.clone(), queue.clone(), notifications.clone(), intake.clone());
                tasks.push(tokio::spawn(poll));
            }
        }
        None if !settings.sqs_queues.is_empty() => warn!("SQS queues are configured but no SQS client was given"),
        None => {}
    }
    let sns = if settings.sns_topics.is_empty() { None } else { Some(sns_endpoint(settings, &notifications)?) };
    info!(queues = settings.sqs_queues.len(), topics = settings.sns_topics.len(), "notifications started");
    Ok(Some(Started { notifications, sns, tasks }))
}

fn sns_endpoint(settings: &NotificationSettings, notifications: &Arc<Notifications>) -> Result<SnsEndpoint, SnsError> {
    let http = SnsHttp::new()?;
    let allow = settings.cert_url_allow.clone();
    let verifier = if settings.skip_sns_signatures {
        warn!(
            "!!! notifications.insecure_skip_sns_signatures is ON: POST /sns accepts UNSIGNED messages from anyone. \
             Use it only for a benchmark on a closed machine, never in production !!!"
        );
        None
    } else {
        Some(SnsVerifier::new(allow.clone(), Arc::new(HttpsCertSource(http.clone()))))
    };
    let confirm = ConfirmPolicy::new(settings.sns_topics.iter().cloned(), allow);
    let (clock, fresh) = (notifications.clock(), settings.sns_fresh);
    Ok(SnsEndpoint { verifier, confirm, http, inbox: notifications.clone(), clock, fresh })
}
