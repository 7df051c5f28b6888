//! Test peers and helpers shared by the end-to-end tests.
#![allow(dead_code)] // each test module uses a different part of the support kit

use std::path::PathBuf;

pub mod aws_events;
pub mod aws_setup;
pub mod binary;
pub mod bot;
pub mod buttons;
pub mod change_flow;
pub mod emulator_fixtures;
pub mod emulators;
pub mod fake_slack;
pub mod prometheus;
pub mod signing;
pub mod sns;
pub mod sqs_poller;
pub mod throttle;

/// The Python venv with the emulators and slack_sdk (`scripts/emulators.sh`):
/// `$OPSBOT_VENV`, else `.venv` in the repository.
pub fn venv() -> PathBuf {
    std::env::var_os("OPSBOT_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv"))
}

/// Tests that start several real `opsbot serve` processes take turns: side
/// by side on two cores (with the alarm storm's emulators busy), their waits
/// for Slack messages ran out under the load, with nothing wrong.
pub async fn one_fleet_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    TURN.lock().await
}
