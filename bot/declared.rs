//! The declared parameters of each environment (`params.environments`), read
//! from a file in the repo the bot runs with or from an HTTPS URL, checked,
//! and handed to `params diff` / `params apply` through the commands'
//! [`DeclaredParams`] port.
//!
//! ```yaml
//! # params/prod.yaml — every parameter under the environment's prefix
//! parameters:
//!   /shop/prod/db-host:
//!     value: db.internal
//!     description: Primary database host     # optional; left out = not managed
//!   /shop/prod/api/hosts:
//!     type: StringList                       # String (default), StringList, SecureString
//!     value: a.internal,b.internal
//!   /shop/prod/db-password:
//!     type: SecureString
//!     from: env:SHOP_PROD_DB_PASSWORD        # never the value itself
//! ```
//!
//! # Decisions
//! - The file is read again on every load: a merged change is seen at once.
//! - A SecureString's value never goes in the file: `from: env:NAME` names an
//!   environment variable of the bot process, read on load into a
//!   `NewValue` (never printed). A value written for a SecureString is refused.
//! - Every problem is reported at once with file:line:column, as settings
//!   are; they reach the requester as [`GatewayError::Invalid`].

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use opsbot_commands::ports::{Declared, DeclaredParam, DeclaredParams, DeclaredValue};
use opsbot_commands::ports::{NewValue, ParamKind};
use opsbot_commands::values::{ParamName, ParamPath};
use opsbot_commands::{GatewayError, GatewayResult};
use opsbot_policies::PolicyError;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::https::Getter;
use crate::settings::{DeclaredEnv, DeclaredFrom};

/// The largest declared file fetched from a URL.
const URL_LIMIT: usize = 1024 * 1024;
/// Problems listed in one answer; the rest are counted.
const SHOWN_PROBLEMS: usize = 5;

/// A lookup of the bot's environment variables (tests pass their own).
pub type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Every configured environment's declared parameters.
pub struct DeclaredSources {
    envs: Vec<DeclaredEnv>,
    env: EnvLookup,
    http: Option<Getter>,
}

impl DeclaredSources {
    /// `envs`, with `from: env:` read from the process's environment.
    pub fn new(envs: Vec<DeclaredEnv>) -> Self {
        Self::with_env(envs, Arc::new(|name| std::env::var(name).ok()))
    }

    pub fn with_env(envs: Vec<DeclaredEnv>, env: EnvLookup) -> Self {
        // Without usable roots only URL sources fail, each saying why, when read.
        DeclaredSources { envs, env, http: Getter::new(URL_LIMIT).ok() }
    }

    async fn read(&self, from: &DeclaredFrom) -> GatewayResult<(String, String)> {
        match from {
            DeclaredFrom::File(path) => {
                let shown = path.display().to_string();
                let text = tokio::fs::read_to_string(path).await.map_err(|e| {
                    GatewayError::invalid(format!("cannot read the declared parameters file {shown}: {e}"))
                })?;
                Ok((shown, text))
            }
            DeclaredFrom::Builtin { shown, text } => Ok(((*shown).to_owned(), (*text).to_owned())),
            DeclaredFrom::Url(url) => {
                let http = self.http.as_ref().ok_or_else(|| GatewayError::Unavailable {
                    message: "no TLS root certificates to fetch declared parameters".into(),
                })?;
                let body = http
                    .get(url)
                    .await
                    .map_err(|why| GatewayError::Unavailable { message: format!("fetching {url}: {why}") })?;
                let text = String::from_utf8(body.to_vec())
                    .map_err(|_| GatewayError::invalid(format!("{url} is not UTF-8 text")))?;
                Ok((url.clone(), text))
            }
        }
    }
}

#[async_trait]
impl DeclaredParams for DeclaredSources {
    fn environments(&self) -> Vec<(String, ParamPath)> {
        self.envs.iter().map(|e| (e.name.clone(), e.prefix.clone())).collect()
    }

    async fn load(&self, env: &str) -> GatewayResult<Declared> {
        let found = self.envs.iter().find(|e| e.name == env);
        let found = found.ok_or_else(|| GatewayError::not_found(format!("declared parameters for `{env}`")))?;
        let (source, text) = self.read(&found.from).await?;
        parse(found, &source, &text, self.env.as_ref())
    }
}

/// A declared file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct DeclaredFile {
    parameters: BTreeMap<String, Spanned<Entry>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    #[serde(rename = "type")]
    kind: Option<String>,
    value: Option<String>,
    from: Option<String>,
    description: Option<String>,
}

/// `text` (read from `source`) as `env`'s declared parameters, or every problem in it.
fn parse(
    env: &DeclaredEnv,
    source: &str,
    text: &str,
    lookup: &(dyn Fn(&str) -> Option<String> + Send + Sync),
) -> GatewayResult<Declared> {
    let file: DeclaredFile = match text.trim().is_empty() {
        true => DeclaredFile::default(),
        false => serde_saphyr::from_str(text)
            .map_err(|err| GatewayError::invalid(PolicyError::from_yaml(source, &err).to_string()))?,
    };
    let mut params = Vec::new();
    let mut problems = Vec::new();
    for (name, entry) in &file.parameters {
        match param(env, name, &entry.value, lookup) {
            Ok(param) => params.push(param),
            Err(why) => problems.push(format!(
                "{source}:{}:{}: {name}: {why}",
                entry.referenced.line(),
                entry.referenced.column()
            )),
        }
    }
    if !problems.is_empty() {
        let more = problems.len().saturating_sub(SHOWN_PROBLEMS);
        let mut text = problems.into_iter().take(SHOWN_PROBLEMS).collect::<Vec<_>>().join("\n");
        if more > 0 {
            text.push_str(&format!("\n… and {more} more"));
        }
        return Err(GatewayError::invalid(text));
    }
    let (env, prefix, source) = (env.name.clone(), env.prefix.clone(), source.to_owned());
    Ok(Declared { env, prefix, source, params })
}

fn param(
    env: &DeclaredEnv,
    name: &str,
    raw: &Entry,
    lookup: &(dyn Fn(&str) -> Option<String> + Send + Sync),
) -> Result<DeclaredParam, String> {
    let name = ParamName::parse(name).map_err(|e| e.message)?;
    if !name.as_str().starts_with(env.prefix.as_str()) {
        return Err(format!("is outside `{}`, the prefix of environment `{}`", env.prefix, env.name));
    }
    let kind = match raw.kind.as_deref().unwrap_or("String") {
        "String" => ParamKind::String,
        "StringList" => ParamKind::StringList,
        "SecureString" => ParamKind::SecureString,
        other => return Err(format!("type `{other}` is not one of String, StringList, SecureString")),
    };
    let value = match (&kind, &raw.value, &raw.from) {
        (ParamKind::SecureString, Some(_), _) => {
            return Err("a SecureString's value never goes in the file — write `from: env:NAME` and give the bot that environment variable".into());
        }
        (ParamKind::SecureString, None, Some(from)) => secret(from, lookup)?,
        (ParamKind::SecureString, None, None) => return Err("needs `from: env:NAME`, where its value is read".into()),
        (_, _, Some(_)) => {
            return Err("`from:` is for SecureStrings only — write `value:` (or `type: SecureString`)".into());
        }
        (_, Some(v), None) if v.is_empty() => return Err("`value` is empty, which Parameter Store refuses".into()),
        (_, Some(v), None) => DeclaredValue::Plain(v.clone()),
        (_, None, None) => return Err("needs `value:`".into()),
    };
    Ok(DeclaredParam { name, kind, value, description: raw.description.clone() })
}

/// The value `from` (`env:NAME`) names, read now.
fn secret(from: &str, lookup: &(dyn Fn(&str) -> Option<String> + Send + Sync)) -> Result<DeclaredValue, String> {
    let Some(var) = from.strip_prefix("env:").filter(|v| !v.is_empty()) else {
        return Err(format!(
            "`from: {from}` is not understood — write `from: env:NAME` (an environment variable of the bot)"
        ));
    };
    let value = lookup(var).filter(|v| !v.is_empty()).ok_or_else(|| {
        format!("takes its value from the environment variable {var}, which the bot does not have — set it and restart the bot")
    })?;
    Ok(DeclaredValue::Secret { from: from.to_owned(), value: NewValue::new(value) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prod() -> DeclaredEnv {
        let prefix = ParamPath::parse("/shop/prod/").unwrap();
        DeclaredEnv { name: "prod".into(), prefix, from: DeclaredFrom::File("params/prod.yaml".into()) }
    }

    fn load(yaml: &str) -> GatewayResult<Declared> {
        parse(&prod(), "params/prod.yaml", yaml, &|name| (name == "DB_PASSWORD").then(|| "hunter2".to_owned()))
    }

    #[test]
    fn parameters_are_read_with_types_descriptions_and_secrets_from_the_environment() {
        let yaml = "parameters:\n  /shop/prod/db-host:\n    value: db.internal\n    description: Primary DB\n  /shop/prod/hosts: { type: StringList, value: \"a,b\" }\n  /shop/prod/db-password: { type: SecureString, from: \"env:DB_PASSWORD\" }\n";
        let declared = load(yaml).unwrap();
        let names: Vec<&str> = declared.params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["/shop/prod/db-host", "/shop/prod/db-password", "/shop/prod/hosts"]);
        assert_eq!(declared.params[0].description.as_deref(), Some("Primary DB"));
        assert_eq!(declared.params[2].kind, ParamKind::StringList);
        assert_eq!(declared.params[1].value.new_value().expose(), "hunter2");
        assert!(!format!("{declared:?}").contains("hunter2"), "{declared:?}");
    }

    #[test]
    fn every_problem_is_reported_with_its_place_and_what_to_write() {
        let yaml = "parameters:\n  /shop/prod/a: { type: Strng, value: x }\n  /shop/prod/b: { type: SecureString, value: oops }\n  /shop/staging/c: { value: x }\n  /shop/prod/d: { type: SecureString, from: \"env:NOPE\" }\n";
        let err = load(yaml).unwrap_err().to_string();
        assert!(err.contains("params/prod.yaml:2:17: /shop/prod/a: type `Strng` is not one of String"), "{err}");
        assert!(
            err.contains("params/prod.yaml:3:17: /shop/prod/b: a SecureString's value never goes in the file"),
            "{err}"
        );
        assert!(err.contains("/shop/staging/c: is outside `/shop/prod/`, the prefix of environment `prod`"), "{err}");
        assert!(err.contains("environment variable NOPE, which the bot does not have"), "{err}");
        assert!(!err.contains("oops"), "{err}");
    }

    /// Serves `status` and `body` to every GET on 127.0.0.1; the URL of `/prod.yaml`.
    async fn serve(status: &'static str, body: &'static str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/prod.yaml", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut request = [0u8; 1024];
                let _ = socket.read(&mut request).await;
                let head = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len());
                let _ = socket.write_all(format!("{head}{body}").as_bytes()).await;
            }
        });
        url
    }

    fn from_url(url: String) -> DeclaredSources {
        let env = DeclaredEnv { from: DeclaredFrom::Url(url), ..prod() };
        DeclaredSources::with_env(vec![env], Arc::new(|_| None))
    }

    #[tokio::test]
    async fn a_url_source_is_fetched_on_every_load_and_a_failed_fetch_says_why() {
        let url = serve("200 OK", "parameters:\n  /shop/prod/db-host: { value: db.internal }\n").await;
        let declared = from_url(url.clone()).load("prod").await.unwrap();
        assert_eq!((declared.source, declared.params.len()), (url, 1));

        let missing = serve("404 Not Found", "").await;
        let err = from_url(missing.clone()).load("prod").await.unwrap_err();
        assert!(err.to_string().contains(&format!("fetching {missing}: answered HTTP 404")), "{err}");
    }

    #[test]
    fn broken_yaml_and_unknown_keys_are_reported_with_their_place() {
        let err = load("parameters:\n  /shop/prod/a: { vaule: x }\n").unwrap_err().to_string();
        assert!(err.starts_with("params/prod.yaml:2:"), "{err}");
        assert!(err.contains("unknown key `vaule`"), "{err}");
        assert!(matches!(load("parameters: [a"), Err(GatewayError::Invalid { .. })));
    }
}
