//! The one TLS setup for what opsbot connects to itself: Slack's Web API and
//! `response_url`s, Slack's Socket Mode WebSockets, and the SNS signing
//! certificates and subscription confirmations. (The AWS SDK has its own,
//! see [`crate::aws`].)
//!
//! rustls with the system's root certificates, read once per process:
//! reading them means parsing the whole system bundle and keeping a copy of
//! the roots (about 50 KiB, plus a few hundred KiB of parsing garbage the
//! allocator keeps), and the Slack clients, the SNS client and every Socket
//! Mode (re)connection used to do it each on their own. Plain HTTP and `ws://`
//! are allowed too, for a local fake Slack or a proxy; which URLs may be
//! fetched is each caller's decision.

use std::sync::{Arc, OnceLock};

use hyper_rustls::{ConfigBuilderExt, HttpsConnector};
use hyper_util::client::legacy::connect::HttpConnector;
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
    let tls = ClientConfig::clone(&*tls_config()?);
    Ok(hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http().enable_http1().build())
}
