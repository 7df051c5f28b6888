//! Notifications from AWS: inbound events (SQS poller, SNS endpoint) become
//! typed notifications, are routed to channels and kept as living messages.
//!
//! # Parts
//! - [`sns`]: the SNS message as SNS delivers it (HTTP body, SQS envelope).
//! - [`sns_verify`]: the signature check of the SNS HTTP(S) endpoint.
//! - [`sns_fetch`]: URL allow-list, certificate source and HTTP(S) client for it.
//! - [`sns_confirm`]: which SubscriptionConfirmations are confirmed, and the confirming GET.

pub mod sns;
pub mod sns_confirm;
pub mod sns_fetch;
#[cfg(test)]
mod sns_testkit;
pub mod sns_verify;
