//! Declared parameters: what a team keeps in git (or behind a URL) as the
//! parameters an environment should have, and the port through which the
//! commands read it ([`DeclaredParams`], implemented in `bot/declared`).
//! Comparing it with Parameter Store is `cmd::drift`.
//!
//! # Decisions
//! - A declared file never holds a secret. A SecureString names where its
//!   value comes from (`from: env:NAME`, an environment variable of the bot
//!   process); the source resolves it when the file is loaded into a
//!   [`NewValue`], which never prints.
//! - SecureStrings are compared by [`fingerprint`] only: the AWS gateway
//!   hashes the decrypted value before it leaves the gateway, the declared
//!   side is hashed the same way, and the hashes are compared, never shown.
//! - The file is read again for every `params diff` and `params apply`, so a
//!   merged change is seen without a restart.

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use crate::error::{GatewayError, GatewayResult};
use super::{NewValue, ParamKind};
use crate::values::{ParamName, ParamPath};

/// One environment's declared parameters, as loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    /// The environment's name in the config (`prod`).
    pub env: String,
    /// Every live parameter under it is compared; names outside it are refused on load.
    pub prefix: ParamPath,
    /// Where it was read from (a path or URL), for messages.
    pub source: String,
    /// Sorted by name, each name once.
    pub params: Vec<DeclaredParam>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredParam {
    pub name: ParamName,
    pub kind: ParamKind,
    pub value: DeclaredValue,
    /// `None`: the description is not managed (whatever is live stays).
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeclaredValue {
    /// A String or StringList value, written in the file.
    Plain(String),
    /// A SecureString's value, read from `from` (`env:NAME`) on load.
    Secret { from: String, value: NewValue },
}

impl DeclaredValue {
    /// The value to write.
    pub fn new_value(&self) -> NewValue {
        match self {
            DeclaredValue::Plain(v) => NewValue::new(v.clone()),
            DeclaredValue::Secret { value, .. } => value.clone(),
        }
    }
}

/// The hash SecureString values are compared by: SHA-256, hex. Both sides
/// hash the same bytes, so equal values have equal fingerprints.
pub fn fingerprint(value: &str) -> String {
    Sha256::digest(value.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Where declared parameters come from: the environments configured under
/// `params.environments`.
#[async_trait]
pub trait DeclaredParams: Send + Sync {
    /// Every configured environment: name and prefix, in name order.
    fn environments(&self) -> Vec<(String, ParamPath)>;
    /// Reads and checks `env`'s file now. A broken file is
    /// [`GatewayError::Invalid`], with file:line:column in its text.
    async fn load(&self, env: &str) -> GatewayResult<Declared>;
}

/// No environment configured: every lookup says how to configure one.
#[derive(Debug, Default)]
pub struct NoDeclared;

#[async_trait]
impl DeclaredParams for NoDeclared {
    fn environments(&self) -> Vec<(String, ParamPath)> {
        Vec::new()
    }

    async fn load(&self, env: &str) -> GatewayResult<Declared> {
        Err(GatewayError::not_found(format!("declared parameters for `{env}`")))
    }
}

/// The environment `which` names: its name, or its prefix (with or without
/// the trailing `/`). Unknown: what is configured, or how to configure one.
pub fn environment(source: &dyn DeclaredParams, which: &str) -> GatewayResult<String> {
    let envs = source.environments();
    let bare = |p: &str| p.trim_end_matches('/').to_owned();
    let found = envs.iter().find(|(name, prefix)| name == which || bare(prefix.as_str()) == bare(which));
    if let Some((name, _)) = found {
        return Ok(name.clone());
    }
    let what = if envs.is_empty() {
        format!(
            "declared parameters for `{which}` (none are configured: add `params.environments` to opsbot's config, see the README)"
        )
    } else {
        let names: Vec<String> = envs.iter().map(|(n, p)| format!("`{n}` ({p})")).collect();
        format!("environment `{which}` among the declared ones: {}", names.join(", "))
    };
    Err(GatewayError::not_found(what))
}
