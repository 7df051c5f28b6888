//! Alerts: the CloudWatch alarms opsbot keeps as living messages, with who
//! acknowledged them, and the notifications it could not handle (parked).
//! The notification side (bot/notify) implements it over the store and keeps
//! each alarm's message in step; `alerts` and `alert ack` read and
//! acknowledge through it.

use async_trait::async_trait;

use super::Time;
use super::store::StoreError;
use crate::values::SlackUserId;

/// Where an open alert stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertState {
    Alarm,
    InsufficientData,
    /// Changed state too often lately; shown as one state, not a stream.
    Flapping,
}

/// An alarm that is not OK, as opsbot keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// The alarm's ARN: its identity.
    pub arn: String,
    pub name: String,
    pub state: AlertState,
    /// When it left OK.
    pub since: Time,
    pub reason: String,
    pub acked: Option<Ack>,
    /// Whether on-call was mentioned again because nobody acknowledged it.
    pub escalated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Ack {
    pub by: SlackUserId,
    pub at: Time,
}

/// What acknowledging did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AckOutcome {
    Acked(Alert),
    /// Someone had already acknowledged it; nothing changed.
    AlreadyAcked(Alert),
    /// No open alert has that name or ARN (it may be OK again).
    NotOpen,
    /// Several open alerts share the name (other regions or accounts): their ARNs.
    Ambiguous(Vec<String>),
}

/// Notifications received but not handled after every retry: kept, out of
/// the queue so the ones behind them go on. An on-call must know: one may be
/// an alarm nobody saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parked {
    /// How many are parked.
    pub count: usize,
    /// The most recently parked few, newest first.
    pub newest: Vec<ParkedNotification>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkedNotification {
    /// The notification's dedup key (the EventBridge id or SNS message id, with its source).
    pub key: String,
    /// Why the last attempt failed.
    pub error: String,
    pub attempts: u32,
    pub parked: Time,
}

#[async_trait]
pub trait Alerts: Send + Sync {
    /// Every open alert, newest first.
    async fn open(&self) -> Result<Vec<Alert>, StoreError>;
    /// Acknowledges the open alert named `which` (alarm name or ARN) as `by`
    /// at `at`, and shows it on the alert's message.
    async fn ack(&self, which: &str, by: &SlackUserId, at: Time) -> Result<AckOutcome, StoreError>;

    /// The notifications that could not be handled.
    async fn parked(&self) -> Result<Parked, StoreError>;
}

/// The alerts of a process that follows no alarm notifications (the
/// console against AWS, `policy check`): nothing is open, so nothing can be
/// acknowledged.
pub struct Unfollowed;

#[async_trait]
impl Alerts for Unfollowed {
    async fn open(&self) -> Result<Vec<Alert>, StoreError> {
        Ok(Vec::new())
    }

    async fn ack(&self, _: &str, _: &SlackUserId, _: Time) -> Result<AckOutcome, StoreError> {
        Ok(AckOutcome::NotOpen)
    }

    async fn parked(&self) -> Result<Parked, StoreError> {
        Ok(Parked::default())
    }
}

/// Which of the `open` alerts `which` names: by ARN, else by the alarm name
/// when only one open alert has it. Every implementation of [`Alerts::ack`]
/// picks with this, so they all read a name alike.
pub fn pick(open: &[Alert], which: &str) -> Result<usize, Unpicked> {
    if let Some(at) = open.iter().position(|a| a.arn == which) {
        return Ok(at);
    }
    let named: Vec<usize> = (0..open.len()).filter(|&i| open[i].name == which).collect();
    match named.as_slice() {
        [] => Err(Unpicked::NotOpen),
        [one] => Ok(*one),
        many => Err(Unpicked::Ambiguous(many.iter().map(|&i| open[i].arn.clone()).collect())),
    }
}

/// Why [`pick`] found no single alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unpicked {
    NotOpen,
    Ambiguous(Vec<String>),
}

impl From<Unpicked> for AckOutcome {
    fn from(miss: Unpicked) -> Self {
        match miss {
            Unpicked::NotOpen => AckOutcome::NotOpen,
            Unpicked::Ambiguous(arns) => AckOutcome::Ambiguous(arns),
        }
    }
}
