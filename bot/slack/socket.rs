//! Socket Mode: no public endpoint. Opens a WebSocket URL with
//! `apps.connections.open`, then for each envelope Slack pushes: ack at once
//! (Slack's limit is 3 s), then hand the payload to [`SlackBot`].
//!
//! A replica keeps several connections open ([`run_many`];
//! `slack.socket_connections`, default 2 — see
//! [`crate::settings::SOCKET_CONNECTIONS`] for why), each with its own
//! reconnect loop, all sharing one bot. Slack sends each envelope to one
//! connection of the app, whichever replica holds it, and redelivers to
//! another when the ack does not come within 3 s. Slack allows 10 per app,
//! for all replicas together.
//!
//! Reconnects with backoff when Slack sends `disconnect` (it does so routinely
//! to refresh connections), when the socket closes or errors, or when nothing
//! arrives for [`IDLE_LIMIT`] (Slack pings far more often, so silence means a
//! dead connection). Redeliveries are harmless, on this connection or another
//! replica's: `SlackBot` claims request ids in the shared store first.
//!
//! [`Connections`] counts the connections up (from Slack's `hello` until the
//! connection ends), for `/readyz` and `/metrics`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, info, info_span, warn};

use super::SlackBot;
use super::payload::{self, Event, Interaction, SlashFields};
use super::web::WebError;
use crate::settings::Secret;

const IDLE_LIMIT: Duration = Duration::from_secs(120);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// How many connections are up right now, shared by all of them.
#[derive(Debug, Clone, Default)]
pub struct Connections(Arc<AtomicUsize>);

/// One connection counted as up until this is dropped.
pub struct Up(Arc<AtomicUsize>);

impl Connections {
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }

    /// Counts one more connection up, for as long as the result lives.
    pub fn up(&self) -> Up {
        self.0.fetch_add(1, Ordering::SeqCst);
        Up(self.0.clone())
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Keeps `count` connections open, each reconnecting on its own, until `stop`
/// is cancelled, counting those up in `up`. Fails when Slack refuses the app
/// token to any of them; the others are closed first.
pub async fn run_many(
    bot: Arc<SlackBot>,
    app_token: Secret,
    count: usize,
    up: Connections,
    stop: CancellationToken,
) -> Result<(), WebError> {
    info!(connections = count, "opening Socket Mode connections");
    let all = stop.child_token();
    let mut connections = JoinSet::new();
    for n in 1..=count {
        let connection = run(bot.clone(), app_token.clone(), up.clone(), all.clone());
        connections.spawn(connection.instrument(info_span!("socket", connection = n)));
    }
    let mut outcome = Ok(());
    while let Some(joined) = connections.join_next().await {
        match joined {
            Ok(Err(err)) if outcome.is_ok() => {
                all.cancel();
                outcome = Err(err);
            }
            Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
            _ => {}
        }
    }
    outcome
}

/// Why a connection ended.
enum Ended {
    Reconnect(String),
    Stopped,
}

/// Runs until `stop` is cancelled. Fails only when Slack refuses the app
/// token (retrying cannot help then).
async fn run(bot: Arc<SlackBot>, app_token: Secret, up: Connections, stop: CancellationToken) -> Result<(), WebError> {
    let mut failures = 0u32;
    loop {
        let url = tokio::select! {
            _ = stop.cancelled() => return Ok(()),
            url = bot.web().open_socket(&app_token) => url,
        };
        let ended = match url {
            Err(WebError::Api { method, error }) if error.contains("auth") || error.contains("token") => {
                return Err(WebError::Api { method, error });
            }
            Err(err) => Ended::Reconnect(err.to_string()),
            Ok(url) => match connect(&bot, &url, &up, &stop).await {
                Ok(ended) => {
                    failures = 0;
                    ended
                }
                Err(why) => Ended::Reconnect(why),
            },
        };
        match ended {
            Ended::Stopped => return Ok(()),
            Ended::Reconnect(why) => {
                let wait = backoff(failures);
                failures += 1;
                warn!(%why, wait_ms = wait.as_millis() as u64, "Socket Mode connection ended; reconnecting");
                tokio::select! {
                    _ = stop.cancelled() => return Ok(()),
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        }
    }
}

fn backoff(failures: u32) -> Duration {
    if failures == 0 {
        Duration::ZERO
    } else {
        (Duration::from_millis(500) * 2u32.pow(failures.min(6))).min(BACKOFF_MAX)
    }
}

/// One connection, from handshake to its end. `Err` when it never got going.
async fn connect(bot: &Arc<SlackBot>, url: &str, up: &Connections, stop: &CancellationToken) -> Result<Ended, String> {
    let tls = crate::https::tls_config().map_err(|e| format!("TLS: {e}"))?;
    let tls = Some(tokio_tungstenite::Connector::Rustls(tls));
    let (mut ws, _) = tokio_tungstenite::connect_async_tls_with_config(url, None, false, tls)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    // Counted from Slack's hello (the connection is usable) until this returns.
    let mut counted = None;
    loop {
        let next = tokio::select! {
            _ = stop.cancelled() => {
                let _ = ws.close(None).await;
                return Ok(Ended::Stopped);
            }
            next = tokio::time::timeout(IDLE_LIMIT, ws.next()) => next,
        };
        let text = match next {
            Err(_) => return Ok(Ended::Reconnect("no traffic from Slack; connection presumed dead".into())),
            Ok(None) => return Ok(Ended::Reconnect("socket closed".into())),
            Ok(Some(Err(e))) => return Ok(Ended::Reconnect(format!("socket error: {e}"))),
            Ok(Some(Ok(Message::Text(text)))) => text,
            Ok(Some(Ok(Message::Close(frame)))) => return Ok(Ended::Reconnect(format!("closed by Slack: {frame:?}"))),
            Ok(Some(Ok(_))) => continue, // pings are answered by tungstenite itself
        };
        let Ok(message) = serde_json::from_str::<Value>(&text) else {
            warn!("Socket Mode message is not JSON; ignored");
            continue;
        };
        match message.get("type").and_then(Value::as_str).unwrap_or_default() {
            "hello" => {
                info!("connected to Slack (Socket Mode)");
                counted.get_or_insert_with(|| up.up());
            }
            "disconnect" => {
                let reason = message.get("reason").and_then(Value::as_str).unwrap_or("unknown");
                return Ok(Ended::Reconnect(format!("Slack asked to reconnect ({reason})")));
            }
            kind => {
                let Some(envelope_id) = message.get("envelope_id").and_then(Value::as_str) else {
                    debug!(kind, "Socket Mode message without envelope ignored");
                    continue;
                };
                let ack = json!({ "envelope_id": envelope_id }).to_string();
                if let Err(e) = ws.send(Message::Text(ack.into())).await {
                    return Ok(Ended::Reconnect(format!("cannot ack: {e}")));
                }
                dispatch(bot, kind, message.get("payload").unwrap_or(&Value::Null));
            }
        }
    }
}

/// Hands an acknowledged envelope's payload to the bot.
fn dispatch(bot: &Arc<SlackBot>, kind: &str, payload: &Value) {
    let result = match kind {
        "slash_commands" => payload::slash_command(SlashFields::Json(payload)).map(|cmd| bot.slash(cmd)),
        "events_api" => payload::event(payload).map(|event| match event {
            Event::Mention(m) => bot.mention(m),
            Event::Ignored { why, .. } => debug!(%why, "event ignored"),
            Event::UrlVerification { .. } => debug!("url_verification over Socket Mode ignored"),
        }),
        "interactive" => payload::interaction(payload).map(|interaction| match interaction {
            Interaction::Press(press) => bot.click(press),
            Interaction::Comment(comment) => bot.comment(comment),
            Interaction::Ignored { kind, why } => info!(%kind, %why, "interaction acknowledged and ignored"),
        }),
        other => {
            debug!(kind = other, "envelope type ignored");
            Ok(())
        }
    };
    if let Err(err) = result {
        warn!(error = %err, kind, "malformed envelope payload dropped");
    }
}
