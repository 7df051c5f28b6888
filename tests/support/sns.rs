//! SNS as the end-to-end tests see it: [`FakeSns`] serves the test signing
//! certificate and the `SubscribeURL` on 127.0.0.1, and builds message
//! bodies signed the way SNS signs them, with the test key in
//! tests/fixtures/sns (test-only; see its README).
//!
//! The string to sign is built here from the JSON, independently of the
//! bot's code. Version 2 (SHA256withRSA) is signed with ring; version 1
//! (SHA1withRSA, which ring cannot sign) comes from the openssl-signed
//! fixtures, with `SigningCertURL` pointed at this server (it is not signed).
//! Bodies built here are stamped with the current time; the version 1
//! fixtures keep the time they were signed at (for the verifier only).
//! The bot must be configured with `cert_url_allow` = [`LOCAL_ALLOW`].

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use base64::Engine;
use rustls::pki_types::PrivatePkcs8KeyDer;
use rustls::pki_types::pem::PemObject;
use serde_json::{Value, json};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sns");
pub const TEST_CERT: &[u8] = include_bytes!("../fixtures/sns/test-cert.pem");
pub const TEST_KEY: &[u8] = include_bytes!("../fixtures/sns/test-key.pem");
pub const OTHER_KEY: &[u8] = include_bytes!("../fixtures/sns/other-key.pem");
/// `notifications.sns.cert_url_allow` for URLs of a [`FakeSns`].
pub const LOCAL_ALLOW: &str = r"^http://127\.0\.0\.1:\d+/";

#[derive(Default)]
struct Seen {
    cert_fetches: usize,
    confirmed_tokens: Vec<String>,
}

pub struct FakeSns {
    base: String,
    seen: Arc<Mutex<Seen>>,
}

impl FakeSns {
    pub async fn start() -> FakeSns {
        async fn cert(State(seen): State<Arc<Mutex<Seen>>>) -> &'static [u8] {
            seen.lock().unwrap().cert_fetches += 1;
            TEST_CERT
        }
        async fn confirm(State(seen): State<Arc<Mutex<Seen>>>, Query(q): Query<Vec<(String, String)>>) -> String {
            let token = q.into_iter().find(|(k, _)| k == "Token").map(|(_, v)| v).unwrap_or_default();
            seen.lock().unwrap().confirmed_tokens.push(token);
            "<ConfirmSubscriptionResponse/>".into()
        }
        let seen = Arc::new(Mutex::new(Seen::default()));
        let app = Router::new()
            .route("/SimpleNotificationService-test.pem", get(cert))
            .route("/", get(confirm))
            .with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let base = format!("http://{}", listener.local_addr().expect("local addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        FakeSns { base, seen }
    }

    pub fn cert_url(&self) -> String {
        format!("{}/SimpleNotificationService-test.pem", self.base)
    }

    pub fn cert_fetches(&self) -> usize {
        self.seen.lock().unwrap().cert_fetches
    }

    /// Tokens of the subscriptions the bot confirmed, in order.
    pub fn confirmed_tokens(&self) -> Vec<String> {
        self.seen.lock().unwrap().confirmed_tokens.clone()
    }

    /// A Notification body, SignatureVersion 2, signed with the test key.
    pub fn notification(&self, topic: &str, subject: Option<&str>, message: &str) -> Value {
        let mut body = json!({"Type": "Notification", "MessageId": message_id(message), "TopicArn": topic,
            "Message": message, "Timestamp": timestamp_now()});
        if let Some(subject) = subject {
            body["Subject"] = subject.into();
        }
        self.signed_v2(body, TEST_KEY)
    }

    /// A SubscriptionConfirmation body whose SubscribeURL is this server,
    /// SignatureVersion 2, signed with the test key.
    pub fn subscription_confirmation(&self, topic: &str, token: &str) -> Value {
        let body = json!({"Type": "SubscriptionConfirmation", "MessageId": message_id(token), "TopicArn": topic,
            "Token": token, "Message": format!("You have chosen to subscribe to the topic {topic}."),
            "SubscribeURL": format!("{}/?Action=ConfirmSubscription&TopicArn={topic}&Token={token}", self.base),
            "Timestamp": timestamp_now()});
        self.signed_v2(body, TEST_KEY)
    }

    /// A version 1 fixture (`notification-v1`, `subscription-confirmation-v1`)
    /// with its certificate served here.
    pub fn fixture_v1(&self, name: &str) -> Value {
        let text = std::fs::read_to_string(format!("{FIXTURES}/{name}.json")).expect("SNS fixture");
        let mut body: Value = serde_json::from_str(&text).expect("fixture JSON");
        body["SigningCertURL"] = self.cert_url().into();
        body
    }

    /// `body` (without signature fields) signed with SignatureVersion 2 by `key_pem`.
    pub fn signed_v2(&self, mut body: Value, key_pem: &[u8]) -> Value {
        let pkcs8 = PrivatePkcs8KeyDer::from_pem_slice(key_pem).expect("PKCS#8 PEM key");
        let key = ring::signature::RsaKeyPair::from_pkcs8(pkcs8.secret_pkcs8_der()).expect("RSA key");
        let mut signature = vec![0; key.public().modulus_len()];
        let text = string_to_sign(&body);
        key.sign(&ring::signature::RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), text.as_bytes(), &mut signature)
            .expect("signing");
        body["SignatureVersion"] = "2".into();
        body["Signature"] = base64::engine::general_purpose::STANDARD.encode(signature).into();
        body["SigningCertURL"] = self.cert_url().into();
        body
    }
}

/// "Key\nvalue\n" for the keys SNS signs for the body's Type, absent ones skipped.
fn string_to_sign(body: &Value) -> String {
    let keys: &[&str] = match body["Type"].as_str() {
        Some("Notification") => &["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
        _ => &["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"],
    };
    keys.iter().filter_map(|k| body[*k].as_str().map(|v| format!("{k}\n{v}\n"))).collect()
}

/// Now as SNS writes a `Timestamp` (the bot refuses messages over an hour old).
pub fn timestamp_now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A MessageId stable per content: the same message sent twice is a redelivery.
fn message_id(seed: &str) -> String {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut h = DefaultHasher::new();
    seed.hash(&mut h);
    format!("m-{:016x}", h.finish())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use opsbot::notify::intake::sns::SnsMessage;
    use opsbot::notify::intake::sns::confirm::ConfirmPolicy;
    use opsbot::notify::intake::sns::fetch::{HttpsCertSource, SnsHttp};
    use opsbot::notify::intake::sns::url::UrlAllow;
    use opsbot::notify::intake::sns::{SnsError, verify::SnsVerifier};
    use regex::Regex;

    use super::*;

    const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:opsbot-alarms";

    fn verifier() -> SnsVerifier {
        let certs = Arc::new(HttpsCertSource(SnsHttp::new().expect("client")));
        SnsVerifier::new(UrlAllow::Pattern(Regex::new(LOCAL_ALLOW).unwrap()), certs)
    }

    fn message(body: &Value) -> SnsMessage {
        SnsMessage::from_json(body.to_string().as_bytes()).expect("an SNS message")
    }

    #[tokio::test]
    async fn bodies_from_the_fake_sns_pass_the_bots_signature_check() {
        let sns = FakeSns::start().await;
        let verifier = verifier();
        for body in [
            sns.notification(TOPIC, Some("ALARM: \"shop-5xx\""), "{\"AlarmName\":\"shop-5xx\"}"),
            sns.notification(TOPIC, None, "line one\nline two"),
            sns.subscription_confirmation(TOPIC, "t-1"),
            sns.fixture_v1("notification-v1"),
            sns.fixture_v1("subscription-confirmation-v1"),
        ] {
            verifier.verify(&message(&body)).await.unwrap_or_else(|e| panic!("{body}: {e}"));
        }
        assert_eq!(sns.cert_fetches(), 1);
    }

    #[tokio::test]
    async fn a_body_signed_with_the_other_key_fails_the_check() {
        let sns = FakeSns::start().await;
        let mut body = sns.notification(TOPIC, None, "{}");
        body = sns.signed_v2(body, OTHER_KEY);
        let err = verifier().verify(&message(&body)).await.expect_err("other key");
        assert!(matches!(err, SnsError::BadSignature { .. }), "{err}");
    }

    #[tokio::test]
    async fn a_confirmed_subscription_reaches_the_fake_sns_with_its_token() {
        let sns = FakeSns::start().await;
        let msg = message(&sns.subscription_confirmation(TOPIC, "t-42"));
        let verified = verifier().verify(&msg).await.expect("signed");
        let policy = ConfirmPolicy::new([TOPIC.to_owned()], UrlAllow::Pattern(Regex::new(LOCAL_ALLOW).unwrap()));
        let confirmation = policy.decide(verified).expect("listed topic");
        confirmation.send(&SnsHttp::new().expect("client")).await.expect("confirmed");
        assert_eq!(sns.confirmed_tokens(), ["t-42"]);
    }
}
