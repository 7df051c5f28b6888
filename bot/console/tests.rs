//! The console as a user sees it: command lines in, text out, through the
//! real pipeline over the demo sandbox.

use std::sync::Arc;

use chrono::Utc;
use opsbot_commands::values::ParamName;
use opsbot_commands::{Ops, default_policy};

use super::*;
use crate::sandbox::Sandbox;

fn demo() -> (Arc<Sandbox>, Ops) {
    let sandbox = Arc::new(Sandbox::demo(Utc::now()));
    let store = Arc::new(crate::store::SqliteStore::in_memory().unwrap());
    let chat = Arc::new(super::chat::ConsoleChat::default());
    let ops = Ops::new(sandbox.clone().gateways(), Arc::new(default_policy()), store, chat);
    (sandbox, ops)
}

fn dev() -> ConsoleUser {
    ConsoleUser {
        id: SlackUserId::parse("U0DEV").unwrap(),
        name: Some("dev".into()),
        channel: ChannelId::parse("console").unwrap(),
    }
}

async fn session(input: &str, interactive: bool) -> String {
    let (_, ops) = demo();
    let mut output = Vec::new();
    run(&ops, dev(), input.as_bytes(), &mut output, interactive).await.unwrap();
    String::from_utf8(output).unwrap()
}

async fn console(input: &str) -> String {
    session(input, false).await
}

#[test]
fn lines_are_commands_comments_blanks_or_quit() {
    assert_eq!(classify("  pipelines "), Line::Command("pipelines"));
    assert_eq!(classify("/ops service prod/api"), Line::Command("service prod/api"));
    assert_eq!(classify("/ops"), Line::Command(""));
    assert_eq!(classify("/opsy"), Line::Command("/opsy"));
    assert_eq!(classify("# a comment"), Line::Skip);
    assert_eq!(classify("   "), Line::Skip);
    assert_eq!(classify("QUIT"), Line::Quit);
    assert_eq!(classify("/ops exit"), Line::Quit);
}

#[tokio::test]
async fn help_lists_the_commands() {
    let out = console("help\n").await;
    for usage in ["pipelines", "pipeline NAME", "service CLUSTER/NAME", "param get NAME", "whoami"] {
        assert!(out.contains(&format!("`{usage}`")), "help misses {usage}:\n{out}");
    }
    assert!(out.starts_with("opsbot commands\n═══"), "{out}");
}

#[tokio::test]
async fn pipelines_shows_the_three_demo_pipelines_with_their_status() {
    let out = console("pipelines\n").await;
    assert!(out.contains("✓ catalog-service — Succeeded, 3h ago"), "{out}");
    assert!(out.contains("⟳ payments-api — In progress, 41m ago"), "{out}");
    assert!(out.contains("✗ storefront-web — Failed, 19m ago"), "{out}");
    assert!(!out.contains('*') && !out.contains(":x:"), "markup is rendered: {out}");
}

#[tokio::test]
async fn a_failed_pipeline_shows_the_build_error_and_its_link() {
    let out = console("/ops pipeline storefront-web\n").await;
    assert!(out.contains("3 tests failed in checkout.spec.ts"), "{out}");
    assert!(out.contains("(https://eu-west-1.console.aws.amazon.com/codesuite/codebuild/"), "{out}");
}

#[tokio::test]
async fn secure_strings_are_never_printed() {
    let (sandbox, ops) = demo();
    let name = ParamName::parse("/shop/prod/db-password").unwrap();
    let secrets: Vec<String> = sandbox.read(|a| a.params[&name].versions.iter().map(|v| v.value.0.clone()).collect());
    let mut output = Vec::new();
    let input = "param get /shop/prod/db-password\nparams /shop/prod\nparam history /shop/prod/db-password\n";
    run(&ops, dev(), input.as_bytes(), &mut output, false).await.unwrap();
    let out = String::from_utf8(output).unwrap();
    assert!(out.contains("/shop/prod/db-password") && out.contains("SecureString"), "{out}");
    for secret in secrets {
        assert!(!out.contains(&secret), "the secret leaked:\n{out}");
    }
}

#[tokio::test]
async fn the_rollout_and_the_firing_alarm_are_visible() {
    let out = console("service prod/api\nalarms\n").await;
    assert!(out.contains("2/4 running") && out.contains("api:1.42.0"), "{out}");
    assert!(out.contains("! shop-checkout-5xx — in alarm"), "{out}");
    assert!(out.contains("│ Threshold Crossed"), "{out}");
}

#[tokio::test]
async fn an_unknown_command_gets_did_you_mean() {
    let out = console("pipline storefront-web\n").await;
    assert!(out.contains("Did you mean `pipeline`"), "{out}");
    assert!(out.contains("(only you see this reply in Slack)"), "{out}");
}

#[tokio::test]
async fn scripts_skip_comments_and_stop_at_quit_without_prompt_or_banner() {
    let out = console("# tour\n\n/ops whoami\nquit\npipelines\n").await;
    assert!(out.contains("`U0DEV` (dev)") && out.contains("`console` (#console)"), "{out}");
    assert!(!out.contains("Pipelines"), "nothing runs after quit: {out}");
    assert!(!out.contains("> ") && !out.contains("opsbot console"), "{out}");
}

#[tokio::test]
async fn a_person_at_a_terminal_gets_a_banner_and_prompts() {
    let out = session("whoami\n", true).await;
    assert!(out.starts_with("opsbot console — you are dev (U0DEV) in #console."), "{out}");
    assert_eq!(out.matches("> ").count(), 2, "one prompt per line read, and one at EOF: {out}");
    assert!(out.ends_with("> \n"), "EOF leaves the prompt line: {out:?}");
}
