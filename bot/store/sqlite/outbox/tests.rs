//! What only the SQLite outbox promises: queued writes and posted messages
//! survive reopening the file. The rules themselves are the conformance suite.

use chrono::{TimeZone, Utc};
use opsbot_commands::ports::Time;
use opsbot_commands::ports::chat::MessageRef;
use opsbot_commands::values::ChannelId;

use super::super::SqliteStore;
use crate::store::{OutboxStore, WriteOp, WriteState};

fn now() -> Time {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap()
}

fn ch(raw: &str) -> ChannelId {
    ChannelId::parse(raw).unwrap()
}

async fn rows(s: &SqliteStore) -> Vec<(WriteOp, String, WriteState)> {
    s.outbox_rows().await.unwrap().into_iter().map(|r| (r.op, r.payload, r.state)).collect()
}

async fn posted(s: &SqliteStore, key: &str, channel: &str, ts: &str) {
    let id = s.outbox_rows().await.unwrap().into_iter().find(|r| r.key == key && r.op == WriteOp::Post).unwrap().id;
    s.outbox_sending(id).await.unwrap();
    s.outbox_posted(id, &MessageRef { channel: ch(channel), ts: ts.into() }, key, now()).await.unwrap();
}

#[tokio::test]
async fn queued_writes_and_posted_messages_survive_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("opsbot.db");
    {
        let s = SqliteStore::open(&path).unwrap();
        s.outbox_post("alarm:a", &ch("C1"), "v0", now()).await.unwrap();
        posted(&s, "alarm:a", "C1", "1.1").await;
        s.outbox_update("alarm:a", "v1", now()).await.unwrap();
        s.outbox_post("alarm:b", &ch("C2"), "b0", now()).await.unwrap();
    }
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.message_ref("alarm:a").await.unwrap().map(|m| m.ts), Some("1.1".into()));
    assert_eq!(
        rows(&s).await,
        [(WriteOp::Update, "v1".into(), WriteState::Pending), (WriteOp::Post, "b0".into(), WriteState::Pending)]
    );
}
