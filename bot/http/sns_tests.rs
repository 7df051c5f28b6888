//! `POST /sns` through the router: signed notifications reach the inbox and
//! are answered 200; forged, tampered, foreign or malformed ones are refused
//! before anything is stored; confirmations only for listed topics.

use std::sync::Mutex;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DateTime, Utc};
use tower::ServiceExt;

use super::*;
use crate::notify::intake::Inbox;
use crate::notify::intake::sns::Freshness;
use crate::notify::intake::sns::confirm::ConfirmPolicy;
use crate::notify::intake::sns::fetch::{HttpsCertSource, SnsHttp};
use crate::notify::intake::sns::testkit::{self as kit, MemoryCerts};
use crate::notify::intake::sns::verify::SnsVerifier;
use opsbot_commands::ports::Clock;

#[derive(Default)]
struct Recorded {
    bodies: Mutex<Vec<Vec<u8>>>,
    down: bool,
}

#[async_trait]
impl Inbox for Recorded {
    async fn receive(&self, _: crate::notify::intake::Source, body: &[u8]) -> Result<(), String> {
        if self.down {
            return Err("disk full".into());
        }
        self.bodies.lock().unwrap().push(body.to_vec());
        Ok(())
    }
}

fn endpoint(inbox: Arc<Recorded>, topics: &[&str]) -> Router {
    endpoint_at(inbox, topics, kit::sent_at())
}

/// The endpoint with its clock stopped at `now`.
fn endpoint_at(inbox: Arc<Recorded>, topics: &[&str], now: DateTime<Utc>) -> Router {
    let verifier = SnsVerifier::new(kit::sns_allow(), Arc::new(MemoryCerts::with_test_cert()));
    let confirm = ConfirmPolicy::new(topics.iter().map(|t| t.to_string()), kit::sns_allow());
    let (http, clock, fresh) = (SnsHttp::new().unwrap(), Arc::new(move || now), Freshness::default());
    routes(SnsEndpoint { verifier: Some(verifier), confirm, http, inbox, clock, fresh })
}

async fn post(router: Router, body: String) -> (StatusCode, String) {
    let request = Request::post("/sns").header("content-type", "text/plain").body(Body::from(body)).unwrap();
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

fn json(message: &SnsMessage) -> String {
    serde_json::to_string(message).unwrap()
}

#[tokio::test]
async fn a_signed_notification_of_either_version_is_stored_and_answered_200() {
    for message in [kit::notification_v1(), kit::notification_v2()] {
        let inbox = Arc::new(Recorded::default());
        let body = json(&message);
        let (status, _) = post(endpoint(inbox.clone(), &[kit::TOPIC]), body.clone()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(*inbox.bodies.lock().unwrap(), [body.into_bytes()]);
    }
}

#[tokio::test]
async fn forged_or_tampered_notifications_are_refused_and_nothing_is_stored() {
    let mut tampered = kit::notification_v2();
    tampered.message.push_str(" (edited)");
    let forged = kit::signed_v2(kit::notification_v2(), kit::OTHER_KEY);
    for message in [tampered, forged] {
        let inbox = Arc::new(Recorded::default());
        let (status, why) = post(endpoint(inbox.clone(), &[kit::TOPIC]), json(&message)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{why}");
        assert!(why.contains("does not match its signature"), "{why}");
        assert!(inbox.bodies.lock().unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_signed_notification_from_a_topic_not_configured_is_refused() {
    let inbox = Arc::new(Recorded::default());
    let (status, why) =
        post(endpoint(inbox.clone(), &["arn:aws:sns:us-east-1:1:other"]), json(&kit::notification_v2())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(why.contains("is not in notifications.sns.topics"), "{why}");
    assert!(inbox.bodies.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_body_that_is_not_an_sns_message_is_a_bad_request() {
    let (status, why) = post(endpoint(Arc::default(), &[]), "{\"hello\":1}".into()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(why.contains("not an SNS message"), "{why}");
}

#[tokio::test]
async fn a_notification_the_inbox_cannot_keep_is_answered_503_so_sns_retries() {
    let inbox = Arc::new(Recorded { down: true, ..Recorded::default() });
    let (status, _) = post(endpoint(inbox, &[kit::TOPIC]), json(&kit::notification_v2())).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn a_subscription_is_confirmed_only_for_a_listed_topic() {
    let hits = Arc::new(kit::Hits::default());
    let base = kit::serve(hits.clone()).await;
    let local = kit::local_allow();
    let confirmation = kit::signed_v2(
        SnsMessage {
            subscribe_url: Some(format!("{base}/confirm")),
            signing_cert_url: format!("{base}/cert.pem"),
            ..kit::confirmation_v1()
        },
        kit::TEST_KEY,
    );
    for (topics, want) in
        [(vec![kit::TOPIC], StatusCode::OK), (vec!["arn:aws:sns:us-east-1:1:other"], StatusCode::FORBIDDEN)]
    {
        let http = SnsHttp::new().unwrap();
        let verifier = SnsVerifier::new(local.clone(), Arc::new(HttpsCertSource(http.clone())));
        let confirm = ConfirmPolicy::new(topics.iter().map(|t| t.to_string()), local.clone());
        let inbox = Arc::new(Recorded::default());
        let (clock, fresh): (Clock, _) = (Arc::new(kit::sent_at), Freshness::default());
        let router = routes(SnsEndpoint { verifier: Some(verifier), confirm, http, inbox, clock, fresh });
        let (status, why) = post(router, json(&confirmation)).await;
        assert_eq!(status, want, "{why}");
    }
    assert_eq!(hits.confirm.load(std::sync::atomic::Ordering::SeqCst), 1, "one GET of the SubscribeURL");
}

/// A notification signed by the test key, sent `minutes` before the endpoint's now (negative: after).
fn sent_minutes_before(minutes: i64) -> (Router, Arc<Recorded>, String) {
    let inbox = Arc::new(Recorded::default());
    let now = kit::sent_at() + chrono::Duration::minutes(minutes);
    (endpoint_at(inbox.clone(), &[kit::TOPIC], now), inbox, json(&kit::notification_v2()))
}

#[tokio::test]
async fn a_signed_notification_sent_61_minutes_ago_is_refused_as_a_replay() {
    let (router, inbox, body) = sent_minutes_before(61);
    let (status, why) = post(router, body).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{why}");
    assert!(why.contains("1h1m ago") && why.contains("notifications.sns.max_age (1h)"), "{why}");
    assert!(inbox.bodies.lock().unwrap().is_empty(), "nothing stored");
}

#[tokio::test]
async fn a_signed_notification_sent_59_minutes_ago_is_accepted() {
    let (router, inbox, body) = sent_minutes_before(59);
    let (status, why) = post(router, body).await;
    assert_eq!(status, StatusCode::OK, "{why}");
    assert_eq!(inbox.bodies.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_signed_notification_stamped_10_minutes_in_the_future_is_refused() {
    let (router, inbox, body) = sent_minutes_before(-10);
    let (status, why) = post(router, body).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{why}");
    assert!(why.contains("10m ahead of this server's clock"), "{why}");
    assert!(inbox.bodies.lock().unwrap().is_empty(), "nothing stored");
}

#[tokio::test]
async fn a_stale_subscription_confirmation_is_refused_before_anything_is_fetched() {
    let inbox = Arc::new(Recorded::default());
    let router = endpoint_at(inbox, &[kit::TOPIC], kit::sent_at() + chrono::Duration::hours(2));
    let (status, why) = post(router, json(&kit::confirmation_v2())).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{why}");
    assert!(why.contains("refused as a replay"), "{why}");
}
