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
use tokio_util::task::TaskTracker;
use tracing::{Instrument, info, warn};

use crate::change::flow::{Approval, ChangeRequest};
use crate::change::identity::Identity;
use crate::cmd::{Command, Context, ENTRIES};
use crate::error::{GatewayError, UsageError};
use crate::mrkdwn;
use crate::ports::Gateways;
use crate::ports::alerts::Alerts;
use crate::ports::chat::Chat;
use crate::ports::store::{AuditEvent, Store};
use crate::reply::{Mrkdwn, Reply};
use crate::spec::canonical;

/// The read-only commands open to everyone under the built-in policy.
pub fn default_policy() -> Policy {
    Policy::builtin(ENTRIES.iter().filter(|e| !e.spec.changes).map(|e| e.spec.name))
}

/// The command pipeline and everything it reaches.
pub struct Ops {
    pub(crate) aws: Gateways,
    pub(crate) policy: Arc<Policy>,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) chat: Arc<dyn Chat>,
    /// Changes being executed and followed, so a stop can wait for them.
    pub(crate) running: TaskTracker,
    /// Whose AWS identity changes run under; `None`: the bot's own (`aws`).
    pub(crate) identity: Option<Arc<dyn Identity>>,
    /// The alerts `alerts` and `alert ack` read and take.
    pub(crate) alerts: Arc<dyn Alerts>,
    /// What time it is when a change runs (its policy is judged again then).
    pub(crate) clock: Clock,
}

/// Where [`Ops`] reads the time from outside a request (a request brings its own `now`).
pub type Clock = Arc<dyn Fn() -> crate::ports::Time + Send + Sync>;

impl Ops {
    pub fn new(aws: Gateways, policy: Arc<Policy>, store: Arc<dyn Store>, chat: Arc<dyn Chat>) -> Self {
        let alerts = Arc::new(crate::ports::alerts::Unfollowed);
        let clock: Clock = Arc::new(chrono::Utc::now);
        Ops { aws, policy, store, chat, running: TaskTracker::new(), identity: None, alerts, clock }
    }

    /// Reads the time from `clock` instead of the system's (tests move it).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The alerts of the alarm notifications this process follows.
    pub fn with_alerts(mut self, alerts: Arc<dyn Alerts>) -> Self {
        self.alerts = alerts;
        self
    }

    /// Waits (up to `within`) for changes still executing; called on stop.
    /// Whatever is still running then is found by [`Ops::recover`] on the
    /// next start.
    pub async fn drain(&self, within: std::time::Duration) {
        self.running.close();
        if tokio::time::timeout(within, self.running.wait()).await.is_err() {
            warn!(pending = self.running.len(), "stopping with changes still running");
        }
    }

    /// Adds the `on_param_change` hooks, judged by this pipeline's policy.
    pub fn with_param_hooks(mut self, hooks: Vec<crate::cmd::param_hooks::ParamHook>) -> Self {
        self.aws.param_hooks = Arc::new(crate::cmd::param_hooks::ParamHooks::new(hooks, self.policy.clone()));
        self
    }

    /// Runs changes under the requester's identity (`aws.assume_role`) rather
    /// than the bot's; reads keep the bot's gateways.
    pub fn with_identity(mut self, identity: Arc<dyn Identity>) -> Self {
        self.identity = Some(identity);
        self
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
        let (command, canonical) = match Command::parse(text).and_then(|c| Ok((c, canonical(text)?))) {
            Ok(parsed) => parsed,
            Err(err) => {
                info!(error = %err, "usage error");
                return usage_reply(&err);
            }
        };
        let spec = command.spec();
        tracing::Span::current().record("command", spec.name);
        let decision = self.judge(ctx, &command, &canonical);
        let Some(change) = command.as_change() else {
            return match decision {
                Decision::Allow { .. } => self.run_read(ctx, &command).await,
                Decision::Deny { reason, .. } | Decision::NeedsApproval { reason, .. } => denied(spec.name, &reason),
            };
        };
        let shown = command.shown(&canonical);
        let rule = decision.rule().map(|r| r.to_string());
        let force = crate::cmd::is_forced(&canonical);
        let change_request = ChangeRequest { command: spec.name, canonical: &canonical, shown: &shown, rule, force };
        match decision {
            Decision::Deny { reason, .. } => {
                info!(%reason, "denied by policy");
                self.audit(ctx, &change_request, AuditEvent::Denied, |r| {
                    r.decision = Some("deny".into());
                    r.detail = Some(reason.clone());
                })
                .await;
                denied(spec.name, &reason)
            }
            Decision::Allow { .. } => self.request_change(ctx, &change_request, change, None).await,
            Decision::NeedsApproval { approvers, ttl, .. } => {
                let approval = Approval { role: approvers, ttl };
                self.request_change(ctx, &change_request, change, Some(approval)).await
            }
        }
    }

    /// The policy's decision on `command` (typed as `canonical`) asked by `ctx`'s user, there and then.
    pub(crate) fn judge(&self, ctx: &Context, command: &Command, canonical: &str) -> Decision {
        let args = command.policy_args();
        let args: Vec<(&str, String)> = args.iter().map(|(k, v)| (*k, v.clone())).collect();
        let request = Request {
            command: command.spec().name,
            user: ctx.user.as_str(),
            groups: &ctx.groups,
            channel: ctx.channel.as_str(),
            args: &args,
            at: ctx.now,
            force: crate::cmd::is_forced(canonical),
        };
        self.policy.evaluate(&request)
    }

    async fn run_read(&self, ctx: &Context, command: &Command) -> Reply {
        match command.run(ctx, &self.aws, self.store.as_ref(), self.alerts.as_ref()).await {
            Ok(reply) => {
                info!("answered");
                reply
            }
            Err(err) => self.gateway_reply(ctx, &err),
        }
    }

    /// Turns an AWS failure into plain words with the next step; the cause chain
    /// goes to the log, never to the channel.
    pub(crate) fn gateway_reply(&self, ctx: &Context, err: &GatewayError) -> Reply {
        gateway_reply(ctx, err)
    }
}

/// How to call a role's members in a message: its Slack user groups and users.
pub fn mention(policy: &Policy, role: &str) -> Mrkdwn {
    let Some(members) = policy.role(role) else { return mrkdwn!("*{}*", role) };
    if members.everyone() {
        return Mrkdwn::here();
    }
    let groups = members.groups().iter().map(|g| Mrkdwn::subteam(g));
    let users = members.users().iter().map(|u| Mrkdwn::user(u));
    let all: Vec<Mrkdwn> = groups.chain(users).collect();
    if all.is_empty() { mrkdwn!("*{}*", role) } else { Mrkdwn::join(all, " ") }
}

fn denied(command: &str, reason: &str) -> Reply {
    Reply::ephemeral(format!("You can't run `{command}` here: {reason}")).section(mrkdwn!(
        ":no_entry: You can't run `{}` here: {}",
        command,
        reason
    ))
}

fn usage_reply(err: &UsageError) -> Reply {
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

fn gateway_reply(ctx: &Context, err: &GatewayError) -> Reply {
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
        GatewayError::Other { .. } => mrkdwn!(":boom: Something went wrong (ref: `{}`).", ctx.request_id),
    };
    warn!(error = %err, cause = %chain(err), "command failed");
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FakeAws, MemoryChat, MemoryStore, ctx};
    use crate::{GatewayError, Visibility};

    fn ops(aws: FakeAws) -> Ops {
        let store = Arc::new(MemoryStore::default());
        Ops::new(aws.gateways(), Arc::new(default_policy()), store, Arc::new(MemoryChat::default()))
    }

    async fn failing_with(err: fn() -> GatewayError, text: &str) -> Reply {
        ops(FakeAws { fail_with: Some(err), ..FakeAws::default() }).handle(&ctx(), text).await
    }

    #[tokio::test]
    async fn a_missing_thing_is_named_with_what_to_do_only_to_the_asker() {
        let reply = ops(FakeAws::default()).handle(&ctx(), "pipeline nope").await;
        assert_eq!(reply.visibility, Visibility::Ephemeral);
        assert!(reply.text().contains("pipeline `nope` was not found. Check the spelling"), "{}", reply.text());
    }

    #[tokio::test]
    async fn a_command_argument_echoed_in_a_usage_error_cannot_ping_or_spoof_a_link() {
        for hostile in ["<!here>", "<!channel>", "<@U123>", "<https://evil|review>"] {
            for line in [format!("pipeline {hostile}"), format!("{hostile} now")] {
                let reply = ops(FakeAws::default()).handle(&ctx(), &line).await;
                let text = reply.text();
                assert!(!text.contains(hostile), "{line}: {text}");
                assert!(text.contains(&crate::mrkdwn::esc(hostile)) || text.contains("&lt;"), "{line}: {text}");
                assert!(!text.contains("&amp;lt;"), "escaped once: {text}");
            }
        }
    }

    #[test]
    fn a_roles_deliberate_mentions_still_ping_and_an_unknown_role_is_only_named() {
        let yaml = "roles:\n  oncall: { users: [U0ANN], groups: [S0ONCALL] }\n  devs: { everyone: true }\nrules: []\n";
        let known: Vec<&str> = ENTRIES.iter().map(|e| e.spec.name).collect();
        let policy = Policy::from_yaml(yaml, std::path::Path::new("p.yaml"), &known).unwrap();
        assert_eq!(mention(&policy, "oncall").as_str(), "<!subteam^S0ONCALL> <@U0ANN>");
        assert_eq!(mention(&policy, "devs").as_str(), "<!here>");
        assert_eq!(mention(&policy, "<!channel>").as_str(), "*&lt;!channel&gt;*");
    }

    #[tokio::test]
    async fn access_denied_by_aws_says_whose_permission_is_missing() {
        let err = || GatewayError::AccessDenied { message: "not authorized to perform ssm:GetParameter".into() };
        let text = failing_with(err, "param get /a").await.text();
        assert!(text.contains("ssm:GetParameter") && text.contains("grant its role"), "{text}");
    }

    #[tokio::test]
    async fn throttling_that_outlasts_the_retries_asks_to_try_again() {
        let text = failing_with(|| GatewayError::Throttled, "alarms").await.text();
        assert!(text.contains("throttling") && text.contains("Try again in a minute"), "{text}");
    }

    #[tokio::test]
    async fn an_internal_error_shows_a_reference_and_never_its_cause() {
        let err = || GatewayError::other("describe services", std::io::Error::other("secret detail 42"));
        let reply = failing_with(err, "services").await;
        assert!(reply.text().contains("Something went wrong (ref: `req-1`)"), "{}", reply.text());
        assert!(!reply.text().contains("secret detail") && !reply.fallback.contains("secret detail"));
    }

    #[tokio::test]
    async fn bad_syntax_gets_usage_and_a_suggestion() {
        let reply = ops(FakeAws::default()).handle(&ctx(), "service prod").await;
        assert_eq!(reply.visibility, Visibility::Ephemeral);
        let text = reply.text();
        assert!(
            text.contains("is not a valid service: use CLUSTER/NAME") && text.contains("Usage: `service CLUSTER/NAME`"),
            "{text}"
        );
    }

    #[test]
    fn the_built_in_policy_opens_every_read_command_and_nothing_else() {
        let policy = default_policy();
        for entry in ENTRIES {
            let request = Request {
                command: entry.spec.name,
                user: "U1",
                groups: &[],
                channel: "C1",
                args: &[],
                at: crate::testing::now(),
                force: false,
            };
            assert_eq!(policy.evaluate(&request).is_allowed(), !entry.spec.changes, "{}", entry.spec.name);
        }
        let deploy = Request {
            command: "deploy",
            user: "U1",
            groups: &[],
            channel: "C1",
            args: &[],
            at: crate::testing::now(),
            force: false,
        };
        assert!(!policy.evaluate(&deploy).is_allowed());
    }
}
