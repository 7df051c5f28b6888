//! The SQLite schema: every version, applied in order by `SqliteStore::open`
//! (the index is `user_version`). A version once released is never edited;
//! a change is a new entry at the end.

/// Schema versions, applied in order; the index is `user_version`.
pub(super) const MIGRATIONS: &[&str] = &[
    "CREATE TABLE claims (key TEXT PRIMARY KEY, claimed_at INTEGER NOT NULL)",
    "CREATE TABLE changes (
        id TEXT PRIMARY KEY, text TEXT NOT NULL, shown TEXT NOT NULL, command TEXT NOT NULL,
        hash TEXT NOT NULL, plan TEXT NOT NULL, requester TEXT NOT NULL, channel TEXT NOT NULL,
        state TEXT NOT NULL, approvers TEXT, rule TEXT, created INTEGER NOT NULL, expires INTEGER NOT NULL,
        message_channel TEXT, message_ts TEXT, decided_by TEXT);
     CREATE INDEX changes_waiting ON changes (state, expires);
     CREATE TABLE audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, event TEXT NOT NULL,
        request TEXT NOT NULL, actor TEXT NOT NULL, approver TEXT, channel TEXT NOT NULL,
        command TEXT NOT NULL, text TEXT NOT NULL, decision TEXT, rule TEXT,
        aws_request_ids TEXT NOT NULL, detail TEXT);
     CREATE INDEX audit_actor ON audit (actor, seq);
     CREATE INDEX audit_command ON audit (command, seq)",
    "ALTER TABLE changes ADD COLUMN requester_name TEXT;
     ALTER TABLE changes ADD COLUMN groups TEXT NOT NULL DEFAULT '[]'",
    "CREATE TABLE inbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, body BLOB,
        received INTEGER NOT NULL);
     CREATE INDEX inbox_pending ON inbox (seq) WHERE body IS NOT NULL;
     CREATE TABLE living (kind TEXT NOT NULL, id TEXT NOT NULL, open INTEGER NOT NULL, body TEXT NOT NULL,
        PRIMARY KEY (kind, id));
     CREATE INDEX living_open ON living (kind, open)",
    OUTBOX,
    // Forgetting week-old handled keys (after every handled row) must not scan
    // the whole inbox: without it, handling became quadratic in the inbox size.
    "CREATE INDEX inbox_forget ON inbox (received) WHERE body IS NULL",
    RETENTION,
    // Running changes' leases (several replicas) and how to follow them on.
    "ALTER TABLE changes ADD COLUMN lease_owner TEXT;
     ALTER TABLE changes ADD COLUMN lease_until INTEGER;
     ALTER TABLE changes ADD COLUMN following TEXT;
     CREATE TABLE channel_leases (channel TEXT PRIMARY KEY, owner TEXT NOT NULL, until INTEGER NOT NULL)",
];

/// The outbox: one row per Slack write still to make, and where each message was posted.
const OUTBOX: &str = "CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, channel TEXT NOT NULL, op TEXT NOT NULL,
        payload TEXT NOT NULL, created INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt INTEGER NOT NULL, state TEXT NOT NULL, error TEXT);
     CREATE INDEX outbox_live ON outbox (channel, id) WHERE state != 'failed';
     CREATE INDEX outbox_key ON outbox (key, op, state);
     CREATE TABLE messages (key TEXT PRIMARY KEY, channel TEXT NOT NULL, ts TEXT NOT NULL, posted INTEGER NOT NULL)";

/// The schema retention needs: when each living record last changed and the
/// message it shows in, and indexes so each prune reads only what it deletes;
/// living records' versions (optimistic concurrency) and the inbox's retry
/// columns. Records kept before this version count as changed at the upgrade
/// (version 1); their message keys are derived once from how `notify` names them.
pub(super) const RETENTION: &str = "
    ALTER TABLE living ADD COLUMN updated INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE living ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE living ADD COLUMN message TEXT;
    UPDATE living SET updated = CAST(unixepoch('subsec') * 1000 AS INTEGER);
    UPDATE living SET message = CASE kind
        WHEN 'pipeline' THEN 'pipeline:' || id
        WHEN 'approval' THEN id
        ELSE (SELECT key FROM messages WHERE substr(key, 1, length(id) + 7) = 'alarm:' || id || ':'
              ORDER BY posted DESC LIMIT 1) END;
    CREATE INDEX living_updated ON living (updated);
    CREATE INDEX changes_created ON changes (created);
    CREATE INDEX messages_posted ON messages (posted);
    CREATE INDEX audit_at ON audit (at);
    ALTER TABLE inbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE inbox ADD COLUMN next_attempt INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE inbox ADD COLUMN parked INTEGER;
    ALTER TABLE inbox ADD COLUMN error TEXT;
    DROP INDEX inbox_pending;
    CREATE INDEX inbox_pending ON inbox (seq) WHERE body IS NOT NULL AND parked IS NULL;
    CREATE INDEX inbox_parked ON inbox (parked) WHERE parked IS NOT NULL";
