//! The fake driven by slack-morphism's own client and Socket Mode listener, plus a
//! raw tokio-tungstenite client: if these pass, the bot's Slack library accepts
//! the fake's answers as Slack's.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

use super::{Failure, FakeSlack};

type RawSocket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

/// The same connector shape production uses: ring, native roots, https_or_http.
fn client(fake: &FakeSlack) -> SlackHyperClient {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .expect("native root certificates")
        .https_or_http()
        .enable_http1()
        .build();
    let connector = SlackClientHyperConnector::with_connector(https).with_slack_api_url(&fake.api_url());
    SlackClient::new(connector)
}

fn token(value: &str) -> SlackApiToken {
    SlackApiToken::new(value.to_string().into())
}

fn text_message(channel: &str, text: &str) -> SlackApiChatPostMessageRequest {
    SlackApiChatPostMessageRequest::new(
        channel.to_string().into(),
        SlackMessageContent::new().with_text(text.to_string()),
    )
}

fn api_error_code(result: Result<impl std::fmt::Debug, SlackClientError>) -> String {
    match result {
        Err(SlackClientError::ApiError(e)) => e.code,
        other => panic!("expected a Slack API error, got {other:?}"),
    }
}

#[tokio::test]
async fn post_messages_are_recorded_with_their_body_fields() {
    let fake = FakeSlack::start().await;
    let client = client(&fake);
    let bot = token(fake.bot_token());
    let session = client.open_session(&bot);

    let first = session.chat_post_message(&text_message("C0DEPLOY", "Deploying web:42")).await.expect("first post");
    let second = session.chat_post_message(&text_message("C0DEPLOY", "Deployed web:42")).await.expect("second post");

    assert_eq!(first.channel.0, "C0DEPLOY");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    let first_ts: f64 = first.ts.0.parse().expect("ts is seconds.micros");
    assert!((now - first_ts).abs() < 60.0, "ts {} is near the wall clock", first.ts.0);
    assert!(second.ts.0 > first.ts.0, "timestamps increase");
    assert_eq!(first.message.content.text.as_deref(), Some("Deploying web:42"));
    let call = fake.next_call("chat.postMessage").await;
    assert_eq!(call.token.as_deref(), Some("xoxb-test"));
    assert_eq!(call.body["channel"], "C0DEPLOY");
    assert_eq!(call.body["text"], "Deploying web:42");
    assert_eq!(fake.next_call("chat.postMessage").await.body["text"], "Deployed web:42");
}

#[tokio::test]
async fn updates_edit_posted_messages_in_place_and_refuse_unknown_ones() {
    let fake = FakeSlack::start().await;
    let client = client(&fake);
    let bot = token(fake.bot_token());
    let session = client.open_session(&bot);
    let posted = session.chat_post_message(&text_message("C0ALARMS", "ALARM high-5xx")).await.expect("post");

    let content = SlackMessageContent::new().with_text("OK high-5xx".into());
    let update = SlackApiChatUpdateRequest::new("C0ALARMS".into(), content, posted.ts.clone());
    let updated = session.chat_update(&update).await.expect("update");
    let unknown = SlackApiChatUpdateRequest { ts: "1.000001".into(), ..update };

    assert_eq!(updated.ts, posted.ts);
    let message = fake.message("C0ALARMS", &posted.ts.0).expect("stored");
    assert_eq!(message["text"], "OK high-5xx");
    assert_eq!(message["edited"]["user"], "U0BOT");
    assert_eq!(api_error_code(session.chat_update(&unknown).await), "message_not_found");
}

#[tokio::test]
async fn rate_limited_calls_answer_429_with_retry_after() {
    let fake = FakeSlack::start().await;
    let client = client(&fake);
    let bot = token(fake.bot_token());
    let session = client.open_session(&bot);
    fake.fail_next("chat.postMessage", Failure::RateLimited { retry_after_secs: 7 });
    fake.fail_next("chat.postMessage", Failure::Status(503));
    let request = text_message("C0DEPLOY", "hello");

    match session.chat_post_message(&request).await {
        Err(SlackClientError::RateLimitError(e)) => {
            assert_eq!(e.retry_after, Some(Duration::from_secs(7)));
            assert_eq!(e.code.as_deref(), Some("ratelimited"));
        }
        other => panic!("expected a rate-limit error, got {other:?}"),
    }
    match session.chat_post_message(&request).await {
        Err(SlackClientError::HttpError(e)) => assert_eq!(e.status_code.as_u16(), 503),
        other => panic!("expected HTTP 503, got {other:?}"),
    }
    session.chat_post_message(&request).await.expect("injections are used once");
    assert_eq!(fake.calls().len(), 3, "failed attempts are recorded too");
}

#[tokio::test]
async fn wrong_missing_or_mismatched_tokens_are_refused_like_slack() {
    let fake = FakeSlack::start().await;
    let client = client(&fake);
    let bot = token(fake.bot_token());
    let app = token(fake.app_token());
    let open = SlackApiAppsConnectionOpenRequest::new();

    let me = client.open_session(&bot).auth_test().await.expect("bot token works");
    assert_eq!(me.user_id.0, "U0BOT");
    let wrong = client.open_session(&token("xoxb-wrong")).auth_test().await;
    assert_eq!(api_error_code(wrong), "invalid_auth");
    let empty = client.open_session(&token("")).auth_test().await;
    assert_eq!(api_error_code(empty), "not_authed");
    let app_posting = client.open_session(&app).chat_post_message(&text_message("C1", "x")).await;
    assert_eq!(api_error_code(app_posting), "not_allowed_token_type");
    let bot_opening = client.open_session(&bot).apps_connections_open(&open).await;
    assert_eq!(api_error_code(bot_opening), "not_allowed_token_type");
}

#[tokio::test]
async fn users_info_answers_registered_users_only() {
    let fake = FakeSlack::start().await;
    let client = client(&fake);
    let bot = token(fake.bot_token());
    let session = client.open_session(&bot);
    fake.add_user("U1ALICE", "alice", "Alice Doe");

    let alice = session.users_info(&SlackApiUsersInfoRequest::new("U1ALICE".into())).await.expect("known user").user;
    let nobody = session.users_info(&SlackApiUsersInfoRequest::new("U9NOBODY".into())).await;

    assert_eq!(alice.name.as_deref(), Some("alice"));
    let profile = alice.profile.expect("profile");
    assert_eq!(profile.real_name.as_deref(), Some("Alice Doe"));
    assert_eq!(api_error_code(nobody), "user_not_found");
    let call = fake.next_call("users.info").await;
    assert_eq!(call.body["user"], "U1ALICE", "query parameters are recorded");
}

#[tokio::test]
async fn form_encoded_calls_are_recorded_as_json_objects() {
    let fake = FakeSlack::start().await;
    let blocks = r#"[{"type":"divider"}]"#;
    let body = serde_urlencoded::to_string([
        ("token", fake.bot_token()),
        ("channel", "C0DEPLOY"),
        ("text", "from a form"),
        ("blocks", blocks),
    ])
    .expect("encode");

    let response = raw_post(&fake, "/api/chat.postMessage", &body).await;

    assert!(response.contains(r#""ok":true"#), "{response}");
    let call = fake.next_call("chat.postMessage").await;
    assert_eq!(call.token.as_deref(), Some("xoxb-test"));
    assert_eq!(call.body["text"], "from a form");
    assert_eq!(call.body["blocks"], json!([{"type": "divider"}]));
}

#[tokio::test]
async fn response_urls_record_posts_and_accept_five_at_most() {
    let fake = FakeSlack::start().await;
    let client = client(&fake);
    let url = fake.response_url();
    let response_url = SlackResponseUrl(url.parse().expect("url"));
    let reply = |text: &str| {
        SlackApiPostWebhookMessageRequest::new(SlackMessageContent::new().with_text(text.into()))
            .with_replace_original(true)
    };

    client.respond_to_event(&response_url, &reply("done")).await.expect("post");
    let posted = fake.next_response(&url).await;
    for n in 2..=5 {
        client.respond_to_event(&response_url, &reply(&n.to_string())).await.expect("post");
    }
    let sixth = client.respond_to_event(&response_url, &reply("6")).await;

    assert_eq!(posted["text"], "done");
    assert_eq!(posted["replace_original"], true);
    assert!(matches!(sixth, Err(SlackClientError::HttpError(ref e)) if e.status_code == 404), "{sixth:?}");
}

#[tokio::test]
async fn socket_mode_round_trip_with_a_raw_client() {
    let fake = FakeSlack::start().await;
    let client = client(&fake);
    let open = client
        .open_session(&token(fake.app_token()))
        .apps_connections_open(&SlackApiAppsConnectionOpenRequest::new())
        .await
        .expect("apps.connections.open");
    let url = open.url.0.to_string();
    let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str()).await.expect("connect");

    let hello = next_json(&mut ws).await;
    assert_eq!(hello["type"], "hello");
    assert_eq!(hello["connection_info"]["app_id"], "A0FAKE");
    ws.send(Message::Ping(b"are you there".to_vec().into())).await.expect("ping");
    assert!(matches!(ws.next().await, Some(Ok(Message::Pong(_)))), "pings are answered");
    let reused = tokio_tungstenite::connect_async(url.as_str()).await;
    assert!(reused.is_err(), "tickets are single use");

    fake.wait_for_socket().await;
    let response_url = fake.response_url();
    let payload = fake.slash_command_json("pipeline web", "U1ALICE", "alice", "C0DEPLOY", "deploys", &response_url);
    let id = fake.send_envelope("slash_commands", payload.clone()).await;
    let envelope = next_json(&mut ws).await;
    assert_eq!(envelope["envelope_id"], id.as_str());
    assert_eq!(envelope["type"], "slash_commands");
    assert_eq!(envelope["accepts_response_payload"], true);
    assert_eq!(envelope["payload"], payload);

    let ack = json!({"envelope_id": id, "payload": {"text": "On it"}});
    ws.send(Message::text(ack.to_string())).await.expect("ack");
    assert_eq!(fake.next_ack(&id).await, ack);
}

/// A raw client connected through `apps.connections.open`, past its `hello`.
async fn raw_socket(fake: &FakeSlack) -> RawSocket {
    let open = client(fake)
        .open_session(&token(fake.app_token()))
        .apps_connections_open(&SlackApiAppsConnectionOpenRequest::new())
        .await
        .expect("apps.connections.open");
    let (mut ws, _) = tokio_tungstenite::connect_async(open.url.0.as_str()).await.expect("connect");
    assert_eq!(next_json(&mut ws).await["type"], "hello");
    ws
}

#[tokio::test]
async fn envelopes_go_to_live_sockets_in_turn_and_an_unacked_one_can_be_redelivered_to_another() {
    let fake = FakeSlack::start().await;
    let (mut first, mut second) = (raw_socket(&fake).await, raw_socket(&fake).await);
    assert_eq!(fake.wait_for_sockets(2).await, vec![1, 2]);
    let payload = json!({"text": "help"});
    let a = fake.send_envelope("slash_commands", payload.clone()).await;
    let b = fake.send_envelope("slash_commands", payload.clone()).await;
    assert_eq!(next_json(&mut first).await["envelope_id"], a.as_str());
    assert_eq!(next_json(&mut second).await["envelope_id"], b.as_str());
    assert_eq!(fake.envelopes_per_socket(), [(1, 1), (2, 1)].into());

    let lost = fake.send_envelope_losing_ack(1, "slash_commands", payload.clone());
    assert_eq!(next_json(&mut first).await["envelope_id"], lost.as_str());
    first.send(Message::text(json!({"envelope_id": lost}).to_string())).await.expect("ack");
    fake.redeliver_to(2, &lost);
    let again = next_json(&mut second).await;
    assert_eq!((again["envelope_id"].as_str(), again["retry_attempt"].as_u64()), (Some(lost.as_str()), Some(1)));
    assert_eq!((again["retry_reason"].as_str(), &again["payload"]), (Some("timeout"), &payload));
    second.send(Message::text(json!({"envelope_id": lost}).to_string())).await.expect("ack");
    fake.next_ack(&lost).await;
}

#[tokio::test]
async fn disconnect_asks_the_client_to_refresh_then_closes() {
    let fake = FakeSlack::start().await;
    let client = client(&fake);
    let open = client
        .open_session(&token(fake.app_token()))
        .apps_connections_open(&SlackApiAppsConnectionOpenRequest::new())
        .await
        .expect("apps.connections.open");
    let (mut ws, _) = tokio_tungstenite::connect_async(open.url.0.as_str()).await.expect("connect");
    next_json(&mut ws).await;
    fake.wait_for_socket().await;

    fake.disconnect();

    let frame = next_json(&mut ws).await;
    assert_eq!(frame["type"], "disconnect");
    assert_eq!(frame["reason"], "refresh_requested");
    assert!(matches!(ws.next().await, Some(Ok(Message::Close(_)))), "then a Close frame");
}

#[tokio::test]
async fn slack_morphism_listener_gets_acked_commands_and_reconnects_after_disconnect() {
    async fn on_command(
        event: SlackCommandEvent,
        _client: Arc<SlackHyperClient>,
        _state: SlackClientEventsUserState,
    ) -> UserCallbackResult<SlackCommandEventResponse> {
        let text = format!("got {}", event.text.unwrap_or_default());
        Ok(SlackCommandEventResponse::new(SlackMessageContent::new().with_text(text)))
    }
    /// Any frame slack-morphism cannot parse (hello, envelope, disconnect) lands here.
    static LISTENER_ERRORS: AtomicUsize = AtomicUsize::new(0);
    fn count_error(
        error: Box<dyn std::error::Error + Send + Sync>,
        _client: Arc<SlackHyperClient>,
        _state: SlackClientEventsUserState,
    ) -> HttpStatusCode {
        eprintln!("slack-morphism listener error: {error}");
        LISTENER_ERRORS.fetch_add(1, Ordering::SeqCst);
        HttpStatusCode::OK
    }
    let fake = FakeSlack::start().await;
    let environment =
        SlackClientEventsListenerEnvironment::new(Arc::new(client(&fake))).with_error_handler(count_error);
    let environment = Arc::new(environment);
    let callbacks = SlackSocketModeListenerCallbacks::new().with_command_events(on_command);
    let config = SlackClientSocketModeConfig::new().with_max_connections_count(1);
    let listener = SlackClientSocketModeListener::new(&config, environment, callbacks);
    listener.listen_for(&token(fake.app_token())).await.expect("listen");
    listener.start().await;
    let url = fake.response_url();
    let command = |text| fake.slash_command_json(text, "U1ALICE", "alice", "C0DEPLOY", "deploys", &url);

    let first = fake.send_envelope("slash_commands", command("pipeline web")).await;
    let first_ack = fake.next_ack(&first).await;
    fake.disconnect();
    let second = fake.send_envelope("slash_commands", command("alarms")).await;
    let second_ack = fake.next_ack(&second).await;
    listener.shutdown().await;

    assert_eq!(first_ack["payload"]["text"], "got pipeline web");
    assert_eq!(second_ack["payload"]["text"], "got alarms");
    assert_eq!(fake.socket_connections(), 2, "reconnected once");
    assert_eq!(LISTENER_ERRORS.load(Ordering::SeqCst), 0, "every frame parsed, `disconnect` included");
    let opens = fake.calls().iter().filter(|c| c.method == "apps.connections.open").count();
    assert_eq!(opens, 2, "each connection asks for a fresh URL");
}

#[tokio::test]
async fn built_payloads_parse_as_slack_morphism_models() {
    let fake = FakeSlack::start().await;
    let url = fake.response_url();
    let form = fake.slash_command_form("deploy prod/api web:42", "U1ALICE", "alice", "C0DEPLOY", "deploys", &url);
    let mention = fake.app_mention_event("Ev1", "U1ALICE", "C0DEPLOY", "<@U0BOT> pipelines", "1700000001.000200");
    let envelope = super::socket_mode::envelope("events_api", mention.clone(), "e-1", 1);

    let command: SlackCommandEvent = serde_urlencoded::from_str(&form).expect("slash command form");
    assert!(form.contains("command=%2Fops&text=deploy+prod%2Fapi+web%3A42"), "{form}");
    assert_eq!(command.text.as_deref(), Some("deploy prod/api web:42"));
    assert_eq!(command.response_url.0.as_str(), url);
    match serde_json::from_value::<SlackPushEvent>(mention).expect("event callback") {
        SlackPushEvent::EventCallback(callback) => {
            assert!(matches!(callback.event, SlackEventCallbackBody::AppMention(_)));
        }
        other => panic!("expected an event callback, got {other:?}"),
    }
    assert_eq!(envelope["retry_reason"], "timeout");
    assert_eq!(envelope["accepts_response_payload"], false);
}

/// Next text frame from the fake, as JSON.
async fn next_json(ws: &mut RawSocket) -> Value {
    loop {
        match ws.next().await.expect("socket open").expect("frame") {
            Message::Text(text) => return serde_json::from_str(text.as_str()).expect("JSON frame"),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

/// A form-encoded POST over a bare TCP socket, as non-Rust Slack clients send it.
async fn raw_post(fake: &FakeSlack, path: &str, body: &str) -> String {
    let host = fake.api_url().trim_start_matches("http://").trim_end_matches("/api").to_string();
    let mut stream = TcpStream::connect(&host).await.expect("connect");
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    response
}

#[tokio::test]
async fn history_lists_top_level_messages_newest_first_with_metadata_only_when_asked() {
    let fake = FakeSlack::start().await;
    let client = client(&fake);
    let bot = token(fake.bot_token());
    let session = client.open_session(&bot);
    let meta = SlackMessageMetadata::new("opsbot_message".into())
        .with_event_payload([("key".to_string(), "alarm:a".to_string())].into());
    let mut tagged = text_message("C0OPS", "ALARM");
    tagged.content = tagged.content.with_metadata(meta.clone());
    let parent = session.chat_post_message(&tagged).await.unwrap().ts;
    session.chat_post_message(&text_message("C0OPS", "second")).await.unwrap();
    let mut reply = text_message("C0OPS", "in the thread");
    reply.thread_ts = Some(parent.clone());
    session.chat_post_message(&reply).await.unwrap();
    session.chat_post_message(&text_message("C0OTHER", "elsewhere")).await.unwrap();

    let req = SlackApiConversationsHistoryRequest::new().with_channel("C0OPS".into());
    let plain = session.conversations_history(&req).await.unwrap();
    let texts: Vec<_> = plain.messages.iter().map(|m| m.content.text.clone().unwrap_or_default()).collect();
    assert_eq!(texts, ["second", "ALARM"]);
    assert_eq!(plain.messages[1].content.metadata, None, "metadata needs include_all_metadata");

    let first_page = session.conversations_history(&req.clone().with_include_all_metadata(true).with_limit(1)).await;
    let first_page = first_page.unwrap();
    assert_eq!(first_page.has_more, Some(true));
    let cursor = first_page.response_metadata.and_then(|m| m.next_cursor).expect("a cursor");
    let next = req.with_include_all_metadata(true).with_limit(1).with_cursor(cursor);
    let second_page = session.conversations_history(&next).await.unwrap();
    assert_eq!(second_page.messages[0].origin.ts, parent);
    assert_eq!(second_page.messages[0].content.metadata, Some(meta));
}

#[tokio::test]
async fn replies_list_a_thread_parent_first_and_refuse_an_unknown_one() {
    let fake = FakeSlack::start().await;
    let client = client(&fake);
    let bot = token(fake.bot_token());
    let session = client.open_session(&bot);
    let parent = session.chat_post_message(&text_message("C0OPS", "ALARM")).await.unwrap().ts;
    for text in ["first", "second"] {
        let mut reply = text_message("C0OPS", text);
        reply.thread_ts = Some(parent.clone());
        session.chat_post_message(&reply).await.unwrap();
    }
    session.chat_post_message(&text_message("C0OPS", "unrelated")).await.unwrap();

    let req = SlackApiConversationsRepliesRequest::new("C0OPS".into(), parent.clone());
    let thread = session.conversations_replies(&req).await.unwrap();
    let texts: Vec<_> = thread.messages.into_iter().map(|m| m.content.text.unwrap_or_default()).collect();
    assert_eq!(texts, ["ALARM", "first", "second"]);
    let unknown = SlackApiConversationsRepliesRequest::new("C0OPS".into(), "1.000001".into());
    assert_eq!(api_error_code(session.conversations_replies(&unknown).await), "thread_not_found");
}
