//! Alarms and ECS events, from AWS's documented examples and the shape
//! ministack publishes.

use super::kind_tests::{at, fixture, read};
use super::*;

fn alarm(body: &str) -> (Inbound, AlarmChange) {
    let inbound = read(body);
    match inbound.notification.clone() {
        Notification::Alarm(change) => (inbound, change),
        other => panic!("not an alarm: {other:?}"),
    }
}

#[test]
fn an_eventbridge_alarm_change_reads_into_one_typed_change() {
    let (inbound, change) = alarm(fixture!("cloudwatch-alarm-single-metric.json"));
    let expected = AlarmChange {
        arn: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh".into(),
        name: "ServerCpuTooHigh".into(),
        state: AlarmState::Alarm,
        previous: Some(AlarmState::Ok),
        reason: "Threshold Crossed: 1 out of the last 1 datapoints [99.50160229693434 (02/10/19 16:59:00)] was greater than the threshold (50.0) (minimum 1 datapoint for OK -> ALARM transition).".into(),
        at: at("2019-10-02T17:04:40.989Z"),
        description: Some("Goes into alarm when server CPU utilization is too high!".into()),
    };
    assert_eq!(change, expected);
    assert_eq!(inbound.key, "eventbridge:c4c1c1c9-6542-e61b-6ef0-8c4d36933a92");
    assert_eq!((inbound.notification.kind(), inbound.notification.name()), (Kind::Alarm, "ServerCpuTooHigh"));
}

#[test]
fn an_alarm_leaving_insufficient_data_says_so() {
    let (_, change) = alarm(fixture!("cloudwatch-alarm-metric-math.json"));
    assert_eq!((change.previous, change.state), (Some(AlarmState::InsufficientData), AlarmState::Alarm));
}

#[test]
fn the_sns_alarm_message_reads_into_the_same_type_keyed_by_arn_time_and_state() {
    let (inbound, change) = alarm(fixture!("cloudwatch-alarm-sns-message.json"));
    assert_eq!(change.arn, "arn:aws:cloudwatch:REGION:ACCOUNT_NUMBER:alarm:EXAMPLE");
    assert_eq!((change.state, change.previous), (AlarmState::Alarm, Some(AlarmState::InsufficientData)));
    assert_eq!(change.at, at("2015-06-03T17:43:27.123Z"));
    assert_eq!(change.description.as_deref(), Some("EXAMPLE"));
    assert_eq!(
        inbound.key,
        "alarm:arn:aws:cloudwatch:REGION:ACCOUNT_NUMBER:alarm:EXAMPLE:2015-06-03T17:43:27.123+0000:ALARM"
    );
    assert_eq!(inbound.account.as_deref(), Some("123456789012"));
    assert_eq!(inbound.region.as_deref(), Some("REGION"), "the region comes from the ARN, not the display name");
    assert_eq!(inbound.time, change.at);
}

#[test]
fn both_alarm_sources_update_the_living_message_of_the_alarm_arn() {
    let (_, change) = alarm(fixture!("cloudwatch-alarm-single-metric.json"));
    let via_event = read(fixture!("cloudwatch-alarm-single-metric.json")).notification.living_key();
    assert_eq!(via_event, Some(format!("alarm:{}", change.arn)));
    let body = r#"{"AlarmName":"ServerCpuTooHigh","AWSAccountId":"123456789012","NewStateValue":"OK",
        "StateChangeTime":"2019-10-02T18:00:00.000+0000","Region":"US East (N. Virginia)",
        "AlarmArn":"arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh"}"#;
    assert_eq!(read(body).notification.living_key(), via_event);
}

#[test]
fn an_alarm_message_without_an_arn_gets_one_built_from_account_region_and_name() {
    let (inbound, change) = alarm(fixture!("cloudwatch-alarm-sns-message-ministack.json"));
    assert_eq!(change.arn, "arn:aws:cloudwatch:us-east-1:000000000000:alarm:shop-checkout-5xx");
    assert_eq!(change.description, None, "an empty description is no description");
    assert_eq!((inbound.account.as_deref(), inbound.region.as_deref()), (Some("000000000000"), Some("us-east-1")));
}

#[test]
fn a_region_display_name_becomes_the_region_code() {
    let body = r#"{"AlarmName":"db-cpu","AWSAccountId":"111122223333","NewStateValue":"OK","OldStateValue":"ALARM",
        "NewStateReason":"back to normal","StateChangeTime":"2026-11-22T08:00:00.000+0000","Region":"US East (N. Virginia)"}"#;
    let (inbound, change) = alarm(body);
    assert_eq!(change.arn, "arn:aws:cloudwatch:us-east-1:111122223333:alarm:db-cpu");
    assert_eq!(inbound.region.as_deref(), Some("us-east-1"));
}

#[test]
fn an_alarm_message_with_no_way_to_know_its_arn_is_other_and_says_why() {
    let body =
        r#"{"AlarmName":"db-cpu","NewStateValue":"OK","StateChangeTime":"2026-11-22T08:00:00Z","Region":"Atlantis"}"#;
    let Notification::Other(other) = read(body).notification else { panic!() };
    assert!(other.summary.starts_with("could not read alarm message: no AlarmArn"), "{}", other.summary);
}

#[test]
fn an_alarm_message_with_a_state_cloudwatch_does_not_have_is_other() {
    let body = r#"{"AlarmName":"db-cpu","NewStateValue":"PANIC","StateChangeTime":"2026-11-22T08:00:00Z",
        "AlarmArn":"arn:aws:cloudwatch:us-east-1:1:alarm:db-cpu"}"#;
    let Notification::Other(other) = read(body).notification else { panic!() };
    assert!(other.summary.contains("PANIC"), "{}", other.summary);
}

#[test]
fn ecs_deployments_read_their_phase_and_reason_and_route_by_cluster_and_service() {
    let cases = [
        (fixture!("ecs-deployment-in-progress.json"), DeploymentEvent::InProgress, EcsEventType::Info),
        (fixture!("ecs-deployment-completed.json"), DeploymentEvent::Completed, EcsEventType::Info),
        (fixture!("ecs-deployment-failed.json"), DeploymentEvent::Failed, EcsEventType::Error),
    ];
    for (body, event, event_type) in cases {
        let inbound = read(body);
        assert_eq!((inbound.notification.kind(), inbound.notification.name()), (Kind::Ecs, "default/servicetest"));
        let Notification::EcsDeployment(deployment) = inbound.notification else { panic!() };
        assert_eq!((deployment.event, deployment.event_type), (event, event_type));
        assert_eq!(deployment.deployment_id, "ecs-svc/123");
        assert_eq!(deployment.updated_at, Some(at("2020-05-23T11:11:11Z")));
    }
    let Notification::EcsDeployment(rollback) = read(fixture!("ecs-deployment-rollback-in-progress.json")).notification
    else {
        panic!()
    };
    assert!(rollback.reason.is_some_and(|reason| reason.contains("circuit breaker: rolling back")));
}

#[test]
fn an_ecs_service_action_keeps_its_severity_reason_and_capacity_providers() {
    let inbound = read(fixture!("ecs-service-action-task-placement-failure.json"));
    assert_eq!(inbound.notification.name(), "default/servicetest");
    let Notification::EcsServiceAction(action) = inbound.notification else { panic!() };
    assert_eq!(
        (action.event_type, action.event_name.as_str()),
        (EcsEventType::Error, "SERVICE_TASK_PLACEMENT_FAILURE")
    );
    assert_eq!(action.reason.as_deref(), Some("RESOURCE:FARGATE"));
    assert_eq!(action.capacity_provider_arns, ["arn:aws:ecs:us-west-2:111122223333:capacity-provider/FARGATE_SPOT"]);
    assert_eq!(action.cluster_arn.as_deref(), Some("arn:aws:ecs:us-west-2:111122223333:cluster/default"));
    let Notification::EcsServiceAction(steady) = read(fixture!("ecs-service-action-steady-state.json")).notification
    else {
        panic!()
    };
    assert_eq!((steady.event_type, steady.reason), (EcsEventType::Info, None));
}

#[test]
fn an_eventbridge_alarm_without_resources_builds_its_arn_or_is_other() {
    let event = |account: &str| {
        format!(
            r#"{{"version":"0","id":"e-7","detail-type":"CloudWatch Alarm State Change","source":"aws.cloudwatch",{account}
            "time":"2026-11-22T08:00:00Z","region":"eu-west-1","resources":[],
            "detail":{{"alarmName":"queue-depth","state":{{"value":"OK","reason":"fine"}}}}}}"#
        )
    };
    let (_, change) = alarm(&event(r#""account":"111122223333","#));
    assert_eq!(change.arn, "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:queue-depth");
    assert_eq!(change.at, at("2026-11-22T08:00:00Z"), "no state timestamp: the event's time");
    let Notification::Other(other) = read(&event("")).notification else { panic!() };
    assert!(
        other
            .summary
            .ends_with("could not read it: no alarm ARN in `resources`, and no account and region to build one from")
    );
}

#[test]
fn an_ecs_event_without_a_service_arn_is_other() {
    let body = r#"{"version":"0","id":"e-8","detail-type":"ECS Deployment State Change","source":"aws.ecs",
        "time":"2026-11-22T08:00:00Z","region":"eu-west-1","resources":[],
        "detail":{"eventType":"INFO","eventName":"SERVICE_DEPLOYMENT_COMPLETED","deploymentId":"ecs-svc/1"}}"#;
    let Notification::Other(other) = read(body).notification else { panic!() };
    assert!(other.summary.ends_with("could not read it: no service ARN in `resources`"), "{}", other.summary);
}

#[test]
fn an_alarm_in_an_sns_envelope_reads_as_its_message_read_alone() {
    let event = fixture!("cloudwatch-alarm-single-metric.json");
    // An EventBridge event that also carries an SNS alarm message's fields is an event.
    let event_naming_an_alarm = event.replacen(
        '{',
        r#"{"AlarmName":"x","NewStateValue":"OK","StateChangeTime":"2026-11-22T08:00:00Z","AlarmArn":"arn:aws:cloudwatch:us-east-1:1:alarm:x","#,
        1,
    );
    let messages = [
        fixture!("cloudwatch-alarm-sns-message.json"),
        fixture!("cloudwatch-alarm-sns-message-ministack.json"),
        r#"{"AlarmName":"db-cpu","AWSAccountId":"111122223333","NewStateValue":"OK","StateChangeTime":"2026-11-22T08:00:00.000+0000","Region":"US East (N. Virginia)"}"#,
        r#"{"AlarmName":"db-cpu","NewStateValue":"OK","StateChangeTime":"2026-11-22T08:00:00Z","Region":"Atlantis"}"#,
        r#"{"AlarmName":"db-cpu","NewStateValue":"PANIC","StateChangeTime":"2026-11-22T08:00:00Z","AlarmArn":"arn:aws:cloudwatch:us-east-1:1:alarm:db-cpu"}"#,
        r#"{"AlarmName":"db-cpu","NewStateValue":"OK","StateChangeTime":"yesterday","AlarmArn":"arn:aws:cloudwatch:us-east-1:1:alarm:db-cpu"}"#,
        &event_naming_an_alarm,
    ];
    for message in messages {
        let envelope = crate::notify::intake::sns::SnsMessage {
            message: message.to_owned(),
            subject: None,
            ..crate::notify::intake::sns::testkit::notification_v1()
        };
        let (enveloped, alone) = (parse_envelope(&envelope).unwrap(), read(message));
        assert_eq!(enveloped.notification, alone.notification, "{message}");
        if let Notification::Alarm(_) = alone.notification {
            assert_eq!((enveloped.key, enveloped.account, enveloped.region), (alone.key, alone.account, alone.region));
        } // else the envelope's key, account and time name what cannot be read
    }
    let Notification::Alarm(change) = read(&event_naming_an_alarm).notification else { panic!("an alarm event") };
    assert_ne!(change.name, "x", "read as the event it is");
}
