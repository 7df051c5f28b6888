//! The DynamoDB store as an operator meets it, on moto: `opsbot store init`
//! (the real binary) creates the table once and then finds it there, and a
//! bot serving from that table runs a change through Slack to the end.

use std::process::Stdio;

use opsbot::app::{Transport, Wiring};
use opsbot::sandbox::Sandbox;
use opsbot::settings::StoreChoice;
use opsbot_policies::Policy;

use crate::support::bot::{CHANNEL, USER, spawn_bot_wired, text_of};
use crate::support::emulators::{emulators, unique};

/// Runs `opsbot store init --config FILE` with `yaml` as the file; (stdout, stderr, success).
async fn store_init(yaml: &str) -> (String, String, bool) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("opsbot.yaml");
    std::fs::write(&config, yaml).unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_opsbot"))
        .args(["store", "init", "--config"])
        .arg(&config)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(emulators().await.env())
        .stdin(Stdio::null())
        .output()
        .await
        .expect("the opsbot binary runs");
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
    (text(out.stdout), text(out.stderr), out.status.success())
}

#[tokio::test]
async fn store_init_creates_the_table_once_and_then_finds_it_there() {
    let table = unique("opsbot-init");
    let yaml = format!("store:\n  dynamodb: {{ table: {table} }}\n");
    let (out, err, ok) = store_init(&yaml).await;
    assert!(ok, "{out}{err}");
    assert!(out.contains(&format!("created DynamoDB table {table} in us-east-1")), "{out}");
    assert!(out.contains("TTL on expires_at"), "{out}");
    let client = aws_sdk_dynamodb::Client::new(&emulators().await.sdk_config().await);
    opsbot::store::dynamodb::table::check(&client, &table).await.expect("the table has opsbot's shape");
    let ttl = client.describe_time_to_live().table_name(&table).send().await.unwrap();
    let status = ttl.time_to_live_description().and_then(|d| d.time_to_live_status()).map(|s| s.as_str().to_owned());
    assert_eq!(status.as_deref(), Some("ENABLED"));

    let (again, err, ok) = store_init(&yaml).await;
    assert!(ok, "{again}{err}");
    assert!(again.contains(&format!("DynamoDB table {table} in us-east-1 is already there")), "{again}");
}

#[tokio::test]
async fn store_init_on_a_sqlite_store_says_there_is_nothing_to_create() {
    let (out, err, ok) = store_init("store:\n  path: opsbot.db\n").await;
    assert!(!ok, "{out}");
    assert!(err.contains("`store init` is for the DynamoDB store: set store.dynamodb.table"), "{err}");
}

#[tokio::test]
async fn a_bot_serving_from_a_dynamodb_table_runs_a_change_to_the_end_and_audits_it() {
    let table = unique("opsbot-serve");
    let sdk = emulators().await.sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    opsbot::store::dynamodb::table::create(&dynamodb, &table).await.unwrap();
    let aws = std::sync::Arc::new(Sandbox::demo(chrono::Utc::now())).gateways();
    let policy = Policy::reads_for_everyone(["scale", "service", "audit"]);
    let mut wiring = Wiring::new(aws).with_policy(std::sync::Arc::new(policy));
    wiring.dynamodb = Some(dynamodb);
    let store = StoreChoice::DynamoDb { table };
    let bot = spawn_bot_wired(Transport::Http, wiring, |s| s.store = store).await;

    let plan = bot.slash("scale staging/api 3").await;
    let confirmed = bot.click(USER, &plan, "Confirm").await;
    assert!(text_of(&confirmed).contains("Confirmed"), "{}", text_of(&confirmed));
    bot.wait_for_text(CHANNEL, "3/3 running, 0 pending — done").await;
    let audit = text_of(&bot.slash("audit").await);
    assert!(audit.contains("scale staging/api 3"), "the change is in the audit log on DynamoDB: {audit}");
    bot.stop().await;
}
