//! The SNS message as SNS delivers it: the JSON body of an HTTP(S)
//! subscription's POST, and the envelope SNS puts into SQS when raw delivery
//! is off. One type for both, so the parser and the signature check read the
//! same fields.
//!
//! [`SnsMessage::check_fresh`] refuses a message whose signed `Timestamp` is
//! older than [`Freshness::max_age`] (SNS retries an HTTP(S) endpoint for at
//! most an hour, so an older one is a replay) or ahead of our clock by more
//! than [`Freshness::max_skew`]. The endpoint (`POST /sns`) applies it; SNS
//! envelopes that come through SQS do not: there the queue policy is the
//! trust boundary, and a message may rightly wait in the queue for days
//! while the bot is down (dedup still applies to both paths).
//!
//! # Parts
//! - [`verify`]: the signature check; [`fetch`]: the certificate source and
//!   the HTTP(S) client; [`url`]: which URLs may be fetched (SNS hosts only);
//! - [`confirm`]: which SubscriptionConfirmations are confirmed;
//! - [`endpoint`]: `POST /sns`, all of the above in order, into the inbox.
//!
//! Field names are AWS's (`Type`, `MessageId`, `SigningCertURL`, ...); see
//! "Parsing message formats" and "Verifying the signatures of Amazon SNS
//! messages" in the SNS developer guide.

use std::time::Duration;

use chrono::{DateTime, Utc};
use opsbot_policies::show_duration;
use serde::{Deserialize, Serialize};

pub use error::SnsError;

pub mod confirm;
pub mod endpoint;
mod error;
pub mod fetch;
#[cfg(test)]
pub(crate) mod testkit;
pub mod url;
pub mod verify;

/// How far a message's `Timestamp` may be from now
/// (`notifications.sns.max_age` and `.max_clock_skew`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    /// Older than this is refused as a replay (default 1h: SNS's HTTP retry span).
    pub max_age: Duration,
    /// Ahead of our clock by more than this is refused (default 5m).
    pub max_skew: Duration,
}

impl Default for Freshness {
    fn default() -> Self {
        Freshness { max_age: Duration::from_secs(3600), max_skew: Duration::from_secs(300) }
    }
}

/// What an SNS message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum SnsType {
    Notification,
    SubscriptionConfirmation,
    UnsubscribeConfirmation,
}

impl SnsType {
    /// The `Type` value as SNS writes it (and signs it).
    pub fn as_str(self) -> &'static str {
        match self {
            SnsType::Notification => "Notification",
            SnsType::SubscriptionConfirmation => "SubscriptionConfirmation",
            SnsType::UnsubscribeConfirmation => "UnsubscribeConfirmation",
        }
    }
}

/// One SNS message. Optional fields are the ones only some types carry.
/// (`Serialize` writes it back as SNS does, for tests and the benchmark.)
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnsMessage {
    #[serde(rename = "Type")]
    pub kind: SnsType,
    pub message_id: String,
    pub topic_arn: String,
    /// Notifications only, and only when the publisher set one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The payload: for AWS services, usually a JSON document as a string.
    pub message: String,
    /// RFC 3339, as SNS wrote it (kept as text: it is part of what is signed).
    pub timestamp: String,
    /// "1" (SHA1withRSA) or "2" (SHA256withRSA).
    pub signature_version: String,
    /// Base64.
    pub signature: String,
    #[serde(rename = "SigningCertURL")]
    pub signing_cert_url: String,
    /// Subscription and unsubscribe confirmations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(rename = "SubscribeURL", default, skip_serializing_if = "Option::is_none")]
    pub subscribe_url: Option<String>,
    #[serde(rename = "UnsubscribeURL", default, skip_serializing_if = "Option::is_none")]
    pub unsubscribe_url: Option<String>,
}

impl SnsMessage {
    /// Parses a body that is an SNS message; `None` when it is something else
    /// (a raw EventBridge event, a raw-delivery SNS payload).
    pub fn from_json(body: &[u8]) -> Option<SnsMessage> {
        serde_json::from_slice(body).ok()
    }

    /// Whether the message was sent within `fresh` of `now` (see the module docs).
    pub fn check_fresh(&self, now: DateTime<Utc>, fresh: Freshness) -> Result<(), SnsError> {
        let sent = DateTime::parse_from_rfc3339(&self.timestamp).map_err(|_| SnsError::BadTimestamp {
            message_id: self.message_id.clone(),
            timestamp: self.timestamp.clone(),
        })?;
        let age = now.signed_duration_since(sent);
        let (message_id, timestamp) = (|| self.message_id.clone(), || self.timestamp.clone()); // for errors only
        match age.to_std() {
            Ok(age) if age > fresh.max_age => Err(SnsError::TooOld {
                message_id: message_id(),
                timestamp: timestamp(),
                age: show_duration(age),
                max_age: show_duration(fresh.max_age),
            }),
            Ok(_) => Ok(()),
            Err(_) => {
                let ahead = (-age).to_std().unwrap_or_default();
                if ahead <= fresh.max_skew {
                    return Ok(());
                }
                let (ahead, max_skew) = (show_duration(ahead), show_duration(fresh.max_skew));
                Err(SnsError::FromTheFuture { message_id: message_id(), timestamp: timestamp(), ahead, max_skew })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notification_reads_with_its_optional_fields_absent() {
        let body = br#"{"Type":"Notification","MessageId":"m-1","TopicArn":"arn:aws:sns:us-east-1:123456789012:ops",
            "Message":"{}","Timestamp":"2026-11-22T08:00:00.000Z","SignatureVersion":"2","Signature":"c2ln",
            "SigningCertURL":"https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem",
            "UnsubscribeURL":"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"}"#;
        let message = SnsMessage::from_json(body).expect("an SNS notification");
        assert_eq!(message.kind, SnsType::Notification);
        assert_eq!(message.subject, None);
        assert_eq!(message.token, None);
    }

    fn sent(timestamp: &str) -> SnsMessage {
        let body = br#"{"Type":"Notification","MessageId":"m-1","TopicArn":"arn:aws:sns:us-east-1:123456789012:ops",
            "Message":"{}","Timestamp":"2026-11-22T08:00:00.000Z","SignatureVersion":"2","Signature":"c2ln",
            "SigningCertURL":"https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem"}"#;
        SnsMessage { timestamp: timestamp.into(), ..SnsMessage::from_json(body).unwrap() }
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn a_message_is_fresh_up_to_its_max_age_and_a_little_ahead_of_our_clock() {
        let fresh = Freshness::default();
        let now = at("2026-11-22T09:00:00Z");
        for timestamp in ["2026-11-22T08:00:00.000Z", "2026-11-22T08:59:59.999Z", "2026-11-22T09:05:00Z"] {
            sent(timestamp).check_fresh(now, fresh).unwrap_or_else(|e| panic!("{timestamp}: {e}"));
        }
    }

    #[test]
    fn an_old_message_is_refused_as_a_replay_and_says_how_old() {
        let err = sent("2026-11-22T07:59:00.000Z").check_fresh(at("2026-11-22T09:00:00Z"), Freshness::default());
        let err = err.expect_err("61 minutes old");
        assert!(matches!(err, SnsError::TooOld { .. }), "{err}");
        assert!(err.to_string().contains("1h1m ago"), "{err}");
    }

    #[test]
    fn a_message_from_the_future_or_without_a_time_is_refused() {
        let now = at("2026-11-22T09:00:00Z");
        let err = sent("2026-11-22T09:10:00Z").check_fresh(now, Freshness::default()).expect_err("10m ahead");
        assert!(matches!(err, SnsError::FromTheFuture { .. }) && err.to_string().contains("10m ahead"), "{err}");
        let err = sent("yesterday").check_fresh(now, Freshness::default()).expect_err("no time");
        assert!(matches!(err, SnsError::BadTimestamp { .. }), "{err}");
    }

    #[test]
    fn an_eventbridge_event_is_not_an_sns_message() {
        let body = br#"{"version":"0","id":"e-1","detail-type":"x","source":"aws.ssm","detail":{}}"#;
        assert_eq!(SnsMessage::from_json(body), None);
    }
}
