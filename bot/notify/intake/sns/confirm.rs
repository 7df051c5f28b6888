//! Which SNS subscriptions the bot confirms, and the confirming GET.
//!
//! SNS proves an HTTP(S) endpoint wants a topic by sending a signed
//! `SubscriptionConfirmation` whose `SubscribeURL` the endpoint must GET
//! ("Confirm the subscription", SNS developer guide). Anyone can subscribe
//! our endpoint to their topic, so a confirmation is only honoured when:
//! - its signature checked out (the policy takes a [`Verified`] message),
//! - its `TopicArn` is exactly one of `notifications.sns.topics`,
//! - its `SubscribeURL` passes the same host rule as certificates.
//!
//! A refusal is an [`SnsError`] the endpoint answers with a 4xx; the approval
//! is a [`Confirmation`], which only [`ConfirmPolicy::decide`] can make.

use std::collections::HashSet;

use super::SnsError;
use super::SnsType;
use super::fetch::SnsHttp;
use super::url::UrlAllow;
use super::verify::Verified;

/// `notifications.sns.topics` and the allow-list for `SubscribeURL`.
#[derive(Debug, Clone)]
pub struct ConfirmPolicy {
    topics: HashSet<String>,
    subscribe_allow: UrlAllow,
}

/// A subscription the policy approved: GET its URL with [`Confirmation::send`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    topic_arn: String,
    subscribe_url: String,
}

impl ConfirmPolicy {
    pub fn new(topics: impl IntoIterator<Item = String>, subscribe_allow: UrlAllow) -> ConfirmPolicy {
        ConfirmPolicy { topics: topics.into_iter().collect(), subscribe_allow }
    }

    /// Whether `topic` is one of `notifications.sns.topics` (notifications
    /// from any other topic are refused, confirmed subscription or not).
    pub fn allows_topic(&self, topic: &str) -> bool {
        self.topics.contains(topic)
    }

    pub fn decide(&self, verified: Verified<'_>) -> Result<Confirmation, SnsError> {
        let msg = verified.message();
        if msg.kind != SnsType::SubscriptionConfirmation {
            return Err(SnsError::NotAConfirmation { kind: msg.kind.as_str(), message_id: msg.message_id.clone() });
        }
        if !self.topics.contains(&msg.topic_arn) {
            return Err(SnsError::TopicNotAllowed { topic: msg.topic_arn.clone() });
        }
        // A verified confirmation always has one: it is part of what is signed.
        let url = msg.subscribe_url.clone().unwrap_or_default();
        if !self.subscribe_allow.permits(&url) {
            return Err(SnsError::SubscribeUrlNotAllowed {
                topic: msg.topic_arn.clone(),
                url,
                allow: self.subscribe_allow.describe().to_owned(),
            });
        }
        Ok(Confirmation { topic_arn: msg.topic_arn.clone(), subscribe_url: url })
    }
}

impl Confirmation {
    pub fn topic_arn(&self) -> &str {
        &self.topic_arn
    }

    pub fn subscribe_url(&self) -> &str {
        &self.subscribe_url
    }

    /// Confirms the subscription: a GET of `SubscribeURL` answered with 2xx.
    pub async fn send(&self, http: &SnsHttp) -> Result<(), SnsError> {
        http.get(&self.subscribe_url).await.map(drop).map_err(|reason| SnsError::ConfirmFailed {
            topic: self.topic_arn.clone(),
            url: self.subscribe_url.clone(),
            reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::Ordering;

    use super::*;
    use crate::notify::intake::sns::SnsMessage;
    use crate::notify::intake::sns::testkit::*;
    use crate::notify::intake::sns::verify::SnsVerifier;

    fn policy(topics: &[&str], allow: UrlAllow) -> ConfirmPolicy {
        ConfirmPolicy::new(topics.iter().map(|t| t.to_string()), allow)
    }

    async fn decide(policy: &ConfirmPolicy, msg: &SnsMessage) -> Result<Confirmation, SnsError> {
        let verifier = SnsVerifier::new(sns_allow(), Arc::new(MemoryCerts::with_test_cert()));
        policy.decide(verifier.verify(msg).await.expect("signed by the test key"))
    }

    #[tokio::test]
    async fn a_confirmation_for_an_allowed_topic_is_confirmed_with_its_subscribe_url() {
        let msg = confirmation_v1();
        let confirmation = decide(&policy(&[TOPIC], sns_allow()), &msg).await.expect("allowed topic");
        assert_eq!(confirmation.topic_arn(), TOPIC);
        assert_eq!(Some(confirmation.subscribe_url()), msg.subscribe_url.as_deref());
    }

    #[tokio::test]
    async fn a_confirmation_for_a_topic_not_listed_is_refused() {
        let listed = "arn:aws:sns:us-east-1:123456789012:opsbot-alarms-staging";
        let err = decide(&policy(&[listed], sns_allow()), &confirmation_v2()).await.expect_err("not listed");
        assert_eq!(
            err.to_string(),
            format!("subscription to {TOPIC} refused: the topic is not in notifications.sns.topics")
        );
    }

    #[tokio::test]
    async fn a_confirmation_whose_subscribe_url_is_not_an_sns_host_is_refused() {
        let msg = signed_v2(
            SnsMessage {
                subscribe_url: Some("https://attacker.example/?Action=ConfirmSubscription".into()),
                ..confirmation_v1()
            },
            TEST_KEY,
        );
        let err = decide(&policy(&[TOPIC], sns_allow()), &msg).await.expect_err("foreign host");
        assert!(matches!(err, SnsError::SubscribeUrlNotAllowed { .. }), "{err}");
    }

    #[tokio::test]
    async fn a_notification_is_not_something_to_confirm() {
        let err = decide(&policy(&[TOPIC], sns_allow()), &notification_v1()).await.expect_err("notification");
        assert!(matches!(err, SnsError::NotAConfirmation { kind: "Notification", .. }), "{err}");
    }

    #[tokio::test]
    async fn sending_a_confirmation_gets_the_subscribe_url_once() {
        let hits = Arc::new(Hits::default());
        let base = serve(hits.clone()).await;
        let msg =
            signed_v2(SnsMessage { subscribe_url: Some(format!("{base}/confirm")), ..confirmation_v1() }, TEST_KEY);
        let confirmation = decide(&policy(&[TOPIC], local_allow()), &msg).await.expect("allowed");
        confirmation.send(&SnsHttp::new().expect("client")).await.expect("confirmed");
        assert_eq!(hits.confirm.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_subscribe_url_answering_an_error_fails_the_confirmation_saying_so() {
        let base = serve(Arc::new(Hits::default())).await;
        let msg =
            signed_v2(SnsMessage { subscribe_url: Some(format!("{base}/broken")), ..confirmation_v1() }, TEST_KEY);
        let confirmation = decide(&policy(&[TOPIC], local_allow()), &msg).await.expect("allowed");
        let err = confirmation.send(&SnsHttp::new().expect("client")).await.expect_err("500");
        assert!(matches!(err, SnsError::ConfirmFailed { .. }), "{err}");
        assert!(err.to_string().contains("answered HTTP 500 Internal Server Error"), "{err}");
    }
}
