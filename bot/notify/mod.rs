//! Notifications from AWS: inbound events (SQS poller, SNS endpoint) become
//! typed notifications, are routed to channels and kept as living messages.
//!
//! # Parts
//! - [`sns`]: the SNS message as SNS delivers it (HTTP body, SQS envelope).
//! - [`sqs`]: the SQS poller, which deletes a message only once it is kept.

pub mod sns;
pub mod sqs;
