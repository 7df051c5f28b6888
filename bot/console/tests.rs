//! The console as a user sees it: command lines in, text out, through the
//! real pipeline over the demo sandbox.

use std::sync::Arc;

use chrono::Utc;
use opsbot_commands::default_policy;
use opsbot_commands::values::ParamName;
use opsbot_policies::Policy;

use super::screen::Captured;
use super::*;
use crate::app::Wiring;
use crate::sandbox::Sandbox;

/// A console session over the demo sandbox under `policy`, printing into a buffer.
fn demo_with(policy: Policy) -> (Arc<Sandbox>, Session, Captured) {
    let sandbox = Arc::new(Sandbox::demo(Utc::now()));
    let store = crate::store::open(None).unwrap();
    let captured = Captured::default();
    let wiring = Wiring::new(sandbox.clone().gateways()).with_policy(Arc::new(policy));
    (sandbox, Session::new(&wiring, store, vec![], Screen::new(captured.clone()), None), captured)
}

fn demo() -> (Arc<Sandbox>, Session, Captured) {
    demo_with(default_policy())
}

fn dev() -> ConsoleUser {
    ConsoleUser {
        id: SlackUserId::parse("U0DEV").unwrap(),
        name: Some("dev".into()),
        groups: Vec::new(),
        channel: ChannelId::parse("console").unwrap(),
    }
}

async fn session(input: &str, interactive: bool) -> String {
    let (_, session, out) = demo();
    run(&session, dev(), input.as_bytes(), interactive).await.unwrap();
    out.text()
}

async fn console(input: &str) -> String {
    session(input, false).await
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
    assert!(out.contains("✗ storefront-web — Failed, 3m ago"), "{out}");
    assert!(!out.contains('*') && !out.contains(":x:"), "markup is rendered: {out}");
}

#[tokio::test]
async fn a_failed_pipeline_shows_the_build_error_and_its_link() {
    let out = console("/ops pipeline storefront-web\n").await;
    assert!(out.contains("npm test: 2 failing (checkout.spec.ts: retries the payment call)"), "{out}");
    assert!(out.contains("(https://eu-west-1.console.aws.amazon.com/codesuite/codebuild/"), "{out}");
}

#[tokio::test]
async fn secure_strings_are_never_printed() {
    let (sandbox, session, captured) = demo();
    let name = ParamName::parse("/shop/prod/db-password").unwrap();
    let secrets: Vec<String> = sandbox.read(|a| a.params[&name].versions.iter().map(|v| v.value.0.clone()).collect());
    let input = "param get /shop/prod/db-password\nparams /shop/prod\nparam history /shop/prod/db-password\n";
    run(&session, dev(), input.as_bytes(), false).await.unwrap();
    let out = captured.text();
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
    assert!(out.contains("Did you mean") && out.contains("`pipeline`"), "{out}");
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

/// Everyone may scale (until roles land in the policy engine).
fn scaling() -> Policy {
    Policy::reads_for_everyone(["scale", "service", "audit", "whoami"])
}

async fn console_with(policy: Policy, input: &str) -> String {
    let (_, session, out) = demo_with(policy);
    run(&session, dev(), input.as_bytes(), false).await.unwrap();
    out.text()
}

/// `out` has each of `parts`, in this order.
fn in_order(out: &str, parts: &[&str]) {
    let mut rest = out;
    for part in parts {
        let at = rest.find(part).unwrap_or_else(|| panic!("{part:?} missing or out of order in:\n{out}"));
        rest = &rest[at + part.len()..];
    }
}

#[tokio::test]
async fn buttons_are_numbered_choices_and_a_number_presses_one() {
    let out = console_with(scaling(), "scale staging/api 3\n1\n").await;
    in_order(
        &out,
        &[
            "Plan — `scale staging/api 3`",
            "[1] Confirm  [2] Cancel",
            "✓ Confirmed — running it now",
            "── #console ──",
            "Running",
            "── #console (edited) ──",
            "✓ staging/api desired count set to 3.\n3/3 running, 0 pending — done.",
        ],
    );
}

#[tokio::test]
async fn a_piped_script_ends_only_after_its_change_has_finished() {
    let (sandbox, session, out) = demo_with(scaling());
    run(&session, dev(), "scale staging/api 2\n1\n".as_bytes(), false).await.unwrap();
    assert!(out.text().ends_with("2/2 running, 0 pending — done.\n\n"), "{}", out.text());
    let staging = opsbot_commands::values::ClusterName::parse("staging").unwrap();
    assert_eq!(sandbox.read(|a| a.clusters[&staging].services["api"].desired), 2);
}

#[tokio::test]
async fn only_the_requester_can_confirm_and_as_switches_who_is_typing() {
    let out = console_with(scaling(), "scale staging/api 3\n:as U0OTHER\n1\n:as U0DEV\n2\n").await;
    in_order(
        &out,
        &[
            "[1] Confirm  [2] Cancel",
            "You are now U0OTHER.",
            "Only @U0DEV can confirm",
            "Cancelled `scale staging/api 3`",
        ],
    );
    assert!(!out.contains("── #console"), "nothing ran:\n{out}");
}

#[tokio::test]
async fn pressing_a_number_never_shown_says_so() {
    let out = console_with(scaling(), "3\n").await;
    assert_eq!(out, "There is no choice [3].\n\n");
}

#[tokio::test]
async fn channel_messages_with_buttons_are_numbered_choices_too() {
    use opsbot_commands::click::{Click, ClickKind, Press};
    use opsbot_commands::ports::chat::Chat;
    use opsbot_commands::reply::{Button, ButtonStyle};
    let (_, session, out) = demo_with(scaling());
    run(&session, dev(), "scale staging/api 3\n".as_bytes(), false).await.unwrap();
    let chat = super::chat::ConsoleChat::new(session.screen.clone());
    let click = |kind| {
        Press::Change(Click { kind, change: opsbot_commands::ports::store::ChangeId("r-9".into()), hash: "h".into() })
    };
    let approval = Reply::in_channel("Approval needed").section("Approve?").buttons(vec![
        Button { label: "Approve".into(), press: click(ClickKind::Approve), style: ButtonStyle::Primary },
        Button { label: "Reject".into(), press: click(ClickKind::Reject), style: ButtonStyle::Danger },
    ]);
    chat.post(&ChannelId::parse("console").unwrap(), &approval).await.unwrap();
    chat.update(&opsbot_commands::ports::chat::MessageRef { channel: dev().channel, ts: "1.0".into() }, &approval)
        .await
        .unwrap();
    let text = out.text();
    assert_eq!(text.matches("[3] Approve  [4] Reject").count(), 2, "an edited message keeps its numbers:\n{text}");
    assert_eq!(session.screen.choice(3), Some(click(ClickKind::Approve)));
}

#[tokio::test]
async fn in_the_demo_a_developer_asks_and_a_lead_approves_at_the_same_console() {
    let (_, session, out) = demo_with(super::demo::policy());
    let script = "scale prod/web 8\n1\n3\n:as U0LEAD1\n3\n";
    run(&session, dev(), script.as_bytes(), false).await.unwrap();
    in_order(
        &out.text(),
        &[
            "[1] Confirm  [2] Cancel",
            "waits for approval by leads",
            "── #console ──",
            "@U0DEV asks to run `scale prod/web 8`",
            "[3] Approve  [4] Reject",
            "can't approve or reject your own request",
            "You are now U0LEAD1.",
            "Approved — thanks",
            "(approved by @U0LEAD1)",
            "8/8 running, 0 pending — done.",
        ],
    );
}

/// The demo as `opsbot demo` runs it: its policy, and its notification story.
fn demo_with_story() -> (Session, Captured) {
    let captured = Captured::default();
    (super::demo::session(Screen::new(captured.clone())).unwrap(), captured)
}

#[tokio::test]
async fn the_demo_shows_a_pipeline_run_as_one_message_edited_in_place_with_its_thread() {
    let (session, out) = demo_with_story();
    run(&session, dev(), "whoami\nwhoami\nwhoami\nwhoami\n".as_bytes(), false).await.unwrap();
    let text = out.text();
    assert_eq!(text.matches("── #ops ──\n⟳ storefront-web").count(), 1, "posted once:\n{text}");
    assert!(text.contains("── #ops (edited) ──\n✗ storefront-web — execution `d3f1a2b4` failed"), "{text}");
    assert!(text.contains("   ↳ ✗ Action Build/UnitTests failed: npm test: 2 failing"), "{text}");
    assert!(text.contains("[5] Retry stage"), "{text}");
}

#[tokio::test]
async fn the_demo_shows_why_storefront_web_failed_its_build_log_in_the_thread_with_the_token_redacted() {
    let (session, out) = demo_with_story();
    run(&session, dev(), "whoami\nwhoami\nwhoami\nwhoami\n".as_bytes(), false).await.unwrap();
    let text = out.text();
    assert!(
        text.contains("   ↳ ≡ UnitTests build storefront-web:6a0e2f4c-9b1d-4c3e-8f7a-2d5b9c1e0a47 (https://"),
        "{text}"
    );
    assert!(text.contains("in phase BUILD: Error while executing command: npm test. Reason: exit status 1"), "{text}");
    assert!(text.contains("Last 15 lines of its log"), "{text}");
    assert!(text.contains("FAIL src/checkout/checkout.spec.ts"), "{text}");
    assert!(text.contains("with NPM_TOKEN=[redacted]") && !text.contains("npm_d3m0t0k3n"), "{text}");
    assert_eq!(text.matches("of its log").count(), 1, "shown once:\n{text}");
}

#[tokio::test]
async fn in_the_demo_on_call_acks_an_alarm_and_sees_it_resolved() {
    let (session, out) = demo_with_story();
    let script = "whoami\nwhoami\nalerts\nack shop-checkout-latency\nalerts\n";
    run(&session, dev(), script.as_bytes(), false).await.unwrap();
    let text = out.text();
    assert!(text.contains("shop-checkout-latency — ALARM since"), "listed while open:\n{text}");
    assert!(text.contains("@U0DEV acknowledged shop-checkout-latency"), "{text}");
    assert!(text.contains("   ↳ ✓ Acknowledged by @U0DEV at"), "{text}");
    assert!(text.contains("shop-checkout-latency is OK again — resolved after 3m · acknowledged by @U0DEV"), "{text}");
    assert!(text.contains("No open alerts"), "{text}");
}

#[tokio::test]
async fn in_the_demo_only_a_lead_can_press_approve_on_the_approval() {
    let (session, out) = demo_with_story();
    run(&session, dev(), "1\n:as U0LEAD1\n1\n".as_bytes(), false).await.unwrap();
    let text = out.text();
    assert!(text.contains("[1] Approve  [2] Approve with comment…  [3] Reject…"), "{text}");
    assert!(text.contains("You can't run `pipeline approve` here"), "a developer is refused:\n{text}");
    assert!(
        text.contains("Plan — `pipeline approve payments-api ApproveProd/ManualApproval --execution "),
        "a lead gets the plan, pinned to the execution it shows:\n{text}"
    );
    assert!(text.contains("Summary kept by CodePipeline: “Approved by Slack user U0LEAD1 via opsbot”"), "{text}");
}
