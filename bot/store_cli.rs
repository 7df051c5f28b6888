//! `opsbot store init`: creates the DynamoDB table `store.dynamodb` names,
//! with the shape opsbot writes (see `store::dynamodb`), or says it is
//! already there. SQLite needs no set-up: its file is made at first start.

use aws_config::SdkConfig;
use opsbot_commands::ports::store::StoreError;

use crate::settings::{Settings, StoreChoice};
use crate::store::dynamodb::table::{self, Created};

/// Sets up the store of `settings`; what was done, in a sentence.
pub async fn init(settings: &Settings, sdk: &SdkConfig) -> Result<String, StoreError> {
    let StoreChoice::DynamoDb { table } = &settings.store else {
        return Err(StoreError(
            "`store init` is for the DynamoDB store: set store.dynamodb.table in the config file \
             (a SQLite store is created at first start)"
                .into(),
        ));
    };
    let region = sdk.region().map_or("the default region".to_owned(), |r| r.to_string());
    Ok(match table::create(&aws_sdk_dynamodb::Client::new(sdk), table).await? {
        Created::Created => format!(
            "created DynamoDB table {table} in {region}: on-demand billing, key pk + sk, index {}, TTL on {}",
            table::GSI1,
            table::TTL_ATTRIBUTE
        ),
        Created::AlreadyThere => {
            format!("DynamoDB table {table} in {region} is already there with the right keys; TTL is on")
        }
    })
}
