//! Notifications we do not recognise, or recognise but cannot read: kept, as a
//! name routes can match and a compact one-line summary for the default
//! channel. Never dropped, never an error.

use serde_json::Value;

use super::wire::{self, NAME_MAX_CHARS, SUMMARY_MAX_CHARS};

/// Anything else: a name (the EventBridge source, the SNS subject, or the
/// first line) and a one-line summary of at most [`SUMMARY_MAX_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Other {
    pub name: String,
    pub summary: String,
    /// For an EventBridge event: its `detail-type`.
    pub detail_type: Option<String>,
}

impl Other {
    /// Text that is not JSON (or an SNS `Message` that is not a JSON object).
    pub fn from_text(text: &str, subject: Option<&str>) -> Other {
        let summary = wire::one_line(text, SUMMARY_MAX_CHARS);
        Other { name: name_or(subject, || wire::first_line(text)), summary, detail_type: None }
    }

    /// JSON of a shape we do not know.
    pub fn from_json(value: &Value, subject: Option<&str>) -> Other {
        let compact = value.to_string();
        Other::from_text(&compact, subject)
    }

    /// An EventBridge event of a kind we do not know, or could not read (`why`).
    pub fn from_event(source: &str, detail_type: &str, resources: &[String], why: Option<&str>) -> Other {
        let mut summary = format!("{detail_type} from {source}");
        if !resources.is_empty() {
            summary.push_str(&format!(" ({})", resources.join(", ")));
        }
        if let Some(why) = why {
            summary.push_str(&format!(": could not read it: {why}"));
        }
        Other {
            name: wire::one_line(source, NAME_MAX_CHARS),
            summary: wire::one_line(&summary, SUMMARY_MAX_CHARS),
            detail_type: Some(detail_type.to_owned()),
        }
    }
}

fn name_or(subject: Option<&str>, fallback: impl FnOnce() -> String) -> String {
    match subject.map(str::trim).filter(|subject| !subject.is_empty()) {
        Some(subject) => wire::one_line(subject, NAME_MAX_CHARS),
        None => fallback(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_named_by_its_first_line_and_summarised_on_one_line() {
        let other = Other::from_text("\n  Disk almost full\non db-1\n", None);
        assert_eq!(other.name, "Disk almost full");
        assert_eq!(other.summary, "Disk almost full on db-1");
    }

    #[test]
    fn an_sns_subject_names_the_notification() {
        let other = Other::from_text("body", Some("Nightly backup"));
        assert_eq!(other.name, "Nightly backup");
    }

    #[test]
    fn an_unknown_event_says_what_and_from_where_and_why_it_was_not_read() {
        let resources = vec!["arn:aws:ecs:us-west-2:1:task/c/t".to_owned()];
        let other = Other::from_event("aws.ecs", "ECS Task State Change", &resources, Some("missing field `x`"));
        assert_eq!(other.name, "aws.ecs");
        assert_eq!(
            other.summary,
            "ECS Task State Change from aws.ecs (arn:aws:ecs:us-west-2:1:task/c/t): could not read it: missing field `x`"
        );
        assert_eq!(other.detail_type.as_deref(), Some("ECS Task State Change"));
    }

    #[test]
    fn a_huge_json_body_is_truncated_to_the_summary_limit() {
        let value = serde_json::json!({ "blob": "x".repeat(10_000) });
        let other = Other::from_json(&value, None);
        assert_eq!(other.summary.chars().count(), SUMMARY_MAX_CHARS);
        assert!(other.summary.ends_with('…'));
        assert!(other.name.chars().count() <= NAME_MAX_CHARS);
    }
}
