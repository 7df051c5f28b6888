//! opsbot's commands: the grammar, one command per file, the runner ([`Ops`])
//! that takes a line from parse through policy to a reply, the change
//! lifecycle, and the ports (traits) through which they reach AWS.
//!
//! # Layout
//! Modules import only from modules listed above them here (the parts of a
//! module build on it), so dependencies point one way; `tests/layout.rs` fails
//! on an import cycle.
//! - [`error`], [`mrkdwn`](mod@mrkdwn), [`text`]: the crate's errors; Slack markup with
//!   outside text escaped by construction (`esc`); plain-text helpers
//!   (`truncate`, `ago`, `duration`, ...).
//! - [`values`]: typed values parsed at the edge (`ServiceRef`, `ParamName`,
//!   `ChangeId`, ...; [`values::ssm`]: documents, targets, parameters).
//! - [`live_policy`]: the policy in force, replaceable while running
//!   ([`LivePolicy`]), and its [`PolicyVersion`].
//! - [`context`]: who asks, where and when ([`Context`]).
//! - [`spec`]: command specs, tokenizer, lookup and "did you mean".
//! - [`target`]: which AWS account and region a command acts in
//!   (`--account`, `--region`, a `prod:` prefix) and how a line names them.
//! - [`click`]: buttons and what pressing one does (`Click`, `Press`).
//! - [`reply`]: what a command answers, rendered later as Block Kit or text.
//! - [`hooks`]: the configured `on_param_change` hooks.
//! - [`ports`]: the traits gateways, chat and the store implement, and the
//!   data they return.
//! - [`change`]: what a change implements (`ChangeCommand`: plan, act,
//!   check) and what it is asked as; `change::identity`: whose AWS identity
//!   a change runs under.
//! - [`command`]: the `CommandDef` trait every command implements.
//! - [`cmd`]: one file per command and the one list (`with_commands!`) that
//!   generates the [`Command`] enum, `ENTRIES` and the dispatch.
//! - [`error_reply`]: the one place errors become replies.
//! - `change::lifecycle`: `Changes`, the life of a change (request → confirm
//!   → approve → execute → follow), with `change::messages` (what it shows)
//!   and `change::audit` (what it records).
//! - [`ops`]: [`Ops`], parse → policy → read or change → reply; what every
//!   adapter calls.
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
pub mod live_policy;
pub mod mrkdwn;
pub mod ops;
pub mod ports;
pub mod reply;
pub mod spec;
pub mod target;
pub mod text;
pub mod values;

pub use change::messages::{ClickOutcome, mention};
pub use cmd::Command;
pub use cmd::default_policy;
pub use context::Context;
pub use error::{GatewayError, GatewayResult, UsageError};
pub use live_policy::{LivePolicy, PolicyVersion};
pub use mrkdwn::Mrkdwn;
pub use ops::Ops;
pub use reply::{Block, Reply, Visibility};

/// In-memory ports (fake AWS, store, chat, alerts) for tests, here and in
/// the bot's tests (feature `testing`, enabled by the root crate's
/// dev-dependencies only).
#[cfg(any(test, feature = "testing"))]
pub mod testing;
