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
pub mod cmd;
pub mod error;
pub mod mrkdwn;
pub mod pipeline;
pub mod ports;
pub mod reply;
pub mod spec;
pub mod values;

pub use cmd::{Command, Context};
pub use error::{GatewayError, GatewayResult, UsageError};
pub use mrkdwn::Mrkdwn;
pub use pipeline::{Ops, default_policy, mention};
pub use reply::{Block, Reply, Visibility};

#[cfg(test)]
mod testing;
