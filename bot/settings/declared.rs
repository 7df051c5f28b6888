//! `params`: where each environment's declared parameters are (see
//! [`crate::declared`] for the file they point to and `params diff`).
//!
//! ```yaml
//! params:
//!   environments:
//!     prod:    { prefix: /shop/prod/, file: params/prod.yaml }   # relative to this config file
//!     staging: { prefix: /shop/staging/, url: "https://config.example.com/params/staging.yaml" }
//!     qa:      { prefix: /shop/qa/, url: "s3://shop-config/params/qa.yaml" }   # GetObject, as the bot
//!   drift_check: { every: 1h, channel: C0123OPS }   # optional: a living message per drifted environment
//! ```
//! Each environment names exactly one of `file` and `url`. A URL is fetched
//! over HTTPS (plain `http://` only to `localhost` / `127.0.0.1`, for tests);
//! an `s3://bucket/key` URL is read with S3 `GetObject` through the bot's own
//! AWS configuration and credentials (`opsbot iam-policy` grants exactly
//! that object).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use opsbot_commands::values::{ChannelId, ParamPath};
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::error::SettingsError;

/// The `params` section as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct ParamsFile {
    environments: BTreeMap<String, Spanned<EnvFile>>,
    drift_check: Option<Spanned<DriftCheckFile>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DriftCheckFile {
    every: String,
    channel: String,
}

/// `params.drift_check`: how often every environment is compared, and the
/// channel its drift is posted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriftCheckSettings {
    pub every: Duration,
    pub channel: ChannelId,
}

/// Checks more often than this would only spend API calls (and SSM's read quota).
const SHORTEST_DRIFT_CHECK: Duration = Duration::from_secs(60);

/// `params.drift_check`, checked; `None` when absent.
pub(super) fn drift_check(path: &Path, raw: &ParamsFile) -> Result<Option<DriftCheckSettings>, SettingsError> {
    let Some(check) = &raw.drift_check else { return Ok(None) };
    let invalid = |message: String| SettingsError::Invalid {
        path: path.into(),
        line: check.referenced.line(),
        column: check.referenced.column(),
        message: format!("params.drift_check: {message}"),
    };
    if raw.environments.is_empty() {
        return Err(invalid("there are no `params.environments` to check — add them, or leave drift_check out".into()));
    }
    let every = opsbot_policies::parse_duration(&check.value.every)
        .filter(|every| *every >= SHORTEST_DRIFT_CHECK)
        .ok_or_else(|| {
            invalid(format!("every: `{}` is not a duration of 1m or more — write it like 1h or 30m", check.value.every))
        })?;
    let channel = ChannelId::parse(&check.value.channel).map_err(|e| invalid(format!("channel: {}", e.message)))?;
    Ok(Some(DriftCheckSettings { every, channel }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvFile {
    prefix: String,
    file: Option<String>,
    url: Option<String>,
}

/// One environment's declared parameters: where they are and the prefix
/// they cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredEnv {
    pub name: String,
    /// Ends with `/`.
    pub prefix: ParamPath,
    pub from: DeclaredFrom,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeclaredFrom {
    /// Absolute, or relative to the config file's folder when written.
    File(PathBuf),
    Url(String),
    /// `s3://bucket/key`.
    S3 {
        bucket: String,
        key: String,
    },
    /// Built into the binary (`opsbot demo`'s); `shown` names it in messages.
    Builtin {
        shown: &'static str,
        text: &'static str,
    },
}

/// The environments, checked, in name order; fails with every broken one.
pub(super) fn compile(path: &Path, raw: &ParamsFile) -> Result<Vec<DeclaredEnv>, SettingsError> {
    let (envs, broken): (Vec<_>, Vec<_>) = raw
        .environments
        .iter()
        .map(|(name, env)| {
            environment(path, name, &env.value).map_err(|message| SettingsError::Invalid {
                path: path.into(),
                line: env.referenced.line(),
                column: env.referenced.column(),
                message: format!("params.environments.{name}: {message}"),
            })
        })
        .partition(Result::is_ok);
    match broken.is_empty() {
        true => Ok(envs.into_iter().filter_map(Result::ok).collect()),
        false => Err(SettingsError::all(broken.into_iter().filter_map(Result::err).collect())),
    }
}

fn environment(config: &Path, name: &str, raw: &EnvFile) -> Result<DeclaredEnv, String> {
    let prefix = ParamPath::parse(&format!("{}/", raw.prefix.trim_end_matches('/'))).map_err(|e| e.message)?;
    let from = match (&raw.file, &raw.url) {
        (Some(file), None) => DeclaredFrom::File(config.parent().unwrap_or(Path::new(".")).join(file)),
        (None, Some(url)) if url.starts_with("s3://") => s3_object(url)?,
        (None, Some(url)) => DeclaredFrom::Url(url_checked(url)?),
        _ => return Err("give exactly one of `file: params/<env>.yaml` and `url: https://…`".into()),
    };
    Ok(DeclaredEnv { name: name.to_owned(), prefix, from })
}

/// `s3://bucket/key` as the object it names.
fn s3_object(url: &str) -> Result<DeclaredFrom, String> {
    let rest = url.trim_start_matches("s3://");
    match rest.split_once('/') {
        Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() && !key.ends_with('/') => {
            Ok(DeclaredFrom::S3 { bucket: bucket.to_owned(), key: key.to_owned() })
        }
        _ => Err(format!("`{url}` does not name an S3 object — write it as s3://bucket/path/to/file.yaml")),
    }
}

fn url_checked(url: &str) -> Result<String, String> {
    let local = ["http://127.0.0.1", "http://localhost"].iter().any(|l| url.starts_with(l));
    match url.starts_with("https://") || local {
        true => Ok(url.to_owned()),
        false => Err(format!(
            "`{url}` is not an https:// or s3:// URL — declared parameters are fetched over HTTPS or read from S3"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::super::Settings;
    use super::*;

    #[test]
    fn environments_are_read_with_files_relative_to_the_config_and_prefixes_ending_in_a_slash() {
        let yaml = "params:\n  environments:\n    prod: { prefix: /shop/prod, file: params/prod.yaml }\n    staging: { prefix: /shop/staging/, url: \"https://config.example.com/staging.yaml\" }\n";
        let envs = Settings::from_test_yaml(yaml).unwrap().declared_params;
        assert_eq!(envs[0].name, "prod");
        assert_eq!(envs[0].prefix.as_str(), "/shop/prod/");
        assert!(matches!(&envs[0].from, DeclaredFrom::File(f) if f.ends_with("params/prod.yaml") && f.is_absolute()));
        assert_eq!(envs[1].from, DeclaredFrom::Url("https://config.example.com/staging.yaml".into()));
    }

    #[test]
    fn an_s3_url_names_a_bucket_and_a_key() {
        let yaml =
            "params:\n  environments:\n    qa: { prefix: /shop/qa/, url: \"s3://shop-config/params/qa.yaml\" }\n";
        let envs = Settings::from_test_yaml(yaml).unwrap().declared_params;
        assert_eq!(envs[0].from, DeclaredFrom::S3 { bucket: "shop-config".into(), key: "params/qa.yaml".into() });
        let yaml = "params:\n  environments:\n    qa: { prefix: /shop/qa/, url: \"s3://shop-config/\" }\n";
        let err = Settings::from_test_yaml(yaml).unwrap_err().to_string();
        assert!(err.contains(":3:9: params.environments.qa: `s3://shop-config/` does not name an S3 object"), "{err}");
    }

    #[test]
    fn every_broken_environment_is_reported_with_its_place() {
        let yaml = "params:\n  environments:\n    prod: { prefix: /shop/prod/ }\n    qa: { prefix: /shop/qa/, url: \"ftp://x/qa.yaml\" }\n";
        let err = Settings::from_test_yaml(yaml).unwrap_err().to_string();
        assert!(err.contains(":3:11: params.environments.prod: give exactly one of `file:"), "{err}");
        assert!(
            err.contains(":4:9: params.environments.qa: `ftp://x/qa.yaml` is not an https:// or s3:// URL"),
            "{err}"
        );
    }

    #[test]
    fn a_drift_check_needs_a_sane_interval_a_channel_and_environments() {
        let envs = "params:\n  environments:\n    prod: { prefix: /shop/prod/, file: p.yaml }\n";
        let ok = format!("{envs}  drift_check: {{ every: 1h, channel: C0123OPS }}\n");
        let check = Settings::from_test_yaml(&ok).unwrap().drift_check.unwrap();
        assert_eq!((check.every, check.channel.as_str()), (Duration::from_secs(3600), "C0123OPS"));
        let fast = format!("{envs}  drift_check: {{ every: 5s, channel: C0123OPS }}\n");
        let err = Settings::from_test_yaml(&fast).unwrap_err().to_string();
        assert!(err.contains(":4:16: params.drift_check: every: `5s` is not a duration of 1m or more"), "{err}");
        let alone = "params:\n  drift_check: { every: 1h, channel: C0123OPS }\n";
        let err = Settings::from_test_yaml(alone).unwrap_err().to_string();
        assert!(err.contains("there are no `params.environments` to check"), "{err}");
    }

    #[test]
    fn a_misspelt_key_is_reported() {
        let yaml = "params:\n  environments:\n    prod: { prefix: /shop/prod/, fiel: params/prod.yaml }\n";
        let err = Settings::from_test_yaml(yaml).unwrap_err().to_string();
        assert!(err.contains("unknown key `fiel`"), "{err}");
    }
}
