//! The typed arguments of the SSM commands (`automation run`, `automation
//! status`, `run`, the `on_param_change` hooks): document names, execution
//! ids, Run Command targets and document parameters. Values, so the ports
//! that take them and the commands that parse them both build on this.
//!
//! # Decisions
//! - Document parameters are `Key=Value` words; a key given twice becomes a
//!   list (`commands=a commands=b`), which is how SSM takes `StringList`s.
//!   They are shown in plans and audited as typed: secrets belong in
//!   `{{ssm:/path}}` references, which SSM resolves on the instance.

use std::fmt;

use crate::error::UsageError;
use crate::mrkdwn::esc;
use crate::text::truncate;

/// An SSM document name (`AWS-RunShellScript`, `Shop-FlushCache`) or ARN.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocumentName(String);

impl DocumentName {
    pub fn parse(raw: &str) -> Result<Self, UsageError> {
        let ok =
            (3..=256).contains(&raw.len()) && raw.chars().all(|c| c.is_ascii_alphanumeric() || "_-.:/".contains(c));
        ok.then(|| Self(raw.to_owned())).ok_or_else(|| {
            UsageError::invalid("document name", raw, "a name like `AWS-RunShellScript` (letters, digits, _ - . : /)")
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DocumentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An Automation execution id (36 characters, a UUID). Read back from
/// stored progress through [`ExecutionId::parse`], like any other.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ExecutionId(String);

impl TryFrom<String> for ExecutionId {
    type Error = UsageError;

    fn try_from(raw: String) -> Result<Self, UsageError> {
        Self::parse(&raw)
    }
}

impl From<ExecutionId> for String {
    fn from(id: ExecutionId) -> String {
        id.0
    }
}

impl ExecutionId {
    pub fn parse(raw: &str) -> Result<Self, UsageError> {
        let ok = raw.len() == 36 && raw.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
        ok.then(|| Self(raw.to_ascii_lowercase()))
            .ok_or_else(|| UsageError::invalid("execution id", raw, "the 36-character id `automation run` showed"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ExecutionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where Run Command sends a document: instances with a tag, or instance ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Targets {
    /// `tag:KEY=VALUE[,VALUE...]`
    Tag { key: String, values: Vec<String> },
    /// `i-0abc...[,i-0def...]` (managed on-premises nodes: `mi-...`)
    Instances(Vec<String>),
}

/// SendCommand takes at most 50 instance ids.
const MAX_INSTANCES: usize = 50;

impl Targets {
    pub fn parse(raw: &str) -> Result<Self, UsageError> {
        let hint = "`tag:KEY=VALUE` (e.g. `tag:Environment=staging`) or instance ids `i-0abc123def4567890[,i-...]`";
        let bad = || UsageError::invalid("target", raw, hint);
        if let Some(tag) = raw.strip_prefix("tag:") {
            let (key, values) = tag.split_once('=').ok_or_else(bad)?;
            let values: Vec<String> = values.split(',').map(str::to_owned).collect();
            let fine = |s: &str| !s.is_empty() && s.len() <= 256 && !s.chars().any(char::is_control);
            return (fine(key) && key.len() <= 128 && values.iter().all(|v| fine(v)))
                .then(|| Targets::Tag { key: key.to_owned(), values })
                .ok_or_else(bad);
        }
        let ids: Vec<String> = raw.split(',').map(str::to_owned).collect();
        (ids.len() <= MAX_INSTANCES && ids.iter().all(|id| instance_id(id)))
            .then_some(Targets::Instances(ids))
            .ok_or_else(bad)
    }
}

fn instance_id(raw: &str) -> bool {
    let hex = |s: &str, lens: &[usize]| lens.contains(&s.len()) && s.chars().all(|c| c.is_ascii_hexdigit());
    raw.strip_prefix("i-").is_some_and(|h| hex(h, &[8, 17])) || raw.strip_prefix("mi-").is_some_and(|h| hex(h, &[17]))
}

impl fmt::Display for Targets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Targets::Tag { key, values } => write!(f, "tag:{key}={}", values.join(",")),
            Targets::Instances(ids) => f.write_str(&ids.join(",")),
        }
    }
}

/// A document's parameters as typed, `Key=Value` words in order; a repeated
/// key collects a list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocParams(pub Vec<(String, Vec<String>)>);

impl DocParams {
    pub fn parse(words: &[String]) -> Result<Self, UsageError> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for word in words {
            let (key, value) = word.split_once('=').filter(|(k, _)| param_key(k)).ok_or_else(|| {
                UsageError::invalid("document parameter", word, "`Key=Value`, e.g. `InstanceId=i-0abc123def4567890`")
            })?;
            match out.iter_mut().find(|(k, _)| k == key) {
                Some((_, values)) => values.push(value.to_owned()),
                None => out.push((key.to_owned(), vec![value.to_owned()])),
            }
        }
        Ok(DocParams(out))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// One mrkdwn line per parameter: `` `Key` = `value` ``, lists joined by `, `.
    pub fn lines(&self) -> Vec<String> {
        let code = |v: &str| format!("`{}`", esc(&truncate(v, 200)).replace('`', "ˋ"));
        self.0
            .iter()
            .map(|(k, vs)| format!("{} = {}", code(k), vs.iter().map(|v| code(v)).collect::<Vec<_>>().join(", ")))
            .collect()
    }
}

fn param_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 64 && key.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(raw: &[&str]) -> Vec<String> {
        raw.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn targets_are_a_tag_or_instance_ids_and_print_back_as_typed() {
        for raw in ["tag:Environment=staging", "tag:Role=web,worker", "i-0abc123def4567890,i-12345678"] {
            assert_eq!(Targets::parse(raw).unwrap().to_string(), raw);
        }
        assert_eq!(
            Targets::parse("tag:Env=prod").unwrap(),
            Targets::Tag { key: "Env".into(), values: vec!["prod".into()] }
        );
        for bad in ["staging", "tag:Env", "tag:=x", "tag:Env=", "i-xyz", "i-0abc,web"] {
            assert!(Targets::parse(bad).unwrap_err().to_string().contains("tag:KEY=VALUE"), "{bad}");
        }
    }

    #[test]
    fn parameters_keep_their_order_and_repeated_keys_make_lists() {
        let params = DocParams::parse(&words(&["commands=uptime", "workingDirectory=/srv", "commands=df -h"])).unwrap();
        assert_eq!(
            params.0,
            [
                ("commands".to_string(), vec!["uptime".to_string(), "df -h".to_string()]),
                ("workingDirectory".to_string(), vec!["/srv".to_string()])
            ]
        );
        assert_eq!(params.lines()[0], "`commands` = `uptime`, `df -h`");
        assert!(DocParams::parse(&words(&["no-equals"])).is_err());
        assert!(DocParams::parse(&words(&["=x"])).is_err());
    }

    #[test]
    fn documents_and_execution_ids_are_checked() {
        assert!(DocumentName::parse("AWS-RestartEC2Instance").is_ok());
        assert!(DocumentName::parse("arn:aws:ssm:eu-west-1:123456789012:document/Shop-Flush").is_ok());
        assert!(DocumentName::parse("a b").is_err() && DocumentName::parse("ab").is_err());
        assert!(ExecutionId::parse("4105a4fc-f944-11e6-9d32-8fb2db27a909").is_ok());
        assert!(ExecutionId::parse("4105a4fc").is_err());
    }
}
