//! opsbot, the application: wiring and adapters around the `opsbot-commands`
//! runner ([`opsbot_commands::Ops`]). Nothing here decides what a command
//! means; it carries requests in (Slack, console), notifications in (SQS,
//! SNS), and reaches AWS and Slack through the commands' ports.
//!
//! # Layout (`tests/layout.rs` fails on an import loop between modules)
//! - [`settings`]: typed, layered settings (YAML file, then env), checked
//!   once with file:line:column.
//! - [`store`]: durable state behind ports (claims, changes, audit, inbox,
//!   living records, outbox, retention); [`store::sqlite`] and
//!   [`store::dynamodb`] implement them; `tests/store.rs` is the suite every
//!   backend passes.
//! - [`aws`]: the commands' ports on the AWS SDK; [`sandbox`]: the same ports
//!   on a simulated account (`demo`, scenario tests); [`declared`]: the
//!   declared parameters port on files and HTTPS URLs.
//! - [`slack`]: signature check, payload parsing, Block Kit, Web API, Socket
//!   Mode, and the outbox every Slack write goes through.
//! - [`notify`]: AWS notifications in ([`notify::intake`]: SQS, SNS), typed
//!   ([`notify::event`]), kept as living messages ([`notify::lifecycle`]).
//! - [`metrics`]: the counters and histograms `/metrics` shows, the AWS
//!   SDK interceptor that feeds some of them, the Prometheus text format.
//! - [`http`]: the axum router (`/slack/*`, `/sns`, `/healthz`, `/readyz`,
//!   `/metrics`) and the readiness checks; [`https`]: the one HTTPS client
//!   setup for Slack and SNS fetches.
//! - [`app`]: builds the running application, the one way `serve`, the
//!   console, the demo and the tests use ([`app::Wiring::ops`]).
//! - [`console`]: `opsbot console` / `opsbot demo`: the runner in a terminal.
//! - [`config_cli`]: `opsbot config check`, everything `serve` would load,
//!   every problem at once.
//! - [`iam`]: `opsbot iam-policy`, the least-privilege IAM policy of a
//!   config (pure: settings in, policy document out).
//! - [`policy_cli`]: `opsbot policy check` / `lint`; [`store_cli`]:
//!   `opsbot store init`; [`probe_cli`]: `opsbot probe` (the container's
//!   HEALTHCHECK); [`cli`]: the command
//!   line `main` dispatches on; [`telemetry`]: logging and stop signals.
//!
//! docs/ARCHITECTURE.md has the two data flows and where to add a command,
//! a notification kind or a store backend.

pub mod app;
pub mod aws;
pub mod cli;
pub mod config_cli;
pub mod console;
pub mod declared;
pub mod http;
pub mod https;
pub mod iam;
pub mod metrics;
pub mod notify;
pub mod policy_cli;
pub mod probe_cli;
pub mod sandbox;
pub mod settings;
pub mod slack;
pub mod store;
pub mod store_cli;
pub mod telemetry;

/// A short id unique to this process run, shown to users as the reference
/// of an internal error and logged with every command (`request_id`).
pub fn request_id() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let millis = chrono::Utc::now().timestamp_millis() as u64;
    format!("{:x}-{:x}", millis & 0xff_ffff_ffff, COUNTER.fetch_add(1, Ordering::Relaxed))
}
