//! Alarm storm on the real release binary (`cargo bench --bench alarm_storm`):
//! 10,000 CloudWatch alarm notifications across 100 alarms in 60 s, posted to
//! `POST /sns` open-loop, with a local Slack sink recording every write.
//!
//! # Options (environment variables)
//! - `STORM_STORE=sqlite|dynamodb` (default `sqlite`): the store. `dynamodb`
//!   starts a ministack emulator from `$OPSBOT_VENV` (default
//!   /work/main/.venv) and creates the table with `opsbot store init`
//!   (bench/alarm_storm/fleet.rs). Emulator numbers are relative: they compare
//!   runs of one session, not what DynamoDB would do.
//! - `STORM_REPLICAS=N` (default 1): `N` `opsbot serve` processes on the one
//!   store, the notifications spread round-robin over their `POST /sns`.
//!   More than one needs `dynamodb` (one SQLite file takes one process).
//! - `STORM_NOTIFICATIONS` (10,000), `STORM_ALARMS` (100), `STORM_SECONDS`
//!   (60): a smaller, slower or faster storm, e.g. 2,000 over 50 alarms, or
//!   `STORM_SECONDS=6`: the same 10,000 at 10× the rate.
//! - `OPSBOT_BIN`: the binary measured (bench/measured.rs).
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
//! message ending with its last notification's reason, VmRSS / RssAnon /
//! RssFile of each replica idle, at peak and after, and the CPU time each
//! process (replicas, ministack, this bench) used during the storm and the
//! drain — what the limit was. Signatures are skipped by
//! `insecure_skip_sns_signatures` (benchmark-only); everything is on
//! 127.0.0.1 and stops by itself.

#[path = "alarm_storm/fleet.rs"]
mod fleet;
#[path = "alarm_storm/load.rs"]
mod load;
#[path = "measured.rs"]
mod measured;
#[path = "alarm_storm/procs.rs"]
mod procs;
#[path = "alarm_storm/sink.rs"]
mod sink;

use std::time::{Duration, Instant};

use fleet::Store;
use load::{CHANNELS, Shape};
use measured::Rss;
use procs::CpuMark;

/// How long the Slack side may take to settle after the last notification.
const DRAIN_LIMIT: Duration = Duration::from_secs(300);

/// What this run is: from the environment (see the module docs).
struct Options {
    store: Store,
    replicas: usize,
    shape: Shape,
}

impl Options {
    fn from_env() -> Result<Options, String> {
        let store = match std::env::var("STORM_STORE").as_deref() {
            Err(_) | Ok("sqlite") => Store::Sqlite,
            Ok("dynamodb") => Store::DynamoDb,
            Ok(other) => return Err(format!("STORM_STORE={other}: say sqlite or dynamodb")),
        };
        let replicas = match std::env::var("STORM_REPLICAS") {
            Err(_) => 1,
            Ok(n) => n.parse().ok().filter(|&n: &usize| n >= 1).ok_or(format!("STORM_REPLICAS={n}: say 1, 2, ..."))?,
        };
        if replicas > 1 && store == Store::Sqlite {
            return Err(format!(
                "STORM_REPLICAS={replicas} needs STORM_STORE=dynamodb: a SQLite store belongs to one process \
                 (several replicas share a DynamoDB table)"
            ));
        }
        Ok(Options { store, replicas, shape: Shape::from_env()? })
    }
}

#[tokio::main]
async fn main() {
    let options = Options::from_env().unwrap_or_else(|problem| {
        eprintln!("alarm_storm: {problem}");
        std::process::exit(2)
    });
    let Options { store, replicas, shape } = options;
    let record = sink::Shared::default();
    let sink_url = sink::start(record.clone()).await;
    let dir = std::env::temp_dir().join(format!("opsbot-storm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let binary = measured::binary();
    println!("store: {}; replicas: {replicas}; load average at start: {}", store.name(), procs::loadavg());
    let fleet = fleet::start(&binary, store, replicas, &dir, &sink_url).await;
    let pids: Vec<u32> = fleet.replicas.iter().map(|p| p.pid).collect();
    let idle: Vec<Rss> = pids.iter().map(|&p| Rss::of(p)).collect();
    // CPU of the replicas, then ministack (if any), then this bench.
    let mut cpu_pids = pids.clone();
    cpu_pids.extend(fleet.ministack.as_ref().map(|m| m.pid));
    cpu_pids.push(std::process::id());

    let (peaks, sampler) = procs::sample_peaks(pids.clone());
    let started = Instant::now();
    let cpu_start = CpuMark::take(&cpu_pids);
    let sent = load::storm(shape, &fleet.bases).await;
    let storm_took = started.elapsed();
    let cpu_storm = CpuMark::take(&cpu_pids);
    let settled = wait_settled(shape, &record, &sent.last_reason).await;
    let drain_took = started.elapsed() - storm_took;
    let cpu_end = CpuMark::take(&cpu_pids);
    let after: Vec<Rss> = pids.iter().map(|&p| Rss::of(p)).collect();
    sampler.abort();
    let load_end = procs::loadavg();
    drop(fleet);
    let peaks = peaks.lock().unwrap().clone();
    let record = record.lock().unwrap();
    for (n, log) in fleet::logs(&dir, replicas).iter().enumerate() {
        let problems: Vec<&str> = log.lines().filter(|l| l.contains("WARN") || l.contains("ERROR")).collect();
        println!("replica {n} logged {} lines, {} of them warnings or errors:", log.lines().count(), problems.len());
        problems.iter().take(5).for_each(|l| println!("  {l}"));
    }
    let _ = std::fs::remove_dir_all(&dir);
    let mut names: Vec<String> = (0..replicas).map(|n| format!("replica {n}")).collect();
    if store == Store::DynamoDb {
        names.push("ministack".into());
    }
    names.push("this bench (load + Slack sink)".into());
    println!("load average at the end: {load_end}");
    println!(
        "| CPU used by | during the storm ({:.0} s) | during the drain ({:.0} s) |",
        secs(storm_took),
        secs(drain_took)
    );
    println!("|---|---|---|");
    let (during, draining) = (cpu_storm.since(&cpu_start, storm_took), cpu_end.since(&cpu_storm, drain_took));
    for ((name, d), r) in names.iter().zip(&during).zip(&draining) {
        println!("| {name} | {d} | {r} |");
    }
    let settled = settled.map(|at| at.duration_since(started));
    report(shape, &sent, storm_took, settled, &record, &idle, &peaks, &after);
}

/// Waits until every alarm's message shows its last reason and Slack has
/// been quiet for 5 s; returns when the last write arrived (None: never).
async fn wait_settled(shape: Shape, record: &sink::Shared, last_reason: &[String]) -> Option<Instant> {
    let deadline = Instant::now() + DRAIN_LIMIT;
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let r = record.lock().unwrap();
        let right = r.messages.values().filter(|m| shows_last(shape, m, last_reason)).count();
        if right >= shape.alarms && r.last_write().is_some_and(|at| at.elapsed() >= Duration::from_secs(5)) {
            return r.last_write();
        }
    }
    None
}

fn shows_last(shape: Shape, message: &sink::Message, last_reason: &[String]) -> bool {
    shape.alarm_index(&message.alarm).is_some_and(|a| message.content.contains(&last_reason[a]))
}

#[allow(clippy::too_many_arguments)]
fn report(
    shape: Shape,
    sent: &load::Sent,
    storm: Duration,
    settled: Option<Duration>,
    r: &sink::Record,
    idle: &[Rss],
    peak: &[Rss],
    after: &[Rss],
) {
    let alarms = shape.alarms;
    let mut posts = vec![0usize; alarms];
    let (mut right, mut misrouted) = (0, 0);
    for m in r.messages.values() {
        if let Some(a) = shape.alarm_index(&m.alarm) {
            posts[a] += 1;
            misrouted += usize::from(m.channel != load::channel(a % CHANNELS));
        }
        right += usize::from(shows_last(shape, m, &sent.last_reason));
    }
    let lost = posts.iter().filter(|&&n| n == 0).count();
    for m in r.messages.values().filter(|m| shape.alarm_index(&m.alarm).is_none()).take(3) {
        println!("a post about no storm alarm, in {}: {:?}", m.channel, m.first_text);
    }
    let twice = posts.iter().filter(|&&n| n > 1).count();
    let updates: usize = r.messages.values().map(|m| m.updates).sum();
    let replies: usize = r.replies.values().sum();
    let max_second = r.writes.values().map(|w| sink::max_per_second(w)).max().unwrap_or(0);
    let busiest = r.writes.values().map(Vec::len).max().unwrap_or(0);
    let lat = &sent.latencies;
    println!("opsbot alarm storm: {} notifications, {alarms} alarms, {CHANNELS} channels", sent.total);
    println!("| metric | value | target |");
    println!("|---|---|---|");
    println!("| notifications sent / answered 200 | {} / {} in {:.1} s | all |", sent.total, lat.len(), secs(storm));
    println!("| POST /sns p50 / p99 / max | {} | |", latencies(lat));
    if sent.per_replica.len() > 1 {
        for (n, l) in sent.per_replica.iter().enumerate() {
            println!("| replica {n}: answered 200, POST /sns p50 / p99 / max | {}, {} | |", l.len(), latencies(l));
        }
    }
    println!("| alarms with a message (lost) | {} ({lost}) | {alarms} (0) |", alarms - lost);
    println!("| alarms posted more than once | {twice} | 0 |");
    println!("| messages in another channel than their route's | {misrouted} | 0 |");
    println!("| messages showing their alarm's last notification | {right} of {} | {alarms} |", r.messages.len());
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
    for (n, ((idle, peak), after)) in idle.iter().zip(peak).zip(after).enumerate() {
        println!("| replica {n}: RSS idle | {} | ≤ 10 MB |", idle.show());
        println!("| replica {n}: RSS peak during the storm | {} | ≤ 40 MB |", peak.show());
        println!("| replica {n}: RSS after | {} | ≤ 40 MB |", after.show());
    }
}

/// `p50 / p99 / max ms` of sorted latencies.
fn latencies(sorted: &[Duration]) -> String {
    format!("{:.2} / {:.2} / {:.2} ms", load::pct(sorted, 0.5), load::pct(sorted, 0.99), load::pct(sorted, 1.0))
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}
