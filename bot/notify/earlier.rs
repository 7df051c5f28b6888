//! [`Earlier`]: the living records decided for the notifications handled
//! before this one in the same chunk of inbox rows, not committed yet. The
//! notifier reads a record here first, then in the store, so two state
//! changes of one alarm in one chunk build on each other, as they would one
//! commit apart.
//!
//! # Decisions
//! - A record taken from here carries the version its earlier write will
//!   give it (the version it was read at + 1, 1 for a new one): if that
//!   earlier notification is refused at commit, this one is refused too (its
//!   record is written over a version that never came), and both are handled
//!   again from the store, one at a time.

use std::collections::HashMap;

use crate::store::{Kept, Living, LivingRecord};

/// Records decided earlier in the chunk, by kind and id (the newest of each).
#[derive(Debug, Default)]
pub struct Earlier {
    records: HashMap<(Living, String), (Kept, bool)>,
    /// Ids in the order they were first decided, for `open`.
    order: Vec<(Living, String)>,
}

impl Earlier {
    /// Takes in what one notification decided.
    pub fn absorb(&mut self, records: &[LivingRecord]) {
        for r in records {
            let kept = Kept { body: r.body.clone(), version: r.version_kept() };
            let id = (r.kind, r.id.clone());
            if self.records.insert(id.clone(), (kept, r.open)).is_none() {
                self.order.push(id);
            }
        }
    }

    /// The record decided for `id`, if one was.
    pub fn get(&self, kind: Living, id: &str) -> Option<&Kept> {
        self.records.get(&(kind, id.to_owned())).map(|(kept, _)| kept)
    }

    /// Every record of `kind` decided here, first decided first, with
    /// whether it is open.
    pub fn of(&self, kind: Living) -> impl Iterator<Item = (&str, &Kept, bool)> {
        self.order.iter().filter(move |(k, _)| *k == kind).filter_map(|key| {
            let (kept, open) = self.records.get(key)?;
            Some((key.1.as_str(), kept, *open))
        })
    }
}
