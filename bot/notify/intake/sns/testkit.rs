//! Test support for the SNS endpoint's checks: the test key and certificate
//! (tests/fixtures/sns, test-only), messages signed the way SNS signs them,
//! an in-memory [`CertSource`] that counts fetches, and a local HTTP server
//! standing in for SNS (certificates and SubscribeURL).
//!
//! Version 1 messages are fixtures pre-signed with openssl (ring cannot sign
//! SHA1withRSA; see tests/fixtures/sns/make.sh), plus one openssl-signed
//! version 2 message; other version 2 messages are signed here with ring, so
//! tests can sign whatever they build.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use base64::Engine;
use bytes::Bytes;
use regex::Regex;
use rustls::pki_types::PrivatePkcs8KeyDer;
use rustls::pki_types::pem::PemObject;

use super::SnsError;
use super::SnsMessage;
use super::fetch::CertSource;
use super::url::UrlAllow;
use super::verify::string_to_sign;

pub const TEST_CERT: &[u8] = include_bytes!("../../../../tests/fixtures/sns/test-cert.pem");
pub const TEST_KEY: &[u8] = include_bytes!("../../../../tests/fixtures/sns/test-key.pem");
pub const OTHER_KEY: &[u8] = include_bytes!("../../../../tests/fixtures/sns/other-key.pem");
/// The `SigningCertURL` of the fixtures.
pub const CERT_URL: &str = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem";
pub const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:opsbot-alarms";
/// An allow-list for URLs of [`serve`]'s server.
pub const LOCAL_ALLOW: &str = r"^http://127\.0\.0\.1:\d+/";

/// When the fixtures were sent (their `Timestamp`).
pub fn sent_at() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-11-22T08:00:00.000Z").expect("a time").to_utc()
}

pub fn notification_v1() -> SnsMessage {
    parse(include_bytes!("../../../../tests/fixtures/sns/notification-v1.json"))
}

pub fn confirmation_v1() -> SnsMessage {
    parse(include_bytes!("../../../../tests/fixtures/sns/subscription-confirmation-v1.json"))
}

/// Version 2, signed by openssl: checks the verifier against a signer that is not ring.
pub fn notification_v2_openssl() -> SnsMessage {
    parse(include_bytes!("../../../../tests/fixtures/sns/notification-v2.json"))
}

pub fn notification_v2() -> SnsMessage {
    signed_v2(notification_v1(), TEST_KEY)
}

pub fn confirmation_v2() -> SnsMessage {
    signed_v2(confirmation_v1(), TEST_KEY)
}

fn parse(json: &[u8]) -> SnsMessage {
    SnsMessage::from_json(json).expect("fixture is an SNS message")
}

/// `msg` re-signed with SignatureVersion 2 (SHA256withRSA) by `key_pem`.
pub fn signed_v2(mut msg: SnsMessage, key_pem: &[u8]) -> SnsMessage {
    let pkcs8 = PrivatePkcs8KeyDer::from_pem_slice(key_pem).expect("PKCS#8 PEM key");
    let key = ring::signature::RsaKeyPair::from_pkcs8(pkcs8.secret_pkcs8_der()).expect("RSA key");
    let mut signature = vec![0; key.public().modulus_len()];
    let text = string_to_sign(&msg).expect("signable message");
    key.sign(&ring::signature::RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), text.as_bytes(), &mut signature)
        .expect("signing");
    msg.signature_version = "2".into();
    msg.signature = base64::engine::general_purpose::STANDARD.encode(signature);
    msg
}

/// The default allow-list: SNS hosts only.
pub fn sns_allow() -> UrlAllow {
    UrlAllow::SnsHosts
}

/// [`LOCAL_ALLOW`] as a configured allow-list.
pub fn local_allow() -> UrlAllow {
    UrlAllow::Pattern(Regex::new(LOCAL_ALLOW).expect("valid"))
}

/// Certificates from memory; counts fetches, can fail the first ones.
#[derive(Default)]
pub struct MemoryCerts {
    pems: HashMap<String, Bytes>,
    fail_first: AtomicUsize,
    fetches: AtomicUsize,
}

impl MemoryCerts {
    /// Serves the test certificate at [`CERT_URL`].
    pub fn with_test_cert() -> MemoryCerts {
        MemoryCerts::default().serving(CERT_URL, TEST_CERT)
    }

    pub fn serving(mut self, url: &str, pem: &[u8]) -> MemoryCerts {
        self.pems.insert(url.to_owned(), Bytes::copy_from_slice(pem));
        self
    }

    pub fn failing_first(self, n: usize) -> MemoryCerts {
        self.fail_first.store(n, Ordering::SeqCst);
        self
    }

    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl CertSource for MemoryCerts {
    async fn fetch(&self, url: &str) -> Result<Bytes, SnsError> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        let fail = self.fail_first.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
        match self.pems.get(url) {
            Some(pem) if !fail => Ok(pem.clone()),
            _ => Err(SnsError::CertFetch { url: url.to_owned(), reason: "answered HTTP 503".into() }),
        }
    }
}

/// Hits on the local server, and how many of the first ones fail with 503.
#[derive(Default)]
pub struct Hits {
    pub cert: AtomicUsize,
    pub confirm: AtomicUsize,
    pub fail_first: AtomicUsize,
}

/// Serves `/cert.pem` (the test certificate), `/confirm` (200) and
/// `/broken` (500) on 127.0.0.1; returns the base URL.
pub async fn serve(hits: Arc<Hits>) -> String {
    async fn cert(State(hits): State<Arc<Hits>>) -> Result<&'static [u8], StatusCode> {
        hits.cert.fetch_add(1, Ordering::SeqCst);
        match hits.fail_first.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)) {
            Ok(_) => Err(StatusCode::SERVICE_UNAVAILABLE),
            Err(_) => Ok(TEST_CERT),
        }
    }
    async fn confirm(State(hits): State<Arc<Hits>>) -> &'static str {
        hits.confirm.fetch_add(1, Ordering::SeqCst);
        "<ConfirmSubscriptionResponse/>"
    }
    let app = Router::new()
        .route("/cert.pem", get(cert))
        .route("/confirm", get(confirm))
        .route("/broken", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
        .with_state(hits);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let addr: SocketAddr = listener.local_addr().expect("local addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}
