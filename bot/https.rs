//! The one TLS setup for what opsbot connects to itself: Slack's Web API and
//! `response_url`s, Slack's Socket Mode WebSockets, and the SNS signing
//! certificates and subscription confirmations, and declared parameter
//! files behind a URL ([`Getter`]), and the AWS SDK's calls (`aws/http.rs`).
//!
//! rustls with the system's root certificates, read once per process:
//! reading them means parsing the whole system bundle and keeping a copy of
//! the roots (about 50 KiB, plus a few hundred KiB of parsing garbage the
//! allocator keeps), and the Slack clients, the SNS client and every Socket
//! Mode (re)connection used to do it each on their own. Plain HTTP and `ws://`
//! are allowed too, for a local fake Slack or a proxy; which URLs may be
//! fetched is each caller's decision.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::http::Uri;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::{ConfigBuilderExt, HttpsConnector};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::ClientConfig;

pub type Connector = HttpsConnector<HttpConnector>;

/// The process's TLS client configuration. Fails when the system has no
/// usable root certificate (install the `ca-certificates` package); a failed
/// attempt is tried again next time.
pub fn tls_config() -> std::io::Result<Arc<ClientConfig>> {
    static TLS: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    if let Some(tls) = TLS.get() {
        return Ok(tls.clone());
    }
    let loaded = Arc::new(ClientConfig::builder().with_native_roots()?.with_no_client_auth());
    Ok(TLS.get_or_init(|| loaded).clone())
}

/// An HTTP(S) connector on [`tls_config`] (its roots are shared, not copied).
pub fn connector() -> std::io::Result<Connector> {
    connector_timing_out(None)
}

/// [`connector`], giving up on a TCP connect after `connect_timeout` (the
/// AWS SDK's setting; `None`: the system's own limit).
pub fn connector_timing_out(connect_timeout: Option<Duration>) -> std::io::Result<Connector> {
    let tls = ClientConfig::clone(&*tls_config()?);
    let mut tcp = HttpConnector::new();
    tcp.enforce_http(false);
    tcp.set_connect_timeout(connect_timeout);
    Ok(hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(tcp))
}

/// How long a [`Getter`] waits for a whole answer.
const GET_TIMEOUT: Duration = Duration::from_secs(10);

/// GETs small documents (SNS certificates and confirmations, declared
/// parameter files): redirects are not followed, bodies are capped at
/// `limit` bytes and every GET times out.
#[derive(Clone)]
pub struct Getter {
    client: Client<Connector, Empty<Bytes>>,
    limit: usize,
}

impl Getter {
    pub fn new(limit: usize) -> std::io::Result<Getter> {
        Ok(Getter { client: Client::builder(TokioExecutor::new()).build(connector()?), limit })
    }

    /// The body of a 2xx answer to a GET of `url`; anything else is a reason
    /// (status, network error, timeout, oversized body) in words.
    pub async fn get(&self, url: &str) -> Result<Bytes, String> {
        let uri: Uri = url.parse().map_err(|e| format!("not a URL: {e}"))?;
        let call = async {
            let res = self.client.get(uri).await.map_err(|e| format!("request failed: {e}"))?;
            let status = res.status();
            let body = Limited::new(res.into_body(), self.limit)
                .collect()
                .await
                .map_err(|e| format!("reading the answer failed: {e}"))?
                .to_bytes();
            match status.is_success() {
                true => Ok(body),
                false => Err(format!("answered HTTP {status}")),
            }
        };
        tokio::time::timeout(GET_TIMEOUT, call)
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {}s", GET_TIMEOUT.as_secs())))
    }
}
