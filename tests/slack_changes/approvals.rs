//! Changes that need a second person, through Slack in both transports: the
//! approval request is posted in the channel with Approve / Reject; the
//! requester and people outside the role are refused privately; a lead —
//! named in the policy, or a member of a Slack user group the role names —
//! approves once and the change runs once; nobody approving in time expires
//! the request and takes its buttons away.

use std::time::Duration;

use opsbot::app::Transport;
use opsbot_policies::Policy;
use serde_json::Value;

use crate::support::bot::{CHANNEL, TestBot, USER, spawn_bot_with_policy, text_of};
use crate::support::buttons::buttons;

const POLICY: &str = "
roles:
  devs: { everyone: true }
  leads: { users: [U0LEAD1], groups: [S0RELEASE] }
rules:
  - allow: [service, audit]
    to: devs
  - allow: [scale]
    to: devs
    where: { service: '^prod/' }
    approval: { by: leads, ttl: 30m }
";

const LEAD: &str = "U0LEAD1";
/// In the `S0RELEASE` user group, so a lead through Slack rather than by name.
const GROUP_LEAD: &str = "U0LEAD2";
const OTHER: &str = "U0OTHER";

both_transports! {
    a_change_needing_approval_asks_the_role_in_the_channel_after_confirmation => asks_in_channel;
    the_requester_cannot_approve_their_own_change => no_self_approval;
    someone_outside_the_role_cannot_approve => outsiders_refused;
    a_lead_approves_and_the_change_runs_once_showing_who_approved => lead_approves;
    a_member_of_a_slack_group_named_by_the_role_may_approve => group_member_approves;
    a_rejected_change_never_runs_and_says_who_rejected_it => rejected;
    an_approval_nobody_gives_in_time_expires_and_loses_its_buttons => approval_expires;
}

async fn bot(transport: Transport) -> TestBot {
    let known: Vec<&str> = opsbot_commands::cmd::ENTRIES.iter().map(|e| e.spec.name).collect();
    let policy = Policy::from_yaml(POLICY, std::path::Path::new("policies.yaml"), &known).expect("test policy");
    let bot = spawn_bot_with_policy(transport, policy).await;
    bot.slack.add_user_group("S0RELEASE", "release", &[GROUP_LEAD]);
    bot
}

/// `scale prod/web 8` asked and confirmed by [`USER`]; returns the approval
/// request as posted in the channel (with its `ts`).
async fn awaiting_approval(bot: &TestBot) -> Value {
    let plan = bot.slash("scale prod/web 8").await;
    assert!(text_of(&plan).contains("a member of *leads* must approve"), "{}", text_of(&plan));
    let waiting = bot.click(USER, &plan, "Confirm").await;
    assert!(text_of(&waiting).contains("waits for approval by *leads*"), "{}", text_of(&waiting));
    bot.slack.next_call("chat.postMessage").await;
    bot.slack.messages(CHANNEL).pop().expect("the approval request")
}

/// The current version of a channel message.
fn now_shown(bot: &TestBot, message: &Value) -> Value {
    bot.slack.message(CHANNEL, message["ts"].as_str().expect("a ts")).expect("the message")
}

fn runs(bot: &TestBot) -> usize {
    let updates = bot.slack.calls().into_iter().filter(|c| c.method == "chat.update");
    updates.filter(|c| text_of(&c.body).contains(":white_check_mark:")).count()
}

async fn asks_in_channel(transport: Transport) {
    let bot = bot(transport).await;
    let request = awaiting_approval(&bot).await;
    let text = text_of(&request);
    assert!(text.contains("Approval by leads"), "{text}");
    assert!(text.contains(&format!("<@{USER}> asks to run `scale prod/web 8`")), "{text}");
    assert!(text.contains("desired count *6 → 8*"), "approvers see the plan: {text}");
    assert_eq!(buttons(&request), ["Approve", "Reject"]);
}

async fn no_self_approval(transport: Transport) {
    let bot = bot(transport).await;
    let request = awaiting_approval(&bot).await;
    let note = bot.click(USER, &request, "Approve").await;
    assert_eq!((note["response_type"].as_str(), note["replace_original"].as_bool()), (Some("ephemeral"), Some(false)));
    assert!(text_of(&note).contains("can't approve or reject your own request"), "{}", text_of(&note));
    assert_eq!(runs(&bot), 0);
}

async fn outsiders_refused(transport: Transport) {
    let bot = bot(transport).await;
    let request = awaiting_approval(&bot).await;
    let note = bot.click(OTHER, &request, "Approve").await;
    assert!(text_of(&note).contains("Only members of *leads*"), "{}", text_of(&note));
    assert_eq!(runs(&bot), 0);
}

async fn lead_approves(transport: Transport) {
    let bot = bot(transport).await;
    let request = awaiting_approval(&bot).await;
    let first = bot.press(LEAD, &request, "Approve");
    let second = bot.press(LEAD, &request, "Approve");
    for press in [&first, &first, &second] {
        bot.deliver(press).await; // a Slack retry and a double click
    }
    assert!(text_of(&bot.slack.next_response(&first.response_url).await).contains("Approved"));
    let again = text_of(&bot.slack.next_response(&second.response_url).await);
    assert!(again.contains("already"), "{again}");
    let done = wait_for_update(&bot, ":white_check_mark:").await;
    assert!(done.contains("8/8 running"), "{done}");
    assert!(done.contains(&format!("approved by <@{LEAD}>")), "the outcome names the approver: {done}");
    assert_eq!(runs(&bot), 1);
    let audit = text_of(&bot.slash("audit").await);
    assert_eq!(audit.matches("*approved*").count(), 1, "{audit}");
    assert!(audit.contains(&format!("approver <@{LEAD}>")), "{audit}");
}

async fn group_member_approves(transport: Transport) {
    let bot = bot(transport).await;
    let request = awaiting_approval(&bot).await;
    assert!(text_of(&bot.click(GROUP_LEAD, &request, "Approve").await).contains("Approved"));
    wait_for_update(&bot, ":white_check_mark:").await;
}

async fn rejected(transport: Transport) {
    let bot = bot(transport).await;
    let request = awaiting_approval(&bot).await;
    assert!(text_of(&bot.click(LEAD, &request, "Reject").await).contains("Rejected"));
    let shown = wait_for_update(&bot, "rejected").await;
    assert!(shown.contains(&format!("<@{LEAD}> rejected `scale prod/web 8`")), "{shown}");
    assert!(buttons(&now_shown(&bot, &request)).is_empty(), "no buttons left");
    assert_eq!(runs(&bot), 0);
}

async fn approval_expires(transport: Transport) {
    let bot = bot(transport).await;
    let request = awaiting_approval(&bot).await;
    bot.clock_forward(Duration::from_secs(31 * 60));
    let shown = wait_for_update(&bot, "expired").await;
    assert!(shown.contains("`scale prod/web 8` expired"), "{shown}");
    assert!(buttons(&now_shown(&bot, &request)).is_empty(), "its buttons are gone");
    let late = bot.click(LEAD, &request, "Approve").await;
    assert!(text_of(&late).contains("already expired"), "{}", text_of(&late));
    assert_eq!(runs(&bot), 0);
}

/// Waits for a `chat.update` whose text contains `needle`; returns that text.
async fn wait_for_update(bot: &TestBot, needle: &str) -> String {
    loop {
        let update = text_of(&bot.slack.next_call("chat.update").await.body);
        if update.contains(needle) {
            return update;
        }
    }
}
