//! How long one decision takes against a generated 1,000-rule policy (a mix
//! of allows and denies, roles by user and group, `where` regexes, channel
//! restrictions, approvals, freezes). Target: p99 ≤ 10 µs.
//!
//! Criterion measures the mean per request kind; before it runs, a plain loop
//! times 200,000 single evaluations of a mixed request set and prints the
//! percentiles (each sample includes one `Instant::now()` pair, so they
//! slightly overstate). Results: docs/benchmarks.md. Run with
//! `cargo bench -p opsbot-policies`.

use std::fmt::Write;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use opsbot_policies::{Policy, Request};

const COMMANDS: &[&str] = &[
    "pipelines",
    "pipeline",
    "pipeline start",
    "services",
    "service",
    "alarms",
    "params",
    "param get",
    "param history",
    "param set",
    "whoami",
    "audit",
    "help",
    "deploy",
    "restart",
    "rollback",
    "scale",
];
const RULES: usize = 1_000;

/// 999 generated rules, then the one a staging deploy is allowed by, so that
/// request walks every `deploy` rule before it is decided.
fn generated_policy() -> String {
    let mut y = String::from("roles:\n  devs: { everyone: true }\n");
    for r in 0..10 {
        writeln!(y, "  r{r}: {{ users: [U0R{r}A, U0R{r}B], groups: [S0R{r}] }}").unwrap();
    }
    y.push_str("rules:\n");
    for i in 0..RULES - 1 {
        let commands: Vec<String> = (0..3).map(|k| format!("\"{}\"", COMMANDS[(i + k * 7) % COMMANDS.len()])).collect();
        let effect = if i % 10 == 0 { "deny" } else { "allow" };
        writeln!(y, "  - {effect}: [{}]", commands.join(", ")).unwrap();
        if effect == "allow" {
            // Every rule for everyone has a `where`, so the requests below walk far.
            let to_devs = i % 3 == 0 && i % 4 != 3;
            let to = if to_devs { "devs".into() } else { format!("[r{}, r{}]", i % 10, (i + 1) % 10) };
            writeln!(y, "    to: {to}").unwrap();
        }
        match i % 4 {
            0 => writeln!(y, "    where: {{ service: \"^prod/svc{i}/\" }}").unwrap(),
            1 => writeln!(y, "    where: {{ service: \"^staging/svc{i}$\", count: \"^[1-9]$\" }}").unwrap(),
            2 => writeln!(y, "    where: {{ name: \"^/app{i}/\" }}").unwrap(),
            _ => {}
        }
        if i % 5 == 3 {
            writeln!(y, "    channels: [C0CH{}, C0CH{}]", i % 8, (i + 3) % 8).unwrap();
        }
        if effect == "allow" && i % 7 == 0 {
            writeln!(y, "    approval: {{ by: r0, ttl: 1h }}").unwrap();
        }
    }
    y.push_str("  - allow: [deploy]\n    to: devs\n    where: { service: \"^staging/\" }\n");
    y.push_str("freeze:\n  - { name: holidays, from: 2026-12-22, to: 2027-01-04, commands: [deploy, restart] }\n");
    y.push_str("  - { name: weekends, weekly: [sat, sun], commands: [deploy] }\n");
    y
}

struct Ask {
    label: &'static str,
    command: &'static str,
    user: &'static str,
    groups: Vec<String>,
    channel: &'static str,
    args: Vec<(&'static str, String)>,
}

impl Ask {
    fn request(&self, at: DateTime<Utc>) -> Request<'_> {
        Request {
            command: self.command,
            user: self.user,
            groups: &self.groups,
            channel: self.channel,
            args: &self.args,
            at,
            force: false,
        }
    }
}

fn asks() -> Vec<Ask> {
    let ask = |label, command, user, group: &str, channel, args: &[(&'static str, &str)]| Ask {
        label,
        command,
        user,
        groups: if group.is_empty() { vec![] } else { vec![group.to_owned(), "S0OTHER".into()] },
        channel,
        args: args.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
    };
    vec![
        ask(
            "allow by the last rule (walks every deploy rule)",
            "deploy",
            "U0DEV",
            "S0DEV",
            "C0DEV",
            &[("service", "staging/web")],
        ),
        ask("default deny (no allow matches)", "deploy", "U0DEV", "", "C0DEV", &[("service", "prod/web")]),
        ask("deny rule matches", "deploy", "U0R1A", "", "C0CH1", &[("service", "prod/svc40/x")]),
        ask("allow by group membership", "params", "U0X", "S0R4", "C0CH3", &[("name", "/x")]),
        ask("command no rule names", "param rollback", "U0DEV", "", "C0DEV", &[]),
    ]
}

fn manual_percentiles(policy: &Policy, asks: &[Ask], at: DateTime<Utc>) {
    let requests: Vec<Request<'_>> = asks.iter().map(|a| a.request(at)).collect();
    for r in &requests {
        black_box(policy.evaluate(r));
    }
    let mut samples: Vec<Duration> = Vec::with_capacity(200_000);
    for i in 0..200_000 {
        let request = &requests[i % requests.len()];
        let start = Instant::now();
        black_box(policy.evaluate(black_box(request)));
        samples.push(start.elapsed());
    }
    samples.sort_unstable();
    let pct = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    println!(
        "policy evaluate, {RULES} rules, mixed requests, 200000 samples: p50 {:?} p90 {:?} p99 {:?} p99.9 {:?} max {:?}",
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(0.999),
        samples[samples.len() - 1]
    );
}

fn bench(c: &mut Criterion) {
    let text = generated_policy();
    let started = Instant::now();
    let policy = Policy::from_yaml(&text, Path::new("generated.yaml"), COMMANDS).expect("generated policy loads");
    println!("loaded {} rules ({} bytes of YAML) in {:?}", policy.rule_count(), text.len(), started.elapsed());
    let at = DateTime::parse_from_rfc3339("2026-05-05T12:00:00Z").unwrap().with_timezone(&Utc);
    let asks = asks();
    manual_percentiles(&policy, &asks, at);
    for ask in &asks {
        let request = ask.request(at);
        println!("{}: {} — {}", ask.label, policy.evaluate(&request).kind(), policy.evaluate(&request).reason());
        c.bench_function(&format!("evaluate/1000 rules/{}", ask.label), |b| {
            b.iter(|| policy.evaluate(black_box(&request)))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
