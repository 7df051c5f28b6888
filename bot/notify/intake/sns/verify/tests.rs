//! The signature check against the test key: both versions verify, and
//! every kind of forgery, tampering and unsafe certificate URL is refused.

use std::sync::Arc;

use super::*;
use crate::notify::intake::sns::testkit::*;

fn verifier(certs: &Arc<MemoryCerts>) -> SnsVerifier {
    SnsVerifier::new(sns_allow(), certs.clone())
}

async fn check(msg: &SnsMessage) -> Result<(), SnsError> {
    verifier(&Arc::new(MemoryCerts::with_test_cert())).verify(msg).await.map(drop)
}

#[tokio::test]
async fn messages_signed_by_sns_verify_with_both_signature_versions() {
    for msg in [notification_v1(), confirmation_v1(), notification_v2_openssl(), notification_v2(), confirmation_v2()] {
        let certs = Arc::new(MemoryCerts::with_test_cert());
        let verified = verifier(&certs).verify(&msg).await;
        let verified = verified.unwrap_or_else(|e| panic!("{:?} v{}: {e}", msg.kind, msg.signature_version));
        assert_eq!(verified.message().message_id, msg.message_id);
    }
}

#[tokio::test]
async fn an_unsubscribe_confirmation_is_signed_like_a_subscription_confirmation() {
    let mut msg = confirmation_v1();
    msg.kind = SnsType::UnsubscribeConfirmation;
    check(&signed_v2(msg, TEST_KEY)).await.expect("verifies");
}

/// What was changed, and how.
type Tampering = (&'static str, fn(&mut SnsMessage));

#[tokio::test]
async fn a_tampered_message_subject_topic_or_timestamp_is_refused() {
    let tamperings: [Tampering; 5] = [
        ("Message", |m| m.message.push(' ')),
        ("Subject", |m| m.subject = Some("OK: all good".into())),
        ("Subject removed", |m| m.subject = None),
        ("TopicArn", |m| m.topic_arn = "arn:aws:sns:us-east-1:999999999999:opsbot-alarms".into()),
        ("Timestamp", |m| m.timestamp = "2026-11-22T09:00:00.000Z".into()),
    ];
    for original in [notification_v1(), notification_v2_openssl(), notification_v2()] {
        for (what, tamper) in tamperings {
            let mut msg = original.clone();
            tamper(&mut msg);
            let err = check(&msg).await.expect_err(what);
            assert!(matches!(err, SnsError::BadSignature { .. }), "{what} v{}: {err}", msg.signature_version);
        }
    }
}

#[tokio::test]
async fn a_confirmation_pointing_at_another_subscribe_url_or_token_is_refused() {
    for original in [confirmation_v1(), confirmation_v2()] {
        let mut msg = original.clone();
        msg.subscribe_url = Some("https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=evil".into());
        assert!(matches!(check(&msg).await, Err(SnsError::BadSignature { .. })));
        let mut msg = original;
        msg.token = Some("evil".into());
        assert!(matches!(check(&msg).await, Err(SnsError::BadSignature { .. })));
    }
}

#[tokio::test]
async fn a_forged_signature_is_refused() {
    let mut msg = notification_v2();
    msg.signature = base64::engine::general_purpose::STANDARD.encode([7u8; 256]);
    let err = check(&msg).await.expect_err("forged");
    assert!(matches!(err, SnsError::BadSignature { .. }), "{err}");
    assert!(err.to_string().contains(&msg.message_id), "{err}");
}

#[tokio::test]
async fn a_signature_made_with_another_key_is_refused() {
    let msg = signed_v2(notification_v1(), OTHER_KEY);
    assert!(matches!(check(&msg).await, Err(SnsError::BadSignature { .. })));
}

#[tokio::test]
async fn a_version_1_signature_presented_as_version_2_is_refused() {
    let mut msg = notification_v1();
    msg.signature_version = "2".into();
    assert!(matches!(check(&msg).await, Err(SnsError::BadSignature { .. })));
}

#[tokio::test]
async fn a_message_signed_like_moto_signs_one_with_a_subject_is_refused() {
    // moto leaves Subject out of the string to sign (see /work/shared/notes).
    let mut msg = signed_v2(SnsMessage { subject: None, ..notification_v1() }, TEST_KEY);
    msg.subject = Some("ALARM".into());
    assert!(matches!(check(&msg).await, Err(SnsError::BadSignature { .. })));
}

#[tokio::test]
async fn an_unknown_signature_version_is_refused_before_any_fetch() {
    let certs = Arc::new(MemoryCerts::with_test_cert());
    for version in ["3", "", "SHA256"] {
        let msg = SnsMessage { signature_version: version.into(), ..notification_v2() };
        let err = verifier(&certs).verify(&msg).await.expect_err(version);
        assert!(matches!(&err, SnsError::UnknownSignatureVersion { version: v, .. } if v == version), "{err}");
    }
    assert_eq!(certs.fetches(), 0);
}

#[tokio::test]
async fn a_signature_that_is_not_base64_is_refused() {
    let msg = SnsMessage { signature: "not base64!".into(), ..notification_v2() };
    let err = check(&msg).await.expect_err("bad base64");
    assert!(matches!(err, SnsError::SignatureNotBase64 { .. }), "{err}");
}

#[tokio::test]
async fn a_confirmation_without_its_token_or_subscribe_url_is_refused_saying_which() {
    let no_token = SnsMessage { token: None, ..confirmation_v2() };
    let err = check(&no_token).await.expect_err("no token");
    assert!(matches!(err, SnsError::MissingField { field: "Token", .. }), "{err}");
    let no_url = SnsMessage { subscribe_url: None, ..confirmation_v2() };
    let err = check(&no_url).await.expect_err("no SubscribeURL");
    assert_eq!(
        err.to_string(),
        "SNS SubscriptionConfirmation 165545c9-2a5c-472c-8df2-7ff2be2b3b1b has no SubscribeURL, \
         which is part of what is signed; refusing it"
    );
}

#[tokio::test]
async fn a_certificate_url_outside_the_allow_list_is_refused_without_fetching() {
    let evil = "https://attacker.example/SimpleNotificationService-test.pem";
    let certs = Arc::new(MemoryCerts::with_test_cert().serving(evil, TEST_CERT));
    for url in [evil, "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem"] {
        let msg = SnsMessage { signing_cert_url: url.into(), ..notification_v2() };
        let err = verifier(&certs).verify(&msg).await.expect_err(url);
        assert!(matches!(&err, SnsError::CertUrlNotAllowed { url: u, .. } if u == url), "{err}");
    }
    assert_eq!(certs.fetches(), 0);
}

#[tokio::test]
async fn a_certificate_that_is_not_pem_is_refused_and_fetched_again_next_time() {
    let certs = Arc::new(MemoryCerts::default().serving(CERT_URL, b"<html>not a certificate</html>"));
    let verifier = verifier(&certs);
    for _ in 0..2 {
        let err = verifier.verify(&notification_v2()).await.expect_err("malformed PEM");
        assert!(matches!(err, SnsError::BadCertificate { .. }), "{err}");
    }
    assert_eq!(certs.fetches(), 2);
}

#[tokio::test]
async fn a_pem_whose_certificate_is_garbage_is_refused() {
    let pem = b"-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n";
    let certs = Arc::new(MemoryCerts::default().serving(CERT_URL, pem));
    let err = verifier(&certs).verify(&notification_v2()).await.expect_err("garbage DER");
    assert!(matches!(err, SnsError::BadCertificate { .. }), "{err}");
}

#[tokio::test]
async fn a_failed_certificate_fetch_is_not_cached() {
    let certs = Arc::new(MemoryCerts::with_test_cert().failing_first(1));
    let verifier = verifier(&certs);
    let err = verifier.verify(&notification_v2()).await.expect_err("first fetch fails");
    assert!(matches!(err, SnsError::CertFetch { .. }), "{err}");
    verifier.verify(&notification_v2()).await.expect("second fetch succeeds");
    assert_eq!(certs.fetches(), 2);
}

#[tokio::test]
async fn one_certificate_fetch_serves_many_messages() {
    let certs = Arc::new(MemoryCerts::with_test_cert());
    let verifier = verifier(&certs);
    verifier.verify(&notification_v1()).await.expect("first");
    verifier.verify(&confirmation_v2()).await.expect("second");
    assert_eq!(certs.fetches(), 1);
}

#[tokio::test]
async fn the_certificate_cache_keeps_only_the_most_recent_urls() {
    let url = |i: usize| format!("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-{i}.pem");
    let certs = (0..=CERT_CACHE_CAPACITY).fold(MemoryCerts::default(), |c, i| c.serving(&url(i), TEST_CERT));
    let certs = Arc::new(certs);
    let verifier = verifier(&certs);
    for i in (0..=CERT_CACHE_CAPACITY).chain([CERT_CACHE_CAPACITY, 0]) {
        let msg = SnsMessage { signing_cert_url: url(i), ..notification_v2() };
        verifier.verify(&msg).await.expect("verifies");
    }
    // Every URL once, then the newest from cache, then the evicted first again.
    assert_eq!(certs.fetches(), CERT_CACHE_CAPACITY + 2);
}

#[test]
fn only_failures_on_our_side_ask_sns_to_retry() {
    let fetch = SnsError::CertFetch { url: CERT_URL.into(), reason: "answered HTTP 503".into() };
    assert!(fetch.is_transient());
    let forged = SnsError::BadSignature { message_id: "m-1".into(), url: CERT_URL.into() };
    assert!(!forged.is_transient());
    assert!(!SnsError::TopicNotAllowed { topic: TOPIC.into() }.is_transient());
}

#[tokio::test]
async fn a_certificate_whose_key_is_not_rsa_is_refused() {
    let ec_cert = include_bytes!("../../../../../tests/fixtures/sns/ec-cert.pem");
    let certs = Arc::new(MemoryCerts::default().serving(CERT_URL, ec_cert));
    let err = verifier(&certs).verify(&notification_v2()).await.expect_err("EC key");
    assert_eq!(
        err.to_string(),
        format!("{CERT_URL} is not a PEM X.509 certificate with an RSA key: its public key is not an RSA key")
    );
}
