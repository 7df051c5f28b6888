//! The HTTP surface: `/healthz` always; in the HTTP transport also Slack's
//! `POST /slack/commands`, `/slack/interactions` and `/slack/events`; and
//! `POST /sns` (see [`sns`]) when notifications come by SNS HTTP(S).
//!
//! Order of checks on a Slack request, each before the next reads anything:
//! size (413), signature and timestamp (401), shape (400). Then the work is
//! handed off and Slack gets its 200 at once; answers follow out of band.
//! `router` takes its state so tests can drive it with `oneshot`.

use std::sync::Arc;

use axum::body::Bytes;
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

pub mod sns;

/// What the Slack routes need; absent in Socket Mode (routes not mounted).
pub struct SlackHttp {
    pub bot: Arc<SlackBot>,
    /// Every secret a request may be signed with (more than one while rotating).
    pub signing_secrets: Vec<Secret>,
}

pub fn router(slack: Option<SlackHttp>, sns: Option<sns::SnsEndpoint>, max_body_bytes: usize) -> Router {
    let mut health = Router::new().route("/healthz", get(|| async { "ok" }));
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

/// A request refused before it ran, with a short reason for Slack's logs.
struct Refused(StatusCode, String);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        (self.0, self.1).into_response()
    }
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

fn malformed(err: impl std::fmt::Display) -> Refused {
    warn!(error = %err, "refused a malformed request");
    Refused(StatusCode::BAD_REQUEST, err.to_string())
}

async fn commands(State(slack): State<Arc<SlackHttp>>, headers: HeaderMap, body: Bytes) -> Result<StatusCode, Refused> {
    verified(&slack, &headers, &body)?;
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
    body: Bytes,
) -> Result<StatusCode, Refused> {
    verified(&slack, &headers, &body)?;
    let form: InteractionForm = serde_urlencoded::from_bytes(&body).map_err(malformed)?;
    let value: Value = serde_json::from_str(&form.payload).map_err(malformed)?;
    match payload::interaction(&value).map_err(malformed)? {
        Interaction::Press(press) => slack.bot.click(press),
        Interaction::Comment(comment) => slack.bot.comment(comment),
        Interaction::Ignored { kind, why } => info!(%kind, %why, "interaction acknowledged and ignored"),
    }
    // An empty 200 leaves the message as it is; the outcome follows at the response_url.
    Ok(StatusCode::OK)
}

async fn events(State(slack): State<Arc<SlackHttp>>, headers: HeaderMap, body: Bytes) -> Result<Response, Refused> {
    verified(&slack, &headers, &body)?;
    let value: Value = serde_json::from_slice(&body).map_err(malformed)?;
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
