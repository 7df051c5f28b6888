//! Load errors: every problem in a policy is reported as `file:line:column:
//! what is wrong — what to write instead`, so a bad policy stops start-up (and
//! `opsbot policy lint`) pointing at the exact place, never at the first request.
//!
//! YAML and shape errors come from serde-saphyr with its location; meaning
//! errors (unknown role, bad regex, ...) use the `Spanned` location of the value.

use serde_saphyr::Location;

/// A policy that cannot be loaded, with where and what to do about it.
/// Displays as `file:line:column: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct PolicyError {
    pub file: String,
    pub line: u64,
    pub column: u64,
    pub message: String,
}

impl PolicyError {
    pub(crate) fn at(file: &str, location: Location, message: impl Into<String>) -> Self {
        PolicyError { file: file.to_owned(), line: location.line(), column: location.column(), message: message.into() }
    }

    /// Turns a serde-saphyr error into ours, rephrasing the common ones (an
    /// unknown key gets "did you mean"). Public so the rest of the config
    /// file's errors read the same way.
    pub fn from_yaml(file: &str, err: &serde_saphyr::Error) -> Self {
        let (line, column) = err.location().map_or((1, 1), |l| (l.line().max(1), l.column().max(1)));
        PolicyError { file: file.to_owned(), line, column, message: yaml_message(err.without_snippet(), line, column) }
    }
}

fn yaml_message(err: &serde_saphyr::Error, line: u64, column: u64) -> String {
    match err {
        serde_saphyr::Error::SerdeUnknownField { field, expected, .. } => {
            unknown(&format!("unknown key `{field}`"), field, expected, "keys allowed here")
        }
        serde_saphyr::Error::DuplicateMappingKey { key: Some(key), .. } => {
            format!("`{key}` is written twice here — keep one and merge what the two say")
        }
        serde_saphyr::Error::SerdeMissingField { field, .. } => format!("missing key `{field}`"),
        other => {
            let text = other.to_string();
            let text = text.strip_suffix(&format!(" at line {line}, column {column}")).unwrap_or(&text).to_owned();
            match text.as_str() {
                "expected sequence start" => "expected a list here, like `[deploy, restart]`".into(),
                "expected mapping start" => "expected a mapping here, like `{ key: value }`".into(),
                _ => text,
            }
        }
    }
}

/// `"{what} — did you mean `x`? {Label}: a, b"` when a candidate is close to
/// `typed`, else `"{what} — {label}: a, b"`.
pub(crate) fn unknown(what: &str, typed: &str, candidates: &[&str], label: &str) -> String {
    let list = candidates.join(", ");
    match closest(typed, candidates) {
        Some(best) => {
            let mut chars = label.chars();
            let label: String = chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default();
            format!("{what} — did you mean `{best}`? {label}: {list}")
        }
        None => format!("{what} — {label}: {list}"),
    }
}

fn closest<'a>(typed: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let typed = typed.to_lowercase();
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(&typed, c), *c))
        .filter(|(score, c)| *score >= 0.8 || strsim::damerau_levenshtein(&typed, c) <= 2)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
