//! Durable state the change flow relies on: request claims, changes waiting
//! for a confirmation or an approval, and the append-only audit log. SQLite
//! implements it (bot/store); the shape — single-key reads, conditional state
//! transitions, appends — maps onto DynamoDB for several replicas.
//!
//! Invariants every implementation keeps:
//! - `transition` is atomic compare-and-set: of two concurrent callers moving
//!   a change out of the same state, exactly one gets `true`.
//! - Audit records are never updated or deleted.
//! - `claim` is true exactly once per key.
//! - A running change has a [`Lease`] from the moment it enters `Running`
//!   (written by the same `transition`), so no replica ever sees one
//!   unowned; `hold_lease` hands it to another replica only once it lapsed.

use async_trait::async_trait;

use super::Time;
use super::chat::MessageRef;
use crate::values::{ChannelId, SlackUserId};

/// Defined with the other typed values, so that buttons (which name a change)
/// need not depend on the store.
pub use crate::values::ChangeId;

#[derive(Debug, thiserror::Error)]
#[error("store: {0}")]
pub struct StoreError(pub String);

/// Where a change is in its life. Terminal states never change again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeState {
    AwaitingConfirmation,
    AwaitingApproval,
    Running,
    Succeeded,
    Failed,
    Cancelled,
    Rejected,
    Expired,
}

impl ChangeState {
    pub const ALL: [ChangeState; 8] = [
        Self::AwaitingConfirmation,
        Self::AwaitingApproval,
        Self::Running,
        Self::Succeeded,
        Self::Failed,
        Self::Cancelled,
        Self::Rejected,
        Self::Expired,
    ];

    /// Stable name for storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingConfirmation => "awaiting_confirmation",
            Self::AwaitingApproval => "awaiting_approval",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    pub fn is_final(self) -> bool {
        !matches!(self, Self::AwaitingConfirmation | Self::AwaitingApproval | Self::Running)
    }
}

/// A change someone asked for, as stored between the clicks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRecord {
    pub id: ChangeId,
    /// The command line to run, canonical. Holds a secret value until the
    /// change is final; the store then keeps only `shown`.
    pub text: String,
    /// The same command line with secret values replaced by `••••••`.
    pub shown: String,
    /// Spec name, e.g. `deploy`.
    pub command: String,
    /// Hash of the exact parameters; buttons carry it, so a click can only
    /// ever approve what was shown.
    pub hash: String,
    /// The plan's lines as the requester saw them (shown to approvers too).
    pub plan: Vec<String>,
    pub requester: SlackUserId,
    /// The requester's name as Slack showed it, for summaries AWS keeps
    /// (e.g. PutApprovalResult names the Slack user).
    pub requester_name: Option<String>,
    /// The requester's Slack user groups when they asked: the follow-ups a
    /// change triggers (`on_param_change`) are judged with them.
    pub groups: Vec<String>,
    pub channel: ChannelId,
    pub state: ChangeState,
    /// Role whose member must approve, if the policy asks for one.
    pub approvers: Option<String>,
    /// Policy rule that decided (`file:line`).
    pub rule: Option<String>,
    pub created: Time,
    /// After this, confirmation or approval is no longer possible.
    pub expires: Time,
    /// The channel message that shows the change (approval request, progress).
    pub message: Option<MessageRef>,
    /// Who confirmed, approved, rejected or cancelled it last.
    pub decided_by: Option<SlackUserId>,
    /// While running: which replica runs it, until when.
    pub lease: Option<Lease>,
    /// While running, once acted on: what another replica needs to follow it
    /// to its end (the lifecycle's JSON; the store keeps it opaque).
    pub following: Option<String>,
}

/// Which replica runs a running change, and until when it vouches for it.
/// The owner renews it while it runs; once `until` passed, another replica
/// may take the change over (its owner died or hung).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub owner: String,
    pub until: Time,
}

impl Lease {
    /// Whether another replica may take the change over at `now`.
    pub fn lapsed(&self, now: Time) -> bool {
        self.until <= now
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditEvent {
    Requested,
    Denied,
    Refused,
    Confirmed,
    Approved,
    Rejected,
    Cancelled,
    Expired,
    Executing,
    Executed,
    Failed,
}

impl AuditEvent {
    pub const ALL: [AuditEvent; 11] = [
        Self::Requested,
        Self::Denied,
        Self::Refused,
        Self::Confirmed,
        Self::Approved,
        Self::Rejected,
        Self::Cancelled,
        Self::Expired,
        Self::Executing,
        Self::Executed,
        Self::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Denied => "denied",
            Self::Refused => "refused",
            Self::Confirmed => "confirmed",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
            Self::Executing => "executing",
            Self::Executed => "executed",
            Self::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == raw)
    }
}

/// One line of the audit log. Parameters are always redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub at: Time,
    pub event: AuditEvent,
    /// The request / change this belongs to.
    pub request: String,
    pub actor: SlackUserId,
    pub approver: Option<SlackUserId>,
    pub channel: ChannelId,
    /// Spec name.
    pub command: String,
    /// The command line, secrets redacted.
    pub text: String,
    /// The policy's verdict and rule, when one was taken.
    pub decision: Option<String>,
    pub rule: Option<String>,
    pub aws_request_ids: Vec<String>,
    pub detail: Option<String>,
}

/// Which audit records to read, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    pub limit: usize,
    pub user: Option<SlackUserId>,
    pub command: Option<String>,
}

#[async_trait]
pub trait Store: Send + Sync {
    /// True the first time `key` is claimed.
    async fn claim(&self, key: &str, now: Time) -> Result<bool, StoreError>;
    async fn insert_change(&self, change: &ChangeRecord) -> Result<(), StoreError>;
    async fn change(&self, id: &ChangeId) -> Result<Option<ChangeRecord>, StoreError>;
    /// Moves `id` from `from` to `to`, recording `by`; false when it was not
    /// in `from` (somebody else acted first, or it expired). Entering
    /// `Running` records `lease` (the runner's) in the same write; entering a
    /// final state scrubs `text` down to `shown` and drops the lease and
    /// `following`.
    async fn transition(
        &self,
        id: &ChangeId,
        from: ChangeState,
        to: ChangeState,
        by: Option<&SlackUserId>,
        lease: Option<&Lease>,
    ) -> Result<bool, StoreError>;
    /// Gives running change `id` to `lease.owner` until `lease.until`: true
    /// when they hold it now — it was already theirs (a renewal), or the
    /// previous lease lapsed at `now` (a take-over). False when another
    /// replica holds it, or the change is not running.
    async fn hold_lease(&self, id: &ChangeId, lease: &Lease, now: Time) -> Result<bool, StoreError>;
    /// Ends `owner`'s lease on running change `id` now (a replica stopping),
    /// so another replica takes the change over without waiting.
    async fn release_lease(&self, id: &ChangeId, owner: &str, now: Time) -> Result<(), StoreError>;
    /// Keeps with running change `id` what following it needs, if `owner`
    /// still holds it; false otherwise.
    async fn set_following(&self, id: &ChangeId, owner: &str, following: &str) -> Result<bool, StoreError>;
    async fn set_message(&self, id: &ChangeId, message: &MessageRef) -> Result<(), StoreError>;
    /// Every change now in `state` (e.g. those left `Running` by a stop).
    async fn in_state(&self, state: ChangeState) -> Result<Vec<ChangeRecord>, StoreError>;
    /// Changes still awaiting confirmation or approval whose time ran out.
    async fn overdue(&self, now: Time) -> Result<Vec<ChangeRecord>, StoreError>;
    async fn append_audit(&self, record: &AuditRecord) -> Result<(), StoreError>;
    async fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError>;
}
