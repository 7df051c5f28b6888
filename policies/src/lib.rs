//! opsbot's policy engine: decides whether a request may run — allowed,
//! denied, or allowed once a second person approves. Pure and deterministic:
//! no I/O and no clock of its own (callers pass the text and the time).
//!
//! # Layout
//! - `decision`: [`Request`] in, [`Decision`] out, [`RuleRef`] (`file:line`).
//! - `load`: where a policy comes from (`policies:` in the config, a file it
//!   names, or a standalone file); `file` is the YAML contract as written,
//!   `compile` checks it and builds the ready [`Policy`] (`values` and
//!   `freeze` check the parts).
//! - `evaluate`: judging one request; `condition`: how a `where` matches.
//! - `error`: [`PolicyError`], always `file:line:column: what — advice`.
//!
//! # Decisions
//! - Default deny: a request no rule allows is refused, with the reason.
//! - Denies are checked first and any match wins; otherwise the **first**
//!   matching allow, in file order, decides — even if a later allow would not
//!   need approval. Strict and predictable beats clever.
//! - A freeze window turns an allow (or a request needing approval) into a
//!   deny with the freeze's reason; weekly freezes are whole UTC days.
//! - Everything that can be wrong is found at load with its position; rules
//!   are indexed by command so evaluation only reads that command's rules.
//! - The built-in policy ([`Policy::builtin`]) allows the read-only commands
//!   to everyone and every change to no one; a configured policy replaces it.
//! - Approval needs a member of the approving role who is not the requester:
//!   [`Policy::may_approve`] checks the role, the caller checks the person.

mod compile;
mod condition;
mod decision;
mod error;
mod evaluate;
mod file;
mod freeze;
mod load;
mod policy;
mod scope;
mod values;

pub use decision::{Decision, Request, RuleRef};
pub use error::PolicyError;
pub use policy::{Policy, Role};
pub use values::{ARGUMENTS, DEFAULT_TTL, MAX_TTL, parse_duration, show_duration};
