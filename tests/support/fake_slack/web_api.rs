//! The HTTP side of the fake: Slack's Web API under `/api/<method>`, plus the
//! router that also mounts the `response_url` endpoints (see `response_url.rs`).
//!
//! A request goes: parse parameters → record the [`Call`] → injected failure? →
//! known method? → token check → method handler. Handlers are plain functions over
//! the parsed parameters and answer the shapes slack-morphism 2.31 deserializes
//! (`ts`, `channel`, `message`, `user.profile`, `url`, ...), with Slack's error codes.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use serde_json::{Map, Value, json};

use super::{Call, Config, Failure, FakeSlack, Recorded, Shared, State as FakeState, response_url};

pub(super) type Params = Map<String, Value>;
type Handler = fn(&Shared, &Params) -> Response;

/// Form fields that Slack parses as JSON; decoded so recorded bodies match JSON calls.
const JSON_FORM_FIELDS: &[&str] = &["blocks", "attachments", "metadata", "unfurls", "view"];
/// Message content a post or update may carry.
const CONTENT_FIELDS: &[&str] = &["text", "blocks", "attachments", "markdown_text", "metadata"];

/// Web API state: users, the bot's messages, timestamps.
#[derive(Default)]
pub(crate) struct WebState {
    users: BTreeMap<String, Value>,
    /// Current version of each message the bot posted, by (channel, ts).
    messages: HashMap<(String, String), Value>,
    ts_seq: u64,
    /// Unix second of the first timestamp handed out.
    ts_base: u64,
}

impl WebState {
    /// The bot's messages in `channel`, in no particular order.
    pub(super) fn messages_in(&self, channel: &str) -> Vec<Value> {
        self.messages.iter().filter(|((c, _), _)| c == channel).map(|(_, m)| m.clone()).collect()
    }

    /// A fresh, increasing message timestamp near the wall clock, as Slack's
    /// are (a lookup by time, like `conversations.history?oldest=`, must find
    /// it): the fake's start second, then +100 µs per message.
    fn next_ts(&mut self) -> String {
        if self.ts_base == 0 {
            let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            self.ts_base = since_epoch.as_secs();
        }
        self.ts_seq += 1;
        let micros = self.ts_seq * 100;
        format!("{}.{:06}", self.ts_base + micros / 1_000_000, micros % 1_000_000)
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/{method}", any(api))
        .route("/respond/{n}", post(response_url::respond))
        .fallback(|uri: Uri| async move {
            let error = format!("fake Slack has no route for {uri}");
            (StatusCode::NOT_FOUND, axum::Json(json!({"ok": false, "error": error})))
        })
        .layer(axum::middleware::from_fn_with_state(shared.clone(), super::outage::gate))
        .with_state(shared)
}

/// The bot's own user, so `users.info` on `U0BOT` works like in a real workspace.
pub(crate) fn register_bot_user(config: &Config, state: &mut FakeState) {
    let bot = user_json(config, &config.bot_user_id, "opsbot", "opsbot", true);
    state.web.users.insert(config.bot_user_id.clone(), bot);
}

impl FakeSlack {
    /// Registers a workspace member that `users.info` will answer for.
    pub fn add_user(&self, id: &str, name: &str, real_name: &str) {
        let user = user_json(&self.shared.config, id, name, real_name, false);
        self.shared.update(|s| s.web.users.insert(id.to_string(), user));
    }

    /// Current versions of the bot's messages in `channel`, oldest first.
    pub fn messages(&self, channel: &str) -> Vec<Value> {
        let mut found: Vec<Value> = self.shared.inspect(|s| s.web.messages_in(channel));
        found.sort_by(|a, b| a["ts"].as_str().cmp(&b["ts"].as_str()));
        found
    }

    /// Current version of a message the bot posted (after any `chat.update`).
    pub fn message(&self, channel: &str, ts: &str) -> Option<Value> {
        let key = (channel.to_string(), ts.to_string());
        self.shared.inspect(|s| s.web.messages.get(&key).cloned())
    }
}

async fn api(
    State(shared): State<Arc<Shared>>,
    Path(method): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (params, form_token) = match parse_params(&headers, query.as_deref(), &body) {
        Ok(parsed) => parsed,
        Err(code) => return slack_error(code),
    };
    let token = bearer_token(&headers).or(form_token);
    let at = std::time::Instant::now();
    let call = Call { method: method.clone(), token: token.clone(), body: Value::Object(params.clone()), at };
    let injected = shared.update(|s| {
        s.calls.push(Recorded::new(call));
        s.failures.get_mut(&method).and_then(|queue| queue.pop_front())
    });
    if let Some(failure) = injected {
        return failure_response(failure);
    }
    let Some(handler) = handler(&method) else {
        return slack_error("unknown_method");
    };
    if let Err(code) = authorize(&shared.config, &method, token.as_deref()) {
        return slack_error(code);
    }
    handler(&shared, &params)
}

fn handler(method: &str) -> Option<Handler> {
    Some(match method {
        "auth.test" => auth_test,
        "chat.postMessage" => post_message,
        "chat.postEphemeral" => post_ephemeral,
        "chat.update" => update_message,
        "conversations.history" => super::history::history,
        "conversations.replies" => super::history::replies,
        "users.info" => users_info,
        "views.open" => views_open,
        "apps.connections.open" => connections_open,
        "usergroups.list" => super::usergroups::list,
        "usergroups.users.list" => super::usergroups::users_list,
        _ => return None,
    })
}

/// Slack's token rules: `apps.connections.open` wants the app-level token, the rest the bot token.
fn authorize(config: &Config, method: &str, token: Option<&str>) -> Result<(), &'static str> {
    let wants_app_token = method == "apps.connections.open";
    match token {
        None => Err("not_authed"),
        Some(t) if t == config.app_token && wants_app_token => Ok(()),
        Some(t) if t == config.bot_token && !wants_app_token => Ok(()),
        Some(t) if t == config.app_token || t == config.bot_token => Err("not_allowed_token_type"),
        Some(_) => Err("invalid_auth"),
    }
}

fn auth_test(shared: &Shared, _: &Params) -> Response {
    let c = &shared.config;
    ok(json!({
        "url": format!("https://{}.slack.com/", c.team_domain),
        "team": "Fake Team", "user": "opsbot", "team_id": c.team_id,
        "user_id": c.bot_user_id, "bot_id": c.bot_id, "is_enterprise_install": false,
    }))
}

fn post_message(shared: &Shared, p: &Params) -> Response {
    let Some(channel) = str_param(p, "channel") else {
        return slack_error("channel_not_found");
    };
    if !has_content(p) {
        return slack_error("no_text");
    }
    let message = shared.update(|s| {
        let ts = s.web.next_ts();
        let mut message = json!({
            "type": "message", "user": shared.config.bot_user_id,
            "bot_id": shared.config.bot_id, "app_id": shared.config.app_id,
            "team": shared.config.team_id, "ts": ts,
        });
        copy_fields(p, &mut message, CONTENT_FIELDS);
        copy_fields(p, &mut message, &["thread_ts"]);
        let key = (channel.to_string(), ts);
        s.web.messages.insert(key, message.clone());
        message
    });
    ok(json!({"channel": channel, "ts": message["ts"], "message": message}))
}

fn post_ephemeral(shared: &Shared, p: &Params) -> Response {
    if str_param(p, "channel").is_none() {
        return slack_error("channel_not_found");
    }
    if str_param(p, "user").is_none() {
        return slack_error("user_not_found");
    }
    if !has_content(p) {
        return slack_error("no_text");
    }
    let ts = shared.update(|s| s.web.next_ts());
    ok(json!({"message_ts": ts}))
}

fn update_message(shared: &Shared, p: &Params) -> Response {
    let (Some(channel), Some(ts)) = (str_param(p, "channel"), str_param(p, "ts")) else {
        return slack_error("message_not_found");
    };
    if !has_content(p) {
        return slack_error("no_text");
    }
    let updated = shared.update(|s| {
        let edited_ts = s.web.next_ts();
        let key = (channel.to_string(), ts.to_string());
        let message = s.web.messages.get_mut(&key)?;
        copy_fields(p, message, CONTENT_FIELDS);
        message["edited"] = json!({"user": shared.config.bot_user_id, "ts": edited_ts});
        Some(message.clone())
    });
    match updated {
        Some(message) => ok(json!({
            "channel": channel, "ts": ts, "text": message["text"], "message": message,
        })),
        None => slack_error("message_not_found"),
    }
}

fn users_info(shared: &Shared, p: &Params) -> Response {
    let user = str_param(p, "user").and_then(|id| shared.inspect(|s| s.web.users.get(id).cloned()));
    match user {
        Some(user) => ok(json!({"user": user})),
        None => slack_error("user_not_found"),
    }
}

/// views.open: a modal needs a trigger id and a view; the call is recorded
/// (tests read the view from it) and answered with the view and an id.
fn views_open(shared: &Shared, p: &Params) -> Response {
    match (str_param(p, "trigger_id"), p.get("view")) {
        (Some(_), Some(view)) => {
            let mut opened = view.clone();
            opened["id"] = "V0MODAL1".into();
            opened["team_id"] = shared.config.team_id.clone().into();
            opened["hash"] = "1700000000.abcdef".into();
            ok(json!({ "view": opened }))
        }
        (None, _) => slack_error("invalid_trigger_id"),
        (_, None) => slack_error("invalid_arguments"),
    }
}

fn connections_open(shared: &Shared, _: &Params) -> Response {
    let ticket = shared.update(|s| s.sockets.mint_ticket());
    let c = &shared.config;
    ok(json!({"url": format!("{}/link/?ticket={ticket}&app_id={}", c.ws_base, c.app_id)}))
}

/// Query string, then the body (JSON object, or form fields); plus a form `token`.
fn parse_params(
    headers: &HeaderMap,
    query: Option<&str>,
    body: &[u8],
) -> Result<(Params, Option<String>), &'static str> {
    let mut params = Params::new();
    let form_pairs =
        |bytes: &[u8]| serde_urlencoded::from_bytes::<Vec<(String, String)>>(bytes).map_err(|_| "invalid_form_data");
    for (key, value) in form_pairs(query.unwrap_or_default().as_bytes())? {
        params.insert(key, Value::String(value));
    }
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let mut form_token = None;
    if body.is_empty() {
    } else if content_type.contains("json") {
        match serde_json::from_slice(body) {
            Ok(Value::Object(fields)) => params.extend(fields),
            _ => return Err("invalid_json"),
        }
    } else {
        for (key, value) in form_pairs(body)? {
            if key == "token" {
                form_token = Some(value);
            } else {
                let value = decode_form_value(&key, value);
                params.insert(key, value);
            }
        }
    }
    Ok((params, form_token))
}

fn decode_form_value(key: &str, value: String) -> Value {
    if JSON_FORM_FIELDS.contains(&key)
        && let Ok(decoded @ (Value::Array(_) | Value::Object(_))) = serde_json::from_str(&value)
    {
        return decoded;
    }
    Value::String(value)
}

/// `Authorization: Bearer <token>`; an empty bearer counts as no token, as at Slack.
fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ")?.trim();
    (!token.is_empty()).then(|| token.to_string())
}

fn str_param<'a>(p: &'a Params, key: &str) -> Option<&'a str> {
    p.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// A message needs text, blocks, attachments or markdown_text (else `no_text`).
fn has_content(p: &Params) -> bool {
    CONTENT_FIELDS[..4].iter().any(|key| match p.get(*key) {
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(items)) => !items.is_empty(),
        _ => false,
    })
}

fn copy_fields(from: &Params, to: &mut Value, keys: &[&str]) {
    for key in keys {
        if let Some(value) = from.get(*key) {
            to[*key] = value.clone();
        }
    }
}

fn user_json(config: &Config, id: &str, name: &str, real_name: &str, is_bot: bool) -> Value {
    json!({
        "id": id, "team_id": config.team_id, "name": name, "real_name": real_name,
        "deleted": false, "is_bot": is_bot, "is_app_user": false, "is_admin": false,
        "is_owner": false, "tz": "Europe/London", "tz_label": "Greenwich Mean Time",
        "tz_offset": 0, "updated": 1_700_000_000,
        "profile": {
            "real_name": real_name, "real_name_normalized": real_name,
            "display_name": name, "display_name_normalized": name, "team": config.team_id,
        },
    })
}

pub(super) fn ok(mut fields: Value) -> Response {
    fields["ok"] = Value::Bool(true);
    axum::Json(fields).into_response()
}

/// Slack reports API errors as HTTP 200 with `ok: false`.
pub(super) fn slack_error(code: &str) -> Response {
    axum::Json(json!({"ok": false, "error": code})).into_response()
}

pub(super) fn failure_response(failure: Failure) -> Response {
    match failure {
        Failure::RateLimited { retry_after_secs } => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, retry_after_secs.to_string())],
            axum::Json(json!({"ok": false, "error": "ratelimited"})),
        )
            .into_response(),
        Failure::Status(code) => (
            StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            format!("fake Slack: injected HTTP {code}"),
        )
            .into_response(),
        Failure::Error(code) => slack_error(&code),
    }
}
