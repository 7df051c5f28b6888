//! [`AwsCalls`]: an AWS SDK interceptor that counts and times every call a
//! client makes, by the SDK's own service and operation names (`SSM`,
//! `GetParameter`), into [`Metrics`]. Added to every SDK client the bot
//! builds (`aws::gateways`, the assumed-role gateways, SQS, DynamoDB), so no
//! gateway has to remember to count.
//!
//! One execution is one count: from before the request is built to after the
//! last attempt, so the time includes the SDK's retries and the result is the
//! final one. Throttling is told by a 429 or by an error type naming it
//! (`x-amzn-errortype: ThrottlingException`, `x-amzn-query-error:
//! Throttling;Sender`), which is how the JSON, query and CBOR protocols say it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

use super::{CallResult, Metrics};

/// Counts every call of the client it is added to (`Default`: into metrics
/// nobody reads, for tools and tests that build gateways without an app).
#[derive(Clone, Default)]
pub struct AwsCalls(pub Arc<Metrics>);

impl std::fmt::Debug for AwsCalls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AwsCalls")
    }
}

/// When the execution started, kept in its config bag.
#[derive(Debug, Clone, Copy)]
struct Started(Instant);

impl Storable for Started {
    type Storer = StoreReplace<Self>;
}

impl Intercept for AwsCalls {
    fn name(&self) -> &'static str {
        "opsbot AWS call metrics"
    }

    fn read_before_execution(
        &self,
        _: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(Started(Instant::now()));
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let took = cfg.load::<Started>().map_or(Duration::ZERO, |started| started.0.elapsed());
        let (service, operation) = cfg.load::<Metadata>().map_or(("unknown", "unknown"), |m| (m.service(), m.name()));
        let succeeded = matches!(context.output_or_error(), Some(Ok(_)));
        let response = context.response().map(|r| {
            let error_type = ["x-amzn-errortype", "x-amzn-query-error"].iter().find_map(|h| r.headers().get(*h));
            (r.status().as_u16(), error_type)
        });
        self.0.aws_call(service, operation, result(succeeded, response), took);
        Ok(())
    }
}

/// Words in the error types AWS throttles with (DynamoDB's
/// `ProvisionedThroughputExceededException`, EC2-style `RequestLimitExceeded`).
const THROTTLING: &[&str] = &["Throttl", "TooManyRequests", "ThroughputExceeded", "RequestLimitExceeded"];

/// The result of an execution from whether it succeeded and its last
/// response's status and error type, if a response came.
fn result(succeeded: bool, response: Option<(u16, Option<&str>)>) -> CallResult {
    match response {
        _ if succeeded => CallResult::Ok,
        Some((429, _)) => CallResult::Throttled,
        Some((_, Some(kind))) if THROTTLING.iter().any(|word| kind.contains(word)) => CallResult::Throttled,
        Some((status, _)) if status >= 500 => CallResult::Unavailable,
        Some(_) => CallResult::Error,
        None => CallResult::Unavailable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_is_told_by_a_429_or_an_error_type_naming_it() {
        assert_eq!(result(true, Some((200, None))), CallResult::Ok);
        assert_eq!(result(false, Some((429, None))), CallResult::Throttled);
        assert_eq!(result(false, Some((400, Some("ThrottlingException")))), CallResult::Throttled);
        assert_eq!(result(false, Some((400, Some("Throttling;Sender")))), CallResult::Throttled);
        assert_eq!(result(false, Some((400, Some("ParameterNotFound")))), CallResult::Error);
        assert_eq!(result(false, Some((503, None))), CallResult::Unavailable);
        assert_eq!(result(false, None), CallResult::Unavailable, "no response: a timeout or a refused connection");
    }
}
