//! Several replicas over Socket Mode (issue 11): each keeps its budget of
//! connections open, Slack spreads envelopes over all of them, and an envelope
//! redelivered to another replica (its first ack lost) still runs once,
//! because every replica claims request ids in the one DynamoDB table.

use std::path::Path;
use std::time::{Duration, Instant};

use opsbot::app::Transport;
use opsbot::settings::Settings;
use serde_json::json;

use crate::support::binary::{Serve, ServeProcess};
use crate::support::bot::{CHANNEL, USER, spawn_bot, text_of};
use crate::support::emulators::{emulators, unique};
use crate::support::fake_slack::FakeSlack;

#[tokio::test]
async fn a_replica_opens_two_connections_by_default_and_serves_commands_arriving_on_either() {
    let bot = spawn_bot(Transport::Socket).await;
    let sockets = bot.slack.wait_for_sockets(2).await;
    assert_eq!(sockets.len(), 2, "{sockets:?}");
    for socket in sockets {
        let url = bot.slack.response_url();
        let payload = bot.slack.slash_command_json("help", USER, "dev", CHANNEL, "ops", &url);
        let id = bot.slack.send_envelope_to(socket, "slash_commands", payload);
        bot.slack.next_ack(&id).await;
        assert!(text_of(&bot.slack.next_response(&url).await).contains("opsbot commands"), "socket {socket}");
    }
    assert_eq!(bot.slack.socket_connections(), 2, "two connections, none reopened");
    bot.stop().await;
}

#[tokio::test]
async fn two_replicas_on_one_table_share_the_envelopes_and_run_a_redelivered_one_once() {
    let _turn = crate::support::one_fleet_at_a_time().await;
    let table = unique("opsbot-replicas");
    let dynamodb = aws_sdk_dynamodb::Client::new(&emulators().await.sdk_config().await);
    opsbot::store::dynamodb::table::create(&dynamodb, &table).await.unwrap();
    let slack = FakeSlack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("opsbot.yaml");
    std::fs::write(&config, format!("store:\n  dynamodb: {{ table: {table} }}\n")).unwrap();
    slack.add_user(USER, "dev", "Dev Eloper");

    // Started one after the other, so sockets 1-2 are the first replica's.
    let first = replica(&slack, &config).await;
    let first_sockets = slack.wait_for_sockets(2).await;
    let second = replica(&slack, &config).await;
    let second_sockets: Vec<usize> =
        slack.wait_for_sockets(4).await.into_iter().filter(|s| !first_sockets.contains(s)).collect();
    assert_eq!(second_sockets.len(), 2, "the second replica opened its own two");

    // Spread: eight commands in turn over the four sockets, each answered.
    for _ in 0..8 {
        let url = slack.response_url();
        let payload = slack.slash_command_json("help", USER, "dev", CHANNEL, "ops", &url);
        slack.send_envelope("slash_commands", payload).await;
        assert!(text_of(&slack.next_response(&url).await).contains("opsbot commands"));
    }
    let per_socket = slack.envelopes_per_socket();
    assert_eq!(per_socket.len(), 4, "every socket of both replicas got envelopes: {per_socket:?}");
    assert!(per_socket.values().all(|n| *n == 2), "{per_socket:?}");

    // Redelivered to the other replica: commands both ways, a button click and a mention.
    let mut urls = Vec::new();
    let mut keys = Vec::new();
    for (from, to) in [(first_sockets[0], second_sockets[0]), (second_sockets[1], first_sockets[1])] {
        let url = slack.response_url();
        let payload = slack.slash_command_json("whoami", USER, "dev", CHANNEL, "ops", &url);
        keys.push(payload["trigger_id"].as_str().unwrap().to_owned());
        let id = slack.send_envelope_losing_ack(from, "slash_commands", payload);
        slack.redeliver_to(to, &id);
        slack.next_ack(&id).await;
        urls.push(url);
    }
    let button =
        json!({"action_id": "opsbot.run", "value": "whoami", "text": {"type": "plain_text", "text": "Who am I"}});
    let click = slack.block_actions(USER, CHANNEL, "1700000200.000100", false, &button);
    keys.push(click["trigger_id"].as_str().unwrap().to_owned());
    urls.push(click["response_url"].as_str().unwrap().to_owned());
    let id = slack.send_envelope_losing_ack(first_sockets[1], "interactive", click);
    slack.redeliver_to(second_sockets[1], &id);
    slack.next_ack(&id).await;
    let ts = "1700000200.000300";
    let event = slack.app_mention_event("Ev0REPLICA1", USER, CHANNEL, "<@U0BOT> help", ts);
    keys.push("Ev0REPLICA1".into());
    let id = slack.send_envelope_losing_ack(second_sockets[0], "events_api", event);
    slack.redeliver_to(first_sockets[0], &id);
    slack.next_ack(&id).await;

    // Runs once: one replica answered each, and the other logged it as a duplicate.
    for url in &urls {
        assert!(text_of(&slack.next_response(url).await).contains(USER));
    }
    // `help` in a mention is answered to the asker alone, in the thread.
    let reply = slack.next_call("chat.postEphemeral").await;
    assert_eq!(reply.body["text"], "opsbot commands");
    wait_for_duplicates(&[&first, &second], &keys).await;
    for url in &urls {
        assert_eq!(slack.responses_to(url), 1, "two deliveries to two replicas, one answer");
    }
    let replies = slack.calls().into_iter().filter(|c| c.method.starts_with("chat.post")).collect::<Vec<_>>();
    assert_eq!(replies.len(), 1, "the mention was answered once: {replies:#?}");
    first.kill().await;
    second.kill().await;
}

#[test]
fn socket_connections_must_be_within_slacks_ten_per_app() {
    let load = |value: &str| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("opsbot.yaml");
        std::fs::write(&path, format!("slack:\n  socket_connections: {value}\n")).unwrap();
        Settings::load(Some(&path), |_| None)
    };
    assert_eq!(Settings::load(None, |_| None).unwrap().socket_connections, 2, "default");
    assert_eq!(load("1").unwrap().socket_connections, 1);
    assert_eq!(load("10").unwrap().socket_connections, 10);
    for bad in ["0", "11", "-1"] {
        let err = load(bad).expect_err(bad).to_string();
        assert!(err.contains("opsbot.yaml:2:"), "points at the line: {err}");
        assert!(err.contains(&format!("slack.socket_connections: {bad} is out of range — 1 to 10")), "{err}");
        assert!(err.contains("10 Socket Mode connections per app, shared by all replicas"), "says why: {err}");
    }
}

/// `opsbot serve --transport socket` on the DynamoDB table `config` names,
/// against moto, logging at info so duplicates show.
async fn replica(slack: &FakeSlack, config: &Path) -> ServeProcess {
    let mut serve = Serve::new(slack, "socket", Path::new("unused.db"))
        .env_remove("OPSBOT_STORE")
        .env("RUST_LOG", "info")
        .config(config.to_path_buf());
    for (name, value) in emulators().await.env() {
        serve = serve.env(name, value);
    }
    serve.listening().await
}

/// Waits until, across `replicas`, each of `keys` was logged as a duplicate
/// delivery exactly once (then the losing delivery has finished: it posts nothing).
async fn wait_for_duplicates(replicas: &[&ServeProcess], keys: &[String]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let logs: String = replicas.iter().map(|r| r.stderr_so_far()).collect();
        let duplicates: Vec<&str> = logs.lines().filter(|l| l.contains("duplicate delivery ignored")).collect();
        let count = |key: &String| duplicates.iter().filter(|l| l.contains(key.as_str())).count();
        if keys.iter().all(|key| count(key) == 1) {
            return;
        }
        assert!(Instant::now() < deadline, "each of {keys:?} ignored once as a duplicate; logged: {duplicates:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
