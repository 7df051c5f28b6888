//! Pulling the plug mid-stream: the real binary polls an SQS queue (moto)
//! full of notifications, is killed with SIGKILL while it is still posting,
//! and started again on the same store. Every notification shows up in Slack,
//! and none twice.

use std::process::Stdio;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use serde_json::{Value, json};

use crate::support::aws_setup::create_queue;
use crate::support::emulators::{emulators, unique};
use crate::support::fake_slack::FakeSlack;

/// Alarms per channel, and channels (writes are paced per channel).
const PER_CHANNEL: usize = 5;
const CHANNELS: usize = 8;

fn config(queue_url: &str) -> String {
    let routes: Vec<String> = (0..CHANNELS)
        .map(|c| format!("    - {{ match: {{ kind: alarm, name: \"^g{c}-\" }}, channel: C0GROUP{c} }}"))
        .collect();
    format!(
        "notifications:\n  default_channel: C0OPS\n  sqs_queues: [\"{queue_url}\"]\n  routes:\n{}\n",
        routes.join("\n")
    )
}

fn alarm_event(channel: usize, n: usize, run: &str) -> String {
    let name = format!("g{channel}-{run}-{n}");
    json!({"version": "0", "id": format!("{run}-{channel}-{n}"), "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch", "account": "123456789012", "time": "2026-11-22T08:00:00Z", "region": "us-east-1",
        "resources": [format!("arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}")],
        "detail": {"alarmName": name, "state": {"value": "ALARM", "reason": "test", "timestamp": "2026-11-22T08:00:00Z"}}})
    .to_string()
}

async fn start(slack: &FakeSlack, dir: &std::path::Path) -> tokio::process::Child {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_opsbot"))
        .args(["serve", "--transport", "http", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--config", &dir.join("opsbot.yaml").display().to_string()])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(emulators().await.env())
        .env("SLACK_BOT_TOKEN", slack.bot_token())
        .env("SLACK_SIGNING_SECRET", "restart-test")
        .env("OPSBOT_SLACK_API_URL", slack.api_url())
        .env("OPSBOT_STORE", dir.join("opsbot.db"))
        .env("RUST_LOG", if std::env::var_os("TEST_LOG").is_some() { "info" } else { "warn" })
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the opsbot binary starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "opsbot serve did not listen within 20 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child
}

/// Top-level messages per alarm name, over every group channel.
fn posted(slack: &FakeSlack) -> Vec<String> {
    (0..CHANNELS)
        .flat_map(|c| slack.messages(&format!("C0GROUP{c}")))
        .filter(|m| m.get("thread_ts").is_none_or(Value::is_null))
        .map(|m| m["metadata"]["event_payload"]["key"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn a_bot_killed_mid_stream_and_restarted_shows_every_notification_once() {
    let emu = emulators().await;
    let sqs = aws_sdk_sqs::Client::new(&emu.sdk_config().await);
    let queue = create_queue(&sqs, &unique("restart"), Duration::from_secs(2)).await;
    let slack = FakeSlack::start().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("opsbot.yaml"), config(&queue.url)).unwrap();
    let run = unique("r");
    let bodies: Vec<String> = (0..CHANNELS)
        .flat_map(|c| (0..PER_CHANNEL).map(move |n| (c, n)))
        .map(|(c, n)| alarm_event(c, n, &run))
        .collect();
    for chunk in bodies.chunks(10) {
        let entries = chunk
            .iter()
            .enumerate()
            .map(|(i, b)| SendMessageBatchRequestEntry::builder().id(i.to_string()).message_body(b).build().unwrap())
            .collect();
        sqs.send_message_batch().queue_url(&queue.url).set_entries(Some(entries)).send().await.unwrap();
    }

    let mut bot = start(&slack, dir.path()).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while posted(&slack).len() < 8 {
        assert!(Instant::now() < deadline, "the first bot posted nothing");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    bot.kill().await.expect("SIGKILL");
    let before = posted(&slack).len();
    assert!(before < bodies.len(), "killed before it was done ({before} of {})", bodies.len());

    let mut again = start(&slack, dir.path()).await;
    let deadline = Instant::now() + Duration::from_secs(40);
    while posted(&slack).len() < bodies.len() {
        assert!(Instant::now() < deadline, "only {} of {} shown after the restart", posted(&slack).len(), bodies.len());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut keys = posted(&slack);
    let total = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!((keys.len(), total), (bodies.len(), bodies.len()), "every alarm once: {keys:#?}");
    again.kill().await.ok();
}
