//! An outage switch: while [`FakeSlack::set_down`] holds, every request —
//! Web API and response_url alike — is answered HTTP 503 without being
//! served or recorded as a call, as Slack's edge does when Slack is down.
//! Refused requests are counted, so a test can wait for the bot to have met
//! the outage instead of sleeping.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{FakeSlack, Shared};

/// The outage's state in the fake's [`super::State`].
#[derive(Debug, Default)]
pub(crate) struct Outage {
    pub down: bool,
    /// Requests answered 503 because of it, over the fake's life.
    pub refused: u64,
}

impl FakeSlack {
    /// Takes Slack down (every request answered 503) or brings it back.
    pub fn set_down(&self, down: bool) {
        self.shared.update(|s| s.outage.down = down);
    }

    /// How many requests were refused by an outage so far.
    pub fn refused_requests(&self) -> u64 {
        self.shared.inspect(|s| s.outage.refused)
    }

    /// Waits until the bot has met the outage (a request was refused).
    pub async fn wait_for_refusal(&self) {
        self.wait_until("a request refused by the outage", |s| (s.outage.refused > 0).then_some(()), |_| String::new())
            .await
    }
}

/// The middleware in front of every route.
pub(super) async fn gate(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let refused = shared.update(|s| {
        s.outage.refused += u64::from(s.outage.down);
        s.outage.down
    });
    if refused {
        return (StatusCode::SERVICE_UNAVAILABLE, "fake Slack is down").into_response();
    }
    next.run(request).await
}
