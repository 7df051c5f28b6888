//! The declared parameters of each environment (`params.environments`), read
//! from a file in the repo the bot runs with, an HTTPS URL or an S3 object, checked,
//! and handed to `params diff` / `params apply` through the commands'
//! [`DeclaredParams`] port.
//!
//! ```yaml
//! # params/prod.yaml — every parameter under the environment's prefix
//! parameters:
//!   /shop/prod/db-host:
//!     value: db.internal
//!     description: Primary database host     # optional; left out = not managed
//!     tags: { team: platform }               # optional; given = exactly these tags
//!   /shop/prod/api/hosts:
//!     type: StringList                       # String (default), StringList, SecureString
//!     value: a.internal,b.internal
//!   /shop/prod/db-password:
//!     type: SecureString
//!     from: env:SHOP_PROD_DB_PASSWORD        # never the value itself
//!   /shop/prod/api-key:
//!     type: SecureString
//!     from: file:/run/secrets/api-key        # a mounted secret; relative = to this file's folder
//! ```
//!
//! # Decisions
//! - The file is read again on every load: a merged change is seen at once.
//! - A SecureString's value never goes in the file: `from: env:NAME` names an
//!   environment variable of the bot process, `from: file:PATH` a file (a
//!   secret mounted by Kubernetes or ECS), read on load into a `NewValue`
//!   (never printed; a file's trailing newline trimmed, as `echo` leaves
//!   one). A value written for a SecureString is refused. A relative path is
//!   relative to the declared file's folder; a declared file fetched from a
//!   URL or S3 has none, so its paths must be absolute.
//! - Every problem is reported at once with file:line:column, as settings
//!   are; they reach the requester as [`GatewayError::Invalid`].

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use opsbot_commands::ports::{Declared, DeclaredParam, DeclaredParams, DeclaredValue};
use opsbot_commands::ports::{NewValue, ParamKind, ParamTags};
use opsbot_commands::values::{ParamName, ParamPath};
use opsbot_commands::{GatewayError, GatewayResult};
use opsbot_policies::PolicyError;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::aws::AwsObjects;
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
    /// `None`: built without AWS configuration (the demo, some tests).
    s3: Option<AwsObjects>,
}

impl DeclaredSources {
    /// `envs`, with `from: env:` read from the process's environment.
    pub fn new(envs: Vec<DeclaredEnv>) -> Self {
        Self::with_env(envs, Arc::new(|name| std::env::var(name).ok()))
    }

    pub fn with_env(envs: Vec<DeclaredEnv>, env: EnvLookup) -> Self {
        // Without usable roots only URL sources fail, each saying why, when read.
        DeclaredSources { envs, env, http: Getter::new(URL_LIMIT).ok(), s3: None }
    }

    /// `s3://` sources are read with `s3`.
    pub fn with_s3(self, s3: AwsObjects) -> Self {
        DeclaredSources { s3: Some(s3), ..self }
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
            DeclaredFrom::S3 { bucket, key } => {
                let shown = format!("s3://{bucket}/{key}");
                let s3 = self.s3.as_ref().ok_or_else(|| GatewayError::Unavailable {
                    message: format!("{shown}: this opsbot runs without AWS configuration to read S3 with"),
                })?;
                let body = s3.get(bucket, key, URL_LIMIT).await?;
                let text =
                    String::from_utf8(body).map_err(|_| GatewayError::invalid(format!("{shown} is not UTF-8 text")))?;
                Ok((shown, text))
            }
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
        let dir = match &found.from {
            DeclaredFrom::File(path) => path.parent(),
            _ => None,
        };
        parse(found, &source, &text, &Resolve { env: self.env.as_ref(), dir })
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
    tags: Option<BTreeMap<String, String>>,
}

/// SSM's limits on a parameter's tags.
const MOST_TAGS: usize = 50;
const TAG_KEY_CHARS: usize = 128;
const TAG_VALUE_CHARS: usize = 256;

/// `tags`, checked against SSM's rules, so a typo is refused at load rather
/// than by `AddTagsToResource` halfway through an apply.
fn tags(tags: &Option<BTreeMap<String, String>>) -> Result<Option<ParamTags>, String> {
    let Some(tags) = tags else { return Ok(None) };
    if tags.len() > MOST_TAGS {
        return Err(format!("has {} tags; a parameter takes at most {MOST_TAGS}", tags.len()));
    }
    let allowed = |c: char| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c);
    for (key, value) in tags {
        if key.is_empty() || key.chars().count() > TAG_KEY_CHARS || !key.chars().all(allowed) {
            return Err(format!("tag `{key}`: a key is 1 to {TAG_KEY_CHARS} letters, digits, spaces and _.:/=+-@"));
        }
        if key.to_lowercase().starts_with("aws:") {
            return Err(format!("tag `{key}`: keys starting with `aws:` are AWS's own"));
        }
        if value.chars().count() > TAG_VALUE_CHARS || !value.chars().all(allowed) {
            return Err(format!(
                "tag `{key}`: a value is up to {TAG_VALUE_CHARS} letters, digits, spaces and _.:/=+-@"
            ));
        }
    }
    Ok(Some(tags.clone()))
}

/// `text` (read from `source`) as `env`'s declared parameters, or every problem in it.
fn parse(env: &DeclaredEnv, source: &str, text: &str, resolve: &Resolve<'_>) -> GatewayResult<Declared> {
    let file: DeclaredFile = match text.trim().is_empty() {
        true => DeclaredFile::default(),
        false => serde_saphyr::from_str(text)
            .map_err(|err| GatewayError::invalid(PolicyError::from_yaml(source, &err).to_string()))?,
    };
    let mut params = Vec::new();
    let mut problems = Vec::new();
    for (name, entry) in &file.parameters {
        match param(env, name, &entry.value, resolve) {
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

fn param(env: &DeclaredEnv, name: &str, raw: &Entry, resolve: &Resolve<'_>) -> Result<DeclaredParam, String> {
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
            return Err("a SecureString's value never goes in the file — write `from: env:NAME` (an environment variable of the bot) or `from: file:PATH` (a mounted secret)".into());
        }
        (ParamKind::SecureString, None, Some(from)) => resolve.secret(from)?,
        (ParamKind::SecureString, None, None) => {
            return Err("needs `from: env:NAME` or `from: file:PATH`, where its value is read".into());
        }
        (_, _, Some(_)) => {
            return Err("`from:` is for SecureStrings only — write `value:` (or `type: SecureString`)".into());
        }
        (_, Some(v), None) if v.is_empty() => return Err("`value` is empty, which Parameter Store refuses".into()),
        (_, Some(v), None) => DeclaredValue::Plain(v.clone()),
        (_, None, None) => return Err("needs `value:`".into()),
    };
    let tags = tags(&raw.tags)?;
    Ok(DeclaredParam { name, kind, value, description: raw.description.clone(), tags })
}

/// Where `from:` references are read: the bot's environment, and the
/// declared file's folder (`None` for a URL or S3 source).
struct Resolve<'a> {
    env: &'a (dyn Fn(&str) -> Option<String> + Send + Sync),
    dir: Option<&'a Path>,
}

impl Resolve<'_> {
    /// The value `from` (`env:NAME` or `file:PATH`) names, read now. No
    /// error quotes what was read.
    fn secret(&self, from: &str) -> Result<DeclaredValue, String> {
        let value = if let Some(var) = from.strip_prefix("env:").filter(|v| !v.is_empty()) {
            (self.env)(var).filter(|v| !v.is_empty()).ok_or_else(|| {
                format!("takes its value from the environment variable {var}, which the bot does not have — set it and restart the bot")
            })?
        } else if let Some(path) = from.strip_prefix("file:").filter(|p| !p.is_empty()) {
            self.file(path)?
        } else {
            return Err(format!(
                "`from: {from}` is not understood — write `from: env:NAME` (an environment variable of the bot) or `from: file:PATH` (a file, e.g. a mounted secret)"
            ));
        };
        Ok(DeclaredValue::Secret { from: from.to_owned(), value: NewValue::new(value) })
    }

    /// The text of the file at `path`, its trailing newlines trimmed.
    fn file(&self, path: &str) -> Result<String, String> {
        let path = Path::new(path);
        let full = match (path.is_absolute(), self.dir) {
            (true, _) => path.to_path_buf(),
            (false, Some(dir)) => dir.join(path),
            (false, None) => {
                return Err(format!(
                    "`file:{}` is a relative path, but this declared file is not on disk to be relative to — write an absolute path",
                    path.display()
                ));
            }
        };
        let shown = full.display();
        let bytes = std::fs::read(&full).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                format!("takes its value from the file {shown}, which does not exist — mount it or fix the path")
            }
            _ => format!("takes its value from the file {shown}, which the bot cannot read: {e}"),
        })?;
        let text = String::from_utf8(bytes).map_err(|_| format!("the file {shown} is not UTF-8 text"))?;
        let value = text.trim_end_matches(['\n', '\r']);
        match value.is_empty() {
            true => Err(format!("the file {shown} is empty, which Parameter Store refuses")),
            false => Ok(value.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prod() -> DeclaredEnv {
        let prefix = ParamPath::parse("/shop/prod/").unwrap();
        DeclaredEnv { name: "prod".into(), prefix, from: DeclaredFrom::File("params/prod.yaml".into()) }
    }

    fn load(yaml: &str) -> GatewayResult<Declared> {
        load_in(yaml, None)
    }

    /// `yaml` as read from a file in `dir` (`None`: from a URL).
    fn load_in(yaml: &str, dir: Option<&Path>) -> GatewayResult<Declared> {
        let env = |name: &str| (name == "DB_PASSWORD").then(|| "hunter2".to_owned());
        parse(&prod(), "params/prod.yaml", yaml, &Resolve { env: &env, dir })
    }

    #[test]
    fn a_secret_is_read_from_a_file_relative_to_the_declared_file_its_trailing_newline_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("secrets")).unwrap();
        std::fs::write(dir.path().join("secrets/api-key"), "k3y-from-file\n").unwrap();
        let absolute = dir.path().join("secrets/api-key");
        let yaml = format!(
            "parameters:\n  /shop/prod/a: {{ type: SecureString, from: \"file:secrets/api-key\" }}\n  /shop/prod/b: {{ type: SecureString, from: \"file:{}\" }}\n",
            absolute.display()
        );
        let declared = load_in(&yaml, Some(dir.path())).unwrap();
        assert_eq!(declared.params[0].value.new_value().expose(), "k3y-from-file");
        assert_eq!(declared.params[1].value.new_value().expose(), "k3y-from-file");
        assert!(!format!("{declared:?}").contains("k3y-from-file"), "{declared:?}");
        // From a URL there is no folder: only absolute paths.
        let err = load_in(&yaml, None).unwrap_err().to_string();
        assert!(
            err.contains("params/prod.yaml:2:17: /shop/prod/a: `file:secrets/api-key` is a relative path"),
            "{err}"
        );
        assert!(!err.contains("/shop/prod/b"), "an absolute path works from anywhere: {err}");
    }

    #[test]
    fn a_missing_unreadable_or_empty_secret_file_is_reported_with_its_place_never_its_content() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("empty"), "\n").unwrap();
        std::fs::create_dir(dir.path().join("a-folder")).unwrap();
        let yaml = "parameters:\n  /shop/prod/a: { type: SecureString, from: \"file:nope\" }\n  /shop/prod/b: { type: SecureString, from: \"file:empty\" }\n  /shop/prod/c: { type: SecureString, from: \"file:a-folder\" }\n  /shop/prod/d: { type: SecureString, from: \"vault:x\" }\n";
        let err = load_in(yaml, Some(dir.path())).unwrap_err().to_string();
        let nope = dir.path().join("nope");
        assert!(
            err.contains(&format!(
                "params/prod.yaml:2:17: /shop/prod/a: takes its value from the file {}, which does not exist",
                nope.display()
            )),
            "{err}"
        );
        assert!(err.contains("params/prod.yaml:3:17: /shop/prod/b: the file"), "{err}");
        assert!(err.contains("is empty, which Parameter Store refuses"), "{err}");
        assert!(err.contains("params/prod.yaml:4:17: /shop/prod/c: takes its value from the file"), "{err}");
        assert!(err.contains("which the bot cannot read"), "{err}");
        assert!(err.contains("`from: vault:x` is not understood — write `from: env:NAME`"), "{err}");
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
    fn tags_are_read_when_declared_and_checked_against_ssm_rules() {
        let yaml = "parameters:\n  /shop/prod/a: { value: x, tags: { team: shop, cost-center: \"42\" } }\n  /shop/prod/b: { value: y }\n";
        let declared = load(yaml).unwrap();
        let tags = declared.params[0].tags.clone().unwrap();
        assert_eq!(
            tags.into_iter().collect::<Vec<_>>(),
            [("cost-center".into(), "42".into()), ("team".into(), "shop".into())]
        );
        assert_eq!(declared.params[1].tags, None, "no `tags:`, not managed");

        let yaml = "parameters:\n  /shop/prod/a: { value: x, tags: { \"aws:owner\": me } }\n  /shop/prod/b: { value: y, tags: { \"te<am\": x } }\n";
        let err = load(yaml).unwrap_err().to_string();
        assert!(
            err.contains(
                "params/prod.yaml:2:17: /shop/prod/a: tag `aws:owner`: keys starting with `aws:` are AWS's own"
            ),
            "{err}"
        );
        assert!(err.contains("params/prod.yaml:3:17: /shop/prod/b: tag `te<am`: a key is 1 to 128"), "{err}");
    }

    #[test]
    fn broken_yaml_and_unknown_keys_are_reported_with_their_place() {
        let err = load("parameters:\n  /shop/prod/a: { vaule: x }\n").unwrap_err().to_string();
        assert!(err.starts_with("params/prod.yaml:2:"), "{err}");
        assert!(err.contains("unknown key `vaule`"), "{err}");
        assert!(matches!(load("parameters: [a"), Err(GatewayError::Invalid { .. })));
    }
}
