//! Notifications from AWS: inbound events (SQS poller, SNS endpoint) become
//! typed notifications, are routed to channels and kept as living messages.
//!
//! # Parts
//! - [`sns`]: the SNS message as SNS delivers it (HTTP body, SQS envelope).
//! - [`event`]: any accepted body (EventBridge event, SNS envelope, raw SNS
//!   payload) → one typed [`event::Inbound`] with its dedup key.

pub mod event;
pub mod sns;
