//! [`LivePolicy`]: the policy in force, which a reload may replace while the
//! bot runs, and its [`PolicyVersion`].
//!
//! Everything that judges or names approvers (the runner, the change
//! lifecycle, the parameter hooks, notification mentions) holds a clone of
//! the one `LivePolicy` and reads [`LivePolicy::current`] at the moment it
//! decides, so a reload applies to the next decision everywhere at once. A
//! decision already underway keeps the `Arc<Policy>` it read: nothing is
//! judged by half of one policy and half of another.
//!
//! A `std::sync::RwLock` around an `Arc` is enough: reads copy the `Arc`
//! and let go at once, and a write happens once per reload.

use std::fmt;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use opsbot_policies::Policy;
use sha2::{Digest, Sha256};

/// Which policy is in force: a short hash of its source and when it was
/// loaded. Displays as `v1a2b3c4d5e6 loaded 2026-12-07 12:04 UTC`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVersion {
    /// The first 12 hex digits of the SHA-256 of the policy's source, or
    /// `builtin` for the built-in policy.
    pub id: String,
    pub loaded_at: DateTime<Utc>,
}

impl PolicyVersion {
    /// The version of a policy whose source is `sources` (in the order read),
    /// loaded at `at`. The same sources give the same id on every replica.
    pub fn of(sources: &[&str], at: DateTime<Utc>) -> Self {
        let mut hash = Sha256::new();
        for source in sources {
            // Length-prefixed, so ["ab", "c"] and ["a", "bc"] differ.
            hash.update((source.len() as u64).to_be_bytes());
            hash.update(source.as_bytes());
        }
        let id = hash.finalize().iter().take(6).map(|b| format!("{b:02x}")).collect();
        PolicyVersion { id, loaded_at: at }
    }

    /// The built-in policy's version.
    pub fn builtin(at: DateTime<Utc>) -> Self {
        PolicyVersion { id: "builtin".into(), loaded_at: at }
    }
}

impl fmt::Display for PolicyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = match self.id.as_str() {
            "builtin" => "built-in".to_owned(),
            "fixed" => "fixed".to_owned(),
            hash => format!("v{hash}"),
        };
        write!(f, "{id} loaded {}", self.loaded_at.format("%Y-%m-%d %H:%M UTC"))
    }
}

/// The policy in force and its version; clones share it.
#[derive(Clone)]
pub struct LivePolicy(Arc<RwLock<Arc<Loaded>>>);

struct Loaded {
    policy: Arc<Policy>,
    version: PolicyVersion,
}

impl LivePolicy {
    pub fn new(policy: Arc<Policy>, version: PolicyVersion) -> Self {
        LivePolicy(Arc::new(RwLock::new(Arc::new(Loaded { policy, version }))))
    }

    /// The policy to judge by now.
    pub fn current(&self) -> Arc<Policy> {
        self.loaded().policy.clone()
    }

    /// The version of [`LivePolicy::current`].
    pub fn version(&self) -> PolicyVersion {
        self.loaded().version.clone()
    }

    /// Puts `policy` in force for every decision from now on.
    pub fn replace(&self, policy: Arc<Policy>, version: PolicyVersion) {
        let loaded = Arc::new(Loaded { policy, version });
        // A poisoned lock only means a panic elsewhere while swapping an Arc:
        // the value inside is still whole.
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = loaded;
    }

    fn loaded(&self) -> Arc<Loaded> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl fmt::Debug for LivePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LivePolicy").field(&self.version()).finish()
    }
}

/// A policy given in code and never reloaded (the demo, tests): its version
/// is `fixed`, as there is no source to hash.
impl From<Arc<Policy>> for LivePolicy {
    fn from(policy: Arc<Policy>) -> Self {
        let version = PolicyVersion { id: "fixed".into(), loaded_at: Utc::now() };
        LivePolicy::new(policy, version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replaced_policy_is_what_every_clone_judges_by_next() {
        let at = DateTime::parse_from_rfc3339("2026-12-07T12:04:00Z").unwrap().to_utc();
        let live = LivePolicy::new(Arc::new(crate::default_policy()), PolicyVersion::builtin(at));
        let held = live.clone();
        assert_eq!(held.version().to_string(), "built-in loaded 2026-12-07 12:04 UTC");
        let empty = Policy::from_yaml("rules: []\n", std::path::Path::new("p.yaml"), &[]).unwrap();
        live.replace(Arc::new(empty), PolicyVersion::of(&["rules: []"], at));
        assert_eq!(held.current().rule_count(), 0);
        assert!(held.version().to_string().starts_with('v') && held.version().id.len() == 12);
    }

    #[test]
    fn the_version_depends_on_every_source_and_nothing_else() {
        let at = Utc::now();
        let one = PolicyVersion::of(&["roles: {}", "rules: []"], at);
        assert_eq!(one.id, PolicyVersion::of(&["roles: {}", "rules: []"], at + chrono::Duration::hours(1)).id);
        assert_ne!(one.id, PolicyVersion::of(&["roles: {}rules: []"], at).id);
        assert_ne!(one.id, PolicyVersion::of(&["roles: {}", "rules: [x]"], at).id);
    }
}
