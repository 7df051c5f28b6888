//! What only the SQLite store promises: its file survives a restart, old
//! schemas migrate, a newer one is refused, claims prune themselves. The
//! ports' behaviour is the conformance suite (`tests/store.rs`).

use chrono::{TimeZone, Utc};
use opsbot_commands::ports::Time;
use opsbot_commands::ports::store::*;
use opsbot_commands::values::{ChannelId, SlackUserId};

use super::{CLAIM_TTL_SECS, MIGRATIONS, PRUNE_EVERY, SqliteStore};

fn at(secs: i64) -> Time {
    Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()
}

/// A change waiting for its requester's confirmation, holding a secret.
fn change(id: &str) -> ChangeRecord {
    ChangeRecord {
        id: ChangeId(id.into()),
        text: "param set /shop/prod/db-password hunter2".into(),
        shown: "param set /shop/prod/db-password ••••••".into(),
        command: "param set".into(),
        hash: "0123456789abcdef".into(),
        plan: vec![],
        requester: SlackUserId::parse("U0DEV").unwrap(),
        requester_name: None,
        groups: vec![],
        channel: ChannelId::parse("C0OPS").unwrap(),
        state: ChangeState::AwaitingConfirmation,
        approvers: None,
        rule: None,
        created: at(0),
        expires: at(1800),
        message: None,
        decided_by: None,
        lease: None,
        following: None,
    }
}

#[tokio::test]
async fn claims_and_changes_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("opsbot.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        assert!(store.claim("slash:T1", at(0)).await.unwrap());
        store.insert_change(&change("c1")).await.unwrap();
    }
    let reopened = SqliteStore::open(&path).unwrap();
    assert!(!reopened.claim("slash:T1", at(5)).await.unwrap(), "a retry after restart must not run again");
    assert_eq!(reopened.change(&ChangeId("c1".into())).await.unwrap(), Some(change("c1")));
}

#[tokio::test]
async fn claims_older_than_a_day_are_pruned() {
    let store = SqliteStore::in_memory().unwrap();
    store.claim("old", at(0)).await.unwrap();
    for i in 0..PRUNE_EVERY {
        store.claim(&format!("new{i}"), at(CLAIM_TTL_SECS + 1)).await.unwrap();
    }
    assert!(!store.is_claimed("old").unwrap());
    assert!(store.is_claimed("new0").unwrap());
}

#[tokio::test]
async fn a_store_from_a_newer_opsbot_is_refused_rather_than_misread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("opsbot.db");
    drop(SqliteStore::open(&path).unwrap());
    rusqlite::Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
    let err = SqliteStore::open(&path).err().expect("refused").to_string();
    assert!(err.contains("newer opsbot"), "{err}");
}

#[tokio::test]
async fn changes_stored_before_names_and_groups_were_kept_read_back_without_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(&format!("{}; {}; PRAGMA user_version = 2;", MIGRATIONS[0], MIGRATIONS[1])).unwrap();
        conn.execute(
            "INSERT INTO changes (id, text, shown, command, hash, plan, requester, channel, state, created, expires)
             VALUES ('r-old', 'scale prod/api 6', 'scale prod/api 6', 'scale', 'h', '[]', 'U0DEV', 'C0OPS',
                     'awaiting_confirmation', 0, 1800000)",
            [],
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let old = store.change(&ChangeId("r-old".into())).await.unwrap().expect("the old change");
    assert_eq!((old.requester_name, old.groups), (None, Vec::<String>::new()));
}
