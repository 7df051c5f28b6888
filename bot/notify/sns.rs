//! The SNS message as SNS delivers it: the JSON body of an HTTP(S)
//! subscription's POST, and the envelope SNS puts into SQS when raw delivery
//! is off. One type for both, so the parser and the signature check read the
//! same fields.
//!
//! Field names are AWS's (`Type`, `MessageId`, `SigningCertURL`, ...); see
//! "Parsing message formats" and "Verifying the signatures of Amazon SNS
//! messages" in the SNS developer guide.

use serde::{Deserialize, Serialize};

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

    #[test]
    fn an_eventbridge_event_is_not_an_sns_message() {
        let body = br#"{"version":"0","id":"e-1","detail-type":"x","source":"aws.ssm","detail":{}}"#;
        assert_eq!(SnsMessage::from_json(body), None);
    }
}
