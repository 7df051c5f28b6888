//! [`Refused`], the one shape of every refusal on the HTTP surface (a status
//! and a sentence for the sender's logs), and [`read_body`], the first check of
//! every route: the body arrived whole and within its limit. Shared by the
//! Slack routes (the module root) and `POST /sns` (`sns.rs`), so it imports
//! neither.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tracing::warn;

/// A request refused before it ran, with a short reason for Slack's logs.
pub(crate) struct Refused(pub(super) StatusCode, pub(super) String);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        (self.0, self.1).into_response()
    }
}

/// The body, whole and within `limit` (the setting that bounds it, for the message).
pub(crate) fn read_body(body: Result<Bytes, BytesRejection>, limit: &str) -> Result<Bytes, Refused> {
    body.map_err(|rejection| {
        let refused = match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => {
                Refused(StatusCode::PAYLOAD_TOO_LARGE, format!("request body is larger than {limit}"))
            }
            _ => Refused(
                StatusCode::BAD_REQUEST,
                format!("cannot read the request body (cut short or the connection failed): {rejection}"),
            ),
        };
        warn!(status = %refused.0, error = %refused.1, "refused a request body");
        refused
    })
}
