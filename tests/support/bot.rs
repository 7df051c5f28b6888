//! `spawn_bot()`: the real application (`opsbot::app::start`) wired to the fake
//! Slack and an AWS behind the commands' ports (the sandbox by default, the
//! emulators where a test says so), with verb methods for what users do.
//! Each bot gets its own SQLite file, so tests never share state.
//!
//! A bot's clock is the system clock plus an offset the test moves with
//! [`TestBot::clock_forward`]; its expiry sweeper runs every [`SWEEP_EVERY`],
//! so "nobody clicked for 30 minutes" takes a few milliseconds.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Once};
use std::time::Duration;

use chrono::Utc;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use opsbot::app::{self, Running, Transport, Wiring};
use opsbot::sandbox::Sandbox;
use opsbot::settings::{Secret, Settings};
use opsbot_commands::ports::Gateways;
use opsbot_policies::Policy;
use serde_json::Value;

use super::fake_slack::FakeSlack;
use super::signing;

pub const SIGNING_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
pub const USER: &str = "U0DEV";
pub const CHANNEL: &str = "C0OPS";
/// How often a test bot looks for expired changes.
pub const SWEEP_EVERY: Duration = Duration::from_millis(50);

pub struct TestBot {
    pub slack: FakeSlack,
    pub addr: SocketAddr,
    /// Where `/metrics` listens when `server.metrics_listen` is set.
    pub metrics_addr: Option<SocketAddr>,
    pub transport: Transport,
    pub store_path: PathBuf,
    /// Seconds the bot's clock runs ahead of the system clock.
    clock_offset: Arc<AtomicI64>,
    running: Option<Running>,
    http: Client<HttpConnector, Full<axum::body::Bytes>>,
    _dir: tempfile::TempDir,
}

/// What came back from an HTTP request to the bot.
#[derive(Debug)]
pub struct HttpAnswer {
    pub status: u16,
    pub body: String,
}

static LOGS: Once = Once::new();

pub fn init_logs() {
    LOGS.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            tracing_subscriber::fmt().with_env_filter("info").with_test_writer().init();
        }
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A bot on `transport` over the demo sandbox account.
pub async fn spawn_bot(transport: Transport) -> TestBot {
    spawn_bot_with(transport, Arc::new(Sandbox::demo(Utc::now())).gateways(), |_| {}).await
}

/// A bot on `transport` over the demo sandbox account, judged by `policy`.
pub async fn spawn_bot_with_policy(transport: Transport, policy: Policy) -> TestBot {
    let aws = Arc::new(Sandbox::demo(Utc::now())).gateways();
    spawn(transport, Wiring::new(aws).with_policy(Arc::new(policy)), |_| {}).await
}

/// A bot on `transport` over `aws`, with settings adjusted by `tweak`.
pub async fn spawn_bot_with(transport: Transport, aws: Gateways, tweak: impl FnOnce(&mut Settings)) -> TestBot {
    spawn(transport, Wiring::new(aws), tweak).await
}

/// A bot on `transport` built from `wiring` (e.g. with an SQS client), with settings adjusted by `tweak`.
pub async fn spawn_bot_wired(transport: Transport, wiring: Wiring, tweak: impl FnOnce(&mut Settings)) -> TestBot {
    spawn(transport, wiring, tweak).await
}

async fn spawn(transport: Transport, wiring: Wiring, tweak: impl FnOnce(&mut Settings)) -> TestBot {
    init_logs();
    let slack = FakeSlack::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let store_path = dir.path().join("opsbot.db");
    let mut settings = settings_for(&slack, store_path.clone());
    tweak(&mut settings);
    let clock_offset = Arc::new(AtomicI64::new(0));
    let offset = clock_offset.clone();
    let clock: opsbot_commands::ports::Clock =
        Arc::new(move || Utc::now() + chrono::Duration::seconds(offset.load(Ordering::SeqCst)));
    let wiring = wiring.with_clock(clock, SWEEP_EVERY);
    let running = app::start_with(&settings, transport, wiring).await.expect("bot starts");
    if transport == Transport::Socket {
        slack.wait_for_socket().await;
    }
    TestBot {
        addr: running.addr,
        metrics_addr: running.metrics_addr,
        slack,
        transport,
        store_path,
        clock_offset,
        running: Some(running),
        http: Client::builder(TokioExecutor::new()).build_http(),
        _dir: dir,
    }
}

pub fn settings_for(slack: &FakeSlack, store_path: PathBuf) -> Settings {
    Settings {
        slack_api_url: slack.api_url(),
        bot_token: Some(Secret::new(slack.bot_token())),
        app_token: Some(Secret::new(slack.app_token())),
        signing_secrets: vec![Secret::new(SIGNING_SECRET)],
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        store: opsbot::settings::StoreChoice::Sqlite(Some(store_path)),
        ..Settings::default()
    }
}

impl TestBot {
    /// `/ops <text>` by [`USER`] in [`CHANNEL`], through this bot's transport;
    /// returns what the bot posted to the command's response_url.
    pub async fn slash(&self, text: &str) -> Value {
        let url = self.slack.response_url();
        match self.transport {
            Transport::Http => {
                let body = self.slack.slash_command_form(text, USER, "dev", CHANNEL, "ops", &url);
                let answer = self.post_signed("/slack/commands", "application/x-www-form-urlencoded", &body).await;
                assert_eq!(answer.status, 200, "slash command refused: {answer:?}");
            }
            Transport::Socket => {
                let payload = self.slack.slash_command_json(text, USER, "dev", CHANNEL, "ops", &url);
                let id = self.slack.send_envelope("slash_commands", payload).await;
                self.slack.next_ack(&id).await;
            }
        }
        self.slack.next_response(&url).await
    }

    /// POSTs `body` signed now with the test signing secret.
    pub async fn post_signed(&self, path: &str, content_type: &str, body: &str) -> HttpAnswer {
        let ts = Utc::now().timestamp().to_string();
        let sig = signing::sign(SIGNING_SECRET, &ts, body);
        self.post(path, content_type, body, &[("x-slack-request-timestamp", &ts), ("x-slack-signature", &sig)]).await
    }

    /// POSTs with exactly the given headers (for forged and replayed requests).
    pub async fn post(&self, path: &str, content_type: &str, body: &str, headers: &[(&str, &str)]) -> HttpAnswer {
        let mut req =
            axum::http::Request::post(format!("http://{}{path}", self.addr)).header("content-type", content_type);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let req = req.body(Full::new(body.to_owned().into())).expect("request");
        self.send(req).await
    }

    pub async fn get(&self, path: &str) -> HttpAnswer {
        let req =
            axum::http::Request::get(format!("http://{}{path}", self.addr)).body(Full::default()).expect("request");
        self.send(req).await
    }

    async fn send(&self, req: axum::http::Request<Full<axum::body::Bytes>>) -> HttpAnswer {
        let res = self.http.request(req).await.expect("bot answers HTTP");
        let status = res.status().as_u16();
        let body = res.into_body().collect().await.expect("body").to_bytes();
        HttpAnswer { status, body: String::from_utf8_lossy(&body).into_owned() }
    }

    /// Waits (wall clock, 30 s: a change followed through moto beside the
    /// storm tests on two loaded cores once took over 10) until a message in
    /// `channel` — as it reads now, after any edits — contains `needle`;
    /// returns it. Channel writes go through the outbox, which may merge a
    /// post and its edits into one call.
    pub async fn wait_for_text(&self, channel: &str, needle: &str) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(found) = self.slack.messages(channel).into_iter().find(|m| text_of(m).contains(needle)) {
                return found;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no message in {channel} says {needle:?}: {:#?}",
                self.slack.messages(channel)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Moves the bot's clock forward (requests and the expiry sweeper see it).
    pub fn clock_forward(&self, by: Duration) {
        self.clock_offset.fetch_add(by.as_secs() as i64, Ordering::SeqCst);
    }

    /// Whether the store recorded a request key (`slash:<trigger_id>`, ...).
    pub fn claimed(&self, key: &str) -> bool {
        opsbot::store::sqlite::SqliteStore::open(&self.store_path).expect("store opens").is_claimed(key).expect("query")
    }

    /// Serves until a part of the bot stops by itself (as `main` does, with
    /// no signal coming); what `run_until` returned. Panics after `within`.
    pub async fn until_it_stops(mut self, within: Duration) -> Result<(), opsbot::app::AppError> {
        let running = self.running.take().expect("the bot is running");
        tokio::time::timeout(within, running.run_until(std::future::pending()))
            .await
            .unwrap_or_else(|_| panic!("the bot still serves after {within:?}"))
    }

    /// Makes every claim of a request id fail inside SQLite itself (a trigger
    /// raising an I/O error), as a full or broken disk would, while the rest
    /// of the store keeps working; [`TestBot::mend_claims`] undoes it.
    pub fn break_claims(&self) {
        self.sql(
            "CREATE TRIGGER broken_claims BEFORE INSERT ON claims \
             BEGIN SELECT RAISE(ABORT, 'disk I/O error (injected by the test)'); END",
        );
    }

    pub fn mend_claims(&self) {
        self.sql("DROP TRIGGER broken_claims");
    }

    /// Takes the outbox's table away (renamed), so every read of it fails
    /// as a store that cannot answer would; [`TestBot::mend_outbox`] puts it back.
    pub fn break_outbox(&self) {
        self.sql("ALTER TABLE outbox RENAME TO outbox_away");
    }

    pub fn mend_outbox(&self) {
        self.sql("ALTER TABLE outbox_away RENAME TO outbox");
    }

    fn sql(&self, statement: &str) {
        let conn = rusqlite::Connection::open(&self.store_path).expect("the store opens");
        conn.execute_batch(statement).expect("the statement runs");
    }

    /// Stops the bot the way SIGTERM does.
    pub async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await.expect("clean stop");
        }
    }
}

/// Text of every block (and the fallback) of a message or response body.
pub fn text_of(message: &Value) -> String {
    let mut out = vec![message["text"].as_str().unwrap_or_default().to_owned()];
    for block in message["blocks"].as_array().into_iter().flatten() {
        for text in [&block["text"]["text"]]
            .into_iter()
            .chain(block["fields"].as_array().into_iter().flatten().map(|f| &f["text"]))
        {
            out.extend(text.as_str().map(str::to_owned));
        }
        for el in block["elements"].as_array().into_iter().flatten() {
            out.extend(el["text"].as_str().map(str::to_owned));
        }
    }
    out.join("\n")
}
