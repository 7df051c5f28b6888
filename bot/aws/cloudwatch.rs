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
//! - Dimensions are those of the metric, or of every metric a metric-math
//!   alarm reads; composite alarms have none.
//! - `firing_on` asks for metric alarms in ALARM only (`StateValue`) and keeps
//!   those whose dimensions name the service; composite alarms are left out,
//!   as they name no metric.

use async_trait::async_trait;
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::types::{AlarmType, CompositeAlarm, Dimension, MetricAlarm, StateValue};
use opsbot_commands::error::GatewayResult;
use opsbot_commands::ports::{Alarm, AlarmState, Alarms};
use opsbot_commands::values::{AlarmPrefix, ServiceRef};

use super::errors::OrGateway;
use super::time::utc;

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

    async fn firing_on(&self, service: &ServiceRef) -> GatewayResult<Vec<Alarm>> {
        let pages: Vec<_> = self
            .client
            .describe_alarms()
            .state_value(StateValue::Alarm)
            .alarm_types(AlarmType::MetricAlarm)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .or_gateway("alarms")?;
        let firing = pages.iter().flat_map(|page| page.metric_alarms().iter().map(metric_alarm));
        let mut alarms: Vec<Alarm> = firing.filter(|a| a.watches(service)).collect();
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
        dimensions: dimensions(alarm),
    }
}

/// The metric's dimensions, or those of every metric of a metric-math alarm.
fn dimensions(alarm: &MetricAlarm) -> Vec<(String, String)> {
    let math = alarm.metrics().iter().filter_map(|q| q.metric_stat()?.metric());
    let all = alarm.dimensions().iter().chain(math.flat_map(|m| m.dimensions()));
    let pair = |d: &Dimension| Some((d.name()?.to_owned(), d.value()?.to_owned()));
    let mut out: Vec<(String, String)> = all.filter_map(pair).collect();
    out.dedup();
    out
}

fn composite_alarm(alarm: &CompositeAlarm) -> Alarm {
    Alarm {
        name: alarm.alarm_name().unwrap_or_default().to_owned(),
        arn: alarm.alarm_arn().map(str::to_owned),
        state: state(alarm.state_value()),
        reason: alarm.state_reason().map(str::to_owned),
        since: utc(alarm.state_transitioned_timestamp().or(alarm.state_updated_timestamp())),
        metric: None,
        dimensions: Vec::new(),
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

    fn on_service(name: &str, cluster: &str, service: &str) -> MetricAlarm {
        let dimension = |n: &str, v: &str| Dimension::builder().name(n).value(v).build();
        MetricAlarm::builder()
            .alarm_name(name)
            .state_value(StateValue::Alarm)
            .namespace("AWS/ECS")
            .metric_name("CPUUtilization")
            .dimensions(dimension("ClusterName", cluster))
            .dimensions(dimension("ServiceName", service))
            .build()
    }

    /// A metric-math alarm whose one metric names `prod/api`.
    fn math_on_prod_api() -> MetricAlarm {
        use aws_sdk_cloudwatch::types::{Metric, MetricDataQuery, MetricStat};
        let metric = Metric::builder()
            .namespace("ECS/ContainerInsights")
            .metric_name("RunningTaskCount")
            .dimensions(Dimension::builder().name("ClusterName").value("prod").build())
            .dimensions(Dimension::builder().name("ServiceName").value("api").build())
            .build();
        let stat = MetricStat::builder().metric(metric).period(60).stat("Minimum").build();
        MetricAlarm::builder()
            .alarm_name("prod-api-too-few-tasks")
            .state_value(StateValue::Alarm)
            .metrics(MetricDataQuery::builder().id("m1").metric_stat(stat).build())
            .build()
    }

    #[tokio::test]
    async fn alarms_firing_on_a_service_are_found_by_its_dimensions() {
        let rule = mock!(Client::describe_alarms)
            .match_requests(|req| {
                req.state_value() == Some(&StateValue::Alarm) && req.alarm_types() == [AlarmType::MetricAlarm]
            })
            .then_output(|| {
                DescribeAlarmsOutput::builder()
                    .metric_alarms(on_service("prod-api-cpu", "prod", "api"))
                    .metric_alarms(on_service("staging-api-cpu", "staging", "api"))
                    .metric_alarms(on_service("prod-web-cpu", "prod", "web"))
                    .metric_alarms(math_on_prod_api())
                    .build()
            });
        let client: Client = mocked_client!(aws_sdk_cloudwatch, [&rule]);

        let service = ServiceRef::parse("prod/api").unwrap();
        let firing = AwsAlarms::new(client).firing_on(&service).await.unwrap();

        let names: Vec<&str> = firing.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["prod-api-cpu", "prod-api-too-few-tasks"]);
        let dimensions = [("ClusterName".to_owned(), "prod".to_owned()), ("ServiceName".to_owned(), "api".to_owned())];
        assert_eq!(firing[1].dimensions, dimensions, "a metric-math alarm's metrics count");
    }
}
