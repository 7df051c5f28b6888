//! [`Params`] with SSM Parameter Store: `GetParameter`,
//! `GetParametersByPath` (recursive, paginated), `GetParameterHistory`
//! (paginated) and, for `params diff`, `DescribeParameters` (descriptions)
//! and `ListTagsForResource` (a parameter's tags, asked for one by one).
//! [`described`] is the one `DescribeParameters` call, which the writes of
//! `ssm_changes.rs` also read a parameter's settings with.
//!
//! SecureString values are requested decrypted by one method only,
//! [`Params::fingerprints`] (`params diff`, `params apply`), which hashes each
//! one right here and drops the clear value: a secret cannot leak through a
//! reply or a log, and only those commands need `kms:Decrypt`. Everywhere
//! else `WithDecryption` is false, and what AWS sends in place of the value
//! (ciphertext; moto even sends `kms:alias/aws/ssm:<plaintext>`) is dropped
//! by `ParamValue::of`, which masks every SecureString.

use async_trait::async_trait;
use aws_sdk_ssm::Client;
use aws_sdk_ssm::types::{
    Parameter as SdkParameter, ParameterHistory, ParameterMetadata, ParameterStringFilter, ParameterType,
    ResourceTypeForTagging,
};
use opsbot_commands::error::{GatewayError, GatewayResult};
use opsbot_commands::ports::{
    Fingerprint, LiveParam, ParamKind, ParamTags, ParamValue, ParamVersion, Parameter, Params,
};
use opsbot_commands::values::{ParamName, ParamPath};

use super::errors::OrGateway;
use super::time::utc;

pub struct AwsParams {
    client: Client,
}

impl AwsParams {
    pub fn new(client: Client) -> Self {
        AwsParams { client }
    }
}

#[async_trait]
impl Params for AwsParams {
    async fn get(&self, name: &ParamName) -> GatewayResult<Parameter> {
        let found = self.client.get_parameter().name(name.as_str()).with_decryption(false).send().await;
        let found = found.or_gateway(&format!("parameter `{name}`"))?;
        Ok(found.parameter.as_ref().map(parameter).unwrap_or_else(|| missing_value(name)))
    }

    async fn by_path(&self, path: &ParamPath) -> GatewayResult<Vec<Parameter>> {
        let pages = self
            .client
            .get_parameters_by_path()
            .path(path.as_str())
            .recursive(true)
            .with_decryption(false)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .or_gateway(&format!("parameter path `{path}`"))?;
        let mut params: Vec<Parameter> = pages.iter().flat_map(|p| p.parameters()).map(parameter).collect();
        params.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(params)
    }

    async fn history(&self, name: &ParamName) -> GatewayResult<Vec<ParamVersion>> {
        let pages = self
            .client
            .get_parameter_history()
            .name(name.as_str())
            .with_decryption(false)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .or_gateway(&format!("parameter `{name}`"))?;
        let mut versions: Vec<ParamVersion> = pages.iter().flat_map(|p| p.parameters()).map(version).collect();
        versions.sort_by_key(|v| v.version);
        Ok(versions)
    }

    async fn fingerprints(&self, path: &ParamPath) -> GatewayResult<Vec<LiveParam>> {
        let what = format!("parameter path `{path}`");
        let values = self
            .client
            .get_parameters_by_path()
            .path(path.as_str().trim_end_matches('/'))
            .recursive(true)
            .with_decryption(true)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .or_gateway(&what)?;
        let described = described(&self.client, ("Path", "Recursive", path.as_str().trim_end_matches('/')), &what);
        let described = described.await?;
        let description = |name: &str| {
            let found = described.iter().find(|d| d.name() == Some(name));
            found.and_then(|d| d.description()).map(str::to_owned)
        };
        let mut live: Vec<LiveParam> = values
            .iter()
            .flat_map(|p| p.parameters())
            .map(|p| {
                let kind = kind(p.r#type());
                let name = p.name().unwrap_or_default().to_owned();
                LiveParam {
                    value: Fingerprint::of(&kind, p.value().unwrap_or_default()),
                    description: description(&name),
                    name,
                    kind,
                    version: p.version(),
                }
            })
            .collect();
        live.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(live)
    }

    async fn tags(&self, name: &ParamName) -> GatewayResult<ParamTags> {
        let listed = self
            .client
            .list_tags_for_resource()
            .resource_type(ResourceTypeForTagging::Parameter)
            .resource_id(name.as_str())
            .send()
            .await
            .or_gateway(&format!("tags of parameter `{name}`"))?;
        Ok(listed.tag_list().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect())
    }
}

/// The metadata (never a value) of every parameter whose `key` matches
/// `value` by `option`, e.g. `("Name", "Equals", "/shop/x")`, for a call about `what`.
pub(super) async fn described(
    client: &Client,
    (key, option, value): (&str, &str, &str),
    what: &str,
) -> GatewayResult<Vec<ParameterMetadata>> {
    let filter = ParameterStringFilter::builder().key(key).option(option).values(value).build();
    let filter = filter.map_err(|e| GatewayError::other("describe parameters filter", e))?;
    // With filters, DescribeParameters may answer empty pages with a NextToken: follow them all.
    let pages: Vec<_> = client
        .describe_parameters()
        .parameter_filters(filter)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .or_gateway(what)?;
    Ok(pages.into_iter().flat_map(|p| p.parameters.unwrap_or_default()).collect())
}

fn kind(raw: Option<&ParameterType>) -> ParamKind {
    ParamKind::from_aws(raw.map_or("String", |t| t.as_str()))
}

fn parameter(p: &SdkParameter) -> Parameter {
    let kind = kind(p.r#type());
    Parameter {
        name: p.name().unwrap_or_default().to_owned(),
        value: ParamValue::of(&kind, p.value().map(str::to_owned)),
        kind,
        version: p.version(),
        last_modified: utc(p.last_modified_date()),
    }
}

/// A `GetParameter` answer without its parameter (never seen; shapes allow it).
fn missing_value(name: &ParamName) -> Parameter {
    Parameter {
        name: name.to_string(),
        kind: ParamKind::String,
        value: ParamValue::Masked,
        version: 0,
        last_modified: None,
    }
}

fn version(h: &ParameterHistory) -> ParamVersion {
    let kind = kind(h.r#type());
    ParamVersion {
        version: h.version(),
        value: ParamValue::of(&kind, h.value().map(str::to_owned)),
        kind,
        modified: utc(h.last_modified_date()),
        modified_by: h.last_modified_user().map(str::to_owned),
        labels: h.labels().to_vec(),
        description: h.description().map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use aws_smithy_mocks::mock;

    use super::*;
    use crate::aws::mocked_client;

    #[tokio::test]
    async fn parameters_are_never_fetched_decrypted_and_secure_strings_are_masked() {
        let by_path = mock!(Client::get_parameters_by_path)
            .match_requests(|req| req.with_decryption() == Some(false) && req.recursive() == Some(true))
            .sequence()
            .http_status(
                200,
                Some(
                    r#"{"Parameters": [
                {"Name": "/shop/prod/db-password", "Type": "SecureString", "Value": "AQICAHh...", "Version": 2},
                {"Name": "/shop/prod/db-host", "Type": "String", "Value": "db.internal", "Version": 5,
                 "LastModifiedDate": 1763812800}]}"#
                        .into(),
                ),
            )
            .build();
        let client: Client = mocked_client!(aws_sdk_ssm, [&by_path]);

        let params = AwsParams::new(client).by_path(&ParamPath::parse("/shop/prod").unwrap()).await.unwrap();

        assert_eq!(params[0].name, "/shop/prod/db-host");
        assert_eq!(params[0].value, ParamValue::Plain("db.internal".into()));
        assert_eq!((params[1].kind.clone(), params[1].value.clone()), (ParamKind::SecureString, ParamValue::Masked));
    }

    #[tokio::test]
    async fn fingerprints_decrypt_and_hash_secure_strings_and_take_descriptions_from_describe_parameters() {
        let by_path = mock!(Client::get_parameters_by_path)
            .match_requests(|req| req.with_decryption() == Some(true) && req.path() == Some("/shop/prod"))
            .sequence()
            .http_status(
                200,
                Some(
                    r#"{"Parameters": [
                {"Name": "/shop/prod/db-password", "Type": "SecureString", "Value": "hunter2", "Version": 4},
                {"Name": "/shop/prod/db-host", "Type": "String", "Value": "db.internal", "Version": 5}]}"#
                        .into(),
                ),
            )
            .build();
        let describe = mock!(Client::describe_parameters)
            .match_requests(|req| req.parameter_filters().iter().any(|f| f.key() == "Path"))
            .sequence()
            .http_status(
                200,
                Some(r#"{"Parameters": [{"Name": "/shop/prod/db-host", "Type": "String", "Description": "Primary DB"}]}"#.into()),
            )
            .build();
        let client: Client = mocked_client!(aws_sdk_ssm, [&by_path, &describe]);

        let live = AwsParams::new(client).fingerprints(&ParamPath::parse("/shop/prod/").unwrap()).await.unwrap();

        assert_eq!(live[0].name, "/shop/prod/db-host");
        assert_eq!(live[0].description.as_deref(), Some("Primary DB"));
        assert_eq!(live[1].value, Fingerprint::Hash(opsbot_commands::ports::fingerprint("hunter2")));
        assert!(!format!("{live:?}").contains("hunter2"), "{live:?}");
    }

    #[tokio::test]
    async fn a_missing_parameter_is_not_found() {
        let missing = mock!(Client::get_parameter)
            .sequence()
            .http_status(400, Some(r#"{"__type": "ParameterNotFound", "message": ""}"#.into()))
            .build();
        let client: Client = mocked_client!(aws_sdk_ssm, [&missing]);

        let err = AwsParams::new(client).get(&ParamName::parse("/shop/nope").unwrap()).await.unwrap_err();

        assert_eq!(err.to_string(), "parameter `/shop/nope` was not found");
    }

    #[tokio::test]
    async fn expired_credentials_are_access_denied() {
        let expired = mock!(Client::get_parameter)
            .sequence()
            .http_status(400, Some(r#"{"__type": "ExpiredTokenException", "message": "The security token included in the request is expired"}"#.into()))
            .build();
        let client: Client = mocked_client!(aws_sdk_ssm, [&expired]);

        let err = AwsParams::new(client).get(&ParamName::parse("/shop/x").unwrap()).await.unwrap_err();

        assert_eq!(err.to_string(), "AWS denied access: The security token included in the request is expired");
    }
}
