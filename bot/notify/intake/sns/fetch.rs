//! What the SNS endpoint fetches from the network, and from where it may:
//! the signing certificate at `SigningCertURL` and, to confirm a
//! subscription, a GET of `SubscribeURL`.
//!
//! # Decisions
//! - Every URL taken from a message is checked against a
//!   [`super::url::UrlAllow`] before anything is fetched; the default
//!   only admits HTTPS to `sns.<region>.amazonaws.com[.cn]`, AWS's advice in
//!   "Verifying the signatures of Amazon SNS messages" (fetch the certificate
//!   over HTTPS, only from SNS).
//! - Trust in the certificate comes from where it was fetched (HTTPS to an SNS
//!   host, validated against the system roots), not from its own chain.
//! - One client for both fetches: HTTPS in production, plain HTTP as well so
//!   tests can serve a local `http://127.0.0.1` when their allow-list says so.
//!   Redirects are not followed, bodies are capped and every GET times out.
//! - [`CertSource`] is the seam: the verifier caches what it returns, tests
//!   swap in an in-memory source that counts fetches.

use super::SnsError;
use crate::https::Getter;
use async_trait::async_trait;
use bytes::Bytes;

/// Certificates are about 2 KiB; SubscribeURL answers a short XML document.
const BODY_LIMIT: usize = 64 * 1024;

/// Where signing certificates come from. The URL has already passed the
/// allow-list; the answer is the PEM text, unparsed.
#[async_trait]
pub trait CertSource: Send + Sync {
    async fn fetch(&self, url: &str) -> Result<Bytes, SnsError>;
}

/// The HTTP(S) client for SNS fetches.
#[derive(Clone)]
pub struct SnsHttp {
    getter: Getter,
}

impl SnsHttp {
    pub fn new() -> Result<SnsHttp, SnsError> {
        Ok(SnsHttp { getter: Getter::new(BODY_LIMIT)? })
    }

    /// GETs `url` and returns the body of a 2xx answer; anything else is a
    /// reason (status, network error, timeout, oversized body) in words.
    pub async fn get(&self, url: &str) -> Result<Bytes, String> {
        self.getter.get(url).await
    }
}

/// Fetches certificates with [`SnsHttp`].
pub struct HttpsCertSource(pub SnsHttp);

#[async_trait]
impl CertSource for HttpsCertSource {
    async fn fetch(&self, url: &str) -> Result<Bytes, SnsError> {
        self.0.get(url).await.map_err(|reason| SnsError::CertFetch { url: url.to_owned(), reason })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::Ordering;

    use super::*;
    use crate::notify::intake::sns::SnsMessage;
    use crate::notify::intake::sns::testkit::*;
    use crate::notify::intake::sns::verify::SnsVerifier;

    fn local_verifier() -> SnsVerifier {
        let source = HttpsCertSource(SnsHttp::new().expect("client"));
        SnsVerifier::new(local_allow(), Arc::new(source))
    }

    #[tokio::test]
    async fn the_https_source_fetches_the_certificate_once_for_many_messages() {
        let hits = Arc::new(Hits::default());
        let base = serve(hits.clone()).await;
        let verifier = local_verifier();
        for msg in [notification_v1(), confirmation_v2()] {
            let msg = SnsMessage { signing_cert_url: format!("{base}/cert.pem"), ..msg };
            verifier.verify(&msg).await.expect("verifies with the served certificate");
        }
        assert_eq!(hits.cert.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_certificate_server_error_is_reported_and_the_next_message_fetches_again() {
        let hits = Arc::new(Hits::default());
        hits.fail_first.store(1, Ordering::SeqCst);
        let base = serve(hits.clone()).await;
        let verifier = local_verifier();
        let msg = SnsMessage { signing_cert_url: format!("{base}/cert.pem"), ..notification_v2() };
        let err = verifier.verify(&msg).await.expect_err("503");
        assert!(err.to_string().contains("answered HTTP 503 Service Unavailable"), "{err}");
        verifier.verify(&msg).await.expect("second fetch succeeds");
        assert_eq!(hits.cert.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn an_unreachable_certificate_host_is_a_fetch_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/cert.pem", listener.local_addr().expect("addr"));
        drop(listener);
        let msg = SnsMessage { signing_cert_url: url.clone(), ..notification_v2() };
        let err = local_verifier().verify(&msg).await.expect_err("nobody listens");
        assert!(matches!(&err, SnsError::CertFetch { url: u, .. } if *u == url), "{err}");
    }
}
