//! `response_url` endpoints: `/respond/<n>` URLs minted per test payload.
//!
//! Like Slack's, each URL takes JSON posts only and at most 5 of them; a URL the
//! fake never minted answers 404 `expired_url`, a sixth post 404 `used_url`.
//! Successful posts answer `{"ok":true}` (older Slack answered a bare `ok`;
//! slack-morphism accepts either). `fail_next("response_url", ..)` injects failures.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::web_api::{failure_response, ok, slack_error};
use super::{FakeSlack, Recorded, Shared, take_first};

/// Slack accepts at most this many posts to one response_url.
const USES: usize = 5;

/// response_url number → bodies posted to it.
pub(crate) type ResponseLog = BTreeMap<u64, Vec<Recorded<Value>>>;

impl FakeSlack {
    /// Mints a fresh `http://127.0.0.1:PORT/respond/<n>` URL for a payload's `response_url`.
    pub fn response_url(&self) -> String {
        let n = self.shared.update(|s| {
            let n = s.next_number();
            s.responses.insert(n, Vec::new());
            n
        });
        format!("{}/respond/{n}", self.shared.config.http_base)
    }

    /// How many bodies were posted to `url` so far, consumed or not.
    pub fn responses_to(&self, url: &str) -> usize {
        let n = response_number(url);
        self.shared.inspect(|s| s.responses.get(&n).map_or(0, Vec::len))
    }

    /// Waits for the next JSON body posted to `url` (one minted by [`Self::response_url`]).
    pub async fn next_response(&self, url: &str) -> Value {
        let n = response_number(url);
        self.wait_until(
            &format!("post to {url}"),
            |s| take_first(s.responses.get_mut(&n)?, |_| true),
            |s| {
                let seen: BTreeMap<_, Vec<_>> =
                    (s.responses.iter()).map(|(n, posts)| (n, posts.iter().map(|r| &r.item).collect())).collect();
                format!("posts received per response URL number: {seen:#?}")
            },
        )
        .await
    }
}

fn response_number(url: &str) -> u64 {
    url.rsplit_once("/respond/")
        .and_then(|(_, n)| n.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("fake Slack: {url} is not one of my response URLs"))
}

/// Handles a post to `/respond/<n>`.
pub(super) async fn respond(State(shared): State<Arc<Shared>>, Path(n): Path<u64>, body: Bytes) -> Response {
    let Ok(payload) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, slack_error("invalid_payload")).into_response();
    };
    let refusal = shared.update(|s| {
        if let Some(failure) = s.failures.get_mut("response_url").and_then(|q| q.pop_front()) {
            return Some(failure_response(failure));
        }
        let refuse = |code| Some((StatusCode::NOT_FOUND, slack_error(code)).into_response());
        let Some(posts) = s.responses.get_mut(&n) else {
            return refuse("expired_url");
        };
        if posts.len() >= USES {
            return refuse("used_url");
        }
        posts.push(Recorded::new(payload));
        None
    });
    refusal.unwrap_or_else(|| ok(json!({})))
}
