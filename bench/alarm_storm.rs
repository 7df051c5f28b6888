//! Alarm storm on the real release binary (`cargo bench --bench alarm_storm`):
//! 10,000 CloudWatch alarm notifications across 100 alarms in 60 s, posted to
//! `POST /sns` open-loop, with a local Slack sink recording every write.
//!
//! The load: alarm `a` (routed to one of ten channels) flips ALARM/OK every
//! 0.6 s — 101 notifications for even alarms (last one ALARM), 99 for odd ones
//! (last one OK) — sent round by round, one notification every 6 ms, each at
//! its scheduled time whether or not earlier ones were answered. Each carries
//! a unique MessageId, `StateChangeTime` = its send time, and a reason naming
//! its sequence number, so the sink can tell which notification a message
//! shows. The SNS alarm message's fields are those of an alarm action's
//! publish (CloudWatch user guide, "Using Amazon SNS notifications"; the
//! payload of ../shared/bench/peers).
//!
//! Checked and printed: Slack writes per channel (most in any one second; the
//! outbox paces one a second, bursts of three), one top-level post per alarm
//! (none lost, none twice: a flapping alarm keeps one message), every alarm's
//! message ending with its last notification's reason, and VmRSS / RssAnon /
//! RssFile during and after. Signatures are skipped by
//! `insecure_skip_sns_signatures` (benchmark-only); everything is on
//! 127.0.0.1 and stops by itself. `OPSBOT_BIN` picks the binary
//! (bench/measured.rs).

#[path = "alarm_storm/load.rs"]
mod load;
#[path = "measured.rs"]
mod measured;
#[path = "alarm_storm/sink.rs"]
mod sink;

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use load::{ALARMS, CHANNELS, TOPIC};
use measured::Rss;

/// How long the Slack side may take to settle after the last notification.
const DRAIN_LIMIT: Duration = Duration::from_secs(300);

#[tokio::main]
async fn main() {
    let record = sink::Shared::default();
    let sink_url = sink::start(record.clone()).await;
    let dir = std::env::temp_dir().join(format!("opsbot-storm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("storm.yaml");
    std::fs::write(&config, config_yaml(&dir, &sink_url)).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = tokio::process::Command::new(measured::binary())
        .args(["serve", "--transport", "http", "--listen", &format!("127.0.0.1:{port}"), "--config"])
        .arg(&config)
        .env_clear()
        .envs([
            ("SLACK_BOT_TOKEN", "xoxb-bench"),
            ("SLACK_SIGNING_SECRET", "bench-signing-secret"),
            ("RUST_LOG", "info"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "bench"),
            ("AWS_SECRET_ACCESS_KEY", "bench"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(dir.join("opsbot.log")).unwrap()))
        .kill_on_drop(true)
        .spawn()
        .expect("the release binary starts");
    let pid = child.id().expect("pid");
    let base = format!("http://127.0.0.1:{port}");
    load::wait_ready(&base).await;
    let idle = Rss::of(pid);

    let peak = Arc::new(Mutex::new(idle));
    let sampler = tokio::spawn(sample_rss(pid, peak.clone()));
    let started = Instant::now();
    let sent = load::storm(&base).await;
    let storm_took = started.elapsed();
    let settled = wait_settled(&record, &sent.last_reason).await;
    let after = Rss::of(pid);
    sampler.abort();
    child.kill().await.ok();
    let peak = *peak.lock().unwrap();
    let record = record.lock().unwrap();
    let log = std::fs::read_to_string(dir.join("opsbot.log")).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    let problems: Vec<&str> = log.lines().filter(|l| l.contains("WARN") || l.contains("ERROR")).collect();
    println!("opsbot logged {} lines, {} of them warnings or errors:", log.lines().count(), problems.len());
    problems.iter().take(5).for_each(|l| println!("  {l}"));
    report(&sent, storm_took, settled.map(|at| at.duration_since(started)), &record, idle, peak, after);
}

fn config_yaml(dir: &std::path::Path, sink: &str) -> String {
    let mut routes = String::new();
    for c in 0..CHANNELS {
        routes +=
            &format!("    - {{ match: {{ kind: alarm, name: \"^storm-c{c}-\" }}, channel: {} }}\n", load::channel(c));
    }
    format!(
        "store: {{ path: {} }}\nslack: {{ api_url: {sink}/api }}\nnotifications:\n  default_channel: C0STORMDEF\n  \
         insecure_skip_sns_signatures: true\n  sns: {{ topics: [\"{TOPIC}\"] }}\n  routes:\n{routes}",
        dir.join("storm.db").display()
    )
}

/// Waits until every alarm's message shows its last reason and Slack has
/// been quiet for 5 s; returns when the last write arrived (None: never).
async fn wait_settled(record: &sink::Shared, last_reason: &[String]) -> Option<Instant> {
    let deadline = Instant::now() + DRAIN_LIMIT;
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let r = record.lock().unwrap();
        let right = r.messages.values().filter(|m| shows_last(m, last_reason)).count();
        if right >= ALARMS && r.last_write().is_some_and(|at| at.elapsed() >= Duration::from_secs(5)) {
            return r.last_write();
        }
    }
    None
}

fn shows_last(message: &sink::Message, last_reason: &[String]) -> bool {
    load::alarm_index(&message.alarm).is_some_and(|a| message.content.contains(&last_reason[a]))
}

/// Keeps the sample with the highest VmRSS, every 100 ms.
async fn sample_rss(pid: u32, peak: Arc<Mutex<Rss>>) {
    loop {
        let now = Rss::of(pid);
        {
            let mut most = peak.lock().unwrap();
            if now.vm > most.vm {
                *most = now;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn report(
    sent: &load::Sent,
    storm: Duration,
    settled: Option<Duration>,
    r: &sink::Record,
    idle: Rss,
    peak: Rss,
    after: Rss,
) {
    let mut posts = vec![0usize; ALARMS];
    let (mut right, mut misrouted) = (0, 0);
    for m in r.messages.values() {
        if let Some(a) = load::alarm_index(&m.alarm) {
            posts[a] += 1;
            misrouted += usize::from(m.channel != load::channel(a % CHANNELS));
        }
        right += usize::from(shows_last(m, &sent.last_reason));
    }
    let lost = posts.iter().filter(|&&n| n == 0).count();
    let twice = posts.iter().filter(|&&n| n > 1).count();
    let updates: usize = r.messages.values().map(|m| m.updates).sum();
    let replies: usize = r.replies.values().sum();
    let max_second = r.writes.values().map(|w| sink::max_per_second(w)).max().unwrap_or(0);
    let busiest = r.writes.values().map(Vec::len).max().unwrap_or(0);
    let lat = &sent.latencies;
    println!("opsbot alarm storm: {} notifications, {ALARMS} alarms, {CHANNELS} channels", sent.total);
    println!("| metric | value | target |");
    println!("|---|---|---|");
    println!("| notifications sent / answered 200 | {} / {} in {:.1} s | all |", sent.total, lat.len(), secs(storm));
    println!(
        "| POST /sns p50 / p99 / max | {:.2} / {:.2} / {:.2} ms | |",
        load::pct(lat, 0.5),
        load::pct(lat, 0.99),
        load::pct(lat, 1.0)
    );
    println!("| alarms with a message (lost) | {} ({lost}) | {ALARMS} (0) |", ALARMS - lost);
    println!("| alarms posted more than once | {twice} | 0 |");
    println!("| messages in another channel than their route's | {misrouted} | 0 |");
    println!("| messages showing their alarm's last notification | {right} of {} | {ALARMS} |", r.messages.len());
    println!(
        "| Slack writes: posts / updates / replies | {} / {updates} / {replies} ({} in all) | |",
        r.messages.len(),
        r.total_writes()
    );
    println!("| most writes to one channel in any second | {max_second} | ≤ 4 (1/s, burst 3) |");
    println!("| writes to the busiest channel | {busiest} | |");
    println!("| update of unknown ts / other API calls | {} / {} | 0 / 0 |", r.bad_updates, r.other_calls);
    match settled {
        Some(at) => println!("| last Slack write after the storm began | {:.1} s | |", secs(at)),
        None => println!("| last Slack write after the storm began | not settled in {} s | |", DRAIN_LIMIT.as_secs()),
    }
    println!("| RSS idle | {} | |", idle.show());
    println!("| RSS peak during the storm | {} | ≤ 40 MB |", peak.show());
    println!("| RSS after | {} | ≤ 40 MB |", after.show());
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}
