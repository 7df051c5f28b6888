//! Policy reload as an operator does it: the real `opsbot serve` runs with a
//! config file, the policy in the file is edited, the process gets SIGHUP —
//! and the next command is judged by the new policy, `whoami` shows its
//! version, and a broken edit keeps the running policy while the log names
//! the problem's file:line:column. Saving the file reloads it too.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::binary::{Serve, ServeProcess};
use crate::support::bot::{CHANNEL, SIGNING_SECRET, USER, text_of};
use crate::support::fake_slack::FakeSlack;

const WHOAMI_ONLY: &str =
    "policies:\n  roles: { devs: { everyone: true } }\n  rules:\n    - { allow: [whoami], to: devs }\n";
const WHOAMI_AND_AUDIT: &str =
    "policies:\n  roles: { devs: { everyone: true } }\n  rules:\n    - { allow: [whoami, audit], to: devs }\n";

async fn ask(slack: &FakeSlack, bot: &ServeProcess, text: &str) -> String {
    let url = slack.response_url();
    let body = slack.slash_command_form(text, USER, "dev", CHANNEL, "ops", &url);
    let answer =
        bot.post_signed("/slack/commands", "application/x-www-form-urlencoded", body.into_bytes(), SIGNING_SECRET);
    assert_eq!(answer.await.status, 200);
    let reply: Value = slack.next_response(&url).await;
    text_of(&reply)
}

fn hang_up(bot: &ServeProcess) {
    let sent = std::process::Command::new("kill").args(["-HUP", &bot.pid().to_string()]).status().expect("kill runs");
    assert!(sent.success(), "kill -HUP failed");
}

/// Waits until the log has said `needle` `times` times in all.
async fn logged(bot: &ServeProcess, needle: &str, times: usize) -> String {
    // Longer than the 5 s between looks at the files.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let log = bot.stderr_so_far();
        if log.matches(needle).count() >= times {
            return log;
        }
        assert!(Instant::now() < deadline, "the log never said {needle:?} {times} times:\n{log}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn version_in(whoami: &str) -> String {
    let at = whoami.find("Policy*\nv").unwrap_or_else(|| panic!("no policy version in: {whoami}"));
    whoami[at + "Policy*\n".len()..].split_whitespace().next().unwrap().to_owned()
}

#[tokio::test]
async fn sighup_puts_an_edited_policy_in_force_and_a_broken_edit_keeps_the_running_one() {
    let slack = FakeSlack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("opsbot.yaml");
    std::fs::write(&config, WHOAMI_ONLY).unwrap();
    let bot = Serve::new(&slack, "http", &dir.path().join("opsbot.db"))
        .env("SLACK_SIGNING_SECRET", SIGNING_SECRET)
        .env("RUST_LOG", "info")
        .config(config.clone())
        .listening()
        .await;

    let first = version_in(&ask(&slack, &bot, "whoami").await);
    assert!(ask(&slack, &bot, "audit").await.contains("You can't run `audit` here"), "denied at first");

    std::fs::write(&config, WHOAMI_AND_AUDIT).unwrap();
    hang_up(&bot);
    let log = logged(&bot, "policy reloaded: v", 1).await;
    assert!(log.contains("SIGHUP"), "{log}");
    assert!(!ask(&slack, &bot, "audit").await.contains("You can't run"), "allowed after the reload");
    let second = version_in(&ask(&slack, &bot, "whoami").await);
    assert_ne!(first, second, "whoami shows the new version");
    assert!(log.contains(&format!("policy reloaded: {second} loaded")), "{log}");

    std::fs::write(&config, WHOAMI_AND_AUDIT.replace("to: devs", "to: dev")).unwrap();
    hang_up(&bot);
    let log = logged(&bot, "policy reload failed", 1).await;
    assert!(log.contains(&format!("keeping {second} loaded")), "{log}");
    assert!(log.contains(&format!("{}:4:37: unknown role `dev`", config.display())), "the place: {log}");
    assert!(!ask(&slack, &bot, "audit").await.contains("You can't run"), "the running policy stays");
    assert_eq!(version_in(&ask(&slack, &bot, "whoami").await), second);

    // No signal at all: saving the file is enough (it is looked at every 5 s).
    std::fs::write(&config, WHOAMI_ONLY).unwrap();
    let log = logged(&bot, "policy reloaded: v", 2).await;
    assert!(log.contains("file changed"), "{log}");
    assert!(ask(&slack, &bot, "audit").await.contains("You can't run `audit` here"), "denied again");
    assert_eq!(version_in(&ask(&slack, &bot, "whoami").await), first, "the same policy, the same version");
}
