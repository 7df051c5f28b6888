//! [`Delivery`]: how a payload arrived (inside an SNS envelope or alone), and
//! what the envelope supplies when the payload lacks it: a fallback dedup key,
//! a time, the topic's account and region, and the [`Other`] a payload becomes
//! when it cannot be read.

use chrono::{DateTime, Utc};

use super::notification::{Inbound, Notification};
use super::other::Other;
use super::wire;
use crate::notify::intake::sns::SnsMessage;

/// How a payload arrived: inside an SNS envelope or alone.
pub(super) struct Delivery<'a> {
    pub(super) envelope: Option<&'a SnsMessage>,
    /// The payload's bytes (the envelope's `Message` when there is one).
    pub(super) body: &'a [u8],
}

impl Delivery<'_> {
    /// The key of a payload with no identity of its own.
    pub(super) fn fallback_key(&self) -> String {
        match self.envelope {
            Some(envelope) => format!("sns:{}", envelope.message_id),
            None => wire::content_key(self.body),
        }
    }

    pub(super) fn time(&self) -> DateTime<Utc> {
        self.envelope.and_then(|envelope| wire::parse_time(&envelope.timestamp)).unwrap_or_else(Utc::now)
    }

    /// The account and region of the SNS topic that carried the payload.
    pub(super) fn topic_account_region(&self) -> (Option<String>, Option<String>) {
        let arn = self.envelope.and_then(|envelope| wire::Arn::parse(&envelope.topic_arn));
        let non_empty = |text: &str| (!text.is_empty()).then(|| text.to_owned());
        (arn.and_then(|arn| non_empty(arn.account)), arn.and_then(|arn| non_empty(arn.region)))
    }

    pub(super) fn other(&self, other: Other) -> Inbound {
        let (account, region) = self.topic_account_region();
        Inbound {
            key: self.fallback_key(),
            account,
            region,
            time: self.time(),
            notification: Notification::Other(other),
        }
    }
}
