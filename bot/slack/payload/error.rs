//! [`PayloadError`]: a Slack payload we cannot read, and [`str_field`], the one
//! way a missing text field becomes one. Shared by the module root (commands,
//! events) and `actions` (interactions), so it imports neither.

use serde_json::Value;

#[derive(Debug, thiserror::Error)]
#[error("malformed Slack payload: {0}")]
pub struct PayloadError(pub String);

/// The text field `name` of `value`; missing or not text is a [`PayloadError`].
pub(super) fn str_field<'a>(value: &'a Value, name: &str) -> Result<&'a str, PayloadError> {
    value.get(name).and_then(Value::as_str).ok_or_else(|| PayloadError(format!("missing `{name}`")))
}
