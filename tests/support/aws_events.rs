//! AWS service events as the tests inject them with EventBridge `PutEvents`
//! (moto accepts `aws.*` sources; real AWS and ministack refuse them), shaped
//! like the examples in AWS's documentation so what reaches the queue is what
//! a real rule would deliver:
//! - CodePipeline: <https://docs.aws.amazon.com/codepipeline/latest/userguide/detect-state-changes-cloudwatch-events.html>
//! - CloudWatch: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html>
//! - ECS: <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_deployment_events.html>
//! - Parameter Store: <https://docs.aws.amazon.com/systems-manager/latest/userguide/monitoring-systems-manager-event-examples.html>
//!
//! `PutEvents` takes `Source`, `DetailType`, `Detail` (a JSON *string*) and
//! `Resources`; EventBridge itself adds `version`, `id`, `time`, `region`
//! (and, on real AWS, `account`).

use serde_json::{Value, json};

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

/// One `PutEvents` entry.
#[derive(Debug, Clone)]
pub struct PutEvent {
    pub source: String,
    pub detail_type: String,
    pub resources: Vec<String>,
    pub detail: Value,
}

impl PutEvent {
    /// The entry as the `PutEvents` request carries it.
    pub fn entry(&self) -> Value {
        json!({
            "Source": self.source,
            "DetailType": self.detail_type,
            "Resources": self.resources,
            "Detail": self.detail.to_string(),
        })
    }

    /// "CodePipeline Pipeline Execution State Change" (`state`: STARTED,
    /// SUCCEEDED, FAILED, ...).
    pub fn pipeline_execution(pipeline: &str, execution_id: &str, state: &str) -> PutEvent {
        PutEvent {
            source: "aws.codepipeline".into(),
            detail_type: "CodePipeline Pipeline Execution State Change".into(),
            resources: vec![format!("arn:aws:codepipeline:{REGION}:{ACCOUNT}:{pipeline}")],
            detail: json!({
                "pipeline": pipeline,
                "execution-id": execution_id,
                "start-time": "2026-11-22T08:00:00.000Z",
                "execution-trigger": { "trigger-type": "StartPipelineExecution", "trigger-detail": "arn:aws:sts::123456789012:assumed-role/dev/alice" },
                "state": state,
                "version": 1.0,
                "pipeline-execution-attempt": 1.0,
            }),
        }
    }

    /// "CloudWatch Alarm State Change" of a single-metric alarm.
    pub fn alarm_state_change(alarm: &str, state: &str, previous: &str) -> PutEvent {
        PutEvent {
            source: "aws.cloudwatch".into(),
            detail_type: "CloudWatch Alarm State Change".into(),
            resources: vec![format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{alarm}")],
            detail: json!({
                "alarmName": alarm,
                "state": { "value": state, "reason": "Threshold Crossed: 1 datapoint [92.5] was greater than the threshold (80.0).", "timestamp": "2026-11-22T08:00:00.000+0000" },
                "previousState": { "value": previous, "reason": "Threshold Crossed: 1 datapoint [12.0] was not greater than the threshold (80.0).", "timestamp": "2026-11-22T07:55:00.000+0000" },
                "configuration": {
                    "description": "CPU too high",
                    "metrics": [{
                        "id": "m1",
                        "metricStat": {
                            "metric": { "namespace": "AWS/EC2", "name": "CPUUtilization", "dimensions": { "InstanceId": "i-0123456789abcdef0" } },
                            "period": 300,
                            "stat": "Average",
                        },
                        "returnData": true,
                    }],
                },
            }),
        }
    }

    /// "ECS Deployment State Change" (`event`: SERVICE_DEPLOYMENT_IN_PROGRESS,
    /// _COMPLETED, _FAILED).
    pub fn ecs_deployment(cluster: &str, service: &str, event: &str) -> PutEvent {
        PutEvent {
            source: "aws.ecs".into(),
            detail_type: "ECS Deployment State Change".into(),
            resources: vec![format!("arn:aws:ecs:{REGION}:{ACCOUNT}:service/{cluster}/{service}")],
            detail: json!({
                "eventType": if event.ends_with("FAILED") { "ERROR" } else { "INFO" },
                "eventName": event,
                "deploymentId": "ecs-svc/1234567890123456789",
                "updatedAt": "2026-11-22T08:00:00.000Z",
                "reason": format!("ECS deployment ecs-svc/1234567890123456789 {event}"),
            }),
        }
    }

    /// "Parameter Store Change" (`operation`: Create, Update, Delete,
    /// LabelParameterVersion).
    pub fn parameter_change(name: &str, operation: &str) -> PutEvent {
        PutEvent {
            source: "aws.ssm".into(),
            detail_type: "Parameter Store Change".into(),
            resources: vec![format!("arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{name}")],
            detail: json!({ "operation": operation, "name": name, "type": "String", "description": "" }),
        }
    }
}

/// CodePipeline's manual-approval notification as it publishes it to SNS:
/// (Subject, Message), per
/// <https://docs.aws.amazon.com/codepipeline/latest/userguide/approvals-json-format.html>.
pub fn approval_notification(pipeline: &str, stage: &str, action: &str, token: &str) -> (String, String) {
    let console = format!("https://console.aws.amazon.com/codepipeline/home?region={REGION}#/view/{pipeline}");
    let review = format!(
        "https://console.aws.amazon.com/codepipeline/home?region={REGION}#/approval/{pipeline}/{stage}/{action}/{token}"
    );
    let message = json!({
        "region": REGION,
        "consoleLink": console,
        "approval": {
            "pipelineName": pipeline,
            "stageName": stage,
            "actionName": action,
            "token": token,
            "expires": "2026-11-29T08:00Z",
            "externalEntityLink": "https://example.com/release-notes",
            "approvalReviewLink": review,
            "customData": "Check the release notes, then approve within seven days.",
        },
    });
    (format!("APPROVAL NEEDED: AWS CodePipeline {pipeline} for action {action}"), message.to_string())
}
