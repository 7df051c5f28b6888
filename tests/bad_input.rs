//! Bad input over HTTP against the real binary (`opsbot serve --transport
//! http`, started by `support::binary`), on every route that takes a body:
//! `/slack/commands`, `/slack/events`, `/slack/interactions` and `/sns`.
//!
//! Oversized, truncated (in the content and on the wire), wrong content type,
//! invalid UTF-8 (raw and percent-encoded), JSON nested 10,000 deep, unsigned
//! and forged: each gets a 4xx whose body says what was wrong, never a 500
//! or a hang; the bot keeps serving; and not one row of the store changes.
//!
//! Two inputs are not errors and are shown to be served: a 10 kB command line
//! (Slack sends what the user typed; the user is told what is wrong with it)
//! and unknown fields (Slack and AWS add fields to their payloads over time;
//! refusing them would be an outage at their next release).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::binary::{Serve, ServeProcess};
use crate::support::bot::{CHANNEL, SIGNING_SECRET, USER, text_of};
use crate::support::fake_slack::FakeSlack;
use crate::support::sns::{FakeSns, LOCAL_ALLOW, OTHER_KEY};

const FORM: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";
const TOPIC: &str = "arn:aws:sns:eu-west-1:111122223333:opsbot-alarms";

/// One bad request and what the bot must answer.
struct Case {
    what: &'static str,
    path: &'static str,
    content_type: &'static str,
    body: Vec<u8>,
    signed: bool,
    status: u16,
    /// A part of the answer's body that says what was wrong.
    says: &'static str,
}

fn case(what: &'static str, path: &'static str, content_type: &'static str, body: impl Into<Vec<u8>>) -> Case {
    Case { what, path, content_type, body: body.into(), signed: true, status: 400, says: "" }
}

impl Case {
    fn answers(self, status: u16, says: &'static str) -> Case {
        Case { status, says, ..self }
    }

    fn unsigned(self) -> Case {
        Case { signed: false, ..self }
    }
}

fn nested(depth: usize) -> String {
    "[".repeat(depth) + &"]".repeat(depth)
}

fn form_payload(json: &str) -> String {
    serde_urlencoded::to_string([("payload", json)]).unwrap()
}

fn cases(slack: &FakeSlack, sns: &FakeSns) -> Vec<Case> {
    let url = slack.response_url();
    let slash = slack.slash_command_form("whoami", USER, "dev", CHANNEL, "ops", &url);
    let mention = slack.app_mention_event("Ev0BAD", USER, CHANNEL, "<@U0BOT> whoami", "1700000000.000300").to_string();
    let notification = sns.notification(TOPIC, None, "{}").to_string();
    let forged_sns = sns.signed_v2(sns.notification(TOPIC, None, "{}"), OTHER_KEY).to_string();
    let mut raw_bad_utf8 = slash.clone().into_bytes();
    raw_bad_utf8.extend_from_slice(b"&surprise=\xff\xfe");
    let mut json_bad_utf8 = mention.clone().into_bytes();
    json_bad_utf8.splice(json_bad_utf8.len() - 1..json_bad_utf8.len() - 1, b",\"x\":\"\xff\"".iter().copied());
    vec![
        case("a body over server.max_body_bytes", "/slack/commands", FORM, "text=".to_owned() + &"a".repeat(100 << 10))
            .answers(413, "larger than"),
        case("an unsigned body over the limit", "/slack/events", JSON, nested(40_000))
            .unsigned()
            .answers(413, "larger than"),
        case("an SNS body over 1 MiB", "/sns", "text/plain", "x".repeat(2 << 20)).answers(413, "larger than"),
        case("a slash command cut short", "/slack/commands", FORM, &slash[..slash.len() / 3])
            .answers(400, "missing field"),
        case("an event cut short", "/slack/events", JSON, &mention[..mention.len() / 2]).answers(400, "EOF"),
        case("an interaction cut short", "/slack/interactions", FORM, form_payload(r#"{"type":"block_actions","us"#))
            .answers(400, "EOF"),
        case("an SNS message cut short", "/sns", "text/plain", &notification[..notification.len() / 2])
            .answers(400, "not an SNS message"),
        case("a slash command sent as JSON", "/slack/commands", JSON, r#"{"text":"whoami"}"#)
            .answers(415, "application/x-www-form-urlencoded"),
        case("an event sent as a form", "/slack/events", FORM, "type=event_callback").answers(415, "application/json"),
        case("an interaction sent as text", "/slack/interactions", "text/plain", form_payload("{}"))
            .answers(415, "application/x-www-form-urlencoded"),
        case("an interaction without a content type", "/slack/interactions", "", form_payload("{}"))
            .answers(415, "application/x-www-form-urlencoded"),
        case("an SNS form post", "/sns", FORM, "Type=Notification").answers(400, "not an SNS message"),
        case("raw invalid UTF-8 in a slash command", "/slack/commands", FORM, raw_bad_utf8).answers(400, "UTF-8"),
        case(
            "percent-encoded invalid UTF-8 in a slash command",
            "/slack/commands",
            FORM,
            slash.replace("whoami", "who%FFami"),
        )
        .answers(400, "UTF-8"),
        case("invalid UTF-8 in an event", "/slack/events", JSON, json_bad_utf8).answers(400, "UTF-8"),
        case(
            "percent-encoded invalid UTF-8 in an interaction",
            "/slack/interactions",
            FORM,
            "payload=%7B%22a%22%3A%22%FF%22%7D",
        )
        .answers(400, "UTF-8"),
        case("invalid UTF-8 in an SNS message", "/sns", "text/plain", b"{\"Type\":\"\xff\"}".to_vec())
            .answers(400, "not an SNS message"),
        case("an event nested 10,000 deep", "/slack/events", JSON, nested(10_000)).answers(400, "recursion limit"),
        case("an interaction nested 10,000 deep", "/slack/interactions", FORM, form_payload(&nested(10_000)))
            .answers(400, "recursion limit"),
        case("an SNS message nested 10,000 deep", "/sns", "text/plain", nested(10_000))
            .answers(400, "not an SNS message"),
        case("an unsigned slash command", "/slack/commands", FORM, slash.clone()).unsigned().answers(401, "signature"),
        case("an unsigned event", "/slack/events", JSON, mention.clone()).unsigned().answers(401, "signature"),
        case("an unsigned interaction", "/slack/interactions", FORM, form_payload("{}"))
            .unsigned()
            .answers(401, "signature"),
        case("a forged SNS signature", "/sns", "text/plain", forged_sns).answers(403, ""),
    ]
}

/// Every row of every table, as text, by table.
fn snapshot(store: &Path) -> BTreeMap<String, Vec<String>> {
    let conn = rusqlite::Connection::open(store).expect("the store opens");
    let mut tables = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").unwrap();
    let names: Vec<String> = tables.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    names
        .into_iter()
        .map(|table| {
            let mut select = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
            let columns = select.column_count();
            let rows = select
                .query_map([], |r| {
                    Ok((0..columns).map(|i| format!("{:?}", r.get_ref(i).unwrap())).collect::<Vec<_>>().join("|"))
                })
                .unwrap()
                .map(Result::unwrap)
                .collect();
            (table, rows)
        })
        .collect()
}

/// `opsbot serve --transport http` with `POST /sns` mounted (one SNS topic).
async fn serve(slack: &FakeSlack, dir: &Path) -> ServeProcess {
    let config = dir.join("opsbot.yaml");
    let yaml = format!(
        "notifications:\n  default_channel: {CHANNEL}\n  sns: {{ topics: [\"{TOPIC}\"], cert_url_allow: '{LOCAL_ALLOW}' }}\n"
    );
    std::fs::write(&config, yaml).unwrap();
    Serve::new(slack, "http", &dir.join("opsbot.db"))
        .env("SLACK_SIGNING_SECRET", SIGNING_SECRET)
        .config(config)
        .listening()
        .await
}

async fn send(bot: &ServeProcess, case: Case) -> (Case, crate::support::bot::HttpAnswer) {
    let body = case.body.clone();
    let answer = if case.signed {
        bot.post_signed(case.path, case.content_type, body, SIGNING_SECRET).await
    } else {
        bot.post(case.path, case.content_type, body, &[]).await
    };
    (case, answer)
}

#[tokio::test]
async fn bad_requests_on_every_route_get_a_4xx_saying_why_and_change_nothing_in_the_store() {
    let slack = FakeSlack::start().await;
    let sns = FakeSns::start().await;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("opsbot.db");
    let bot = serve(&slack, dir.path()).await;
    let before = snapshot(&store);

    let mut wrong = Vec::new();
    for case in cases(&slack, &sns) {
        let (case, answer) = send(&bot, case).await;
        if answer.status != case.status || !answer.body.contains(case.says) {
            wrong.push(format!(
                "{} on {}: wanted {} saying {:?}, got {answer:?}",
                case.what, case.path, case.status, case.says
            ));
        }
    }
    assert!(wrong.is_empty(), "{} of the bad requests were answered wrongly:\n{}", wrong.len(), wrong.join("\n"));
    assert_eq!(snapshot(&store), before, "the store is unchanged");

    let url = slack.response_url();
    let body = slack.slash_command_form("whoami", USER, "dev", CHANNEL, "ops", &url);
    assert_eq!(bot.post_signed("/slack/commands", FORM, body.into_bytes(), SIGNING_SECRET).await.status, 200);
    assert!(text_of(&slack.next_response(&url).await).contains(USER), "still serving");
}

#[tokio::test]
async fn a_body_cut_short_on_the_wire_gets_400_not_a_hang() {
    let slack = FakeSlack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let bot = serve(&slack, dir.path()).await;
    let before = snapshot(&dir.path().join("opsbot.db"));
    for path in ["/slack/commands", "/slack/events", "/slack/interactions", "/sns"] {
        let addr = bot.base.trim_start_matches("http://");
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head =
            format!("POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: {FORM}\r\ncontent-length: 1000\r\n\r\n");
        tcp.write_all(head.as_bytes()).await.unwrap();
        tcp.write_all(b"text=only-a-part").await.unwrap();
        tcp.shutdown().await.unwrap(); // the client is gone mid-body
        let mut answer = String::new();
        tokio::time::timeout(Duration::from_secs(10), tcp.read_to_string(&mut answer))
            .await
            .unwrap_or_else(|_| panic!("{path}: no answer within 10 s"))
            .unwrap();
        assert!(answer.starts_with("HTTP/1.1 400"), "{path}: {answer}");
        assert!(answer.contains("cannot read the request body"), "{path}: {answer}");
    }
    assert_eq!(snapshot(&dir.path().join("opsbot.db")), before, "the store is unchanged");
    assert_eq!(bot.post("/slack/events", JSON, b"{}".to_vec(), &[]).await.status, 401, "still serving");
}

#[tokio::test]
async fn a_10_kb_command_line_and_unknown_fields_are_served_and_the_user_told_what_is_wrong() {
    let slack = FakeSlack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("opsbot.db");
    let bot = serve(&slack, dir.path()).await;

    let url = slack.response_url();
    let line = format!("pipeline {}", "x".repeat(10 << 10));
    let body = slack.slash_command_form(&line, USER, "dev", CHANNEL, "ops", &url);
    assert_eq!(bot.post_signed("/slack/commands", FORM, body.into_bytes(), SIGNING_SECRET).await.status, 200);
    let answer = slack.next_response(&url).await;
    assert_eq!(answer["response_type"], "ephemeral", "only the asker sees it");
    let told = text_of(&answer);
    assert!(told.len() < 4000, "the answer does not echo 10 kB back: {}", told.len());
    assert!(told.contains("is not a valid pipeline name") && told.contains("up to 100"), "says what is wrong: {told}");
    let changes = snapshot(&store);
    assert!(changes["changes"].is_empty() && changes["audit"].is_empty(), "nothing ran: {changes:?}");

    let url = slack.response_url();
    let body = slack.slash_command_form("whoami", USER, "dev", CHANNEL, "ops", &url)
        + "&is_enterprise_install=false&new_field=1";
    assert_eq!(bot.post_signed("/slack/commands", FORM, body.into_bytes(), SIGNING_SECRET).await.status, 200);
    assert!(text_of(&slack.next_response(&url).await).contains(USER));
    let mut event = slack.app_mention_event("Ev0UNKNOWN", USER, CHANNEL, "<@U0BOT> whoami", "1700000000.000400");
    event["a_field_slack_added_later"] = json!({"nested": [1, 2, 3]});
    event["event"]["also_new"] = json!(true);
    assert_eq!(
        bot.post_signed("/slack/events", JSON, event.to_string().into_bytes(), SIGNING_SECRET).await.status,
        200
    );
    assert!(text_of(&slack.next_call("chat.postEphemeral").await.body).contains(USER));
}
