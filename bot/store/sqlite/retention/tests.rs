//! What only SQLite's retention promises: each prune reads an index, and a
//! store from before retention migrates with its records' message keys. The
//! rules themselves are the conformance suite.

use chrono::{Duration as Days, Utc};

use super::*;
use crate::store::sqlite::{MIGRATIONS, RETENTION};
use crate::store::{InboxStore, OutboxStore};

#[tokio::test]
async fn each_prune_reads_an_index_not_the_whole_table() {
    let store = SqliteStore::in_memory().unwrap();
    for (name, sql) in [("changes", CHANGES), ("living", LIVING), ("messages", MESSAGES), ("audit", AUDIT)] {
        let plan: Vec<String> = store
            .with(|c| {
                let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
                stmt.query_map([0], |r| r.get(3))?.collect()
            })
            .unwrap();
        assert!(plan[0].contains("USING INDEX") || plan[0].contains("USING COVERING INDEX"), "{name}: {plan:?}");
    }
}

#[tokio::test]
async fn a_store_from_before_retention_keeps_its_records_and_their_messages() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let old = rusqlite::Connection::open(&path).unwrap();
        let before = MIGRATIONS.iter().position(|m| *m == RETENTION).expect("the retention migration");
        for sql in &MIGRATIONS[..before] {
            old.execute_batch(sql).unwrap();
        }
        old.pragma_update(None, "user_version", before as i64).unwrap();
        old.execute_batch(
            "INSERT INTO living (kind, id, open, body) VALUES ('alarm', 'arn:x', 1, '{}'), ('pipeline', 'e1', 0, '{}');
             INSERT INTO messages (key, channel, ts, posted) VALUES ('alarm:arn:x:5', 'C0OPS', '1.1', 0),
                ('alarm:arn:xy:7', 'C0OPS', '1.2', 0), ('pipeline:e1', 'C0OPS', '1.3', 0);
             INSERT INTO inbox (key, body, received) VALUES ('waiting', x'7b7d', 0)",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let message: String =
        store.with(|c| c.query_row("SELECT message FROM living WHERE id = 'arn:x'", [], |r| r.get(0))).unwrap();
    assert_eq!(message, "alarm:arn:x:5", "not the message of arn:xy");
    assert_eq!(store.inbox_pending(10, 0).await.unwrap().len(), 1, "an unhandled notification is still due");
    let pruned = store.prune(Utc::now() + Days::days(91), &Retention::default()).await.unwrap();
    assert_eq!((pruned.living, pruned.messages), (1, 2), "the closed run and the messages nothing open shows in");
    assert!(store.message_ref("alarm:arn:x:5").await.unwrap().is_some(), "the open alarm's message stays");
}
