//! Slack Web API calls the bot makes, through slack-morphism's client, plus
//! POSTs to a slash command's or a button press's `response_url` (a new
//! answer, a replacement of the pressed message, or a private note).
//!
//! Every call is retried here, in one place: 429 waits for `Retry-After`
//! (capped), 5xx and network failures back off exponentially (capped) for up
//! to [`PATIENCE`], so an answer given while Slack is down arrives when it is
//! back; Slack's own `ok: false` errors are final. Tokens never appear in
//! errors or logs. An outage is logged once when it starts and once when it
//! ends ([`reach::Reachability`]), not once per retry. Every attempt, retried
//! or single, passes `SlackWeb::noted`, which also counts and times it by
//! method and result for `/metrics` (a 429 is `throttled`).
//!
//! Failures are classified once, into [`CallError`] (`web/call_error.rs`, a
//! leaf, so `reach` can read it without importing this file). The outbox,
//! which keeps its own durable retry schedule, uses the single-attempt calls
//! in `web/single.rs` and gets that classification back instead of a retry loop.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::rt::TokioExecutor;
use opsbot_commands::values::{ChannelId, SlackUserId};
use opsbot_commands::{Reply, mrkdwn};
use slack_morphism::prelude as sm;
use tracing::{debug, warn};

use super::blocks;
use crate::https::{Connector, connector};
use crate::metrics::{CallResult, Metrics};
use crate::settings::Secret;

mod call_error;
pub mod reach;
mod single;

pub use call_error::CallError;
use reach::Reachability;

type SlackClient = sm::SlackClient<sm::SlackClientHyperConnector<Connector>>;

/// How long a retried call keeps trying while Slack is unreachable or
/// rate-limiting: an answer is still worth giving minutes later (a
/// `response_url` takes posts for 30 minutes).
pub const PATIENCE: Duration = Duration::from_secs(10 * 60);
/// Longest back-off between two tries of a call.
const BACKOFF_CAP: Duration = Duration::from_secs(15);
const RETRY_AFTER_CAP: Duration = Duration::from_secs(30);
/// Posts a `response_url` accepts (Slack: 5 within 30 minutes).
const RESPONSE_URL_USES: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("Slack answered {method}: {error}")]
    Api { method: &'static str, error: String },
    #[error("Slack {method} failed {attempts} times in a row, for {} s: {last}", PATIENCE.as_secs())]
    GaveUp { method: &'static str, attempts: u32, last: String },
    #[error("cannot build the HTTPS client: {0}")]
    Tls(#[from] std::io::Error),
}

pub struct SlackWeb {
    client: SlackClient,
    http: HttpClient<Connector, Full<Bytes>>,
    bot_token: sm::SlackApiToken,
    names: Mutex<HashMap<String, Arc<str>>>,
    reach: Reachability,
    /// Every attempt is counted and timed here, by method and result.
    metrics: Arc<Metrics>,
}

/// What a post to a `response_url` does to the message it came from.
enum Respond {
    New,
    ReplaceOriginal,
    Note,
}

impl SlackWeb {
    /// `api_url` has no trailing `/` (settings guarantee it); every call is
    /// counted in `metrics`.
    pub fn new(api_url: &str, bot_token: &Secret, metrics: Arc<Metrics>) -> Result<Self, WebError> {
        let slack = sm::SlackClientHyperConnector::with_connector(connector()?).with_slack_api_url(api_url);
        Ok(SlackWeb {
            client: sm::SlackClient::new(slack),
            http: HttpClient::builder(TokioExecutor::new()).build(connector()?),
            bot_token: sm::SlackApiToken::new(bot_token.expose().into()),
            names: Mutex::new(HashMap::new()),
            reach: Reachability::default(),
            metrics,
        })
    }

    /// Records how one attempt of `method`, begun at `started`, went: in the
    /// outage log and in the metrics. Every call passes here once per attempt.
    fn noted<T>(&self, method: &'static str, started: Instant, result: &Result<T, CallError>) {
        self.reach.note(result);
        let outcome = match result {
            Ok(_) => CallResult::Ok,
            Err(CallError::RateLimited { .. }) => CallResult::Throttled,
            Err(CallError::Transient { .. }) => CallResult::Unavailable,
            Err(CallError::Permanent { .. }) => CallResult::Error,
        };
        self.metrics.slack_call(method, outcome, started.elapsed());
    }

    /// Posts a reply (in a thread when `thread_ts` is given); returns the ts
    /// of its first message. A reply too long for one message continues in
    /// the same thread — the first message's own when it started none.
    pub async fn post_message(
        &self,
        channel: &ChannelId,
        thread_ts: Option<&str>,
        reply: &Reply,
    ) -> Result<String, WebError> {
        let session = self.client.open_session(&self.bot_token);
        let (mut first, mut thread) = (None, thread_ts.map(str::to_owned));
        for content in blocks::messages(reply) {
            let mut req = sm::SlackApiChatPostMessageRequest::new(channel.as_str().into(), content);
            req.thread_ts = thread.as_deref().map(|ts| sm::SlackTs::new(ts.into()));
            let res = retry(self, "chat.postMessage", || session.chat_post_message(&req), classify).await?;
            let ts = res.ts.to_string();
            thread.get_or_insert_with(|| ts.clone());
            first.get_or_insert(ts);
        }
        Ok(first.unwrap_or_default())
    }

    /// Replaces the content of a message the bot posted.
    pub async fn update_message(&self, channel: &ChannelId, ts: &str, reply: &Reply) -> Result<(), WebError> {
        let content = blocks::content(reply);
        let req = sm::SlackApiChatUpdateRequest::new(channel.as_str().into(), content, sm::SlackTs::new(ts.into()));
        let session = self.client.open_session(&self.bot_token);
        retry(self, "chat.update", || session.chat_update(&req), classify).await.map(drop)
    }

    /// Opens the modal that asks for a comment before running `line`
    /// (views.open; `trigger_id` is the button press's, valid 3 seconds).
    pub async fn open_comment_modal(&self, trigger_id: &str, line: &str, channel: &ChannelId) -> Result<(), WebError> {
        use super::payload::{COMMENT_CALLBACK, COMMENT_INPUT};
        let plain = |text: &str| sm::SlackBlockPlainTextOnly::from(text);
        let input = sm::SlackBlockPlainTextInputElement::new()
            .with_action_id(COMMENT_INPUT.into())
            .with_multiline(true)
            .with_max_length(300);
        let blocks = vec![
            sm::SlackSectionBlock::new()
                .with_text(sm::SlackBlockText::MarkDown(mrkdwn!("`{}`", line).as_str().into()))
                .into(),
            sm::SlackInputBlock::new(plain("Comment"), sm::SlackInputBlockElement::PlainTextInput(input)).into(),
        ];
        let meta = serde_json::json!({ "line": line, "channel": channel.as_str() }).to_string();
        let view = sm::SlackModalView::new(plain("Add a comment"), blocks)
            .with_submit(plain("Send"))
            .with_close(plain("Cancel"))
            .with_callback_id(COMMENT_CALLBACK.into())
            .with_private_metadata(meta);
        let req = sm::SlackApiViewsOpenRequest::new(trigger_id.into(), sm::SlackView::Modal(view));
        let session = self.client.open_session(&self.bot_token);
        retry(self, "views.open", || session.views_open(&req), classify).await.map(drop)
    }

    /// Shows a message to one user only.
    pub async fn post_ephemeral(
        &self,
        channel: &ChannelId,
        user: &SlackUserId,
        thread_ts: Option<&str>,
        reply: &Reply,
    ) -> Result<(), WebError> {
        let session = self.client.open_session(&self.bot_token);
        // A reply too long for one message follows in more, in order.
        for content in blocks::messages(reply) {
            let mut req =
                sm::SlackApiChatPostEphemeralRequest::new(channel.as_str().into(), user.as_str().into(), content);
            req.thread_ts = thread_ts.map(|ts| sm::SlackTs::new(ts.into()));
            retry(self, "chat.postEphemeral", || session.chat_post_ephemeral(&req), classify).await?;
        }
        Ok(())
    }

    /// The user's display name (cached; `None` when Slack cannot tell).
    pub async fn user_name(&self, user: &SlackUserId) -> Option<Arc<str>> {
        if let Some(name) = self.names.lock().unwrap_or_else(|p| p.into_inner()).get(user.as_str()) {
            return Some(name.clone());
        }
        let req = sm::SlackApiUsersInfoRequest::new(user.as_str().into());
        let session = self.client.open_session(&self.bot_token);
        let res = match retry(self, "users.info", || session.users_info(&req), classify).await {
            Ok(res) => res,
            Err(err) => {
                warn!(error = %err, user = %user, "cannot look up user name");
                return None;
            }
        };
        let profile = res.user.profile.as_ref();
        let name = profile
            .and_then(|p| p.display_name.clone())
            .filter(|n| !n.is_empty())
            .or(res.user.name.clone())
            .or(res.user.real_name.clone())?;
        let name: Arc<str> = name.into();
        self.names.lock().unwrap_or_else(|p| p.into_inner()).insert(user.to_string(), name.clone());
        Some(name)
    }

    /// Every enabled user group with its members, in one `usergroups.list`
    /// call (needs the `usergroups:read` scope): `(group id, user ids)`.
    pub async fn user_groups(&self) -> Result<Vec<(String, Vec<String>)>, WebError> {
        let req = sm::SlackApiUserGroupsListRequest::new().with_include_users(true);
        let session = self.client.open_session(&self.bot_token);
        let res = retry(self, "usergroups.list", || session.usergroups_list(&req), classify).await?;
        let members = |g: sm::SlackUserGroup| {
            (g.id.to_string(), g.users.unwrap_or_default().into_iter().map(|u| u.to_string()).collect())
        };
        Ok(res.usergroups.into_iter().map(members).collect())
    }

    /// The Socket Mode WebSocket URL for this connection attempt.
    pub async fn open_socket(&self, app_token: &Secret) -> Result<String, WebError> {
        let token = sm::SlackApiToken::new(app_token.expose().into());
        let session = self.client.open_session(&token);
        let req = sm::SlackApiAppsConnectionOpenRequest::new();
        let res = retry(self, "apps.connections.open", || session.apps_connections_open(&req), classify).await?;
        Ok(res.url.0.to_string())
    }

    /// Answers a slash command at its `response_url` (valid 30 minutes, 5 uses).
    pub async fn respond(&self, response_url: &str, reply: &Reply) -> Result<(), WebError> {
        self.respond_as(response_url, reply, Respond::New).await
    }

    /// Replaces the message a button was on, through the press's `response_url`
    /// (the only way to edit an ephemeral message such as a plan).
    pub async fn respond_replacing(&self, response_url: &str, reply: &Reply) -> Result<(), WebError> {
        self.respond_as(response_url, reply, Respond::ReplaceOriginal).await
    }

    /// Shows a note to the one person who pressed a button; the message stays.
    /// Works in channels the bot is not a member of, unlike chat.postEphemeral.
    pub async fn respond_privately(&self, response_url: &str, reply: &Reply) -> Result<(), WebError> {
        self.respond_as(response_url, reply, Respond::Note).await
    }

    /// A reply too long for one message is posted as several, in order: the
    /// first as `how` says, the others as new messages to the same audience.
    /// A `response_url` takes [`RESPONSE_URL_USES`] posts, so a reply needing
    /// more ends with a last message saying how many did not fit, and why.
    async fn respond_as(&self, response_url: &str, reply: &Reply, how: Respond) -> Result<(), WebError> {
        let visibility = match (reply.visibility, &how) {
            (_, Respond::Note) | (opsbot_commands::Visibility::Ephemeral, _) => "ephemeral",
            (opsbot_commands::Visibility::InChannel, _) => "in_channel",
        };
        let mut messages = blocks::messages(reply);
        if messages.len() > RESPONSE_URL_USES {
            let left = messages.len() - (RESPONSE_URL_USES - 1);
            messages.truncate(RESPONSE_URL_USES - 1);
            let note = Reply::ephemeral("The rest of this answer was not sent").section(mrkdwn!(
                "… {} more messages of this answer not sent: Slack takes {} answers to a command; narrow the question",
                left,
                RESPONSE_URL_USES
            ));
            messages.extend(blocks::messages(&note));
        }
        for (n, content) in messages.into_iter().enumerate() {
            let mut body = serde_json::to_value(content).expect("message content serialises");
            match (&how, n) {
                // The replaced message keeps its audience; Slack ignores response_type here.
                (Respond::ReplaceOriginal, 0) => body["replace_original"] = true.into(),
                _ => {
                    body["response_type"] = visibility.into();
                    body["replace_original"] = false.into();
                }
            }
            let body = Bytes::from(body.to_string());
            retry(self, "response_url", || self.post_json(response_url, body.clone()), classify_http).await?;
        }
        Ok(())
    }

    async fn post_json(&self, url: &str, body: Bytes) -> Result<(), HttpFailure> {
        let req = axum::http::Request::post(url)
            .header("content-type", "application/json; charset=utf-8")
            .body(Full::new(body))
            .map_err(|e| HttpFailure::Request(e.to_string()))?;
        let res = self.http.request(req).await.map_err(|e| HttpFailure::Network(e.to_string()))?;
        let status = res.status().as_u16();
        let retry_after = res.headers().get("retry-after").and_then(|v| v.to_str().ok()?.trim().parse().ok());
        let body = res.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        if (200..300).contains(&status) {
            return Ok(());
        }
        Err(HttpFailure::Status { status, retry_after, body: String::from_utf8_lossy(&body).trim().to_owned() })
    }
}

/// A failed plain-HTTP call (`response_url`).
#[derive(Debug)]
enum HttpFailure {
    Request(String),
    Network(String),
    Status { status: u16, retry_after: Option<u64>, body: String },
}

/// Runs `call` until it succeeds, Slack refuses it for good, or retrying
/// would pass [`PATIENCE`]; waits as `classify` says. Each try is noted in
/// `web` (the outage log, the metrics); the retries log at debug.
async fn retry<T, E, F, Fut>(
    web: &SlackWeb,
    method: &'static str,
    call: F,
    classify: fn(&'static str, &E) -> CallError,
) -> Result<T, WebError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let started = tokio::time::Instant::now();
    let mut attempts = 0;
    loop {
        let attempt = Instant::now();
        let result = call().await.map_err(|err| classify(method, &err));
        web.noted(method, attempt, &result);
        attempts += 1;
        let (wait, why) = match result {
            Ok(value) => return Ok(value),
            Err(CallError::Permanent { error, .. }) => return Err(WebError::Api { method, error }),
            Err(CallError::RateLimited { retry_after, .. }) if !retry_after.is_zero() => {
                (retry_after.min(RETRY_AFTER_CAP), "rate limited (429)".to_owned())
            }
            Err(CallError::RateLimited { .. }) => (backoff(attempts), "rate limited (429)".to_owned()),
            Err(CallError::Transient { why, .. }) => (backoff(attempts), why),
        };
        if started.elapsed() + wait > PATIENCE {
            return Err(WebError::GaveUp { method, attempts, last: why });
        }
        debug!(method, attempts, why = %why, wait_ms = wait.as_millis() as u64, "Slack call failed, retrying");
        tokio::time::sleep(wait).await;
    }
}

/// 250 ms after the first failure, doubling, at most [`BACKOFF_CAP`].
fn backoff(attempts: u32) -> Duration {
    Duration::from_millis(250).saturating_mul(2u32.saturating_pow(attempts.saturating_sub(1))).min(BACKOFF_CAP)
}

/// Slack's answer for one slack-morphism call.
fn classify(method: &'static str, err: &slack_morphism::errors::SlackClientError) -> CallError {
    use slack_morphism::errors::SlackClientError as E;
    match err {
        E::RateLimitError(e) => {
            CallError::RateLimited { method, retry_after: e.retry_after.unwrap_or(Duration::from_secs(1)) }
        }
        E::HttpError(e) if e.status_code.is_server_error() => {
            CallError::Transient { method, why: format!("HTTP {}", e.status_code.as_u16()) }
        }
        E::HttpProtocolError(_) | E::SystemError(_) | E::EndOfStream(_) => {
            CallError::Transient { method, why: err.to_string() }
        }
        E::ApiError(e) => CallError::Permanent { method, error: e.code.clone() },
        other => CallError::Permanent { method, error: other.to_string() },
    }
}

fn classify_http(method: &'static str, err: &HttpFailure) -> CallError {
    match err {
        HttpFailure::Status { status: 429, retry_after, .. } => {
            CallError::RateLimited { method, retry_after: Duration::from_secs(retry_after.unwrap_or(1)) }
        }
        HttpFailure::Status { status: status @ 500..=599, body, .. } => {
            CallError::Transient { method, why: format!("HTTP {status}: {body}") }
        }
        HttpFailure::Network(e) => CallError::Transient { method, why: e.clone() },
        HttpFailure::Status { status, body, .. } => {
            CallError::Permanent { method, error: format!("HTTP {status}: {body}") }
        }
        HttpFailure::Request(e) => CallError::Permanent { method, error: e.clone() },
    }
}
