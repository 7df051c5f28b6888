//! Changes through Slack's buttons, in both transports: a change shows its
//! plan with Confirm / Cancel; Confirm replaces the plan and the channel sees
//! progress then the outcome in one message; retries and double clicks run
//! it once; only the requester may confirm; waiting plans expire by
//! themselves. Every test runs over HTTP and over Socket Mode. Changes that
//! need a second person: [`approvals`].

use opsbot::app::Transport;
use opsbot_policies::Policy;
use serde_json::Value;

use crate::support::bot::{CHANNEL, TestBot, USER, spawn_bot_with_policy, text_of};
use crate::support::buttons::buttons;

const OTHER: &str = "U0OTHER";

/// Each test body, once per transport: `name::over_http`, `name::over_socket_mode`.
macro_rules! both_transports {
    ($($name:ident => $body:ident;)*) => {$(
        mod $name {
            #[tokio::test]
            async fn over_http() {
                super::$body(opsbot::app::Transport::Http).await
            }

            #[tokio::test]
            async fn over_socket_mode() {
                super::$body(opsbot::app::Transport::Socket).await
            }
        }
    )*};
}

mod approvals;

both_transports! {
    a_scale_shows_its_plan_with_confirm_and_cancel_and_runs_nothing => plan_first;
    confirming_replaces_the_plan_and_the_channel_sees_progress_then_done => confirm_runs;
    a_retried_or_double_clicked_confirm_runs_the_change_once => clicks_run_once;
    someone_elses_click_on_confirm_is_refused_privately => others_refused;
    cancelling_replaces_the_plan_and_nothing_runs => cancel;
    a_plan_nobody_confirms_expires_and_then_cannot_run => expiry;
    foreign_buttons_are_acknowledged_and_ignored => foreign;
}

/// A bot whose policy lets everyone scale (until roles land in the policy engine).
async fn bot(transport: Transport) -> TestBot {
    spawn_bot_with_policy(transport, Policy::reads_for_everyone(["scale", "service", "audit"])).await
}

/// Asks for `scale staging/api 3` (1 task now) and returns the plan.
async fn plan(bot: &TestBot) -> Value {
    bot.slash("scale staging/api 3").await
}

fn posts(bot: &TestBot) -> usize {
    bot.slack.calls().iter().filter(|c| c.method == "chat.postMessage").count()
}

async fn plan_first(transport: Transport) {
    let bot = bot(transport).await;
    let plan = plan(&bot).await;
    assert_eq!(plan["response_type"], "ephemeral", "only the requester sees the plan");
    let text = text_of(&plan);
    assert!(text.contains("scale staging/api 3") && text.contains("desired count *1 → 3*"), "{text}");
    assert_eq!(buttons(&plan), ["Confirm", "Cancel"]);
    let service = text_of(&bot.slash("service staging/api").await);
    assert!(service.contains("1/1"), "nothing ran before confirmation: {service}");
    assert_eq!(posts(&bot), 0);
}

async fn confirm_runs(transport: Transport) {
    let bot = bot(transport).await;
    let plan = plan(&bot).await;
    let outcome = bot.click(USER, &plan, "Confirm").await;
    assert_eq!(outcome["replace_original"], true, "the plan is replaced: {outcome}");
    assert!(text_of(&outcome).contains("Confirmed"), "{}", text_of(&outcome));
    assert!(buttons(&outcome).is_empty(), "no buttons left to press");

    let done = text_of(&bot.wait_for_text(CHANNEL, "3/3 running, 0 pending — done").await);
    assert!(done.contains(":white_check_mark:") && done.contains("`scale staging/api 3`"), "{done}");
    assert_eq!(posts(&bot), 1, "progress and outcome are one message");
    let service = text_of(&bot.slash("service staging/api").await);
    assert!(service.contains("3/3"), "{service}");
}

async fn clicks_run_once(transport: Transport) {
    let bot = bot(transport).await;
    let plan = plan(&bot).await;
    let first = bot.press(USER, &plan, "Confirm");
    for _ in 0..3 {
        bot.deliver(&first).await; // Slack retrying one press
    }
    let second = bot.press(USER, &plan, "Confirm"); // an impatient second press
    bot.deliver(&second).await;

    assert_eq!(bot.slack.next_response(&first.response_url).await["replace_original"], true);
    let again = bot.slack.next_response(&second.response_url).await;
    assert_eq!(
        (again["response_type"].as_str(), again["replace_original"].as_bool()),
        (Some("ephemeral"), Some(false))
    );
    assert!(text_of(&again).contains("already"), "{}", text_of(&again));
    bot.wait_for_text(CHANNEL, ":white_check_mark:").await; // the change finished
    assert_eq!(bot.slack.responses_to(&first.response_url), 1, "a retried press is answered once");
    assert_eq!(posts(&bot), 1, "one change, one progress message");
    let audit = text_of(&bot.slash("audit").await);
    assert_eq!(audit.matches("executed").count(), 1, "{audit}");
}

async fn others_refused(transport: Transport) {
    let bot = bot(transport).await;
    let plan = plan(&bot).await;
    let refusal = bot.click(OTHER, &plan, "Confirm").await;
    assert_eq!(refusal["response_type"], "ephemeral");
    assert_eq!(refusal["replace_original"], false, "the requester's plan stays");
    assert!(text_of(&refusal).contains(&format!("Only <@{USER}> can confirm")), "{}", text_of(&refusal));
    // The requester can still confirm it.
    assert!(text_of(&bot.click(USER, &plan, "Confirm").await).contains("Confirmed"));
    bot.wait_for_text(CHANNEL, ":white_check_mark:").await;
    assert_eq!(posts(&bot), 1);
}

async fn cancel(transport: Transport) {
    let bot = bot(transport).await;
    let plan = plan(&bot).await;
    let cancelled = bot.click(USER, &plan, "Cancel").await;
    assert_eq!(cancelled["replace_original"], true);
    assert!(text_of(&cancelled).contains("Cancelled `scale staging/api 3`"), "{}", text_of(&cancelled));
    let late = bot.click(USER, &plan, "Confirm").await;
    assert!(text_of(&late).contains("already cancelled"), "{}", text_of(&late));
    assert_eq!(posts(&bot), 0, "nothing ran");
}

async fn expiry(transport: Transport) {
    let bot = bot(transport).await;
    let plan = plan(&bot).await;
    bot.clock_forward(std::time::Duration::from_secs(11 * 60));
    // The sweeper expires it without anyone clicking: the audit log says so.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !text_of(&bot.slash("audit").await).contains("expired") {
        assert!(std::time::Instant::now() < deadline, "the plan never expired");
        tokio::time::sleep(crate::support::bot::SWEEP_EVERY).await;
    }
    let late = bot.click(USER, &plan, "Confirm").await;
    assert!(text_of(&late).contains("already expired"), "{}", text_of(&late));
    assert_eq!(posts(&bot), 0, "nothing ran");
}

async fn foreign(transport: Transport) {
    let bot = bot(transport).await;
    let plan = plan(&bot).await;
    let mut press = bot.press(USER, &plan, "Confirm");
    press.payload["actions"][0]["action_id"] = "another.app.button".into();
    assert_eq!(bot.deliver_raw(&press.payload).await, 200, "acknowledged");
    // A later genuine press is answered; the foreign one never was.
    assert!(text_of(&bot.click(USER, &plan, "Cancel").await).contains("Cancelled"));
    assert_eq!(bot.slack.responses_to(&press.response_url), 0);
}

#[tokio::test]
async fn a_malformed_press_over_http_is_refused_with_400_and_nothing_runs() {
    let bot = bot(Transport::Http).await;
    let plan = plan(&bot).await;
    let mut press = bot.press(USER, &plan, "Confirm");
    press.payload.as_object_mut().unwrap().remove("user");
    assert_eq!(bot.deliver_raw(&press.payload).await, 400);
    assert_eq!(bot.slack.responses_to(&press.response_url), 0);
    assert_eq!(posts(&bot), 0);
}

#[tokio::test]
async fn a_malformed_press_over_the_socket_is_acked_dropped_and_the_bot_keeps_serving() {
    let bot = bot(Transport::Socket).await;
    let plan = plan(&bot).await;
    let mut press = bot.press(USER, &plan, "Confirm");
    press.payload.as_object_mut().unwrap().remove("response_url");
    bot.deliver_raw(&press.payload).await;
    assert!(text_of(&bot.click(USER, &plan, "Confirm").await).contains("Confirmed"));
}

#[tokio::test]
async fn a_users_slack_groups_are_looked_up_once_for_many_requests() {
    let bot = bot(Transport::Http).await;
    bot.slack.add_user_group("S0RELEASE", "release-leads", &["U0LEAD1", USER]);
    let plan = plan(&bot).await;
    bot.click(USER, &plan, "Confirm").await;
    bot.slash("service staging/api").await;
    let lookups: Vec<_> = bot.slack.calls().into_iter().filter(|c| c.method == "usergroups.list").collect();
    assert_eq!(lookups.len(), 1, "cached across requests: {lookups:?}");
    assert_eq!(lookups[0].body["include_users"], "true");
}

#[tokio::test]
async fn without_the_usergroups_scope_commands_still_work() {
    let bot = bot(Transport::Http).await;
    bot.slack.fail_next("usergroups.list", crate::support::fake_slack::Failure::Error("missing_scope".into()));
    let plan = plan(&bot).await;
    assert_eq!(buttons(&plan), ["Confirm", "Cancel"]);
}
