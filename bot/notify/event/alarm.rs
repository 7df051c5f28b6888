//! CloudWatch alarm state changes, from either source, as ONE type:
//! the "CloudWatch Alarm State Change" EventBridge event ("Alarm events and
//! EventBridge", CloudWatch user guide) and the JSON message an alarm action
//! publishes to SNS (`AlarmName`, `NewStateValue`, `StateChangeTime`, ...; the
//! shape of aws/aws-lambda-go's `cloudwatch-alarm-sns-payload` test data).
//!
//! The alarm ARN is the alarm's identity (one living message per ARN). The SNS
//! message's `Region` is a display name ("US East (N. Virginia)"), so the
//! region comes from the ARN; a message without `AlarmArn` (ministack, older
//! AWS messages) gets the ARN built from account, region and name, and is
//! [`super::Other`] when those are not all known.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::wire;

pub(super) const STATE_CHANGE: &str = "CloudWatch Alarm State Change";

/// The one alarm state type, shared with the commands (`alarms`).
pub use opsbot_commands::ports::AlarmState;

/// An alarm moved into `state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmChange {
    pub arn: String,
    pub name: String,
    pub state: AlarmState,
    pub previous: Option<AlarmState>,
    pub reason: String,
    /// When the alarm changed state.
    pub at: DateTime<Utc>,
    pub description: Option<String>,
}

/// The envelope fields an EventBridge alarm event needs besides its detail.
pub(super) struct EventContext<'a> {
    pub resources: &'a [String],
    pub account: Option<&'a str>,
    pub region: Option<&'a str>,
    pub time: DateTime<Utc>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventDetail {
    alarm_name: String,
    state: EventState,
    #[serde(default)]
    previous_state: Option<EventState>,
    #[serde(default)]
    configuration: Option<Configuration>,
}

#[derive(Deserialize)]
struct EventState {
    value: AlarmState,
    #[serde(default)]
    reason: String,
    #[serde(default, deserialize_with = "wire::opt_time")]
    timestamp: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct Configuration {
    #[serde(default)]
    description: Option<String>,
}

pub(super) fn from_event(detail: Value, event: &EventContext) -> Result<AlarmChange, String> {
    let detail: EventDetail = wire::read(detail)?;
    let arn = match event.resources.first() {
        Some(arn) => arn.clone(),
        None => built_arn(event.region, event.account, &detail.alarm_name)
            .ok_or("no alarm ARN in `resources`, and no account and region to build one from")?,
    };
    Ok(AlarmChange {
        arn,
        name: detail.alarm_name,
        state: detail.state.value,
        previous: detail.previous_state.map(|previous| previous.value),
        reason: detail.state.reason,
        at: detail.state.timestamp.unwrap_or(event.time),
        description: detail.configuration.and_then(|configuration| non_empty(configuration.description)),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SnsAlarm {
    alarm_name: String,
    #[serde(default)]
    alarm_description: Option<String>,
    #[serde(default, rename = "AWSAccountId")]
    account: Option<String>,
    new_state_value: AlarmState,
    #[serde(default)]
    new_state_reason: String,
    state_change_time: String,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    alarm_arn: Option<String>,
    #[serde(default)]
    old_state_value: Option<AlarmState>,
    /// Only to tell an EventBridge event that also names an alarm, which is
    /// read as an event (`from_text` leaves it to the general path).
    #[serde(default, rename = "detail")]
    event_detail: Option<serde::de::IgnoredAny>,
}

pub(super) fn looks_like_sns_alarm(value: &Value) -> bool {
    value.get("AlarmName").is_some() && value.get("NewStateValue").is_some()
}

/// An alarm's SNS message, read: its dedup key, account, region and change.
pub(super) type Read = (String, Option<String>, Option<String>, AlarmChange);

/// Reads an alarm's SNS message; the error says why it could not be read.
pub(super) fn from_sns(value: &Value) -> Result<Read, String> {
    // Read from the borrowed tree: no copy of it first.
    read(SnsAlarm::deserialize(value).map_err(|error| error.to_string())?)
}

/// An SNS message's text read straight as an alarm's message, without a
/// JSON tree first (issue 14: the tree of every alarm message a storm brings
/// was an eighth of the workers' time). `None` when it is not one that reads
/// cleanly: then it goes the general way (`from_sns` on its tree), which
/// tells what else it is, or why it cannot be read.
pub(super) fn from_text(text: &str) -> Option<Read> {
    let message: SnsAlarm = serde_json::from_str(text).ok()?;
    if message.event_detail.is_some() {
        return None;
    }
    read(message).ok()
}

fn read(message: SnsAlarm) -> Result<Read, String> {
    let at = wire::parse_time(&message.state_change_time)
        .ok_or_else(|| format!("StateChangeTime {:?} is not a timestamp", message.state_change_time))?;
    let display_region = message.region.as_deref().and_then(wire::region_code);
    let arn = match message.alarm_arn {
        Some(arn) => arn,
        None => built_arn(display_region.as_deref(), message.account.as_deref(), &message.alarm_name)
            .ok_or("no AlarmArn, and no account and known region to build one from")?,
    };
    let parsed = wire::Arn::parse(&arn);
    let region = parsed.map(|arn| arn.region.to_owned()).or(display_region);
    let account = message.account.or_else(|| parsed.map(|arn| arn.account.to_owned()));
    let key = format!("alarm:{arn}:{}:{}", message.state_change_time, message.new_state_value.as_str());
    let change = AlarmChange {
        arn,
        name: message.alarm_name,
        state: message.new_state_value,
        previous: message.old_state_value,
        reason: message.new_state_reason,
        at,
        description: non_empty(message.alarm_description),
    };
    Ok((key, account, region, change))
}

fn built_arn(region: Option<&str>, account: Option<&str>, name: &str) -> Option<String> {
    Some(format!("arn:aws:cloudwatch:{}:{}:alarm:{name}", region?, account?))
}

fn non_empty(text: Option<String>) -> Option<String> {
    text.filter(|text| !text.trim().is_empty())
}
