//! Slack's inbound payloads and the request signature on any bytes: form
//! bodies (slash commands, the interactivity `payload` field) and JSON
//! bodies (Events API callbacks, Socket Mode payloads, interactions).
//! Beyond "no panic": a slash command reads the same from a form body and
//! from its Socket Mode JSON; a signature made for a body verifies, and no
//! one-byte change of body, timestamp, signature or secret does.

use std::collections::HashSet;

use opsbot::slack::payload::{self, Event, Interaction, SlashFields};
use opsbot::slack::signature::{MAX_SKEW_SECS, SignatureError, sign, verify};
use serde_json::Value;

use super::{Shape, Target, coarse};

const SLACK_WORDS: &[&str] = &[
    "type",
    "event_callback",
    "url_verification",
    "challenge",
    "event",
    "event_id",
    "app_mention",
    "message",
    "channel_type",
    "im",
    "bot_id",
    "subtype",
    "ts",
    "thread_ts",
    "text",
    "user",
    "channel",
    "block_actions",
    "view_submission",
    "actions",
    "action_id",
    "value",
    "action_ts",
    "trigger_id",
    "response_url",
    "container",
    "message_ts",
    "channel_id",
    "user_id",
    "user_name",
    "channel_name",
    "payload",
    "view",
    "callback_id",
    "opsbot.comment",
    "private_metadata",
    "state",
    "values",
    "comment",
    "id",
    "opsbot.confirm",
    "opsbot.cancel",
    "opsbot.approve",
    "opsbot.reject",
    "opsbot.run",
    "U0DEV1",
    "C0OPS",
    "D0DM",
    "W0ENT",
    "u0lower",
    "https://x",
    "http://",
    "javascript:alert(1)",
    "<@U0BOT>",
    "<!here>",
    "<https://evil|review>",
    "&amp;lt;",
    "",
];

pub const FORMS: Target =
    Target { name: "slack_forms", seed_dirs: &[], shape: Shape::Form, dictionary: SLACK_WORDS, check: check_form };

pub const JSON: Target = Target {
    name: "slack_json",
    seed_dirs: &["bot/slack/fixtures"],
    shape: Shape::Json,
    dictionary: SLACK_WORDS,
    check: check_json,
};

pub const SIGNATURE: Target = Target {
    name: "signature",
    seed_dirs: &[],
    shape: Shape::Text,
    dictionary: &["v0=", "V0=", "v1=", "1700000000", "-1", "+1700000000", " ", "\n", "00", "ff", "zz", "%"],
    check: check_signature,
};

/// A form body as `POST /slack/commands` or `/slack/interactions` gets it.
fn check_form(input: &[u8]) -> Result<String, String> {
    let slash = payload::slash_command(SlashFields::Form(input));
    if let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(input) {
        same_from_socket_mode(&pairs, &slash)?;
        if let Some((_, payload)) = pairs.iter().find(|(key, _)| key == "payload")
            && let Ok(value) = serde_json::from_str::<Value>(payload)
        {
            return Ok(format!("slash {}; {}", outcome(&slash), interaction(&value)?));
        }
    }
    Ok(format!("slash {}", outcome(&slash)))
}

/// HTTP and Socket Mode carry the same slash command fields; they must read alike.
fn same_from_socket_mode(
    pairs: &[(String, String)],
    slash: &Result<payload::SlashCommand, payload::PayloadError>,
) -> Result<(), String> {
    let keys: HashSet<&str> = pairs.iter().map(|(key, _)| key.as_str()).collect();
    if keys.len() != pairs.len() {
        return Ok(()); // a repeated field: forms and JSON objects differ there by nature
    }
    let object: serde_json::Map<String, Value> =
        pairs.iter().map(|(key, value)| (key.clone(), Value::String(value.clone()))).collect();
    let json = payload::slash_command(SlashFields::Json(&Value::Object(object)));
    match (slash, &json) {
        (Ok(a), Ok(b)) if a == b => Ok(()),
        (Err(_), Err(_)) => Ok(()),
        _ => Err(format!("the form reads as {slash:?}, the same fields as JSON as {json:?}")),
    }
}

/// A JSON body as `POST /slack/events` gets it, or a Socket Mode payload.
fn check_json(input: &[u8]) -> Result<String, String> {
    let Ok(value) = serde_json::from_slice::<Value>(input) else { return Ok("not json".into()) };
    let event = match payload::event(&value) {
        Ok(Event::Mention(mention)) if mention.event_id.is_empty() => {
            return Err(format!("a mention without an event id: {mention:?}"));
        }
        Ok(Event::Mention(_)) => "mention".to_owned(),
        Ok(Event::UrlVerification { .. }) => "challenge".to_owned(),
        Ok(Event::Ignored { why, .. }) => format!("ignored {}", coarse(&why)),
        Err(err) => format!("err {}", coarse(&err.0)),
    };
    let slash = payload::slash_command(SlashFields::Json(&value));
    Ok(format!("{event}; {}; slash {}", interaction(&value)?, outcome(&slash)))
}

fn interaction(value: &Value) -> Result<String, String> {
    Ok(match payload::interaction(value) {
        Ok(Interaction::Press(press)) if press.dedup_key().is_empty() => {
            return Err(format!("a button press without a dedup key: {press:?}"));
        }
        Ok(Interaction::Press(press)) => format!("press {:?}", std::mem::discriminant(&press.press)),
        Ok(Interaction::Comment(comment)) => format!("comment {}", comment.dedup_key().is_empty()),
        Ok(Interaction::Ignored { why, .. }) => format!("ignored {}", coarse(&why)),
        Err(err) => format!("err {}", coarse(&err.0)),
    })
}

fn outcome<T>(result: &Result<T, payload::PayloadError>) -> String {
    match result {
        Ok(_) => "ok".into(),
        Err(err) => coarse(&err.0),
    }
}

/// Secrets of every shape: empty, short, long, non-ASCII.
const SECRETS: &[&str] = &[
    "8f742231b10e8888abcd99yyyzzz85a5",
    "",
    "s",
    "ключ-🔑",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
];

/// The input is a body; its first two lines are also tried as the
/// timestamp and signature headers an attacker might send.
fn check_signature(body: &[u8]) -> Result<String, String> {
    let secret = SECRETS[body.len() % SECRETS.len()];
    let timestamp = "1700000000";
    let now = 1_700_000_000 + (body.len() as i64 % (2 * MAX_SKEW_SECS)) - MAX_SKEW_SECS;
    let signature = sign(secret, timestamp, body);
    let verdict =
        |ts: &str, sig: &str, body: &[u8], secret: &str, now: i64| verify(secret, Some(ts), Some(sig), body, now);
    if let Err(err) = verdict(timestamp, &signature, body, secret, now) {
        return Err(format!("a fresh signature does not verify: {err:?}"));
    }
    let refused = |what: &str, result: Result<(), SignatureError>, want: SignatureError| {
        if result.as_ref().err() == Some(&want) { Ok(()) } else { Err(format!("{what}: {result:?}, not {want:?}")) }
    };
    for at in [0, body.len() / 2, body.len().saturating_sub(1)].into_iter().filter(|&at| at < body.len()) {
        let mut changed = body.to_vec();
        changed[at] ^= 0x01;
        refused(
            &format!("body byte {at} changed"),
            verdict(timestamp, &signature, &changed, secret, now),
            SignatureError::Mismatch,
        )?;
    }
    let longer = [body, b"\0"].concat();
    refused("a byte appended", verdict(timestamp, &signature, &longer, secret, now), SignatureError::Mismatch)?;
    refused("timestamp changed", verdict("1699999999", &signature, body, secret, now), SignatureError::Mismatch)?;
    let mut forged = signature.clone().into_bytes();
    let last = forged.len() - 1;
    forged[last] = if forged[last] == b'0' { b'1' } else { b'0' };
    let forged = String::from_utf8(forged).expect("hex is ASCII");
    refused("signature changed", verdict(timestamp, &forged, body, secret, now), SignatureError::Mismatch)?;
    let other = if secret == SECRETS[0] { SECRETS[2] } else { SECRETS[0] };
    refused("another secret", verdict(timestamp, &signature, body, other, now), SignatureError::Mismatch)?;
    let late = 1_700_000_000 + MAX_SKEW_SECS + 1;
    refused("replayed late", verdict(timestamp, &signature, body, secret, late), SignatureError::Stale)?;
    attacker_headers(body, secret, now)
}

/// Headers taken from the input itself verify only if they are the real signature.
fn attacker_headers(body: &[u8], secret: &str, now: i64) -> Result<String, String> {
    let text = String::from_utf8_lossy(body);
    let mut lines = text.splitn(3, '\n');
    let (ts, sig) = (lines.next().unwrap_or_default(), lines.next().unwrap_or_default());
    let rest = lines.next().unwrap_or_default().as_bytes();
    match verify(secret, Some(ts), Some(sig), rest, now) {
        Ok(()) if !sig.eq_ignore_ascii_case(&sign(secret, ts, rest)) => {
            Err(format!("forged headers verified: {ts:?} {sig:?}"))
        }
        result => Ok(format!("{result:?}")),
    }
}

#[test]
fn slack_form_bodies_survive_fuzzing_and_read_as_their_socket_mode_json() {
    super::run(&FORMS);
}

#[test]
fn slack_json_payloads_survive_fuzzing() {
    super::run(&JSON);
}

#[test]
fn a_slack_signature_verifies_for_its_body_and_for_no_one_byte_change() {
    super::run(&SIGNATURE);
}
