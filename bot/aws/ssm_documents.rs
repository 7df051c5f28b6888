//! [`Documents`] with SSM `DescribeDocument`: the document's type and its
//! declared parameters, for the preflight of `run` and `automation run`.
//! A name this account cannot see (`InvalidDocument`) is `None`, not an
//! error: preflight turns it into a refusal that says so. moto implements
//! `DescribeDocument`, so the mapping is tested against it (tests/ssm_changes.rs).

use async_trait::async_trait;
use aws_sdk_ssm::Client;
use aws_sdk_ssm::types::DocumentType;
use opsbot_commands::error::GatewayResult;
use opsbot_commands::ports::{Document, DocumentKind, DocumentParameter, Documents};
use opsbot_commands::values::ssm::DocumentName;

use super::errors::{code_of, gateway_error};

pub struct AwsDocuments {
    client: Client,
}

impl AwsDocuments {
    pub fn new(client: Client) -> Self {
        AwsDocuments { client }
    }
}

#[async_trait]
impl Documents for AwsDocuments {
    async fn document(&self, name: &DocumentName) -> GatewayResult<Option<Document>> {
        let described = match self.client.describe_document().name(name.as_str()).send().await {
            Ok(described) => described,
            Err(err) if code_of(&err) == Some("InvalidDocument") => return Ok(None),
            Err(err) => return Err(gateway_error(err, &format!("document `{name}`"))),
        };
        let Some(doc) = described.document() else { return Ok(None) };
        let kind = match doc.document_type() {
            Some(DocumentType::Command) => DocumentKind::Command,
            Some(DocumentType::Automation) => DocumentKind::Automation,
            other => DocumentKind::Other(other.map_or("unknown", |t| t.as_str()).to_owned()),
        };
        let parameters = doc
            .parameters()
            .iter()
            .map(|p| DocumentParameter {
                name: p.name().unwrap_or_default().to_owned(),
                required: p.default_value().is_none(),
            })
            .collect();
        Ok(Some(Document { kind, parameters }))
    }
}
