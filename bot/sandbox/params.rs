//! Parameter Store in the sandbox: every version of every parameter, with who
//! wrote it and its labels.
//!
//! SecureString values are stored in clear, as SSM stores them, so later
//! change operations can compare and rotate them — but the port only ever
//! returns [`ParamValue::Masked`] for them (the AWS gateway never asks for
//! decryption), and [`Stored`] keeps them out of `Debug` output and logs.

use async_trait::async_trait;
use opsbot_commands::ports::{ParamKind, ParamValue, ParamVersion, Parameter, Params, Time};
use opsbot_commands::values::{ParamName, ParamPath};
use opsbot_commands::{GatewayError, GatewayResult};

use super::Sandbox;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimParam {
    /// Oldest first; the last one is the current value.
    pub versions: Vec<SimParamVersion>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimParamVersion {
    pub version: i64,
    pub kind: ParamKind,
    pub value: Stored,
    pub modified: Time,
    /// IAM ARN of the writer.
    pub modified_by: String,
    pub labels: Vec<String>,
    pub description: Option<String>,
}

/// A value as stored, in clear; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Stored(pub String);

impl std::fmt::Debug for Stored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Stored(..)")
    }
}

impl SimParamVersion {
    /// The value as the port may show it: masked for SecureStrings.
    fn shown(&self) -> ParamValue {
        ParamValue::of(&self.kind, Some(self.value.0.clone()))
    }

    fn to_port(&self) -> ParamVersion {
        ParamVersion {
            version: self.version,
            kind: self.kind.clone(),
            value: self.shown(),
            modified: Some(self.modified),
            modified_by: Some(self.modified_by.clone()),
            labels: self.labels.clone(),
            description: self.description.clone(),
        }
    }
}

impl SimParam {
    fn current(&self, name: &ParamName) -> Option<Parameter> {
        let v = self.versions.last()?;
        Some(Parameter {
            name: name.to_string(),
            kind: v.kind.clone(),
            value: v.shown(),
            version: v.version,
            last_modified: Some(v.modified),
        })
    }
}

fn not_found(name: &ParamName) -> GatewayError {
    GatewayError::not_found(format!("parameter `{name}`"))
}

#[async_trait]
impl Params for Sandbox {
    async fn get(&self, name: &ParamName) -> GatewayResult<Parameter> {
        self.read(|a| a.params.get(name).and_then(|p| p.current(name))).ok_or_else(|| not_found(name))
    }

    async fn by_path(&self, path: &ParamPath) -> GatewayResult<Vec<Parameter>> {
        let prefix = format!("{}/", path.as_str().trim_end_matches('/'));
        Ok(self.read(|a| {
            a.params
                .iter()
                .filter(|(name, _)| name.as_str().starts_with(&prefix))
                .filter_map(|(n, p)| p.current(n))
                .collect()
        }))
    }

    async fn history(&self, name: &ParamName) -> GatewayResult<Vec<ParamVersion>> {
        self.read(|a| a.params.get(name).map(|p| p.versions.iter().map(SimParamVersion::to_port).collect()))
            .ok_or_else(|| not_found(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::seed::tests::demo;

    fn name(raw: &str) -> ParamName {
        ParamName::parse(raw).unwrap()
    }

    #[tokio::test]
    async fn secure_strings_are_stored_but_never_leave_the_sandbox() {
        let sandbox = demo();
        let db_password = name("/shop/prod/db-password");
        let secret = sandbox.read(|a| a.params[&db_password].versions.last().unwrap().value.0.clone());
        assert!(!secret.is_empty());
        let param = sandbox.get(&db_password).await.unwrap();
        assert_eq!((param.kind, param.value), (ParamKind::SecureString, ParamValue::Masked));
        let history = sandbox.history(&db_password).await.unwrap();
        assert!(history.len() > 1 && history.iter().all(|v| v.value == ParamValue::Masked));
        let listed = sandbox.by_path(&ParamPath::parse("/shop").unwrap()).await.unwrap();
        assert!(!format!("{listed:?}{history:?}").contains(&secret));
        assert!(!sandbox.read(|a| format!("{a:?}")).contains(&secret), "Debug must not print stored values");
    }

    #[tokio::test]
    async fn plain_values_and_history_show_who_changed_what() {
        let sandbox = demo();
        let flags = sandbox.get(&name("/shop/prod/feature-flags")).await.unwrap();
        assert_eq!(flags.kind, ParamKind::StringList);
        assert!(matches!(&flags.value, ParamValue::Plain(v) if v.contains(',')));
        let history = sandbox.history(&name("/shop/prod/feature-flags")).await.unwrap();
        assert_eq!(history.last().unwrap().version, flags.version);
        assert!(history.windows(2).all(|w| w[0].version < w[1].version), "oldest first");
        let writers: std::collections::BTreeSet<_> = history.iter().filter_map(|v| v.modified_by.clone()).collect();
        assert!(writers.len() >= 2, "{writers:?}");
        assert!(history.iter().any(|v| !v.labels.is_empty()));
    }

    #[tokio::test]
    async fn a_path_lists_everything_under_it_and_nothing_beside_it() {
        let listed = demo().by_path(&ParamPath::parse("/shop/prod").unwrap()).await.unwrap();
        let names: Vec<&str> = listed.iter().map(|p| p.name.as_str()).collect();
        assert!(names.contains(&"/shop/prod/db-host") && names.iter().all(|n| n.starts_with("/shop/prod/")));
        assert!(demo().by_path(&ParamPath::parse("/nothing").unwrap()).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn unknown_parameters_are_not_found() {
        let err = demo().get(&name("/shop/prod/nope")).await.unwrap_err();
        assert_eq!(err.to_string(), "parameter `/shop/prod/nope` was not found");
        assert!(demo().history(&name("/shop/prod/nope")).await.is_err());
    }
}
