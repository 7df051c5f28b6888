//! [`CallError`]: one failed Slack call, classified as rate-limited, transient
//! or permanent. What the retry loop (`web.rs`), the single-attempt calls
//! (`single.rs`), the outage log (`reach.rs`) and the outbox decide on.

use std::time::Duration;

/// One failed attempt, classified for whoever decides about the next one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// HTTP 429: Slack served nothing; try again after `retry_after`.
    #[error("Slack rate-limited {method}; retry after {} s", retry_after.as_secs())]
    RateLimited { method: &'static str, retry_after: Duration },
    /// 5xx or a network failure: the call may or may not have taken effect.
    #[error("Slack {method} failed, worth retrying: {why}")]
    Transient { method: &'static str, why: String },
    /// Slack's `ok: false` (e.g. `channel_not_found`) or a request it cannot
    /// take: retrying the same call gives the same answer.
    #[error("Slack refused {method}: {error}")]
    Permanent { method: &'static str, error: String },
}
