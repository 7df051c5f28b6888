//! Demo CloudWatch alarms: `shop-checkout-5xx` fires (the failed storefront
//! build did not cause it — the checkout API did), `shop-search-errors` has
//! no data, the rest are OK. Reasons are worded as CloudWatch words them.
//! The AWS/ECS alarms carry the `ClusterName` / `ServiceName` dimensions that
//! tie them to a service (`shop-api-cpu-high` watches `prod/api`), which the
//! ECS change commands check before they deploy.

use opsbot_commands::ports::{Alarm, AlarmState, Time};

use super::common::ago;
use crate::sandbox::account::Account;
use crate::sandbox::account::{ACCOUNT_ID, REGION};

pub(super) fn seed(account: &mut Account) {
    let now = account.now;
    let alarms = [
        ok("shop-api-latency-p99", "AWS/ApplicationELB TargetResponseTime", ago(now, 2 * 1440 + 95), "0.412", "1.5"),
        firing_5xx(now),
        ok("shop-db-cpu-high", "AWS/RDS CPUUtilization", ago(now, 5 * 1440 + 310), "23.6", "80.0"),
        on_service(
            ok("shop-api-cpu-high", "AWS/ECS CPUUtilization", ago(now, 3 * 1440), "41.2", "85.0"),
            "prod",
            "api",
        ),
        on_service(
            ok("shop-payments-memory-high", "AWS/ECS MemoryUtilization", ago(now, 2 * 1440), "62.9", "90.0"),
            "prod",
            "payments",
        ),
        // OK until the demo's story fires it (`sandbox::story`).
        ok("shop-checkout-latency", "AWS/ApplicationELB TargetResponseTime", ago(now, 1440 + 40), "0.870", "2.0"),
        ok("shop-orders-queue-age", "AWS/SQS ApproximateAgeOfOldestMessage", ago(now, 185), "4.0", "300.0"),
        Alarm {
            reason: Some("Insufficient Data: 5 datapoints were unknown.".into()),
            ..alarm("shop-search-errors", AlarmState::InsufficientData, "AWS/Lambda Errors", ago(now, 35))
        },
    ];
    for alarm in alarms {
        account.alarms.insert(alarm.name.clone(), alarm);
    }
}

fn firing_5xx(now: Time) -> Alarm {
    let since = ago(now, 12);
    let reason = format!(
        "Threshold Crossed: 1 out of the last 1 datapoints [27.0 ({})] was greater than or equal to the threshold \
         (10.0) (minimum 1 datapoint for OK -> ALARM transition).",
        datapoint_time(ago(now, 13))
    );
    Alarm {
        reason: Some(reason),
        ..alarm("shop-checkout-5xx", AlarmState::Alarm, "AWS/ApplicationELB HTTPCode_Target_5XX_Count", since)
    }
}

fn ok(name: &str, metric: &str, since: Time, value: &str, threshold: &str) -> Alarm {
    let reason = format!(
        "Threshold Crossed: 3 out of the last 3 datapoints [{value} ({})] were not greater than the threshold \
         ({threshold}) (minimum 3 datapoints for ALARM -> OK transition).",
        datapoint_time(since - chrono::Duration::minutes(1))
    );
    Alarm { reason: Some(reason), ..alarm(name, AlarmState::Ok, metric, since) }
}

fn alarm(name: &str, state: AlarmState, metric: &str, since: Time) -> Alarm {
    Alarm {
        name: name.into(),
        arn: Some(format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT_ID}:alarm:{name}")),
        state,
        reason: None,
        since: Some(since),
        metric: Some(metric.into()),
        dimensions: Vec::new(),
    }
}

/// `alarm` with the dimensions of ECS service `cluster/service`.
fn on_service(alarm: Alarm, cluster: &str, service: &str) -> Alarm {
    let dimensions = vec![("ClusterName".into(), cluster.into()), ("ServiceName".into(), service.into())];
    Alarm { dimensions, ..alarm }
}

/// CloudWatch's datapoint timestamp in reasons, on the minute: `23/11/26 09:17:00`.
fn datapoint_time(at: Time) -> String {
    at.format("%d/%m/%y %H:%M:00").to_string()
}
