//! Handling the inbox a chunk at a time: rows of one chunk build on each
//! other's records and commit together, a row refused at commit is handled
//! alone without holding up the others, and a crash between chunks loses
//! and doubles nothing. Real bodies, a real outbox on a real SQLite store.

use std::path::Path;
use std::sync::Mutex;

use chrono::TimeZone;
use serde_json::json;

use super::*;
use crate::notify::intake::{Inbox, Source};
use crate::settings::{Secret, Settings};
use crate::slack::outbox::Pacing;
use crate::slack::web::SlackWeb;
use crate::store::{OutboxRow, WriteOp};

type Time = chrono::DateTime<chrono::Utc>;

fn t(minute: i64) -> Time {
    chrono::Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap() + chrono::Duration::minutes(minute)
}

fn arn(name: &str) -> String {
    format!("arn:aws:cloudwatch:eu-west-1:111122223333:alarm:{name}")
}

/// An EventBridge alarm state change of `name` to `state` at `minute`.
fn alarm(name: &str, state: &str, minute: i64) -> Vec<u8> {
    let detail = json!({"alarmName": name, "state": {"value": state, "reason": format!("change at {minute}"),
        "timestamp": t(minute).to_rfc3339()}, "previousState": {"value": "OK"}});
    json!({"version": "0", "id": format!("{name}-{minute}"), "detail-type": "CloudWatch Alarm State Change",
           "source": "aws.cloudwatch", "account": "111122223333", "time": t(minute).to_rfc3339(),
           "region": "eu-west-1", "resources": [arn(name)], "detail": detail})
    .to_string()
    .into_bytes()
}

fn store_at(path: Option<&Path>) -> Arc<dyn crate::store::Storage> {
    crate::store::open(path).unwrap()
}

fn outbox(store: Arc<dyn crate::store::Storage>) -> Outbox {
    let web =
        Arc::new(SlackWeb::new("http://127.0.0.1:9/api", &Secret::new("xoxb-unused"), Default::default()).unwrap());
    Outbox::new(store, web, Arc::new(|| t(100)), Pacing::default(), "replica-a").0
}

fn service(
    store: Arc<dyn crate::store::Storage>,
    writes: Arc<dyn Writes>,
    now: Arc<Mutex<Time>>,
) -> Arc<Notifications> {
    let settings =
        Settings::from_test_yaml("policies:\n  rules: []\nnotifications:\n  default_channel: C0OPS\n").unwrap();
    let pipelines = Arc::new(NoPipelines);
    let notifier = Notifier::new(store, settings.notifications.clone(), settings.policy(), pipelines);
    let clock: Clock = Arc::new(move || *now.lock().unwrap());
    Notifications::new(notifier, writes, clock, Duration::from_secs(3600), Default::default())
}

/// A service over `store` with its Slack outbox at t(100), the inbox drained
/// once: nothing waits there, so what arrives is handled as it arrives.
async fn arriving(store: &Arc<dyn crate::store::Storage>) -> Arc<Notifications> {
    let service = service(store.clone(), Arc::new(outbox(store.clone())), Arc::new(Mutex::new(t(100))));
    service.drain().await;
    service
}

/// Alarms read no pipeline.
struct NoPipelines;

#[async_trait]
impl opsbot_commands::ports::Pipelines for NoPipelines {
    async fn list(&self) -> opsbot_commands::GatewayResult<Vec<opsbot_commands::ports::PipelineSummary>> {
        unreachable!("alarms read no pipeline")
    }

    async fn state(
        &self,
        _: &opsbot_commands::values::PipelineName,
    ) -> opsbot_commands::GatewayResult<opsbot_commands::ports::PipelineState> {
        unreachable!("alarms read no pipeline")
    }

    async fn execution(
        &self,
        _: &opsbot_commands::values::PipelineName,
        _: &str,
    ) -> opsbot_commands::GatewayResult<opsbot_commands::ports::Execution> {
        unreachable!("alarms read no pipeline")
    }
}

/// The real outbox, noting how many notifications each chunk commit carries
/// and refusing every notification of the alarm `poison` names (as a store
/// refusing that one's rows would) until it is cleared.
struct Noting {
    outbox: Outbox,
    chunks: Mutex<Vec<usize>>,
    poison: Mutex<Option<String>>,
}

impl Noting {
    fn new(outbox: Outbox, poison: Option<&str>) -> Arc<Self> {
        Arc::new(Noting { outbox, chunks: Mutex::default(), poison: Mutex::new(poison.map(arn)) })
    }

    fn refuses(&self, records: &[LivingRecord]) -> bool {
        let poison = self.poison.lock().unwrap();
        poison.as_ref().is_some_and(|p| records.iter().any(|r| &r.id == p))
    }
}

fn refused() -> OutboxError {
    OutboxError::Store(StoreError("database disk image is malformed".into()))
}

#[async_trait]
impl Writes for Noting {
    async fn commit(
        &self,
        records: &[LivingRecord],
        writes: &[Write],
        handled: Option<i64>,
    ) -> Result<(), OutboxError> {
        if self.refuses(records) {
            return Err(refused());
        }
        self.outbox.commit(records, writes, handled).await
    }

    async fn commit_each(&self, each: &[ToCommit<'_>]) -> Vec<Result<(), OutboxError>> {
        self.chunks.lock().unwrap().push(each.len());
        let through: Vec<ToCommit<'_>> = each.iter().filter(|(r, _, _)| !self.refuses(r)).copied().collect();
        let mut done = self.outbox.commit_each(&through).await.into_iter();
        each.iter().map(|(r, _, _)| if self.refuses(r) { Err(refused()) } else { done.next().unwrap() }).collect()
    }
}

/// The outbox's rows for `name`'s message, as (op, payload).
async fn writes_of(store: &dyn crate::store::Storage, name: &str) -> Vec<(WriteOp, String)> {
    // The key names the alarm and its episode.
    let key = format!("alarm:{}:", arn(name));
    let rows = store.outbox_rows().await.unwrap();
    rows.into_iter().filter(|r| r.key.starts_with(&key)).map(|r| (r.op, r.payload)).collect()
}

fn posts(writes: &[(WriteOp, String)]) -> Vec<&str> {
    writes.iter().filter(|(op, _)| *op == WriteOp::Post).map(|(_, p)| p.as_str()).collect()
}

#[tokio::test]
async fn a_chunk_with_two_state_changes_of_one_alarm_ends_in_one_message_with_the_last_state() {
    let store = store_at(None);
    let writes = Noting::new(outbox(store.clone()), None);
    let service = service(store.clone(), writes.clone(), Arc::new(Mutex::new(t(100))));
    service.receive(Source::Sqs, &alarm("shop-5xx", "ALARM", 0)).await.unwrap();
    service.receive(Source::Sqs, &alarm("shop-5xx", "OK", 1)).await.unwrap();
    service.drain().await;

    assert_eq!(*writes.chunks.lock().unwrap(), [2], "both rows in one chunk commit");
    let shown = writes_of(store.as_ref(), "shop-5xx").await;
    let posts = posts(&shown);
    assert_eq!(posts.len(), 1, "one message: {shown:?}");
    assert!(posts[0].contains("Resolved: shop-5xx"), "showing the last state: {}", posts[0]);
    assert!(!shown.iter().any(|(op, _)| *op == WriteOp::Update), "the update went into the waiting post: {shown:?}");
    let kept = store.living(Living::Alarm, &arn("shop-5xx")).await.unwrap().unwrap();
    assert_eq!(kept.version, 2, "the second change was kept over the first");
    assert!(store.inbox_pending(10, i64::MAX).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_row_refused_in_a_chunk_neither_holds_up_nor_loses_the_others_and_is_shown_once_when_retried() {
    let store = store_at(None);
    let writes = Noting::new(outbox(store.clone()), Some("shop-db"));
    let now = Arc::new(Mutex::new(t(100)));
    let service = service(store.clone(), writes.clone(), now.clone());
    service.receive(Source::Sqs, &alarm("shop-5xx", "ALARM", 0)).await.unwrap();
    service.receive(Source::Sqs, &alarm("shop-db", "ALARM", 0)).await.unwrap();
    service.receive(Source::Sqs, &alarm("shop-latency", "ALARM", 0)).await.unwrap();
    service.receive(Source::Sqs, &alarm("shop-5xx", "OK", 1)).await.unwrap();
    service.receive(Source::Sqs, &alarm("shop-latency", "OK", 1)).await.unwrap();
    service.drain().await;

    assert_eq!(*writes.chunks.lock().unwrap(), [5], "one chunk");
    for name in ["shop-5xx", "shop-latency"] {
        let shown = writes_of(store.as_ref(), name).await;
        assert_eq!(posts(&shown).len(), 1, "{name} is shown: {shown:?}");
        assert!(posts(&shown)[0].contains("Resolved"), "{name} shows its last state: {shown:?}");
    }
    assert!(writes_of(store.as_ref(), "shop-db").await.is_empty(), "nothing of the refused row is kept");
    let waiting = store.inbox_pending(10, i64::MAX).await.unwrap();
    let waiting: Vec<(&str, u32)> = waiting.iter().map(|r| (r.key.as_str(), r.attempts)).collect();
    assert_eq!(waiting, [("eventbridge:shop-db-0", 1)], "it waits for its retry, alone");

    *writes.poison.lock().unwrap() = None;
    *now.lock().unwrap() = t(110);
    service.drain().await;
    let shown = writes_of(store.as_ref(), "shop-db").await;
    assert_eq!(posts(&shown).len(), 1, "shop-db once: {shown:?}");
    assert!(posts(&shown)[0].contains("shop-db is ALARM"), "{shown:?}");
    for name in ["shop-5xx", "shop-latency"] {
        assert_eq!(posts(&writes_of(store.as_ref(), name).await).len(), 1, "{name} not again");
    }
    assert!(store.inbox_pending(10, i64::MAX).await.unwrap().is_empty());
}

/// The real outbox, until chunk commit number `at` (from 0): there the
/// process "dies" — the commit never returns — and says so on `crashed`.
struct DiesAt {
    outbox: Outbox,
    at: usize,
    calls: Mutex<usize>,
    crashed: tokio::sync::Notify,
}

#[async_trait]
impl Writes for DiesAt {
    async fn commit(
        &self,
        records: &[LivingRecord],
        writes: &[Write],
        handled: Option<i64>,
    ) -> Result<(), OutboxError> {
        self.outbox.commit(records, writes, handled).await
    }

    async fn commit_each(&self, each: &[ToCommit<'_>]) -> Vec<Result<(), OutboxError>> {
        let call = {
            let mut calls = self.calls.lock().unwrap();
            *calls += 1;
            *calls
        };
        if call > self.at {
            self.crashed.notify_one();
            std::future::pending::<()>().await;
        }
        self.outbox.commit_each(each).await
    }
}

/// Three alarms flipping 40 times each: 120 rows, two chunks.
fn storm() -> Vec<Vec<u8>> {
    let mut bodies = Vec::new();
    for minute in 0..40 {
        for name in ["shop-5xx", "shop-db", "shop-latency"] {
            bodies.push(alarm(name, if minute % 2 == 0 { "ALARM" } else { "OK" }, minute));
        }
    }
    bodies
}

fn as_sent(rows: Vec<OutboxRow>) -> Vec<(String, String, WriteOp, String)> {
    rows.into_iter().map(|r| (r.key, r.channel.as_str().to_owned(), r.op, r.payload)).collect()
}

#[tokio::test]
async fn a_crash_between_chunks_loses_nothing_and_doubles_nothing_after_a_restart() {
    // What the storm leaves in the outbox with no crash.
    let dir = tempfile::tempdir().unwrap();
    let reference = store_at(Some(&dir.path().join("reference.db")));
    let now = Arc::new(Mutex::new(t(100)));
    let plain = service(reference.clone(), Arc::new(outbox(reference.clone())), now.clone());
    for body in storm() {
        plain.receive(Source::Sqs, &body).await.unwrap();
    }
    plain.drain().await;
    let expected = as_sent(reference.outbox_rows().await.unwrap());
    assert_eq!(expected.iter().filter(|(_, _, op, _)| *op == WriteOp::Post).count(), 3, "one post per alarm");

    for at in [0, 1] {
        let path = dir.path().join(format!("crash-{at}.db"));
        let store = store_at(Some(&path));
        let dies =
            Arc::new(DiesAt { outbox: outbox(store.clone()), at, calls: Mutex::new(0), crashed: Default::default() });
        let doomed = service(store.clone(), dies.clone(), now.clone());
        for body in storm() {
            doomed.receive(Source::Sqs, &body).await.unwrap();
        }
        tokio::select! {
            _ = doomed.drain() => panic!("the drain was to die at chunk {at}"),
            _ = dies.crashed.notified() => {}
        }
        drop((doomed, dies, store));

        let store = store_at(Some(&path));
        let restarted = service(store.clone(), Arc::new(outbox(store.clone())), now.clone());
        restarted.drain().await;
        assert!(store.inbox_pending(200, i64::MAX).await.unwrap().is_empty(), "every row handled (crash at {at})");
        assert_eq!(as_sent(store.outbox_rows().await.unwrap()), expected, "the same writes as without a crash at {at}");
    }
}

#[tokio::test]
async fn an_inbox_row_kept_whole_by_an_earlier_version_is_handled_as_one_kept_compact_today() {
    let whole =
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/notifications/sns-envelope-alarm.json"));
    let now = Arc::new(Mutex::new(t(100)));

    // Before the upgrade: the row holds the envelope as it came.
    let before = store_at(None);
    let key = crate::notify::event::parse(whole).unwrap().key;
    assert!(before.inbox_accept(&key, whole, 0).await.unwrap());
    service(before.clone(), Arc::new(outbox(before.clone())), now.clone()).drain().await;

    // Today: `receive` keeps the compact form.
    let today = store_at(None);
    let service = service(today.clone(), Arc::new(outbox(today.clone())), now.clone());
    service.receive(Source::Sns, whole).await.unwrap();
    let kept = today.inbox_pending(10, i64::MAX).await.unwrap();
    assert!(kept[0].body.len() < whole.len(), "kept compact: {} of {} bytes", kept[0].body.len(), whole.len());
    service.drain().await;

    let shown = as_sent(before.outbox_rows().await.unwrap());
    assert_eq!(shown.iter().filter(|(_, _, op, _)| *op == WriteOp::Post).count(), 1, "{shown:?}");
    assert_eq!(as_sent(today.outbox_rows().await.unwrap()), shown, "the same message either way");
    for store in [&before, &today] {
        assert!(store.inbox_pending(10, i64::MAX).await.unwrap().is_empty(), "handled");
    }
}

#[tokio::test]
async fn a_notification_arriving_at_an_empty_inbox_is_handled_and_durable_before_its_source_is_answered() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("opsbot.db");
    let store = store_at(Some(&path));
    let service = arriving(&store).await;

    service.receive(Source::Sns, &alarm("shop-5xx", "ALARM", 0)).await.unwrap();
    service.receive(Source::Sns, &alarm("shop-5xx", "ALARM", 0)).await.unwrap();
    drop(service);

    let reopened = store_at(Some(&path));
    let shown = writes_of(reopened.as_ref(), "shop-5xx").await;
    assert_eq!(posts(&shown).len(), 1, "posted once, the redelivery ignored: {shown:?}");
    assert!(posts(&shown)[0].contains("shop-5xx is ALARM"), "{shown:?}");
    assert!(reopened.inbox_pending(10, i64::MAX).await.unwrap().is_empty(), "no row left to handle");
    assert!(reopened.inbox_knows("eventbridge:shop-5xx-0").await.unwrap(), "its key stays known");
}

#[tokio::test]
async fn arrivals_wait_behind_rows_already_in_the_inbox_so_the_last_state_wins() {
    let store = store_at(None);
    let service = service(store.clone(), Arc::new(outbox(store.clone())), Arc::new(Mutex::new(t(100))));
    // Before the first drain the inbox may hold rows from before a restart:
    // what arrives is kept behind them.
    service.receive(Source::Sqs, &alarm("shop-5xx", "ALARM", 0)).await.unwrap();
    service.receive(Source::Sqs, &alarm("shop-5xx", "OK", 1)).await.unwrap();
    let waiting = store.inbox_pending(10, i64::MAX).await.unwrap();
    assert_eq!(waiting.len(), 2, "both kept, in order");
    assert!(writes_of(store.as_ref(), "shop-5xx").await.is_empty(), "neither handled ahead of the inbox");

    service.drain().await;
    let shown = writes_of(store.as_ref(), "shop-5xx").await;
    assert!(posts(&shown)[0].contains("Resolved: shop-5xx"), "handled in arrival order: {shown:?}");

    // The inbox is empty now: the next one is handled as it arrives.
    service.receive(Source::Sqs, &alarm("shop-5xx", "ALARM", 2)).await.unwrap();
    assert!(store.inbox_pending(10, i64::MAX).await.unwrap().is_empty());
    let shown = writes_of(store.as_ref(), "shop-5xx").await;
    assert!(posts(&shown)[0].contains("shop-5xx is ALARM") && posts(&shown)[0].contains("change at 2"), "{shown:?}");
    let replies: Vec<&str> = shown.iter().filter(|(op, _)| *op == WriteOp::Reply).map(|(_, p)| p.as_str()).collect();
    assert_eq!(replies.len(), 3, "one thread line per change: {replies:?}");
    assert!(replies[2].contains("ALARM at 09:02:00 UTC"), "the newest last: {replies:?}");
}

#[tokio::test]
async fn a_notification_posted_to_the_sns_endpoint_is_handled_as_the_same_body_received_whole() {
    let body =
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/notifications/sns-envelope-alarm.json"));
    let mut shown = Vec::new();
    for through_the_endpoint in [false, true] {
        let store = store_at(None);
        let service = arriving(&store).await;
        if through_the_endpoint {
            let envelope = SnsMessage::from_json(body).unwrap(); // as POST /sns parsed it
            service.receive_sns(envelope, body).await.unwrap();
        } else {
            service.receive(Source::Sns, body).await.unwrap();
        }
        shown.push(as_sent(store.outbox_rows().await.unwrap()));
    }
    assert_eq!(shown[0].iter().filter(|(_, _, op, _)| *op == WriteOp::Post).count(), 1, "{shown:?}");
    assert_eq!(shown[0], shown[1], "the same message either way");
}

#[tokio::test]
async fn a_redelivery_of_a_key_seen_committed_is_answered_without_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("opsbot.db");
    let store = store_at(Some(&path));
    let service = arriving(&store).await;
    service.receive(Source::Sns, &alarm("shop-5xx", "ALARM", 0)).await.unwrap();
    // The store forgets the key (as it does a week after), behind this process's back.
    rusqlite::Connection::open(&path).unwrap().execute("DELETE FROM inbox", []).unwrap();

    service.receive(Source::Sns, &alarm("shop-5xx", "ALARM", 0)).await.unwrap();
    assert!(!store.inbox_knows("eventbridge:shop-5xx-0").await.unwrap(), "the store was not asked to keep it again");
    assert_eq!(posts(&writes_of(store.as_ref(), "shop-5xx").await).len(), 1, "posted once");
}

#[tokio::test]
async fn a_redelivery_this_process_does_not_remember_is_a_duplicate_and_the_change_behind_it_in_its_lot_still_shows() {
    let store = store_at(None);
    arriving(&store).await.receive(Source::Sns, &alarm("shop-5xx", "ALARM", 0)).await.unwrap();
    // A restart: the new process remembers no key, and asks the store of none
    // before the lot's commit tells it.
    let service = arriving(&store).await;
    let (again, resolved) = (alarm("shop-5xx", "ALARM", 0), alarm("shop-5xx", "OK", 1));
    let (redelivered, next) =
        tokio::join!(service.receive(Source::Sns, &again), service.receive(Source::Sns, &resolved));
    redelivered.unwrap();
    next.unwrap();
    service.drain().await;

    let shown = writes_of(store.as_ref(), "shop-5xx").await;
    assert_eq!(posts(&shown).len(), 1, "posted once, the redelivery ignored: {shown:?}");
    assert!(posts(&shown)[0].contains("Resolved: shop-5xx"), "the change behind it shows: {shown:?}");
    let replies = shown.iter().filter(|(op, _)| *op == WriteOp::Reply).count();
    assert_eq!(replies, 2, "one thread line per change, none for the redelivery: {shown:?}");
    assert!(store.inbox_pending(10, i64::MAX).await.unwrap().is_empty(), "nothing left to handle");
}

#[tokio::test]
async fn a_storm_arriving_at_once_is_handled_in_lots_and_shows_what_handling_it_one_by_one_shows() {
    let mut shown = Vec::new();
    for at_once in [false, true] {
        let store = store_at(None);
        let service = arriving(&store).await;
        if at_once {
            // All queued before the arrivals task runs: lots of CHUNK, each
            // worked out over the ones before it in the lot.
            let arriving = storm().into_iter().map(|body| {
                let service = service.clone();
                async move { service.receive(Source::Sqs, &body).await }
            });
            futures_util::future::join_all(arriving).await.into_iter().for_each(Result::unwrap);
        } else {
            for body in storm() {
                service.receive(Source::Sqs, &body).await.unwrap();
            }
        }
        assert!(store.inbox_pending(200, i64::MAX).await.unwrap().is_empty(), "all handled as they arrived");
        shown.push(as_sent(store.outbox_rows().await.unwrap()));
    }
    assert!(shown[0].len() > 3, "{:?}", shown[0]);
    assert_eq!(shown[1], shown[0], "the same writes, in the same order");
}

#[tokio::test]
async fn an_arrival_kept_for_an_aws_read_holds_the_ones_behind_it_in_the_inbox_even_in_one_lot() {
    let action = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/notifications/codepipeline-action-started.json"
    ));
    let approval = action.replace(r#""category": "Deploy""#, r#""category": "Approval""#);
    let store = store_at(None);
    let service = arriving(&store).await;
    let alarm = alarm("shop-5xx", "ALARM", 0);
    let (first, second) = tokio::join!(
        service.receive(Source::Sqs, approval.as_bytes()), // its handling reads the pipeline: kept
        service.receive(Source::Sqs, &alarm),
    );
    first.unwrap();
    second.unwrap();
    let waiting = store.inbox_pending(10, i64::MAX).await.unwrap();
    let keys: Vec<&str> = waiting.iter().map(|row| row.key.as_str()).collect();
    assert_eq!(keys, ["eventbridge:01234567-EXAMPLE", "eventbridge:shop-5xx-0"]);
    assert!(writes_of(store.as_ref(), "shop-5xx").await.is_empty(), "the alarm not shown ahead of the approval");
}
