//! The policy's version: [`PolicyVersion::of`] the policy's source, where
//! the source of an inline `policies:` section is its value re-written as
//! JSON (keys sorted), so comments, blank lines and the rest of the config
//! file do not change it, and a file that `policies: { file: … }` names is
//! taken as its text. Every replica reading the same policy shows the same
//! version.

use chrono::Utc;
use serde::Deserialize;

pub use opsbot_commands::PolicyVersion;

/// Only the `policies` value of the config file.
#[derive(Deserialize)]
struct PoliciesOnly {
    #[serde(default)]
    policies: Option<serde_json::Value>,
}

/// The version of the policy in `config_text`, with `included` the texts of
/// the files it named, loaded now; the built-in one without `policies:`.
pub(super) fn version(config_text: &str, included: &[String]) -> PolicyVersion {
    let inline = serde_saphyr::from_str::<Option<PoliciesOnly>>(config_text).ok().flatten().and_then(|c| c.policies);
    let Some(inline) = inline.filter(|v| !v.is_null()) else { return PolicyVersion::builtin(Utc::now()) };
    let inline = sorted(inline).to_string();
    let mut sources = vec![inline.as_str()];
    sources.extend(included.iter().map(String::as_str));
    PolicyVersion::of(&sources, Utc::now())
}

/// Everything in the config file `text` but `policies`, written out with
/// keys sorted: equal when no other setting changed (`None`: not YAML).
pub fn settings_besides_policy(text: &str) -> Option<String> {
    let value: Option<serde_json::Value> = serde_saphyr::from_str(text).ok()?;
    let mut value = value.unwrap_or(serde_json::Value::Null);
    if let Some(map) = value.as_object_mut() {
        map.remove("policies");
    }
    Some(sorted(value).to_string())
}

/// `value` with every object's keys in order, whatever serde_json's map keeps.
fn sorted(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_follows_the_policy_not_its_comments_or_the_other_settings() {
        let base = version("server: { listen: 127.0.0.1:1 }\npolicies:\n  rules: []\n  roles: {}\n", &[]);
        let same = version(
            "# a comment\npolicies:\n  roles: {}   # none yet\n  rules: []\nserver: { listen: 0.0.0.0:2 }\n",
            &[],
        );
        assert_eq!(base.id, same.id);
        let other = version("policies:\n  rules: []\n  roles: { devs: { everyone: true } }\n", &[]);
        assert_ne!(base.id, other.id);
        let file_a = version("policies: { file: p.yaml }\n", &["rules: []\n".into()]);
        let file_b = version("policies: { file: p.yaml }\n", &["rules: [] # edited\n".into()]);
        assert_ne!(file_a.id, file_b.id, "a named file counts as written");
        assert_eq!(version("server: {}\n", &[]).id, "builtin");
    }

    #[test]
    fn the_rest_of_the_settings_compare_without_the_policy_and_the_comments() {
        let rest = settings_besides_policy("server: { listen: 127.0.0.1:1 }\npolicies: { rules: [] }\n");
        let edited = settings_besides_policy("# note\nserver: { listen: 127.0.0.1:1 }\npolicies: { roles: {} }\n");
        assert_eq!(rest, edited);
        assert_ne!(rest, settings_besides_policy("server: { listen: 127.0.0.1:2 }\n"));
    }
}
