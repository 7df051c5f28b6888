//! Whether Slack answers, as one state for every call the bot makes: the
//! outbox's single attempts and the retried calls alike. An outage is logged
//! when it starts and when it ends (how long, how many calls failed), not
//! once per retry: a minute without Slack is two lines, not hundreds.
//!
//! "Unreachable" means a network failure or a 5xx ([`CallError::Transient`]).
//! A 429 or Slack's own `ok: false` is an answer: Slack is there.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tracing::{debug, info, warn};

use super::call_error::CallError;

/// Since when Slack has not answered, and how many calls failed since.
#[derive(Debug, Default)]
pub struct Reachability {
    down: Mutex<Option<Outage>>,
}

#[derive(Debug, Clone, Copy)]
struct Outage {
    since: Instant,
    failed_calls: u64,
}

impl Reachability {
    /// Records how a call went (`Err` already classified).
    pub fn note<T>(&self, result: &Result<T, CallError>) {
        match result {
            Err(CallError::Transient { method, why }) => self.failed(method, why),
            Ok(_) | Err(CallError::RateLimited { .. } | CallError::Permanent { .. }) => self.answered(),
        }
    }

    /// Whether the last call found Slack unreachable.
    pub fn is_down(&self) -> bool {
        self.lock().is_some()
    }

    fn failed(&self, method: &str, why: &str) {
        let mut down = self.lock();
        match down.as_mut() {
            Some(outage) => {
                outage.failed_calls += 1;
                debug!(method, why, failed_calls = outage.failed_calls, "Slack still unreachable");
            }
            None => {
                *down = Some(Outage { since: Instant::now(), failed_calls: 1 });
                warn!(method, why, "Slack unreachable; retrying quietly until it answers (writes are kept)");
            }
        }
    }

    fn answered(&self) {
        if let Some(outage) = self.lock().take() {
            let down_for = Duration::from_secs(outage.since.elapsed().as_secs());
            info!(down_for = ?down_for, failed_calls = outage.failed_calls, "Slack reachable again");
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Outage>> {
        self.down.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transient() -> Result<(), CallError> {
        Err(CallError::Transient { method: "chat.postMessage", why: "HTTP 503".into() })
    }

    #[test]
    fn an_outage_is_one_state_from_the_first_failure_to_the_first_answer() {
        let reach = Reachability::default();
        assert!(!reach.is_down());
        for _ in 0..5 {
            reach.note(&transient());
        }
        assert!(reach.is_down());
        assert_eq!(reach.lock().map(|o| o.failed_calls), Some(5));
        reach.note(&Err::<(), _>(CallError::Permanent { method: "chat.update", error: "message_not_found".into() }));
        assert!(!reach.is_down(), "an ok:false is an answer");
        reach.note(&transient());
        reach.note(&Err::<(), _>(CallError::RateLimited { method: "chat.update", retry_after: Duration::ZERO }));
        assert!(!reach.is_down(), "a 429 is an answer");
    }
}
