//! Why an SNS message was refused or could not be handled, and whether SNS
//! should try again.

/// Why an SNS message was refused or could not be handled.
#[derive(Debug, thiserror::Error)]
pub enum SnsError {
    #[error("SNS {kind} {message_id} has no {field}, which is part of what is signed; refusing it")]
    MissingField { kind: &'static str, message_id: String, field: &'static str },
    #[error(
        "SNS message {message_id} has SignatureVersion {version:?}; only \"1\" (SHA1withRSA) and \"2\" (SHA256withRSA) exist"
    )]
    UnknownSignatureVersion { message_id: String, version: String },
    #[error("SNS message {message_id} has a Signature that is not base64 ({reason})")]
    SignatureNotBase64 { message_id: String, reason: base64::DecodeError },
    #[error(
        "SigningCertURL {url} is not allowed (allowed: {allow}, naming a .pem file, no query); nothing was fetched"
    )]
    CertUrlNotAllowed { url: String, allow: String },
    #[error("cannot fetch the SNS signing certificate {url}: {reason}")]
    CertFetch { url: String, reason: String },
    #[error("{url} is not a PEM X.509 certificate with an RSA key: {reason}")]
    BadCertificate { url: String, reason: String },
    #[error(
        "SNS message {message_id} does not match its signature (key from {url}): forged, altered or signed by another key"
    )]
    BadSignature { message_id: String, url: String },
    #[error("SNS {kind} {message_id} is not a SubscriptionConfirmation; there is nothing to confirm")]
    NotAConfirmation { kind: &'static str, message_id: String },
    #[error("subscription to {topic} refused: the topic is not in notifications.sns.topics")]
    TopicNotAllowed { topic: String },
    #[error("subscription to {topic} refused: its SubscribeURL {url} is not allowed (allowed: {allow})")]
    SubscribeUrlNotAllowed { topic: String, url: String, allow: String },
    #[error("confirming the subscription to {topic} failed: GET {url} {reason}")]
    ConfirmFailed { topic: String, url: String, reason: String },
    #[error("SNS message {message_id} has Timestamp {timestamp:?}, which is not an RFC 3339 time; refusing it")]
    BadTimestamp { message_id: String, timestamp: String },
    #[error(
        "SNS message {message_id} was sent at {timestamp}, {age} ago — older than notifications.sns.max_age \
         ({max_age}): refused as a replay (SNS retries a delivery for an hour at most)"
    )]
    TooOld { message_id: String, timestamp: String, age: String, max_age: String },
    #[error(
        "SNS message {message_id} is stamped {timestamp}, {ahead} ahead of this server's clock — more than \
         notifications.sns.max_clock_skew ({max_skew}): refused; check this server's clock (NTP)"
    )]
    FromTheFuture { message_id: String, timestamp: String, ahead: String, max_skew: String },
    #[error("cannot build the HTTPS client for SNS: {0}")]
    Tls(#[from] std::io::Error),
}

impl SnsError {
    /// Whether the failure is on our side or the network's (answer 5xx so SNS
    /// retries the delivery) rather than the message's (answer 4xx: forged,
    /// malformed or unwanted, retrying cannot help).
    pub fn is_transient(&self) -> bool {
        matches!(self, SnsError::CertFetch { .. } | SnsError::ConfirmFailed { .. } | SnsError::Tls(_))
    }
}
