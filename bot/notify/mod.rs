//! Notifications from AWS: inbound events (SQS poller, SNS endpoint) become
//! typed notifications, are routed to channels and kept as living messages.
//!
//! # Parts
//! - [`alarm`]: an alarm's life as one living message (pure).
//! - [`approval`]: a manual approval as one living message (pure).
//! - [`pipeline`]: a pipeline execution's life as one living message (pure).
//! - [`sns`]: the SNS message as SNS delivers it (HTTP body, SQS envelope).
//! - [`sqs`]: the SQS poller, which deletes a message only once it is kept.

pub mod alarm;
pub mod approval;
pub mod pipeline;
pub mod sns;
pub mod sqs;
