//! What the outbox knows per message key, in one item (`outbox-key#<key>`):
//! the key's rows (id, operation, state, channel) and a version. Every write
//! that changes a key's rows rewrites this item on the version it read, in
//! the same transaction, so replicas decide to post, coalesce or update a key
//! one at a time and never on a stale view (a query of `gsi1` could be stale).
//! The decisions themselves are [`KeyState::post`], [`KeyState::update`] and
//! [`KeyState::reply`], the rules of [`crate::store::outbox`].

use serde::{Deserialize, Serialize};

use super::super::attr::{Item, get_n, get_s, n, s};
use crate::store::outbox::{WriteOp, WriteState};

pub(super) fn key_pk(key: &str) -> String {
    format!("outbox-key#{key}")
}

/// One row of a key, as its key item lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Slot {
    pub id: i64,
    pub op: String,
    pub state: String,
    pub channel: String,
}

impl Slot {
    fn is(&self, op: WriteOp) -> bool {
        self.op == op.as_str()
    }

    fn in_state(&self, state: WriteState) -> bool {
        self.state == state.as_str()
    }
}

/// What a write of a key becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Action {
    /// The newest content goes into this pending row.
    Coalesce(i64),
    /// A new row.
    Insert { op: WriteOp, channel: String },
}

/// A key's rows and message as read, and the version they were read at.
#[derive(Debug, Clone)]
pub(super) struct KeyState {
    pub key: String,
    pub slots: Vec<Slot>,
    /// The channel of the key's posted message, if posted.
    pub message: Option<String>,
    /// The key item's version; `None`: there is none.
    pub v: Option<i64>,
}

impl KeyState {
    pub fn read(key: &str, item: Option<&Item>, message: Option<&Item>) -> Self {
        let slots = item.and_then(|i| get_s(i, "rows")).and_then(|raw| serde_json::from_str(raw).ok());
        KeyState {
            key: key.to_owned(),
            slots: slots.unwrap_or_default(),
            message: message.and_then(|m| get_s(m, "channel")).map(str::to_owned),
            v: item.and_then(|i| get_n(i, "v")),
        }
    }

    /// Where the key's message is, or its live post will be.
    fn known_channel(&self) -> Option<String> {
        let live_post = self.slots.iter().find(|r| r.is(WriteOp::Post) && !r.in_state(WriteState::Failed));
        self.message.clone().or_else(|| live_post.map(|r| r.channel.clone()))
    }

    pub fn update(&self) -> Option<Action> {
        let waiting = self
            .slots
            .iter()
            .filter(|r| (r.is(WriteOp::Post) || r.is(WriteOp::Update)) && r.in_state(WriteState::Pending))
            .map(|r| r.id)
            .max();
        if let Some(id) = waiting {
            return Some(Action::Coalesce(id));
        }
        if let Some(channel) = self.known_channel() {
            return Some(Action::Insert { op: WriteOp::Update, channel });
        }
        // Only a failed post (if anything) is left: this content becomes the post.
        let failed = self.slots.iter().find(|r| r.is(WriteOp::Post));
        failed.map(|r| Action::Insert { op: WriteOp::Post, channel: r.channel.clone() })
    }

    pub fn post(&self, channel: &str) -> Action {
        match self.known_channel() {
            Some(_) => self.update().expect("a known key can be updated"),
            None => Action::Insert { op: WriteOp::Post, channel: channel.to_owned() },
        }
    }

    pub fn reply(&self) -> Option<Action> {
        self.known_channel().map(|channel| Action::Insert { op: WriteOp::Reply, channel })
    }

    pub fn slot(&mut self, id: i64) -> Option<&mut Slot> {
        self.slots.iter_mut().find(|r| r.id == id)
    }

    pub fn add(&mut self, id: i64, op: WriteOp, channel: &str) {
        let slot =
            Slot { id, op: op.as_str().into(), state: WriteState::Pending.as_str().into(), channel: channel.into() };
        self.slots.push(slot);
    }

    pub fn remove(&mut self, id: i64) {
        self.slots.retain(|r| r.id != id);
    }

    /// The key's next pending update, turned into its post (after its post failed for good).
    pub fn promote(&mut self) -> Option<i64> {
        let next = self
            .slots
            .iter_mut()
            .filter(|r| r.is(WriteOp::Update) && r.in_state(WriteState::Pending))
            .min_by_key(|r| r.id)?;
        next.op = WriteOp::Post.as_str().into();
        Some(next.id)
    }

    /// The key item as it now is (`None`: it has no rows left, so it goes).
    pub fn item(&self) -> Option<Item> {
        (!self.slots.is_empty()).then(|| {
            Item::from([
                ("pk".to_owned(), s(key_pk(&self.key))),
                ("sk".to_owned(), s("key")),
                ("key".to_owned(), s(&self.key)),
                ("rows".to_owned(), s(serde_json::to_string(&self.slots).expect("slots serialise"))),
                ("v".to_owned(), n(self.v.unwrap_or(0) + 1)),
            ])
        })
    }
}
