//! Long answers reach Slack whole: a reply longer than one message holds is
//! posted as several, in order, to the same place — a slash command's
//! `response_url`, or a channel thread — never cut. Through the real Web API
//! client (`SlackWeb`) against the fake Slack, with a 200-line reply like a
//! long `params` listing.

use opsbot::settings::Secret;
use opsbot::slack::web::SlackWeb;
use opsbot_commands::values::ChannelId;
use opsbot_commands::{Mrkdwn, Reply};
use regex::Regex;
use serde_json::Value;

use crate::support::bot::text_of;
use crate::support::fake_slack::FakeSlack;

/// 200 lines of about 110 characters: more than one message holds.
fn long_reply() -> Reply {
    let lines: Vec<String> =
        (0..200).map(|i| format!("• `/shop/prod/key-{i:03}` _String_ `value-{i:03}-{}`", "x".repeat(80))).collect();
    Reply::in_channel("200 parameters under /shop/prod").section(Mrkdwn::text(&lines.join("\n")))
}

/// The key numbers the messages show, in order, each once.
fn keys(messages: &[Value]) -> Vec<u32> {
    let key = Regex::new(r"key-(\d{3})").unwrap();
    let mut seen: Vec<u32> = messages
        .iter()
        .flat_map(|m| key.captures_iter(&text_of(m)).map(|c| c[1].parse().unwrap()).collect::<Vec<u32>>())
        .collect();
    seen.dedup();
    seen
}

async fn slack() -> (FakeSlack, SlackWeb) {
    let slack = FakeSlack::start().await;
    let web = SlackWeb::new(&slack.api_url(), &Secret::new(slack.bot_token()), Default::default()).unwrap();
    (slack, web)
}

#[tokio::test]
async fn a_200_line_answer_to_a_slash_command_arrives_whole_and_in_order() {
    let (slack, web) = slack().await;
    let url = slack.response_url();

    web.respond(&url, &long_reply()).await.unwrap();

    let posts = slack.responses_to(&url);
    assert!((2..=5).contains(&posts), "{posts} posts: more than one, within what a response_url takes");
    let mut answers = Vec::new();
    for _ in 0..posts {
        answers.push(slack.next_response(&url).await);
    }
    assert_eq!(keys(&answers), (0..200).collect::<Vec<_>>(), "every line once, in order");
    for answer in &answers {
        assert_eq!(answer["response_type"], "in_channel", "one audience for the whole answer");
        assert!(answer["blocks"].as_array().unwrap().len() <= 50);
    }
    assert!(answers[1]["text"].as_str().unwrap().starts_with("(continued, 2 of"), "{}", answers[1]["text"]);
}

#[tokio::test]
async fn a_200_line_channel_reply_continues_in_the_thread_of_its_first_message() {
    let (slack, web) = slack().await;
    let channel = ChannelId::parse("C0OPS").unwrap();

    let first = web.post_message(&channel, None, &long_reply()).await.unwrap();

    let messages = slack.messages("C0OPS");
    assert!(messages.len() > 1, "{messages:#?}");
    assert_eq!(messages[0]["ts"], first.as_str());
    assert!(messages[1..].iter().all(|m| m["thread_ts"] == first.as_str()), "continuations in the first's thread");
    assert_eq!(keys(&messages), (0..200).collect::<Vec<_>>(), "every line once, in order");
}

#[tokio::test]
async fn an_answer_longer_than_five_messages_says_what_a_response_url_could_not_take() {
    let (slack, web) = slack().await;
    let url = slack.response_url();
    let lines: Vec<String> = (0..3000).map(|i| format!("line {i:04} {}", "y".repeat(60))).collect();

    web.respond(&url, &Reply::in_channel("long").section(Mrkdwn::text(&lines.join("\n")))).await.unwrap();

    assert_eq!(slack.responses_to(&url), 5, "Slack takes five posts to a response_url");
    let mut last = Value::Null;
    for _ in 0..5 {
        last = slack.next_response(&url).await;
    }
    let text = text_of(&last);
    assert!(text.contains("more messages of this answer not sent") && text.contains("narrow the question"), "{text}");
}
