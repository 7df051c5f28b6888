//! `opsbot probe`: GETs the bot's own `/healthz` (or `/readyz` with
//! `--ready`) and exits 0 on a 2xx answer, 1 otherwise. It is the container
//! image's `HEALTHCHECK`: the image has no curl or wget, and adding one for
//! this would ship a second HTTP client and its libraries in every image.
//!
//! Without `--url` it asks where `serve` listens (`server.listen`,
//! `OPSBOT_LISTEN`), on loopback when that is every interface (`0.0.0.0`,
//! `::`), as it is inside the image. Plain HTTP only: the listener speaks
//! nothing else.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use axum::http::Uri;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::settings::SettingsError;

/// The answer's body is shown up to this many bytes (a 503's reasons).
const SHOWN: usize = 500;

/// `opsbot probe`.
#[derive(Debug, clap::Args)]
pub struct Probe {
    /// Ask /readyz (ready for work: not stopping, store reachable, Slack
    /// connected) instead of /healthz (the process answers).
    #[arg(long)]
    pub ready: bool,
    /// The URL to GET instead of the configured listen address's.
    #[arg(long, conflicts_with = "ready")]
    pub url: Option<String>,
    /// Give up after this long (seconds or minutes: 2s, 1m).
    #[arg(long, default_value = "2s", value_parser = duration)]
    pub timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("`{0}` is not an http:// URL to probe")]
    Url(String),
    #[error("{url} did not answer within {} s", .within.as_secs())]
    Timeout { url: String, within: Duration },
    #[error("{url} did not answer: {why}")]
    Unreachable { url: String, why: String },
    #[error("{url} answered {status}: {body}")]
    Unhealthy { url: String, status: u16, body: String },
}

fn duration(raw: &str) -> Result<Duration, String> {
    opsbot_policies::parse_duration(raw).ok_or_else(|| format!("`{raw}` is not a duration: write it like 2s"))
}

impl Probe {
    /// The URL to ask: `--url`, else on where `serve` listens (read only then:
    /// a given URL needs no settings).
    pub fn url(&self, listen: impl FnOnce() -> Result<SocketAddr, SettingsError>) -> Result<String, SettingsError> {
        if let Some(url) = &self.url {
            return Ok(url.clone());
        }
        let listen = listen()?;
        let ip = match listen.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        let path = if self.ready { "/readyz" } else { "/healthz" };
        Ok(format!("http://{}{path}", SocketAddr::new(ip, listen.port())))
    }
}

/// GETs `url`; the status and body of a 2xx answer, in a line.
pub async fn run(url: &str, within: Duration) -> Result<String, ProbeError> {
    let uri: Uri = url.parse().map_err(|_| ProbeError::Url(url.to_owned()))?;
    if uri.scheme_str() != Some("http") {
        return Err(ProbeError::Url(url.to_owned()));
    }
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let ask = async {
        let res = client.get(uri).await.map_err(|e| e.to_string())?;
        let status = res.status().as_u16();
        let body = res.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
        Ok::<_, String>((status, body))
    };
    let (status, body) = match tokio::time::timeout(within, ask).await {
        Err(_) => return Err(ProbeError::Timeout { url: url.to_owned(), within }),
        Ok(Err(why)) => return Err(ProbeError::Unreachable { url: url.to_owned(), why }),
        Ok(Ok(answer)) => answer,
    };
    let body: String = String::from_utf8_lossy(&body).trim().chars().take(SHOWN).collect();
    match status {
        200..=299 => Ok(format!("{url}: {status} {body}")),
        _ => Err(ProbeError::Unhealthy { url: url.to_owned(), status, body }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(ready: bool) -> Probe {
        Probe { ready, url: None, timeout: Duration::from_secs(2) }
    }

    #[test]
    fn a_listener_on_every_interface_is_probed_on_loopback_and_a_given_one_as_it_is() {
        let at = |raw: &str| probe(false).url(|| Ok(raw.parse().unwrap())).unwrap();
        assert_eq!(at("0.0.0.0:8080"), "http://127.0.0.1:8080/healthz");
        assert_eq!(at("[::]:9000"), "http://[::1]:9000/healthz");
        assert_eq!(at("10.0.0.5:8080"), "http://10.0.0.5:8080/healthz");
        let ready = probe(true).url(|| Ok(SocketAddr::from(([0, 0, 0, 0], 8080)))).unwrap();
        assert_eq!(ready, "http://127.0.0.1:8080/readyz");
        let given = Probe { url: Some("http://127.0.0.1:1/x".into()), ..probe(false) };
        assert_eq!(given.url(|| panic!("settings are not read")).unwrap(), "http://127.0.0.1:1/x");
    }

    #[tokio::test]
    async fn nothing_listening_fails_the_probe_saying_where_it_asked() {
        // Port 9 (discard) has no listener here: the connection is refused.
        let err = run("http://127.0.0.1:9/healthz", Duration::from_secs(2)).await.unwrap_err().to_string();
        assert!(err.starts_with("http://127.0.0.1:9/healthz did not answer"), "{err}");
        let err = run("https://127.0.0.1:9/healthz", Duration::from_secs(2)).await.unwrap_err().to_string();
        assert!(err.contains("is not an http:// URL"), "{err}");
    }
}
