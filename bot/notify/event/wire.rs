//! Reading the loose parts of AWS's notification formats: timestamps written
//! four different ways, numbers that are sometimes strings, ARNs, region
//! display names, and the one-line summaries and content keys of
//! notifications we do not recognise.
//!
//! Every reader here is total: a value it cannot read becomes `None`, never a
//! panic, because one odd field must not lose a whole notification.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The longest one-line summary kept for a notification we do not recognise.
pub const SUMMARY_MAX_CHARS: usize = 300;
/// The longest name (what routes match) taken from free text.
pub const NAME_MAX_CHARS: usize = 80;

/// Reads a typed detail; the error says which field was wrong, for the summary
/// of the [`super::Other`] the notification becomes instead.
pub fn read<T: DeserializeOwned>(value: Value) -> Result<T, String> {
    serde_json::from_value(value).map_err(|error| error.to_string())
}

/// Reads the timestamp formats AWS notifications use:
/// RFC 3339 (`2019-10-02T17:04:40Z`, EventBridge `time`), CloudWatch's
/// `2019-10-01T13:56:40.987+0000`, CodePipeline approval's minute precision
/// `2016-07-07T20:22Z`, and SSM Automation's `Nov 29, 2016 7:43:25 PM` (UTC).
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    if let Ok(at) = DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(at.with_timezone(&Utc));
    }
    ["%Y-%m-%dT%H:%MZ", "%b %d, %Y %I:%M:%S %p"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|naive| naive.and_utc())
}

/// Serde adapter: an optional timestamp in any format [`parse_time`] reads;
/// an unreadable one is `None` rather than an error.
pub fn opt_time<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.as_deref().and_then(parse_time))
}

/// Serde adapter: a whole number written as `1`, `1.0` or `"1"` (CodePipeline
/// writes the pipeline version all three ways across its documented events).
pub fn opt_count<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        Some(Value::Number(n)) => {
            n.as_u64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0).map(|f| f as u64))
        }
        Some(Value::String(s)) => {
            s.trim().parse::<f64>().ok().filter(|f| f.fract() == 0.0 && *f >= 0.0).map(|f| f as u64)
        }
        _ => None,
    })
}

/// Serde adapter: text written as a string or a number (`"1"` or `1.0`).
pub fn opt_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// The parts of an ARN (`arn:partition:service:region:account:resource`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    pub fn parse(text: &'a str) -> Option<Arn<'a>> {
        let mut parts = text.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        let (_partition, _service) = (parts.next()?, parts.next()?);
        let (region, account, resource) = (parts.next()?, parts.next()?, parts.next()?);
        Some(Arn { region, account, resource })
    }
}

/// A region code from what CloudWatch's SNS alarm message puts in `Region`:
/// a code already (ministack), or the console display name
/// ("US East (N. Virginia)"; older messages "US - N. Virginia").
/// Names are AWS's, from "Regions and Availability Zones"; an unknown name is `None`.
pub fn region_code(region: &str) -> Option<String> {
    let region = region.trim();
    let looks_like_code = region.split('-').count() >= 3
        && region.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if looks_like_code {
        return Some(region.to_owned());
    }
    REGION_NAMES.iter().find(|(name, _)| name.eq_ignore_ascii_case(region)).map(|(_, code)| (*code).to_owned())
}

const REGION_NAMES: &[(&str, &str)] = &[
    ("US East (N. Virginia)", "us-east-1"),
    ("US - N. Virginia", "us-east-1"),
    ("US East (Ohio)", "us-east-2"),
    ("US West (N. California)", "us-west-1"),
    ("US West (Oregon)", "us-west-2"),
    ("US - Oregon", "us-west-2"),
    ("Africa (Cape Town)", "af-south-1"),
    ("Asia Pacific (Hong Kong)", "ap-east-1"),
    ("Asia Pacific (Mumbai)", "ap-south-1"),
    ("Asia Pacific (Osaka)", "ap-northeast-3"),
    ("Asia Pacific (Seoul)", "ap-northeast-2"),
    ("Asia Pacific (Singapore)", "ap-southeast-1"),
    ("Asia Pacific (Sydney)", "ap-southeast-2"),
    ("Asia Pacific (Tokyo)", "ap-northeast-1"),
    ("Canada (Central)", "ca-central-1"),
    ("EU (Frankfurt)", "eu-central-1"),
    ("Europe (Frankfurt)", "eu-central-1"),
    ("EU (Ireland)", "eu-west-1"),
    ("Europe (Ireland)", "eu-west-1"),
    ("EU - Ireland", "eu-west-1"),
    ("EU (London)", "eu-west-2"),
    ("Europe (London)", "eu-west-2"),
    ("EU (Paris)", "eu-west-3"),
    ("Europe (Paris)", "eu-west-3"),
    ("EU (Milan)", "eu-south-1"),
    ("Europe (Milan)", "eu-south-1"),
    ("EU (Stockholm)", "eu-north-1"),
    ("Europe (Stockholm)", "eu-north-1"),
    ("Middle East (Bahrain)", "me-south-1"),
    ("South America (Sao Paulo)", "sa-east-1"),
    ("South America (São Paulo)", "sa-east-1"),
];

/// Whitespace runs (newlines included) become one space; text longer than
/// `max` characters is cut on a character boundary and ends with "…".
pub fn one_line(text: &str, max: usize) -> String {
    let compact = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if compact.chars().count() <= max {
        return compact;
    }
    let mut cut: String = compact.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The first non-blank line of `text`, as a name routes can match.
pub fn first_line(text: &str) -> String {
    one_line(text.lines().find(|line| !line.trim().is_empty()).unwrap_or(""), NAME_MAX_CHARS)
}

/// The dedup key of a body with no id of its own: `sha256:<hex>`.
pub fn content_key(body: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_timestamp_format_reads_as_utc() {
        let expect = |text: &str, rfc: &str| assert_eq!(parse_time(text).map(|t| t.to_rfc3339()), Some(rfc.into()));
        expect("2019-10-02T17:04:40Z", "2019-10-02T17:04:40+00:00");
        expect("2019-10-01T13:56:40.987+0000", "2019-10-01T13:56:40.987+00:00");
        expect("2016-07-07T20:22Z", "2016-07-07T20:22:00+00:00");
        expect("Nov 29, 2016 7:43:25 PM", "2016-11-29T19:43:25+00:00");
        assert_eq!(parse_time("next tuesday"), None);
    }

    #[test]
    fn region_display_names_become_codes_and_unknown_names_do_not_guess() {
        assert_eq!(region_code("US East (N. Virginia)").as_deref(), Some("us-east-1"));
        assert_eq!(region_code("EU - Ireland").as_deref(), Some("eu-west-1"));
        assert_eq!(region_code("us-east-1").as_deref(), Some("us-east-1"));
        assert_eq!(region_code("EXAMPLE"), None);
        assert_eq!(region_code("Moon (Tranquility Base)"), None);
    }

    #[test]
    fn arns_split_into_region_account_and_resource() {
        let arn = Arn::parse("arn:aws:ecs:us-west-2:111122223333:service/default/servicetest").expect("an ARN");
        assert_eq!(
            (arn.region, arn.account, arn.resource),
            ("us-west-2", "111122223333", "service/default/servicetest")
        );
        assert_eq!(Arn::parse("not-an-arn"), None);
    }

    #[test]
    fn long_text_is_cut_to_one_line_with_an_ellipsis() {
        let text = format!("first line\n\n{}", "é".repeat(400));
        let line = one_line(&text, SUMMARY_MAX_CHARS);
        assert_eq!(line.chars().count(), SUMMARY_MAX_CHARS);
        assert!(line.starts_with("first line é") && line.ends_with('…') && !line.contains('\n'));
        assert_eq!(one_line("  short\ttext ", 10), "short text");
    }
}
