//! `aws`: how opsbot uses AWS beyond the default credential chain.
//!
//! ```yaml
//! aws:
//!   assume_role:                 # optional: changes run as this role, per requester
//!     role_arn: arn:aws:iam::123456789012:role/opsbot-changes
//!     duration: 15m              # session length, 15m..12h (default 15m)
//! ```
//! Checked at start-up: a malformed ARN or a duration STS would refuse stops
//! start-up with its file:line:column, not the first change.

use std::path::Path;
use std::sync::LazyLock;
use std::time::Duration;

use regex::Regex;
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::error::SettingsError;

/// STS's bounds for `DurationSeconds` (the upper one also needs the role's
/// maximum session duration raised to match).
const SHORTEST: Duration = Duration::from_secs(15 * 60);
const LONGEST: Duration = Duration::from_secs(12 * 60 * 60);

static ROLE_ARN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^arn:aws[-a-z]*:iam::\d{12}:role/[A-Za-z0-9_+=,.@/-]+$").unwrap());

/// The `aws` section as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct AwsFile {
    assume_role: Option<AssumeRoleFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AssumeRoleFile {
    role_arn: Spanned<String>,
    duration: Option<Spanned<String>>,
}

/// `aws.assume_role`, checked: changes run as `role_arn`, assumed for their
/// requester for `duration`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumeRoleSettings {
    pub role_arn: String,
    pub duration: Duration,
}

/// The `assume_role` setting, if any, checked.
pub(super) fn compile(path: &Path, file: &AwsFile) -> Result<Option<AssumeRoleSettings>, SettingsError> {
    let Some(raw) = &file.assume_role else { return Ok(None) };
    let arn = &raw.role_arn;
    if !ROLE_ARN.is_match(&arn.value) {
        let message = format!(
            "aws.assume_role.role_arn: `{}` is not a role ARN: use arn:aws:iam::<12-digit account>:role/<name>",
            arn.value
        );
        return Err(invalid(path, arn, message));
    }
    let duration = match &raw.duration {
        None => SHORTEST,
        Some(text) => opsbot_policies::parse_duration(&text.value)
            .filter(|d| (SHORTEST..=LONGEST).contains(d))
            .ok_or_else(|| {
                let message = format!(
                    "aws.assume_role.duration: `{}` is not a duration from 15m to 12h: write it like 15m, 1h or 1h30m",
                    text.value
                );
                invalid(path, text, message)
            })?,
    };
    Ok(Some(AssumeRoleSettings { role_arn: arn.value.clone(), duration }))
}

fn invalid<T>(path: &Path, at: &Spanned<T>, message: String) -> SettingsError {
    SettingsError::Invalid { path: path.into(), line: at.referenced.line(), column: at.referenced.column(), message }
}

#[cfg(test)]
mod tests {
    use super::super::Settings;
    use super::*;

    fn load(yaml: &str) -> Result<Settings, SettingsError> {
        Settings::from_test_yaml(yaml)
    }

    #[test]
    fn a_role_to_assume_is_read_with_its_duration_or_fifteen_minutes() {
        let yaml =
            "aws:\n  assume_role:\n    role_arn: arn:aws:iam::123456789012:role/opsbot-changes\n    duration: 1h30m\n";
        let role = load(yaml).unwrap().assume_role.unwrap();
        assert_eq!(role.role_arn, "arn:aws:iam::123456789012:role/opsbot-changes");
        assert_eq!(role.duration, Duration::from_secs(5400));
        let yaml = "aws:\n  assume_role: { role_arn: \"arn:aws-us-gov:iam::123456789012:role/ops/changes\" }\n";
        assert_eq!(load(yaml).unwrap().assume_role.unwrap().duration, Duration::from_secs(900));
        assert_eq!(load("store:\n  path: x.db\n").unwrap().assume_role, None, "without it, the bot's own identity");
    }

    #[test]
    fn a_malformed_role_arn_stops_start_up_with_its_place() {
        let yaml = "store:\n  path: x.db\naws:\n  assume_role:\n    role_arn: arn:aws:iam::1234:user/bob\n";
        let err = load(yaml).unwrap_err().to_string();
        assert!(err.contains("opsbot.yaml:5:") && err.contains("is not a role ARN"), "{err}");
    }

    #[test]
    fn a_duration_sts_would_refuse_stops_start_up_with_its_place() {
        for bad in ["5m", "13h", "15", "soon", "m"] {
            let yaml =
                format!("aws:\n  assume_role:\n    role_arn: arn:aws:iam::123456789012:role/x\n    duration: {bad}\n");
            let err = load(&yaml).unwrap_err().to_string();
            assert!(err.contains("opsbot.yaml:4:") && err.contains("from 15m to 12h"), "{bad}: {err}");
        }
    }

    #[test]
    fn unknown_keys_under_aws_are_refused() {
        let yaml = "aws:\n  assume_role:\n    role_arn: arn:aws:iam::123456789012:role/x\n    session: y\n";
        let err = load(yaml).unwrap_err().to_string();
        assert!(err.contains("opsbot.yaml:4:") && err.contains("session"), "{err}");
    }
}
