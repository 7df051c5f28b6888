//! The HTTP surface: `/healthz` (the process answers) and `/readyz` (200
//! while serving with the store reachable and, in Socket Mode, a connection
//! to Slack up; 503 otherwise, so a load balancer stops sending work here;
//! see [`probes`]) always; `/metrics` here or on its own listener
//! (`server.metrics_listen`, [`probes::metrics_routes`]); in the HTTP transport also Slack's
//! `POST /slack/commands`, `/slack/interactions` and `/slack/events`; and
//! `POST /sns` (see [`sns`]) when notifications come by SNS HTTP(S).
//!
//! Order of checks on a Slack request, each before the next reads anything:
//! size (413) and a body that arrived whole (400), signature and timestamp
//! (401), content type as Slack sends it (415), UTF-8 (400: a form's fields
//! after percent-decoding too, which the form parser would otherwise replace
//! silently), shape (400). Then the work is handed off and Slack gets its 200
//! at once; answers follow out of band. Every refusal is a [`Refused`]: a
//! status and a sentence saying what was wrong (`body.rs`, with [`read_body`],
//! the first check, which the SNS route shares). Unknown fields are ignored,
//! not refused: Slack adds fields to its payloads over time.
//! `router` takes its state so tests can drive it with `oneshot`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use tracing::{debug, info, warn};

use crate::settings::Secret;
use crate::slack::SlackBot;
use crate::slack::payload::{self, Event, Interaction, SlashFields};
use crate::slack::signature;

mod body;
pub mod probes;
pub mod sns;

use body::{Refused, read_body};

/// What the Slack routes need; absent in Socket Mode (routes not mounted).
pub struct SlackHttp {
    pub bot: Arc<SlackBot>,
    /// Every secret a request may be signed with (more than one while rotating).
    pub signing_secrets: Vec<Secret>,
}

/// The main listener's routes; `/metrics` is merged in by the app unless it
/// has a listener of its own.
pub fn router(
    slack: Option<SlackHttp>,
    sns: Option<sns::SnsEndpoint>,
    max_body_bytes: usize,
    probes: Arc<probes::Probes>,
) -> Router {
    let mut health = Router::new().route("/healthz", get(|| async { "ok" })).merge(probes::ready_routes(probes));
    if let Some(sns) = sns {
        health = health.merge(sns::routes(sns));
    }
    let Some(slack) = slack else { return health };
    let slack_routes = Router::new()
        .route("/slack/commands", post(commands))
        .route("/slack/interactions", post(interactions))
        .route("/slack/events", post(events))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(Arc::new(slack));
    health.merge(slack_routes)
}

const FORM: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";

/// Slack sends slash commands and interactions as forms, events as JSON.
fn content_type(headers: &HeaderMap, wanted: &str) -> Result<(), Refused> {
    let given = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    let media = given.split(';').next().unwrap_or("").trim();
    if media.eq_ignore_ascii_case(wanted) {
        return Ok(());
    }
    let given = if given.is_empty() { "none" } else { given };
    warn!(given, wanted, "refused a request with the wrong content type");
    Err(Refused(StatusCode::UNSUPPORTED_MEDIA_TYPE, format!("expected Content-Type {wanted}, got {given}")))
}

/// The body as text; for a form, every field once percent-decoded.
fn utf8(body: &[u8], form: bool) -> Result<(), Refused> {
    let decoded = if form { percent_decoded(body) } else { body.to_vec() };
    std::str::from_utf8(&decoded).map(drop).map_err(|_| {
        let what = if form { "a form field (after percent-decoding)" } else { "the body" };
        malformed(format!("{what} is not UTF-8"))
    })
}

/// `%XX` escapes turned into their bytes; anything else kept as it is.
fn percent_decoded(body: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        match (body[i], body.get(i + 1).copied().and_then(hex), body.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(high), Some(low)) => {
                out.push(high << 4 | low);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

fn verified(slack: &SlackHttp, headers: &HeaderMap, body: &[u8]) -> Result<(), Refused> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let now = chrono::Utc::now().timestamp();
    signature::verify_any(
        slack.signing_secrets.iter().map(Secret::expose),
        header("x-slack-request-timestamp"),
        header("x-slack-signature"),
        body,
        now,
    )
    .map_err(|err| {
        warn!(error = %err, "refused an unverified request");
        Refused(StatusCode::UNAUTHORIZED, format!("invalid request signature: {err}"))
    })
}

fn not_json(what: &str) -> impl FnOnce(serde_json::Error) -> Refused {
    move |err| malformed(format!("{what} is not valid JSON: {err}"))
}

fn malformed(err: impl std::fmt::Display) -> Refused {
    warn!(error = %err, "refused a malformed request");
    Refused(StatusCode::BAD_REQUEST, err.to_string())
}

/// Where the Slack routes' body limit is set.
const SLACK_LIMIT: &str = "server.max_body_bytes";

async fn commands(
    State(slack): State<Arc<SlackHttp>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, Refused> {
    let body = read_body(body, SLACK_LIMIT)?;
    verified(&slack, &headers, &body)?;
    content_type(&headers, FORM)?;
    utf8(&body, true)?;
    let cmd = payload::slash_command(SlashFields::Form(&body)).map_err(malformed)?;
    slack.bot.slash(cmd);
    // An empty 200 acknowledges without echoing anything into the channel.
    Ok(StatusCode::OK)
}

#[derive(Deserialize)]
struct InteractionForm {
    payload: String,
}

async fn interactions(
    State(slack): State<Arc<SlackHttp>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, Refused> {
    let body = read_body(body, SLACK_LIMIT)?;
    verified(&slack, &headers, &body)?;
    content_type(&headers, FORM)?;
    utf8(&body, true)?;
    let form: InteractionForm = serde_urlencoded::from_bytes(&body).map_err(malformed)?;
    let value: Value = serde_json::from_str(&form.payload).map_err(not_json("the payload field"))?;
    match payload::interaction(&value).map_err(malformed)? {
        Interaction::Press(press) => slack.bot.click(press),
        Interaction::Comment(comment) => slack.bot.comment(comment),
        Interaction::Ignored { kind, why } => info!(%kind, %why, "interaction acknowledged and ignored"),
    }
    // An empty 200 leaves the message as it is; the outcome follows at the response_url.
    Ok(StatusCode::OK)
}

async fn events(
    State(slack): State<Arc<SlackHttp>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Refused> {
    let body = read_body(body, SLACK_LIMIT)?;
    verified(&slack, &headers, &body)?;
    content_type(&headers, JSON)?;
    utf8(&body, false)?;
    let value: Value = serde_json::from_slice(&body).map_err(not_json("the body"))?;
    let retry = headers.get("x-slack-retry-num").and_then(|v| v.to_str().ok());
    match payload::event(&value).map_err(malformed)? {
        Event::UrlVerification { challenge } => return Ok(Json(json!({ "challenge": challenge })).into_response()),
        Event::Mention(m) => {
            debug!(event_id = %m.event_id, retry, "mention received");
            slack.bot.mention(m);
        }
        Event::Ignored { event_id, why } => debug!(?event_id, %why, "event ignored"),
    }
    Ok(StatusCode::OK.into_response())
}
