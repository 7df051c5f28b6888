//! Handled notifications written together in one open transaction: their
//! living records and their Slack writes, each row written once however many
//! of the lot changed it.
//!
//! # Decisions
//! - A storm is many notifications of a few alarms, and a lot holds several
//!   of the same alarm: each changes its record and replaces its message's
//!   waiting content, and only the last of each is ever read. So a record's
//!   version is checked against what the lot holds (read from the table the
//!   first time), and the last record and the last content of each waiting
//!   message are written once, when the lot is finished (issue 14: a commit
//!   of 11 rows wrote the same record and the same 2 KB payload 11 times).
//! - A notification is checked before anything of it is written: a record
//!   that moved on refuses it whole, with nothing to roll back, so a lot
//!   needs no savepoint per notification.
//! - An error of SQLite itself fails the whole transaction; the caller does
//!   not commit it, and nothing of the lot is kept.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};

use super::queue::{post_in, reply_in, update_in};
use crate::store::living::LivingRecord;
use crate::store::outbox::{Enqueued, Queued, WriteOp};
use opsbot_commands::ports::Time;

pub(super) struct Lot<'c> {
    c: &'c Connection,
    now: Time,
    /// Living records this lot read or changed, by kind and id.
    records: HashMap<(&'static str, String), Record>,
    /// Messages with a post or update waiting in the outbox (by key): the
    /// row, and the content to give it when the lot is finished.
    waiting: HashMap<String, (i64, Option<String>)>,
}

struct Record {
    /// Whether the table held it when the lot first read it.
    stored: bool,
    /// Its version with what this lot changed.
    now: Option<u64>,
    /// What to keep, when this lot changed it.
    changed: Option<LivingRecord>,
}

impl<'c> Lot<'c> {
    pub(super) fn new(c: &'c Connection, now: Time) -> Self {
        Lot { c, now, records: HashMap::new(), waiting: HashMap::new() }
    }

    pub(super) fn connection(&self) -> &'c Connection {
        self.c
    }

    /// Why `records` cannot be kept (one moved on since it was read, here or
    /// in the store); `None`: they can. Writes nothing.
    pub(super) fn refused(&mut self, records: &[LivingRecord]) -> rusqlite::Result<Option<String>> {
        // What this notification's own records before each one change.
        let mut mine: Vec<(&LivingRecord, u64)> = Vec::new();
        for r in records {
            let current = match mine.iter().rev().find(|(m, _)| m.kind == r.kind && m.id == r.id) {
                Some((_, version)) => Some(*version),
                None => self.record(r)?.now,
            };
            if current != r.version {
                return Ok(Some(r.moved_on()));
            }
            mine.push((r, r.version_kept()));
        }
        Ok(None)
    }

    /// Keeps `records` and `writes` (which `refused` let through): each record
    /// and each waiting message's content is written when the lot is finished.
    pub(super) fn keep(&mut self, records: &[LivingRecord], writes: &[Queued]) -> rusqlite::Result<()> {
        for r in records {
            let record = self.record(r)?;
            record.now = Some(r.version_kept());
            record.changed = Some(r.clone());
        }
        for write in writes {
            if let Queued::Post { key, payload, .. } | Queued::Update { key, payload } = write
                && let Some((_, content)) = self.waiting.get_mut(key)
            {
                *content = Some(payload.clone());
                continue;
            }
            let queued = match write {
                Queued::Post { key, channel, payload } => Some(post_in(self.c, key, channel, payload, self.now)?),
                Queued::Update { key, payload } => update_in(self.c, key, payload, self.now)?,
                Queued::Reply { key, payload } => reply_in(self.c, key, payload, self.now)?,
            };
            match queued {
                Some(Enqueued::Coalesced { id } | Enqueued::Queued { id, op: WriteOp::Post | WriteOp::Update }) => {
                    self.waiting.insert(write.key().to_owned(), (id, None));
                }
                Some(Enqueued::Queued { op: WriteOp::Reply, .. }) => {}
                None => tracing::warn!(key = write.key(), "a write for a message never posted is dropped"),
            }
        }
        Ok(())
    }

    /// Writes every record and waiting content the lot changed; the caller
    /// then commits the transaction.
    pub(super) fn finish(self) -> rusqlite::Result<()> {
        let now_ms = super::millis(self.now);
        for record in self.records.into_values() {
            let (Some(r), Some(version)) = (record.changed, record.now) else { continue };
            let sql = if record.stored {
                "UPDATE living SET open = ?3, body = ?4, message = ?5, updated = ?6, version = ?7
                 WHERE kind = ?1 AND id = ?2"
            } else {
                "INSERT INTO living (kind, id, open, body, message, updated, version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            };
            let row = params![r.kind.as_str(), r.id, r.open, r.body, r.message, now_ms, version as i64];
            self.c.prepare_cached(sql)?.execute(row)?;
        }
        for (id, content) in self.waiting.into_values() {
            if let Some(payload) = content {
                self.c.prepare_cached("UPDATE outbox SET payload = ?2 WHERE id = ?1")?.execute(params![id, payload])?;
            }
        }
        Ok(())
    }

    /// `r`'s entry, read from the table the first time.
    fn record(&mut self, r: &LivingRecord) -> rusqlite::Result<&mut Record> {
        let key = (r.kind.as_str(), r.id.clone());
        if !self.records.contains_key(&key) {
            let version = self
                .c
                .prepare_cached("SELECT version FROM living WHERE kind = ?1 AND id = ?2")?
                .query_row(params![key.0, key.1], |row| row.get::<_, i64>(0))
                .optional()?
                .map(|v| v.max(0) as u64);
            self.records.insert(key.clone(), Record { stored: version.is_some(), now: version, changed: None });
        }
        Ok(self.records.get_mut(&key).expect("inserted above"))
    }
}
