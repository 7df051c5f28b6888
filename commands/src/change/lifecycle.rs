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
//!
//! # Several replicas
//! A running change belongs to the replica that runs it by a [`Lease`],
//! written with the move to `Running` and renewed every third of [`LEASE`]
//! while it runs. Once acted on, the change keeps what following it needs
//! ([`Following`]). Every replica looks for running changes whose lease
//! lapsed ([`Changes::recover`], at start and on every sweep) and takes them
//! over: one that was acted on is followed to its end from where it was;
//! one that was not is closed as "outcome unknown" (the owner may have died
//! mid-call). A replica told to stop ([`Changes::drain`]) hands the changes
//! it follows over at once (lease released) and lets calls in flight end.
//! A replica that finds its lease taken stops following without a word: the
//! new owner reports the end, and of two that both try, only the one whose
//! final transition succeeds shows it.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opsbot_policies::Decision;

use crate::live_policy::LivePolicy;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
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
use crate::ports::observe::{Observe, Unobserved};
use crate::ports::store::{AuditEvent, AuditRecord, ChangeId, ChangeRecord, ChangeState, Lease, Store};
use crate::ports::{Clock, Gateways, Time};
use crate::reply::Reply;
use crate::text::duration;
use crate::values::SlackUserId;

use super::identity::Identity;
use super::messages::{self, ClickOutcome, note};
use super::{
    Approval, ChangeCommand, ChangeRequest, Follow, NeededApproval, Outcome, Plan, Progress, Verdict, audit,
    params_hash,
};
use crate::ports::{Accounts, HomeOnly};
use crate::target::Target;

/// How long a plan waits for its requester's confirmation when no approval is needed.
pub const CONFIRM_WITHIN: chrono::Duration = chrono::Duration::minutes(10);

/// How long a replica vouches for a change it runs without renewing: a
/// change whose replica died is taken over this long (plus a sweep) later.
pub const LEASE: Duration = Duration::from_secs(30);

/// What a replica taking a running change over needs to follow it, kept with
/// the change once it was acted on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Following {
    /// The command's own state for `check` ([`ChangeCommand::progress`]).
    progress: Option<String>,
    /// What the action said, shown again with the end.
    lines: Vec<String>,
    aws_request_ids: Vec<String>,
    every_ms: u64,
    timeout_ms: u64,
    /// When following gives up (Unix ms): the same for whoever follows.
    deadline_ms: i64,
}

/// This process's name as a lease owner: the host (a task or pod name on
/// ECS and Kubernetes), the process and its start, so a restarted process
/// never mistakes its predecessor's leases for its own.
pub fn replica_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
    let started = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis();
    format!("{host}/{}/{started}", std::process::id())
}

/// The change lifecycle and everything it reaches. Cheap to clone (it is
/// handles all the way down): a confirmed change runs on a clone, tracked by
/// `running`.
#[derive(Clone)]
pub struct Changes {
    /// The bot's own gateways: plans, and changes when no identity is set.
    aws: Gateways,
    /// Judges a change again just before it runs; names approvers.
    policy: LivePolicy,
    store: Arc<dyn Store>,
    /// Where plans, approval requests and progress are shown.
    chat: Arc<dyn Chat>,
    /// Changes being executed and followed, so a stop can wait for them.
    running: TaskTracker,
    /// Whose AWS identity changes run under; `None`: the bot's own (`aws`).
    identity: Option<Arc<dyn Identity>>,
    /// The gateways of changes whose line names an account or region.
    accounts: Arc<dyn Accounts>,
    /// What time it is when a change runs (its policy is judged again then).
    clock: Clock,
    /// This replica's name on the leases it holds.
    replica: Arc<str>,
    /// The changes this replica runs now (their leases are renewed).
    held: Arc<Mutex<HashSet<ChangeId>>>,
    /// Cancelled when the replica stops: changes being followed are handed over.
    stopping: CancellationToken,
    /// Told every audited step of every change.
    observer: Arc<dyn Observe>,
}

impl Changes {
    pub fn new(aws: Gateways, policy: impl Into<LivePolicy>, store: Arc<dyn Store>, chat: Arc<dyn Chat>) -> Self {
        let policy = policy.into();
        let clock = crate::ports::system_clock();
        Changes {
            aws,
            policy,
            store,
            chat,
            running: TaskTracker::new(),
            identity: None,
            accounts: Arc::new(HomeOnly),
            clock,
            replica: replica_id().into(),
            held: Arc::default(),
            stopping: CancellationToken::new(),
            observer: Arc::new(Unobserved),
        }
    }

    /// Tells `observer` each audited step of each change.
    pub fn with_observer(mut self, observer: Arc<dyn Observe>) -> Self {
        self.observer = observer;
        self
    }

    /// Holds leases under `name` instead of [`replica_id`] (tests run two
    /// replicas in one process).
    pub fn with_replica(mut self, name: &str) -> Self {
        self.replica = name.into();
        self
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

    /// Plans and runs changes whose line names an account or region
    /// through `accounts`.
    pub fn with_accounts(mut self, accounts: Arc<dyn Accounts>) -> Self {
        self.accounts = accounts;
        self
    }

    /// Stops: changes being followed are handed over at once (their leases
    /// released, for another replica or the next start to follow to the
    /// end); changes in the middle of their AWS call get up to `within` to
    /// finish it. One still in its call then is taken over after its lease
    /// and closed as "outcome unknown".
    pub async fn drain(&self, within: Duration) {
        self.stopping.cancel();
        self.running.close();
        if tokio::time::timeout(within, self.running.wait()).await.is_err() {
            warn!(pending = self.running.len(), "stopping with changes still in their AWS call");
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
        let plan = match self.reads_for(&Target::of_line(request.canonical)).await {
            Ok(aws) => change.plan(ctx, &aws).await,
            Err(err) => Err(err),
        };
        let mut plan = match plan {
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
            Verdict::Denied(reasons) => {
                self.audit_request(ctx, request, AuditEvent::Refused, |r| r.detail = Some(reasons.join("; "))).await;
                return messages::denied_parts(request.shown, reasons);
            }
            Verdict::Invalid(reasons) => {
                self.audit_request(ctx, request, AuditEvent::Refused, |r| r.detail = Some(reasons.join("; "))).await;
                return messages::cannot(request.shown, reasons);
            }
            Verdict::NeedsApproval(needed) => {
                let reasons = NeededApproval::uncovered(needed, approval.as_ref().map(|a| a.role.as_str()));
                if !reasons.is_empty() {
                    let detail = reasons.join("; ");
                    self.audit_request(ctx, request, AuditEvent::Refused, |r| r.detail = Some(detail)).await;
                    return messages::denied_parts(request.shown, &reasons);
                }
            }
        }
        // The pinned line keeps where it acts and `--force`: it was allowed
        // and shown with them.
        let pinned = change.pinned().map(|line| {
            let target = Target::of_line(request.canonical).words().iter().map(|w| format!(" {w}")).collect::<String>();
            let force = if request.force { format!(" {FORCE}") } else { String::new() };
            format!("{line}{target}{force}")
        });
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
        if let Err(refused) = self.move_to(&record, ChangeState::AwaitingConfirmation, next, ctx).await {
            return refused;
        }
        self.audit_change(&record, AuditEvent::Confirmed, None, |_| {}).await;
        match &record.approvers {
            Some(role) => {
                self.ask_for_approval(&record, role).await;
                ClickOutcome::Replace(messages::waiting_for_approval(&record, role, ctx))
            }
            None => {
                let changes = self.clone();
                self.run(record.id.clone(), async move { changes.execute(record, None).await });
                ClickOutcome::Replace(messages::confirmed())
            }
        }
    }

    async fn cancel(&self, ctx: &Context, record: ChangeRecord) -> ClickOutcome {
        if let Err(refused) =
            self.move_to(&record, ChangeState::AwaitingConfirmation, ChangeState::Cancelled, ctx).await
        {
            return refused;
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
        if !self.policy.current().may_approve(&role, ctx.user.as_str(), &ctx.groups) {
            return note(mrkdwn!(":no_entry: Only members of *{}* can approve or reject this.", role));
        }
        let (to, event) = match kind {
            ClickKind::Approve => (ChangeState::Running, AuditEvent::Approved),
            _ => (ChangeState::Rejected, AuditEvent::Rejected),
        };
        if let Err(refused) = self.move_to(&record, ChangeState::AwaitingApproval, to, ctx).await {
            return refused;
        }
        self.audit_change(&record, event, Some(&ctx.user), |_| {}).await;
        if event == AuditEvent::Rejected {
            self.show(&record, messages::rejected_reply(&record, ctx)).await;
        } else {
            let changes = self.clone();
            let approver = ctx.user.clone();
            self.run(record.id.clone(), async move { changes.execute(record, Some(approver)).await });
        }
        note(mrkdwn!(":ok_hand: {} — thanks.", if event == AuditEvent::Approved { "Approved" } else { "Rejected" }))
    }

    /// A click's move of the change from `from` to `to`; what to answer when
    /// it did not move: another click (or replica) moved it first, or the
    /// store failed — then nothing was done and the button may be pressed
    /// again, which is not someone else having decided.
    async fn move_to(
        &self,
        record: &ChangeRecord,
        from: ChangeState,
        to: ChangeState,
        ctx: &Context,
    ) -> Result<(), ClickOutcome> {
        let lease = (to == ChangeState::Running).then(|| self.lease());
        match self.store.transition(&record.id, from, to, Some(&ctx.user), lease.as_ref()).await {
            Ok(true) => Ok(()),
            Ok(false) if from == ChangeState::AwaitingApproval => {
                Err(note(mrkdwn!(":information_source: Someone else already decided this request.")))
            }
            Ok(false) => Err(note(mrkdwn!(":information_source: This request was already confirmed or cancelled."))),
            Err(err) => {
                error!(error = %err, change = %record.id, "cannot move the change");
                Err(ClickOutcome::Note(store_down(ctx)))
            }
        }
    }

    async fn ask_for_approval(&self, record: &ChangeRecord, role: &str) {
        let reply = messages::approval_request(record, role, messages::mention(&self.policy.current(), role));
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
        let ctx = self.context_of(&record);
        let Some(command) = command_of(&record) else {
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
        let aws = match self.gateways_for(&record).await {
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
        // Only an approval given counts towards the approvals its parts need.
        let approved_by = record.approvers.as_deref().filter(|_| approver.is_some());
        if let Some(why) = self.still_not_ready(&ctx, &aws, change, is_forced(&record.text), approved_by).await {
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
        let following = outcome.follow.map(|follow| Following {
            progress: change.progress(),
            lines: outcome.lines.clone(),
            aws_request_ids: outcome.aws_request_ids.clone(),
            every_ms: follow.every.as_millis() as u64,
            timeout_ms: follow.timeout.as_millis() as u64,
            deadline_ms: (ctx.now + chrono::Duration::from_std(follow.timeout).unwrap_or_default()).timestamp_millis(),
        });
        if let Some(following) = &following {
            self.keep(&record, following).await;
        }
        self.follow_to_end(&ctx, &aws, &record, change, &outcome, following.as_ref()).await;
    }

    /// The context a stored change runs in: its requester's, now.
    fn context_of(&self, record: &ChangeRecord) -> Context {
        Context {
            request_id: record.id.0.clone(),
            user: record.requester.clone(),
            user_name: record.requester_name.clone(),
            groups: record.groups.clone(),
            channel: record.channel.clone(),
            channel_name: None,
            now: (self.clock)(),
        }
    }

    /// Keeps with the change what another replica needs to follow it.
    async fn keep(&self, record: &ChangeRecord, following: &Following) {
        let json = serde_json::to_string(following).expect("the following state serialises");
        match self.store.set_following(&record.id, &self.replica, &json).await {
            Ok(true) => {}
            Ok(false) => warn!(change = %record.id, "another replica took this change over while it was acted on"),
            Err(err) => {
                warn!(error = %err, change = %record.id, "cannot keep how to follow the change; only this replica can")
            }
        }
    }

    /// Follows an acted-on change to its end and reports it — unless the
    /// replica stops first: then the change is handed over.
    async fn follow_to_end(
        &self,
        ctx: &Context,
        aws: &Gateways,
        record: &ChangeRecord,
        change: &dyn ChangeCommand,
        outcome: &Outcome,
        following: Option<&Following>,
    ) {
        let Some(done) = self.follow(ctx, aws, record, change, outcome, following).await else {
            return self.hand_over(record).await;
        };
        let (ok, text) = match done {
            Progress::Done(text) => (true, text),
            Progress::Failed(text) | Progress::Running(text) => (false, text),
        };
        if !ok {
            self.audit_change(record, AuditEvent::Failed, None, |r| r.detail = Some(text.clone())).await;
        }
        let mut lines = outcome.lines.clone();
        lines.extend((!text.is_empty()).then_some(text));
        self.finish(record, ok, &lines.join("\n")).await;
    }

    /// Lets this replica's lease on `record` lapse now, so another replica
    /// (or this one's successor) follows it on without waiting.
    async fn hand_over(&self, record: &ChangeRecord) {
        match self.store.release_lease(&record.id, &self.replica, (self.clock)()).await {
            Ok(()) => info!(change = %record.id, "stopping: change handed over to be followed by another replica"),
            Err(err) => {
                warn!(error = %err, change = %record.id, "cannot release the change; taken over after its lease")
            }
        }
    }

    /// A lease for this replica, from now.
    fn lease(&self) -> Lease {
        let until = (self.clock)() + chrono::Duration::from_std(LEASE).unwrap_or_default();
        Lease { owner: self.replica.to_string(), until }
    }

    /// Runs `work` (executing or following change `id`) under this
    /// replica's lease, renewed every third of [`LEASE`]. If the lease is
    /// found taken (this replica was presumed dead), `work` is dropped: the
    /// new owner carries the change on.
    fn run(&self, id: ChangeId, work: impl std::future::Future<Output = ()> + Send + 'static) {
        let this = self.clone();
        self.running.spawn(async move {
            this.held.lock().unwrap().insert(id.clone());
            let renew = async {
                loop {
                    tokio::time::sleep(LEASE / 3).await;
                    match this.store.hold_lease(&id, &this.lease(), (this.clock)()).await {
                        Ok(true) => {}
                        Ok(false) => return,
                        Err(err) => warn!(error = %err, change = %id, "cannot renew the change's lease; trying again"),
                    }
                }
            };
            tokio::select! {
                () = work => {}
                () = renew => warn!(change = %id, "another replica took this change over; leaving it to them"),
            }
            this.held.lock().unwrap().remove(&id);
        });
    }

    /// The gateways a stored change runs through, with this bot's parameter
    /// hooks (judged in its account and region) and declared parameters: in the account and region its line names, acting for its
    /// requester ([`Accounts::changes`]); at home, the ones acting as them
    /// when an [`Identity`](Identity) is set, else the bot's own.
    async fn gateways_for(&self, record: &ChangeRecord) -> GatewayResult<Gateways> {
        let target = Target::of_line(&record.text);
        let mut aws = match &self.identity {
            _ if !target.is_home() => self.accounts.changes(&target, &record.requester).await?,
            Some(identity) => identity.gateways_for(&record.requester).await?,
            None => return Ok(self.aws.clone()),
        };
        aws.param_hooks = Arc::new(self.aws.param_hooks.in_target(&target));
        aws.declared = self.aws.declared.clone();
        Ok(aws)
    }

    /// The gateways a change is planned through: the bot's, in `target`.
    async fn reads_for(&self, target: &Target) -> GatewayResult<Gateways> {
        if target.is_home() {
            return Ok(self.aws.clone());
        }
        let mut aws = self.accounts.reads(target).await?;
        aws.param_hooks = Arc::new(self.aws.param_hooks.in_target(target));
        aws.declared = self.aws.declared.clone();
        Ok(aws)
    }

    /// Why the policy, judged again now, no longer lets the stored change run,
    /// or `None` to go ahead. The rules or the freezes may have changed (a new
    /// policy after a restart or a reload) or a freeze may have begun since the request.
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
        let decision = command.judge(&self.policy.current(), ctx, &record.text);
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
    /// ahead while unsafe: it was planned, shown and approved that way. One
    /// whose parts need approvals goes ahead only if `approved_by` that role.
    async fn still_not_ready(
        &self,
        ctx: &Context,
        aws: &Gateways,
        change: &dyn ChangeCommand,
        forced: bool,
        approved_by: Option<&str>,
    ) -> Option<String> {
        match change.plan(ctx, aws).await {
            Ok(Plan { verdict: Verdict::Ready, .. }) => None,
            Ok(Plan { verdict: Verdict::NeedsApproval(needed), .. }) => {
                let reasons = NeededApproval::uncovered(&needed, approved_by);
                (!reasons.is_empty())
                    .then(|| format!("it needs approvals it did not get — {}", esc(&reasons.join("; "))))
            }
            Ok(Plan { verdict: Verdict::Unsafe(reasons), .. }) if forced => {
                warn!(reasons = %reasons.join("; "), "forced change runs although unsafe");
                None
            }
            Ok(Plan { verdict: Verdict::NoOp(why), .. }) => Some(format!("nothing to do any more — {}", esc(&why))),
            Ok(Plan { verdict: Verdict::Moved(why), .. }) => Some(esc(&why)),
            Ok(Plan { verdict: Verdict::Unsafe(reasons), .. }) => {
                Some(format!("it became unsafe since it was planned — {}", esc(&reasons.join("; "))))
            }
            Ok(Plan { verdict: Verdict::Denied(reasons), .. }) => {
                Some(format!("the policy no longer allows all of it — {}", esc(&reasons.join("; "))))
            }
            Ok(Plan { verdict: Verdict::Invalid(reasons), .. }) => {
                Some(format!("it cannot be done as asked any more — {}", esc(&reasons.join("; "))))
            }
            Err(err) => Some(format!("cannot check it again: {}", esc(&gateway_reply(ctx, &err).fallback))),
        }
    }

    /// Checks progress until done, failed or timed out (at the deadline
    /// kept in `following`, whoever follows), editing the message as it
    /// goes; `None` when the replica stops first.
    async fn follow(
        &self,
        ctx: &Context,
        aws: &Gateways,
        record: &ChangeRecord,
        change: &dyn ChangeCommand,
        outcome: &Outcome,
        following: Option<&Following>,
    ) -> Option<Progress> {
        let (Some(follow), Some(following)) = (outcome.follow, following) else {
            return Some(Progress::Done(String::new()));
        };
        let left = chrono::DateTime::from_timestamp_millis(following.deadline_ms).unwrap_or(ctx.now) - (self.clock)();
        let deadline = tokio::time::Instant::now() + left.to_std().unwrap_or_default();
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
                Ok(done) => return Some(done),
                Err(err) => warn!(error = %err, change = %record.id, "progress check failed; trying again"),
            }
            if tokio::time::Instant::now() + follow.every > deadline {
                let waited =
                    duration(ctx.now, ctx.now + chrono::Duration::from_std(follow.timeout).unwrap_or_default());
                return Some(Progress::Failed(format!(
                    "still not finished after {waited} — check `{}` for its state",
                    esc(&record.shown)
                )));
            }
            tokio::select! {
                () = tokio::time::sleep(follow.every) => {}
                () = self.stopping.cancelled() => return None,
            }
        }
    }

    /// Records the change's end and shows it — unless another replica
    /// recorded it first (it took the change over), which then showed it.
    async fn finish(&self, record: &ChangeRecord, ok: bool, text: &str) {
        let to = if ok { ChangeState::Succeeded } else { ChangeState::Failed };
        match self.store.transition(&record.id, ChangeState::Running, to, None, None).await {
            Ok(true) => {}
            Ok(false) => return info!(change = %record.id, "change already ended by another replica"),
            Err(err) => error!(error = %err, change = %record.id, "cannot record the change's end"),
        }
        info!(change = %record.id, ok, "change finished");
        let icon = if ok { ":white_check_mark:" } else { ":x:" };
        self.show(record, messages::progress_reply(record, &format!("{icon} {text}"), true)).await;
    }

    async fn expire(&self, record: &ChangeRecord) {
        if self.store.transition(&record.id, record.state, ChangeState::Expired, None, None).await.unwrap_or(false) {
            self.audit_change(record, AuditEvent::Expired, None, |_| {}).await;
            if record.message.is_some() {
                self.show(record, messages::expired_reply(record)).await;
            }
        }
    }

    /// Takes over every running change whose lease lapsed (its replica
    /// stopped or died): one that was acted on is followed on to its end;
    /// one that was not ends as failed, saying plainly that its outcome is
    /// unknown (its replica may have died mid-call), so nobody waits on a
    /// message that will never move. Changes whose owner is alive are left
    /// alone. Called at start and on every sweep.
    pub async fn recover(&self) {
        let running = match self.store.in_state(ChangeState::Running).await {
            Ok(records) => records,
            Err(err) => return error!(error = %err, "cannot look for interrupted changes"),
        };
        let now = (self.clock)();
        for record in running {
            let alive = record.lease.as_ref().is_some_and(|lease| !lease.lapsed(now));
            if alive || self.held.lock().unwrap().contains(&record.id) || self.stopping.is_cancelled() {
                continue;
            }
            match self.store.hold_lease(&record.id, &self.lease(), now).await {
                Ok(true) => {}
                Ok(false) => continue, // another replica was first
                Err(err) => {
                    error!(error = %err, change = %record.id, "cannot take the change over");
                    continue;
                }
            }
            let changes = self.clone();
            self.run(record.id.clone(), async move { changes.take_over(record).await });
        }
    }

    /// Carries on a change whose replica stopped: follows it from where it
    /// was, or closes it as unknown when it was never known to be acted on.
    async fn take_over(&self, record: ChangeRecord) {
        let resumed = match record.following.as_deref().map(serde_json::from_str::<Following>) {
            Some(Ok(following)) => self.resume(&record, following).await,
            Some(Err(err)) => Err(format!("its progress cannot be read back ({err})")),
            None => Err("interrupted by a stop".into()),
        };
        let Err(why) = resumed else { return };
        warn!(change = %record.id, %why, "change interrupted by a stop; marking it failed");
        let text = "opsbot stopped while this change was running, so its outcome is unknown — it may have been \
                    applied. Check the current state before trying again; `audit` shows what was recorded.";
        self.audit_change(&record, AuditEvent::Failed, None, |r| r.detail = Some(why)).await;
        self.finish(&record, false, text).await;
    }

    /// Follows on a change another replica acted on; why not, when it cannot.
    async fn resume(&self, record: &ChangeRecord, following: Following) -> Result<(), String> {
        let command = command_of(record).ok_or("the stored request no longer parses")?;
        let change = command.as_change().ok_or("the stored request is not a change")?;
        if let Some(progress) = &following.progress {
            change.resume(progress).map_err(|e| format!("its progress does not fit the command: {e}"))?;
        }
        let aws = self.gateways_for(record).await.map_err(|e| format!("cannot act as its requester: {e}"))?;
        info!(change = %record.id, "following a change another replica started");
        let outcome = Outcome {
            lines: following.lines.clone(),
            aws_request_ids: following.aws_request_ids.clone(),
            follow: Some(Follow {
                every: Duration::from_millis(following.every_ms),
                timeout: Duration::from_millis(following.timeout_ms),
            }),
        };
        let ctx = self.context_of(record);
        self.follow_to_end(&ctx, &aws, record, change, &outcome, Some(&following)).await;
        Ok(())
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
        self.observer.change(static_name(request.command), event);
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
        self.observer.change(static_name(&change.command), event);
        audit::append(self.store.as_ref(), record).await
    }
}

/// A stored change's command name as the command list spells it; `unknown`
/// for one no longer in the list (stored by an older version).
fn static_name(command: &str) -> &'static str {
    crate::cmd::ENTRIES.iter().find(|e| e.spec.name == command).map_or("unknown", |e| e.spec.name)
}

/// The stored change's command, if its text still parses to what was hashed
/// (and so approved).
fn command_of(record: &ChangeRecord) -> Option<Command> {
    Command::parse(&record.text).ok().filter(|_| params_hash(&record.text) == record.hash)
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
        lease: None,
        following: None,
    }
}

#[cfg(test)]
#[path = "lifecycle_tests.rs"]
mod tests;
