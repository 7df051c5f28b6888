//! [`Ops`], the command runner: parse → policy → run → reply. Every adapter
//! (Slack socket, Slack HTTP, console) calls [`Ops::handle`] for a typed line
//! and [`Ops::press`] for a button, and nothing else, so a command behaves
//! the same wherever it is typed.
//!
//! A read is answered here. A change the policy lets through (maybe with an
//! approval) goes to [`Changes`], the change lifecycle, which `Ops` owns;
//! errors become replies in [`crate::error_reply`]. (This was once called the
//! "pipeline"; the word now means CodePipeline only.)

use std::sync::Arc;

use opsbot_policies::Decision;

use crate::live_policy::LivePolicy;
use tracing::{Instrument, error, info};

use crate::change::identity::Identity;
use crate::change::lifecycle::Changes;
use crate::change::messages::{ClickOutcome, note};
use crate::change::{Approval, ChangeRequest, audit, params_hash};
use crate::click::{Click, Press};
use crate::cmd::{Command, is_forced, resolve};
use crate::command::Reach;
use crate::context::Context;
use crate::error_reply::{denied, gateway_reply, store_down, usage_reply};
use crate::hooks::{ParamHook, ParamHooks};
use crate::mrkdwn;
use crate::ports::alerts::{Alerts, Unfollowed};
use crate::ports::chat::Chat;
use crate::ports::observe::{Observe, Outcome, UNPARSED, Unobserved};
use crate::ports::store::{AuditEvent, Store};
use crate::ports::{Accounts, Clock, Gateways, HomeOnly, Time};
use crate::reply::Reply;
use crate::target::Target;

/// A second press of the same Run button by the same user within this
/// window is answered with a note instead of a second plan.
pub const PRESS_WINDOW: chrono::Duration = chrono::Duration::seconds(10);

/// Runs commands: reads itself, changes through [`Changes`].
pub struct Ops {
    /// The bot's own gateways, for reads.
    aws: Gateways,
    /// Read at each decision: a reload applies to the next command.
    policy: LivePolicy,
    /// The audit trail (`audit` reads it; refusals are written to it) and
    /// button-press claims.
    store: Arc<dyn Store>,
    /// The alerts `alerts` and `alert ack` read and take.
    alerts: Arc<dyn Alerts>,
    changes: Changes,
    /// Told every command's outcome and every policy decision.
    observer: Arc<dyn Observe>,
    /// The accounts and regions a line may name, and their gateways.
    accounts: Arc<dyn Accounts>,
}

impl Ops {
    pub fn new(aws: Gateways, policy: impl Into<LivePolicy>, store: Arc<dyn Store>, chat: Arc<dyn Chat>) -> Self {
        let policy = policy.into();
        let changes = Changes::new(aws.clone(), policy.clone(), store.clone(), chat);
        let (alerts, observer, accounts) = (Arc::new(Unfollowed), Arc::new(Unobserved), Arc::new(HomeOnly));
        Ops { aws, policy, store, alerts, changes, observer, accounts }
    }

    /// Tells `observer` how each command ended, what the policy decided and
    /// how each change moves on.
    pub fn with_observer(mut self, observer: Arc<dyn Observe>) -> Self {
        self.changes = self.changes.with_observer(observer.clone());
        self.observer = observer;
        self
    }

    /// Reads the time from `clock` instead of the system's (tests move it).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.changes = self.changes.with_clock(clock);
        self
    }

    /// Names this replica `name` on the leases of the changes it runs
    /// (tests run two replicas in one process).
    pub fn with_replica(mut self, name: &str) -> Self {
        self.changes = self.changes.with_replica(name);
        self
    }

    /// The alerts of the alarm notifications this process follows.
    pub fn with_alerts(mut self, alerts: Arc<dyn Alerts>) -> Self {
        self.alerts = alerts;
        self
    }

    /// Adds the `on_param_change` hooks, judged by this runner's policy.
    pub fn with_param_hooks(mut self, hooks: Vec<ParamHook>) -> Self {
        let hooks = Arc::new(ParamHooks::new(hooks, self.policy.clone()));
        self.aws.param_hooks = hooks.clone();
        self.changes = self.changes.with_param_hooks(hooks);
        self
    }

    /// Runs changes under the requester's identity (`aws.assume_role`) rather
    /// than the bot's; reads keep the bot's gateways.
    pub fn with_identity(mut self, identity: Arc<dyn Identity>) -> Self {
        self.changes = self.changes.with_identity(identity);
        self
    }

    /// Lets lines name the accounts and regions of `accounts` (`--account`,
    /// `--region`, `prod:` prefixes), read and changed through its gateways.
    pub fn with_accounts(mut self, accounts: Arc<dyn Accounts>) -> Self {
        self.changes = self.changes.with_accounts(accounts.clone());
        self.accounts = accounts;
        self
    }

    /// Stops running changes: followed ones are handed over, ones in their
    /// AWS call get up to `within` (see [`Changes::drain`]).
    pub async fn drain(&self, within: std::time::Duration) {
        self.changes.drain(within).await;
    }

    /// Takes over running changes whose replica stopped or died (see [`Changes::recover`]).
    pub async fn recover(&self) {
        self.changes.recover().await;
    }

    /// Expires every change whose confirmation or approval time ran out; the
    /// application calls this periodically.
    pub async fn expire_overdue(&self, now: Time) {
        self.changes.expire_overdue(now).await;
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
        let started = std::time::Instant::now();
        let (name, outcome, reply) = self.handle_inner(ctx, text).instrument(span).await;
        self.observer.command(name, outcome, started.elapsed());
        reply
    }

    /// The reply, with the command's name and how it ended for the observer.
    async fn handle_inner(&self, ctx: &Context, text: &str) -> (&'static str, Outcome, Reply) {
        let parsed = resolve(text, &self.accounts.names()).and_then(|line| Ok((Command::parse(&line)?, line)));
        let (command, canonical) = match parsed {
            Ok(parsed) => parsed,
            Err(err) => {
                info!(error = %err, "usage error");
                return (UNPARSED, Outcome::UsageError, usage_reply(&err));
            }
        };
        let spec = command.spec();
        tracing::Span::current().record("command", spec.name);
        let decision = command.judge(&self.policy.current(), ctx, &canonical);
        self.observer.decision(spec.name, decision.kind());
        let Some(change) = command.as_change() else {
            let (outcome, reply) = match decision {
                Decision::Allow { .. } => self.run_read(ctx, &command, &Target::of_line(&canonical)).await,
                Decision::Deny { reason, .. } | Decision::NeedsApproval { reason, .. } => {
                    (Outcome::Denied, denied(spec.name, &reason))
                }
            };
            return (spec.name, outcome, reply);
        };
        let shown = command.shown(&canonical);
        let rule = decision.rule().map(|r| r.to_string());
        let force = is_forced(&canonical);
        let change_request = ChangeRequest { command: spec.name, canonical: &canonical, shown: &shown, rule, force };
        match decision {
            Decision::Deny { reason, .. } => {
                info!(%reason, "denied by policy");
                let mut record = audit::of_request(ctx, &change_request, AuditEvent::Denied);
                record.decision = Some("deny".into());
                record.detail = Some(reason.clone());
                self.observer.change(spec.name, AuditEvent::Denied);
                audit::append(self.store.as_ref(), record).await;
                (spec.name, Outcome::Denied, denied(spec.name, &reason))
            }
            Decision::Allow { .. } => {
                (spec.name, Outcome::Requested, self.changes.request(ctx, &change_request, change, None).await)
            }
            Decision::NeedsApproval { approvers, ttl, .. } => {
                let approval = Approval { role: approvers, ttl };
                let reply = self.changes.request(ctx, &change_request, change, Some(approval)).await;
                (spec.name, Outcome::Requested, reply)
            }
        }
    }

    async fn run_read(&self, ctx: &Context, command: &Command, target: &Target) -> (Outcome, Reply) {
        let elsewhere;
        let aws = if target.is_home() {
            &self.aws
        } else {
            match self.accounts.reads(target).await {
                Ok(aws) => {
                    elsewhere = aws;
                    &elsewhere
                }
                Err(err) => return (Outcome::Failed, gateway_reply(ctx, &err)),
            }
        };
        let reach = Reach { aws, store: self.store.as_ref(), alerts: self.alerts.as_ref(), policy: &self.policy };
        match command.run(ctx, &reach).await {
            Ok(reply) => {
                info!("answered");
                // An answer from elsewhere says where it comes from.
                let reply = match target.label() {
                    Some(place) => reply.context(vec![mrkdwn!("In *{}*", place)]),
                    None => reply,
                };
                (Outcome::Answered, reply)
            }
            Err(err) => (Outcome::Failed, gateway_reply(ctx, &err)),
        }
    }

    /// A change's button was pressed by `ctx.user`.
    pub async fn click(&self, ctx: &Context, click: &Click) -> ClickOutcome {
        self.changes.click(ctx, click).await
    }

    /// A button was pressed by `ctx.user`: a change's, or one that runs a
    /// command line as them (answered to them alone).
    pub async fn press(&self, ctx: &Context, press: &Press) -> ClickOutcome {
        match press {
            Press::Change(click) => self.changes.click(ctx, click).await,
            Press::Run(line) => match self.first_press(ctx, line).await {
                Ok(true) => ClickOutcome::Note(self.handle(ctx, line).await),
                Ok(false) => note(mrkdwn!(":point_up: You just pressed this; see the plan above.")),
                Err(()) => ClickOutcome::Note(store_down(ctx)),
            },
            // Only Slack can ask in a modal; elsewhere say how to type it.
            Press::Ask(line) => {
                let how = mrkdwn!("Add your comment to the command: `{} your comment`", line);
                ClickOutcome::Note(Reply::ephemeral(how.plain().replace('`', "")).section(how))
            }
        }
    }

    /// Whether this press of a Run button is the first by `ctx.user` within
    /// [`PRESS_WINDOW`]: a second one (a double click, or an impatient press
    /// again; Slack gives each its own trigger id) would show a second plan.
    /// Claims are once-only and kept a day, so the window is made of buckets:
    /// a press claims its bucket and the next one. A second press less than a
    /// window later always finds one of them taken; one two windows later
    /// never does; in between it depends on where the buckets fall. `Err`
    /// when the claim cannot be written: then nothing runs (fail closed).
    async fn first_press(&self, ctx: &Context, line: &str) -> Result<bool, ()> {
        let bucket = ctx.now.timestamp().div_euclid(PRESS_WINDOW.num_seconds());
        let key = |b: i64| format!("press:{}:{}:{b}", ctx.user, params_hash(line));
        for b in [bucket, bucket + 1] {
            match self.store.claim(&key(b), ctx.now).await {
                Ok(true) => {}
                Ok(false) => return Ok(false),
                Err(err) => {
                    error!(error = %err, "cannot claim the button press");
                    return Err(());
                }
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
#[path = "accounts_tests.rs"]
mod accounts_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::messages::mention;
    use crate::cmd::{ENTRIES, default_policy};
    use crate::testing::{FakeAws, MemoryChat, MemoryStore, ctx};
    use crate::{GatewayError, Visibility};
    use opsbot_policies::Request;

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
        let policy = opsbot_policies::Policy::from_yaml(yaml, std::path::Path::new("p.yaml"), &known).unwrap();
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

    /// Records what the runner tells its observer, one line each.
    #[derive(Default)]
    struct Seen(std::sync::Mutex<Vec<String>>);

    impl Observe for Seen {
        fn command(&self, command: &'static str, outcome: Outcome, _: std::time::Duration) {
            self.0.lock().unwrap().push(format!("{command} {}", outcome.as_str()));
        }
        fn decision(&self, command: &'static str, decision: &'static str) {
            self.0.lock().unwrap().push(format!("{command} {decision}"));
        }
        fn change(&self, command: &'static str, event: AuditEvent) {
            self.0.lock().unwrap().push(format!("{command} change {}", event.as_str()));
        }
    }

    #[tokio::test]
    async fn every_line_is_observed_with_its_command_its_outcome_and_the_policy_decision() {
        let seen = Arc::new(Seen::default());
        let runner = ops(FakeAws::default()).with_observer(seen.clone());
        for line in ["pipelines", "scale prod/api 3", "frobnicate now"] {
            runner.handle(&ctx(), line).await;
        }
        let failing = FakeAws { fail_with: Some(|| GatewayError::Throttled), ..FakeAws::default() };
        ops(failing).with_observer(seen.clone()).handle(&ctx(), "alarms").await;
        let seen = seen.0.lock().unwrap().clone();
        assert_eq!(
            seen,
            [
                "pipelines allow",
                "pipelines answered",
                "scale deny",
                "scale change denied",
                "scale denied",
                "unparsed usage_error",
                "alarms allow",
                "alarms failed",
            ]
        );
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
