//! The life of a change: request → confirm → (approve) → execute → follow,
//! kept by [`Changes`], which [`crate::ops::Ops`] owns and hands every
//! change the policy let through, and every click on a change's button.
//!
//! Every step checks who clicks, then moves the change with a compare-and-set
//! transition in the store; only the caller whose transition succeeded goes
//! on. Each step is audited ([`super::audit`]); the record of intent
//! (`executing`) is written before AWS is touched, and a failure to write it
//! stops the change. What each step shows is [`super::messages`].
//!
//! Just before a change runs, the policy judges it again (its stored command
//! line, requester, channel, `--force`, at that moment): a freeze that began,
//! or a rule removed or narrowed since the request, stops it — refused,
//! audited, not run.
//!
//! A change's AWS calls after confirmation (the re-plan, the action, the
//! follow-up checks) go through gateways resolved once for its requester (see
//! [`super::identity`]); if they cannot be had, the change ends failed and
//! runs nothing.

use std::sync::Arc;

use opsbot_policies::{Decision, Policy};
use tokio_util::task::TaskTracker;
use tracing::{error, info, warn};

use crate::click::{Click, ClickKind};
use crate::cmd::{Command, FORCE, is_forced};
use crate::context::Context;
use crate::error::{GatewayError, GatewayResult};
use crate::error_reply::{gateway_reply, store_down};
use crate::hooks::ParamHooks;
use crate::mrkdwn;
use crate::mrkdwn::{Mrkdwn, esc};
use crate::ports::chat::{Chat, MessageRef};
use crate::ports::store::{AuditEvent, AuditRecord, ChangeId, ChangeRecord, ChangeState, Store};
use crate::ports::{Clock, Gateways, Time};
use crate::reply::Reply;
use crate::text::duration;
use crate::values::SlackUserId;

use super::identity::Identity;
use super::messages::{self, ClickOutcome, note};
use super::{Approval, ChangeCommand, ChangeRequest, Outcome, Plan, Progress, Verdict, audit, params_hash};

/// How long a plan waits for its requester's confirmation when no approval is needed.
pub const CONFIRM_WITHIN: chrono::Duration = chrono::Duration::minutes(10);

/// The change lifecycle and everything it reaches. Cheap to clone (it is
/// handles all the way down): a confirmed change runs on a clone, tracked by
/// `running`.
#[derive(Clone)]
pub struct Changes {
    /// The bot's own gateways: plans, and changes when no identity is set.
    aws: Gateways,
    /// Judges a change again just before it runs; names approvers.
    policy: Arc<Policy>,
    store: Arc<dyn Store>,
    /// Where plans, approval requests and progress are shown.
    chat: Arc<dyn Chat>,
    /// Changes being executed and followed, so a stop can wait for them.
    running: TaskTracker,
    /// Whose AWS identity changes run under; `None`: the bot's own (`aws`).
    identity: Option<Arc<dyn Identity>>,
    /// What time it is when a change runs (its policy is judged again then).
    clock: Clock,
}

impl Changes {
    pub fn new(aws: Gateways, policy: Arc<Policy>, store: Arc<dyn Store>, chat: Arc<dyn Chat>) -> Self {
        let clock = crate::ports::system_clock();
        Changes { aws, policy, store, chat, running: TaskTracker::new(), identity: None, clock }
    }

    /// Reads the time from `clock` instead of the system's (tests move it).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Starts `on_param_change` hooks after parameter writes.
    pub fn with_param_hooks(mut self, hooks: Arc<ParamHooks>) -> Self {
        self.aws.param_hooks = hooks;
        self
    }

    /// Runs changes under the requester's identity rather than the bot's.
    pub fn with_identity(mut self, identity: Arc<dyn Identity>) -> Self {
        self.identity = Some(identity);
        self
    }

    /// Waits (up to `within`) for changes still executing; called on stop.
    /// Whatever is still running then is found by [`Changes::recover`] on
    /// the next start.
    pub async fn drain(&self, within: std::time::Duration) {
        self.running.close();
        if tokio::time::timeout(within, self.running.wait()).await.is_err() {
            warn!(pending = self.running.len(), "stopping with changes still running");
        }
    }
}

impl Changes {
    /// A change was asked for and the policy let it through (maybe with an
    /// approval): plan it and show the plan with Confirm / Cancel.
    pub async fn request(
        &self,
        ctx: &Context,
        request: &ChangeRequest<'_>,
        change: &dyn ChangeCommand,
        approval: Option<Approval>,
    ) -> Reply {
        let mut plan = match change.plan(ctx, &self.aws).await {
            Ok(plan) => plan,
            Err(err) => return gateway_reply(ctx, &err),
        };
        let mut forced_past = None;
        match &plan.verdict {
            Verdict::Ready => {}
            Verdict::Unsafe(reasons) if request.force => {
                plan.lines.extend(reasons.iter().map(|r| format!(":warning: *forced* despite: {}", esc(r))));
                forced_past = Some(format!("forced despite: {}", reasons.join("; ")));
            }
            Verdict::NoOp(why) => {
                let detail = format!("nothing to do: {why}");
                self.audit_request(ctx, request, AuditEvent::Refused, |r| r.detail = Some(detail)).await;
                return messages::nothing_to_do(why);
            }
            Verdict::Moved(why) => {
                self.audit_request(ctx, request, AuditEvent::Refused, |r| r.detail = Some(why.clone())).await;
                return messages::moved(why);
            }
            Verdict::Unsafe(reasons) => {
                self.audit_request(ctx, request, AuditEvent::Refused, |r| r.detail = Some(reasons.join("; "))).await;
                return messages::unsafe_now(request.shown, reasons);
            }
        }
        // The pinned line keeps `--force`: it was allowed and shown with it.
        let pinned = change.pinned().map(|line| if request.force { format!("{line} {}", FORCE) } else { line });
        let (pinned_request, pinned_shown);
        let request = match &pinned {
            Some(line) => {
                // Shown with secret values masked, like the line as typed.
                pinned_shown = Command::parse(line).map(|c| c.shown(line)).unwrap_or_else(|_| line.clone());
                let rule = request.rule.clone();
                pinned_request = ChangeRequest { canonical: line, shown: &pinned_shown, rule, ..*request };
                &pinned_request
            }
            None => request,
        };
        let record = new_record(ctx, request, &plan, approval.as_ref());
        if let Err(err) = self.store.insert_change(&record).await {
            error!(error = %err, "cannot store the change");
            return store_down(ctx);
        }
        let decision = approval.as_ref().map(|a| format!("approval by {}", a.role)).unwrap_or("allow".into());
        let requested = |r: &mut AuditRecord| {
            r.decision = Some(decision);
            r.detail = forced_past;
        };
        if !self.audit_request(ctx, request, AuditEvent::Requested, requested).await {
            return store_down(ctx);
        }
        messages::plan_reply(&record, &plan, ctx)
    }

    /// A change's button was pressed by `ctx.user`.
    pub async fn click(&self, ctx: &Context, click: &Click) -> ClickOutcome {
        let record = match self.store.change(&click.change).await {
            Ok(Some(record)) => record,
            Ok(None) => {
                return note(mrkdwn!(
                    ":grey_question: This request is not known (any more). Ask again with the command."
                ));
            }
            Err(err) => {
                error!(error = %err, "cannot read the change");
                return ClickOutcome::Note(store_down(ctx));
            }
        };
        if record.hash != click.hash {
            warn!(change = %record.id, "click with a stale parameter hash refused");
            return note(mrkdwn!(
                ":warning: This button belongs to a different version of the request; nothing was done."
            ));
        }
        if record.state.is_final() || record.state == ChangeState::Running {
            return note(mrkdwn!(":information_source: This request is already {}.", messages::state_words(&record)));
        }
        if ctx.now > record.expires {
            self.expire(&record).await;
            return ClickOutcome::Replace(messages::expired_reply(&record));
        }
        match click.kind {
            ClickKind::Confirm | ClickKind::Cancel if ctx.user != record.requester => note(mrkdwn!(
                ":raised_hand: Only {} can confirm or cancel their request.",
                Mrkdwn::user(record.requester.as_str())
            )),
            ClickKind::Confirm => self.confirm(ctx, record).await,
            ClickKind::Cancel => self.cancel(ctx, record).await,
            ClickKind::Approve | ClickKind::Reject => self.decide(ctx, record, click.kind).await,
        }
    }

    async fn confirm(&self, ctx: &Context, record: ChangeRecord) -> ClickOutcome {
        let next = if record.approvers.is_some() { ChangeState::AwaitingApproval } else { ChangeState::Running };
        if !self.move_to(&record, ChangeState::AwaitingConfirmation, next, ctx).await {
            return note(mrkdwn!(":information_source: This request was already confirmed or cancelled."));
        }
        self.audit_change(&record, AuditEvent::Confirmed, None, |_| {}).await;
        match &record.approvers {
            Some(role) => {
                self.ask_for_approval(&record, role).await;
                ClickOutcome::Replace(messages::waiting_for_approval(&record, role, ctx))
            }
            None => {
                let changes = self.clone();
                self.running.spawn(async move { changes.execute(record, None).await });
                ClickOutcome::Replace(messages::confirmed())
            }
        }
    }

    async fn cancel(&self, ctx: &Context, record: ChangeRecord) -> ClickOutcome {
        if !self.move_to(&record, ChangeState::AwaitingConfirmation, ChangeState::Cancelled, ctx).await {
            return note(mrkdwn!(":information_source: This request was already confirmed or cancelled."));
        }
        self.audit_change(&record, AuditEvent::Cancelled, None, |_| {}).await;
        ClickOutcome::Replace(messages::cancelled(&record))
    }

    async fn decide(&self, ctx: &Context, record: ChangeRecord, kind: ClickKind) -> ClickOutcome {
        let Some(role) = record.approvers.clone() else {
            return note(mrkdwn!(":information_source: This request needs no approval."));
        };
        if ctx.user == record.requester {
            return note(mrkdwn!(
                ":no_entry: You can't approve or reject your own request — another member of the role must."
            ));
        }
        if !self.policy.may_approve(&role, ctx.user.as_str(), &ctx.groups) {
            return note(mrkdwn!(":no_entry: Only members of *{}* can approve or reject this.", role));
        }
        let (to, event) = match kind {
            ClickKind::Approve => (ChangeState::Running, AuditEvent::Approved),
            _ => (ChangeState::Rejected, AuditEvent::Rejected),
        };
        if !self.move_to(&record, ChangeState::AwaitingApproval, to, ctx).await {
            return note(mrkdwn!(":information_source: Someone else already decided this request."));
        }
        self.audit_change(&record, event, Some(&ctx.user), |_| {}).await;
        if event == AuditEvent::Rejected {
            self.show(&record, messages::rejected_reply(&record, ctx)).await;
        } else {
            let changes = self.clone();
            let approver = ctx.user.clone();
            self.running.spawn(async move { changes.execute(record, Some(approver)).await });
        }
        note(mrkdwn!(":ok_hand: {} — thanks.", if event == AuditEvent::Approved { "Approved" } else { "Rejected" }))
    }

    async fn move_to(&self, record: &ChangeRecord, from: ChangeState, to: ChangeState, ctx: &Context) -> bool {
        match self.store.transition(&record.id, from, to, Some(&ctx.user)).await {
            Ok(moved) => moved,
            Err(err) => {
                error!(error = %err, change = %record.id, "cannot move the change");
                false
            }
        }
    }

    async fn ask_for_approval(&self, record: &ChangeRecord, role: &str) {
        let reply = messages::approval_request(record, role, messages::mention(&self.policy, role));
        match self.chat.post(&record.channel, &reply).await {
            Ok(message) => self.remember(record, &message).await,
            Err(err) => error!(error = %err, change = %record.id, "cannot post the approval request"),
        }
    }

    async fn remember(&self, record: &ChangeRecord, message: &MessageRef) {
        if let Err(err) = self.store.set_message(&record.id, message).await {
            error!(error = %err, change = %record.id, "cannot remember the change's message");
        }
    }

    /// Shows `reply` in the change's channel message, posting it the first time.
    async fn show(&self, record: &ChangeRecord, reply: Reply) -> Option<MessageRef> {
        let current = self.store.change(&record.id).await.ok().flatten().and_then(|r| r.message);
        match current {
            Some(message) => {
                if let Err(err) = self.chat.update(&message, &reply).await {
                    warn!(error = %err, change = %record.id, "cannot update the change's message");
                }
                Some(message)
            }
            None => match self.chat.post(&record.channel, &reply).await {
                Ok(message) => {
                    self.remember(record, &message).await;
                    Some(message)
                }
                Err(err) => {
                    warn!(error = %err, change = %record.id, "cannot post the change's message");
                    None
                }
            },
        }
    }

    /// Runs a confirmed (and approved) change and follows it to its end.
    async fn execute(&self, mut record: ChangeRecord, approver: Option<SlackUserId>) {
        // Every message of the run names the approver (a later edit may be
        // the only one people see: edits of one message are coalesced).
        if approver.is_some() {
            record.decided_by = approver.clone();
        }
        let ctx = Context {
            request_id: record.id.0.clone(),
            user: record.requester.clone(),
            user_name: record.requester_name.clone(),
            groups: record.groups.clone(),
            channel: record.channel.clone(),
            channel_name: None,
            now: (self.clock)(),
        };
        let Some(command) = Command::parse(&record.text).ok().filter(|_| params_hash(&record.text) == record.hash)
        else {
            error!(change = %record.id, "stored change no longer parses to what was approved; not run");
            return self
                .finish(&record, false, "not run: the stored request no longer matches what was approved")
                .await;
        };
        let Some(change) = command.as_change() else { return };
        if let Some(why) = self.no_longer_allowed(&ctx, &record, &command, approver.as_ref()) {
            warn!(change = %record.id, %why, "the policy no longer allows the change; not run");
            self.audit_change(&record, AuditEvent::Refused, approver.as_ref(), |r| r.detail = Some(why.clone())).await;
            return self.finish(&record, false, &format!("not run: {}", esc(&why))).await;
        }
        let aws = match self.gateways_for(&record.requester).await {
            Ok(aws) => aws,
            Err(err) => {
                warn!(error = %err, change = %record.id, "cannot act as the requester in AWS; not run");
                let why = format!(
                    "not run: opsbot could not act as <@{}> in AWS — {}",
                    record.requester,
                    esc(&err.to_string())
                );
                self.audit_change(&record, AuditEvent::Failed, approver.as_ref(), |r| r.detail = Some(why.clone()))
                    .await;
                return self.finish(&record, false, &why).await;
            }
        };
        // Minutes may pass between the plan and the approval: look again, and
        // do nothing if it became unsafe or pointless meanwhile.
        if let Some(why) = self.still_not_ready(&ctx, &aws, change, is_forced(&record.text)).await {
            self.audit_change(&record, AuditEvent::Refused, approver.as_ref(), |r| r.detail = Some(why.clone())).await;
            return self.finish(&record, false, &format!("not run: {why}")).await;
        }
        if !self.audit_change(&record, AuditEvent::Executing, approver.as_ref(), |_| {}).await {
            return self.finish(&record, false, "not run: the audit log could not be written").await;
        }
        let by = approver.map(|a| format!(" (approved by <@{a}>)")).unwrap_or_default();
        self.show(
            &record,
            messages::progress_reply(&record, &format!(":arrows_counterclockwise: Running{by}…"), false),
        )
        .await;
        let outcome = match change.act(&ctx, &aws).await {
            Ok(outcome) => outcome,
            // Its target moved in the moment since the re-plan: refused, as there.
            Err(GatewayError::Moved { what }) => {
                self.audit_change(&record, AuditEvent::Refused, None, |r| r.detail = Some(what.clone())).await;
                return self.finish(&record, false, &format!("not run: {}", esc(&what))).await;
            }
            Err(err) => {
                let text = esc(&gateway_reply(&ctx, &err).fallback);
                self.audit_change(&record, AuditEvent::Failed, None, |r| r.detail = Some(err.to_string())).await;
                return self.finish(&record, false, &text).await;
            }
        };
        let ids = outcome.aws_request_ids.clone();
        self.audit_change(&record, AuditEvent::Executed, None, |r| r.aws_request_ids = ids).await;
        let done = self.follow(&ctx, &aws, &record, change, &outcome).await;
        let (ok, text) = match done {
            Progress::Done(text) => (true, text),
            Progress::Failed(text) | Progress::Running(text) => (false, text),
        };
        if !ok {
            self.audit_change(&record, AuditEvent::Failed, None, |r| r.detail = Some(text.clone())).await;
        }
        let mut lines = outcome.lines.clone();
        lines.extend((!text.is_empty()).then_some(text));
        self.finish(&record, ok, &lines.join("\n")).await;
    }

    /// The gateways a change of `requester` runs through: the ones acting as
    /// them when an [`Identity`](Identity) is set (with this
    /// bot's parameter hooks), else the bot's own.
    async fn gateways_for(&self, requester: &SlackUserId) -> GatewayResult<Gateways> {
        let Some(identity) = &self.identity else { return Ok(self.aws.clone()) };
        let mut aws = identity.gateways_for(requester).await?;
        aws.param_hooks = self.aws.param_hooks.clone();
        Ok(aws)
    }

    /// Why the policy, judged again now, no longer lets the stored change run,
    /// or `None` to go ahead. The rules or the freezes may have changed (a new
    /// policy after a restart) or a freeze may have begun since the request.
    /// A change that now needs an approval runs only if it got one from the
    /// same role; one from another role does not count, as opsbot cannot
    /// tell now whether its approver belongs to the new role.
    fn no_longer_allowed(
        &self,
        ctx: &Context,
        record: &ChangeRecord,
        command: &Command,
        approver: Option<&SlackUserId>,
    ) -> Option<String> {
        let decision = command.judge(&self.policy, ctx, &record.text);
        let rule = decision.rule().map(|r| format!(" (rule {r})")).unwrap_or_default();
        match decision {
            Decision::Allow { .. } => None,
            Decision::Deny { reason, .. } => Some(format!("the policy no longer allows it{rule}: {reason}")),
            Decision::NeedsApproval { approvers, .. }
                if approver.is_some() && record.approvers.as_deref() == Some(approvers.as_str()) =>
            {
                None
            }
            Decision::NeedsApproval { approvers, .. } => Some(format!(
                "the policy now needs an approval by {approvers}{rule} that this request did not get — ask again"
            )),
        }
    }

    /// Why a confirmed change should not run after all (its plan, made again
    /// now, is no longer ready), or `None` to go ahead. A forced change goes
    /// ahead while unsafe: it was planned, shown and approved that way.
    async fn still_not_ready(
        &self,
        ctx: &Context,
        aws: &Gateways,
        change: &dyn ChangeCommand,
        forced: bool,
    ) -> Option<String> {
        match change.plan(ctx, aws).await {
            Ok(Plan { verdict: Verdict::Ready, .. }) => None,
            Ok(Plan { verdict: Verdict::Unsafe(reasons), .. }) if forced => {
                warn!(reasons = %reasons.join("; "), "forced change runs although unsafe");
                None
            }
            Ok(Plan { verdict: Verdict::NoOp(why), .. }) => Some(format!("nothing to do any more — {}", esc(&why))),
            Ok(Plan { verdict: Verdict::Moved(why), .. }) => Some(esc(&why)),
            Ok(Plan { verdict: Verdict::Unsafe(reasons), .. }) => {
                Some(format!("it became unsafe since it was planned — {}", esc(&reasons.join("; "))))
            }
            Err(err) => Some(format!("cannot check it again: {}", esc(&gateway_reply(ctx, &err).fallback))),
        }
    }

    /// Checks progress until done, failed or timed out, editing the message as it goes.
    async fn follow(
        &self,
        ctx: &Context,
        aws: &Gateways,
        record: &ChangeRecord,
        change: &dyn ChangeCommand,
        outcome: &Outcome,
    ) -> Progress {
        let Some(follow) = outcome.follow else { return Progress::Done(String::new()) };
        let deadline = tokio::time::Instant::now() + follow.timeout;
        let mut last = String::new();
        loop {
            match change.check(ctx, aws, outcome).await {
                Ok(Progress::Running(now)) => {
                    if now != last {
                        self.show(
                            record,
                            messages::progress_reply(
                                record,
                                &format!(":arrows_counterclockwise: {}", esc(&now)),
                                false,
                            ),
                        )
                        .await;
                        last = now;
                    }
                }
                Ok(done) => return done,
                Err(err) => warn!(error = %err, change = %record.id, "progress check failed; trying again"),
            }
            if tokio::time::Instant::now() + follow.every > deadline {
                let waited =
                    duration(ctx.now, ctx.now + chrono::Duration::from_std(follow.timeout).unwrap_or_default());
                return Progress::Failed(format!(
                    "still not finished after {waited} — check `{}` for its state",
                    esc(&record.shown)
                ));
            }
            tokio::time::sleep(follow.every).await;
        }
    }

    async fn finish(&self, record: &ChangeRecord, ok: bool, text: &str) {
        let to = if ok { ChangeState::Succeeded } else { ChangeState::Failed };
        if let Err(err) = self.store.transition(&record.id, ChangeState::Running, to, None).await {
            error!(error = %err, change = %record.id, "cannot record the change's end");
        }
        info!(change = %record.id, ok, "change finished");
        let icon = if ok { ":white_check_mark:" } else { ":x:" };
        self.show(record, messages::progress_reply(record, &format!("{icon} {text}"), true)).await;
    }

    async fn expire(&self, record: &ChangeRecord) {
        if self.store.transition(&record.id, record.state, ChangeState::Expired, None).await.unwrap_or(false) {
            self.audit_change(record, AuditEvent::Expired, None, |_| {}).await;
            if record.message.is_some() {
                self.show(record, messages::expired_reply(record)).await;
            }
        }
    }

    /// Closes changes a previous run left `Running` (it stopped while executing
    /// or following them): they end as failed, saying plainly that their
    /// outcome is unknown, so nobody waits on a message that will never move.
    pub async fn recover(&self) {
        let interrupted = match self.store.in_state(ChangeState::Running).await {
            Ok(records) => records,
            Err(err) => return error!(error = %err, "cannot look for interrupted changes"),
        };
        for record in interrupted {
            warn!(change = %record.id, "change interrupted by a stop; marking it failed");
            let text = "opsbot stopped while this change was running, so its outcome is unknown — it may have been \
                        applied. Check the current state before trying again; `audit` shows what was recorded.";
            self.audit_change(&record, AuditEvent::Failed, None, |r| r.detail = Some("interrupted by a stop".into()))
                .await;
            self.finish(&record, false, text).await;
        }
    }

    /// Expires every change whose confirmation or approval time ran out; the
    /// application calls this periodically.
    pub async fn expire_overdue(&self, now: Time) {
        match self.store.overdue(now).await {
            Ok(records) => {
                for record in records {
                    self.expire(&record).await;
                }
            }
            Err(err) => error!(error = %err, "cannot look for expired requests"),
        }
    }

    /// Appends the audit record of `event` for `ctx`'s request; false when
    /// it could not be written.
    async fn audit_request(
        &self,
        ctx: &Context,
        request: &ChangeRequest<'_>,
        event: AuditEvent,
        fill: impl FnOnce(&mut AuditRecord),
    ) -> bool {
        let mut record = audit::of_request(ctx, request, event);
        fill(&mut record);
        audit::append(self.store.as_ref(), record).await
    }

    /// Appends the audit record of `event` for a stored change, now.
    async fn audit_change(
        &self,
        change: &ChangeRecord,
        event: AuditEvent,
        approver: Option<&SlackUserId>,
        fill: impl FnOnce(&mut AuditRecord),
    ) -> bool {
        let mut record = audit::of_change(change, event, approver, (self.clock)());
        fill(&mut record);
        audit::append(self.store.as_ref(), record).await
    }
}

fn new_record(ctx: &Context, request: &ChangeRequest<'_>, plan: &Plan, approval: Option<&Approval>) -> ChangeRecord {
    let ttl = approval.and_then(|a| chrono::Duration::from_std(a.ttl).ok()).unwrap_or(CONFIRM_WITHIN);
    ChangeRecord {
        id: ChangeId(ctx.request_id.clone()),
        text: request.canonical.to_owned(),
        shown: request.shown.to_owned(),
        command: request.command.to_owned(),
        hash: params_hash(request.canonical),
        plan: plan.lines.clone(),
        requester: ctx.user.clone(),
        requester_name: ctx.user_name.clone(),
        groups: ctx.groups.clone(),
        channel: ctx.channel.clone(),
        state: ChangeState::AwaitingConfirmation,
        approvers: approval.map(|a| a.role.clone()),
        rule: request.rule.clone(),
        created: ctx.now,
        expires: ctx.now + ttl,
        message: None,
        decided_by: None,
    }
}

#[cfg(test)]
#[path = "lifecycle_tests.rs"]
mod tests;
