//! Two replicas through an alarm storm, one killed mid-way: both real
//! `opsbot serve` processes poll one SQS queue (moto) and share one DynamoDB
//! table; 2,000 state changes of 50 alarms arrive at once; replica A is
//! killed with SIGKILL while the storm is being shown. Every alarm ends as
//! one top-level message showing its last state — none lost, none twice —
//! and no channel is written to faster than Slack allows.
//!
//! The table is on ministack, not moto: moto deep-copies the whole table on
//! every TransactWriteItems and scans it on every Query, so a table of a few
//! thousand items takes it seconds per notification (measured: ~1/s); the
//! store's behaviour on moto is the conformance suite's.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use serde_json::json;

use crate::support::aws_setup::create_queue;
use crate::support::binary::{Serve, ServeProcess, panics};
use crate::support::emulators::{Emulators, unique};
use crate::support::fake_slack::FakeSlack;

const ALARMS: usize = 50;
const CHANGES: usize = 40;
const CHANNELS: usize = 10;

fn config(queue_url: &str, table: &str) -> String {
    let routes: Vec<String> = (0..CHANNELS)
        .map(|c| format!("    - {{ match: {{ kind: alarm, name: \"-c{c}$\" }}, channel: C0STORM{c} }}"))
        .collect();
    format!(
        "store:\n  dynamodb: {{ table: {table} }}\nnotifications:\n  default_channel: C0OPS\n  sqs_queues: [\"{queue_url}\"]\n  routes:\n{}\n",
        routes.join("\n")
    )
}

/// Change `step` of alarm `n`: ALARM and INSUFFICIENT_DATA in turn (one
/// episode: the alarm never returns to OK), a second apart.
fn change(n: usize, step: usize, run: &str) -> String {
    let name = format!("storm-{run}-{n}-c{}", n % CHANNELS);
    let at = (chrono::DateTime::parse_from_rfc3339("2026-12-06T08:00:00Z").unwrap()
        + chrono::Duration::seconds(step as i64))
    .to_rfc3339();
    let state = if step.is_multiple_of(2) { "ALARM" } else { "INSUFFICIENT_DATA" };
    json!({"version": "0", "id": format!("{run}-{n}-{step}"), "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch", "account": "123456789012", "time": at, "region": "us-east-1",
        "resources": [format!("arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}")],
        "detail": {"alarmName": name, "state": {"value": state, "reason": format!("step {step}"), "timestamp": at}}})
    .to_string()
}

async fn replica(emu: &Emulators, slack: &FakeSlack, config: &Path) -> ServeProcess {
    Serve::new(slack, "http", Path::new("unused.db"))
        .env_remove("OPSBOT_STORE")
        .config(config.into())
        .envs(emu.env())
        .env("AWS_ENDPOINT_URL_DYNAMODB", emu.ministack_url())
        .env("SLACK_SIGNING_SECRET", "storm-test")
        .listening()
        .await
}

/// Each alarm's top-level messages (by the key in their metadata), as they read now.
fn top_level(slack: &FakeSlack) -> BTreeMap<String, Vec<String>> {
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in 0..CHANNELS {
        for m in slack.messages(&format!("C0STORM{c}")) {
            if m.get("thread_ts").is_some_and(|t| !t.is_null()) {
                continue;
            }
            let key = m["metadata"]["event_payload"]["key"].as_str().unwrap_or_default().to_owned();
            let text = crate::support::bot::text_of(&m);
            found.entry(key).or_default().push(text);
        }
    }
    found
}

/// The most writes any channel took within any `window`.
fn busiest(slack: &FakeSlack, window: Duration) -> (String, usize) {
    let mut by_channel: BTreeMap<String, Vec<Instant>> = BTreeMap::new();
    for call in slack.calls() {
        if ["chat.postMessage", "chat.update"].contains(&call.method.as_str()) {
            let channel = call.body["channel"].as_str().unwrap_or_default().to_owned();
            by_channel.entry(channel).or_default().push(call.at);
        }
    }
    let mut worst = (String::new(), 0);
    for (channel, mut times) in by_channel {
        times.sort();
        for (i, start) in times.iter().enumerate() {
            let within = times[i..].iter().take_while(|t| t.duration_since(*start) < window).count();
            if within > worst.1 {
                worst = (channel.clone(), within);
            }
        }
    }
    worst
}

#[tokio::test]
async fn two_replicas_show_an_alarm_storm_once_each_and_right_though_one_is_killed_mid_way() {
    let _turn = crate::support::one_fleet_at_a_time().await;
    // Its own emulators: 2,000 notifications keep them busy for a minute.
    let emu = tokio::task::spawn_blocking(Emulators::private).await.unwrap();
    let sdk = emu.sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue = create_queue(&sqs, &unique("storm"), Duration::from_secs(2)).await;
    let table = unique("opsbot-storm");
    let dynamodb = aws_sdk_dynamodb::config::Builder::from(&sdk).endpoint_url(emu.ministack_url()).build();
    opsbot::store::dynamodb::table::create(&aws_sdk_dynamodb::Client::from_conf(dynamodb), &table).await.unwrap();
    let slack = FakeSlack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("opsbot.yaml");
    std::fs::write(&config_path, config(&queue.url, &table)).unwrap();

    let run = unique("s");
    let changes: Vec<String> = (0..CHANGES)
        .flat_map(|step| (0..ALARMS).map(move |n| (n, step)))
        .map(|(n, step)| change(n, step, &run))
        .collect();
    for chunk in changes.chunks(10) {
        let entries = chunk
            .iter()
            .enumerate()
            .map(|(i, b)| SendMessageBatchRequestEntry::builder().id(i.to_string()).message_body(b).build().unwrap())
            .collect();
        sqs.send_message_batch().queue_url(&queue.url).set_entries(Some(entries)).send().await.unwrap();
    }

    let a = replica(&emu, &slack, &config_path).await;
    let b = replica(&emu, &slack, &config_path).await;
    // Generous limits: alone the storm takes about two minutes, but CI runs
    // it beside the rest of the suite on two cores, where it took over five.
    let deadline = Instant::now() + Duration::from_secs(120);
    while top_level(&slack).len() < ALARMS / 2 {
        assert!(Instant::now() < deadline, "the replicas showed only {} alarms in 2 min", top_level(&slack).len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let a_said = a.kill().await;

    let deadline = Instant::now() + Duration::from_secs(600);
    let finals = loop {
        let shown = top_level(&slack);
        let done = shown.len() == ALARMS
            && shown.values().all(|texts| texts.iter().any(|t| t.contains(&format!("step {}", CHANGES - 1))));
        if done {
            break shown;
        }
        if Instant::now() > deadline {
            let last = format!("step {}", CHANGES - 1);
            let unfinished: BTreeMap<&String, &Vec<String>> =
                shown.iter().filter(|(_, texts)| !texts.iter().any(|t| t.contains(&last))).collect();
            let b_said = b.kill().await;
            let tail = &b_said[b_said.len().saturating_sub(6000)..];
            panic!(
                "after the kill, replica B did not finish the storm: {} of {ALARMS} alarms shown, {} not at their \
                 last step: {unfinished:#?}\nA said: {a_said}\nB said (end): {tail}",
                shown.len(),
                unfinished.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for (key, texts) in &finals {
        assert_eq!(texts.len(), 1, "alarm {key} has {} top-level messages: {texts:#?}", texts.len());
    }
    // Slack allows about one write a second per channel, with short bursts:
    // the pacer's three at once, and three more when a dead replica's
    // channel moves to a fresh bucket — never two replicas' paces added up.
    let (channel, most) = busiest(&slack, Duration::from_secs(5));
    assert!(most <= 3 + 5 + 3, "{channel} took {most} writes within 5 s");
    let b_said = b.kill().await;
    assert_eq!(panics(&a_said), Vec::<String>::new(), "replica A panicked before it was killed");
    assert_eq!(panics(&b_said), Vec::<String>::new(), "replica B panicked");
}
