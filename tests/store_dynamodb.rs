//! What only the DynamoDB store promises, on moto: the table is made once
//! and checked before use (a missing or differently keyed table is refused,
//! saying what to do); replicas sharing the table — here two handles, each
//! with its own client — take a claim, a transition, a notification and a
//! first post once between them; and a notification too big for one
//! transaction is refused whole. The ports' rules themselves are the
//! conformance suite (`tests/store.rs`, `on_dynamodb`).

use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};
use chrono::{TimeZone, Utc};
use opsbot::store::dynamodb::DynamoStore;
use opsbot::store::dynamodb::table::{self, Created};
use opsbot::store::{Enqueued, InboxStore, Living, LivingRecord, LivingStore, OutboxStore, WriteOp};
use opsbot_commands::ports::store::{ChangeId, ChangeState, Store};
use opsbot_commands::values::{ChannelId, SlackUserId};

use crate::support::emulators::{emulators, unique};

async fn client() -> Client {
    Client::new(&emulators().await.sdk_config().await)
}

/// Two replicas' handles on one fresh table, each with its own client.
pub(crate) async fn two_replicas() -> (Arc<DynamoStore>, Arc<DynamoStore>) {
    let name = unique("opsbot-replicas");
    table::create(&client().await, &name).await.unwrap();
    let a = DynamoStore::open(client().await, &name).await.unwrap();
    let b = DynamoStore::open(client().await, &name).await.unwrap();
    (Arc::new(a), Arc::new(b))
}

#[tokio::test]
async fn creating_the_table_twice_is_harmless() {
    let (client, name) = (client().await, unique("opsbot-init"));
    assert_eq!(table::create(&client, &name).await.unwrap(), Created::Created);
    assert_eq!(table::create(&client, &name).await.unwrap(), Created::AlreadyThere);
    table::check(&client, &name).await.expect("the table it made passes the check");
}

#[tokio::test]
async fn a_missing_table_is_refused_with_what_to_do() {
    let (client, name) = (client().await, unique("opsbot-missing"));
    let refused = table::check(&client, &name).await.unwrap_err().to_string();
    assert!(refused.contains(&name) && refused.contains("does not exist"), "{refused}");
    assert!(refused.contains("opsbot store init --config FILE"), "says how to create it: {refused}");
    assert!(DynamoStore::open(client, &name).await.is_err(), "the store does not open on it");
}

#[tokio::test]
async fn a_table_keyed_otherwise_is_refused_with_what_to_do() {
    let (client, name) = (client().await, unique("opsbot-other"));
    let id = |kind| KeySchemaElement::builder().attribute_name("id").key_type(kind).build().unwrap();
    let attribute =
        AttributeDefinition::builder().attribute_name("id").attribute_type(ScalarAttributeType::S).build().unwrap();
    client
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(id(KeyType::Hash))
        .attribute_definitions(attribute)
        .send()
        .await
        .unwrap();
    let refused = table::check(&client, &name).await.unwrap_err().to_string();
    assert!(refused.contains("not pk (HASH) + sk (RANGE)"), "says what is wrong: {refused}");
    assert!(refused.contains("opsbot store init"), "says what to do: {refused}");
    assert!(DynamoStore::open(client, &name).await.is_err(), "the store does not open on it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_claiming_one_key_at_once_take_it_once() {
    let (a, b) = two_replicas().await;
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
    let claims: Vec<_> = (0..16)
        .map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move { store.claim("event:Ev1", now).await.unwrap() })
        })
        .collect();
    let mut won = 0;
    for claim in claims {
        won += usize::from(claim.await.unwrap());
    }
    assert_eq!(won, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_moving_one_change_from_the_same_state_move_it_once() {
    let (a, b) = two_replicas().await;
    let mut change = crate::store::changes::change("c1");
    change.state = ChangeState::AwaitingApproval;
    a.insert_change(&change).await.unwrap();
    let id = ChangeId("c1".into());
    let approve = |store: Arc<DynamoStore>, who: &str| {
        let (id, who) = (id.clone(), SlackUserId::parse(who).unwrap());
        tokio::spawn(async move {
            store.transition(&id, ChangeState::AwaitingApproval, ChangeState::Running, Some(&who), None).await.unwrap()
        })
    };
    let (on_a, on_b) = (approve(a.clone(), "U0LEADA"), approve(b.clone(), "U0LEADB"));
    let (on_a, on_b) = (on_a.await.unwrap(), on_b.await.unwrap());
    assert!(on_a ^ on_b, "exactly one wins: a {on_a}, b {on_b}");
    let after = b.change(&id).await.unwrap().unwrap();
    assert_eq!(after.state, ChangeState::Running);
    let winner = if on_a { "U0LEADA" } else { "U0LEADB" };
    assert_eq!(after.decided_by.unwrap().as_str(), winner);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_posting_one_key_at_once_queue_one_post() {
    let (a, b) = two_replicas().await;
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
    let posts: Vec<_> = (0..8)
        .map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            let channel = ChannelId::parse("C0OPS").unwrap();
            tokio::spawn(async move { store.outbox_post("alarm:a", &channel, &format!("v{i}"), now).await.unwrap() })
        })
        .collect();
    let mut queued = 0;
    for post in posts {
        queued += usize::from(matches!(post.await.unwrap(), Enqueued::Queued { .. }));
    }
    assert_eq!(queued, 1, "the others coalesced into it");
    let rows = a.outbox_rows().await.unwrap();
    assert_eq!(rows.iter().map(|r| r.op).collect::<Vec<_>>(), [WriteOp::Post]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_accepting_one_notification_at_once_keep_it_once() {
    let (a, b) = two_replicas().await;
    let accepts: Vec<_> = (0..8)
        .map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move { store.inbox_accept("sqs:m1", format!("{{\"copy\":{i}}}").as_bytes(), 0).await })
        })
        .collect();
    let mut new = 0;
    for accept in accepts {
        new += usize::from(accept.await.unwrap().unwrap());
    }
    assert_eq!(new, 1);
    assert_eq!(b.inbox_pending(10, 0).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_notification_too_big_for_one_transaction_is_refused_whole_not_split() {
    let (a, _) = two_replicas().await;
    let records: Vec<LivingRecord> = (0..101)
        .map(|i| LivingRecord {
            kind: Living::Alarm,
            id: format!("arn:{i}"),
            open: true,
            body: "{}".into(),
            message: format!("alarm:{i}"),
            version: None,
        })
        .collect();
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
    let refused = a.commit_notification(&records, &[], None, now).await.unwrap_err().to_string();
    assert!(refused.contains("101 writes") && refused.contains("100"), "says why: {refused}");
    assert_eq!(a.living(Living::Alarm, "arn:0").await.unwrap(), None, "nothing of it was kept");
}

#[tokio::test]
async fn a_handled_notifications_key_expires_by_itself_after_the_inbox_retention() {
    let name = unique("opsbot-ttl");
    let client = client().await;
    table::create(&client, &name).await.unwrap();
    let keep = opsbot::store::Retention { inbox: std::time::Duration::from_secs(14 * 86_400), ..Default::default() };
    let store = DynamoStore::open(client.clone(), &name).await.unwrap().with_retention(&keep);
    let received = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
    assert!(store.inbox_accept("event:1", b"{}", received.timestamp_millis()).await.unwrap());
    let seq = store.inbox_pending(1, i64::MAX).await.unwrap()[0].seq;
    let expires = || async {
        let key = [("pk", "inbox-key#event:1"), ("sk", "key")]
            .map(|(k, v)| (k.to_owned(), aws_sdk_dynamodb::types::AttributeValue::S(v.into())));
        let item = client.get_item().table_name(&name).set_key(Some(key.into())).send().await.unwrap().item.unwrap();
        item.get("expires_at").map(|v| v.as_n().unwrap().parse::<i64>().unwrap())
    };
    assert_eq!(expires().await, None, "kept while it waits to be handled");
    store.commit_notification(&[], &[], Some(seq), received).await.unwrap();
    assert_eq!(expires().await, Some(received.timestamp() + 14 * 86_400), "DynamoDB's TTL deletes it");
    assert!(store.inbox_knows("event:1").await.unwrap(), "still known for dedup until then");
}

#[tokio::test]
async fn each_replica_handles_the_notifications_it_accepted_and_another_ones_only_once_they_waited_too_long() {
    let name = unique("opsbot-owners");
    table::create(&client().await, &name).await.unwrap();
    let a = DynamoStore::open(client().await, &name).await.unwrap().with_replica("replica-a");
    let b = DynamoStore::open(client().await, &name).await.unwrap().with_replica("replica-b");
    let t0 = Utc.with_ymd_and_hms(2026, 12, 6, 9, 0, 0).unwrap().timestamp_millis();
    assert!(a.inbox_accept("event:a", b"{}", t0).await.unwrap());
    assert!(b.inbox_accept("event:b", b"{}", t0).await.unwrap());
    let keys = |rows: Vec<opsbot::store::InboxRow>| rows.into_iter().map(|r| r.key).collect::<Vec<_>>();
    assert_eq!(keys(a.inbox_pending(10, t0 + 1_000).await.unwrap()), ["event:a"]);
    assert_eq!(keys(b.inbox_pending(10, t0 + 1_000).await.unwrap()), ["event:b"]);
    let later = t0 + 31_000; // replica A may have died with its row
    assert_eq!(keys(b.inbox_pending(10, later).await.unwrap()), ["event:a", "event:b"]);
}
