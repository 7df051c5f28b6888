//! [`ParamChanges`] with SSM Parameter Store: `DescribeParameters` (what a
//! write keeps), `PutParameter` with overwrite (set), and `GetParameter` of
//! `NAME:VERSION` then `PutParameter` (restore), `AddTagsToResource` and
//! `RemoveTagsFromResource` (retag: `params apply`'s declared tags).
//!
//! # Decisions
//! - Every write names the type, KMS key, tier, data type, description and
//!   allowed pattern it read: without `KeyId`, SSM would re-encrypt an
//!   overwritten SecureString under the default `alias/aws/ssm` key.
//! - `set` never decrypts anything (no `kms:Decrypt` needed). `restore` of a
//!   SecureString must: it reads the old version `WithDecryption` and writes
//!   it straight back, inside [`AwsParamChanges::restore`] — the value is a
//!   [`NewValue`] (never printed) and never leaves this file.
//! - Errors of a write are scrubbed of the value before they go anywhere (an
//!   SDK error's message could quote what was sent; errors reach the log).
//! - Writes go out as opsbot's AWS identity; `by` (the Slack user) is not sent.

use async_trait::async_trait;
use aws_sdk_ssm::Client;
use aws_sdk_ssm::operation::RequestId;
use aws_sdk_ssm::types::{ParameterTier, ParameterType, ResourceTypeForTagging, Tag};
use opsbot_commands::error::{GatewayError, GatewayResult};
use opsbot_commands::ports::{NewValue, ParamChanges, ParamKind, ParamSettings, ParamTags, ParamWrite, Receipt};
use opsbot_commands::values::{ParamName, SlackUserId};

use aws_sdk_ssm::error::DisplayErrorContext;

use super::errors::{OrGateway, gateway_error};
use super::ssm::described;

pub struct AwsParamChanges {
    client: Client,
}

impl AwsParamChanges {
    pub fn new(client: Client) -> Self {
        AwsParamChanges { client }
    }

    async fn write(&self, name: &ParamName, value: &NewValue, keep: &ParamSettings) -> GatewayResult<ParamWrite> {
        let mut put = self
            .client
            .put_parameter()
            .name(name.as_str())
            .value(value.expose())
            .r#type(ParameterType::from(keep.kind.label()))
            .overwrite(true)
            .set_tier(keep.tier.as_deref().map(ParameterTier::from))
            .set_data_type(keep.data_type.clone())
            .set_description(keep.description.clone())
            .set_allowed_pattern(keep.allowed_pattern.clone());
        if keep.kind == ParamKind::SecureString {
            put = put.set_key_id(keep.key_id.clone());
        }
        let done = match put.send().await {
            Ok(done) => done,
            Err(err) => {
                let detail = DisplayErrorContext(&err).to_string();
                return Err(scrubbed(gateway_error(err, &format!("parameter `{name}`")), &detail, value.expose()));
            }
        };
        Ok(ParamWrite {
            version: done.version(),
            receipt: Receipt { request_id: done.request_id().map(str::to_owned) },
        })
    }
}

#[async_trait]
impl ParamChanges for AwsParamChanges {
    async fn settings(&self, name: &ParamName) -> GatewayResult<ParamSettings> {
        let what = format!("parameter `{name}`");
        let described = described(&self.client, ("Name", "Equals", name.as_str()), &what).await?;
        let found = described.iter().find(|p| p.name() == Some(name.as_str()));
        let found = found.ok_or_else(|| GatewayError::not_found(what))?;
        Ok(ParamSettings {
            kind: ParamKind::from_aws(found.r#type().map_or("String", |t| t.as_str())),
            key_id: found.key_id().map(str::to_owned),
            tier: found.tier().map(|t| t.as_str().to_owned()),
            data_type: found.data_type().map(str::to_owned),
            description: found.description().map(str::to_owned),
            allowed_pattern: found.allowed_pattern().map(str::to_owned),
        })
    }

    async fn put(
        &self,
        name: &ParamName,
        value: &NewValue,
        keep: &ParamSettings,
        _by: &SlackUserId,
    ) -> GatewayResult<ParamWrite> {
        self.write(name, value, keep).await
    }

    async fn restore(
        &self,
        name: &ParamName,
        version: i64,
        keep: &ParamSettings,
        _by: &SlackUserId,
    ) -> GatewayResult<ParamWrite> {
        let selector = format!("{name}:{version}");
        let old = self.client.get_parameter().name(&selector).with_decryption(true).send().await;
        let old = old.or_gateway(&format!("version {version} of parameter `{name}`"))?;
        let value = old.parameter().and_then(|p| p.value()).map(NewValue::new);
        let value =
            value.ok_or_else(|| GatewayError::not_found(format!("the value of version {version} of `{name}`")))?;
        self.write(name, &value, keep).await
    }

    async fn retag(&self, name: &ParamName, set: &ParamTags, remove: &[String]) -> GatewayResult<Receipt> {
        let what = format!("tags of parameter `{name}`");
        let mut receipt = Receipt::default();
        if !set.is_empty() {
            let tags = set.iter().map(|(k, v)| Tag::builder().key(k).value(v).build());
            let tags = tags.collect::<Result<Vec<_>, _>>().map_err(|e| GatewayError::other("tag", e))?;
            let added = self
                .client
                .add_tags_to_resource()
                .resource_type(ResourceTypeForTagging::Parameter)
                .resource_id(name.as_str())
                .set_tags(Some(tags))
                .send()
                .await
                .or_gateway(&what)?;
            receipt.request_id = added.request_id().map(str::to_owned);
        }
        if !remove.is_empty() {
            let removed = self
                .client
                .remove_tags_from_resource()
                .resource_type(ResourceTypeForTagging::Parameter)
                .resource_id(name.as_str())
                .set_tag_keys(Some(remove.to_vec()))
                .send()
                .await
                .or_gateway(&what)?;
            receipt.request_id = removed.request_id().map(str::to_owned).or(receipt.request_id);
        }
        Ok(receipt)
    }
}

/// `err` with every trace of `secret` replaced; an `Other` keeps `detail`
/// (the SDK error in full, message included) as text instead of the SDK error.
fn scrubbed(err: GatewayError, detail: &str, secret: &str) -> GatewayError {
    let clean =
        |text: &str| if secret.is_empty() { text.to_owned() } else { text.replace(secret, "••••••") };
    match err {
        GatewayError::Other { context, .. } => GatewayError::other(clean(&context), clean(detail)),
        GatewayError::AccessDenied { message } => GatewayError::AccessDenied { message: clean(&message) },
        GatewayError::Unavailable { message } => GatewayError::Unavailable { message: clean(&message) },
        other => other,
    }
}

#[cfg(test)]
#[path = "ssm_changes_tests.rs"]
mod tests;
