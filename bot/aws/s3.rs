//! [`AwsObjects`]: a declared-parameters file named by `s3://bucket/key`
//! (`params.environments`), read with `GetObject` — the only S3 call the bot
//! makes, so `opsbot iam-policy` grants it on exactly those objects.
//!
//! # Decisions
//! - The client comes from the bot's own AWS configuration (credentials,
//!   region, `AWS_ENDPOINT_URL[_S3]`), like every other gateway; addressing
//!   is left to the SDK's endpoint rules, which use virtual-hosted buckets on
//!   AWS and path-style on an IP endpoint (an emulator on 127.0.0.1).
//! - A body larger than the limit is refused rather than read: a declared
//!   file is small, and a wrong key must not fill the bot's memory.

use aws_sdk_s3::Client;
use opsbot_commands::error::{GatewayError, GatewayResult};

use super::errors::OrGateway;

pub struct AwsObjects {
    client: Client,
}

impl AwsObjects {
    /// Reads with `client` (made by the wiring with the bot's configuration).
    pub fn new(client: Client) -> Self {
        AwsObjects { client }
    }

    /// The object `s3://bucket/key`, refused when larger than `limit` bytes.
    pub async fn get(&self, bucket: &str, key: &str, limit: usize) -> GatewayResult<Vec<u8>> {
        let what = format!("s3://{bucket}/{key}");
        let object = self.client.get_object().bucket(bucket).key(key).send().await.or_gateway(&what)?;
        if object.content_length().is_some_and(|n| n > limit as i64) {
            return Err(GatewayError::invalid(format!("{what} is larger than {limit} bytes: not a declared file")));
        }
        let body = object
            .body
            .collect()
            .await
            .map_err(|e| GatewayError::Unavailable { message: format!("reading {what}: {e}") })?;
        let bytes = body.into_bytes();
        match bytes.len() > limit {
            true => Err(GatewayError::invalid(format!("{what} is larger than {limit} bytes: not a declared file"))),
            false => Ok(bytes.to_vec()),
        }
    }
}
