//! The HTTP transport as Slack uses it: signed slash commands, events and
//! interactions; everything unverified, oversized or malformed is refused and
//! nothing runs; answers arrive out of band.

use opsbot::app::Transport;

use crate::support::binary::Serve;
use crate::support::bot::{CHANNEL, SIGNING_SECRET, USER, spawn_bot, text_of};
use crate::support::fake_slack::FakeSlack;
use crate::support::signing::{sign, sign_with_slack_sdk};

const FORM: &str = "application/x-www-form-urlencoded";

fn now() -> String {
    chrono::Utc::now().timestamp().to_string()
}

#[tokio::test]
async fn a_slash_command_signed_by_slacks_own_sdk_is_answered_at_its_response_url() {
    let bot = spawn_bot(Transport::Http).await;
    let url = bot.slack.response_url();
    let body = bot.slack.slash_command_form("pipelines", USER, "dev", CHANNEL, "ops", &url);
    let ts = now();
    let sig = sign_with_slack_sdk(SIGNING_SECRET, &ts, &body);
    let started = std::time::Instant::now();
    let ack = bot
        .post("/slack/commands", FORM, &body, &[("x-slack-request-timestamp", &ts), ("x-slack-signature", &sig)])
        .await;
    let ack_took = started.elapsed();
    assert_eq!((ack.status, ack.body.as_str()), (200, ""), "acknowledged with an empty 200");
    assert!(ack_took < std::time::Duration::from_secs(3), "Slack's 3 s limit: took {ack_took:?}");
    let answer = bot.slack.next_response(&url).await;
    assert_eq!(answer["response_type"], "in_channel");
    let text = text_of(&answer);
    for pipeline in ["storefront-web", "payments-api", "catalog-service"] {
        assert!(text.contains(pipeline), "{pipeline} missing from {text}");
    }
}

#[tokio::test]
async fn forged_stale_unsigned_and_tampered_commands_are_refused_and_never_run() {
    let bot = spawn_bot(Transport::Http).await;
    let url = bot.slack.response_url();
    let body = bot.slack.slash_command_form("pipelines", USER, "dev", CHANNEL, "ops", &url);
    let trigger = body.split("trigger_id=").nth(1).unwrap().to_owned();
    let (ts, stale) = (now(), (chrono::Utc::now().timestamp() - 301).to_string());
    let forged = sign("guessed-secret", &ts, &body);
    let stale_sig = sign(SIGNING_SECRET, &stale, &body);
    let good_sig = sign(SIGNING_SECRET, &ts, &body);
    let tampered = body.replace("pipelines", "whoami");
    type Headers<'a> = Vec<(&'a str, &'a str)>;
    let cases: Vec<(&str, &str, Headers)> = vec![
        ("forged signature", &body, vec![("x-slack-request-timestamp", &ts), ("x-slack-signature", &forged)]),
        (
            "replayed after 5 minutes",
            &body,
            vec![("x-slack-request-timestamp", &stale), ("x-slack-signature", &stale_sig)],
        ),
        ("no signature", &body, vec![("x-slack-request-timestamp", &ts)]),
        ("no timestamp", &body, vec![("x-slack-signature", &good_sig)]),
        (
            "body changed after signing",
            &tampered,
            vec![("x-slack-request-timestamp", &ts), ("x-slack-signature", &good_sig)],
        ),
    ];
    for (case, body, headers) in cases {
        for path in ["/slack/commands", "/slack/events", "/slack/interactions"] {
            let answer = bot.post(path, FORM, body, &headers).await;
            assert_eq!(answer.status, 401, "{case} on {path}: {answer:?}");
        }
    }
    assert!(!bot.claimed(&format!("slash:{trigger}")), "a refused request must not run");
    // The process keeps serving: the genuine request still works.
    let ok = bot
        .post("/slack/commands", FORM, &body, &[("x-slack-request-timestamp", &ts), ("x-slack-signature", &good_sig)])
        .await;
    assert_eq!(ok.status, 200);
    assert!(text_of(&bot.slack.next_response(&url).await).contains("storefront-web"));
}

#[tokio::test]
async fn oversized_bodies_get_413_and_malformed_ones_400() {
    let bot = spawn_bot(Transport::Http).await;
    let huge = format!("text={}", "a".repeat(100 * 1024));
    assert_eq!(bot.post_signed("/slack/commands", FORM, &huge).await.status, 413);
    assert_eq!(bot.post_signed("/slack/commands", FORM, "text=hi&user_id=U1").await.status, 400);
    assert_eq!(bot.post_signed("/slack/events", "application/json", "{not json").await.status, 400);
    assert_eq!(bot.post_signed("/slack/interactions", FORM, "payload=%7Bnope").await.status, 400);
    assert_eq!(bot.get("/healthz").await.status, 200, "still serving");
}

#[tokio::test]
async fn the_events_url_answers_slacks_challenge() {
    let bot = spawn_bot(Transport::Http).await;
    let answer = bot
        .post_signed(
            "/slack/events",
            "application/json",
            r#"{"type":"url_verification","challenge":"c-123","token":"t"}"#,
        )
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&answer.body).unwrap()["challenge"], "c-123");
}

#[tokio::test]
async fn a_mention_is_answered_in_its_thread_once_even_when_slack_retries() {
    let bot = spawn_bot(Transport::Http).await;
    let event = bot.slack.app_mention_event("Ev0MENTION1", USER, CHANNEL, "<@U0BOT> alarms", "1700000000.000100");
    let body = event.to_string();
    for retry in ["0", "1", "2"] {
        let ts = now();
        let sig = sign(SIGNING_SECRET, &ts, &body);
        let mut headers = vec![("x-slack-request-timestamp", ts.as_str()), ("x-slack-signature", sig.as_str())];
        if retry != "0" {
            headers.extend([("x-slack-retry-num", retry), ("x-slack-retry-reason", "http_timeout")]);
        }
        assert_eq!(bot.post("/slack/events", "application/json", &body, &headers).await.status, 200);
    }
    let posted = bot.slack.next_call("chat.postMessage").await;
    assert_eq!(posted.body["channel"], CHANNEL);
    assert_eq!(posted.body["thread_ts"], "1700000000.000100");
    assert!(text_of(&posted.body).contains("shop-checkout-5xx"), "{}", text_of(&posted.body));
    // A later, different mention is answered; the retries of the first never were.
    let second = bot.slack.app_mention_event("Ev0MENTION2", USER, CHANNEL, "<@U0BOT> whoami", "1700000001.000100");
    assert_eq!(bot.post_signed("/slack/events", "application/json", &second.to_string()).await.status, 200);
    let next = bot.slack.next_call("chat.postEphemeral").await;
    assert!(text_of(&next.body).contains(USER));
    let posts = bot.slack.calls().iter().filter(|c| c.method == "chat.postMessage").count();
    assert_eq!(posts, 1, "three deliveries of one event, one answer");
}

#[tokio::test]
async fn usage_errors_reach_only_the_asker_with_a_suggestion() {
    let bot = spawn_bot(Transport::Http).await;
    let answer = bot.slash("servics prod").await;
    assert_eq!(answer["response_type"], "ephemeral");
    let text = text_of(&answer);
    assert!(text.contains("Did you mean `services`"), "{text}");
}

#[tokio::test]
async fn a_rate_limited_reply_waits_for_retry_after_and_is_delivered_once() {
    let bot = spawn_bot(Transport::Http).await;
    bot.slack.fail_next("response_url", crate::support::fake_slack::Failure::RateLimited { retry_after_secs: 1 });
    bot.slack.fail_next("response_url", crate::support::fake_slack::Failure::Status(503));
    let answer = bot.slash("pipeline payments-api").await;
    assert!(text_of(&answer).contains("ApproveProd"), "{}", text_of(&answer));
}

#[tokio::test]
async fn a_mention_answer_survives_slack_429_and_5xx() {
    let bot = spawn_bot(Transport::Http).await;
    bot.slack.fail_next("chat.postMessage", crate::support::fake_slack::Failure::RateLimited { retry_after_secs: 1 });
    bot.slack.fail_next("chat.postMessage", crate::support::fake_slack::Failure::Status(500));
    let event = bot.slack.app_mention_event("Ev0FLAKY", USER, CHANNEL, "<@U0BOT> pipelines", "1700000002.000100");
    assert_eq!(bot.post_signed("/slack/events", "application/json", &event.to_string()).await.status, 200);
    // Attempts are recorded, failed ones included: 429, 500, then success.
    for _ in 0..3 {
        bot.slack.next_call("chat.postMessage").await;
    }
    let delivered = bot.slack.calls().iter().filter(|c| c.method == "chat.postMessage").count();
    assert_eq!(delivered, 3);
}

#[tokio::test]
async fn during_a_secret_rotation_requests_signed_with_the_old_or_the_new_secret_are_served_and_others_refused() {
    let slack = FakeSlack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let bot = Serve::new(&slack, "http", &dir.path().join("opsbot.db"))
        .env("SLACK_SIGNING_SECRET", "old-signing-secret")
        .env("SLACK_SIGNING_SECRETS", "new-signing-secret, old-signing-secret")
        .listening()
        .await;
    for (secret, status) in [("old-signing-secret", 200), ("new-signing-secret", 200), ("a-guessed-secret", 401)] {
        let url = slack.response_url();
        let body = slack.slash_command_form("whoami", USER, "dev", CHANNEL, "ops", &url);
        let answer = bot.post_signed("/slack/commands", FORM, body.into_bytes(), secret).await;
        assert_eq!(answer.status, status, "signed with {secret}: {answer:?}");
        if status == 200 {
            assert!(text_of(&slack.next_response(&url).await).contains(USER), "answered when signed with {secret}");
        }
    }
}
