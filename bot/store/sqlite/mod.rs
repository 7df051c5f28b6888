//! The store in one SQLite file (WAL): request claims, changes between their
//! clicks, the append-only audit log, the notification inbox ([`inbox`]), the
//! living messages' records ([`living`]) and the Slack outbox ([`outbox`]);
//! what is finished is forgotten by age ([`retention`]). Implements every
//! port of [`crate::store`].
//!
//! Decisions:
//! - One writing connection behind a mutex (every write is one short
//!   transaction, and inbox accepts are batched by [`group_commit`]); on
//!   disk a second, read-only one for the lookups on the notification path
//!   (inbox dedup hits, pending rows, living records), which WAL lets run
//!   while the writer commits. No pool beyond that.
//! - WAL + `synchronous = NORMAL`: durable across process crashes (a power
//!   cut may lose the last transactions, never corrupt the file), and no fsync
//!   per claim on the acknowledgement path. The WAL is copied back by a
//!   thread of its own ([`checkpoint`]), not inside a commit.
//! - `transition` is a single `UPDATE … WHERE state = from`: the row count
//!   tells the one caller that won.
//! - Audit rows are only ever inserted and never updated; they are deleted
//!   only by age, and only when `store.retention.audit` asks for it.
//! - Claims are pruned after a day (Slack retries for minutes, not days).
//! - `secure_delete`: a pending `param set` keeps its value until the change
//!   is final; when it is scrubbed, the old bytes are overwritten too.

mod checkpoint;
mod db;
mod group_commit;
mod inbox;
mod living;
mod lot;
mod outbox;
mod queue;
mod retention;
mod schema;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use opsbot_commands::ports::Time;
use opsbot_commands::ports::chat::MessageRef;
use opsbot_commands::ports::store::{
    AuditEvent, AuditQuery, AuditRecord, ChangeId, ChangeRecord, ChangeState, Lease, Store, StoreError,
};
use opsbot_commands::values::{ChannelId, SlackUserId};
use rusqlite::{Connection, OptionalExtension, Row, params};

use checkpoint::Checkpoints;
use db::{Db, err};
use group_commit::GroupCommit;
use schema::MIGRATIONS;
#[cfg(test)]
use schema::RETENTION;

const CLAIM_TTL_SECS: i64 = 24 * 3600;
const PRUNE_EVERY: u64 = 1024;

pub struct SqliteStore {
    db: Arc<Db>,
    /// Inbox accepts, batched by one writer thread (started at the first accept).
    accepts: OnceLock<GroupCommit>,
}

impl SqliteStore {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with(path, Checkpoints::DEFAULT)
    }

    fn open_with(path: &Path, checkpoints: Checkpoints) -> Result<Self, StoreError> {
        let mut conn =
            Connection::open(path).map_err(|e| StoreError(format!("cannot open {}: {e}", path.display())))?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(err)?;
        // A change may hold a secret until it finishes; freed pages are zeroed
        // so the scrubbed value does not linger in the file.
        conn.pragma_update(None, "secure_delete", "ON").map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(err)?;
        let woken = checkpoints.install(&mut conn).map_err(err)?;
        let mut store = Self::migrate(conn)?;
        let reader = Connection::open(path).map_err(|e| StoreError(format!("cannot open {}: {e}", path.display())))?;
        reader.pragma_update(None, "query_only", "ON").map_err(err)?;
        reader.busy_timeout(std::time::Duration::from_secs(5)).map_err(err)?;
        Arc::get_mut(&mut store.db).expect("not shared yet").reader = Some(Mutex::new(reader));
        checkpoints.start(path, Arc::downgrade(&store.db), woken).map_err(err)?;
        Ok(store)
    }

    pub fn in_memory() -> Result<Self, StoreError> {
        Self::migrate(Connection::open_in_memory().map_err(err)?)
    }

    fn migrate(conn: Connection) -> Result<Self, StoreError> {
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(err)?;
        if version > MIGRATIONS.len() as i64 {
            return Err(StoreError(format!(
                "the store was written by a newer opsbot (schema {version}, this one knows {})",
                MIGRATIONS.len()
            )));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
            conn.execute_batch(&format!("BEGIN; {sql}; PRAGMA user_version = {}; COMMIT;", i + 1)).map_err(err)?;
        }
        // A SQLite store serves one process: the channels a previous one was
        // sending to (and maybe died with) are free at once, not after
        // their lease. Changes' leases stay: a console on the same file must
        // not take over what a running `serve` follows.
        conn.execute("DELETE FROM channel_leases", []).map_err(err)?;
        let db = Db { conn: Mutex::new(conn), reader: None, claims_since_prune: AtomicU64::new(0) };
        Ok(SqliteStore { db: Arc::new(db), accepts: OnceLock::new() })
    }

    fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        self.db.with(f)
    }

    /// A lookup, on the reading connection (see `db`).
    fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        self.db.read(f)
    }

    /// The group commit inbox accepts go through, started at the first one.
    fn accepts(&self) -> &GroupCommit {
        self.accepts.get_or_init(|| GroupCommit::start(self.db.clone()).expect("the OS starts the inbox writer thread"))
    }

    /// Whether `key` was claimed (for tests and diagnostics).
    pub fn is_claimed(&self, key: &str) -> Result<bool, StoreError> {
        self.with(|c| c.query_row("SELECT 1 FROM claims WHERE key = ?1", [key], |_| Ok(())).optional())
            .map(|found| found.is_some())
    }
}

fn millis(t: Time) -> i64 {
    t.timestamp_millis()
}

fn time(ms: i64) -> Time {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default()
}

fn user(raw: String) -> rusqlite::Result<SlackUserId> {
    SlackUserId::parse(&raw).map_err(|e| rusqlite::Error::InvalidColumnName(e.to_string()))
}

fn channel(raw: String) -> rusqlite::Result<ChannelId> {
    ChannelId::parse(&raw).map_err(|e| rusqlite::Error::InvalidColumnName(e.to_string()))
}

fn change_row(r: &Row<'_>) -> rusqlite::Result<ChangeRecord> {
    let state: String = r.get("state")?;
    let plan: String = r.get("plan")?;
    let message = match (r.get::<_, Option<String>>("message_channel")?, r.get::<_, Option<String>>("message_ts")?) {
        (Some(ch), Some(ts)) => Some(MessageRef { channel: channel(ch)?, ts }),
        _ => None,
    };
    Ok(ChangeRecord {
        id: ChangeId(r.get("id")?),
        text: r.get("text")?,
        shown: r.get("shown")?,
        command: r.get("command")?,
        hash: r.get("hash")?,
        plan: serde_json::from_str(&plan).unwrap_or_default(),
        requester: user(r.get("requester")?)?,
        requester_name: r.get("requester_name")?,
        groups: serde_json::from_str(&r.get::<_, String>("groups")?).unwrap_or_default(),
        channel: channel(r.get("channel")?)?,
        state: ChangeState::parse(&state).ok_or_else(|| rusqlite::Error::InvalidColumnName(state.clone()))?,
        approvers: r.get("approvers")?,
        rule: r.get("rule")?,
        created: time(r.get("created")?),
        expires: time(r.get("expires")?),
        message,
        decided_by: r.get::<_, Option<String>>("decided_by")?.map(user).transpose()?,
        lease: match (r.get::<_, Option<String>>("lease_owner")?, r.get::<_, Option<i64>>("lease_until")?) {
            (Some(owner), Some(until)) => Some(Lease { owner, until: time(until) }),
            _ => None,
        },
        following: r.get("following")?,
    })
}

fn audit_row(r: &Row<'_>) -> rusqlite::Result<AuditRecord> {
    let event: String = r.get("event")?;
    let ids: String = r.get("aws_request_ids")?;
    Ok(AuditRecord {
        at: time(r.get("at")?),
        event: AuditEvent::parse(&event).ok_or_else(|| rusqlite::Error::InvalidColumnName(event.clone()))?,
        request: r.get("request")?,
        actor: user(r.get("actor")?)?,
        approver: r.get::<_, Option<String>>("approver")?.map(user).transpose()?,
        channel: channel(r.get("channel")?)?,
        command: r.get("command")?,
        text: r.get("text")?,
        decision: r.get("decision")?,
        rule: r.get("rule")?,
        aws_request_ids: serde_json::from_str(&ids).unwrap_or_default(),
        detail: r.get("detail")?,
    })
}

#[async_trait]
impl Store for SqliteStore {
    async fn claim(&self, key: &str, now: Time) -> Result<bool, StoreError> {
        let now = now.timestamp();
        // Prune now and then instead of on every insert: the table stays small
        // without adding a delete to the acknowledgement path each time.
        let prune = self.db.claims_since_prune.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1;
        self.with(|c| {
            let inserted =
                c.execute("INSERT OR IGNORE INTO claims (key, claimed_at) VALUES (?1, ?2)", params![key, now])?;
            if prune {
                c.execute("DELETE FROM claims WHERE claimed_at < ?1", params![now - CLAIM_TTL_SECS])?;
            }
            Ok(inserted == 1)
        })
    }

    async fn insert_change(&self, ch: &ChangeRecord) -> Result<(), StoreError> {
        let plan = serde_json::to_string(&ch.plan).map_err(err)?;
        let groups = serde_json::to_string(&ch.groups).map_err(err)?;
        let message = ch.message.as_ref();
        self.with(|c| {
            c.execute(
                "INSERT INTO changes (id, text, shown, command, hash, plan, requester, channel, state, approvers, rule,
                    created, expires, message_channel, message_ts, decided_by, requester_name, groups,
                    lease_owner, lease_until, following)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
                    ?19, ?20, ?21)",
                params![
                    ch.id.0,
                    ch.text,
                    ch.shown,
                    ch.command,
                    ch.hash,
                    plan,
                    ch.requester.as_str(),
                    ch.channel.as_str(),
                    ch.state.as_str(),
                    ch.approvers,
                    ch.rule,
                    millis(ch.created),
                    millis(ch.expires),
                    message.map(|m| m.channel.as_str()),
                    message.map(|m| m.ts.as_str()),
                    ch.decided_by.as_ref().map(|u| u.as_str()),
                    ch.requester_name,
                    groups,
                    ch.lease.as_ref().map(|l| l.owner.as_str()),
                    ch.lease.as_ref().map(|l| millis(l.until)),
                    ch.following,
                ],
            )
            .map(drop)
        })
    }

    async fn change(&self, id: &ChangeId) -> Result<Option<ChangeRecord>, StoreError> {
        self.with(|c| c.query_row("SELECT * FROM changes WHERE id = ?1", [&id.0], change_row).optional())
    }

    async fn transition(
        &self,
        id: &ChangeId,
        from: ChangeState,
        to: ChangeState,
        by: Option<&SlackUserId>,
        lease: Option<&Lease>,
    ) -> Result<bool, StoreError> {
        // Entering a final state scrubs `text` (which may hold a secret) down
        // to `shown`, and ends the lease; entering `Running` starts it.
        let running = to == ChangeState::Running;
        self.with(|c| {
            c.execute(
                "UPDATE changes SET state = ?3, decided_by = COALESCE(?4, decided_by),
                    text = CASE WHEN ?5 THEN shown ELSE text END,
                    lease_owner = CASE WHEN ?6 THEN ?7 WHEN ?5 THEN NULL ELSE lease_owner END,
                    lease_until = CASE WHEN ?6 THEN ?8 WHEN ?5 THEN NULL ELSE lease_until END,
                    following = CASE WHEN ?5 THEN NULL ELSE following END
                 WHERE id = ?1 AND state = ?2",
                params![
                    id.0,
                    from.as_str(),
                    to.as_str(),
                    by.map(|u| u.as_str()),
                    to.is_final(),
                    running,
                    lease.map(|l| l.owner.as_str()),
                    lease.map(|l| millis(l.until)),
                ],
            )
        })
        .map(|updated| updated == 1)
    }

    async fn hold_lease(&self, id: &ChangeId, lease: &Lease, now: Time) -> Result<bool, StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE changes SET lease_owner = ?2, lease_until = ?3
                 WHERE id = ?1 AND state = 'running'
                   AND (lease_owner IS NULL OR lease_owner = ?2 OR lease_until IS NULL OR lease_until <= ?4)",
                params![id.0, lease.owner, millis(lease.until), millis(now)],
            )
        })
        .map(|updated| updated == 1)
    }

    async fn release_lease(&self, id: &ChangeId, owner: &str, now: Time) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE changes SET lease_until = ?3 WHERE id = ?1 AND state = 'running' AND lease_owner = ?2",
                params![id.0, owner, millis(now)],
            )
            .map(drop)
        })
    }

    async fn set_following(&self, id: &ChangeId, owner: &str, following: &str) -> Result<bool, StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE changes SET following = ?3 WHERE id = ?1 AND state = 'running' AND lease_owner = ?2",
                params![id.0, owner, following],
            )
        })
        .map(|updated| updated == 1)
    }

    async fn set_message(&self, id: &ChangeId, message: &MessageRef) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE changes SET message_channel = ?2, message_ts = ?3 WHERE id = ?1",
                params![id.0, message.channel.as_str(), message.ts],
            )
            .map(drop)
        })
    }

    async fn in_state(&self, state: ChangeState) -> Result<Vec<ChangeRecord>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT * FROM changes WHERE state = ?1 ORDER BY created")?;
            stmt.query_map([state.as_str()], change_row)?.collect()
        })
    }

    async fn overdue(&self, now: Time) -> Result<Vec<ChangeRecord>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT * FROM changes WHERE state IN ('awaiting_confirmation', 'awaiting_approval') AND expires < ?1",
            )?;
            stmt.query_map([millis(now)], change_row)?.collect()
        })
    }

    async fn append_audit(&self, r: &AuditRecord) -> Result<(), StoreError> {
        let ids = serde_json::to_string(&r.aws_request_ids).map_err(err)?;
        self.with(|c| {
            c.execute(
                "INSERT INTO audit (at, event, request, actor, approver, channel, command, text, decision, rule,
                    aws_request_ids, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                params![
                    millis(r.at),
                    r.event.as_str(),
                    r.request,
                    r.actor.as_str(),
                    r.approver.as_ref().map(|a| a.as_str()),
                    r.channel.as_str(),
                    r.command,
                    r.text,
                    r.decision,
                    r.rule,
                    ids,
                    r.detail,
                ],
            )
            .map(drop)
        })
    }

    async fn audit(&self, q: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT * FROM audit WHERE (?1 IS NULL OR actor = ?1) AND (?2 IS NULL OR command = ?2)
                 ORDER BY seq DESC LIMIT ?3",
            )?;
            let rows =
                stmt.query_map(params![q.user.as_ref().map(|u| u.as_str()), q.command, q.limit as i64], audit_row)?;
            rows.collect()
        })
    }
}

#[cfg(test)]
mod tests;
