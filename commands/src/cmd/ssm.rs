//! What the SSM change commands (`param set`, `param rollback`, `automation
//! run`, `automation status`, `run`) share: their typed arguments, the
//! [`Memo`] through which `act` tells `check` what it started, and how command
//! output is cut to fit a message.
//!
//! # Decisions
//! - Document parameters are `Key=Value` words; a key given twice becomes a
//!   list (`commands=a commands=b`), which is how SSM takes `StringList`s.
//!   They are shown in plans and audited as typed: secrets belong in
//!   `{{ssm:/path}}` references, which SSM resolves on the instance.
//! - [`Memo`] is runtime state, not part of a command's identity: two commands
//!   are equal whatever they remember, and a re-parsed command remembers nothing.

use std::fmt;
use std::sync::OnceLock;

use crate::error::UsageError;

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

/// An Automation execution id (36 characters, a UUID).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExecutionId(String);

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
        let code = |v: &str| format!("`{}`", crate::reply::esc(&crate::reply::truncate(v, 200)).replace('`', "ˋ"));
        self.0
            .iter()
            .map(|(k, vs)| format!("{} = {}", code(k), vs.iter().map(|v| code(v)).collect::<Vec<_>>().join(", ")))
            .collect()
    }
}

fn param_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 64 && key.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

/// What `act` started, kept for `check` on the same command value.
pub struct Memo<T>(OnceLock<T>);

impl<T> Memo<T> {
    /// Remembers `value` unless something is already remembered.
    pub fn keep(&self, value: T) {
        let _ = self.0.set(value);
    }

    pub fn get(&self) -> Option<&T> {
        self.0.get()
    }
}

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Memo(OnceLock::new())
    }
}

impl<T: Clone> Clone for Memo<T> {
    fn clone(&self) -> Self {
        Memo(self.0.clone())
    }
}

impl<T> PartialEq for Memo<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<T> Eq for Memo<T> {}

impl<T: fmt::Debug> fmt::Debug for Memo<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.get().fmt(f)
    }
}

/// Lines kept from each end of a long output.
const KEEP_LINES: usize = 20;

/// Command output cut to fit a message: the first and last [`KEEP_LINES`]
/// lines, then at most `max` characters (head and tail halves), with a note
/// saying what was cut.
pub fn trim_output(raw: &str, max: usize) -> String {
    let lines: Vec<&str> = raw.trim_end().lines().collect();
    let mut text = if lines.len() > 2 * KEEP_LINES {
        let cut = lines.len() - 2 * KEEP_LINES;
        let (head, tail) = (&lines[..KEEP_LINES], &lines[lines.len() - KEEP_LINES..]);
        format!("{}\n… {cut} lines cut …\n{}", head.join("\n"), tail.join("\n"))
    } else {
        lines.join("\n")
    };
    let chars = text.chars().count();
    if chars > max {
        let half = max.saturating_sub(30) / 2;
        let head: String = text.chars().take(half).collect();
        let tail: String = text.chars().skip(chars - half).collect();
        text = format!("{head}\n… {} characters cut …\n{tail}", chars - 2 * half);
    }
    text
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

    #[test]
    fn long_output_keeps_its_first_and_last_lines_within_the_limit() {
        let raw: String = (1..=100).map(|n| format!("line {n}\n")).collect();
        let text = trim_output(&raw, 2000);
        assert!(text.starts_with("line 1\n") && text.ends_with("line 100"), "{text}");
        assert!(text.contains("… 60 lines cut …") && !text.contains("line 21\n"), "{text}");
        let wide = trim_output(&"x".repeat(5000), 2000);
        assert!(wide.chars().count() <= 2000 && wide.contains("characters cut"), "{}", wide.len());
        assert_eq!(trim_output("ok\n", 2000), "ok");
    }

    #[test]
    fn a_memo_is_not_part_of_a_commands_identity() {
        let (a, b) = (Memo::default(), Memo::<u8>::default());
        a.keep(1);
        a.keep(2);
        assert_eq!((a.get(), a == b), (Some(&1), true));
    }
}
