//! A failure shows why in its thread, end to end through SQS, the app and
//! the fake Slack:
//! - a failed CodeBuild action: a build in moto's CodeBuild, its log in moto's
//!   CloudWatch Logs (at the names CodeBuild gives a build's stream, since
//!   moto's build record names none); the last lines of the log in the
//!   pipeline execution's thread — redacted, and only once;
//! - a failed ECS deployment: why its tasks stopped, in the thread of its
//!   message. moto's services never start tasks (and its ListTasks ignores
//!   the service), so the stopped tasks come from a port of the test's own;
//!   the SDK mapping is tested with aws-smithy-mocks in bot/aws/ecs_stopped.rs.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use aws_sdk_codebuild::types::{
    ArtifactsType, ComputeType, EnvironmentType, ProjectArtifacts, ProjectEnvironment, ProjectSource, SourceType,
};
use chrono::Utc;
use opsbot::app::{Transport, Wiring};
use opsbot::metrics::aws::AwsCalls;
use opsbot::sandbox::Sandbox;
use opsbot_commands::ports::{StoppedContainer, StoppedTask, StoppedTasks};
use opsbot_commands::values::ChannelId;
use serde_json::{Value, json};

use crate::support::aws_setup::create_queue;
use crate::support::bot::{TestBot, spawn_bot_wired, text_of};
use crate::support::emulators::{emulators, unique};

const OPS: &str = "C0OPS";
const WITHIN: Duration = Duration::from_secs(25);

/// A failed build of a new project in moto, whose log stream holds `lines`; its id.
async fn failed_build(sdk: &aws_config::SdkConfig, role: &str, lines: &[String]) -> String {
    let codebuild = aws_sdk_codebuild::Client::new(sdk);
    let project = unique("storefront-web");
    codebuild
        .create_project()
        .name(&project)
        .source(ProjectSource::builder().r#type(SourceType::S3).location("sources/storefront-web.zip").build().unwrap())
        .artifacts(ProjectArtifacts::builder().r#type(ArtifactsType::NoArtifacts).build().unwrap())
        .environment(
            ProjectEnvironment::builder()
                .r#type(EnvironmentType::LinuxContainer)
                .image("aws/codebuild/standard:7.0")
                .compute_type(ComputeType::BuildGeneral1Small)
                .build()
                .unwrap(),
        )
        .service_role(role)
        .send()
        .await
        .unwrap();
    let build = codebuild.start_build().project_name(&project).send().await.unwrap();
    let id = build.build_value().and_then(|b| b.id()).unwrap().to_owned();
    let logs = aws_sdk_cloudwatchlogs::Client::new(sdk);
    let (group, stream) = (format!("/aws/codebuild/{project}"), id.split_once(':').unwrap().1.to_owned());
    logs.create_log_group().log_group_name(&group).send().await.unwrap();
    logs.create_log_stream().log_group_name(&group).log_stream_name(&stream).send().await.unwrap();
    let now = Utc::now().timestamp_millis();
    let events = lines
        .iter()
        .enumerate()
        .map(|(i, line)| InputLogEvent::builder().timestamp(now + i as i64).message(line).build().unwrap());
    logs.put_log_events()
        .log_group_name(&group)
        .log_stream_name(&stream)
        .set_log_events(Some(events.collect()))
        .send()
        .await
        .unwrap();
    id
}

fn action_failed(pipeline: &str, build: &str) -> String {
    json!({"version": "0", "id": unique("action-event"), "detail-type": "CodePipeline Action Execution State Change",
        "source": "aws.codepipeline", "account": "123456789012", "time": Utc::now().to_rfc3339(), "region": "us-east-1",
        "resources": [format!("arn:aws:codepipeline:us-east-1:123456789012:{pipeline}")],
        "detail": {"pipeline": pipeline, "execution-id": "exec-build", "stage": "Build", "action": "UnitTests",
            "state": "FAILED", "region": "us-east-1",
            "type": {"owner": "AWS", "category": "Build", "provider": "CodeBuild", "version": "1"},
            "execution-result": {"external-execution-id": build, "external-execution-summary": "Build terminated with state: FAILED",
                "error-code": "JobFailed"}}})
    .to_string()
}

/// The replies under the first top-level message of the channel.
fn thread(bot: &TestBot) -> Vec<String> {
    let messages = bot.slack.messages(OPS);
    let parent = messages.iter().find(|m| m.get("thread_ts").is_none_or(Value::is_null));
    let ts = parent.and_then(|p| p["ts"].as_str()).unwrap_or_default().to_owned();
    messages.iter().filter(|m| m["thread_ts"].as_str() == Some(&ts)).map(text_of).collect()
}

#[tokio::test]
async fn a_failed_codebuild_action_shows_the_end_of_its_build_log_in_the_thread_without_secrets() {
    let emu = emulators().await;
    let sdk = emu.sdk_config().await;
    let role = emu.create_role("codebuild-role", r#"{"Service":"codebuild.amazonaws.com"}"#).await;
    let mut lines: Vec<String> = (1..=30).map(|i| format!("step {i:02}: ok")).collect();
    lines.push("export DB_PASSWORD=hunter2-prod".into());
    lines.push("aws configure set aws_access_key_id AKIAIOSFODNN7EXAMPLE".into());
    lines.push("FAIL src/checkout/checkout.spec.ts: expected 2, received 1".into());
    let build = failed_build(&sdk, &role, &lines).await;

    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue = create_queue(&sqs, &unique("build-events"), Duration::from_secs(30)).await;
    let mut wiring = Wiring::new(Arc::new(Sandbox::demo(Utc::now())).gateways());
    wiring.sqs = Some(sqs.clone());
    wiring.builds = Some(opsbot::aws::build_logs(&sdk, &AwsCalls(Default::default())));
    let url = queue.url.clone();
    let bot = spawn_bot_wired(Transport::Http, wiring, move |s| {
        s.notifications.default_channel = Some(ChannelId::parse(OPS).unwrap());
        s.notifications.sqs_queues = vec![url];
    })
    .await;
    let pipeline = unique("storefront-web");
    for _ in 0..2 {
        // EventBridge delivers at least once: the second copy must not post the log again.
        sqs.send_message().queue_url(&queue.url).message_body(action_failed(&pipeline, &build)).send().await.unwrap();
    }

    let deadline = tokio::time::Instant::now() + WITHIN;
    while !thread(&bot).iter().any(|t| t.contains("of its log")) {
        assert!(tokio::time::Instant::now() < deadline, "no build log in the thread: {:#?}", bot.slack.messages(OPS));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let shown = thread(&bot);
    let logs: Vec<&String> = shown.iter().filter(|t| t.contains("of its log")).collect();
    assert_eq!(logs.len(), 1, "the log is shown once: {shown:#?}");
    let log = logs[0];
    assert!(log.contains("Last 20 lines of its log"), "{log}");
    assert!(log.contains("FAIL src/checkout/checkout.spec.ts: expected 2, received 1\n```"), "{log}");
    assert!(log.contains("step 14: ok") && !log.contains("step 13: ok"), "only the last 20 lines: {log}");
    assert!(log.contains("export DB_PASSWORD=[redacted]") && log.contains("aws_access_key_id [redacted]"), "{log}");
    assert!(!log.contains("hunter2") && !log.contains("AKIAIOSFODNN7EXAMPLE"), "a secret leaked: {log}");
    assert!(log.contains("https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#logsV2:log-groups/log-group/$252Faws$252Fcodebuild$252F"), "{log}");
    bot.stop().await;
}

/// ECS's answer for a circuit breaker that stopped three tasks of one cause.
struct CrashingTasks;

#[async_trait]
impl StoppedTasks for CrashingTasks {
    async fn stopped_tasks(
        &self,
        _cluster: &str,
        _service: &str,
        _deployment: &str,
    ) -> opsbot_commands::GatewayResult<Vec<StoppedTask>> {
        let exited = StoppedTask {
            stopped_reason: Some("Essential container in task exited".into()),
            containers: vec![StoppedContainer { name: "web".into(), exit_code: Some(1), reason: None }],
        };
        Ok(vec![exited.clone(), exited.clone(), exited])
    }
}

#[tokio::test]
async fn a_failed_ecs_deployment_shows_why_its_tasks_stopped_in_the_thread_of_its_message() {
    let emu = emulators().await;
    let sdk = emu.sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue = create_queue(&sqs, &unique("ecs-events"), Duration::from_secs(30)).await;
    let mut wiring = Wiring::new(Arc::new(Sandbox::demo(Utc::now())).gateways());
    wiring.sqs = Some(sqs.clone());
    wiring.stopped_tasks = Some(Arc::new(CrashingTasks));
    let url = queue.url.clone();
    let bot = spawn_bot_wired(Transport::Http, wiring, move |s| {
        s.notifications.default_channel = Some(ChannelId::parse(OPS).unwrap());
        s.notifications.sqs_queues = vec![url];
    })
    .await;
    let failed = json!({"version": "0", "id": unique("ecs-event"), "detail-type": "ECS Deployment State Change",
        "source": "aws.ecs", "account": "123456789012", "time": Utc::now().to_rfc3339(), "region": "us-east-1",
        "resources": ["arn:aws:ecs:us-east-1:123456789012:service/prod/web"],
        "detail": {"eventType": "ERROR", "eventName": "SERVICE_DEPLOYMENT_FAILED", "deploymentId": "ecs-svc/9876",
            "updatedAt": Utc::now().to_rfc3339(), "reason": "ECS deployment circuit breaker: task failed to start."}});
    sqs.send_message().queue_url(&queue.url).message_body(failed.to_string()).send().await.unwrap();

    let deadline = tokio::time::Instant::now() + WITHIN;
    while !thread(&bot).iter().any(|t| t.contains("stopped its tasks")) {
        assert!(tokio::time::Instant::now() < deadline, "no reasons in the thread: {:#?}", bot.slack.messages(OPS));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let why = thread(&bot).into_iter().find(|t| t.contains("stopped its tasks")).unwrap();
    assert!(why.contains("• 3 tasks: Essential container in task exited (web: exit 1)"), "{why}");
    assert!(
        why.contains(
            "https://us-east-1.console.aws.amazon.com/ecs/v2/clusters/prod/services/web/deployments?region=us-east-1"
        ),
        "{why}"
    );
    bot.stop().await;
}
