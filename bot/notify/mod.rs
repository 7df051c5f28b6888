//! Notifications from AWS: inbound events (SQS poller, SNS endpoint) become
//! typed notifications, are routed to channels and kept as living messages.
//!
//! # Parts (each imports only from the ones above it)
//! - [`event`]: any accepted body (EventBridge event, SNS envelope, raw SNS
//!   payload) → one typed [`event::Inbound`] with its dedup key.
//! - [`intake`]: where bodies come in — the SQS poller and `POST /sns` (its
//!   signature check, certificate fetch, confirmations) — handed to an
//!   [`intake::Inbox`].
//! - [`tags`]: resource tags for routes that name them, read through a
//!   port and cached per resource.
//! - [`lifecycle`]: the pure lives of living messages (alarm, approval,
//!   pipeline run), one-message summaries, and routing.
//! - [`build_log`]: why a failed build failed (the end of its log, redacted),
//!   read through its port when a CodeBuild action fails.
//! - Why a failed ECS deployment's tasks stopped is read through the
//!   commands' `StoppedTasks` port and worded by
//!   `opsbot_commands::cmd::stopped_tasks`, which the deploy commands share.
//! - [`why_reads`]: which account's readers those reads go through — the
//!   account the notification came from.
//! - [`earlier`]: the records decided earlier in a chunk of inbox rows,
//!   read before the store's.
//! - [`recent`]: the dedup keys last seen committed, so a redelivery is
//!   answered without asking the store.
//! - [`notifier`]: one notification → the records it changes and the Slack
//!   writes it asks for.
//! - [`service`]: notifications at run time: the inbox, handling (retries,
//!   parking), the sweep, the alert book.
//! - [`drift_check`]: the scheduled declared-parameters check, kept as
//!   living messages like notifications.
//! - [`wiring`]: starting notifications with the app.

pub mod build_log;
pub mod drift_check;
pub mod earlier;
pub mod event;
pub mod intake;
pub mod lifecycle;
pub mod notifier;
pub mod recent;
pub mod service;
pub mod tags;
pub mod why_reads;
pub mod wiring;
