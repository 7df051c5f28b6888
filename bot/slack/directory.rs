//! Who belongs to which Slack user group, for policies that name groups
//! (`roles: { leads: { groups: [S0RELEASE] } }`).
//!
//! # Decisions
//! - One `usergroups.list?include_users=true` call answers for every user and
//!   every group at once, so the whole membership map is cached, not one user
//!   at a time: a busy workspace costs one Tier 2 call per [`TTL`].
//! - Fetches are single-flight: concurrent requests after the cache expired
//!   wait for the one fetch under way instead of starting their own.
//! - If Slack refuses (no `usergroups:read` scope, an outage), the user has
//!   no groups — rules naming groups then simply do not match — and a warning
//!   is logged. The refusal is remembered for [`RETRY_AFTER_FAILURE`], so a
//!   missing scope does not cost a failing call per request. A request never
//!   fails because groups are unknown.
//! - Time is tokio's clock, so tests drive expiry with paused time.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use opsbot_commands::values::SlackUserId;
use tokio::sync::Mutex;
use tokio::time::Instant;
use tracing::{debug, warn};

use super::web::{SlackWeb, WebError};

/// How long a fetched membership map is trusted.
pub const TTL: Duration = Duration::from_secs(5 * 60);
/// How long a failed fetch is remembered before Slack is asked again.
pub const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(30);

/// Where memberships come from: `(group id, member user ids)` for every group.
#[async_trait]
pub trait GroupSource: Send + Sync {
    async fn user_groups(&self) -> Result<Vec<(String, Vec<String>)>, WebError>;
}

#[async_trait]
impl GroupSource for SlackWeb {
    async fn user_groups(&self) -> Result<Vec<(String, Vec<String>)>, WebError> {
        SlackWeb::user_groups(self).await
    }
}

/// User id → the ids of their groups, trusted until `valid_until`.
struct Snapshot {
    members: HashMap<String, Vec<String>>,
    valid_until: Instant,
}

pub struct Directory {
    source: Arc<dyn GroupSource>,
    ttl: Duration,
    cache: Mutex<Option<Snapshot>>,
}

impl Directory {
    pub fn new(source: Arc<dyn GroupSource>) -> Self {
        Self::with_ttl(source, TTL)
    }

    pub fn with_ttl(source: Arc<dyn GroupSource>, ttl: Duration) -> Self {
        Directory { source, ttl, cache: Mutex::new(None) }
    }

    /// The ids of `user`'s groups, sorted; empty when Slack cannot tell.
    pub async fn groups(&self, user: &SlackUserId) -> Vec<String> {
        let mut cache = self.cache.lock().await;
        let fresh = cache.as_ref().is_some_and(|s| Instant::now() < s.valid_until);
        if !fresh {
            *cache = Some(self.fetch().await);
        }
        cache.as_ref().and_then(|s| s.members.get(user.as_str()).cloned()).unwrap_or_default()
    }

    async fn fetch(&self) -> Snapshot {
        match self.source.user_groups().await {
            Ok(groups) => {
                debug!(groups = groups.len(), "user groups fetched");
                Snapshot { members: by_user(groups), valid_until: Instant::now() + self.ttl }
            }
            Err(err) => {
                warn!(error = %err, "cannot read Slack user groups (is the usergroups:read scope granted?); \
                    policies naming groups will not match for now");
                let retry = RETRY_AFTER_FAILURE.min(self.ttl);
                Snapshot { members: HashMap::new(), valid_until: Instant::now() + retry }
            }
        }
    }
}

fn by_user(groups: Vec<(String, Vec<String>)>) -> HashMap<String, Vec<String>> {
    let mut members: HashMap<String, Vec<String>> = HashMap::new();
    for (group, users) in groups {
        for user in users {
            members.entry(user).or_default().push(group.clone());
        }
    }
    members.values_mut().for_each(|groups| groups.sort());
    members
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Two groups; fails while `down` is set; counts calls.
    #[derive(Default)]
    struct Fake {
        calls: AtomicUsize,
        down: std::sync::atomic::AtomicBool,
    }

    #[async_trait]
    impl GroupSource for Fake {
        async fn user_groups(&self) -> Result<Vec<(String, Vec<String>)>, WebError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if self.down.load(Ordering::SeqCst) {
                return Err(WebError::Api { method: "usergroups.list", error: "missing_scope".into() });
            }
            Ok(vec![
                ("S0RELEASE".into(), vec!["U0LEAD1".into(), "U0LEAD2".into()]),
                ("S0ONCALL".into(), vec!["U0LEAD1".into()]),
            ])
        }
    }

    fn user(id: &str) -> SlackUserId {
        SlackUserId::parse(id).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn a_users_groups_come_from_one_call_cached_for_five_minutes() {
        let fake = Arc::new(Fake::default());
        let directory = Directory::new(fake.clone());
        assert_eq!(directory.groups(&user("U0LEAD1")).await, ["S0ONCALL", "S0RELEASE"]);
        assert_eq!(directory.groups(&user("U0LEAD2")).await, ["S0RELEASE"]);
        assert!(directory.groups(&user("U0DEV")).await.is_empty());
        assert_eq!(fake.calls.load(Ordering::SeqCst), 1, "one call answers for everyone");

        tokio::time::advance(TTL - Duration::from_secs(1)).await;
        directory.groups(&user("U0LEAD1")).await;
        assert_eq!(fake.calls.load(Ordering::SeqCst), 1, "still fresh");
        tokio::time::advance(Duration::from_secs(2)).await;
        directory.groups(&user("U0LEAD1")).await;
        assert_eq!(fake.calls.load(Ordering::SeqCst), 2, "asked again once stale");
    }

    #[tokio::test(start_paused = true)]
    async fn when_slack_refuses_users_have_no_groups_and_it_is_asked_again_later() {
        let fake = Arc::new(Fake::default());
        fake.down.store(true, Ordering::SeqCst);
        let directory = Directory::new(fake.clone());
        assert!(directory.groups(&user("U0LEAD1")).await.is_empty());
        assert!(directory.groups(&user("U0LEAD1")).await.is_empty());
        assert_eq!(fake.calls.load(Ordering::SeqCst), 1, "a refusal is remembered for a while");

        fake.down.store(false, Ordering::SeqCst);
        tokio::time::advance(RETRY_AFTER_FAILURE + Duration::from_secs(1)).await;
        assert_eq!(directory.groups(&user("U0LEAD1")).await, ["S0ONCALL", "S0RELEASE"]);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_lookups_share_one_fetch() {
        let fake = Arc::new(Fake::default());
        let directory = Arc::new(Directory::new(fake.clone()));
        let lookups: Vec<_> = (0..10)
            .map(|_| {
                let directory = directory.clone();
                tokio::spawn(async move { directory.groups(&user("U0LEAD2")).await })
            })
            .collect();
        for lookup in lookups {
            assert_eq!(lookup.await.unwrap(), ["S0RELEASE"]);
        }
        assert_eq!(fake.calls.load(Ordering::SeqCst), 1);
    }
}
