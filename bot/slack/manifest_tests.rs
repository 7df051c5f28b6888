//! `slack/manifest.yaml` asks for exactly the bot scopes the code needs: the
//! scopes of every Web API method the bot calls, of every event it
//! subscribes to, and `commands` for `/ops` — no more (a workspace admin
//! approves each one), no fewer (a call would fail with `missing_scope`).
//!
//! The methods are read from the source: every Web API call passes its
//! method name as a string (`retry(.., "chat.update", ..)`, `classify(..)`,
//! `http_get(..)`), and every slack-morphism call (`session.chat_update(..)`)
//! must have such a name, so a new call cannot slip past the table below.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use regex::Regex;

/// Bot-token scopes of each Web API method the bot calls, from the method's
/// page, <https://docs.slack.dev/reference/methods/METHOD> ("Required
/// scopes", bot token), and each scope's page
/// (<https://docs.slack.dev/reference/scopes/channels.history> lists
/// `conversations.history` and `conversations.replies`).
const METHOD_SCOPES: &[(&str, &[&str])] = &[
    // `chat:write.public` lets notifications reach a routed public channel
    // the bot was never invited to (the page lists it as optional).
    ("chat.postMessage", &["chat:write", "chat:write.public"]),
    ("chat.update", &["chat:write"]),
    ("chat.postEphemeral", &["chat:write"]),
    // The outbox finds a post again by its metadata after a crash. The page
    // lists one scope per channel type: public, private (DMs: `im:history`,
    // which `message.im` already needs).
    ("conversations.history", &["channels:history", "groups:history"]),
    ("conversations.replies", &["channels:history", "groups:history"]),
    ("users.info", &["users:read"]),
    ("usergroups.list", &["usergroups:read"]),
    // No scope: the trigger_id of the button press authorises it.
    ("views.open", &[]),
    // The app-level token's `connections:write`, not a bot scope.
    ("apps.connections.open", &[]),
];

/// Scopes of the events the manifest subscribes to
/// (<https://api.slack.com/events/app_mention>, `/events/message.im`).
const EVENT_SCOPES: &[(&str, &str)] = &[("app_mention", "app_mentions:read"), ("message.im", "im:history")];

/// The families of Web API methods (`chat.…`, `users.…`); a string literal
/// `"<family>.<name>"` in the bot's code is a method name.
const FAMILIES: &str = "admin|api|apps|auth|bookmarks|bots|calls|chat|conversations|dialog|dnd|emoji|files|pins|\
                        reactions|reminders|rtm|search|stars|team|usergroups|users|views|workflows";

fn manifest() -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("slack/manifest.yaml");
    serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn strings(value: &serde_json::Value) -> BTreeSet<String> {
    value.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
}

/// The bot's shipped code: every `.rs` under `bot/` but tests, each cut at
/// its `#[cfg(test)]`.
fn shipped_code() -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                walk(&path, out);
            } else if name.ends_with(".rs") && !name.ends_with("tests.rs") {
                let code = std::fs::read_to_string(&path).unwrap();
                let shipped = code.split("#[cfg(test)]").next().unwrap_or_default().to_owned();
                out.push((path, shipped));
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("bot"), &mut out);
    out
}

fn methods_called() -> BTreeSet<String> {
    let named = Regex::new(&format!(r#""((?:{FAMILIES})\.[a-zA-Z]+(?:\.[a-zA-Z]+)*)""#)).unwrap();
    shipped_code()
        .iter()
        .flat_map(|(_, code)| named.captures_iter(code).map(|c| c[1].to_owned()).collect::<Vec<_>>())
        .collect()
}

/// `chat.postMessage` → `chat_post_message`, slack-morphism's name for it.
fn snake(method: &str) -> String {
    method
        .chars()
        .map(|c| {
            if c == '.' {
                "_".into()
            } else if c.is_ascii_uppercase() {
                format!("_{}", c.to_ascii_lowercase())
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[test]
fn the_manifest_asks_for_exactly_the_scopes_of_the_methods_called_and_the_events_subscribed() {
    let manifest = manifest();
    let asked = strings(&manifest["oauth_config"]["scopes"]["bot"]);
    let mut needed: BTreeSet<String> = ["commands".to_owned()].into();
    for method in methods_called() {
        let scopes = METHOD_SCOPES.iter().find(|(m, _)| *m == method).map(|(_, s)| *s).unwrap_or_else(|| {
            panic!(
                "the bot calls {method}: add its bot scopes (https://docs.slack.dev/reference/methods/{method}) to METHOD_SCOPES"
            )
        });
        needed.extend(scopes.iter().map(|s| s.to_string()));
    }
    let events = strings(&manifest["settings"]["event_subscriptions"]["bot_events"]);
    for event in &events {
        let (_, scope) = EVENT_SCOPES.iter().find(|(e, _)| e == event).unwrap_or_else(|| {
            panic!("the manifest subscribes to {event}, which the bot does not handle (bot/slack/payload.rs)")
        });
        needed.insert(scope.to_string());
    }
    let unused: Vec<&String> = asked.difference(&needed).collect();
    let missing: Vec<&String> = needed.difference(&asked).collect();
    assert!(unused.is_empty(), "slack/manifest.yaml asks for scopes no call or event needs: {unused:?}");
    assert!(missing.is_empty(), "slack/manifest.yaml lacks scopes the bot needs: {missing:?}");
    assert_eq!(manifest["features"]["slash_commands"][0]["command"], "/ops", "`commands` is for /ops");
}

#[test]
fn every_slack_morphism_call_names_its_method_so_the_table_sees_it() {
    let named: BTreeSet<String> = methods_called().iter().map(|m| snake(m)).collect();
    // Every Web API call goes through a `session` (`client.open_session(token)`).
    let call = Regex::new(&format!(r"session\s*\.((?:{FAMILIES})_[a-z_]+)\(")).unwrap();
    for (path, code) in shipped_code() {
        for found in call.captures_iter(&code) {
            assert!(
                named.contains(&found[1]),
                "{}: calls {} without naming its Web API method in a string (retry/classify): the scope test cannot see it",
                path.display(),
                &found[1]
            );
        }
    }
    assert!(named.contains("chat_post_message") && named.contains("users_info"), "the scan finds the calls: {named:?}");
}

#[test]
fn every_method_in_the_table_is_still_called() {
    let called = methods_called();
    for (method, _) in METHOD_SCOPES {
        assert!(called.contains(*method), "{method} is no longer called: remove it from METHOD_SCOPES");
    }
}
