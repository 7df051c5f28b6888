//! The command pipeline: parse → policy → run → reply. Every adapter (Slack
//! socket, Slack HTTP, console) calls [`Ops::handle`] and nothing else, so a
//! command behaves the same wherever it is typed.
//!
//! This is also the one place where errors become replies (CONVENTIONS #7):
//! usage errors show usage and "did you mean"; AWS errors show what to do;
//! internal errors show a reference and log the cause chain.

use std::error::Error as StdError;
use std::sync::Arc;

use opsbot_policies::{Decision, Policy, Request};
use tracing::{Instrument, info, warn};

use crate::cmd::{Command, Context, ENTRIES};
use crate::error::{GatewayError, UsageError};
use crate::ports::Gateways;
use crate::reply::{Reply, esc};

/// The read-only commands open to everyone under the built-in policy.
pub fn default_policy() -> Policy {
    Policy::reads_for_everyone(ENTRIES.iter().filter(|e| !e.spec.changes).map(|e| e.spec.name))
}

pub struct Ops {
    aws: Gateways,
    policy: Arc<Policy>,
}

impl Ops {
    pub fn new(aws: Gateways, policy: Arc<Policy>) -> Self {
        Ops { aws, policy }
    }

    /// Runs one command line for `ctx` and returns what to show.
    pub async fn handle(&self, ctx: &Context, text: &str) -> Reply {
        let span = tracing::info_span!(
            "command",
            command = tracing::field::Empty,
            actor = %ctx.user,
            channel = %ctx.channel,
            request_id = %ctx.request_id,
        );
        self.handle_inner(ctx, text).instrument(span).await
    }

    async fn handle_inner(&self, ctx: &Context, text: &str) -> Reply {
        let command = match Command::parse(text) {
            Ok(command) => command,
            Err(err) => {
                info!(error = %err, "usage error");
                return usage_reply(&err);
            }
        };
        let spec = command.spec();
        tracing::Span::current().record("command", spec.name);
        let args = command.policy_args();
        let args: Vec<(&str, String)> = args.iter().map(|(k, v)| (*k, v.clone())).collect();
        let request =
            Request { command: spec.name, user: ctx.user.as_str(), channel: ctx.channel.as_str(), args: &args };
        match self.policy.evaluate(&request) {
            Decision::Allow { .. } => {}
            Decision::Deny { reason } => {
                info!(%reason, "denied by policy");
                return Reply::ephemeral(format!("You can't run `{}` here: {reason}", spec.name)).section(format!(
                    ":no_entry: You can't run `{}` here: {}",
                    spec.name,
                    esc(&reason)
                ));
            }
            Decision::NeedsApproval { approvers, .. } => {
                return Reply::ephemeral("This command needs an approval").section(format!(
                    ":hourglass: `{}` needs approval by {}, which this version of opsbot cannot collect yet.",
                    spec.name,
                    esc(&approvers)
                ));
            }
        }
        match command.run(ctx, &self.aws).await {
            Ok(reply) => {
                info!("answered");
                reply
            }
            Err(err) => gateway_reply(ctx, &err),
        }
    }
}

fn usage_reply(err: &UsageError) -> Reply {
    let mut reply = Reply::ephemeral(err.message.clone()).section(format!(":warning: {}", err.message));
    if let Some(usage) = &err.usage {
        reply = reply.section(format!("Usage: `{usage}`"));
    }
    let mut hints = Vec::new();
    if !err.suggestions.is_empty() {
        let names: Vec<String> = err.suggestions.iter().map(|s| format!("`{s}`")).collect();
        hints.push(format!("Did you mean {}?", names.join(" or ")));
    }
    hints.push("`help` lists every command.".into());
    reply.context(hints)
}

/// Turns an AWS failure into plain words with the next step; the cause chain
/// goes to the log, never to the channel.
fn gateway_reply(ctx: &Context, err: &GatewayError) -> Reply {
    let text = match err {
        GatewayError::NotFound { what } => {
            format!(
                ":mag: {} was not found. Check the spelling; the list commands (`help`) show what exists.",
                esc(what)
            )
        }
        GatewayError::AccessDenied { message } => format!(
            ":lock: AWS refused opsbot's request: {}. Ask whoever runs opsbot to grant its role this permission.",
            esc(message)
        ),
        GatewayError::Throttled => {
            ":snail: AWS is throttling requests right now and retries ran out. Try again in a minute.".into()
        }
        GatewayError::Unavailable { message } => {
            format!(":electric_plug: AWS could not be reached ({}). Try again shortly.", esc(message))
        }
        GatewayError::Other { .. } => format!(":boom: Something went wrong (ref: `{}`).", ctx.request_id),
    };
    warn!(error = %err, cause = %chain(err), "command failed");
    Reply::ephemeral(text.clone()).section(text)
}

fn chain(err: &dyn StdError) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(cause) = source {
        parts.push(cause.to_string());
        source = cause.source();
    }
    parts.join(": ")
}
