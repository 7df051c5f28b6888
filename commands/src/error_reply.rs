//! The one place where errors become replies (CONVENTIONS #7): usage errors
//! show usage and "did you mean"; a policy's refusal says why; AWS errors
//! say what to do next; internal errors and a store that cannot record show
//! a reference, and the cause chain goes to the log — never to the channel.

use std::error::Error as StdError;

use tracing::warn;

use crate::context::Context;
use crate::error::{GatewayError, UsageError};
use crate::mrkdwn;
use crate::mrkdwn::Mrkdwn;
use crate::reply::Reply;

/// A command line that did not parse.
pub fn usage_reply(err: &UsageError) -> Reply {
    let mut reply = Reply::ephemeral(err.message.clone()).section(mrkdwn!(":warning: {}", err.message));
    if let Some(usage) = &err.usage {
        reply = reply.section(mrkdwn!("Usage: `{}`", usage));
    }
    let mut hints = Vec::new();
    if !err.suggestions.is_empty() {
        let names = err.suggestions.iter().map(|s| mrkdwn!("`{}`", s));
        hints.push(mrkdwn!("Did you mean {}?", Mrkdwn::join(names, " or ")));
    }
    hints.push(mrkdwn!("`help` lists every command."));
    reply.context(hints)
}

/// The policy does not let `command` run here.
pub fn denied(command: &str, reason: &str) -> Reply {
    Reply::ephemeral(format!("You can't run `{command}` here: {reason}")).section(mrkdwn!(
        ":no_entry: You can't run `{}` here: {}",
        command,
        reason
    ))
}

/// Turns an AWS failure into plain words with the next step; the cause chain
/// goes to the log, never to the channel.
pub fn gateway_reply(ctx: &Context, err: &GatewayError) -> Reply {
    let text = match err {
        GatewayError::NotFound { what } => {
            mrkdwn!(":mag: {} was not found. Check the spelling; the list commands (`help`) show what exists.", what)
        }
        GatewayError::AccessDenied { message } => mrkdwn!(
            ":lock: AWS refused opsbot's request: {}. Ask whoever runs opsbot to grant its role this permission.",
            message
        ),
        GatewayError::Throttled => {
            mrkdwn!(":snail: AWS is throttling requests right now and retries ran out. Try again in a minute.")
        }
        GatewayError::Unavailable { message } => {
            mrkdwn!(":electric_plug: AWS could not be reached ({}). Try again shortly.", message)
        }
        GatewayError::Moved { what } => mrkdwn!(":twisted_rightwards_arrows: Not done: {}.", what),
        GatewayError::Invalid { what } => mrkdwn!(":memo: {} — fix it and ask again.", what),
        GatewayError::Other { .. } => mrkdwn!(":boom: Something went wrong (ref: `{}`).", ctx.request_id),
    };
    warn!(error = %err, cause = %chain(err), "command failed");
    Reply::ephemeral(text.plain()).section(text)
}

/// The store could not record a request, so nothing was done.
pub fn store_down(ctx: &Context) -> Reply {
    let text = mrkdwn!(
        ":floppy_disk: Nothing was done: opsbot cannot record this request right now (ref: `{}`). Try again shortly.",
        ctx.request_id
    );
    Reply::ephemeral(text.plain()).section(text)
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
