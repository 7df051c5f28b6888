//! Fake Slack: an in-process server on 127.0.0.1 that speaks Slack's real wire
//! protocols, so the bot (slack-morphism pointed at `OPSBOT_SLACK_API_URL`) cannot
//! tell it from Slack. Every end-to-end test talks to Slack through it.
//!
//! # What it reproduces
//! - **Web API** at `/api/<method>` (GET or POST; JSON, form-encoded or query
//!   parameters): `auth.test`, `chat.postMessage`, `chat.postEphemeral`,
//!   `chat.update` (messages keep their `metadata`), `conversations.history`,
//!   `conversations.replies`, `users.info`, `usergroups.list`, `usergroups.users.list`,
//!   `apps.connections.open`. Bearer auth as Slack
//!   does it: no token → `not_authed`, unknown token → `invalid_auth`, the wrong
//!   kind (bot token for `apps.connections.open`, app token elsewhere) →
//!   `not_allowed_token_type`. Errors are HTTP 200 with `{"ok":false,"error":..}`.
//! - **Failure injection** ([`FakeSlack::fail_next`]): 429 + `Retry-After`
//!   (`ratelimited`), any HTTP status, or an `ok:false` error code; each used once.
//!   An outage ([`FakeSlack::set_down`]): every request 503 until it ends.
//! - **response_url** endpoints `/respond/<n>` minted by [`FakeSlack::response_url`];
//!   like Slack, each URL takes at most 5 posts.
//! - **Socket Mode**: `apps.connections.open` hands out a single-use ticket URL
//!   `ws://127.0.0.1:PORT/link/?ticket=..&app_id=..`; the socket greets with
//!   `hello`, delivers envelopes (spread over the live sockets in turn, or to
//!   one the test picks), records acks, can lose an ack and redeliver the
//!   envelope to another socket as Slack does after 3 s, answers pings, and can
//!   send `disconnect` (`refresh_requested`) then close, to exercise reconnects.
//! - **Payload builders** for slash commands (HTTP form and Socket Mode JSON),
//!   `app_mention` event callbacks and `block_actions` button presses, with the
//!   fake's team/app ids.
//!
//! # Parts
//! - this file: the [`FakeSlack`] handle, recorded [`Call`]s, [`Failure`], shared
//!   state and the waiting helper every `next_*` method uses;
//! - `web_api.rs`: the axum router and `/api/*`, with message and user state;
//! - `history.rs`: `conversations.history` / `.replies` over the bot's messages;
//! - `response_url.rs`: `/respond/<n>` URLs, their posts and limits;
//! - `outage.rs`: the outage switch in front of every route;
//! - `socket_mode.rs`: the WebSocket listener, envelopes, acks, disconnects;
//! - `payloads.rs`: request bodies Slack would send to the bot;
//! - `usergroups.rs`: user groups and their members;
//! - `tests.rs`: the fake driven by slack-morphism's own client and a raw socket.
//!
//! # Decisions
//! - Every call is recorded *before* injection and auth, so tests can count retries
//!   and refused attempts.
//! - `next_*` waits give up after 10 s of *wall-clock* time and panic listing what
//!   did arrive. The deadline is a std thread, not a tokio timer, so a test under
//!   `tokio::time::pause()` does not time out while real sockets are still busy.
//! - slack-morphism builds method URLs as `format!("{}/{}", api_url, method)`, so
//!   [`FakeSlack::api_url`] has no trailing slash; a doubled slash gets a 404 naming
//!   the path instead of silently working.
//! - Drop stops everything: the HTTP server shuts down gracefully, the Socket Mode
//!   listener and its connections are aborted.

mod history;
mod outage;
mod payloads;
mod response_url;
mod socket_mode;
mod tests;
mod usergroups;
mod web_api;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::AbortHandle;

/// How long `next_*` / `wait_for_*` wait (wall-clock) before panicking.
const WAIT: Duration = Duration::from_secs(10);

/// One Web API request as the fake received it.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// Slack method name, e.g. `chat.postMessage`.
    pub method: String,
    /// Bearer token (or the `token` form field), if any was sent.
    pub token: Option<String>,
    /// All parameters as one JSON object: query string, then JSON or form body.
    /// Form fields Slack itself reads as JSON (`blocks`, `attachments`, ...) are
    /// decoded, so assertions look the same whichever encoding the client chose.
    pub body: Value,
    /// When it arrived (pacing is judged on these).
    pub at: std::time::Instant,
}

/// A failure to answer the next call of a method with (see [`FakeSlack::fail_next`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// HTTP 429, `Retry-After: <secs>`, body `{"ok":false,"error":"ratelimited"}`.
    RateLimited { retry_after_secs: u64 },
    /// This HTTP status (e.g. 500, 503) with a plain-text body.
    Status(u16),
    /// HTTP 200 `{"ok":false,"error":<code>}`, e.g. `channel_not_found`.
    Error(String),
}

/// Ids and tokens the fake workspace is built from.
pub(crate) struct Config {
    pub bot_token: String,
    pub app_token: String,
    pub bot_user_id: String,
    pub bot_id: String,
    pub team_id: String,
    pub team_domain: String,
    pub app_id: String,
    pub verification_token: String,
    /// `http://127.0.0.1:PORT` of the Web API / response_url server.
    pub http_base: String,
    /// `ws://127.0.0.1:PORT` of the Socket Mode listener.
    pub ws_base: String,
}

/// An item that `next_*` hands out once, in arrival order.
pub(crate) struct Recorded<T> {
    pub item: T,
    pub consumed: bool,
}

impl<T: Clone> Recorded<T> {
    pub fn new(item: T) -> Self {
        Self { item, consumed: false }
    }
}

/// Marks and returns the first unconsumed item matching `wanted`.
pub(crate) fn take_first<T: Clone>(items: &mut [Recorded<T>], wanted: impl Fn(&T) -> bool) -> Option<T> {
    let found = items.iter_mut().find(|r| !r.consumed && wanted(&r.item))?;
    found.consumed = true;
    Some(found.item.clone())
}

/// Everything the fake remembers; guarded by one mutex, never held across `.await`.
#[derive(Default)]
pub(crate) struct State {
    pub calls: Vec<Recorded<Call>>,
    pub failures: HashMap<String, VecDeque<Failure>>,
    pub web: web_api::WebState,
    pub responses: response_url::ResponseLog,
    pub sockets: socket_mode::SocketState,
    pub usergroups: usergroups::Groups,
    pub outage: outage::Outage,
    /// Source of unique numbers (tickets, trigger ids, response URLs).
    pub counter: u64,
}

impl State {
    pub fn next_number(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }
}

/// State plus a change signal that wakes every waiter after each update.
pub(crate) struct Shared {
    pub config: Config,
    state: Mutex<State>,
    changed: watch::Sender<u64>,
}

impl Shared {
    /// Runs `f` on the state without waking waiters (reads, consuming records).
    pub fn inspect<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Runs `f` on the state, then wakes every waiter to re-check.
    pub fn update<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let out = self.inspect(f);
        self.changed.send_modify(|version| *version += 1);
        out
    }
}

/// Handle to a running fake Slack. Dropping it stops the servers.
pub struct FakeSlack {
    shared: Arc<Shared>,
    stop_http: Option<oneshot::Sender<()>>,
    socket_listener: AbortHandle,
}

impl FakeSlack {
    /// Starts the fake on two ephemeral 127.0.0.1 ports (HTTP and WebSocket), with
    /// tokens `xoxb-test` / `xapp-test` and bot user `U0BOT`.
    pub async fn start() -> FakeSlack {
        let http = TcpListener::bind("127.0.0.1:0").await.expect("fake Slack: bind HTTP port");
        let ws = TcpListener::bind("127.0.0.1:0").await.expect("fake Slack: bind WebSocket port");
        let port = |l: &TcpListener| l.local_addr().expect("bound listener").port();
        let config = Config {
            bot_token: "xoxb-test".into(),
            app_token: "xapp-test".into(),
            bot_user_id: "U0BOT".into(),
            bot_id: "B0BOT".into(),
            team_id: "T0FAKE".into(),
            team_domain: "fake".into(),
            app_id: "A0FAKE".into(),
            verification_token: "fake-verification-token".into(),
            http_base: format!("http://127.0.0.1:{}", port(&http)),
            ws_base: format!("ws://127.0.0.1:{}", port(&ws)),
        };
        let shared = Arc::new(Shared { config, state: Mutex::new(State::default()), changed: watch::Sender::new(0) });
        shared.update(|s| web_api::register_bot_user(&shared.config, s));

        let (stop_http, stopped) = oneshot::channel::<()>();
        let router = web_api::router(shared.clone());
        tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            let _ = axum::serve(http, router).with_graceful_shutdown(shutdown).await;
        });
        let socket_listener = tokio::spawn(socket_mode::accept_loop(ws, shared.clone()));

        FakeSlack { shared, stop_http: Some(stop_http), socket_listener: socket_listener.abort_handle() }
    }

    /// Base URL for `SlackClientHyperConnector::with_slack_api_url`, e.g.
    /// `http://127.0.0.1:PORT/api` (no trailing slash: slack-morphism adds `/method`).
    pub fn api_url(&self) -> String {
        format!("{}/api", self.shared.config.http_base)
    }

    pub fn bot_token(&self) -> &str {
        &self.shared.config.bot_token
    }

    pub fn app_token(&self) -> &str {
        &self.shared.config.app_token
    }

    pub fn bot_user_id(&self) -> &str {
        &self.shared.config.bot_user_id
    }

    pub fn team_id(&self) -> &str {
        &self.shared.config.team_id
    }

    pub fn app_id(&self) -> &str {
        &self.shared.config.app_id
    }

    /// Answers the next call of `method` with `failure` instead of serving it.
    /// Several injections for one method are used in the order given. The method
    /// name `"response_url"` targets posts to response URLs.
    pub fn fail_next(&self, method: &str, failure: Failure) {
        self.shared.update(|s| s.failures.entry(method.to_string()).or_default().push_back(failure));
    }

    /// Snapshot of every Web API call so far, in arrival order.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.inspect(|s| s.calls.iter().map(|r| r.item.clone()).collect())
    }

    /// Waits for the next call of `method` not yet returned by `next_call`.
    pub async fn next_call(&self, method: &str) -> Call {
        self.wait_until(
            &format!("`{method}` call"),
            |s| take_first(&mut s.calls, |c| c.method == method),
            |s| {
                let seen: Vec<_> = s.calls.iter().map(|r| &r.item).collect();
                format!("calls received: {seen:#?}")
            },
        )
        .await
    }

    /// Polls `found` after every state change until it yields, or panics after
    /// [`WAIT`] with `what` and the `received` summary.
    async fn wait_until<T>(
        &self,
        what: &str,
        mut found: impl FnMut(&mut State) -> Option<T>,
        received: impl FnOnce(&mut State) -> String,
    ) -> T {
        let mut changes = self.shared.changed.subscribe();
        let mut deadline = wall_clock_deadline(WAIT);
        loop {
            changes.borrow_and_update();
            if let Some(value) = self.shared.inspect(&mut found) {
                return value;
            }
            tokio::select! {
                _ = changes.changed() => {}
                _ = &mut deadline => {
                    let seen = self.shared.inspect(received);
                    panic!("fake Slack: no {what} within {WAIT:?}; {seen}");
                }
            }
        }
    }
}

impl Drop for FakeSlack {
    fn drop(&mut self) {
        if let Some(stop) = self.stop_http.take() {
            let _ = stop.send(());
        }
        self.socket_listener.abort();
    }
}

/// Resolves after `after` of real time, even while tokio's clock is paused.
fn wall_clock_deadline(after: Duration) -> oneshot::Receiver<()> {
    let (tx, rx) = oneshot::channel();
    std::thread::spawn(move || {
        std::thread::sleep(after);
        let _ = tx.send(());
    });
    rx
}
