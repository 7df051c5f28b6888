//! The scheduled drift check (`params.drift_check`): every `every`, each
//! environment's declared parameters are compared with Parameter Store
//! (`cmd::drift`, what `params diff` shows) and the result applied to its
//! living message ([`super::lifecycle::drift`]).
//!
//! # Decisions
//! - One replica checks per period: each replica's timer ticks every
//!   `every`, and a tick first claims the period (`drift-check:<every>:<n>`,
//!   `n` counting periods of wall-clock time) in the store, with the same
//!   once-per-key claim that makes each Slack request run once. The replica
//!   that claims it reads Parameter Store; the others skip that period, so N
//!   replicas cost one set of reads per period, not N. A period whose
//!   claimer dies before checking is simply skipped: the next one checks.
//! - Exactly once across replicas, even so: a record is written only over
//!   the version it was read at, in one transaction with its Slack writes
//!   (`Outbox::commit`). The replica that loses a race writes nothing; the
//!   winner's message stands.
//! - A check that fails (AWS, a broken declared file) is logged and tried
//!   again next time; it never resolves or posts anything.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use opsbot_commands::cmd::drift;
use opsbot_commands::ports::{Clock, Gateways};
use opsbot_commands::values::ChannelId;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::lifecycle::Lifecycle;
use super::lifecycle::drift::{DriftRecord, apply, render};
use super::notifier::Batch;
use crate::slack::outbox::Outbox;
use crate::store::{Living, Storage};

pub struct DriftCheck {
    pub aws: Gateways,
    pub store: Arc<dyn Storage>,
    pub outbox: Outbox,
    /// Where a drifted environment's message is posted.
    pub channel: ChannelId,
}

impl DriftCheck {
    /// Checks every environment once, at `now`.
    pub async fn check(&self, now: DateTime<Utc>) {
        for (env, _) in self.aws.declared.environments() {
            if let Err(why) = self.check_env(&env, now).await {
                warn!(env, error = %why, "parameter drift check failed; trying again next time");
            }
        }
    }

    async fn check_env(&self, env: &str, now: DateTime<Utc>) -> Result<(), String> {
        let drift = drift::current(&self.aws, env).await.map_err(|e| e.to_string())?;
        let kept = self.store.living(Living::Drift, env).await.map_err(|e| e.to_string())?;
        let version = kept.as_ref().map(|k| k.version);
        let record = kept.and_then(|k| serde_json::from_str::<DriftRecord>(&k.body).ok());
        let step = apply(record, env, &drift, now);
        let Some(record) = step.record else { return Ok(()) };
        let mut batch = Batch::default();
        batch.keep(Living::Drift, env, record.is_open(), &record, version);
        batch.effects(record.message_key(), Some(&self.channel), step.effects, || render(&record));
        let Err(err) = self.outbox.commit(&batch.records, &batch.writes, None).await else { return Ok(()) };
        // Lost a race with another replica that kept the same finding: its message stands.
        let now_kept = self.store.living(Living::Drift, env).await.ok().flatten();
        let theirs = now_kept.and_then(|k| serde_json::from_str::<DriftRecord>(&k.body).ok());
        match theirs {
            Some(theirs) if theirs.lines == record.lines && theirs.is_open() == record.is_open() => {
                info!(env, "another replica recorded this drift first");
                Ok(())
            }
            _ => Err(err.to_string()),
        }
    }

    /// Checks every environment at `now` unless another replica claimed
    /// this period of `every` first; true when this one checked.
    pub async fn tick(&self, now: DateTime<Utc>, every: Duration) -> bool {
        let secs = every.as_secs().max(1);
        let key = format!("drift-check:{secs}:{}", now.timestamp().div_euclid(secs as i64));
        match self.store.claim(&key, now).await {
            Ok(true) => {
                self.check(now).await;
                true
            }
            Ok(false) => {
                debug!(key, "another replica checks parameter drift this period");
                false
            }
            Err(err) => {
                warn!(error = %err, "cannot claim this period's parameter drift check; trying again next time");
                false
            }
        }
    }

    /// Checks every `every` (the first at once) until `stop`, one replica per period.
    pub async fn run(self, every: Duration, clock: Clock, stop: CancellationToken) {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = ticks.tick() => {
                    self.tick(clock(), every).await;
                }
            }
        }
    }
}
