//! Where a command acts: which configured AWS account (`aws.accounts`) and
//! which region — [`Target`] — and the one normalisation of a typed line
//! that names them ([`AccountNames::resolve`]).
//!
//! # Decisions
//! - A line names its account with `--account NAME` or with a `NAME:` prefix
//!   on the command's first argument (`service prod:web/api`), and its region
//!   with `--region R`. The resolved line always carries the flags, written
//!   once after the arguments (before a trailing `--force`): the line is what
//!   is hashed, approved, audited and shown, so an approval given for `prod`
//!   can never run in `staging`.
//! - With `default_account` set, a line naming none is resolved to it — the
//!   stored line names it too, so changing the default later cannot move an
//!   approved change to another account. Likewise a line naming no region in
//!   an account whose configuration names one is resolved to that region: the
//!   line (policy `region`, approval, audit) says where it acts.
//! - A prefix is an account only when its name is configured: `web:42` (an
//!   image tag) stays what it was. An unknown `--account` is refused with the
//!   known names and the close ones.
//! - Without `aws.accounts` nothing changes: no flag, no account, the bot's
//!   own identity.
//! - The two flags are taken wherever they stand, as the words they are
//!   (quotes are gone once a line is tokenized): a `param set` value that is
//!   exactly `--account` or `--region` cannot be written from chat.

use crate::error::UsageError;
use crate::spec::{quoted, suggest};

/// The flag naming the account a command acts in.
pub const ACCOUNT: &str = "--account";
/// The flag naming the region a command acts in.
pub const REGION: &str = "--region";

/// Which account and region a command acts in; both `None`: the bot's own
/// account in its own region (its "home").
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Target {
    /// A name configured under `aws.accounts`.
    pub account: Option<String>,
    /// An AWS region, e.g. `eu-west-1`; `None`: the account's own.
    pub region: Option<String>,
}

impl Target {
    /// The bot's own account in its own region.
    pub fn is_home(&self) -> bool {
        self.account.is_none() && self.region.is_none()
    }

    /// Takes `--account NAME` and `--region R` out of `words`, wherever they
    /// are; each may be given once and needs its value.
    pub fn take(words: &mut Vec<String>) -> Result<Target, UsageError> {
        let mut target = Target::default();
        let mut i = 0;
        while i < words.len() {
            let slot = match words[i].as_str() {
                ACCOUNT => &mut target.account,
                REGION => &mut target.region,
                _ => {
                    i += 1;
                    continue;
                }
            };
            let flag = words.remove(i);
            if i >= words.len() {
                return Err(UsageError::new(format!("`{flag}` needs a value, e.g. `{flag} {}`", example(&flag))));
            }
            if slot.is_some() {
                return Err(UsageError::new(format!("`{flag}` is given twice: name it once")));
            }
            *slot = Some(words.remove(i));
        }
        if let Some(region) = &target.region
            && !is_region(region)
        {
            return Err(UsageError::new(format!("`{region}` is not an AWS region: write it like `eu-west-1`")));
        }
        Ok(target)
    }

    /// The target of a resolved (stored) line.
    pub fn of_line(line: &str) -> Target {
        let mut words = crate::spec::tokenize(line).unwrap_or_default();
        Target::take(&mut words).unwrap_or_default()
    }

    /// How people see it: `prod`, `prod eu-west-1`, `eu-west-1`; `None` at home.
    pub fn label(&self) -> Option<String> {
        match (&self.account, &self.region) {
            (None, None) => None,
            (Some(a), None) => Some(a.clone()),
            (None, Some(r)) => Some(r.clone()),
            (Some(a), Some(r)) => Some(format!("{a} {r}")),
        }
    }

    /// The flags as words (a resolved line has them after its arguments).
    pub fn words(&self) -> Vec<String> {
        let account = self.account.iter().flat_map(|a| [ACCOUNT.to_owned(), a.clone()]);
        let region = self.region.iter().flat_map(|r| [REGION.to_owned(), r.clone()]);
        account.chain(region).collect()
    }
}

fn example(flag: &str) -> &'static str {
    if flag == ACCOUNT { "prod" } else { "eu-west-1" }
}

/// `xx-name-N` (also `us-gov-west-1`, `ap-southeast-2`).
fn is_region(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
        && parts.last().is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
}

/// The account names configured (`aws.accounts`) and the one used when a
/// line names none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountNames {
    names: Vec<String>,
    default: Option<String>,
    /// The region each account acts in unless a line names one, by account name.
    regions: Vec<(String, String)>,
}

impl AccountNames {
    /// `default`, when given, is one of `names` (settings check it).
    pub fn new(names: Vec<String>, default: Option<String>) -> Self {
        AccountNames { names, default, regions: Vec::new() }
    }

    /// With the region each account of `regions` (name, region) acts in when
    /// a line names none.
    pub fn with_regions(self, regions: Vec<(String, String)>) -> Self {
        AccountNames { regions, ..self }
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// `target` (as typed) resolved for `words`, the line's other words
    /// (its command name takes the first `name_words`): the account prefix
    /// is taken off the first argument, the account checked, else defaulted,
    /// and the region, when none is named, is the account's own (if set).
    pub fn resolve(&self, mut target: Target, words: &mut [String], name_words: usize) -> Result<Target, UsageError> {
        if let Some((account, rest)) = words.get(name_words).and_then(|w| w.split_once(':'))
            && self.names.iter().any(|n| n == account)
            && !rest.is_empty()
        {
            if target.account.as_deref().is_some_and(|named| named != account) {
                let message = format!(
                    "`{}` names account `{account}` but `{ACCOUNT}` names `{}`: name one",
                    words[name_words],
                    target.account.as_deref().unwrap_or_default()
                );
                return Err(UsageError::new(message));
            }
            let (account, rest) = (account.to_owned(), rest.to_owned());
            target.account = Some(account);
            words[name_words] = rest;
        }
        if let Some(account) = &target.account {
            self.check(account)?;
        }
        if target.account.is_none() {
            target.account = self.default.clone();
        }
        if target.region.is_none()
            && let Some(account) = &target.account
        {
            target.region = self.regions.iter().find(|(name, _)| name == account).map(|(_, r)| r.clone());
        }
        Ok(target)
    }

    fn check(&self, account: &str) -> Result<(), UsageError> {
        if self.names.iter().any(|n| n == account) {
            return Ok(());
        }
        let message = if self.names.is_empty() {
            format!(
                "no AWS accounts are configured, so `{ACCOUNT} {account}` cannot be used: add it under `aws.accounts`"
            )
        } else {
            let known = self.names.iter().map(|n| format!("`{}`", quoted(n))).collect::<Vec<_>>().join(", ");
            format!("I don't know the account `{account}`; the accounts are {known}")
        };
        let mut err = UsageError::new(message);
        err.suggestions = suggest(account, self.names.iter().map(String::as_str))
            .into_iter()
            .map(|n| format!("{ACCOUNT} {n}"))
            .collect();
        Err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::tokenize;

    fn accounts(default: Option<&str>) -> AccountNames {
        AccountNames::new(vec!["prod".into(), "staging".into()], default.map(Into::into))
    }

    fn resolve(names: &AccountNames, line: &str, name_words: usize) -> Result<String, UsageError> {
        let mut words = tokenize(line).unwrap();
        let target = Target::take(&mut words)?;
        let target = names.resolve(target, &mut words, name_words)?;
        words.extend(target.words());
        Ok(words.join(" "))
    }

    #[test]
    fn an_account_prefix_on_the_first_argument_becomes_the_account_flag() {
        let names = accounts(None);
        assert_eq!(resolve(&names, "service prod:web/api", 1).unwrap(), "service web/api --account prod");
        assert_eq!(
            resolve(&names, "deploy staging:web/api web:42", 1).unwrap(),
            "deploy web/api web:42 --account staging",
            "the image's tag is not an account"
        );
    }

    #[test]
    fn flags_typed_anywhere_are_written_in_one_place() {
        let names = accounts(None);
        assert_eq!(
            resolve(&names, "param get --region eu-west-1 /app/x --account prod", 2).unwrap(),
            "param get /app/x --account prod --region eu-west-1"
        );
    }

    #[test]
    fn an_unknown_account_is_refused_with_the_known_ones_and_the_close_one() {
        let err = resolve(&accounts(None), "service web/api --account prdo", 1).unwrap_err();
        assert!(err.message.contains("I don't know the account `prdo`"), "{}", err.message);
        assert!(err.message.contains("`prod`, `staging`"), "{}", err.message);
        assert_eq!(err.suggestions, vec!["--account prod".to_owned()]);
        let none = resolve(&AccountNames::default(), "service web/api --account prod", 1).unwrap_err();
        assert!(none.message.contains("add it under `aws.accounts`"), "{}", none.message);
    }

    #[test]
    fn a_line_naming_no_account_is_resolved_to_the_default_one_if_any() {
        assert_eq!(
            resolve(&accounts(Some("staging")), "service web/api", 1).unwrap(),
            "service web/api --account staging"
        );
        assert_eq!(resolve(&accounts(None), "service web/api", 1).unwrap(), "service web/api", "the bot's own account");
        assert_eq!(resolve(&AccountNames::default(), "service web/api", 1).unwrap(), "service web/api");
    }

    #[test]
    fn a_line_in_an_account_with_its_own_region_names_that_region_unless_it_names_one() {
        let names = accounts(Some("staging")).with_regions(vec![("prod".into(), "eu-west-1".into())]);
        assert_eq!(
            resolve(&names, "service prod:web/api", 1).unwrap(),
            "service web/api --account prod --region eu-west-1"
        );
        assert_eq!(
            resolve(&names, "service prod:web/api --region us-east-2", 1).unwrap(),
            "service web/api --account prod --region us-east-2",
            "the region named wins"
        );
        assert_eq!(
            resolve(&names, "service web/api", 1).unwrap(),
            "service web/api --account staging",
            "staging's: the bot's"
        );
    }

    #[test]
    fn a_prefix_and_a_flag_naming_different_accounts_are_refused() {
        let err = resolve(&accounts(None), "service prod:web/api --account staging", 1).unwrap_err();
        assert!(err.message.contains("name one"), "{}", err.message);
    }

    #[test]
    fn a_flag_without_its_value_a_repeated_flag_and_a_malformed_region_are_usage_errors() {
        for (line, says) in [
            ("service web/api --account", "needs a value"),
            ("service web/api --region eu-west-1 --region us-east-1", "given twice"),
            ("service web/api --region europe", "not an AWS region"),
        ] {
            let err = resolve(&accounts(None), line, 1).unwrap_err();
            assert!(err.message.contains(says), "{line}: {}", err.message);
        }
    }

    #[test]
    fn a_stored_line_gives_back_its_target() {
        let target = Target::of_line("deploy web/api web:42 --account prod --region eu-west-1 --force");
        assert_eq!(target, Target { account: Some("prod".into()), region: Some("eu-west-1".into()) });
        assert_eq!(target.label().as_deref(), Some("prod eu-west-1"));
        assert!(Target::of_line("deploy web/api web:42").is_home());
    }
}
