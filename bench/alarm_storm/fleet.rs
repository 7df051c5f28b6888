//! What the storm runs against: the store (a SQLite file, or a DynamoDB
//! table on a ministack emulator this bench starts) and one or more
//! `opsbot serve --transport http` replicas sharing it and one config file.
//!
//! The table is on ministack, not moto: moto deep-copies the whole table on
//! every TransactWriteItems, so it cannot take a storm. ministack is started
//! from `$OPSBOT_VENV` (default /work/main/.venv) the way
//! tests/support/emulators.rs starts it, and the table is made by
//! `opsbot store init --config FILE`, as an operator would. Every process is
//! killed when the bench ends (`kill_on_drop`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use crate::load::{self, CHANNELS, TOPIC};

/// Where the replicas keep their state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    Sqlite,
    DynamoDb,
}

impl Store {
    pub fn name(self) -> &'static str {
        match self {
            Store::Sqlite => "SQLite",
            Store::DynamoDb => "DynamoDB on ministack",
        }
    }
}

/// One running process: the bench measures its pid.
pub struct Process {
    pub pid: u32,
    _child: Child,
}

/// The running fleet.
pub struct Fleet {
    pub replicas: Vec<Process>,
    /// `http://127.0.0.1:PORT` of each replica, in the order of `replicas`.
    pub bases: Vec<String>,
    pub ministack: Option<Process>,
}

/// Starts the store and `replicas` replicas in `dir` (logs `opsbot-N.log`,
/// `ministack.log`), each answering `/healthz` when this returns.
pub async fn start(binary: &str, store: Store, replicas: usize, dir: &Path, sink_url: &str) -> Fleet {
    let mut env = base_env();
    let mut ministack = None;
    let store_yaml = match store {
        Store::Sqlite => format!("{{ path: {} }}", dir.join("storm.db").display()),
        Store::DynamoDb => {
            let (process, url) = start_ministack(dir).await;
            ministack = Some(process);
            env.push(("AWS_ENDPOINT_URL_DYNAMODB".into(), url));
            format!("{{ dynamodb: {{ table: opsbot-storm-{} }} }}", std::process::id())
        }
    };
    let config = dir.join("storm.yaml");
    std::fs::write(&config, config_yaml(&store_yaml, sink_url)).unwrap();
    if store == Store::DynamoDb {
        init_table(binary, &config, &env).await;
    }
    let mut fleet = Fleet { replicas: Vec::new(), bases: Vec::new(), ministack };
    for n in 0..replicas {
        let port = free_port();
        let log = std::fs::File::create(dir.join(format!("opsbot-{n}.log"))).unwrap();
        let child = Command::new(binary)
            .args(["serve", "--transport", "http", "--listen", &format!("127.0.0.1:{port}"), "--config"])
            .arg(&config)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .expect("the opsbot binary starts");
        fleet.replicas.push(Process { pid: child.id().expect("pid"), _child: child });
        fleet.bases.push(format!("http://127.0.0.1:{port}"));
    }
    for base in &fleet.bases {
        load::wait_ready(base).await;
    }
    fleet
}

/// The replicas' logs, in order.
pub fn logs(dir: &Path, replicas: usize) -> Vec<String> {
    (0..replicas).map(|n| std::fs::read_to_string(dir.join(format!("opsbot-{n}.log"))).unwrap_or_default()).collect()
}

fn base_env() -> Vec<(String, String)> {
    [
        ("SLACK_BOT_TOKEN", "xoxb-bench"),
        ("SLACK_SIGNING_SECRET", "bench-signing-secret"),
        ("RUST_LOG", "info"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "bench"),
        ("AWS_SECRET_ACCESS_KEY", "bench"),
        ("AWS_CONFIG_FILE", "/dev/null"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn config_yaml(store: &str, sink: &str) -> String {
    let mut routes = String::new();
    for c in 0..CHANNELS {
        routes +=
            &format!("    - {{ match: {{ kind: alarm, name: \"^storm-c{c}-\" }}, channel: {} }}\n", load::channel(c));
    }
    format!(
        "store: {store}\nslack: {{ api_url: {sink}/api }}\nnotifications:\n  default_channel: C0STORMDEF\n  \
         insecure_skip_sns_signatures: true\n  sns: {{ topics: [\"{TOPIC}\"] }}\n  routes:\n{routes}"
    )
}

/// Starts ministack on a free loopback port; its process and URL once it
/// answers `GET /_ministack/health`.
async fn start_ministack(dir: &Path) -> (Process, String) {
    let venv = PathBuf::from(std::env::var("OPSBOT_VENV").unwrap_or_else(|_| "/work/main/.venv".into()));
    let program = venv.join("bin/ministack");
    assert!(program.exists(), "no {}: run scripts/emulators.sh or set OPSBOT_VENV", program.display());
    let port = free_port();
    let child = Command::new(&program)
        .env("BIND_HOST", "127.0.0.1")
        .env("GATEWAY_PORT", port.to_string())
        // Else ministack also opens an IoT MQTT/TLS listener on 0.0.0.0:8883.
        .env("IOT_MTLS_ENABLED", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(dir.join("ministack.log")).unwrap()))
        .kill_on_drop(true)
        .spawn()
        .expect("ministack starts");
    let pid = child.id().expect("pid");
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !health(port) {
        assert!(Instant::now() < deadline, "ministack did not answer /_ministack/health within 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (Process { pid, _child: child }, url)
}

fn health(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return false };
    let request = format!("GET /_ministack/health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    let mut answer = String::new();
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_to_string(&mut answer).is_ok()
        && answer.starts_with("HTTP/1.1 200")
}

/// `opsbot store init --config FILE`: creates the table.
async fn init_table(binary: &str, config: &Path, env: &[(String, String)]) {
    let out = Command::new(binary)
        .args(["store", "init", "--config"])
        .arg(config)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .await
        .expect("opsbot store init runs");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "opsbot store init failed: {said}");
    println!("store init: {}", said.trim());
}

/// A port nothing listens on right now (the OS's pick for port 0).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
