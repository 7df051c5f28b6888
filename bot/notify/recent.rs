//! [`RecentKeys`]: the dedup keys this process last saw committed, so that a
//! redelivery of one (SNS and SQS deliver at least once; a retrying sender
//! delivers the same notification many times) is answered "duplicate"
//! without asking the store.
//!
//! # Decisions
//! - Only keys the store has committed are added, so a key found here is a
//!   duplicate whatever the store would say; a key not found is asked of the
//!   store as before. The store stays the one judge of what is new.
//! - Bounded by count ([`CAPACITY`], the oldest forgotten first), not by
//!   time: the store forgets handled keys after `store.retention.inbox`, and
//!   a key remembered here a little longer only keeps a very late
//!   redelivery from being posted twice.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

/// Keys remembered: about 0.5 MB at the longest alarm keys, filled only as
/// notifications arrive.
pub const CAPACITY: usize = 4096;

#[derive(Default)]
pub struct RecentKeys {
    keys: Mutex<Keys>,
}

#[derive(Default)]
struct Keys {
    known: HashSet<Arc<str>>,
    /// `known`'s keys, oldest first, for forgetting in order.
    order: VecDeque<Arc<str>>,
}

impl RecentKeys {
    /// Whether `key` was seen committed (and not yet forgotten).
    pub fn knows(&self, key: &str) -> bool {
        self.keys.lock().unwrap_or_else(PoisonError::into_inner).known.contains(key)
    }

    /// Remembers `key`, committed by the store; forgets the oldest beyond [`CAPACITY`].
    pub fn committed(&self, key: &str) {
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        if keys.known.contains(key) {
            return;
        }
        if keys.order.len() == CAPACITY
            && let Some(oldest) = keys.order.pop_front()
        {
            keys.known.remove(&oldest);
        }
        let key: Arc<str> = key.into();
        keys.known.insert(key.clone());
        keys.order.push_back(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_committed_key_is_known_and_another_is_not() {
        let recent = RecentKeys::default();
        recent.committed("alarm:a");
        assert!(recent.knows("alarm:a"));
        assert!(!recent.knows("alarm:b"));
    }

    #[test]
    fn beyond_capacity_the_oldest_keys_are_forgotten_first() {
        let recent = RecentKeys::default();
        for i in 0..CAPACITY + 2 {
            recent.committed(&format!("k{i}"));
        }
        recent.committed("k5"); // known already: not moved, not counted twice
        assert!(!recent.knows("k0") && !recent.knows("k1"), "the two oldest are forgotten");
        assert!(recent.knows("k2") && recent.knows(&format!("k{}", CAPACITY + 1)));
        recent.committed("new");
        assert!(!recent.knows("k2") && recent.knows("k5") && recent.knows("new"));
    }
}
