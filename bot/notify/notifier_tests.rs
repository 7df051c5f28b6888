//! The notifier end to end inside the process: real bodies through `parse`,
//! routed, turned into records and Slack writes, committed to a real
//! (in-memory) SQLite store between notifications.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{Duration, TimeZone};
use opsbot_commands::GatewayResult;
use opsbot_commands::ports::{
    ActionCategory, ActionState, ExecStatus, Execution, PipelineState, PipelineSummary, StageState, StoppedContainer,
    StoppedTask, StoppedTasks,
};
use serde_json::json;

use super::*;
use crate::notify::event::parse;
use crate::settings::Settings;

const ARN: &str = "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:shop-5xx";

fn t(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap() + Duration::minutes(minute)
}

/// CodePipeline keeps this summary with the approval's decision.
struct Decided(&'static str);

#[async_trait]
impl Pipelines for Decided {
    async fn list(&self) -> GatewayResult<Vec<PipelineSummary>> {
        Ok(vec![])
    }

    async fn state(&self, name: &PipelineName) -> GatewayResult<PipelineState> {
        let action = ActionState {
            name: "Manual".into(),
            category: ActionCategory::Approval,
            status: Some(ExecStatus::Succeeded),
            last_change: None,
            summary: Some(self.0.into()),
            error: None,
            external_url: None,
            token: None,
        };
        let stage = StageState { name: "ApproveProd".into(), status: None, actions: vec![action], execution_id: None };
        Ok(PipelineState { name: name.clone(), latest: None, stages: vec![stage] })
    }

    async fn execution(&self, _: &PipelineName, _: &str) -> GatewayResult<Execution> {
        unreachable!("the notifier does not read executions")
    }
}

fn notifier() -> Notifier {
    let yaml = "policies:
  roles:
    oncall: { groups: [S0ONCALL] }
  rules: []
notifications:
  default_channel: C0OPS
  routes:
    - { match: { kind: alarm, name: \"^shop-\" }, channel: C0SHOPALERTS, mention: oncall }
    - { match: { kind: pipeline }, channel: C0DEPLOYS }
";
    notifier_with(yaml, "Approved by Lee Lead (U0LEAD) via opsbot: canary green")
}

/// A notifier on a fresh store with the settings in `yaml`, its pipelines
/// telling `decided` as an approval's summary.
fn notifier_with(yaml: &str, decided: &'static str) -> Notifier {
    let settings = Settings::from_test_yaml(yaml).unwrap();
    let pipelines = Arc::new(Decided(decided));
    Notifier::new(crate::store::open(None).unwrap(), settings.notifications.clone(), settings.policy(), pipelines)
}

fn event(detail_type: &str, source: &str, minute: i64, detail: serde_json::Value) -> Vec<u8> {
    let id = format!("{detail_type}-{minute}-{}", detail["state"]);
    json!({"version": "0", "id": id, "detail-type": detail_type, "source": source, "account": "111122223333",
           "time": t(minute).to_rfc3339(), "region": "eu-west-1", "resources": [ARN], "detail": detail})
    .to_string()
    .into_bytes()
}

fn alarm(state: &str, minute: i64) -> Vec<u8> {
    let detail = json!({"alarmName": "shop-5xx", "state": {"value": state, "reason": "Threshold Crossed",
        "timestamp": t(minute).to_rfc3339()}, "previousState": {"value": "OK"}});
    event("CloudWatch Alarm State Change", "aws.cloudwatch", minute, detail)
}

fn approval_action(state: &str, minute: i64) -> Vec<u8> {
    let detail = json!({"pipeline": "storefront-web", "execution-id": "exec-1", "stage": "ApproveProd",
        "action": "Manual", "state": state, "type": {"owner": "AWS", "category": "Approval", "provider": "Manual", "version": "1"}});
    event("CodePipeline Action Execution State Change", "aws.codepipeline", minute, detail)
}

/// Handles `body` as the inbox would and keeps its records; returns its writes.
async fn handle(n: &Notifier, body: &[u8], now: DateTime<Utc>) -> Vec<Write> {
    let batch = n.handle(&parse(body).unwrap(), now).await.unwrap();
    keep(n, batch).await
}

/// One sweep's batches as one (tests keep them together).
async fn swept(n: &Notifier, at: DateTime<Utc>) -> Batch {
    let mut all = Batch::default();
    for batch in n.sweep(at).await.unwrap() {
        all.records.extend(batch.records);
        all.writes.extend(batch.writes);
    }
    all
}

async fn keep(n: &Notifier, batch: Batch) -> Vec<Write> {
    n.store.commit_notification(&batch.records, &[], None, t(0)).await.unwrap();
    batch.writes
}

fn summary(writes: &[Write]) -> Vec<String> {
    writes
        .iter()
        .map(|w| match w {
            Write::Post { channel, reply, .. } => {
                format!("post {channel}: {}", reply.text().lines().next().unwrap_or(""))
            }
            Write::Update { .. } => "update".into(),
            Write::Reply { reply, .. } => format!("thread: {}", reply.text()),
        })
        .collect()
}

#[tokio::test]
async fn a_message_from_a_configured_account_names_it_when_posted_edited_or_escalated() {
    let yaml = "aws:
  accounts:
    prod: { role_arn: \"arn:aws:iam::111122223333:role/opsbot\" }
notifications:
  default_channel: C0OPS
  routes:
    - { match: { account: prod, kind: alarm }, channel: C0PROD }
";
    let n = notifier_with(yaml, "");

    let fired = handle(&n, &alarm("ALARM", 0), t(0)).await;
    let escalated = keep(&n, swept(&n, t(30)).await).await;

    let Write::Post { channel, reply, .. } = &fired[0] else { panic!("{fired:?}") };
    assert_eq!(channel.as_str(), "C0PROD", "routed by the account's name");
    assert!(reply.text().contains("Account *prod*"), "{}", reply.text());
    let update =
        escalated.iter().find_map(|w| if let Write::Update { reply, .. } = w { Some(reply.text()) } else { None });
    assert!(update.is_some_and(|text| text.contains("Account *prod*")), "{escalated:?}");
}

#[tokio::test]
async fn the_buttons_of_a_message_from_a_configured_account_act_in_that_account() {
    let yaml = "aws:\n  accounts:\n    prod: { role_arn: \"arn:aws:iam::111122223333:role/opsbot\" }\nnotifications:\n  default_channel: C0OPS\n";
    let n = notifier_with(yaml, "");

    let writes = handle(&n, &alarm("ALARM", 0), t(0)).await;

    let Write::Post { reply, .. } = &writes[0] else { panic!("{writes:?}") };
    let lines: Vec<&str> = reply
        .blocks
        .iter()
        .filter_map(|b| if let Block::Buttons(buttons) = b { Some(buttons) } else { None })
        .flatten()
        .filter_map(|b| if let Press::Run(line) = &b.press { Some(line.as_str()) } else { None })
        .collect();
    assert!(!lines.is_empty() && lines.iter().all(|l| l.ends_with("--account prod")), "{lines:?}");
}

/// The alarm is tagged `team=payments`; the reads are counted.
#[derive(Default)]
struct Tagged(std::sync::atomic::AtomicUsize);

#[async_trait]
impl crate::notify::tags::ReadTags for Tagged {
    async fn tags(&self, arn: &str) -> GatewayResult<crate::notify::tags::Tags> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(arn, ARN, "the tags of the resource the notification is about");
        Ok([("team".to_owned(), "payments".to_owned())].into())
    }
}

#[tokio::test(start_paused = true)]
async fn a_tagged_resources_notifications_go_to_its_tag_route_with_its_tags_read_once() {
    let yaml = "notifications:
  default_channel: C0OPS
  routes:
    - { match: { tags: { team: search } }, channel: C0SEARCH }
    - { match: { tags: { team: payments } }, channel: C0PAYMENTS }
";
    let reads = Arc::new(Tagged::default());
    let cache = Arc::new(crate::notify::tags::TagCache::new(reads.clone()));
    let n = notifier_with(yaml, "").with_tags(cache);

    let mut channels = Vec::new();
    for (minute, state) in [(0, "ALARM"), (1, "OK"), (2, "ALARM"), (3, "OK")] {
        for write in handle(&n, &alarm(state, minute), t(minute)).await {
            if let Write::Post { channel, .. } = write {
                channels.push(channel.as_str().to_owned());
            }
        }
    }

    assert!(!channels.is_empty() && channels.iter().all(|c| c == "C0PAYMENTS"), "{channels:?}");
    assert_eq!(reads.0.load(std::sync::atomic::Ordering::SeqCst), 1, "one read for four notifications");
}

#[tokio::test]
async fn without_a_route_by_tags_no_tag_is_read() {
    let reads = Arc::new(Tagged::default());
    let n = notifier().with_tags(Arc::new(crate::notify::tags::TagCache::new(reads.clone())));
    handle(&n, &alarm("ALARM", 0), t(0)).await;
    assert_eq!(reads.0.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_message_from_an_account_not_configured_names_none() {
    let writes = handle(&notifier(), &alarm("ALARM", 0), t(0)).await;
    let Write::Post { reply, .. } = &writes[0] else { panic!("{writes:?}") };
    assert!(!reply.text().contains("Account"), "{}", reply.text());
}

#[tokio::test]
async fn an_alarm_is_posted_to_its_route_mentioning_on_call_then_resolved_in_place() {
    let n = notifier();
    let fired = summary(&handle(&n, &alarm("ALARM", 0), t(0)).await);
    assert_eq!(fired.len(), 2, "{fired:?}");
    assert!(
        fired[0].starts_with("post C0SHOPALERTS: <!subteam^S0ONCALL> :rotating_light: *shop-5xx* is *ALARM*"),
        "{fired:?}"
    );
    assert!(fired[1].starts_with("thread: :rotating_light: ALARM at 09:00:00 UTC"), "{fired:?}");
    let resolved = summary(&handle(&n, &alarm("OK", 20), t(20)).await);
    assert_eq!(resolved[0], "update");
    assert!(n.store.living_open(Living::Alarm).await.unwrap().is_empty(), "resolved alerts are no longer open");
}

#[tokio::test]
async fn an_alarm_nobody_acknowledges_is_escalated_once_by_the_sweep() {
    let n = notifier();
    handle(&n, &alarm("ALARM", 0), t(0)).await;
    assert!(keep(&n, swept(&n, t(9)).await).await.is_empty());
    let escalated = summary(&keep(&n, swept(&n, t(10)).await).await);
    assert_eq!(escalated.len(), 2, "{escalated:?}");
    assert!(escalated[1].contains("<!subteam^S0ONCALL>: *shop-5xx* has been firing for 10m"), "{escalated:?}");
    assert!(keep(&n, swept(&n, t(30)).await).await.is_empty(), "once");
}

#[tokio::test]
async fn an_approval_is_one_message_from_either_source_and_shows_who_decided() {
    let n = notifier();
    let sns = json!({"region": "eu-west-1", "consoleLink": "https://console.aws.amazon.com/codepipeline",
        "approval": {"pipelineName": "storefront-web", "stageName": "ApproveProd", "actionName": "Manual",
        "token": "tok-1", "expires": "2026-11-29T09:00Z", "customData": "check the canary"}});
    let announced = summary(&handle(&n, sns.to_string().as_bytes(), t(0)).await);
    assert_eq!(
        announced,
        [
            "post C0DEPLOYS: :raising_hand: *storefront-web* waits for approval at *ApproveProd/Manual* — expires 2026-11-29 09:00 UTC (in 7d)"
        ]
    );
    let started = handle(&n, &approval_action("STARTED", 0), t(0)).await;
    assert!(
        started.iter().all(|w| !matches!(w, Write::Post { key, .. } if key.starts_with("approval:"))),
        "no second approval message"
    );
    let decided = summary(&handle(&n, &approval_action("SUCCEEDED", 12), t(12)).await);
    assert!(
        decided
            .iter()
            .any(|w| w.contains("Approved at 09:12 UTC — “Approved by Lee Lead (U0LEAD) via opsbot: canary green”")),
        "{decided:?}"
    );
}

#[tokio::test]
async fn a_notification_of_an_unknown_kind_goes_to_the_default_channel() {
    let n = notifier();
    let body = event("AWS Health Event", "aws.health", 0, json!({"eventTypeCode": "AWS_EC2_MAINTENANCE"}));
    let writes = summary(&handle(&n, &body, t(0)).await);
    assert_eq!(writes.len(), 1);
    assert!(writes[0].starts_with("post C0OPS: :mailbox_with_mail:"), "{writes:?}");
}

#[tokio::test]
async fn a_run_says_what_triggered_it_down_to_the_commit() {
    let n = notifier();
    let detail = json!({"pipeline": "storefront-web", "execution-id": "exec-9", "state": "STARTED",
        "execution-trigger": {"trigger-type": "Webhook", "commit-id": "0a1b2c3d4e5f", "commit-message": "Fix checkout\n\nlong body",
            "author-display-name": "Dana"}});
    let body = event("CodePipeline Pipeline Execution State Change", "aws.codepipeline", 0, detail);
    let posted = summary(&handle(&n, &body, t(1)).await);
    assert!(posted[0].contains("triggered by Webhook: commit 0a1b2c3 “Fix checkout” by Dana"), "{posted:?}");
}

/// The outbox of a store that cannot take the writes of one alarm (as a row
/// too large or a constraint it breaks would): those commits fail, the rest
/// are committed, their rows marked handled.
struct RefusesOne {
    store: Arc<dyn crate::store::Storage>,
    poison: &'static str,
    committed: std::sync::Mutex<Vec<String>>,
    /// When (on the runtime's clock) each commit of the poisoned alarm was refused.
    refused: std::sync::Mutex<Vec<tokio::time::Instant>>,
}

#[async_trait]
impl crate::notify::service::Writes for RefusesOne {
    async fn commit(
        &self,
        records: &[LivingRecord],
        writes: &[Write],
        handled: Option<i64>,
    ) -> Result<(), crate::slack::outbox::OutboxError> {
        let keys: Vec<String> = records.iter().map(|r| r.message.clone()).collect();
        if keys.iter().any(|k| k.contains(self.poison)) {
            self.refused.lock().unwrap().push(tokio::time::Instant::now());
            return Err(StoreError("database disk image is malformed".into()).into());
        }
        self.store.commit_notification(records, &[], handled, t(0)).await?;
        self.committed.lock().unwrap().extend(keys.into_iter().filter(|_| !writes.is_empty()));
        Ok(())
    }
}

fn alarm_named(name: &str, minute: i64) -> Vec<u8> {
    let arn = format!("arn:aws:cloudwatch:eu-west-1:111122223333:alarm:{name}");
    let detail = json!({"alarmName": name, "state": {"value": "ALARM", "reason": "Threshold Crossed",
        "timestamp": t(minute).to_rfc3339()}, "previousState": {"value": "OK"}});
    json!({"version": "0", "id": format!("{name}-{minute}"), "detail-type": "CloudWatch Alarm State Change",
           "source": "aws.cloudwatch", "account": "111122223333", "time": t(minute).to_rfc3339(),
           "region": "eu-west-1", "resources": [arn], "detail": detail})
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn a_notification_that_keeps_failing_is_retried_then_parked_and_never_blocks_the_ones_behind_it() {
    use crate::notify::intake::{Inbox, Source};
    use crate::notify::service::Notifications;
    use opsbot_commands::ports::alerts::Alerts;

    let n = notifier();
    let store = n.store.clone();
    let outbox = Arc::new(RefusesOne {
        store: store.clone(),
        poison: "shop-5xx",
        committed: Default::default(),
        refused: Default::default(),
    });
    let now = Arc::new(std::sync::Mutex::new(t(0)));
    let clock: opsbot_commands::ports::Clock = {
        let now = now.clone();
        Arc::new(move || *now.lock().unwrap())
    };
    let service = Notifications::new(n, outbox.clone(), clock, std::time::Duration::from_secs(30), Default::default());
    let committed = || outbox.committed.lock().unwrap().len();

    service.receive(Source::Sqs, &alarm_named("shop-5xx", 0)).await.unwrap();
    service.receive(Source::Sqs, &alarm_named("shop-latency", 0)).await.unwrap();
    service.drain().await;
    assert_eq!(committed(), 1, "the notification behind the failing one is handled");

    let mut drains = 1;
    while service.parked().await.unwrap().count == 0 && drains < 20 {
        let next = store.inbox_pending(10, i64::MAX).await.unwrap()[0].attempts;
        service.drain().await;
        assert_eq!(store.inbox_pending(10, i64::MAX).await.unwrap()[0].attempts, next, "not due yet: not tried");
        *now.lock().unwrap() += Duration::minutes(6);
        service.drain().await;
        drains += 1;
    }
    assert_eq!(drains, crate::store::PARK_AFTER, "tried {} times, then parked", crate::store::PARK_AFTER);
    let parked = service.parked().await.unwrap();
    assert_eq!(parked.count, 1);
    assert_eq!(parked.newest[0].attempts, crate::store::PARK_AFTER);
    assert!(parked.newest[0].key.contains("shop-5xx"), "{:?}", parked.newest);
    assert!(parked.newest[0].error.ends_with("database disk image is malformed"), "{:?}", parked.newest);

    service.receive(Source::Sqs, &alarm_named("shop-errors", 40)).await.unwrap();
    service.drain().await;
    assert_eq!(committed(), 2, "a parked notification is out of the way of what comes next");
    assert!(store.inbox_pending(10, i64::MAX).await.unwrap().is_empty(), "nothing else waits");
}

#[tokio::test(start_paused = true)]
async fn a_failed_notification_is_tried_again_when_its_retry_is_due_without_anything_else_waking_the_handler() {
    use crate::notify::intake::{Inbox, Source};
    use crate::notify::service::Notifications;

    let n = notifier();
    let store = n.store.clone();
    let outbox = Arc::new(RefusesOne {
        store: store.clone(),
        poison: "shop-5xx",
        committed: Default::default(),
        refused: Default::default(),
    });
    let started = tokio::time::Instant::now();
    // The app's clock moves with the runtime's (paused) clock.
    let clock: opsbot_commands::ports::Clock = Arc::new(move || t(0) + Duration::from_std(started.elapsed()).unwrap());
    let hour = std::time::Duration::from_secs(3600);
    let service = Notifications::new(n, outbox.clone(), clock, hour, Default::default());
    let stop = tokio_util::sync::CancellationToken::new();
    let running = tokio::spawn(service.clone().run(stop.clone()));
    service.receive(Source::Sqs, &alarm_named("shop-5xx", 0)).await.unwrap();
    // Judged by when the attempts happened on the runtime's clock, not by
    // what a read sees at a moment: the paused clock jumps ahead whenever
    // every task waits for the store's threads, the test's reads included.
    tokio::time::sleep(crate::store::FIRST_RETRY + std::time::Duration::from_secs(1)).await;
    // Measured from the first attempt: even storing the row can let the
    // paused clock jump (to the hourly sweep) before the handler wakes.
    let refused = outbox.refused.lock().unwrap().clone();
    let after: Vec<std::time::Duration> = refused.iter().map(|at| at.duration_since(refused[0])).collect();
    let (first, retried): (Vec<&std::time::Duration>, Vec<_>) =
        after.iter().partition(|d| **d < crate::store::FIRST_RETRY);
    assert!(!first.is_empty(), "tried at once: {after:?}");
    assert!(first.iter().all(|d| d.as_secs() < 1), "then not again until the retry is due: {after:?}");
    assert!(!retried.is_empty(), "retried after the first wait, with no sweep or new notification due: {after:?}");
    stop.cancel();
    running.await.unwrap();
}

#[tokio::test]
async fn an_event_handled_over_a_record_another_replica_just_changed_is_refused_then_applied_when_read_again() {
    let n = notifier();
    // Replicas A and B each handle an event of the same alarm, both reading nothing kept yet.
    let a = n.handle(&parse(&alarm("ALARM", 0)).unwrap(), t(0)).await.unwrap();
    let b = n.handle(&parse(&alarm("INSUFFICIENT_DATA", 1)).unwrap(), t(1)).await.unwrap();
    n.store.commit_notification(&b.records, &[], None, t(1)).await.unwrap();
    let refused = n.store.commit_notification(&a.records, &[], None, t(1)).await.unwrap_err().to_string();
    assert!(refused.contains("changed since it was read"), "{refused}");
    // A handles its event again (as the inbox retries it): over B's record this time.
    let again = n.handle(&parse(&alarm("ALARM", 0)).unwrap(), t(2)).await.unwrap();
    assert_eq!(again.records[0].version, Some(1), "written over what B kept");
    n.store.commit_notification(&again.records, &[], None, t(2)).await.unwrap();
    let kept = n.store.living(Living::Alarm, ARN).await.unwrap().unwrap();
    assert_eq!(kept.version, 2, "both events were applied, one after the other");
}

/// Lands another replica's handling of the same alarm just before this
/// replica's first commit, as a race between two replicas would.
struct RacedOnce {
    store: Arc<dyn crate::store::Storage>,
    rival: std::sync::Mutex<Option<Batch>>,
    /// The writes of this replica's commits that went through.
    shown: std::sync::Mutex<Vec<Write>>,
}

impl RacedOnce {
    fn new(store: Arc<dyn crate::store::Storage>, rival: Batch) -> Arc<Self> {
        Arc::new(RacedOnce { store, rival: std::sync::Mutex::new(Some(rival)), shown: Default::default() })
    }
}

#[async_trait]
impl crate::notify::service::Writes for RacedOnce {
    async fn commit(
        &self,
        records: &[LivingRecord],
        writes: &[Write],
        handled: Option<i64>,
    ) -> Result<(), crate::slack::outbox::OutboxError> {
        let rival = self.rival.lock().unwrap().take();
        if let Some(rival) = rival {
            self.store.commit_notification(&rival.records, &[], None, t(1)).await?;
        }
        self.store.commit_notification(records, &[], handled, t(0)).await?;
        self.shown.lock().unwrap().extend_from_slice(writes);
        Ok(())
    }
}

#[tokio::test]
async fn a_notification_whose_record_another_replica_just_moved_on_is_applied_at_once_not_after_a_retry_wait() {
    use crate::notify::intake::{Inbox, Source};
    use crate::notify::service::Notifications;

    let n = notifier();
    let store = n.store.clone();
    let rival = n.handle(&parse(&alarm("INSUFFICIENT_DATA", 1)).unwrap(), t(1)).await.unwrap();
    let outbox = RacedOnce::new(store.clone(), rival);
    let clock: opsbot_commands::ports::Clock = Arc::new(|| t(0));
    let service = Notifications::new(n, outbox, clock, std::time::Duration::from_secs(3600), Default::default());
    service.receive(Source::Sqs, &alarm("ALARM", 0)).await.unwrap();
    service.drain().await;
    assert!(store.inbox_pending(10, i64::MAX).await.unwrap().is_empty(), "handled, not waiting for a retry");
    assert_eq!(store.inbox_next_retry().await.unwrap(), None);
    let kept = store.living(Living::Alarm, ARN).await.unwrap().unwrap();
    assert_eq!(kept.version, 2, "the rival's event and this one, one after the other");
}

#[tokio::test]
async fn of_two_replicas_sweeping_at_once_each_escalation_is_shown_once_and_none_waits_for_the_next_sweep() {
    use crate::notify::service::Notifications;

    let n = notifier();
    let store = n.store.clone();
    handle(&n, &alarm("ALARM", 0), t(0)).await;
    handle(&n, &alarm_named("shop-db", 5), t(5)).await;
    // Replica A's sweep at minute 10 escalates shop-5xx (shop-db is not due
    // yet) and commits while B's sweep at minute 16 is under way.
    let a = swept(&n, t(10)).await;
    assert_eq!(summary(&a.writes).len(), 2, "A escalates shop-5xx: {:?}", summary(&a.writes));
    let b_outbox = RacedOnce::new(store.clone(), a);
    let clock: opsbot_commands::ports::Clock = Arc::new(|| t(16));
    let b = Notifications::new(n, b_outbox.clone(), clock, std::time::Duration::from_secs(3600), Default::default());
    b.sweep().await;
    let shown = summary(&b_outbox.shown.lock().unwrap());
    assert!(shown.iter().any(|w| w.contains("*shop-db* has been firing")), "B escalates shop-db now: {shown:?}");
    assert!(!shown.iter().any(|w| w.contains("*shop-5xx*")), "and not shop-5xx again: {shown:?}");
}

#[tokio::test]
async fn what_arrives_is_counted_by_source_kind_and_outcome_unknown_text_too_and_each_handled_one_by_its_lag() {
    use crate::metrics::{Gauges, Metrics};
    use crate::notify::intake::{Inbox, Source};
    use crate::notify::service::Notifications;

    let n = notifier();
    let outbox = Arc::new(RefusesOne {
        store: n.store.clone(),
        poison: "nothing",
        committed: Default::default(),
        refused: Default::default(),
    });
    let clock: opsbot_commands::ports::Clock = Arc::new(|| t(0));
    let metrics = Arc::new(Metrics::default());
    let service = Notifications::new(n, outbox, clock, std::time::Duration::from_secs(3600), metrics.clone());
    service.receive(Source::Sqs, &alarm_named("shop-5xx", 0)).await.unwrap();
    service.receive(Source::Sqs, &alarm_named("shop-5xx", 0)).await.unwrap();
    service.receive(Source::Sns, b"not json at all").await.unwrap();
    service.receive(Source::Sns, b"").await.unwrap();
    service.drain().await;
    let text = metrics.render(&Gauges { ready: true, outbox: None, socket_connections: None });
    for line in [
        "opsbot_notifications_received_total{source=\"sqs\",kind=\"alarm\",outcome=\"new\"} 1",
        "opsbot_notifications_received_total{source=\"sqs\",kind=\"alarm\",outcome=\"duplicate\"} 1",
        "opsbot_notifications_received_total{source=\"sns\",kind=\"other\",outcome=\"new\"} 1",
        "opsbot_notifications_received_total{source=\"sns\",kind=\"none\",outcome=\"dropped\"} 1",
        "opsbot_notification_handling_lag_seconds_count 2",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
    }
}

/// CodeBuild and CloudWatch Logs as the notifier sees them: one failed build,
/// or none readable; counts its reads.
struct Builds {
    readable: bool,
    reads: std::sync::atomic::AtomicUsize,
}

#[async_trait]
impl BuildLogs for Builds {
    async fn failed_build(&self, id: &str, lines: usize) -> GatewayResult<build_log::BuildLog> {
        self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if !self.readable {
            return Err(opsbot_commands::error::GatewayError::AccessDenied {
                message: "not authorized to perform: logs:GetLogEvents".into(),
            });
        }
        let log = ["> jest", "FAIL src/cart.test.ts", "deploying with AKIAIOSFODNN7EXAMPLE"];
        Ok(build_log::BuildLog {
            id: id.into(),
            project: "storefront-web".into(),
            lines: log.iter().rev().take(lines).rev().map(|l| l.to_string()).collect(),
            stream: Some(build_log::LogStream {
                group: "/aws/codebuild/storefront-web".into(),
                name: "b1".into(),
                link: None,
            }),
            ..Default::default()
        })
    }
}

fn with_builds(readable: bool) -> (Notifier, Arc<Builds>) {
    let builds = Arc::new(Builds { readable, reads: Default::default() });
    (notifier().with_build_logs(builds.clone()), builds)
}

fn build_failed(minute: i64) -> Vec<u8> {
    let detail = json!({"pipeline": "storefront-web", "execution-id": "exec-2", "stage": "Build",
        "action": "UnitTests", "state": "FAILED",
        "execution-result": {"external-execution-id": "storefront-web:b1", "external-execution-summary": "Build terminated with state: FAILED"},
        "type": {"owner": "AWS", "category": "Build", "provider": "CodeBuild", "version": "1"}});
    event("CodePipeline Action Execution State Change", "aws.codepipeline", minute, detail)
}

#[tokio::test]
async fn a_failed_codebuild_action_shows_its_last_log_lines_in_the_thread_once_without_secrets() {
    let (n, builds) = with_builds(true);
    let shown = summary(&handle(&n, &build_failed(1), t(1)).await);
    assert!(shown[1].starts_with("thread: :x: Action *Build/UnitTests* failed"), "{shown:?}");
    assert!(shown[2].contains("Last 3 lines of its log"), "{shown:?}");
    assert!(shown[2].contains("FAIL src/cart.test.ts\ndeploying with [redacted]\n```"), "{shown:?}");
    assert!(!shown.iter().any(|w| w.contains("AKIA")), "{shown:?}");
    // EventBridge delivers at least once: the same failure again shows nothing new.
    let again = summary(&handle(&n, &build_failed(2), t(2)).await);
    assert!(!again.iter().any(|w| w.contains("of its log")), "{again:?}");
    assert_eq!(builds.reads.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_build_log_the_bot_may_not_read_leaves_a_note_and_the_failure_is_still_shown() {
    let (n, _) = with_builds(false);
    let shown = summary(&handle(&n, &build_failed(1), t(1)).await);
    assert!(shown[0].starts_with("post C0DEPLOYS: :arrows_counterclockwise: *storefront-web*"), "{shown:?}");
    assert!(shown[1].starts_with("thread: :x: Action *Build/UnitTests* failed: Build terminated"), "{shown:?}");
    assert!(
        shown[2].starts_with(
            "thread: :warning: *UnitTests* build `storefront-web:b1`: couldn't read the build log: access denied"
        ),
        "{shown:?}"
    );
}

/// ECS as the notifier sees it: two tasks of the failed deployment stopped alike.
struct Stopped;

#[async_trait]
impl StoppedTasks for Stopped {
    async fn stopped_tasks(&self, cluster: &str, service: &str, deployment: &str) -> GatewayResult<Vec<StoppedTask>> {
        assert_eq!((cluster, service, deployment), ("prod", "web", "ecs-svc/9876"));
        let container = StoppedContainer { name: "web".into(), exit_code: Some(137), reason: None };
        let task = StoppedTask {
            stopped_reason: Some("Essential container in task exited".into()),
            containers: vec![container],
        };
        Ok(vec![task.clone(), task])
    }
}

fn deployment(event_name: &str, minute: i64) -> Vec<u8> {
    let detail = json!({"eventType": "ERROR", "eventName": event_name, "deploymentId": "ecs-svc/9876",
        "updatedAt": t(minute).to_rfc3339(), "reason": "ECS deployment circuit breaker: tasks failed to start."});
    let mut body: serde_json::Value =
        serde_json::from_slice(&event("ECS Deployment State Change", "aws.ecs", minute, detail)).unwrap();
    body["resources"] = json!(["arn:aws:ecs:eu-west-1:111122223333:service/prod/web"]);
    body.to_string().into_bytes()
}

#[tokio::test]
async fn a_failed_ecs_deployment_shows_why_its_tasks_stopped_in_its_thread_counted_once_per_reason() {
    let n = notifier().with_stopped_tasks(Arc::new(Stopped));
    let shown = summary(&handle(&n, &deployment("SERVICE_DEPLOYMENT_FAILED", 1), t(1)).await);
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert!(shown[0].contains("ECS deployment of *prod/web* failed"), "{shown:?}");
    assert!(shown[1].starts_with("thread: :mag: Why <https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/prod/services/web/deployments?region=eu-west-1|prod/web> stopped its tasks:"), "{shown:?}");
    assert!(shown[1].ends_with("• 2 tasks: Essential container in task exited (web: exit 137)"), "{shown:?}");
    let rolling = summary(&handle(&n, &deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", 2), t(2)).await);
    assert!(!rolling.iter().any(|w| w.contains("stopped its tasks")), "only a failure asks why: {rolling:?}");
}

fn automation_changed(status: &str, minute: i64) -> Vec<u8> {
    let detail = json!({"ExecutionId": "4105a4fc-f944-11e6-9d32-8fb2db27a909", "Definition": "AWS-RestartEC2Instance",
        "Status": status, "ExecutedBy": "arn:aws:iam::111122223333:user/ops"});
    event("EC2 Automation Execution Status-change Notification", "aws.ssm", minute, detail)
}

#[tokio::test]
async fn a_failed_automation_shows_its_failing_step_and_failure_in_its_thread() {
    use opsbot_commands::ports::RunStatus;
    use opsbot_commands::testing::FakeAws;
    use opsbot_commands::testing::ssm::automation;

    let steps = [("stop", RunStatus::Success), ("start", RunStatus::Failed)];
    let mut run = automation("AWS-RestartEC2Instance", RunStatus::Failed, &steps);
    run.steps[1].failure = Some("Instance i-0abc123def4567890 is terminated".into());
    run.failure = Some("Step fails when it is Executing. Fail to execute step start.".into());
    let aws = FakeAws::default().with_automation_states(vec![run]).gateways();
    let n = notifier().with_automations(aws.automations);
    let shown = summary(&handle(&n, &automation_changed("Failed", 1), t(1)).await);
    assert_eq!(shown.len(), 2, "{shown:?}");
    let why = &shown[1];
    assert!(why.starts_with("thread: :mag: Why *AWS-RestartEC2Instance* failed:"), "{why}");
    assert!(
        why.contains("`start` (aws:executeAwsApi)") && why.contains("Instance i-0abc123def4567890 is terminated"),
        "{why}"
    );
    assert!(!why.contains("`stop`"), "only the failing step: {why}");
    assert!(why.ends_with("Step fails when it is Executing. Fail to execute step start."), "{why}");
    let ok = summary(&handle(&n, &automation_changed("Success", 2), t(2)).await);
    assert!(!ok.iter().any(|w| w.contains("Why")), "only a failure asks why: {ok:?}");
}

/// The accounts of `aws.accounts` as the notifier sees them: only `prod`
/// (444455556666) is configured, its failures read through `prod`'s builds.
struct ProdReads {
    builds: Arc<Builds>,
    regions: std::sync::Mutex<Vec<Option<String>>>,
}

#[async_trait]
impl crate::notify::why_reads::AccountReads for ProdReads {
    async fn why_reads(
        &self,
        account_id: &str,
        region: Option<&str>,
    ) -> GatewayResult<Option<crate::notify::why_reads::WhyReads>> {
        if account_id != "444455556666" {
            return Ok(None);
        }
        self.regions.lock().unwrap().push(region.map(str::to_owned));
        let aws = opsbot_commands::testing::FakeAws::default().gateways();
        Ok(Some(crate::notify::why_reads::WhyReads {
            builds: self.builds.clone(),
            tasks: Arc::new(Stopped),
            automations: aws.automations,
        }))
    }
}

/// `body` as sent from account `account`.
fn from_account(body: &[u8], account: &str) -> Vec<u8> {
    let mut body: serde_json::Value = serde_json::from_slice(body).unwrap();
    body["account"] = json!(account);
    body.to_string().into_bytes()
}

#[tokio::test]
async fn a_failed_build_is_read_in_the_account_and_region_it_came_from_and_the_bots_own_at_home() {
    let home = Arc::new(Builds { readable: true, reads: Default::default() });
    let prod = Arc::new(Builds { readable: true, reads: Default::default() });
    let accounts = Arc::new(ProdReads { builds: prod.clone(), regions: Default::default() });
    let notifier = || notifier().with_build_logs(home.clone()).with_account_reads(accounts.clone());
    let reads = |b: &Builds| b.reads.load(std::sync::atomic::Ordering::SeqCst);

    let shown = summary(&handle(&notifier(), &from_account(&build_failed(1), "444455556666"), t(1)).await);
    assert!(shown[2].contains("Last 3 lines of its log"), "{shown:?}");
    assert_eq!((reads(&prod), reads(&home)), (1, 0), "prod's build is read in prod, not at home");
    assert_eq!(*accounts.regions.lock().unwrap(), [Some("eu-west-1".to_owned())], "in the event's region");

    let shown = summary(&handle(&notifier(), &build_failed(1), t(1)).await);
    assert!(shown[2].contains("Last 3 lines of its log"), "{shown:?}");
    assert_eq!((reads(&prod), reads(&home)), (1, 1), "the bot's own account reads with its own clients");
}

/// Account reads whose role cannot be assumed.
struct NoSession;

#[async_trait]
impl crate::notify::why_reads::AccountReads for NoSession {
    async fn why_reads(&self, _: &str, _: Option<&str>) -> GatewayResult<Option<crate::notify::why_reads::WhyReads>> {
        Err(opsbot_commands::error::GatewayError::AccessDenied {
            message: "not authorized to perform: sts:AssumeRole".into(),
        })
    }
}

#[tokio::test]
async fn a_failed_deployment_in_an_account_whose_role_cannot_be_assumed_says_why_in_its_thread() {
    let n = notifier().with_stopped_tasks(Arc::new(Stopped)).with_account_reads(Arc::new(NoSession));
    let shown = summary(&handle(&n, &deployment("SERVICE_DEPLOYMENT_FAILED", 1), t(1)).await);
    assert!(shown[0].contains("ECS deployment of *prod/web* failed"), "the failure is still shown: {shown:?}");
    assert!(shown[1].contains("couldn't read why *prod/web* stopped its tasks: access denied"), "{shown:?}");
}

#[tokio::test]
async fn a_sweep_escalating_sixty_alarms_gives_each_its_own_commit_small_enough_for_one_dynamodb_transaction() {
    let n = notifier();
    for i in 0..60 {
        handle(&n, &alarm_named(&format!("storm-{i}"), 0), t(0)).await;
    }

    let batches = n.sweep(t(30)).await.unwrap();

    assert_eq!(batches.len(), 60, "one per escalated alarm");
    for batch in &batches {
        assert_eq!(batch.records.len(), 1);
        // Its record, its writes and the outbox's bookkeeping of each: far
        // under DynamoDB's 100 items per transaction.
        assert!(batch.writes.len() <= 3, "{:?}", summary(&batch.writes));
    }
}
