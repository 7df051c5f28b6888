//! How fast one channel may be written to: a token bucket in its GCRA form
//! (one "theoretical arrival time" per channel instead of a token count).
//! Slack allows chat.postMessage about once per second per channel, with
//! short bursts tolerated (<https://api.slack.com/docs/rate-limits>), so the
//! default is one write per second with a burst of three.

use std::time::Duration;

use tokio::time::Instant;

/// Pacing and retry schedule of the sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pacing {
    /// Steady rate: one write per `interval` per channel.
    pub interval: Duration,
    /// Writes a quiet channel may take at once.
    pub burst: u32,
    /// First wait after a 5xx or network failure; doubles per attempt.
    pub backoff: Duration,
    /// Longest wait between two attempts of one write.
    pub backoff_cap: Duration,
}

impl Default for Pacing {
    fn default() -> Self {
        Pacing {
            interval: Duration::from_secs(1),
            burst: 3,
            backoff: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(300),
        }
    }
}

impl Pacing {
    /// The wait before attempt `attempts + 1` of a write that failed transiently.
    pub fn backoff_after(&self, attempts: u32) -> Duration {
        self.backoff.saturating_mul(2u32.saturating_pow(attempts.saturating_sub(1))).min(self.backoff_cap)
    }
}

/// One channel's allowance.
#[derive(Debug, Clone, Copy)]
pub(super) struct Bucket {
    /// When the channel would be idle again if writes had come exactly at the steady rate.
    tat: Instant,
}

impl Bucket {
    pub fn new(now: Instant) -> Self {
        Bucket { tat: now }
    }

    /// How long until the channel may take another write.
    pub fn wait(&self, now: Instant, pacing: &Pacing) -> Duration {
        let allowance = pacing.interval.saturating_mul(pacing.burst.saturating_sub(1));
        self.tat.saturating_duration_since(now).saturating_sub(allowance)
    }

    /// Spends one write.
    pub fn take(&mut self, now: Instant, pacing: &Pacing) {
        self.tat = self.tat.max(now) + pacing.interval;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    /// Takes writes as soon as allowed from `start`; returns when each went, relative to `start`.
    fn schedule(bucket: &mut Bucket, start: Instant, writes: usize, pacing: &Pacing) -> Vec<Duration> {
        let mut now = start;
        (0..writes)
            .map(|_| {
                now += bucket.wait(now, pacing);
                bucket.take(now, pacing);
                now - start
            })
            .collect()
    }

    #[test]
    fn a_quiet_channel_takes_a_burst_of_three_then_one_write_a_second() {
        let start = Instant::now();
        let at = schedule(&mut Bucket::new(start), start, 6, &Pacing::default());
        let secs: Vec<u64> = at.iter().map(|d| d.as_secs()).collect();
        assert_eq!(secs, [0, 0, 0, 1, 2, 3]);
    }

    #[test]
    fn a_channel_that_went_quiet_gets_its_burst_back() {
        let pacing = Pacing::default();
        let start = Instant::now();
        let mut bucket = Bucket::new(start);
        schedule(&mut bucket, start, 6, &pacing);
        let later = start + 10 * SECOND;
        assert_eq!(bucket.wait(later, &pacing), Duration::ZERO);
        let at = schedule(&mut bucket, later, 4, &pacing);
        assert_eq!(at, [Duration::ZERO, Duration::ZERO, Duration::ZERO, SECOND]);
    }

    #[test]
    fn retries_back_off_exponentially_up_to_the_cap() {
        let pacing = Pacing::default();
        let waits: Vec<u64> = (1..=10).map(|n| pacing.backoff_after(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300]);
    }
}
