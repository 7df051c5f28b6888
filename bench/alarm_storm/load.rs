//! The storm's notifications and their open-loop sending.
//!
//! Notification `k` of alarm `a` is ALARM for even `k` and OK for odd `k`
//! (an alarm's first notification must be ALARM: an OK for an alarm never
//! seen changes nothing). With `n` = notifications / alarms, even alarms get
//! `n + 1`, odd ones `n - 1` (by default 101 ending ALARM and 99 ending OK:
//! 10,000 in all). They go out round by round (round `k` holds every alarm's
//! `k`-th), evenly spaced over the storm (6 ms by default, so each alarm
//! changes state every 0.6 s), round-robin over the replicas' `POST /sns`
//! as a load balancer would spread them. The SNS envelope and the alarm message follow the payload of
//! ../shared/bench/peers (`Type`, `MessageId`, `TopicArn`, `Message`, ...;
//! `Message` is the alarm action's JSON as a string).

use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::json;

pub const CHANNELS: usize = 10;
pub const TOPIC: &str = "arn:aws:sns:eu-west-1:123456789012:storm-alarms";
const ACCOUNT: &str = "123456789012";

type Http = Client<HttpConnector, Full<axum::body::Bytes>>;

pub fn channel(c: usize) -> String {
    format!("C0STORM{c:02}")
}

pub fn alarm_name(a: usize) -> String {
    format!("storm-c{}-alarm-{a:03}", a % CHANNELS)
}

/// How big the storm is: `STORM_NOTIFICATIONS` (10,000) over `STORM_ALARMS`
/// (100) in `STORM_SECONDS` (60).
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub alarms: usize,
    /// Notifications per alarm on average (`n` above).
    per_alarm: usize,
    pub seconds: u64,
}

impl Shape {
    /// Reads the environment; `Err` says which variable is wrong.
    pub fn from_env() -> Result<Shape, String> {
        let number = |key: &str, default: u64| match std::env::var(key) {
            Ok(v) => v.parse::<u64>().map_err(|_| format!("{key}={v}: not a whole number")),
            Err(_) => Ok(default),
        };
        let total = number("STORM_NOTIFICATIONS", 10_000)? as usize;
        let alarms = number("STORM_ALARMS", 100)? as usize;
        let seconds = number("STORM_SECONDS", 60)?;
        if alarms < 2 || !alarms.is_multiple_of(2) || !total.is_multiple_of(alarms) || total / alarms < 2 {
            return Err(format!(
                "STORM_NOTIFICATIONS={total} over STORM_ALARMS={alarms}: need an even number of alarms, \
                 each with the same number (at least 2) of notifications"
            ));
        }
        if seconds == 0 {
            return Err("STORM_SECONDS must be at least 1".into());
        }
        Ok(Shape { alarms, per_alarm: total / alarms, seconds })
    }

    pub fn total(&self) -> usize {
        self.alarms * self.per_alarm
    }

    fn count(&self, a: usize) -> usize {
        if a.is_multiple_of(2) { self.per_alarm + 1 } else { self.per_alarm - 1 }
    }

    fn spacing(&self) -> Duration {
        Duration::from_secs(self.seconds) / self.total() as u32
    }

    /// The alarm a name belongs to (the inverse of [`alarm_name`]).
    pub fn alarm_index(&self, name: &str) -> Option<usize> {
        let a: usize = name.rsplit_once("-alarm-")?.1.parse().ok()?;
        (a < self.alarms && alarm_name(a) == name).then_some(a)
    }
}

fn reason(a: usize, k: usize) -> String {
    let state = if k.is_multiple_of(2) { "ALARM" } else { "OK" };
    format!("Storm notification {k} of alarm {a:03}, state {state}")
}

/// What was sent: answer latencies of the 200s (sorted; in all and per
/// replica) and each alarm's last reason.
pub struct Sent {
    pub total: usize,
    pub latencies: Vec<Duration>,
    pub per_replica: Vec<Vec<Duration>>,
    pub last_reason: Vec<String>,
}

pub async fn wait_ready(base: &str) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<axum::body::Bytes>>();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let req = axum::http::Request::get(format!("{base}/healthz")).body(Full::default()).unwrap();
        if client.request(req).await.is_ok_and(|r| r.status() == 200) {
            return;
        }
        assert!(Instant::now() < deadline, "opsbot did not become ready within 30 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Sends the whole storm, each notification at its scheduled time, the
/// `n`-th to replica `n % bases.len()`.
pub async fn storm(shape: Shape, bases: &[String]) -> Sent {
    let client: Http = Client::builder(TokioExecutor::new()).build_http();
    let rounds = (0..shape.alarms).map(|a| shape.count(a)).max().unwrap_or(0);
    let start = Instant::now() + Duration::from_millis(100);
    let wall = chrono::Utc::now() + chrono::Duration::milliseconds(100);
    let mut tasks = Vec::new();
    for k in 0..rounds {
        for a in (0..shape.alarms).filter(|&a| k < shape.count(a)) {
            let offset = shape.spacing() * tasks.len() as u32;
            let at = wall + chrono::Duration::from_std(offset).unwrap();
            let body = notification(a, k, tasks.len(), at);
            let replica = tasks.len() % bases.len();
            let (client, url, due) = (client.clone(), format!("{}/sns", bases[replica]), start + offset);
            tasks.push(tokio::spawn(async move {
                tokio::time::sleep_until(due.into()).await;
                let req = axum::http::Request::post(url)
                    .header("content-type", "text/plain; charset=UTF-8")
                    .header("x-amz-sns-message-type", "Notification")
                    .body(Full::new(body.into()))
                    .unwrap();
                let ok = client.request(req).await.is_ok_and(|r| r.status() == 200);
                ok.then(|| (replica, due.elapsed()))
            }));
        }
    }
    let total = tasks.len();
    let (mut latencies, mut per_replica) = (Vec::new(), vec![Vec::new(); bases.len()]);
    for task in tasks {
        if let Some((replica, took)) = task.await.unwrap() {
            latencies.push(took);
            per_replica[replica].push(took);
        }
    }
    latencies.sort();
    per_replica.iter_mut().for_each(|l| l.sort());
    let last_reason = (0..shape.alarms).map(|a| reason(a, shape.count(a) - 1)).collect();
    Sent { total, latencies, per_replica, last_reason }
}

fn notification(a: usize, k: usize, n: usize, at: chrono::DateTime<chrono::Utc>) -> String {
    let name = alarm_name(a);
    let (new, old) = if k.is_multiple_of(2) { ("ALARM", "OK") } else { ("OK", "ALARM") };
    let message = json!({
        "AlarmName": name,
        "AlarmDescription": format!("Storm alarm {a:03}: p99 latency of service {a:03} above 500 ms."),
        "AWSAccountId": ACCOUNT,
        "AlarmConfigurationUpdatedTimestamp": "2026-11-01T08:00:00.000+0000",
        "NewStateValue": new,
        "NewStateReason": reason(a, k),
        "StateChangeTime": at.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string(),
        "Region": "EU (Ireland)",
        "AlarmArn": format!("arn:aws:cloudwatch:eu-west-1:{ACCOUNT}:alarm:{name}"),
        "OldStateValue": old,
        "OKActions": [TOPIC],
        "AlarmActions": [TOPIC],
        "InsufficientDataActions": [],
        "Trigger": {
            "MetricName": "TargetResponseTime", "Namespace": "AWS/ApplicationELB", "StatisticType": "ExtendedStatistic",
            "ExtendedStatistic": "p99", "Unit": null, "Period": 60, "EvaluationPeriods": 3, "DatapointsToAlarm": 2,
            "Dimensions": [{"value": format!("app/storm-{a:03}/50dc6c495c0c9188"), "name": "LoadBalancer"}],
            "ComparisonOperator": "GreaterThanThreshold", "Threshold": 0.5, "TreatMissingData": "missing",
            "EvaluateLowSampleCountPercentile": ""
        }
    });
    let subject = format!("{new}: \"{name}\" in EU (Ireland)");
    json!({
        "Type": "Notification",
        "MessageId": format!("5b0c7d1e-{a:04x}-4{k:03x}-8000-{n:012x}"),
        "TopicArn": TOPIC,
        "Subject": subject,
        "Message": message.to_string(),
        "Timestamp": at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        "SignatureVersion": "1",
        "Signature": "bm90IHNpZ25lZDogc2lnbmF0dXJlIGNoZWNrcyBhcmUgb2ZmIGZvciB0aGlzIGJlbmNobWFyaw==",
        "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-bench.pem",
        "UnsubscribeURL": format!("https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={TOPIC}:bench")
    })
    .to_string()
}

pub fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}
