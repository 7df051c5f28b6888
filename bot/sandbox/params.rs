//! Parameter Store in the sandbox: every version of every parameter, with who
//! wrote it and its labels.
//!
//! SecureString values are stored in clear, as SSM stores them, so later
//! change operations can compare and rotate them — but the port only ever
//! returns `ParamValue::Masked` for them, or their hash to `params diff`
//! (`Params::fingerprints`), and [`Stored`] keeps them out of `Debug` output
//! and logs.
//!
//! The ports (`Params`, `ParamChanges`) are in `params/ports.rs`. Writes append a version written by the requester's
//! identity (`assumed-role/opsbot/<Slack user>`), at the account's present,
//! with the type, KMS key and description the writer asked to keep; a
//! restore copies the stored value of the old version as SSM would.

use opsbot_commands::ports::{ParamKind, ParamValue, ParamVersion, Parameter, Time};
use opsbot_commands::values::ParamName;

mod ports;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimParam {
    /// Oldest first; the last one is the current value.
    pub versions: Vec<SimParamVersion>,
    /// Tags, key → value (not versioned, as in SSM).
    pub tags: std::collections::BTreeMap<String, String>,
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
