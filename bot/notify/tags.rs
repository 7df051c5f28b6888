//! Resource tags for routing (`match: { tags: { team: payments } }`): the
//! [`ReadTags`] port (`bot/aws/tags.rs` reads ECS services', CloudWatch
//! alarms' and CodePipeline pipelines' tags) behind a [`TagCache`].
//!
//! # Decisions
//! - Tags are cached per resource ARN for [`TAGS_FOR`]: an alarm storm or a
//!   busy pipeline asks AWS once per resource per ten minutes, not once per
//!   notification. A retag shows within that time.
//! - A failed read (access denied, throttled, gone) is cached as "no tags"
//!   for the same time and logged once per resource: routes naming tags do
//!   not match it, so it goes by the other routes (name, account, region,
//!   then the default channel) — a notification is never held up or lost
//!   for want of its tags.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use opsbot_commands::GatewayResult;
use tokio::time::Instant;
use tracing::warn;

/// A resource's tags, key → value.
pub type Tags = BTreeMap<String, String>;

/// How long a resource's tags (or a failure to read them) are kept.
pub const TAGS_FOR: Duration = Duration::from_secs(10 * 60);

/// Reads a resource's tags by its ARN.
#[async_trait]
pub trait ReadTags: Send + Sync {
    async fn tags(&self, arn: &str) -> GatewayResult<Tags>;
}

/// [`ReadTags`] with each answer kept for [`TAGS_FOR`].
pub struct TagCache {
    reader: Arc<dyn ReadTags>,
    kept: Mutex<HashMap<String, (Option<Tags>, Instant)>>,
    /// Resources whose failed read was logged already.
    warned: Mutex<HashSet<String>>,
}

impl TagCache {
    pub fn new(reader: Arc<dyn ReadTags>) -> Self {
        TagCache { reader, kept: Mutex::default(), warned: Mutex::default() }
    }

    /// `arn`'s tags; `None` when they cannot be read.
    pub async fn tags(&self, arn: &str) -> Option<Tags> {
        if let Some((tags, at)) = self.kept.lock().unwrap().get(arn)
            && at.elapsed() < TAGS_FOR
        {
            return tags.clone();
        }
        let tags = match self.reader.tags(arn).await {
            Ok(tags) => Some(tags),
            Err(err) => {
                if self.warned.lock().unwrap().insert(arn.to_owned()) {
                    warn!(%arn, error = %err, "cannot read the resource's tags: routes by tags skip it");
                }
                None
            }
        };
        self.kept.lock().unwrap().insert(arn.to_owned(), (tags.clone(), Instant::now()));
        tags
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use opsbot_commands::GatewayError;

    use super::*;

    /// Tags `team=payments` for every ARN but `denied`, counting the reads.
    #[derive(Default)]
    struct Counted(AtomicUsize);

    #[async_trait]
    impl ReadTags for Counted {
        async fn tags(&self, arn: &str) -> GatewayResult<Tags> {
            self.0.fetch_add(1, Ordering::SeqCst);
            match arn {
                "denied" => Err(GatewayError::AccessDenied { message: "ecs:ListTagsForResource".into() }),
                _ => Ok(Tags::from([("team".into(), "payments".into())])),
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn tags_are_read_once_per_resource_until_ten_minutes_pass() {
        let reader = Arc::new(Counted::default());
        let cache = TagCache::new(reader.clone());
        for _ in 0..50 {
            assert_eq!(cache.tags("arn:a").await.unwrap()["team"], "payments");
        }
        cache.tags("arn:b").await;
        assert_eq!(reader.0.load(Ordering::SeqCst), 2, "one read per resource");

        tokio::time::advance(TAGS_FOR).await;
        cache.tags("arn:a").await;
        assert_eq!(reader.0.load(Ordering::SeqCst), 3, "read again once stale");
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_read_is_no_tags_and_is_not_retried_for_every_notification() {
        let reader = Arc::new(Counted::default());
        let cache = TagCache::new(reader.clone());
        for _ in 0..20 {
            assert_eq!(cache.tags("denied").await, None);
        }
        assert_eq!(reader.0.load(Ordering::SeqCst), 1);
    }
}
