//! A throttling proxy in front of an AWS emulator: every other request is
//! answered HTTP 400 `ThrottlingException` without reaching the emulator, the
//! rest are passed through unchanged. The refusal has the shape of the
//! request's protocol, so the SDK reads the error code as AWS sends it and
//! its retry classifier (`aws-runtime`'s `THROTTLING_ERRORS`) retries it as
//! throttling:
//! - JSON 1.0 / 1.1 (an `X-Amz-Target` header; SQS, CodePipeline, ECS, SSM):
//!   `{"__type":"ThrottlingException","message":"Rate exceeded"}`;
//! - query (a form body with `Action=`; STS, CloudWatch): the XML
//!   `ErrorResponse` with `<Code>Throttling</Code>`.
//!
//! Bound to 127.0.0.1; dropping the handle stops it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::task::AbortHandle;

pub struct Throttle {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    server: AbortHandle,
}

struct Shared {
    upstream: String,
    requests: AtomicU64,
    throttled: AtomicU64,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Throttle {
    /// Starts a proxy to `upstream` (`http://127.0.0.1:PORT`) that throttles
    /// the 1st, 3rd, 5th, ... request.
    pub async fn start(upstream: &str) -> Throttle {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("throttle: bind");
        let addr = listener.local_addr().expect("bound");
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            requests: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
            client: Client::builder(TokioExecutor::new()).build_http(),
        });
        let router = axum::Router::new().fallback(forward).with_state(shared.clone());
        let server = tokio::spawn(async move { axum::serve(listener, router).await.expect("throttle serves") });
        Throttle { addr, shared, server: server.abort_handle() }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests answered with a throttling error so far.
    pub fn throttled(&self) -> u64 {
        self.shared.throttled.load(Ordering::SeqCst)
    }

    /// Requests passed through to the emulator so far.
    pub fn passed(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst) - self.throttled()
    }
}

impl Drop for Throttle {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn forward(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let n = shared.requests.fetch_add(1, Ordering::SeqCst);
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    if n % 2 == 0 {
        shared.throttled.fetch_add(1, Ordering::SeqCst);
        return throttling(parts.headers.contains_key("x-amz-target"));
    }
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut upstream = axum::http::Request::builder().method(parts.method).uri(format!("{}{path}", shared.upstream));
    for (name, value) in &parts.headers {
        if name != header::HOST {
            upstream = upstream.header(name, value);
        }
    }
    let upstream = upstream.body(Full::new(body)).expect("a request");
    match shared.client.request(upstream).await {
        Ok(res) => {
            let (parts, body) = res.into_parts();
            let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            Response::from_parts(parts, Body::from(body))
        }
        Err(e) => (StatusCode::BAD_GATEWAY, format!("throttle: the emulator is unreachable: {e}")).into_response(),
    }
}

/// AWS's throttling answer in the request's protocol.
fn throttling(json: bool) -> Response {
    let (content_type, body) = if json {
        ("application/x-amz-json-1.0", r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.to_owned())
    } else {
        let xml = "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message>\
                   </Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>";
        ("text/xml", xml.to_owned())
    };
    let mut res = (StatusCode::BAD_REQUEST, body).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}
