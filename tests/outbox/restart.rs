//! The outbox across a restart: a post left `sending` is looked up before it
//! is posted again, and rows in a SQLite file are sent by the next process.

use opsbot::slack::outbox::Outbox;
use opsbot::store::WriteOp;
use opsbot_commands::ports::system_clock;

use super::{FAST, Harness, ch, msg, text, web};
use crate::support::bot::init_logs;
use crate::support::fake_slack::FakeSlack;

#[tokio::test]
async fn a_post_slack_took_before_a_crash_is_found_again_and_never_posted_twice() {
    init_logs();
    let slack = FakeSlack::start().await;
    let store = opsbot::store::open(None).unwrap();
    // The crashed run: the row was marked sending, Slack posted it, the ts was never stored.
    let (outbox, _never_run) = Outbox::new(store.clone(), web(&slack), system_clock(), FAST, "replica-a");
    outbox.post("pipeline:e1", &ch("C1"), &msg("running")).await.unwrap();
    let row = store.outbox_rows().await.unwrap().remove(0);
    store.outbox_sending(row.id).await.unwrap();
    let content: slack_morphism::prelude::SlackMessageContent = serde_json::from_str(&row.payload).unwrap();
    let ts = web(&slack).post_once(&ch("C1"), None, "pipeline:e1", &content).await.unwrap();
    outbox.update("pipeline:e1", &msg("succeeded")).await.unwrap();

    let h = Harness::with(slack, store, FAST);
    h.drained().await;
    assert_eq!(h.count("chat.postMessage"), 1, "posted again after the restart");
    assert_eq!(h.outbox.message_ref("pipeline:e1").await.unwrap().map(|m| m.ts), Some(ts));
    assert_eq!(h.texts("C1"), ["succeeded"]);
}

#[tokio::test]
async fn a_post_interrupted_before_slack_took_it_is_posted_after_the_restart() {
    init_logs();
    let slack = FakeSlack::start().await;
    let store = opsbot::store::open(None).unwrap();
    let (outbox, _never_run) = Outbox::new(store.clone(), web(&slack), system_clock(), FAST, "replica-a");
    outbox.post("pipeline:e1", &ch("C1"), &msg("running")).await.unwrap();
    store.outbox_sending(store.outbox_rows().await.unwrap()[0].id).await.unwrap();

    let h = Harness::with(slack, store, FAST);
    h.drained().await;
    assert_eq!((h.count("conversations.history"), h.count("chat.postMessage")), (1, 1));
    assert_eq!(h.texts("C1"), ["running"]);
}

#[tokio::test]
async fn writes_queued_in_a_sqlite_file_are_sent_after_it_is_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("opsbot.db");
    let slack = FakeSlack::start().await;
    {
        let store = opsbot::store::open(Some(&path)).unwrap();
        let (outbox, _stopped_before_it_ran) = Outbox::new(store, web(&slack), system_clock(), FAST, "replica-a");
        outbox.post("alarm:a", &ch("C1"), &msg("ALARM")).await.unwrap();
        outbox.reply("alarm:a", &msg("OK → ALARM")).await.unwrap();
        outbox.update("alarm:a", &msg("ALARM, acknowledged")).await.unwrap();
        outbox.post("alarm:b", &ch("C2"), &msg("other")).await.unwrap();
    }
    let h = Harness::with(slack, opsbot::store::open(Some(&path)).unwrap(), FAST);
    h.drained().await;
    let c1 = h.slack.messages("C1");
    assert_eq!(c1.iter().map(text).collect::<Vec<_>>(), ["ALARM, acknowledged", "OK → ALARM"]);
    assert_eq!(c1[1]["thread_ts"], c1[0]["ts"]);
    assert_eq!(h.texts("C2"), ["other"]);
    let ops: Vec<WriteOp> = h.store.outbox_rows().await.unwrap().into_iter().map(|r| r.op).collect();
    assert!(ops.is_empty(), "{ops:?}");
    h.stop().await;
}

#[tokio::test]
async fn a_thread_reply_slack_took_before_a_crash_is_found_in_its_thread_and_never_sent_twice() {
    init_logs();
    let slack = FakeSlack::start().await;
    let store = opsbot::store::open(None).unwrap();
    let (outbox, _never_run) = Outbox::new(store.clone(), web(&slack), system_clock(), FAST, "replica-a");
    let content = |text: &str| slack_morphism::prelude::SlackMessageContent::new().with_text(text.into());
    // The crashed run posted the alarm, then the reply reached Slack but its row stayed `sending`.
    outbox.post("alarm:a", &ch("C1"), &msg("ALARM")).await.unwrap();
    let post = store.outbox_rows().await.unwrap().remove(0);
    let parent = web(&slack).post_once(&ch("C1"), None, "alarm:a", &content("ALARM")).await.unwrap();
    let at = opsbot_commands::ports::chat::MessageRef { channel: ch("C1"), ts: parent.clone() };
    store.outbox_posted(post.id, &at, "alarm:a", chrono::Utc::now()).await.unwrap();
    outbox.reply("alarm:a", &msg("OK → ALARM")).await.unwrap();
    let reply = store.outbox_rows().await.unwrap().remove(0);
    store.outbox_sending(reply.id).await.unwrap();
    let reply_key = format!("alarm:a#reply-{}", reply.id);
    web(&slack).post_once(&ch("C1"), Some(&parent), &reply_key, &content("OK → ALARM")).await.unwrap();

    let h = Harness::with(slack, store, FAST);
    h.drained().await;
    assert_eq!(h.count("conversations.replies"), 1);
    assert_eq!(h.count("chat.postMessage"), 2, "the reply was sent again after the restart");
    let thread: Vec<_> = h.slack.messages("C1").into_iter().filter(|m| m["thread_ts"] == parent.as_str()).collect();
    assert_eq!(thread.len(), 1);
}
