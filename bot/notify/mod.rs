//! Notifications from AWS: inbound events (SQS poller, SNS endpoint) become
//! typed notifications, are routed to channels and kept as living messages.
//!
//! # Parts
//! - [`alarm`]: an alarm's life as one living message (pure).
//! - [`approval`]: a manual approval as one living message (pure).
//! - [`event`]: any accepted body (EventBridge event, SNS envelope, raw SNS
//!   payload) → one typed [`event::Inbound`] with its dedup key.
//! - [`notifier`]: one notification → the records it changes and the Slack writes it asks for.
//! - [`pipeline`]: a pipeline execution's life as one living message (pure).
//! - [`route`]: which channel a notification goes to, and whom it mentions.
//! - [`service`]: notifications at run time: inbox, handling, sweep, alert book.
//! - [`sns`]: the SNS message as SNS delivers it (HTTP body, SQS envelope).
//! - [`sns_verify`]: the signature check of the SNS HTTP(S) endpoint.
//! - [`sns_fetch`]: the certificate source and the HTTP(S) client for SNS fetches.
//! - [`sns_url`]: which URLs from an SNS message may be fetched (parsed, SNS hosts only).
//! - [`sns_confirm`]: which SubscriptionConfirmations are confirmed, and the confirming GET.
//! - [`wiring`]: starting notifications with the app.
//! - [`summary`]: one-message notifications for kinds without a lifecycle.
//! - [`sqs`]: the SQS poller, which deletes a message only once it is kept.

pub mod alarm;
pub mod approval;
pub mod event;
#[cfg(test)]
mod markup_tests;
pub mod notifier;
pub mod pipeline;
pub mod route;
pub mod service;
pub mod sns;
pub mod sns_confirm;
pub mod sns_fetch;
#[cfg(test)]
pub(crate) mod sns_testkit;
pub mod sns_url;
pub mod sns_verify;
pub mod sqs;
pub mod summary;
pub mod wiring;
