//! The one mapping from an SDK error to a [`GatewayError`], shared by every
//! gateway (the `SdkError` type is the same for all SDK crates).
//!
//! Service errors are told apart by their error *code* (`ProvideErrorMetadata`),
//! not by the modeled enum variants: codes are what every service and both
//! emulators agree on, and unmodeled errors (throttling, auth) only have a code.
//! - `*NotFound*` (ParameterNotFound, PipelineNotFoundException,
//!   ClusterNotFoundException, ServiceNotFoundException, ...) and S3's
//!   `NoSuch*` (NoSuchKey, NoSuchBucket) → `NotFound` naming the thing the
//!   caller asked about;
//! - AccessDenied and the invalid / expired credential codes → `AccessDenied`;
//! - throttling codes → `Throttled` (the SDK already retried them);
//! - no response (dispatch failure, timeout) → `Unavailable`;
//! - anything else, including responses that do not parse (moto answers an
//!   unimplemented operation with an HTML 500) → `Other`, keeping the SDK error
//!   as the source for the log.

use aws_sdk_ssm::error::{DisplayErrorContext, SdkError};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use opsbot_commands::error::GatewayError;

const ACCESS_DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
];

const THROTTLED: &[&str] = &["Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"];

/// The error code of a service error; `None` for every other kind.
pub(crate) fn code_of<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<&str> {
    err.code()
}

/// Maps `err`, from a call about `what` (e.g. "pipeline `web`"), to a port error.
pub(crate) fn gateway_error<E, R>(err: SdkError<E, R>, what: &str) -> GatewayError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match &err {
        SdkError::ServiceError(_) => by_code(err, what),
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            GatewayError::Unavailable { message: DisplayErrorContext(&err).to_string() }
        }
        _ => GatewayError::other(format!("AWS call about {what} failed"), err),
    }
}

fn by_code<E, R>(err: SdkError<E, R>, what: &str) -> GatewayError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let code = err.code().unwrap_or_default();
    if code.contains("NotFound") || code.starts_with("NoSuch") {
        GatewayError::not_found(what)
    } else if ACCESS_DENIED.contains(&code) {
        GatewayError::AccessDenied { message: err.message().unwrap_or(code).to_owned() }
    } else if THROTTLED.contains(&code) {
        GatewayError::Throttled
    } else {
        GatewayError::other(format!("AWS refused a call about {what} ({code})"), err)
    }
}

/// `result.or_gateway(what)`: [`gateway_error`] for `Result`s of SDK calls.
pub(crate) trait OrGateway<T> {
    fn or_gateway(self, what: &str) -> Result<T, GatewayError>;
}

impl<T, E, R> OrGateway<T> for Result<T, SdkError<E, R>>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    fn or_gateway(self, what: &str) -> Result<T, GatewayError> {
        self.map_err(|err| gateway_error(err, what))
    }
}
