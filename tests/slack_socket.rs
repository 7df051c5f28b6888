//! Socket Mode as Slack runs it: envelopes acknowledged at once, answers out
//! of band, redeliveries run once, and the bot reconnects when Slack asks.

use std::time::Duration;

use opsbot::app::Transport;
use serde_json::Value;

use crate::support::binary::Serve;
use crate::support::bot::{CHANNEL, USER, spawn_bot, text_of};
use crate::support::fake_slack::{Failure, FakeSlack};

#[tokio::test]
async fn a_slash_command_over_the_socket_is_acked_at_once_and_answered_at_its_response_url() {
    let bot = spawn_bot(Transport::Socket).await;
    let url = bot.slack.response_url();
    let payload = bot.slack.slash_command_json("service prod/api", USER, "dev", CHANNEL, "ops", &url);
    let id = bot.slack.send_envelope("slash_commands", payload).await;
    let ack = bot.slack.next_ack(&id).await;
    assert_eq!(ack["envelope_id"], id.as_str());
    assert!(ack.get("payload").is_none_or(Value::is_null), "ack carries no answer: {ack}");
    let answer = bot.slack.next_response(&url).await;
    let text = text_of(&answer);
    assert!(text.contains("prod/api") && text.contains("rolling out"), "{text}");
}

#[tokio::test]
async fn a_redelivered_envelope_runs_once() {
    let bot = spawn_bot(Transport::Socket).await;
    let url = bot.slack.response_url();
    let payload = bot.slack.slash_command_json("whoami", USER, "dev", CHANNEL, "ops", &url);
    for attempt in 0..3 {
        bot.slack.send_envelope_with_id("slash_commands", payload.clone(), "env-redelivered", attempt).await;
    }
    let first = bot.slack.next_response(&url).await;
    assert!(text_of(&first).contains(USER));
    // A later command is answered, so the redeliveries had their chance to run.
    assert!(text_of(&bot.slash("help").await).contains("opsbot commands"));
    assert_eq!(bot.slack.responses_to(&url), 1, "three deliveries, one answer");
    bot.stop().await;
}

#[tokio::test]
async fn a_mention_over_the_socket_is_answered_in_its_thread() {
    let bot = spawn_bot(Transport::Socket).await;
    bot.slack.add_user(USER, "dev", "Dev Eloper");
    let event =
        bot.slack.app_mention_event("Ev0SOCKET1", USER, CHANNEL, "<@U0BOT> pipeline payments-api", "1700000100.000200");
    let id = bot.slack.send_envelope("events_api", event).await;
    bot.slack.next_ack(&id).await;
    let posted = bot.slack.next_call("chat.postMessage").await;
    assert_eq!(posted.body["thread_ts"], "1700000100.000200");
    assert!(text_of(&posted.body).contains("ApproveProd"), "{}", text_of(&posted.body));
}

#[tokio::test]
async fn the_bot_reconnects_when_slack_asks_and_keeps_answering() {
    let bot = spawn_bot(Transport::Socket).await;
    bot.slack.wait_for_sockets(2).await;
    bot.slack.disconnect();
    // The next command goes over the new connections.
    tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while bot.slack.socket_connections() < 4 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("both connections reopened within 10 s");
    bot.slack.wait_for_socket().await;
    assert!(text_of(&bot.slash("pipelines").await).contains("catalog-service"));
}

#[tokio::test]
async fn health_is_served_in_socket_mode_too_and_slack_routes_are_not() {
    let bot = spawn_bot(Transport::Socket).await;
    assert_eq!(bot.get("/healthz").await.status, 200);
    assert_eq!(bot.post_signed("/slack/commands", "application/x-www-form-urlencoded", "text=x").await.status, 404);
}

#[tokio::test]
async fn a_token_revoked_while_serving_stops_the_bot_with_slacks_error_and_what_to_do() {
    let bot = spawn_bot(Transport::Socket).await;
    let addr = bot.addr;
    // Slack recycles the socket; reopening it is refused because the token was revoked.
    bot.slack.fail_next("apps.connections.open", Failure::Error("token_revoked".into()));
    bot.slack.disconnect();
    let err = bot.until_it_stops(Duration::from_secs(10)).await.expect_err("the bot cannot serve without its token");
    let text = err.to_string();
    assert!(text.contains("token_revoked"), "Slack's own error is reported: {text}");
    assert!(text.contains("SLACK_APP_TOKEN"), "and what to do about it: {text}");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "the HTTP listener was stopped too");
}

#[tokio::test]
async fn the_binary_exits_non_zero_with_one_clear_line_when_slack_refuses_the_app_token() {
    let slack = FakeSlack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let bot =
        Serve::new(&slack, "socket", &dir.path().join("opsbot.db")).env("SLACK_APP_TOKEN", "xapp-revoked").spawn();
    let (status, stderr) = bot.exit().await;
    assert!(!status.success(), "exit status {status}: {stderr}");
    assert_ne!(status.code(), Some(101), "a refused token is not a crash: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let line = stderr.lines().find(|l| l.starts_with("opsbot: ")).unwrap_or_else(|| panic!("no error line: {stderr}"));
    assert!(line.contains("invalid_auth") && line.contains("SLACK_APP_TOKEN"), "{line}");
}
