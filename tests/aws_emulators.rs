//! The AWS gateways (`opsbot::aws::gateways`) against real AWS protocol
//! servers: moto for SSM, CodePipeline and ECS, ministack for CloudWatch.
//! Each test creates its own uniquely named resources with the SDK clients, so
//! tests run in parallel on the shared servers. What the emulators cannot do
//! (GetPipelineState, rollouts in progress) is covered by the aws-smithy-mocks
//! tests in `bot/aws/`.

use aws_config::SdkConfig;
use aws_sdk_codepipeline::types as cp;
use aws_sdk_ecs::types as ecs;
use aws_sdk_ssm::types::ParameterType;
use opsbot_commands::error::GatewayError;
use opsbot_commands::ports::*;
use opsbot_commands::values::*;

use crate::support::emulators::{emulators, unique};

async fn setup() -> (SdkConfig, Gateways) {
    let sdk = emulators().await.sdk_config().await;
    let gateways = opsbot::aws::gateways(&sdk, &Default::default());
    (sdk, gateways)
}

#[tokio::test]
async fn an_unreachable_endpoint_is_unavailable() {
    let closed = format!(
        "http://127.0.0.1:{}",
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    );
    let sdk = opsbot::aws::loader()
        .endpoint_url(closed)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_ssm::config::Credentials::new("testing", "testing", None, None, "test"))
        .retry_config(aws_smithy_types::retry::RetryConfig::disabled())
        .load()
        .await;

    let err = opsbot::aws::gateways(&sdk, &Default::default())
        .params
        .get(&ParamName::parse("/any").unwrap())
        .await
        .unwrap_err();

    assert!(matches!(err, GatewayError::Unavailable { .. }), "{err:?}");
}

// ------------------------------------------------------------------- SSM

async fn put(ssm: &aws_sdk_ssm::Client, name: &str, kind: ParameterType, value: &str) {
    ssm.put_parameter().name(name).r#type(kind).value(value).overwrite(true).send().await.unwrap();
}

#[tokio::test]
async fn parameters_under_a_path_show_strings_and_mask_secure_strings() {
    let (sdk, gw) = setup().await;
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    let root = format!("/{}", unique("shop"));
    put(&ssm, &format!("{root}/db/host"), ParameterType::String, "db.internal").await;
    put(&ssm, &format!("{root}/db/password"), ParameterType::SecureString, "hunter2").await;
    put(&ssm, &format!("{root}/flags/deep/beta"), ParameterType::StringList, "a,b").await;

    let params = gw.params.by_path(&ParamPath::parse(&root).unwrap()).await.unwrap();

    let shown: Vec<(&str, &ParamValue)> = params.iter().map(|p| (&p.name[root.len()..], &p.value)).collect();
    assert_eq!(
        shown,
        [
            ("/db/host", &ParamValue::Plain("db.internal".into())),
            ("/db/password", &ParamValue::Masked),
            ("/flags/deep/beta", &ParamValue::Plain("a,b".into())),
        ]
    );
    let secret = gw.params.get(&ParamName::parse(&format!("{root}/db/password")).unwrap()).await.unwrap();
    assert_eq!((secret.kind, secret.value), (ParamKind::SecureString, ParamValue::Masked));
    assert!(!format!("{params:?}").contains("hunter2"), "moto sends kms:alias/aws/ssm:<plaintext>; it must not pass");
}

#[tokio::test]
async fn parameter_history_lists_every_version_with_its_labels() {
    let (sdk, gw) = setup().await;
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    let name = format!("/{}/release", unique("history"));
    for value in ["v1", "v2", "v3"] {
        put(&ssm, &name, ParameterType::String, value).await;
    }
    ssm.label_parameter_version().name(&name).parameter_version(2).labels("stable").send().await.unwrap();

    let history = gw.params.history(&ParamName::parse(&name).unwrap()).await.unwrap();

    let versions: Vec<(i64, &ParamValue, &[String])> =
        history.iter().map(|v| (v.version, &v.value, v.labels.as_slice())).collect();
    let stable = ["stable".to_owned()];
    assert_eq!(
        versions,
        [
            (1, &ParamValue::Plain("v1".into()), &[][..]),
            (2, &ParamValue::Plain("v2".into()), &stable[..]),
            (3, &ParamValue::Plain("v3".into()), &[][..]),
        ]
    );
    assert!(history.iter().all(|v| v.modified.is_some()));
}

#[tokio::test]
async fn a_document_is_described_with_its_kind_and_which_parameters_are_required() {
    let (sdk, gw) = setup().await;
    let name = unique("Shop-Reload");
    let content = r#"{"schemaVersion": "2.2", "description": "reload",
      "parameters": {"service": {"type": "String"}, "mode": {"type": "String", "default": "graceful"}},
      "mainSteps": [{"action": "aws:runShellScript", "name": "reload",
                     "inputs": {"runCommand": ["systemctl reload {{ service }}"]}}]}"#;
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    let create =
        ssm.create_document().name(&name).content(content).document_type(aws_sdk_ssm::types::DocumentType::Command);
    create.document_format(aws_sdk_ssm::types::DocumentFormat::Json).send().await.unwrap();

    let doc = gw
        .documents
        .document(&opsbot_commands::values::ssm::DocumentName::parse(&name).unwrap())
        .await
        .unwrap()
        .unwrap();
    let missing = gw
        .documents
        .document(&opsbot_commands::values::ssm::DocumentName::parse(&unique("Nope")).unwrap())
        .await
        .unwrap();

    assert_eq!(doc.kind, DocumentKind::Command);
    let mut parameters: Vec<(&str, bool)> = doc.parameters.iter().map(|p| (p.name.as_str(), p.required)).collect();
    parameters.sort();
    assert_eq!(parameters, [("mode", false), ("service", true)]);
    assert_eq!(missing, None, "a document the account cannot see is none, not an error");
}

#[tokio::test]
async fn a_missing_parameter_is_not_found() {
    let (_, gw) = setup().await;
    let name = format!("/{}/nothing-here", unique("missing"));

    let err = gw.params.get(&ParamName::parse(&name).unwrap()).await.unwrap_err();

    assert_eq!(err.to_string(), format!("parameter `{name}` was not found"));
}

// ---------------------------------------------------------- CodePipeline

fn action(name: &str, category: cp::ActionCategory, provider: &str, output: Option<&str>) -> cp::ActionDeclaration {
    let type_id = cp::ActionTypeId::builder().category(category).owner(cp::ActionOwner::Aws).provider(provider);
    let mut action = cp::ActionDeclaration::builder().name(name).action_type_id(type_id.version("1").build().unwrap());
    if let Some(output) = output {
        action = action.output_artifacts(cp::OutputArtifact::builder().name(output).build().unwrap());
    }
    action.build().unwrap()
}

async fn create_pipeline(client: &aws_sdk_codepipeline::Client, name: &str, role: &str) {
    let source = action("Checkout", cp::ActionCategory::Source, "S3", Some("SourceArtifact"));
    let approval = action("LeadApproval", cp::ActionCategory::Approval, "Manual", None);
    let stage = |name: &str, action| cp::StageDeclaration::builder().name(name).actions(action).build().unwrap();
    let store = cp::ArtifactStore::builder().r#type(cp::ArtifactStoreType::S3).location("artifacts").build().unwrap();
    let pipeline = cp::PipelineDeclaration::builder()
        .name(name)
        .role_arn(role)
        .artifact_store(store)
        .stages(stage("Source", source))
        .stages(stage("Approve", approval))
        .build()
        .unwrap();
    client.create_pipeline().pipeline(pipeline).send().await.unwrap();
}

#[tokio::test]
async fn pipeline_list_shows_a_created_pipeline_with_its_latest_execution() {
    let (sdk, gw) = setup().await;
    let client = aws_sdk_codepipeline::Client::new(&sdk);
    let role = emulators().await.codepipeline_role().await;
    let (ran, never_ran) = (unique("web"), unique("batch"));
    create_pipeline(&client, &ran, &role).await;
    create_pipeline(&client, &never_ran, &role).await;
    client.start_pipeline_execution().name(&ran).send().await.unwrap();
    let latest = client.start_pipeline_execution().name(&ran).send().await.unwrap().pipeline_execution_id.unwrap();

    let pipelines = gw.pipelines.list().await.unwrap();

    let find = |name: &str| pipelines.iter().find(|p| p.name.as_str() == name).unwrap_or_else(|| panic!("{name}"));
    let execution = find(&ran).latest.clone().expect("it ran");
    assert_eq!(execution.id, latest);
    assert_eq!(execution.status, ExecStatus::Succeeded, "moto finishes every execution at once");
    assert!(execution.started.is_some());
    assert!(execution.trigger.as_deref().unwrap_or_default().starts_with("StartPipelineExecution"), "{execution:?}");
    assert_eq!(find(&never_ran).latest, None);
}

#[tokio::test]
async fn the_state_of_a_missing_pipeline_is_not_found() {
    let (_, gw) = setup().await;
    let name = unique("ghost");

    let err = gw.pipelines.state(&PipelineName::parse(&name).unwrap()).await.unwrap_err();

    assert!(matches!(&err, GatewayError::NotFound { what } if what == &format!("pipeline `{name}`")), "{err:?}");
}

// ------------------------------------------------------------------- ECS

/// A cluster with `count` services (`svc-1`...) on one bridge-mode task
/// definition: EC2 launch type needs no VPC, subnets or security groups in moto.
async fn cluster_with_services(ecs_client: &aws_sdk_ecs::Client, count: usize) -> (String, String) {
    let cluster = unique("cluster");
    ecs_client.create_cluster().cluster_name(&cluster).send().await.unwrap();
    let family = unique("web");
    let container = ecs::ContainerDefinition::builder().name("web").image("nginx:1.27").memory(256).build();
    ecs_client
        .register_task_definition()
        .family(&family)
        .network_mode(ecs::NetworkMode::Bridge)
        .requires_compatibilities(ecs::Compatibility::Ec2)
        .container_definitions(container)
        .send()
        .await
        .unwrap();
    for n in 1..=count {
        let create = ecs_client.create_service().cluster(&cluster).service_name(format!("svc-{n}"));
        create.task_definition(&family).desired_count(1).launch_type(ecs::LaunchType::Ec2).send().await.unwrap();
    }
    (cluster, family)
}

#[tokio::test]
async fn services_are_listed_for_one_cluster_and_across_clusters() {
    let (sdk, gw) = setup().await;
    let ecs_client = aws_sdk_ecs::Client::new(&sdk);
    let (big, _) = cluster_with_services(&ecs_client, 12).await;
    let (small, family) = cluster_with_services(&ecs_client, 1).await;

    let in_big = gw.services.list(Some(&ClusterName::parse(&big).unwrap())).await.unwrap();
    let everywhere = gw.services.list(None).await.unwrap();

    assert_eq!(in_big.len(), 12, "more than one DescribeServices batch of 10");
    let mine: Vec<&ServiceSummary> = everywhere.iter().filter(|s| s.service.cluster.as_str() == small).collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].service.to_string(), format!("{small}/svc-1"));
    assert_eq!(mine[0].task_definition, TaskDefinitionRef { family, revision: 1 });
    assert_eq!((mine[0].status.as_str(), mine[0].desired), ("ACTIVE", 1));
    assert!(everywhere.iter().any(|s| s.service.cluster.as_str() == big));
}

#[tokio::test]
async fn a_service_is_described_with_its_containers_and_deployment() {
    let (sdk, gw) = setup().await;
    let (cluster, family) = cluster_with_services(&aws_sdk_ecs::Client::new(&sdk), 1).await;

    let detail = gw.services.describe(&ServiceRef::parse(&format!("{cluster}/svc-1")).unwrap()).await.unwrap();

    assert_eq!(detail.containers, [Container { name: "web".into(), image: "nginx:1.27".into() }]);
    let primary = &detail.deployments[0];
    assert_eq!(primary.status, "PRIMARY");
    assert_eq!(primary.task_definition, Some(TaskDefinitionRef { family, revision: 1 }));
    assert!(primary.rollout.is_some(), "{primary:?}");
}

#[tokio::test]
async fn a_missing_service_or_cluster_is_not_found() {
    let (sdk, gw) = setup().await;
    let (cluster, _) = cluster_with_services(&aws_sdk_ecs::Client::new(&sdk), 1).await;
    let ghost_cluster = unique("nocluster");

    let no_service = gw.services.describe(&ServiceRef::parse(&format!("{cluster}/nope")).unwrap()).await;
    let no_cluster = gw.services.describe(&ServiceRef::parse(&format!("{ghost_cluster}/api")).unwrap()).await;

    assert_eq!(no_service.unwrap_err().to_string(), format!("service `{cluster}/nope` was not found"));
    assert_eq!(no_cluster.unwrap_err().to_string(), format!("cluster `{ghost_cluster}` was not found"));
}

// ------------------------------------------------- CloudWatch (ministack)

#[tokio::test]
async fn an_alarm_set_to_alarm_is_listed_in_alarm_with_its_reason() {
    use aws_sdk_cloudwatch::types::{ComparisonOperator, StateValue, Statistic};
    let (sdk, gw) = setup().await;
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&sdk);
    let prefix = unique("checkout");
    let name = format!("{prefix}-5xx");
    cloudwatch
        .put_metric_alarm()
        .alarm_name(&name)
        .namespace("AWS/ApplicationELB")
        .metric_name("HTTPCode_Target_5XX_Count")
        .statistic(Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(5.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .unwrap();
    let reason = "Threshold Crossed: 1 datapoint [12.0] was greater than the threshold (5.0).";
    let set = cloudwatch.set_alarm_state().alarm_name(&name).state_value(StateValue::Alarm).state_reason(reason);
    set.send().await.unwrap();

    let alarms = gw.alarms.list(Some(&AlarmPrefix::parse(&prefix).unwrap())).await.unwrap();

    assert_eq!(alarms.len(), 1, "{alarms:?}");
    let alarm = &alarms[0];
    assert_eq!(
        (alarm.name.as_str(), &alarm.state, alarm.reason.as_deref()),
        (name.as_str(), &AlarmState::Alarm, Some(reason))
    );
    assert_eq!(alarm.metric.as_deref(), Some("AWS/ApplicationELB HTTPCode_Target_5XX_Count"));
    assert!(alarm.since.is_some());
}
