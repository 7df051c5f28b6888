//! Slack: both transports (Socket Mode in [`socket`], HTTP in `crate::http`)
//! hand parsed requests to [`SlackBot`], which acknowledges nothing itself —
//! the transports ack at once — and runs the work in the background:
//!
//! 1. claim the request id in the store (Slack retries and Socket Mode
//!    redeliveries stop here; when the claim cannot be written nothing runs
//!    and the asker is told so privately: fail closed),
//! 2. run the command (`Ops::handle`, or `Ops::press` for a button),
//! 3. answer: slash commands at their `response_url`, mentions in the thread
//!    (errors and refusals only to the asker, as ephemeral messages), button
//!    presses at theirs: the pressed message replaced, or a note to the presser.
//!
//! Every request's [`Context`] carries the user's Slack user groups from the
//! [`directory`] (cached; empty when Slack will not say), so policies that
//! name groups work for commands and clicks alike.
//!
//! # Parts
//! - [`signature`]: request signing check.
//! - [`payload`]: inbound payloads → typed requests.
//! - [`blocks`]: `Reply` → Block Kit within Slack's limits.
//! - [`web`]: Web API calls with retries.
//! - [`outbox`]: notifications' writes, durable, paced, made once.
//! - [`socket`]: the Socket Mode connection.
//! - [`directory`]: user → Slack user groups, cached.
//! - [`chat`]: the change flow's `Chat` port on the Web API.

use std::sync::Arc;

use chrono::Utc;
use opsbot_commands::ClickOutcome;
use opsbot_commands::values::{ChannelId, SlackUserId};
use opsbot_commands::{Context, Ops, Reply, Visibility};
use tokio_util::task::TaskTracker;
use tracing::{Instrument, error, info, info_span, warn};

pub mod blocks;
pub mod chat;
pub mod directory;
#[cfg(test)]
mod manifest_tests;
pub mod outbox;
pub mod payload;
pub mod signature;
pub mod socket;
pub mod web;

use directory::Directory;
use payload::{ButtonPress, Comment, Mention, SlashCommand};
use web::SlackWeb;

use opsbot_commands::ports::Clock;
use opsbot_commands::ports::store::Store;

/// Where a request is answered privately: a slash command's or a button
/// press's `response_url`, or an ephemeral message in a channel (mentions,
/// comment modals).
#[derive(Clone, Copy)]
enum Asker<'a> {
    ResponseUrl(&'a str),
    Ephemeral { channel: &'a ChannelId, user: &'a SlackUserId, thread_ts: Option<&'a str> },
}

/// The answer to a request the store could not record (so it did not run).
fn unrecorded(reference: &str) -> Reply {
    let text = format!(
        ":floppy_disk: Nothing was done: opsbot cannot record this request right now (ref: `{reference}`). Try again shortly."
    );
    Reply::ephemeral(text.clone()).section(text)
}

pub struct SlackBot {
    ops: Arc<Ops>,
    web: Arc<SlackWeb>,
    store: Arc<dyn Store>,
    directory: Directory,
    clock: Clock,
    tasks: TaskTracker,
}

impl SlackBot {
    pub fn new(ops: Arc<Ops>, web: Arc<SlackWeb>, store: Arc<dyn Store>, clock: Clock) -> Arc<Self> {
        let directory = Directory::new(web.clone());
        Arc::new(SlackBot { ops, web, store, directory, clock, tasks: TaskTracker::new() })
    }

    pub fn web(&self) -> &SlackWeb {
        &self.web
    }

    /// `true` the first time a request id is seen; `false` for a redelivery
    /// and when the store cannot record the claim. That fails closed: a
    /// request that cannot be claimed might be a retry of one that already
    /// ran, so nothing runs, and the asker alone is told so (with a reference
    /// that the log line carries too).
    async fn first_time(&self, key: &str, asker: Asker<'_>) -> bool {
        match self.store.claim(key, Utc::now()).await {
            Ok(true) => true,
            Ok(false) => {
                info!(key, "duplicate delivery ignored");
                false
            }
            Err(err) => {
                let reference = crate::request_id();
                error!(error = %err, key, reference, "cannot record the request id; nothing was run");
                if let Err(err) = self.tell(asker, &unrecorded(&reference)).await {
                    error!(error = %err, reference, "cannot tell the asker their request was not run");
                }
                false
            }
        }
    }

    /// Tells the asker alone, wherever this kind of request is answered.
    async fn tell(&self, asker: Asker<'_>, reply: &Reply) -> Result<(), web::WebError> {
        match asker {
            Asker::ResponseUrl(url) => self.web.respond_privately(url, reply).await,
            Asker::Ephemeral { channel, user, thread_ts } => {
                self.web.post_ephemeral(channel, user, thread_ts, reply).await
            }
        }
    }

    /// Runs a slash command in the background; its answer goes to `response_url`.
    pub fn slash(self: &Arc<Self>, cmd: SlashCommand) {
        let bot = self.clone();
        let span = info_span!("slash", trigger_id = %cmd.trigger_id);
        self.tasks.spawn(
            async move {
                let asker = Asker::ResponseUrl(&cmd.response_url);
                if !bot.first_time(&format!("slash:{}", cmd.trigger_id), asker).await {
                    return;
                }
                let ctx = bot.context(&cmd.user, cmd.user_name.clone(), &cmd.channel, cmd.channel_name.clone()).await;
                let reply = bot.ops.handle(&ctx, &cmd.text).await;
                if let Err(err) = bot.web.respond(&cmd.response_url, &reply).await {
                    error!(error = %err, request_id = %ctx.request_id, "cannot deliver the answer");
                }
            }
            .instrument(span),
        );
    }

    /// Runs a mention or DM in the background and answers in its thread.
    pub fn mention(self: &Arc<Self>, m: Mention) {
        let bot = self.clone();
        let span = info_span!("mention", event_id = %m.event_id);
        self.tasks.spawn(
            async move {
                let asker = Asker::Ephemeral { channel: &m.channel, user: &m.user, thread_ts: Some(&m.thread_ts) };
                if !bot.first_time(&format!("event:{}", m.event_id), asker).await {
                    return;
                }
                let name = bot.web.user_name(&m.user).await.map(|n| n.to_string());
                let ctx = bot.context(&m.user, name, &m.channel, None).await;
                let reply = bot.ops.handle(&ctx, &m.text).await;
                let sent = match reply.visibility {
                    Visibility::InChannel => {
                        bot.web.post_message(&m.channel, Some(&m.thread_ts), &reply).await.map(drop)
                    }
                    Visibility::Ephemeral => {
                        bot.web.post_ephemeral(&m.channel, &m.user, Some(&m.thread_ts), &reply).await
                    }
                };
                if let Err(err) = sent {
                    error!(error = %err, request_id = %ctx.request_id, "cannot deliver the answer");
                }
            }
            .instrument(span),
        );
    }

    /// Runs a button press in the background: replaces the pressed message or
    /// tells the presser why not, at the press's `response_url`.
    pub fn click(self: &Arc<Self>, press: ButtonPress) {
        let bot = self.clone();
        let span = info_span!("click", trigger_id = %press.trigger_id, user = %press.user, action = ?press.press);
        self.tasks.spawn(
            async move {
                if !bot.first_time(&press.dedup_key(), Asker::ResponseUrl(&press.response_url)).await {
                    return;
                }
                if let opsbot_commands::click::Press::Ask(line) = &press.press {
                    if let Err(err) = bot.web.open_comment_modal(&press.trigger_id, line, &press.channel).await {
                        error!(error = %err, "cannot open the comment modal");
                    }
                    return;
                }
                // A press carries no name; the approval summary AWS keeps wants one.
                let name = bot.web.user_name(&press.user).await.map(|n| n.to_string());
                let ctx = bot.context(&press.user, name, &press.channel, None).await;
                let sent = match bot.ops.press(&ctx, &press.press).await {
                    ClickOutcome::Replace(reply) => bot.web.respond_replacing(&press.response_url, &reply).await,
                    ClickOutcome::Note(reply) => bot.web.respond_privately(&press.response_url, &reply).await,
                };
                if let Err(err) = sent {
                    error!(error = %err, "cannot deliver the outcome of a click");
                }
            }
            .instrument(span),
        );
    }

    /// Runs a comment modal's command line with the comment, as the person
    /// who typed it; the answer (a plan to confirm, or why not) goes to them
    /// alone in the channel the button was in.
    pub fn comment(self: &Arc<Self>, comment: Comment) {
        let bot = self.clone();
        let span = info_span!("comment", view = %comment.view_id, user = %comment.user);
        self.tasks.spawn(
            async move {
                let asker = Asker::Ephemeral { channel: &comment.channel, user: &comment.user, thread_ts: None };
                if !bot.first_time(&comment.dedup_key(), asker).await {
                    return;
                }
                let name = bot.web.user_name(&comment.user).await.map(|n| n.to_string());
                let ctx = bot.context(&comment.user, name, &comment.channel, None).await;
                let typed = opsbot_commands::text::one_line(&comment.comment);
                let line = if typed.is_empty() {
                    comment.line.clone()
                } else {
                    format!("{} {}", comment.line, opsbot_commands::spec::quoted(&typed))
                };
                let reply = bot.ops.handle(&ctx, &line).await;
                if let Err(err) = bot.web.post_ephemeral(&comment.channel, &comment.user, None, &reply).await {
                    error!(error = %err, "cannot deliver the answer to a comment");
                }
            }
            .instrument(span),
        );
    }

    /// Waits for answers and changes still being worked on (graceful
    /// shutdown); both share the `within` budget.
    pub async fn drain(&self, within: std::time::Duration) {
        self.tasks.close();
        let answers = async {
            if tokio::time::timeout(within, self.tasks.wait()).await.is_err() {
                warn!(pending = self.tasks.len(), "shutting down with answers still pending");
            }
        };
        // At once, not after the answers: changes being followed are handed
        // over now, so another replica carries them on without a gap.
        tokio::join!(answers, self.ops.drain(within));
    }

    /// The request's context: who, where, their groups, and now.
    async fn context(
        &self,
        user: &SlackUserId,
        user_name: Option<String>,
        channel: &ChannelId,
        channel_name: Option<String>,
    ) -> Context {
        Context {
            request_id: crate::request_id(),
            user: user.clone(),
            user_name,
            groups: self.directory.groups(user).await,
            channel: channel.clone(),
            channel_name,
            now: (self.clock)(),
        }
    }
}
