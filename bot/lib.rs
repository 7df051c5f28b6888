//! opsbot, the application: wiring and adapters around the `opsbot-commands`
//! pipeline. Nothing here decides what a command means; it carries requests in
//! (Slack, console) and reaches AWS through the commands' ports.
//!
//! # Layout
//! - [`settings`]: typed, layered settings (YAML file, then `OPSBOT_*` env).
//! - [`app`]: builds the application from settings; `serve` runs it.
//! - [`aws`]: gateways implementing the commands' ports with the AWS SDK.
//! - [`cli`]: the command line `main` dispatches on.
//! - [`sandbox`]: an in-process simulated AWS account for `demo` and tests.
//! - [`console`]: `opsbot console` / `opsbot demo`: the pipeline in a terminal.
//! - [`slack`]: signature check, payload parsing, Block Kit, Web API, Socket Mode.
//! - [`http`]: the axum router (`/slack/*`, `/healthz`).
//! - [`notify`]: AWS notifications in, living Slack messages out.
//! - [`policy_cli`]: `opsbot policy check` / `lint`.
//! - [`store`]: durable state behind ports (claims, changes, audit, inbox,
//!   living records, outbox, retention); SQLite implements them.
//! - [`telemetry`]: logging set-up and stop signals.

pub mod app;
pub mod aws;
pub mod cli;
pub mod console;
pub mod http;
pub mod notify;
pub mod policy_cli;
pub mod sandbox;
pub mod settings;
pub mod slack;
pub mod store;
pub mod telemetry;

/// A short id unique to this process run, shown to users as the reference
/// of an internal error and logged with every command (`request_id`).
pub fn request_id() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let millis = chrono::Utc::now().timestamp_millis() as u64;
    format!("{:x}-{:x}", millis & 0xff_ffff_ffff, COUNTER.fetch_add(1, Ordering::Relaxed))
}
