//! `aws`: how opsbot uses AWS beyond the default credential chain.
//!
//! ```yaml
//! aws:
//!   assume_role:                 # optional: changes run as this role, per requester
//!     role_arn: arn:aws:iam::123456789012:role/opsbot-changes
//!     duration: 15m              # session length, 15m..12h (default 15m)
//!   accounts:                    # optional: other accounts commands may name
//!     prod: { role_arn: arn:aws:iam::111111111111:role/opsbot, region: eu-west-1 }
//!     staging: { role_arn: arn:aws:iam::222222222222:role/opsbot }
//!   default_account: staging     # optional: where a command naming none acts
//! ```
//! Checked at start-up: a malformed ARN or a duration STS would refuse stops
//! start-up with its file:line:column, not the first change; every problem of
//! the section is reported, not just the first.
//!
//! Without `accounts` a command acts in the bot's own account, exactly as
//! before. An account's role is assumed for reads (session `opsbot`) and, per
//! requester, for changes (their Slack id as source identity); sessions
//! last `assume_role.duration` (15 minutes without it). An account's id (from its role ARN) names
//! its notifications; two names for one account id would make that
//! ambiguous and are refused.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::LazyLock;
use std::time::Duration;

use regex::Regex;
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::error::SettingsError;

/// STS's bounds for `DurationSeconds` (the upper one also needs the role's
/// maximum session duration raised to match).
pub const SHORTEST: Duration = Duration::from_secs(15 * 60);
const LONGEST: Duration = Duration::from_secs(12 * 60 * 60);

static ROLE_ARN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^arn:aws[-a-z]*:iam::(\d{12}):role/[A-Za-z0-9_+=,.@/-]+$").unwrap());
static ACCOUNT_NAME: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[a-z][a-z0-9-]{0,31}$").unwrap());
static REGION: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[a-z]{2}(-[a-z]+)+-\d+$").unwrap());

/// The `aws` section as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct AwsFile {
    assume_role: Option<AssumeRoleFile>,
    accounts: BTreeMap<String, Spanned<AccountFile>>,
    default_account: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountFile {
    role_arn: Spanned<String>,
    region: Option<Spanned<String>>,
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

/// One of `aws.accounts`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSettings {
    /// How commands (`--account NAME`, `NAME:`) and messages name it.
    pub name: String,
    pub role_arn: String,
    /// The 12 digits of its role ARN: notifications from it carry them.
    pub account_id: String,
    /// Where it is acted in unless a command names a region; `None`: the bot's region.
    pub region: Option<String>,
}

/// `aws.accounts` and `aws.default_account`, checked; empty: the bot's own account only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountsSettings {
    pub accounts: Vec<AccountSettings>,
    /// A name of `accounts`.
    pub default: Option<String>,
}

impl AccountsSettings {
    /// The names commands may use, for [`opsbot_commands::target`].
    pub fn names(&self) -> opsbot_commands::target::AccountNames {
        let names = self.accounts.iter().map(|a| a.name.clone()).collect();
        let regions = self.accounts.iter().filter_map(|a| Some((a.name.clone(), a.region.clone()?))).collect();
        opsbot_commands::target::AccountNames::new(names, self.default.clone()).with_regions(regions)
    }

    /// The account called `name`.
    pub fn named(&self, name: &str) -> Option<&AccountSettings> {
        self.accounts.iter().find(|a| a.name == name)
    }

    /// The configured name of the account with id `account_id`.
    pub fn name_of(&self, account_id: &str) -> Option<&str> {
        self.accounts.iter().find(|a| a.account_id == account_id).map(|a| a.name.as_str())
    }
}

/// The `aws` section, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct AwsSettings {
    pub assume_role: Option<AssumeRoleSettings>,
    pub accounts: AccountsSettings,
}

/// The `aws` section, checked, with every problem found.
pub(super) fn compile(path: &Path, file: &AwsFile) -> Result<AwsSettings, SettingsError> {
    let mut problems = Vec::new();
    let assume_role =
        file.assume_role.as_ref().and_then(|raw| assume_role(path, raw).map_err(|e| problems.push(e)).ok());
    let mut accounts = AccountsSettings::default();
    for (name, raw) in &file.accounts {
        match account(path, name, raw) {
            Ok(account) => match accounts.accounts.iter().find(|a| a.account_id == account.account_id) {
                Some(same) => problems.push(invalid(
                    path,
                    &raw.value.role_arn,
                    format!(
                        "aws.accounts.{name}: account {} is already named `{}` — give each account one name, \
                         so its notifications have one",
                        account.account_id, same.name
                    ),
                )),
                None => accounts.accounts.push(account),
            },
            Err(err) => problems.push(err),
        }
    }
    if let Some(default) = &file.default_account {
        if file.accounts.contains_key(&default.value) {
            accounts.default = Some(default.value.clone());
        } else {
            let names: Vec<&str> = file.accounts.keys().map(String::as_str).collect();
            let close = opsbot_commands::spec::suggest(&default.value, names.iter().copied());
            let hint = match close.first() {
                Some(close) => format!(" — did you mean `{close}`?"),
                None if names.is_empty() => " — name it under `aws.accounts` first".to_owned(),
                None => String::new(),
            };
            let message = format!(
                "aws.default_account: `{}` is not one of aws.accounts ({}){hint}",
                default.value,
                names.join(", ")
            );
            problems.push(invalid(path, default, message));
        }
    }
    match problems.is_empty() {
        true => Ok(AwsSettings { assume_role, accounts }),
        false => Err(SettingsError::all(problems)),
    }
}

fn account(path: &Path, name: &str, raw: &Spanned<AccountFile>) -> Result<AccountSettings, SettingsError> {
    if !ACCOUNT_NAME.is_match(name) {
        let message = format!(
            "aws.accounts: `{name}` cannot name an account: use lower-case letters, digits and `-`, \
             starting with a letter (it is typed as `--account {}` or `{}:service`)",
            "prod", "prod"
        );
        return Err(invalid(path, raw, message));
    }
    let arn = &raw.value.role_arn;
    let account_id = role_account(arn, &format!("aws.accounts.{name}.role_arn")).map_err(|m| invalid(path, arn, m))?;
    let region = match &raw.value.region {
        Some(region) if !REGION.is_match(&region.value) => {
            let message =
                format!("aws.accounts.{name}.region: `{}` is not an AWS region: write it like eu-west-1", region.value);
            return Err(invalid(path, region, message));
        }
        region => region.as_ref().map(|r| r.value.clone()),
    };
    Ok(AccountSettings { name: name.to_owned(), role_arn: arn.value.clone(), account_id, region })
}

/// The account id of a role ARN, or what is wrong with it (`key` names the setting).
fn role_account(arn: &Spanned<String>, key: &str) -> Result<String, String> {
    match ROLE_ARN.captures(&arn.value) {
        Some(parts) => Ok(parts[1].to_owned()),
        None => {
            Err(format!("{key}: `{}` is not a role ARN: use arn:aws:iam::<12-digit account>:role/<name>", arn.value))
        }
    }
}

/// The `assume_role` setting, checked.
fn assume_role(path: &Path, raw: &AssumeRoleFile) -> Result<AssumeRoleSettings, SettingsError> {
    let arn = &raw.role_arn;
    role_account(arn, "aws.assume_role.role_arn").map_err(|m| invalid(path, arn, m))?;
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
    Ok(AssumeRoleSettings { role_arn: arn.value.clone(), duration })
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

    const ACCOUNTS: &str = "aws:
  accounts:
    prod: { role_arn: \"arn:aws:iam::111111111111:role/opsbot\", region: eu-west-1 }
    staging:
      role_arn: arn:aws:iam::222222222222:role/opsbot
  default_account: staging
";

    #[test]
    fn accounts_are_read_with_their_ids_regions_and_the_default() {
        let accounts = load(ACCOUNTS).unwrap().accounts;
        let prod = accounts.named("prod").unwrap();
        assert_eq!((prod.account_id.as_str(), prod.region.as_deref()), ("111111111111", Some("eu-west-1")));
        assert_eq!(accounts.named("staging").unwrap().region, None, "the bot's own region");
        assert_eq!(accounts.default.as_deref(), Some("staging"));
        assert_eq!(accounts.name_of("222222222222"), Some("staging"));
        assert_eq!(load("store:\n  path: x.db\n").unwrap().accounts, AccountsSettings::default(), "none: as before");
    }

    #[test]
    fn every_problem_of_the_accounts_is_reported_with_its_place() {
        let yaml = "aws:
  accounts:
    prod: { role_arn: arn:aws:iam::1111:role/opsbot }
    Staging: { role_arn: \"arn:aws:iam::222222222222:role/opsbot\" }
    eu: { role_arn: \"arn:aws:iam::333333333333:role/opsbot\", region: europe }
  default_account: prdo
";
        let err = load(yaml).unwrap_err().to_string();
        assert!(err.contains("opsbot.yaml:3:") && err.contains("aws.accounts.prod.role_arn"), "{err}");
        assert!(err.contains("`Staging` cannot name an account"), "{err}");
        assert!(err.contains("opsbot.yaml:5:") && err.contains("`europe` is not an AWS region"), "{err}");
        assert!(err.contains("opsbot.yaml:6:") && err.contains("did you mean `prod`?"), "{err}");
    }

    #[test]
    fn two_names_for_one_account_id_are_refused() {
        let yaml = "aws:
  accounts:
    prod: { role_arn: \"arn:aws:iam::111111111111:role/opsbot\" }
    live: { role_arn: \"arn:aws:iam::111111111111:role/other\" }
";
        let err = load(yaml).unwrap_err().to_string();
        assert!(err.contains("account 111111111111 is already named `live`"), "{err}");
    }

    #[test]
    fn unknown_keys_under_aws_are_refused() {
        let yaml = "aws:\n  assume_role:\n    role_arn: arn:aws:iam::123456789012:role/x\n    session: y\n";
        let err = load(yaml).unwrap_err().to_string();
        assert!(err.contains("opsbot.yaml:4:") && err.contains("session"), "{err}");
    }
}
