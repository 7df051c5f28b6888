//! The AWS SDK's HTTP client, on the process's one TLS setup
//! ([`crate::https`]) instead of the SDK's own.
//!
//! # Decisions
//! - Why not the SDK's client (aws-smithy-http-client): it reads the system
//!   root certificates itself and keeps them for the life of the process
//!   (about 160 KB of certificates and 66 KB of parsed roots), beside the
//!   copy Slack, SNS and the declared-file fetches already share — a fifth of
//!   an idle replica's heap (massif, docs/benchmarks.md). One set of roots
//!   serves every HTTPS call the process makes.
//! - The SDK asks for a connector per set of timeouts
//!   ([`HttpConnectorSettings`]); each is made once and kept. The connect
//!   timeout bounds the TCP connect (and is what the SDK's own client does);
//!   the read timeout bounds the wait for the response's head.
//! - Errors are told to the SDK in its terms ([`ConnectorError`]): a failed
//!   connect, a connection closed or reset, or any I/O error is `io` (the SDK
//!   retries those as transient), an elapsed timeout is `timeout`, the rest
//!   `other`; the same split as the SDK's own client.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::https::Connector;

/// The client [`super::loader`] gives the SDK.
pub fn client() -> SharedHttpClient {
    SharedHttpClient::new(SdkHttp::default())
}

/// A connector's (connect, read) timeouts.
type Timeouts = (Option<Duration>, Option<Duration>);

/// Connectors by their timeouts.
#[derive(Debug, Default)]
struct SdkHttp {
    made: Mutex<HashMap<Timeouts, SharedHttpConnector>>,
}

impl HttpClient for SdkHttp {
    fn http_connector(&self, settings: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
        self.connector(settings.connect_timeout(), settings.read_timeout())
    }
}

impl SdkHttp {
    fn connector(&self, connect: Option<Duration>, read: Option<Duration>) -> SharedHttpConnector {
        let mut made = self.made.lock().unwrap_or_else(PoisonError::into_inner);
        made.entry((connect, read))
            .or_insert_with(|| SharedHttpConnector::new(SdkConnector::new(connect, read)))
            .clone()
    }
}

/// One pool of connections, with its timeouts.
#[derive(Debug)]
struct SdkConnector {
    /// `None` when the system has no usable root certificate: every call
    /// then fails with why, as Slack's and SNS's calls do.
    client: Result<Client<Connector, SdkBody>, Arc<std::io::Error>>,
    read_timeout: Option<Duration>,
}

impl SdkConnector {
    fn new(connect_timeout: Option<Duration>, read_timeout: Option<Duration>) -> Self {
        let client = crate::https::connector_timing_out(connect_timeout)
            .map(|connector| Client::builder(TokioExecutor::new()).build(connector))
            .map_err(Arc::new);
        SdkConnector { client, read_timeout }
    }
}

impl HttpConnector for SdkConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let client = match &self.client {
            Ok(client) => client.clone(),
            Err(err) => return HttpConnectorFuture::ready(Err(ConnectorError::other(err.clone().into(), None))),
        };
        let request = match request.try_into_http1x() {
            Ok(request) => request,
            Err(err) => return HttpConnectorFuture::ready(Err(ConnectorError::user(err.into()))),
        };
        let read_timeout = self.read_timeout;
        HttpConnectorFuture::new(async move {
            let answer = client.request(request);
            let response = match read_timeout {
                Some(limit) => match tokio::time::timeout(limit, answer).await {
                    Ok(response) => response,
                    Err(elapsed) => return Err(ConnectorError::timeout(elapsed.into())),
                },
                None => answer.await,
            };
            let response = response.map_err(classify)?;
            HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
                .map_err(|err| ConnectorError::other(err.into(), None))
        })
    }
}

/// A failed call in the SDK's terms (see the module's decisions).
fn classify(err: hyper_util::client::legacy::Error) -> ConnectorError {
    let io = err.is_connect() || source::<std::io::Error>(&err).is_some();
    let hyper = source::<hyper::Error>(&err);
    let timeout = hyper.is_some_and(hyper::Error::is_timeout);
    let dropped = hyper.is_some_and(|e| e.is_closed() || e.is_canceled() || e.is_incomplete_message());
    match () {
        () if timeout => ConnectorError::timeout(err.into()),
        () if io || dropped => ConnectorError::io(err.into()),
        () => ConnectorError::other(err.into(), None),
    }
}

/// The first error of type `E` in `err`'s chain.
fn source<'a, E: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a E> {
    let mut next = Some(err);
    while let Some(err) = next {
        if let Some(found) = err.downcast_ref::<E>() {
            return Some(found);
        }
        next = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(url: &str) -> HttpRequest {
        let request = axum::http::Request::get(url).body(SdkBody::empty()).unwrap();
        HttpRequest::try_from(request).unwrap()
    }

    #[tokio::test]
    async fn a_refused_connection_is_an_io_error_the_sdk_retries() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let connector = SdkConnector::new(Some(Duration::from_secs(1)), None);

        let err = connector.call(get(&format!("http://127.0.0.1:{port}/"))).await.unwrap_err();

        assert!(err.is_io(), "{err:?}");
    }

    #[tokio::test]
    async fn a_server_that_never_answers_is_a_timeout_after_the_read_timeout() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let _silent = tokio::spawn(async move {
            let (_socket, _) = listener.accept().await.unwrap();
            std::future::pending::<()>().await
        });
        let connector = SdkConnector::new(None, Some(Duration::from_millis(200)));

        let err = connector.call(get(&url)).await.unwrap_err();

        assert!(err.is_timeout(), "{err:?}");
    }

    #[tokio::test]
    async fn one_connector_is_made_per_set_of_timeouts_and_kept() {
        let client = SdkHttp::default();
        let fast = Some(Duration::from_secs(1));

        client.connector(fast, None);
        client.connector(fast, None);
        client.connector(None, None);

        assert_eq!(client.made.lock().unwrap().len(), 2);
    }
}
