//! Slash-command acknowledgement under load, idle memory and time to ready,
//! measured on the real release binary (`cargo bench --bench slack_ack`).
//!
//! Starts `opsbot serve --transport http` against a local Slack sink, then:
//! 1. time to ready: spawn → first `200` from `/healthz`;
//! 2. idle RSS once ready (VmRSS from /proc);
//! 3. a fixed open-loop load: `RATE` signed `/ops help` commands a second for
//!    `SECONDS` seconds, each sent at its scheduled time whether or not earlier
//!    ones were answered (no coordinated omission); latency = scheduled send →
//!    acknowledgement; then checks every command's answer reached its
//!    response_url;
//! 4. RSS after the load.
//!
//! Everything stays on 127.0.0.1 and stops by itself. Targets (docs/benchmarks.md):
//! ack p99 ≤ 5 ms at 200 req/s, idle RSS ≤ 10 MB, ready ≤ 50 ms.
//! `OPSBOT_BIN` picks the binary (bench/measured.rs).

#[path = "measured.rs"]
mod measured;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::post;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use measured::Rss;
use opsbot::slack::signature::sign;

const RATE: u64 = 200;
const SECONDS: u64 = 10;
const SECRET: &str = "bench-signing-secret";

#[tokio::main]
async fn main() {
    let answers = Arc::new(AtomicUsize::new(0));
    let sink = start_sink(answers.clone()).await;
    let dir = std::env::temp_dir().join(format!("opsbot-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let binary = measured::binary();
    let spawned = Instant::now();
    let mut child = tokio::process::Command::new(binary)
        .args(["serve", "--transport", "http", "--listen", &format!("127.0.0.1:{port}")])
        .env_clear()
        .envs([
            ("SLACK_BOT_TOKEN", "xoxb-bench"),
            ("SLACK_SIGNING_SECRET", SECRET),
            ("OPSBOT_SLACK_API_URL", &format!("{sink}/api")),
            ("OPSBOT_STORE", &dir.join("bench.db").display().to_string()),
            ("RUST_LOG", "warn"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "bench"),
            ("AWS_SECRET_ACCESS_KEY", "bench"),
        ])
        .kill_on_drop(true)
        .spawn()
        .expect("the release binary starts");
    let pid = child.id().expect("pid");
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<axum::body::Bytes>>();
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(port).await;
    let ready = spawned.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = Rss::of(pid);

    let (latencies, failures) = load(&client, &base, &sink).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while answers.load(Ordering::Relaxed) < latencies.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let loaded = Rss::of(pid);
    child.kill().await.ok();
    let _ = std::fs::remove_dir_all(&dir);
    report(ready, &idle, &loaded, &latencies, failures, answers.load(Ordering::Relaxed));
}

/// Answers the Web API with `ok` and counts posts to response URLs.
async fn start_sink(answers: Arc<AtomicUsize>) -> String {
    let app =
        Router::new().route("/api/{method}", post(|| async { axum::Json(serde_json::json!({"ok": true})) })).route(
            "/respond/{n}",
            post(move || {
                answers.fetch_add(1, Ordering::Relaxed);
                async { axum::Json(serde_json::json!({"ok": true})) }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

type Http = Client<hyper_util::client::legacy::connect::HttpConnector, Full<axum::body::Bytes>>;

/// Polls `GET /healthz` on a fresh connection each time, as an orchestrator's
/// probe does.
async fn wait_ready(port: u16) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(mut conn) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            let probe = b"GET /healthz HTTP/1.1\r\nHost: opsbot\r\nConnection: close\r\n\r\n";
            let mut answer = [0u8; 16];
            if conn.write_all(probe).await.is_ok()
                && conn.read_exact(&mut answer).await.is_ok()
                && answer.starts_with(b"HTTP/1.1 200")
            {
                return;
            }
        }
        assert!(Instant::now() < deadline, "opsbot did not become ready within 10 s");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Open-loop load: request `i` is sent at `start + i / RATE`.
async fn load(client: &Http, base: &str, sink: &str) -> (Vec<Duration>, usize) {
    let start = Instant::now() + Duration::from_millis(100);
    let mut tasks = Vec::new();
    for i in 0..RATE * SECONDS {
        let due = start + Duration::from_micros(i * 1_000_000 / RATE);
        let body = format!(
            "token=x&team_id=T0BENCH&channel_id=C0BENCH&channel_name=bench&user_id=U0BENCH&user_name=bench\
             &command=%2Fops&text=help&response_url={}&trigger_id=bench.{i}",
            urlencode(&format!("{sink}/respond/{i}"))
        );
        let (client, url) = (client.clone(), format!("{base}/slack/commands"));
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(due.into()).await;
            let ts = chrono::Utc::now().timestamp().to_string();
            let req = axum::http::Request::post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("x-slack-request-timestamp", &ts)
                .header("x-slack-signature", sign(SECRET, &ts, body.as_bytes()))
                .body(Full::new(body.into()))
                .unwrap();
            let ok = client.request(req).await.is_ok_and(|r| r.status() == 200);
            (due.elapsed(), ok)
        }));
    }
    let mut latencies = Vec::new();
    let mut failures = 0;
    for task in tasks {
        let (took, ok) = task.await.unwrap();
        if ok { latencies.push(took) } else { failures += 1 }
    }
    latencies.sort();
    (latencies, failures)
}

fn urlencode(raw: &str) -> String {
    raw.replace('%', "%25").replace(':', "%3A").replace('/', "%2F")
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

fn report(ready: Duration, idle: &Rss, loaded: &Rss, lat: &[Duration], failures: usize, answered: usize) {
    println!("opsbot slash-command acknowledgement, {RATE} req/s for {SECONDS} s over HTTP on 127.0.0.1");
    println!("| metric | value | target |");
    println!("|---|---|---|");
    println!("| time to ready | {:.1} ms | ≤ 50 ms |", ready.as_secs_f64() * 1000.0);
    println!("| idle RSS (allocated, mapped files) | {} | ≤ 10 MB |", idle.show());
    println!(
        "| ack p50 / p90 / p99 / max | {:.2} / {:.2} / {:.2} / {:.2} ms | p99 ≤ 5 ms |",
        pct(lat, 0.5),
        pct(lat, 0.9),
        pct(lat, 0.99),
        pct(lat, 1.0)
    );
    println!("| acknowledged / refused or failed | {} / {failures} | all / 0 |", lat.len());
    println!("| answers delivered to response_url | {answered} | {} |", lat.len() + failures);
    println!("| RSS after load | {} | |", loaded.show());
}
