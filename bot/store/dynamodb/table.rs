//! The table's shape: [`create`] makes it (`opsbot store init`), [`check`]
//! refuses to start on a table that is missing or shaped otherwise, saying
//! what to do.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TimeToLiveSpecification, TimeToLiveStatus,
};
use opsbot_commands::ports::store::StoreError;

use super::attr::failed;

/// The sparse index (see the module docs of [`super`]).
pub const GSI1: &str = "gsi1";
/// The attribute DynamoDB's TTL deletes by.
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// What [`create`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// The table was created (on-demand billing) and TTL turned on.
    Created,
    /// The table was there with the right shape; TTL is on.
    AlreadyThere,
}

fn key(name: &str, kind: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder().attribute_name(name).key_type(kind).build().expect("name and type are set")
}

fn string_attribute(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .expect("name and type are set")
}

/// Creates `table` (on-demand, the key schema and index of [`super`], TTL
/// on `expires_at`) unless it exists; idempotent. Waits until it is active.
pub async fn create(client: &Client, table: &str) -> Result<Created, StoreError> {
    let exists = describe(client, table).await?.is_some();
    if !exists {
        let index = GlobalSecondaryIndex::builder()
            .index_name(GSI1)
            .key_schema(key("gsi1pk", KeyType::Hash))
            .key_schema(key("gsi1sk", KeyType::Range))
            .projection(Projection::builder().projection_type(ProjectionType::All).build())
            .build()
            .expect("name, keys and projection are set");
        client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key("pk", KeyType::Hash))
            .key_schema(key("sk", KeyType::Range))
            .set_attribute_definitions(Some(["pk", "sk", "gsi1pk", "gsi1sk"].map(string_attribute).to_vec()))
            .global_secondary_indexes(index)
            .send()
            .await
            .map_err(|e| failed(&format!("creating table {table}"), e))?;
        wait_until_active(client, table).await?;
    }
    check(client, table).await?;
    enable_ttl(client, table).await?;
    Ok(if exists { Created::AlreadyThere } else { Created::Created })
}

async fn describe(
    client: &Client,
    table: &str,
) -> Result<Option<aws_sdk_dynamodb::types::TableDescription>, StoreError> {
    match client.describe_table().table_name(table).send().await {
        Ok(out) => Ok(out.table),
        Err(err) if err.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => Ok(None),
        Err(err) => Err(failed(&format!("describing table {table}"), err)),
    }
}

async fn wait_until_active(client: &Client, table: &str) -> Result<(), StoreError> {
    use aws_sdk_dynamodb::types::TableStatus;
    for _ in 0..120 {
        let status = describe(client, table).await?.and_then(|t| t.table_status);
        if status == Some(TableStatus::Active) {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    Err(StoreError(format!("table {table} did not become ACTIVE within a minute; look at it in the DynamoDB console")))
}

async fn enable_ttl(client: &Client, table: &str) -> Result<(), StoreError> {
    let ttl = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(|e| failed(&format!("reading the TTL of {table}"), e))?;
    let status = ttl.time_to_live_description().and_then(|d| d.time_to_live_status().cloned());
    if matches!(status, Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)) {
        return Ok(());
    }
    let spec = TimeToLiveSpecification::builder()
        .enabled(true)
        .attribute_name(TTL_ATTRIBUTE)
        .build()
        .expect("enabled and name are set");
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(spec)
        .send()
        .await
        .map_err(|e| failed(&format!("turning on TTL for {table}"), e))?;
    Ok(())
}

/// Refuses a table that is missing or whose keys or index differ from what
/// opsbot writes, saying what is wrong and what to do.
pub async fn check(client: &Client, table: &str) -> Result<(), StoreError> {
    let Some(found) = describe(client, table).await? else {
        return Err(StoreError(format!(
            "the DynamoDB table {table} does not exist: create it with `opsbot store init --config FILE` \
             (or from deploy/ with CloudFormation)"
        )));
    };
    let keys = |schema: &[KeySchemaElement]| -> Vec<(String, String)> {
        schema.iter().map(|k| (k.attribute_name().to_owned(), k.key_type().as_str().to_owned())).collect()
    };
    let want =
        |hash: &str, range: &str| vec![(hash.to_owned(), "HASH".to_owned()), (range.to_owned(), "RANGE".to_owned())];
    let table_keys = keys(found.key_schema());
    if table_keys != want("pk", "sk") {
        return Err(StoreError(format!(
            "the DynamoDB table {table} has the key {table_keys:?}, not pk (HASH) + sk (RANGE) as opsbot writes: \
             point store.dynamodb.table at a table made by `opsbot store init`"
        )));
    }
    let index = found.global_secondary_indexes().iter().find(|i| i.index_name() == Some(GSI1));
    let index_keys = index.map(|i| keys(i.key_schema()));
    if index_keys != Some(want("gsi1pk", "gsi1sk")) {
        return Err(StoreError(format!(
            "the DynamoDB table {table} has no index {GSI1} on gsi1pk (HASH) + gsi1sk (RANGE): \
             point store.dynamodb.table at a table made by `opsbot store init`"
        )));
    }
    Ok(())
}
