//! The sandbox: an in-process simulated AWS account that implements all four
//! of the commands' ports. It backs `opsbot demo` (no credentials, no network)
//! and the fast scenario tests.
//!
//! # Layout
//! - [`Sandbox`]: the account behind one lock; [`Sandbox::gateways`] bundles it
//!   as the commands' [`Gateways`].
//! - [`account`]: the simulated account id and region, and [`Account`], the
//!   plain data — one struct per AWS resource, in [`pipelines`], [`ecs`],
//!   [`params`] and [`ssm`]. Those hold the data only; the ports over it are in
//!   their `ports` children (`pipelines/ports.rs`, `ecs/ports.rs`,
//!   `params/ports.rs`) and in [`alarms`], [`automation`] and
//!   [`run_command`], so the data never imports the [`Sandbox`] that holds it.
//! - [`accounts`]: the account under its name, as `aws.accounts` lists one.
//! - [`seed`]: the demo account a new user sees first.
//! - `builds.rs`: the failed build the demo's [`story`] tells, read by its
//!   notifications as `serve` reads CodeBuild and CloudWatch Logs.
//!
//! # Decisions
//! - State is plain data behind a `std::sync::Mutex`, never held across an
//!   `.await`: later features (approvals, rollouts, automations, change
//!   operations) mutate it through [`Sandbox::update`] and readers see a
//!   consistent snapshot.
//! - The data is stored the way AWS stores it, and shaped into port types on
//!   the way out (e.g. a service's running count is the sum over its
//!   deployments), so making the account progress means changing one fact.
//! - Every time is derived from [`Account::now`], captured at creation, so the
//!   same seed gives the same answers in tests.
//! - It behaves like the AWS gateways where users can tell: not-found errors
//!   carry the same `what` (``pipeline `x` ``), lists are sorted as AWS sorts
//!   them, and SecureString values are kept in clear inside but only ever leave
//!   as [`opsbot_commands::ports::ParamValue::Masked`].

use std::sync::{Arc, Mutex, PoisonError};

use opsbot_commands::ports::{Gateways, Time};

pub mod account;
pub mod accounts;
pub mod alarms;
pub mod automation;
mod builds;
pub mod ecs;
pub mod events;
pub mod params;
pub mod pipelines;
pub mod run_command;
pub mod seed;
pub mod ssm;
pub mod story;

use account::Account;

/// The simulated account, shareable across tasks.
#[derive(Debug)]
pub struct Sandbox {
    account: Mutex<Account>,
}

impl Sandbox {
    pub fn new(account: Account) -> Self {
        Sandbox { account: Mutex::new(account) }
    }

    /// The demo account (see [`seed`]), with times relative to `now`.
    pub fn demo(now: Time) -> Self {
        Self::new(seed::demo(now))
    }

    /// Every port backed by this sandbox.
    pub fn gateways(self: Arc<Self>) -> Gateways {
        Gateways {
            pipelines: self.clone(),
            services: self.clone(),
            alarms: self.clone(),
            params: self.clone(),
            param_changes: self.clone(),
            automations: self.clone(),
            run_commands: self.clone(),
            documents: self.clone(),
            param_hooks: Default::default(),
            declared: std::sync::Arc::new(opsbot_commands::ports::NoDeclared),
            pipeline_changes: self.clone(),
            stopped_tasks: self.clone(),
            service_changes: self,
        }
    }

    /// The events the account emitted since the last call, oldest first (the
    /// demo delivers them to its notifier after each command line): every
    /// pipeline is brought up to the present first, so a run that moved on
    /// meanwhile tells it now.
    pub fn take_events(&self) -> Vec<String> {
        self.update(|account| {
            let mut told = Vec::new();
            for pipeline in account.pipelines.values_mut() {
                pipeline.advance(tokio::time::Instant::now());
                told.append(&mut pipeline.told);
            }
            told
        })
    }

    /// Reads the account under the lock.
    pub fn read<R>(&self, f: impl FnOnce(&Account) -> R) -> R {
        f(&self.account.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Changes the account under the lock (progress, change operations, tests).
    pub fn update<R>(&self, f: impl FnOnce(&mut Account) -> R) -> R {
        f(&mut self.account.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[tokio::test]
    async fn the_bundle_reaches_the_same_account_through_every_port() {
        let sandbox = Arc::new(Sandbox::demo(Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap()));
        let aws = sandbox.clone().gateways();
        assert_eq!(aws.pipelines.list().await.unwrap().len(), 3);
        sandbox.update(|account| account.pipelines.clear());
        assert!(aws.pipelines.list().await.unwrap().is_empty());
        assert!(!aws.services.list(None).await.unwrap().is_empty());
        assert!(!aws.alarms.list(None).await.unwrap().is_empty());
    }
}
