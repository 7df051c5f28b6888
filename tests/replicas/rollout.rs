//! An ECS rollout that takes its time, in front of moto: moto starts every
//! task of a scaled service at once, so a `scale` is done at its first check
//! and never seen running. This proxy forwards every ECS call to moto
//! unchanged, except that while the rollout is [held](SlowRollout::release)
//! `DescribeServices` answers as ECS does right after a scale-up: none of
//! the service's tasks has started yet (`runningCount` 0, all of
//! `desiredCount` pending, the deployment `IN_PROGRESS`). Releasing it lets
//! moto's answer through: every task running, the rollout done.
//!
//! It also counts `DescribeServices` calls, so a test can tell when somebody
//! (the one replica left) looks at the service.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, Full};
use serde_json::Value;

const DESCRIBE_SERVICES: &str = "AmazonEC2ContainerServiceV20141113.DescribeServices";

struct Shared {
    moto: String,
    held: AtomicBool,
    describes: AtomicUsize,
}

/// The running proxy; stops when dropped.
pub struct SlowRollout {
    pub url: String,
    shared: Arc<Shared>,
    server: tokio::task::AbortHandle,
}

impl SlowRollout {
    /// Starts the proxy in front of `moto` (`http://127.0.0.1:PORT`), held.
    pub async fn start(moto: &str) -> SlowRollout {
        let shared =
            Arc::new(Shared { moto: moto.to_owned(), held: AtomicBool::new(true), describes: AtomicUsize::new(0) });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the ECS proxy");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let router = axum::Router::new().fallback(forward).with_state(shared.clone());
        let server = tokio::spawn(async move { axum::serve(listener, router).await.expect("ECS proxy serves") });
        SlowRollout { url, shared, server: server.abort_handle() }
    }

    /// From now on every task the service wants is running.
    pub fn release(&self) {
        self.shared.held.store(false, Ordering::SeqCst);
    }

    /// How many `DescribeServices` calls came through so far.
    pub fn describes(&self) -> usize {
        self.shared.describes.load(Ordering::SeqCst)
    }
}

impl Drop for SlowRollout {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn forward(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let describe = headers.get("x-amz-target").is_some_and(|t| t == DESCRIBE_SERVICES);
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    let mut request = axum::http::Request::builder().method(method).uri(format!("{}{uri}", shared.moto));
    for (name, value) in headers.iter().filter(|(name, _)| *name != "host" && *name != "content-length") {
        request = request.header(name, value);
    }
    let answer = match client.request(request.body(Full::new(body)).expect("request")).await {
        Ok(answer) => answer,
        Err(err) => return (StatusCode::BAD_GATEWAY, format!("ECS proxy: moto unreachable: {err}")).into_response(),
    };
    let (parts, body) = answer.into_parts();
    let mut body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    if describe {
        shared.describes.fetch_add(1, Ordering::SeqCst);
        if shared.held.load(Ordering::SeqCst) && parts.status.is_success() {
            body = not_started_yet(&body);
        }
    }
    let mut response = Response::builder().status(parts.status);
    for (name, value) in parts.headers.iter().filter(|(name, _)| *name != "content-length") {
        response = response.header(name, value);
    }
    response.body(axum::body::Body::from(body)).expect("response")
}

/// `DescribeServices`' answer as it is while no task of a scale-up started.
fn not_started_yet(body: &[u8]) -> Bytes {
    let Ok(mut answer) = serde_json::from_slice::<Value>(body) else { return Bytes::copy_from_slice(body) };
    for service in answer["services"].as_array_mut().into_iter().flatten() {
        let desired = service["desiredCount"].clone();
        let pending = desired.as_i64().unwrap_or(0) > 0;
        service["runningCount"] = 0.into();
        service["pendingCount"] = desired;
        for deployment in service["deployments"].as_array_mut().into_iter().flatten() {
            deployment["runningCount"] = 0.into();
            deployment["pendingCount"] = deployment["desiredCount"].clone();
            if pending {
                deployment["rolloutState"] = "IN_PROGRESS".into();
            }
        }
    }
    Bytes::from(answer.to_string())
}
