//! opsbot's commands: the grammar, one command per file, the pipeline that
//! runs them, and the ports (traits) through which they reach AWS.
//!
//! # Layout
//! - [`values`]: typed values parsed at the edge (`ServiceRef`, `ParamName`, ...).
//! - [`spec`]: command specs, tokenizer, "did you mean".
//! - [`cmd`]: one file per command and the [`cmd::Command`] enum listing them.
//! - [`ports`]: the traits gateways implement and the data they return.
//! - [`reply`]: what a command answers, rendered later as Block Kit or text.
//! - [`mrkdwn`]: Slack markup with outside text escaped by construction.
//! - [`pipeline`]: parse → policy → run → reply; errors become replies here only.
//!
//! No AWS SDK, no Slack types, no I/O of its own: everything outside comes
//! through [`ports`], so the same commands run against AWS, the sandbox and
//! test fakes.

pub mod change;
pub mod click;
pub mod cmd;
pub mod command;
pub mod context;
pub mod error;
pub mod error_reply;
pub mod hooks;
pub mod mrkdwn;
pub mod ops;
pub mod ports;
pub mod reply;
pub mod spec;
pub mod text;
pub mod values;

pub use change::messages::{ClickOutcome, mention};
pub use cmd::Command;
pub use cmd::default_policy;
pub use context::Context;
pub use error::{GatewayError, GatewayResult, UsageError};
pub use mrkdwn::Mrkdwn;
pub use ops::Ops;
pub use reply::{Block, Reply, Visibility};

#[cfg(test)]
mod layout_tests;
#[cfg(test)]
mod testing;
