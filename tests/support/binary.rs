//! The real `opsbot` binary as a child process (`CARGO_BIN_EXE_opsbot`),
//! started with nothing but environment variables and an optional config
//! file, talking to a fake Slack; for tests that must see what an operator
//! sees: exit codes, stderr, and HTTP answers from the shipped program.
//!
//! The child gets a clean environment (AWS pointed nowhere: no test here
//! reaches AWS), is killed on drop, and keeps its stderr for assertions.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use tokio::io::AsyncReadExt;

use super::bot::HttpAnswer;
use super::fake_slack::FakeSlack;
use super::signing;

/// How long the binary may take to listen or to exit.
const WAIT: Duration = Duration::from_secs(20);

/// `opsbot serve` being built up: transport, config, environment.
pub struct Serve {
    command: tokio::process::Command,
    port: u16,
}

/// A started `opsbot serve`.
pub struct ServeProcess {
    child: tokio::process::Child,
    pub base: String,
    /// Reads stderr as it comes, so a chatty child never blocks on a full pipe.
    stderr: tokio::task::JoinHandle<()>,
    /// What the child wrote to stderr so far.
    stderr_text: Arc<Mutex<Vec<u8>>>,
}

impl Serve {
    /// `opsbot serve --transport <transport>` on a free port, with the fake's
    /// tokens and API URL and a store at `store`.
    pub fn new(slack: &FakeSlack, transport: &str, store: &Path) -> Serve {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_opsbot"));
        command
            .args(["serve", "--transport", transport, "--listen", &format!("127.0.0.1:{port}")])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs([
                ("AWS_EC2_METADATA_DISABLED", "true"),
                ("AWS_REGION", "us-east-1"),
                ("AWS_ACCESS_KEY_ID", "testing"),
                ("AWS_SECRET_ACCESS_KEY", "testing"),
                ("AWS_CONFIG_FILE", "/dev/null"),
                ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
            ])
            .env("SLACK_BOT_TOKEN", slack.bot_token())
            .env("SLACK_APP_TOKEN", slack.app_token())
            .env("OPSBOT_SLACK_API_URL", slack.api_url())
            .env("OPSBOT_STORE", store)
            .env("RUST_LOG", if std::env::var_os("TEST_LOG").is_some() { "info" } else { "warn" })
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        Serve { command, port }
    }

    pub fn env(mut self, name: &str, value: impl AsRef<std::ffi::OsStr>) -> Serve {
        self.command.env(name, value);
        self
    }

    /// Several variables at once (later ones win, as with [`Serve::env`]).
    pub fn envs<K: AsRef<std::ffi::OsStr>, V: AsRef<std::ffi::OsStr>>(
        mut self,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Serve {
        self.command.envs(vars);
        self
    }

    /// Leaves `name` unset (e.g. `OPSBOT_STORE`, so the config file's store applies).
    pub fn env_remove(mut self, name: &str) -> Serve {
        self.command.env_remove(name);
        self
    }

    /// `--config <file>`.
    pub fn config(mut self, file: PathBuf) -> Serve {
        self.command.arg("--config").arg(file);
        self
    }

    /// Starts it without waiting for anything.
    pub fn spawn(mut self) -> ServeProcess {
        let mut child = self.command.spawn().expect("the opsbot binary starts");
        let mut pipe = child.stderr.take().expect("stderr is piped");
        let stderr_text = Arc::new(Mutex::new(Vec::new()));
        let text = stderr_text.clone();
        let stderr = tokio::spawn(async move {
            let mut chunk = [0u8; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut chunk).await {
                text.lock().unwrap().extend_from_slice(&chunk[..n]);
            }
        });
        ServeProcess { child, base: format!("http://127.0.0.1:{}", self.port), stderr, stderr_text }
    }

    /// Starts it and waits until it listens.
    pub async fn listening(self) -> ServeProcess {
        let port = self.port;
        let mut process = self.spawn();
        let deadline = Instant::now() + WAIT;
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            if !process.running() {
                let (status, stderr) = process.exit().await;
                panic!("opsbot serve exited ({status}) before listening: {stderr}");
            }
            assert!(Instant::now() < deadline, "opsbot serve did not listen within {WAIT:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        process
    }
}

impl ServeProcess {
    /// Waits for the process to end by itself; its status and stderr.
    pub async fn exit(mut self) -> (ExitStatus, String) {
        let status = tokio::time::timeout(WAIT, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("opsbot serve still running after {WAIT:?}"))
            .expect("wait for opsbot");
        (status, self.stderr().await)
    }

    /// POSTs `body` (any bytes) to `path` with exactly these headers.
    pub async fn post(&self, path: &str, content_type: &str, body: Vec<u8>, headers: &[(&str, &str)]) -> HttpAnswer {
        let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
        let mut req = axum::http::Request::post(format!("{}{path}", self.base)).header("content-type", content_type);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let req = req.body(Full::new(axum::body::Bytes::from(body))).expect("request");
        let res = tokio::time::timeout(WAIT, client.request(req))
            .await
            .unwrap_or_else(|_| panic!("no answer to POST {path} within {WAIT:?}"))
            .expect("opsbot answers HTTP");
        let status = res.status().as_u16();
        let body = res.into_body().collect().await.expect("body").to_bytes();
        HttpAnswer { status, body: String::from_utf8_lossy(&body).into_owned() }
    }

    /// POSTs `body` signed now with `secret`, as Slack does.
    pub async fn post_signed(&self, path: &str, content_type: &str, body: Vec<u8>, secret: &str) -> HttpAnswer {
        let ts = chrono::Utc::now().timestamp().to_string();
        let sig = signing::sign_bytes(secret, &ts, &body);
        self.post(path, content_type, body, &[("x-slack-request-timestamp", &ts), ("x-slack-signature", &sig)]).await
    }

    /// Sends SIGTERM, as an orchestrator stopping the process does (`kill`:
    /// the crate forbids `unsafe`, so no `libc::kill`).
    pub fn terminate(&self) {
        let pid = self.child.id().expect("the process is running").to_string();
        let sent = std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
        assert!(sent.success(), "kill -TERM {pid} failed");
    }

    /// The process id (to send it signals with `kill`).
    pub fn pid(&self) -> u32 {
        self.child.id().expect("the process is running")
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().expect("poll opsbot").is_none()
    }

    /// Everything the process wrote to stderr (complete once it has exited).
    async fn stderr(self) -> String {
        let text = self.stderr_text.clone();
        self.stderr.await.expect("the stderr reader ends with the pipe");
        String::from_utf8_lossy(&text.lock().unwrap()).into_owned()
    }

    /// What the process has written to stderr until now.
    pub fn stderr_so_far(&self) -> String {
        String::from_utf8_lossy(&self.stderr_text.lock().unwrap()).into_owned()
    }

    /// Stops the process with SIGKILL and returns its stderr.
    pub async fn kill(mut self) -> String {
        let _ = self.child.kill().await;
        self.stderr().await
    }
}

/// The panic reports in a process's stderr: each "panicked at" line with its
/// message, without the backtrace that follows when RUST_BACKTRACE is set.
/// A failing check then shows the cause in a few lines
/// instead of minutes of log, which CI would cut.
pub fn panics(stderr: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut lines = stderr.lines();
    while let Some(line) = lines.next() {
        if line.contains("panicked at") {
            let message = lines.by_ref().take_while(|l| !l.starts_with("stack backtrace:") && !l.starts_with("note: "));
            found.push(std::iter::once(line).chain(message.take(5)).collect::<Vec<_>>().join("\n"));
        }
    }
    found
}
