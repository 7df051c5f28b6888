//! The demo account: what a new user sees first in `opsbot demo`, so it tells
//! a small, believable story of a shop on a Monday morning —
//! - `storefront-web` failed its build (a checkout test), `payments-api` waits
//!   for a lead's approval before prod, `catalog-service` shipped;
//! - `prod/api` is rolling out 1.42.0 (2 of 4 new tasks up, the old 4 still
//!   serving), everything else is steady;
//! - the checkout 5xx alarm is firing, one alarm has no data;
//! - Parameter Store holds hosts, feature flags and SecureString passwords
//!   with a history by several people.
//!
//! # Layout
//! [`pipelines`], [`ecs`], [`alarms`] and [`params`] build one service each;
//! `common` holds what they share (`ago`, and the IAM identities `user` and
//! `role`), apart from this file so they need not import it.
//! All times are minutes before `now`, so a test that fixes `now` sees fixed
//! answers. Account id, region and names are made up but shaped like AWS's.

use opsbot_commands::ports::Time;

use super::account::Account;

mod alarms;
mod common;
mod ecs;
mod params;
pub(crate) mod pipelines;

/// The demo account with times relative to `now`.
pub fn demo(now: Time) -> Account {
    let mut account = Account::empty(now);
    pipelines::seed(&mut account);
    ecs::seed(&mut account);
    alarms::seed(&mut account);
    params::seed(&mut account);
    crate::sandbox::ssm::seed(&mut account.ssm);
    account
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::{TimeZone, Utc};

    use crate::sandbox::Sandbox;

    /// The demo sandbox at a fixed "now".
    pub(crate) fn demo() -> Sandbox {
        Sandbox::demo(Utc.with_ymd_and_hms(2026, 11, 23, 9, 30, 0).unwrap())
    }

    #[test]
    fn the_same_now_gives_the_same_account() {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 9, 30, 0).unwrap();
        assert_eq!(super::demo(now).pipelines, super::demo(now).pipelines);
        assert_eq!(super::demo(now).params, super::demo(now).params);
    }

    #[test]
    fn every_seeded_time_is_in_the_past() {
        let account = demo().read(|a| a.clone());
        let times = account.pipelines.values().flat_map(|p| p.executions.iter().filter_map(|e| e.updated));
        let times = times.chain(account.alarms.values().filter_map(|a| a.since));
        let times = times.chain(account.params.values().flat_map(|p| p.versions.iter().map(|v| v.modified)));
        assert!(times.into_iter().all(|t| t < account.now));
    }

    #[test]
    fn every_service_runs_a_registered_task_definition() {
        demo().read(|a| {
            for cluster in a.clusters.values() {
                for service in cluster.services.values() {
                    for d in &service.deployments {
                        let td = d.task_definition.as_ref().unwrap().to_string();
                        assert!(a.task_definitions.contains_key(&td), "{td} is not registered");
                    }
                }
            }
        });
    }
}
