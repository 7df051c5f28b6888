//! [`Alarms`] with CloudWatch `DescribeAlarms` (paginated).
//!
//! - Both alarm types are asked for explicitly: without `AlarmTypes`, AWS
//!   returns metric alarms only and composite alarms would silently vanish.
//! - `since` is when the alarm entered its state: `StateTransitionedTimestamp`
//!   when AWS sends it (it ignores reason-only updates), else
//!   `StateUpdatedTimestamp`.
//! - A state value we do not know is shown as INSUFFICIENT_DATA rather than
//!   dropping the alarm.
//! - Sorted by name, metric and composite alarms together.

use async_trait::async_trait;
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::types::{AlarmType, CompositeAlarm, MetricAlarm, StateValue};
use opsbot_commands::error::GatewayResult;
use opsbot_commands::ports::{Alarm, AlarmState, Alarms};
use opsbot_commands::values::AlarmPrefix;

use super::errors::OrGateway;
use super::utc;

pub struct AwsAlarms {
    client: Client,
}

impl AwsAlarms {
    pub fn new(client: Client) -> Self {
        AwsAlarms { client }
    }
}

#[async_trait]
impl Alarms for AwsAlarms {
    async fn list(&self, prefix: Option<&AlarmPrefix>) -> GatewayResult<Vec<Alarm>> {
        let pages: Vec<_> = self
            .client
            .describe_alarms()
            .set_alarm_name_prefix(prefix.map(|p| p.as_str().to_owned()))
            .alarm_types(AlarmType::MetricAlarm)
            .alarm_types(AlarmType::CompositeAlarm)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .or_gateway("alarms")?;
        let mut alarms: Vec<Alarm> = pages
            .iter()
            .flat_map(|page| {
                let metric = page.metric_alarms().iter().map(metric_alarm);
                metric.chain(page.composite_alarms().iter().map(composite_alarm))
            })
            .collect();
        alarms.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(alarms)
    }
}

fn metric_alarm(alarm: &MetricAlarm) -> Alarm {
    let metric = match (alarm.namespace(), alarm.metric_name()) {
        (Some(namespace), Some(name)) => Some(format!("{namespace} {name}")),
        // Metric-math alarms have `Metrics` instead of one metric.
        _ => None,
    };
    Alarm {
        name: alarm.alarm_name().unwrap_or_default().to_owned(),
        arn: alarm.alarm_arn().map(str::to_owned),
        state: state(alarm.state_value()),
        reason: alarm.state_reason().map(str::to_owned),
        since: utc(alarm.state_transitioned_timestamp().or(alarm.state_updated_timestamp())),
        metric,
    }
}

fn composite_alarm(alarm: &CompositeAlarm) -> Alarm {
    Alarm {
        name: alarm.alarm_name().unwrap_or_default().to_owned(),
        arn: alarm.alarm_arn().map(str::to_owned),
        state: state(alarm.state_value()),
        reason: alarm.state_reason().map(str::to_owned),
        since: utc(alarm.state_transitioned_timestamp().or(alarm.state_updated_timestamp())),
        metric: None,
    }
}

fn state(value: Option<&StateValue>) -> AlarmState {
    value.and_then(|v| AlarmState::from_aws(v.as_str())).unwrap_or(AlarmState::InsufficientData)
}

#[cfg(test)]
mod tests {
    use aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput;
    use aws_smithy_mocks::mock;
    use aws_smithy_types::DateTime;

    use super::*;
    use crate::aws::mocked_client;

    // CloudWatch speaks CBOR, so these responses are built as SDK types rather
    // than written out as wire bodies.
    fn page_with_both_kinds() -> DescribeAlarmsOutput {
        DescribeAlarmsOutput::builder()
            .metric_alarms(
                MetricAlarm::builder()
                    .alarm_name("prod-api-5xx")
                    .alarm_arn("arn:aws:cloudwatch:us-east-1:123456789012:alarm:prod-api-5xx")
                    .state_value(StateValue::Alarm)
                    .state_reason("Threshold Crossed: 1 datapoint [12.0] was greater than the threshold (5.0).")
                    .state_updated_timestamp(DateTime::from_secs(1_763_812_700))
                    .state_transitioned_timestamp(DateTime::from_secs(1_763_812_000))
                    .namespace("AWS/ApplicationELB")
                    .metric_name("HTTPCode_Target_5XX_Count")
                    .build(),
            )
            .composite_alarms(
                CompositeAlarm::builder()
                    .alarm_name("prod-api-health")
                    .state_value(StateValue::Ok)
                    .state_updated_timestamp(DateTime::from_secs(1_763_800_000))
                    .build(),
            )
            .build()
    }

    #[tokio::test]
    async fn alarms_include_composite_ones_and_the_time_they_entered_their_state() {
        let rule = mock!(Client::describe_alarms)
            .match_requests(|req| {
                req.alarm_name_prefix() == Some("prod-")
                    && req.alarm_types() == [AlarmType::MetricAlarm, AlarmType::CompositeAlarm]
            })
            .then_output(page_with_both_kinds);
        let client: Client = mocked_client!(aws_sdk_cloudwatch, [&rule]);

        let prefix = AlarmPrefix::parse("prod-").unwrap();
        let alarms = AwsAlarms::new(client).list(Some(&prefix)).await.unwrap();

        let names: Vec<&str> = alarms.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["prod-api-5xx", "prod-api-health"]);
        let errors = &alarms[0];
        assert_eq!(errors.state, AlarmState::Alarm);
        assert_eq!(errors.metric.as_deref(), Some("AWS/ApplicationELB HTTPCode_Target_5XX_Count"));
        assert_eq!(errors.since.unwrap().timestamp(), 1_763_812_000, "transition, not the last reason update");
        assert!(errors.reason.as_deref().unwrap().starts_with("Threshold Crossed"));
        assert_eq!((&alarms[1].state, alarms[1].metric.as_ref()), (&AlarmState::Ok, None));
        assert_eq!(alarms[1].since.unwrap().timestamp(), 1_763_800_000);
    }
}
