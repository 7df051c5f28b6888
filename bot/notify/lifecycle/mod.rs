//! The lives of living messages, pure (no I/O): each takes what was kept and
//! one event, and returns the new record and what to show.
//!
//! - [`alarm`]: an alarm episode as one message (thread, flapping, ack,
//!   escalation, resolution); its [`alarm::Effect`]s are shared by all.
//! - [`approval`]: a manual approval as one message with its buttons.
//! - [`drift`]: an environment's parameter drift as one message.
//! - [`pipeline`]: a pipeline execution as one message, stages in its thread.
//! - [`summary`]: one-message notifications for kinds without a lifecycle.
//! - [`route`]: which channel a notification goes to, and whom it mentions.

use serde::Serialize;

pub mod alarm;
pub mod approval;
pub mod drift;
#[cfg(test)]
mod markup_tests;
pub mod pipeline;
pub mod route;
pub mod summary;

/// A lifecycle's record: kept in the store, shown in one Slack message.
pub trait Lifecycle: Serialize {
    /// The outbox key of the message that shows this record.
    fn message_key(&self) -> String;
}
