//! Store errors fail closed: when the claim of a Slack request cannot be
//! written, nothing runs — not a command, not a mention, not a click, not a
//! comment modal — and the asker alone is told so, with a reference. Every
//! test runs over HTTP and over Socket Mode.

use opsbot::app::Transport;
use opsbot_policies::Policy;
use serde_json::{Value, json};

use crate::support::bot::{CHANNEL, TestBot, USER, spawn_bot_with_policy, text_of};

const NOT_RECORDED: &str = "Nothing was done: opsbot cannot record this request right now (ref: `";

#[tokio::test]
async fn over_http_an_unrecordable_request_is_refused_to_the_asker_and_nothing_runs() {
    unrecordable_requests_do_not_run(Transport::Http).await
}

#[tokio::test]
async fn over_socket_mode_an_unrecordable_request_is_refused_to_the_asker_and_nothing_runs() {
    unrecordable_requests_do_not_run(Transport::Socket).await
}

async fn unrecordable_requests_do_not_run(transport: Transport) {
    let bot = spawn_bot_with_policy(transport, Policy::reads_for_everyone(["scale", "service", "audit"])).await;
    let plan = bot.slash("scale staging/api 3").await;
    bot.break_claims();

    let refused = bot.slash("scale staging/api 5").await;
    assert_refused(&refused);
    assert_eq!(refused["response_type"], "ephemeral", "only the asker sees it");

    let confirm = bot.press(USER, &plan, "Confirm");
    assert_eq!(bot.deliver_raw(&confirm.payload).await, 200);
    let note = bot.slack.next_response(&confirm.response_url).await;
    assert_refused(&note);
    assert_eq!(note["replace_original"], false, "the plan stays as it was: {note}");

    mention(&bot, "<@U0BOT> scale staging/api 4").await;
    let told = bot.slack.next_call("chat.postEphemeral").await.body;
    assert_refused(&told);
    assert_eq!((told["user"].as_str(), told["thread_ts"].as_str()), (Some(USER), Some("1700000300.000100")));

    assert_eq!(bot.deliver_raw(&comment_submitted("scale staging/api 6")).await, 200);
    let told = bot.slack.next_call("chat.postEphemeral").await.body;
    assert_refused(&told);
    assert_eq!(told["user"], USER);

    bot.mend_claims();
    let service = text_of(&bot.slash("service staging/api").await);
    assert!(service.contains("1/1"), "no scale ran: {service}");
    let audit = text_of(&bot.slash("audit").await);
    assert!(!audit.contains("staging/api 5") && !audit.contains("executed"), "nothing was audited as run: {audit}");
    assert!(bot.slack.calls().iter().all(|c| c.method != "chat.postMessage"), "nothing was posted in the channel");
    assert_eq!(bot.slack.responses_to(&confirm.response_url), 1, "the press got the refusal and nothing else");
}

fn assert_refused(answer: &Value) {
    let text = text_of(answer);
    assert!(text.contains(NOT_RECORDED) && text.contains("Try again shortly"), "{answer:#}");
}

/// `text` as an @-mention in a thread of [`CHANNEL`], through the bot's transport.
async fn mention(bot: &TestBot, text: &str) {
    let event = bot.slack.app_mention_event("Ev0STOREDOWN", USER, CHANNEL, text, "1700000300.000100");
    match bot.transport {
        Transport::Http => {
            assert_eq!(bot.post_signed("/slack/events", "application/json", &event.to_string()).await.status, 200)
        }
        Transport::Socket => {
            let id = bot.slack.send_envelope("events_api", event).await;
            bot.slack.next_ack(&id).await;
        }
    }
}

/// A submitted comment modal carrying `line`, as opsbot opens it and Slack sends it back.
fn comment_submitted(line: &str) -> Value {
    let metadata = json!({ "line": line, "channel": CHANNEL }).to_string();
    json!({"type": "view_submission", "team": {"id": "T0FAKE"}, "user": {"id": USER}, "api_app_id": "A0FAKE",
        "trigger_id": "1337.42.storedown", "view": {"id": "V0STOREDOWN", "type": "modal",
        "callback_id": "opsbot.comment", "private_metadata": metadata,
        "state": {"values": {"b1": {"comment": {"type": "plain_text_input", "value": "please"}}}}}})
}
