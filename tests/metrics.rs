//! Probes and metrics of the running app, seen as an operator's tools see
//! them: `/metrics` read by Prometheus' own text parser after commands,
//! notifications, Slack 429s and AWS calls; `/readyz` turning 503 (saying
//! why) when the store cannot answer or Socket Mode has no connection;
//! `/metrics` on a listener of its own; `opsbot probe` and the Dockerfile's
//! HEALTHCHECK that runs it.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use clap::Parser;
use opsbot::app::{Transport, Wiring};
use opsbot::notify::intake::sns::url::UrlAllow;
use opsbot::sandbox::Sandbox;
use opsbot::settings::Settings;
use opsbot_commands::values::ChannelId;
use regex::Regex;
use serde_json::json;

use crate::support::bot::{TestBot, spawn_bot, spawn_bot_wired, spawn_bot_with};
use crate::support::emulators::{emulators, unique};
use crate::support::fake_slack::Failure;
use crate::support::prometheus::{Scrape, parse};
use crate::support::sns::{FakeSns, LOCAL_ALLOW};

const TOPIC: &str = "arn:aws:sns:eu-west-1:111122223333:opsbot-alarms";

async fn scrape(bot: &TestBot) -> Scrape {
    let answer = bot.get("/metrics").await;
    assert_eq!(answer.status, 200, "{answer:?}");
    parse(&answer.body)
}

/// Scrapes until `done` holds (the store's answer is kept a few seconds);
/// panics with the last scrape after 20 s.
async fn scrape_until(bot: &TestBot, what: &str, done: impl Fn(&Scrape) -> bool) -> Scrape {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let scraped = scrape(bot).await;
        if done(&scraped) {
            return scraped;
        }
        assert!(tokio::time::Instant::now() < deadline, "{what} never showed: {scraped:#?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// GETs /readyz until its status is `status`; its body then.
async fn readyz_until(bot: &TestBot, status: u16) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let answer = bot.get("/readyz").await;
        if answer.status == status {
            return answer.body;
        }
        assert!(tokio::time::Instant::now() < deadline, "/readyz never answered {status}: {answer:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn commands_are_counted_by_name_and_outcome_with_their_policy_decisions_and_timings() {
    let bot = spawn_bot(Transport::Http).await;
    bot.slash("pipelines").await;
    bot.slash("pipelines").await;
    bot.slash("scale prod/api 3").await;
    bot.slash("frobnicate now").await;
    let m = scrape(&bot).await;
    let commands = |command, outcome| m.value("opsbot_commands_total", &[("command", command), ("outcome", outcome)]);
    assert_eq!(commands("pipelines", "answered"), Some(2.0));
    assert_eq!(commands("scale", "denied"), Some(1.0), "the built-in policy refuses changes");
    assert_eq!(commands("unparsed", "usage_error"), Some(1.0));
    let decisions =
        |command, decision| m.value("opsbot_policy_decisions_total", &[("command", command), ("decision", decision)]);
    assert_eq!((decisions("pipelines", "allow"), decisions("scale", "deny")), (Some(2.0), Some(1.0)));
    let refused = m.value("opsbot_change_events_total", &[("command", "scale"), ("event", "denied")]);
    assert_eq!(refused, Some(1.0), "the refused change is audited, and counted with its audit event");
    assert_eq!(m.kind("opsbot_command_duration_seconds_bucket"), Some("histogram"));
    let took = [("command", "pipelines")];
    let inf = m.value("opsbot_command_duration_seconds_bucket", &[("command", "pipelines"), ("le", "+Inf")]);
    assert_eq!((inf, m.value("opsbot_command_duration_seconds_count", &took)), (Some(2.0), Some(2.0)));
    assert!(m.value("opsbot_command_duration_seconds_sum", &took).unwrap() > 0.0);
    let answers = [("method", "response_url"), ("result", "ok")];
    assert_eq!(m.value("opsbot_slack_calls_total", &answers), Some(4.0), "every answer went to its response_url");
    assert_eq!(m.value("opsbot_ready", &[]), Some(1.0));
    bot.stop().await;
}

#[tokio::test]
async fn a_429_from_slack_is_counted_as_throttled_and_the_retry_as_ok() {
    let bot = spawn_bot(Transport::Http).await;
    bot.slack.fail_next("response_url", Failure::RateLimited { retry_after_secs: 1 });
    bot.slash("pipelines").await;
    let m = scrape(&bot).await;
    let calls = |result| m.value("opsbot_slack_calls_total", &[("method", "response_url"), ("result", result)]);
    assert_eq!((calls("throttled"), calls("ok")), (Some(1.0), Some(1.0)));
    let timed = m.value("opsbot_slack_call_duration_seconds_count", &[("method", "response_url")]);
    assert_eq!(timed, Some(2.0), "each attempt is timed");
    bot.stop().await;
}

/// CloudWatch's alarm message, as an alarm action publishes it to SNS.
fn alarm_message(name: &str) -> String {
    json!({"AlarmName": name, "AWSAccountId": "111122223333", "NewStateValue": "ALARM",
        "NewStateReason": "Threshold Crossed", "StateChangeTime": "2026-11-22T08:00:00.000+0000",
        "Region": "EU (Ireland)", "AlarmArn": format!("arn:aws:cloudwatch:eu-west-1:111122223333:alarm:{name}"),
        "OldStateValue": "OK", "Trigger": {"MetricName": "5xx", "Namespace": "AWS/ApplicationELB"}})
    .to_string()
}

#[tokio::test]
async fn notifications_are_counted_by_source_and_kind_and_the_outbox_backlog_rises_then_drains_to_zero() {
    let aws = Arc::new(Sandbox::demo(Utc::now())).gateways();
    let bot = spawn_bot_with(Transport::Http, aws, |s| {
        s.notifications.default_channel = Some(ChannelId::parse("C0OPS").unwrap());
        s.notifications.sns_topics = vec![TOPIC.into()];
        s.notifications.cert_url_allow = UrlAllow::Pattern(Regex::new(LOCAL_ALLOW).unwrap());
    })
    .await;
    let sns = FakeSns::start().await;
    bot.slack.set_down(true);
    let body = sns.notification(TOPIC, None, &alarm_message("checkout-5xx")).to_string();
    for _ in 0..2 {
        assert_eq!(bot.post("/sns", "text/plain; charset=UTF-8", &body, &[]).await.status, 200);
    }
    bot.slack.wait_for_refusal().await;
    let m = scrape_until(&bot, "the alarm's post waiting in the outbox", |m| {
        m.value("opsbot_outbox_depth", &[]).is_some_and(|depth| depth >= 1.0)
    })
    .await;
    let intake = |outcome| {
        m.value("opsbot_notifications_received_total", &[("source", "sns"), ("kind", "alarm"), ("outcome", outcome)])
    };
    assert_eq!((intake("new"), intake("duplicate")), (Some(1.0), Some(1.0)), "SNS retrying is counted as such");
    assert_eq!(m.value("opsbot_notification_handling_lag_seconds_count", &[]), Some(1.0));
    let handled_within = m.value("opsbot_notification_handling_lag_seconds_bucket", &[("le", "+Inf")]);
    assert_eq!(handled_within, Some(1.0));
    assert!(m.value("opsbot_outbox_oldest_age_seconds", &[]).is_some());
    let unavailable = m.sum("opsbot_slack_calls_total", &[("method", "chat.postMessage"), ("result", "unavailable")]);
    assert!(unavailable >= 1.0, "the refused post is counted as Slack unavailable: {m:#?}");

    bot.slack.set_down(false);
    bot.wait_for_text("C0OPS", "checkout-5xx").await;
    let m = scrape_until(&bot, "an empty outbox", |m| m.value("opsbot_outbox_depth", &[]) == Some(0.0)).await;
    assert_eq!(m.value("opsbot_outbox_oldest_age_seconds", &[]), Some(0.0));
    bot.stop().await;
}

#[tokio::test]
async fn aws_calls_are_counted_by_service_operation_and_result() {
    let sdk = emulators().await.sdk_config().await;
    let name = format!("/{}/db-host", unique("metrics"));
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    ssm.put_parameter()
        .name(&name)
        .value("db.internal")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .unwrap();
    let bot = spawn_bot_wired(Transport::Http, Wiring::from_sdk(&Settings::default(), &sdk), |_| {}).await;
    bot.slash(&format!("param get {name}")).await;
    bot.slash(&format!("param get {name}-missing")).await;
    let m = scrape(&bot).await;
    let calls = |result| {
        m.value("opsbot_aws_calls_total", &[("service", "SSM"), ("operation", "GetParameter"), ("result", result)])
    };
    assert_eq!((calls("ok"), calls("error")), (Some(1.0), Some(1.0)), "{m:#?}");
    let timed = m.value("opsbot_aws_call_duration_seconds_count", &[("service", "SSM"), ("operation", "GetParameter")]);
    assert_eq!(timed, Some(2.0));
    bot.stop().await;
}

#[tokio::test]
async fn readyz_says_the_store_is_unreachable_until_it_answers_again() {
    let bot = spawn_bot(Transport::Http).await;
    bot.break_outbox();
    let body = readyz_until(&bot, 503).await;
    assert!(body.starts_with("not ready: store unreachable: "), "{body}");
    let m = scrape(&bot).await;
    assert_eq!(m.value("opsbot_ready", &[]), Some(0.0));
    assert_eq!(m.value("opsbot_outbox_depth", &[]), None, "no backlog is made up when the store did not answer");
    bot.mend_outbox();
    assert_eq!(readyz_until(&bot, 200).await, "ready");
    bot.stop().await;
}

#[tokio::test]
async fn in_socket_mode_readyz_is_503_while_no_connection_to_slack_is_up() {
    let bot = spawn_bot(Transport::Socket).await;
    readyz_until(&bot, 200).await;
    let connected = scrape(&bot).await.value("opsbot_slack_socket_connections", &[]);
    assert!(connected.is_some_and(|up| up >= 1.0), "{connected:?}");
    bot.slack.set_down(true);
    bot.slack.disconnect();
    let body = readyz_until(&bot, 503).await;
    assert_eq!(body, "not ready: Slack: no Socket Mode connection is up");
    assert_eq!(scrape(&bot).await.value("opsbot_slack_socket_connections", &[]), Some(0.0));
    bot.slack.set_down(false);
    readyz_until(&bot, 200).await;
    bot.stop().await;
}

#[tokio::test]
async fn with_a_metrics_listener_of_its_own_metrics_are_served_there_and_not_with_the_slack_routes() {
    let aws = Arc::new(Sandbox::demo(Utc::now())).gateways();
    let bot = spawn_bot_with(Transport::Http, aws, |s| s.metrics_listen = Some(([127, 0, 0, 1], 0).into())).await;
    assert_eq!(bot.get("/metrics").await.status, 404);
    let metrics_addr = bot.metrics_addr.expect("the metrics listener's address");
    let answer = opsbot::probe_cli::run(&format!("http://{metrics_addr}/metrics"), Duration::from_secs(5)).await;
    let text = answer.expect("metrics answer on their own listener");
    assert!(text.contains("opsbot_commands_total"), "{text}");
    bot.stop().await;
}

#[tokio::test]
async fn the_probe_subcommand_exits_0_for_a_healthy_bot_and_1_saying_why_for_one_that_is_not_ready() {
    let bot = spawn_bot(Transport::Http).await;
    let probe = |path: &str| {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_opsbot"))
            .args(["probe", "--url", &format!("http://{}{path}", bot.addr), "--timeout", "5s"])
            .env_clear()
            .output()
    };
    let healthy = probe("/healthz").await.expect("opsbot probe runs");
    assert!(healthy.status.success(), "{}", String::from_utf8_lossy(&healthy.stderr));
    bot.break_outbox();
    let not_ready = probe("/readyz").await.expect("opsbot probe runs");
    assert_eq!(not_ready.status.code(), Some(1));
    let why = String::from_utf8_lossy(&not_ready.stderr);
    assert!(why.contains("answered 503: not ready: store unreachable"), "{why}");
    bot.stop().await;
}

#[test]
fn the_dockerfile_listens_on_every_interface_and_its_healthcheck_is_a_probe_the_cli_accepts() {
    let dockerfile = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Dockerfile")).unwrap();
    let env = dockerfile.lines().find_map(|l| l.strip_prefix("ENV OPSBOT_LISTEN=")).expect("ENV OPSBOT_LISTEN");
    let settings = Settings::load(None, |k| (k == "OPSBOT_LISTEN").then(|| env.to_owned())).unwrap();
    assert_eq!(settings.listen.to_string(), "0.0.0.0:8080");
    let mut lines = dockerfile.lines().skip_while(|l| !l.starts_with("HEALTHCHECK "));
    let mut instruction = String::new();
    for line in lines.by_ref() {
        instruction.push_str(line.trim_end_matches('\\'));
        if !line.ends_with('\\') {
            break;
        }
    }
    let exec = instruction.split(" CMD ").nth(1).expect("HEALTHCHECK … CMD [...]");
    let args: Vec<String> = serde_json::from_str(exec.trim()).expect("the exec form: a JSON array");
    let cli = opsbot::cli::Cli::try_parse_from(&args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
    let opsbot::cli::Command::Probe(probe) = cli.command else { panic!("{args:?} is not `opsbot probe`") };
    let url = probe.url(|| Ok(settings.listen)).unwrap();
    assert_eq!(url, "http://127.0.0.1:8080/healthz", "the probe asks the listener on loopback");
}
