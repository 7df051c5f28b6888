//! The life of a change: request → confirm → (approve) → execute → follow.
//!
//! Every step checks who clicks, then moves the change with a compare-and-set
//! transition in the store; only the caller whose transition succeeded goes
//! on. Each step is audited; the record of intent (`executing`) is written
//! before AWS is touched, and a failure to write it stops the change.
//!
//! Just before a change runs, the policy judges it again (its stored command
//! line, requester, channel, `--force`, at that moment): a freeze that began,
//! or a rule removed or narrowed since the request, stops it — refused,
//! audited, not run.
//!
//! A change's AWS calls after confirmation (the re-plan, the action, the
//! follow-up checks) go through gateways resolved once for its requester (see
//! `identity`); if they cannot be had, the change ends failed and runs nothing.

use std::sync::Arc;

use opsbot_policies::Decision;
use tracing::{error, info, warn};

use super::{ChangeCommand, Click, ClickKind, Outcome, Plan, Progress, Verdict, params_hash};
use crate::cmd::{Command, Context};
use crate::error::GatewayError;
use crate::mrkdwn;
use crate::pipeline::Ops;
use crate::ports::Gateways;
use crate::ports::chat::MessageRef;
use crate::ports::store::{AuditEvent, AuditRecord, ChangeId, ChangeRecord, ChangeState};
use crate::reply::{Button, ButtonStyle, Mrkdwn, Reply, esc, when};

/// How long a plan waits for its requester's confirmation when no approval is needed.
pub const CONFIRM_WITHIN: chrono::Duration = chrono::Duration::minutes(10);

/// A second press of the same Run button by the same user within this
/// window is answered with a note instead of a second plan.
pub const PRESS_WINDOW: chrono::Duration = chrono::Duration::seconds(10);

/// What a click changes for the person who clicked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClickOutcome {
    /// Replace the message the button was on (the plan shown to the requester).
    Replace(Reply),
    /// Tell the clicker something (refusals); the message stays as it was.
    Note(Reply),
}

/// A change as asked for: its command line, canonical and as shown.
pub struct ChangeRequest<'a> {
    /// Spec name.
    pub command: &'a str,
    pub canonical: &'a str,
    /// `canonical` with secret values masked.
    pub shown: &'a str,
    /// The policy rule that decided (`file:line`).
    pub rule: Option<String>,
    /// `--force`, which the policy allowed: safety checks warn instead of refusing.
    pub force: bool,
}

/// The approval a policy asked for.
pub struct Approval {
    pub role: String,
    pub ttl: std::time::Duration,
}

impl Ops {
    /// A change was asked for and the policy let it through (maybe with an
    /// approval): plan it and show the plan with Confirm / Cancel.
    pub(crate) async fn request_change(
        &self,
        ctx: &Context,
        request: &ChangeRequest<'_>,
        change: &dyn ChangeCommand,
        approval: Option<Approval>,
    ) -> Reply {
        let mut plan = match change.plan(ctx, &self.aws).await {
            Ok(plan) => plan,
            Err(err) => return self.gateway_reply(ctx, &err),
        };
        let mut forced_past = None;
        match &plan.verdict {
            Verdict::Ready => {}
            Verdict::Unsafe(reasons) if request.force => {
                plan.lines.extend(reasons.iter().map(|r| format!(":warning: *forced* despite: {}", esc(r))));
                forced_past = Some(format!("forced despite: {}", reasons.join("; ")));
            }
            Verdict::NoOp(why) => {
                self.audit(ctx, request, AuditEvent::Refused, |r| r.detail = Some(format!("nothing to do: {why}")))
                    .await;
                return Reply::ephemeral(format!("Nothing to do: {why}"))
                    .section(mrkdwn!(":zzz: Nothing to do: {}", why));
            }
            Verdict::Moved(why) => {
                self.audit(ctx, request, AuditEvent::Refused, |r| r.detail = Some(why.clone())).await;
                return Reply::ephemeral(format!("Not done: {why}"))
                    .section(mrkdwn!(":twisted_rightwards_arrows: Not done: {}", why));
            }
            Verdict::Unsafe(reasons) => {
                self.audit(ctx, request, AuditEvent::Refused, |r| r.detail = Some(reasons.join("; "))).await;
                let lines = Mrkdwn::join(reasons.iter().map(|r| mrkdwn!("• {}", r)), "\n");
                return Reply::ephemeral("Not safe to do this now").section(mrkdwn!(
                    ":octagonal_sign: Not now — `{}` would be unsafe:\n{}",
                    request.shown,
                    lines
                ));
            }
        }
        // The pinned line keeps `--force`: it was allowed and shown with it.
        let pinned =
            change.pinned().map(|line| if request.force { format!("{line} {}", crate::cmd::FORCE) } else { line });
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
        if !self.audit_record(ctx, request, AuditEvent::Requested, requested).await {
            return store_down(ctx);
        }
        plan_reply(&record, &plan, ctx)
    }

    /// A button was pressed by `ctx.user`: a change's, or one that runs a
    /// command line as them (answered to them alone).
    pub async fn press(self: &Arc<Self>, ctx: &Context, press: &super::Press) -> ClickOutcome {
        match press {
            super::Press::Change(click) => self.click(ctx, click).await,
            super::Press::Run(line) => match self.first_press(ctx, line).await {
                Ok(true) => ClickOutcome::Note(self.handle(ctx, line).await),
                Ok(false) => note(mrkdwn!(":point_up: You just pressed this; see the plan above.")),
                Err(()) => ClickOutcome::Note(store_down(ctx)),
            },
            // Only Slack can ask in a modal; elsewhere say how to type it.
            super::Press::Ask(line) => {
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

    /// A change's button was pressed by `ctx.user`.
    pub async fn click(self: &Arc<Self>, ctx: &Context, click: &Click) -> ClickOutcome {
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
            return note(mrkdwn!(":information_source: This request is already {}.", state_words(&record)));
        }
        if ctx.now > record.expires {
            self.expire(&record).await;
            return ClickOutcome::Replace(expired_reply(&record));
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

    async fn confirm(self: &Arc<Self>, ctx: &Context, record: ChangeRecord) -> ClickOutcome {
        let next = if record.approvers.is_some() { ChangeState::AwaitingApproval } else { ChangeState::Running };
        if !self.move_to(&record, ChangeState::AwaitingConfirmation, next, ctx).await {
            return note(mrkdwn!(":information_source: This request was already confirmed or cancelled."));
        }
        self.audit_change(&record, AuditEvent::Confirmed, None, |_| {}).await;
        match &record.approvers {
            Some(role) => {
                self.ask_for_approval(&record, role).await;
                ClickOutcome::Replace(Reply::ephemeral("Waiting for approval").section(mrkdwn!(
                    ":hourglass_flowing_sand: `{}` waits for approval by *{}* (until {}).",
                    record.shown,
                    role,
                    when(ctx.now, record.expires)
                )))
            }
            None => {
                let ops = self.clone();
                self.running.spawn(async move { ops.execute(record, None).await });
                ClickOutcome::Replace(Reply::ephemeral("Confirmed").section(mrkdwn!(
                    ":white_check_mark: Confirmed — running it now; progress follows in the channel."
                )))
            }
        }
    }

    async fn cancel(&self, ctx: &Context, record: ChangeRecord) -> ClickOutcome {
        if !self.move_to(&record, ChangeState::AwaitingConfirmation, ChangeState::Cancelled, ctx).await {
            return note(mrkdwn!(":information_source: This request was already confirmed or cancelled."));
        }
        self.audit_change(&record, AuditEvent::Cancelled, None, |_| {}).await;
        ClickOutcome::Replace(
            Reply::ephemeral("Cancelled").section(mrkdwn!(":wastebasket: Cancelled `{}`.", record.shown)),
        )
    }

    async fn decide(self: &Arc<Self>, ctx: &Context, record: ChangeRecord, kind: ClickKind) -> ClickOutcome {
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
            self.show(&record, rejected_reply(&record, ctx)).await;
        } else {
            let ops = self.clone();
            let approver = ctx.user.clone();
            self.running.spawn(async move { ops.execute(record, Some(approver)).await });
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
        let mention = crate::pipeline::mention(&self.policy, role);
        let (approve, reject) = (ClickKind::Approve, ClickKind::Reject);
        let reply = Reply::in_channel(format!("Approval needed: {}", record.shown))
            .section(mrkdwn!(
                ":raising_hand: {}: {} asks to run `{}`.",
                mention,
                Mrkdwn::user(record.requester.as_str()),
                record.shown
            ))
            .section(record.plan.join("\n"))
            .context(vec![mrkdwn!(
                "Approval by {} · expires {} · request `{}`",
                role,
                record.expires.format("%H:%M UTC"),
                record.id
            )])
            .buttons(vec![
                button("Approve", approve, record, ButtonStyle::Primary),
                button("Reject", reject, record, ButtonStyle::Danger),
            ]);
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
    pub(crate) async fn execute(&self, mut record: ChangeRecord, approver: Option<crate::values::SlackUserId>) {
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
        if let Some(why) = self.still_not_ready(&ctx, &aws, change, crate::cmd::is_forced(&record.text)).await {
            self.audit_change(&record, AuditEvent::Refused, approver.as_ref(), |r| r.detail = Some(why.clone())).await;
            return self.finish(&record, false, &format!("not run: {why}")).await;
        }
        if !self.audit_change(&record, AuditEvent::Executing, approver.as_ref(), |_| {}).await {
            return self.finish(&record, false, "not run: the audit log could not be written").await;
        }
        let by = approver.map(|a| format!(" (approved by <@{a}>)")).unwrap_or_default();
        self.show(&record, progress_reply(&record, &format!(":arrows_counterclockwise: Running{by}…"), false)).await;
        let outcome = match change.act(&ctx, &aws).await {
            Ok(outcome) => outcome,
            // Its target moved in the moment since the re-plan: refused, as there.
            Err(GatewayError::Moved { what }) => {
                self.audit_change(&record, AuditEvent::Refused, None, |r| r.detail = Some(what.clone())).await;
                return self.finish(&record, false, &format!("not run: {}", esc(&what))).await;
            }
            Err(err) => {
                let text = esc(&self.gateway_reply(&ctx, &err).fallback);
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
    /// them when an [`Identity`](super::identity::Identity) is set (with this
    /// pipeline's parameter hooks), else the bot's own.
    async fn gateways_for(&self, requester: &crate::values::SlackUserId) -> crate::GatewayResult<Gateways> {
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
        approver: Option<&crate::values::SlackUserId>,
    ) -> Option<String> {
        let decision = self.judge(ctx, command, &record.text);
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
            Err(err) => Some(format!("cannot check it again: {}", esc(&self.gateway_reply(ctx, &err).fallback))),
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
                            progress_reply(record, &format!(":arrows_counterclockwise: {}", esc(&now)), false),
                        )
                        .await;
                        last = now;
                    }
                }
                Ok(done) => return done,
                Err(err) => warn!(error = %err, change = %record.id, "progress check failed; trying again"),
            }
            if tokio::time::Instant::now() + follow.every > deadline {
                let waited = crate::reply::duration(
                    ctx.now,
                    ctx.now + chrono::Duration::from_std(follow.timeout).unwrap_or_default(),
                );
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
        self.show(record, progress_reply(record, &format!("{icon} {text}"), true)).await;
    }

    async fn expire(&self, record: &ChangeRecord) {
        if self.store.transition(&record.id, record.state, ChangeState::Expired, None).await.unwrap_or(false) {
            self.audit_change(record, AuditEvent::Expired, None, |_| {}).await;
            if record.message.is_some() {
                self.show(record, expired_reply(record)).await;
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
    pub async fn expire_overdue(&self, now: crate::ports::Time) {
        match self.store.overdue(now).await {
            Ok(records) => {
                for record in records {
                    self.expire(&record).await;
                }
            }
            Err(err) => error!(error = %err, "cannot look for expired requests"),
        }
    }

    /// Appends an audit record for `ctx`'s request; false when it could not be written.
    pub(crate) async fn audit_record(
        &self,
        ctx: &Context,
        request: &ChangeRequest<'_>,
        event: AuditEvent,
        fill: impl FnOnce(&mut AuditRecord),
    ) -> bool {
        let mut record = AuditRecord {
            at: ctx.now,
            event,
            request: ctx.request_id.clone(),
            actor: ctx.user.clone(),
            approver: None,
            channel: ctx.channel.clone(),
            command: request.command.to_owned(),
            text: request.shown.to_owned(),
            decision: None,
            rule: request.rule.clone(),
            aws_request_ids: Vec::new(),
            detail: None,
        };
        fill(&mut record);
        self.append(record).await
    }

    /// Like [`Self::audit_record`], ignoring the result (the caller goes on either way).
    pub(crate) async fn audit(
        &self,
        ctx: &Context,
        request: &ChangeRequest<'_>,
        event: AuditEvent,
        fill: impl FnOnce(&mut AuditRecord),
    ) {
        self.audit_record(ctx, request, event, fill).await;
    }

    async fn audit_change(
        &self,
        change: &ChangeRecord,
        event: AuditEvent,
        approver: Option<&crate::values::SlackUserId>,
        fill: impl FnOnce(&mut AuditRecord),
    ) -> bool {
        let mut record = AuditRecord {
            at: (self.clock)(),
            event,
            request: change.id.0.clone(),
            actor: change.requester.clone(),
            approver: approver.cloned(),
            channel: change.channel.clone(),
            command: change.command.clone(),
            text: change.shown.clone(),
            decision: change.approvers.as_ref().map(|r| format!("approval by {r}")),
            rule: change.rule.clone(),
            aws_request_ids: Vec::new(),
            detail: None,
        };
        fill(&mut record);
        self.append(record).await
    }

    async fn append(&self, record: AuditRecord) -> bool {
        // One JSON object per record in the log, whatever the log format and
        // whatever the store does: log pipelines collect audit trails too.
        info!(target: "opsbot::audit", "{}", audit_json(&record));
        match self.store.append_audit(&record).await {
            Ok(()) => true,
            Err(err) => {
                error!(error = %err, request = %record.request, "cannot write the audit record");
                false
            }
        }
    }
}

/// The audit record as one line of JSON (parameters are already redacted).
pub(crate) fn audit_json(r: &AuditRecord) -> String {
    serde_json::json!({
        "audit": r.event.as_str(),
        "at": r.at.to_rfc3339(),
        "request": r.request,
        "actor": r.actor.as_str(),
        "approver": r.approver.as_ref().map(|a| a.as_str()),
        "channel": r.channel.as_str(),
        "command": r.command,
        "text": r.text,
        "decision": r.decision,
        "rule": r.rule,
        "aws_request_ids": r.aws_request_ids,
        "detail": r.detail,
    })
    .to_string()
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

fn button(label: &str, kind: ClickKind, record: &ChangeRecord, style: ButtonStyle) -> Button {
    let click = Click { kind, change: record.id.clone(), hash: record.hash.clone() };
    Button { label: label.into(), press: super::Press::Change(click), style }
}

fn note(text: Mrkdwn) -> ClickOutcome {
    ClickOutcome::Note(Reply::ephemeral(text.plain()).section(text))
}

fn store_down(ctx: &Context) -> Reply {
    let text = mrkdwn!(
        ":floppy_disk: Nothing was done: opsbot cannot record this request right now (ref: `{}`). Try again shortly.",
        ctx.request_id
    );
    Reply::ephemeral(text.plain()).section(text)
}

fn plan_reply(record: &ChangeRecord, plan: &Plan, ctx: &Context) -> Reply {
    let approval = match &record.approvers {
        Some(role) => {
            mrkdwn!("After you confirm, a member of *{}* must approve (until {}).", role, when(ctx.now, record.expires))
        }
        None => mrkdwn!("Confirm within {} to run it.", crate::reply::duration(ctx.now, record.expires)),
    };
    let (confirm, cancel) = (ClickKind::Confirm, ClickKind::Cancel);
    Reply::ephemeral(format!("Plan: {}", record.shown))
        .section(mrkdwn!("*Plan* — `{}`", record.shown))
        .section(Mrkdwn::from(plan.lines.join("\n")))
        .context(vec![approval, mrkdwn!("request `{}`", record.id)])
        .buttons(vec![
            button("Confirm", confirm, record, ButtonStyle::Primary),
            button("Cancel", cancel, record, ButtonStyle::Default),
        ])
}

fn progress_reply(record: &ChangeRecord, status: &str, done: bool) -> Reply {
    let approved = match (&record.approvers, &record.decided_by) {
        (Some(_), Some(by)) => mrkdwn!(" · approved by {}", Mrkdwn::user(by.as_str())),
        _ => Mrkdwn::new(),
    };
    let title = mrkdwn!("{}: `{}`{}", Mrkdwn::user(record.requester.as_str()), record.shown, approved);
    let mut reply = Reply::in_channel(format!("{}: {}", record.shown, status)).section(mrkdwn!(
        "{}\n{}",
        title,
        Mrkdwn::from(status)
    ));
    if !done {
        reply = reply.context(vec![mrkdwn!("request `{}`", record.id)]);
    }
    reply
}

fn expired_reply(record: &ChangeRecord) -> Reply {
    let who = record.approvers.as_deref().map(|r| mrkdwn!(" by {}", r)).unwrap_or_default();
    Reply::in_channel(format!("Expired: {}", record.shown)).section(mrkdwn!(
        ":hourglass: `{}` expired: it was not confirmed{} in time. Nothing was done; ask again if it is still needed.",
        record.shown,
        who
    ))
}

fn rejected_reply(record: &ChangeRecord, ctx: &Context) -> Reply {
    Reply::in_channel(format!("Rejected: {}", record.shown)).section(mrkdwn!(
        ":no_entry_sign: {} rejected `{}` requested by {}. Nothing was done.",
        Mrkdwn::user(ctx.user.as_str()),
        record.shown,
        Mrkdwn::user(record.requester.as_str())
    ))
}

fn state_words(record: &ChangeRecord) -> Mrkdwn {
    let by = record.decided_by.as_ref().map(|u| mrkdwn!(" by {}", Mrkdwn::user(u.as_str()))).unwrap_or_default();
    match record.state {
        ChangeState::Running => mrkdwn!("running"),
        ChangeState::Succeeded => mrkdwn!("done"),
        ChangeState::Failed => mrkdwn!("finished with an error"),
        ChangeState::Cancelled => mrkdwn!("cancelled{}", by),
        ChangeState::Rejected => mrkdwn!("rejected{}", by),
        ChangeState::Expired => mrkdwn!("expired"),
        ChangeState::AwaitingConfirmation | ChangeState::AwaitingApproval => mrkdwn!("waiting"),
    }
}
