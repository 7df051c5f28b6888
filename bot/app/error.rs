//! Why the app could not start or stopped serving: each variant says what to
//! do about it, since `main` prints it as the last line an operator sees.

use std::net::SocketAddr;

use opsbot_commands::ports::store::StoreError;

use crate::settings::SettingsError;
use crate::slack::web::WebError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Slack(#[from] WebError),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
    #[error("HTTP server failed: {0}")]
    Serve(std::io::Error),
    #[error(transparent)]
    Notifications(#[from] crate::notify::intake::sns::SnsError),
    #[error(
        "Socket Mode stopped: {0}. Slack no longer accepts the app-level token: create a new one with the \
         connections:write scope (your Slack app → Basic Information → App-Level Tokens), set SLACK_APP_TOKEN to it \
         and start opsbot again"
    )]
    AppToken(WebError),
    #[error("the {task} panicked: {panic}; opsbot stopped")]
    Panicked { task: &'static str, panic: String },
    #[error("the {task} ended by itself; opsbot stopped")]
    Ended { task: &'static str },
}
