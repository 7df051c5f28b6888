//! `POST /sns`: an SNS HTTP(S) subscription endpoint.
//!
//! Order: size (413, by the body limit) and a body that arrived whole (400),
//! shape (400: not an SNS message), age (403: `Timestamp` older than
//! `notifications.sns.max_age` or too far ahead of our clock, see
//! [`SnsMessage::check_fresh`]; checked before the signature so a replay
//! costs no certificate fetch — the timestamp is signed, so a forged one
//! fails the next step anyway), signature (403 forged or unwanted; 503 when the certificate cannot be
//! fetched now, so SNS retries), then by type: a SubscriptionConfirmation is
//! confirmed only for a topic in `notifications.sns.topics` (else 403); an
//! UnsubscribeConfirmation is logged; a Notification from a listed topic
//! (else 403) goes to the inbox and
//! is answered 200 only once the inbox has it on disk (503 otherwise: SNS
//! delivers it again).
//!
//! `insecure_skip_sns_signatures` (benchmarks only) skips the signature
//! check; start-up logs a loud warning when it is on.

use std::borrow::Cow;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tracing::{info, warn};

pub use crate::notify::intake::sns::endpoint::{MAX_BODY, SnsEndpoint};
use crate::notify::intake::sns::{SnsError, SnsMessage, SnsType};

use super::body::read_body;

pub fn routes(endpoint: SnsEndpoint) -> Router {
    Router::new().route("/sns", post(receive)).layer(DefaultBodyLimit::max(MAX_BODY)).with_state(Arc::new(endpoint))
}

async fn receive(State(sns): State<Arc<SnsEndpoint>>, body: Result<Bytes, BytesRejection>) -> Response {
    let body = match read_body(body, "1 MiB (SNS messages are at most 256 KiB)") {
        Ok(body) => body,
        Err(refused) => return refused.into_response(),
    };
    answer(&sns, &body).await.into_response()
}

/// The status and a line saying why (static where it can be: the 200 allocates nothing).
async fn answer(sns: &SnsEndpoint, body: &Bytes) -> (StatusCode, Cow<'static, str>) {
    let Some(message) = SnsMessage::from_json(body) else {
        warn!("refused a POST /sns that is not an SNS message");
        return (
            StatusCode::BAD_REQUEST,
            "not an SNS message (Type, MessageId, TopicArn, Message, Signature...)".into(),
        );
    };
    if let Err(err) = message.check_fresh((sns.clock)(), sns.fresh) {
        return refused(&message, &err);
    }
    if let Some(verifier) = &sns.verifier {
        match verifier.verify(&message).await {
            Ok(verified) if message.kind == SnsType::SubscriptionConfirmation => {
                return match sns.confirm.decide(verified) {
                    Ok(confirmation) => match confirmation.send(&sns.http).await {
                        Ok(()) => {
                            info!(topic = %message.topic_arn, "SNS subscription confirmed");
                            (StatusCode::OK, "subscription confirmed".into())
                        }
                        Err(err) => refused(&message, &err),
                    },
                    Err(err) => refused(&message, &err),
                };
            }
            Ok(_) => {}
            Err(err) => return refused(&message, &err),
        }
    }
    match message.kind {
        SnsType::SubscriptionConfirmation => {
            warn!(topic = %message.topic_arn, "not confirming a subscription while signatures are not checked");
            (StatusCode::FORBIDDEN, "subscriptions are not confirmed while signature checks are off".into())
        }
        SnsType::UnsubscribeConfirmation => {
            info!(topic = %message.topic_arn, "SNS says this endpoint was unsubscribed");
            (StatusCode::OK, "noted".into())
        }
        SnsType::Notification if !sns.confirm.allows_topic(&message.topic_arn) => {
            warn!(topic = %message.topic_arn, "SNS notification from a topic not in notifications.sns.topics refused");
            (StatusCode::FORBIDDEN, format!("topic {} is not in notifications.sns.topics", message.topic_arn).into())
        }
        SnsType::Notification => {
            let id = message.message_id.clone();
            match sns.inbox.receive_sns(message, body).await {
                Ok(()) => (StatusCode::OK, "ok".into()),
                Err(err) => {
                    warn!(message = %id, error = %err, "SNS notification not persisted; SNS will retry");
                    (StatusCode::SERVICE_UNAVAILABLE, "not stored; retry".into())
                }
            }
        }
    }
}

fn refused(message: &SnsMessage, err: &SnsError) -> (StatusCode, Cow<'static, str>) {
    let status = if err.is_transient() { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::FORBIDDEN };
    warn!(message = %message.message_id, topic = %message.topic_arn, error = %err, %status, "SNS message refused");
    (status, err.to_string().into())
}

#[cfg(test)]
#[path = "sns_tests.rs"]
mod tests;
