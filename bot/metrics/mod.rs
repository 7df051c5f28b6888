//! What `/metrics` shows: [`Metrics`], one per running app, holding every
//! counter and histogram opsbot keeps, and the text a scrape gets
//! ([`Metrics::render`], with the gauges read at scrape time).
//!
//! # Parts
//! - `registry.rs`: counter and histogram families and the Prometheus text
//!   format (hand-written; its `//!` says why).
//! - [`aws`]: the AWS SDK interceptor that counts and times every AWS call.
//! - this file: the metric names, labels and buckets — the contract the
//!   README's "Probes and metrics" lists — and where each is fed from:
//!   commands, policy decisions and change steps through the commands'
//!   `Observe` port;
//!   Slack calls from `slack::web`; notifications from `notify::service`.
//!
//! # Decisions
//! - One instance per app, not a process global: tests run many bots in one
//!   process and each scrape must count its own bot only.
//! - Every label value is from a closed set (command names, outcomes, Slack
//!   methods, AWS operations, notification kinds and sources), never a user,
//!   a channel or free text: the number of series stays small and bounded.
//! - Names carry their unit (`_seconds`) or `_total`, with an `opsbot_` prefix.

use std::time::Duration;

use opsbot_commands::ports::observe::{Observe, Outcome};
use opsbot_commands::ports::store::AuditEvent;

pub mod aws;
mod registry;

pub use registry::gauge;
use registry::{Counter, Histogram};

/// Upper bounds (seconds) for calls and commands: 5 ms to 30 s.
const CALL_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
/// Upper bounds (seconds) for a notification's wait from arrival to being
/// handled: 10 ms up to 5 min, where failed notifications are retried.
const LAG_BUCKETS: &[f64] = &[0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0];

/// How one call to Slack or AWS ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallResult {
    Ok,
    /// Slack's 429, AWS throttling: the caller waits and tries again.
    Throttled,
    /// An answer refusing the call (Slack's `ok: false`, an AWS 4xx).
    Error,
    /// No answer, or a 5xx: the service is out of reach.
    Unavailable,
}

impl CallResult {
    pub const fn as_str(self) -> &'static str {
        match self {
            CallResult::Ok => "ok",
            CallResult::Throttled => "throttled",
            CallResult::Error => "error",
            CallResult::Unavailable => "unavailable",
        }
    }
}

/// Where a notification came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Sqs,
    Sns,
    /// The simulated account of `opsbot demo`.
    Demo,
}

impl Source {
    pub const fn as_str(self) -> &'static str {
        match self {
            Source::Sqs => "sqs",
            Source::Sns => "sns",
            Source::Demo => "demo",
        }
    }
}

/// What became of a notification that arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intake {
    New,
    /// Known already (a redelivery, or the same event by another path): shown once.
    Duplicate,
    /// Not a notification (unparseable, an SNS control message): not kept.
    Dropped,
    /// The store could not keep it: the source delivers it again.
    NotStored,
}

impl Intake {
    pub const fn as_str(self) -> &'static str {
        match self {
            Intake::New => "new",
            Intake::Duplicate => "duplicate",
            Intake::Dropped => "dropped",
            Intake::NotStored => "not_stored",
        }
    }
}

/// Every counter and histogram of one running app.
pub struct Metrics {
    commands: Counter,
    command_seconds: Histogram,
    decisions: Counter,
    changes: Counter,
    notifications: Counter,
    lag: Histogram,
    slack_calls: Counter,
    slack_seconds: Histogram,
    aws_calls: Counter,
    aws_seconds: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            commands: Counter::new(
                "opsbot_commands_total",
                "Command lines run, by command and how they ended.",
                &["command", "outcome"],
            ),
            command_seconds: Histogram::new(
                "opsbot_command_duration_seconds",
                "Time from a command line to its answer, by command.",
                &["command"],
            ),
            decisions: Counter::new(
                "opsbot_policy_decisions_total",
                "Policy decisions on requests, by command and decision (allow, deny, approval).",
                &["command", "decision"],
            ),
            changes: Counter::new(
                "opsbot_change_events_total",
                "Steps of changes as audited (requested, confirmed, approved, executed, failed, ...), by command.",
                &["command", "event"],
            ),
            notifications: Counter::new(
                "opsbot_notifications_received_total",
                "AWS notifications received, by source, kind and what became of them.",
                &["source", "kind", "outcome"],
            ),
            lag: Histogram::new(
                "opsbot_notification_handling_lag_seconds",
                "Time from a notification being stored to its Slack writes being queued.",
                &[],
            ),
            slack_calls: Counter::new(
                "opsbot_slack_calls_total",
                "Slack Web API calls (each attempt), by method and result.",
                &["method", "result"],
            ),
            slack_seconds: Histogram::new(
                "opsbot_slack_call_duration_seconds",
                "Time of one Slack Web API call attempt, by method.",
                &["method"],
            ),
            aws_calls: Counter::new(
                "opsbot_aws_calls_total",
                "AWS API calls (after the SDK's own retries), by service, operation and result.",
                &["service", "operation", "result"],
            ),
            aws_seconds: Histogram::new(
                "opsbot_aws_call_duration_seconds",
                "Time of one AWS API call, the SDK's retries included, by service and operation.",
                &["service", "operation"],
            ),
        }
    }
}

/// What a scrape reads when it happens rather than from counters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gauges {
    /// 1 when `/readyz` would answer 200.
    pub ready: bool,
    /// Slack writes waiting in the outbox and how long the oldest has waited;
    /// `None` when the store did not answer.
    pub outbox: Option<(u64, Duration)>,
    /// Socket Mode connections up (`None` in the HTTP transport).
    pub socket_connections: Option<usize>,
}

impl Metrics {
    /// One notification arrived from `source`: its kind (`none` when it was
    /// not a notification) and what became of it.
    pub fn notification(&self, source: Source, kind: &str, outcome: Intake) {
        self.notifications.inc(&[source.as_str(), kind, outcome.as_str()]);
    }

    /// A notification was handled `lag` after it was stored.
    pub fn handled(&self, lag: Duration) {
        self.lag.observe(LAG_BUCKETS, &[], lag.as_secs_f64());
    }

    /// One attempt of a Slack Web API call.
    pub fn slack_call(&self, method: &str, result: CallResult, took: Duration) {
        self.slack_calls.inc(&[method, result.as_str()]);
        self.slack_seconds.observe(CALL_BUCKETS, &[method], took.as_secs_f64());
    }

    /// One AWS API call, retries included.
    pub fn aws_call(&self, service: &str, operation: &str, result: CallResult, took: Duration) {
        self.aws_calls.inc(&[service, operation, result.as_str()]);
        self.aws_seconds.observe(CALL_BUCKETS, &[service, operation], took.as_secs_f64());
    }

    /// How many Slack calls of `method` ended as `result` so far.
    pub fn slack_calls(&self, method: &str, result: CallResult) -> u64 {
        self.slack_calls.get(&[method, result.as_str()])
    }

    /// The Prometheus text of every family, then `gauges`.
    pub fn render(&self, gauges: &Gauges) -> String {
        let mut out = String::with_capacity(8 * 1024);
        self.commands.render(&mut out);
        self.command_seconds.render(&mut out);
        self.decisions.render(&mut out);
        self.changes.render(&mut out);
        self.notifications.render(&mut out);
        self.lag.render(&mut out);
        self.slack_calls.render(&mut out);
        self.slack_seconds.render(&mut out);
        self.aws_calls.render(&mut out);
        self.aws_seconds.render(&mut out);
        gauge(&mut out, "opsbot_ready", "1 when /readyz answers 200, else 0.", f64::from(u8::from(gauges.ready)));
        if let Some((depth, oldest)) = gauges.outbox {
            gauge(&mut out, "opsbot_outbox_depth", "Slack writes waiting in the outbox.", depth as f64);
            let age = "Seconds the oldest waiting Slack write has waited (0 when none waits).";
            gauge(&mut out, "opsbot_outbox_oldest_age_seconds", age, oldest.as_secs_f64());
        }
        if let Some(count) = gauges.socket_connections {
            let help = "Socket Mode connections to Slack that are up.";
            gauge(&mut out, "opsbot_slack_socket_connections", help, count as f64);
        }
        out
    }
}

impl Observe for Metrics {
    fn command(&self, command: &'static str, outcome: Outcome, took: Duration) {
        self.commands.inc(&[command, outcome.as_str()]);
        self.command_seconds.observe(CALL_BUCKETS, &[command], took.as_secs_f64());
    }

    fn decision(&self, command: &'static str, decision: &'static str) {
        self.decisions.inc(&[command, decision]);
    }

    fn change(&self, command: &'static str, event: AuditEvent) {
        self.changes.inc(&[command, event.as_str()]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_registry_lists_every_family_and_the_gauges_it_was_given() {
        let gauges = Gauges { ready: true, outbox: Some((2, Duration::from_millis(1500))), socket_connections: None };
        let text = Metrics::default().render(&gauges);
        for family in [
            "opsbot_commands_total counter",
            "opsbot_command_duration_seconds histogram",
            "opsbot_policy_decisions_total counter",
            "opsbot_change_events_total counter",
            "opsbot_notifications_received_total counter",
            "opsbot_notification_handling_lag_seconds histogram",
            "opsbot_slack_calls_total counter",
            "opsbot_slack_call_duration_seconds histogram",
            "opsbot_aws_calls_total counter",
            "opsbot_aws_call_duration_seconds histogram",
        ] {
            assert!(text.contains(&format!("# TYPE {family}\n")), "{family}: {text}");
        }
        assert!(text.contains("\nopsbot_ready 1\n") && text.contains("\nopsbot_outbox_depth 2\n"), "{text}");
        assert!(text.contains("\nopsbot_outbox_oldest_age_seconds 1.5\n"), "{text}");
        assert!(!text.contains("socket_connections"), "no Socket Mode gauge in the HTTP transport: {text}");
    }
}
