//! The ECS changes (`ServiceChanges` in `bot/aws/ecs_changes.rs`) and the
//! `deploy` command against moto, CloudWatch alarms against ministack.
//!
//! moto implements RegisterTaskDefinition, DescribeTaskDefinition (with tags)
//! and UpdateService with `desiredCount`, `taskDefinition` and
//! `forceNewDeployment`, but its deployment list never moves (see
//! shared/notes): so these tests assert what moto keeps — the desired count,
//! the service's task definition, the registered revision and its fields —
//! and leave the rollout to the aws-smithy-mocks tests and the sandbox.

use aws_config::SdkConfig;
use aws_sdk_ecs::types as ecs;
use opsbot_commands::change::{ChangeCommand, Verdict};
use opsbot_commands::cmd::deploy::Deploy;
use opsbot_commands::command::CommandDef;
use opsbot_commands::ports::*;
use opsbot_commands::values::*;

use crate::support::emulators::{emulators, unique};

const APP_IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/api:1.41.3";
const SIDECAR_IMAGE: &str = "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.2";

/// A cluster with service `api` (2 tasks, EC2 launch type: no VPC needed in
/// moto) on revision 1 of a fresh family: an app container, a log-router
/// sidecar, roles, cpu / memory, an environment variable and a tag.
struct Fixture {
    sdk: SdkConfig,
    gateways: Gateways,
    ecs: aws_sdk_ecs::Client,
    service: ServiceRef,
    family: String,
}

async fn fixture() -> Fixture {
    let sdk = emulators().await.sdk_config().await;
    let gateways = opsbot::aws::gateways(&sdk, &Default::default());
    let ecs = aws_sdk_ecs::Client::new(&sdk);
    let (cluster, family) = (unique("shop"), unique("api"));
    ecs.create_cluster().cluster_name(&cluster).send().await.unwrap();
    let env = ecs::KeyValuePair::builder().name("MODE").value("prod").build();
    let app = ecs::ContainerDefinition::builder().name("api").image(APP_IMAGE).memory(256).environment(env).build();
    let router = ecs::ContainerDefinition::builder().name("log-router").image(SIDECAR_IMAGE).memory(64).build();
    ecs.register_task_definition()
        .family(&family)
        .task_role_arn("arn:aws:iam::123456789012:role/api-task")
        .execution_role_arn("arn:aws:iam::123456789012:role/api-exec")
        .network_mode(ecs::NetworkMode::Bridge)
        .requires_compatibilities(ecs::Compatibility::Ec2)
        .cpu("256")
        .memory("512")
        .container_definitions(app)
        .container_definitions(router)
        .tags(ecs::Tag::builder().key("team").value("shop").build())
        .send()
        .await
        .unwrap();
    let create = ecs.create_service().cluster(&cluster).service_name("api").task_definition(format!("{family}:1"));
    create.desired_count(2).launch_type(ecs::LaunchType::Ec2).send().await.unwrap();
    let service = ServiceRef::parse(&format!("{cluster}/api")).unwrap();
    Fixture { sdk, gateways, ecs, service, family }
}

impl Fixture {
    fn revision(&self, revision: i32) -> TaskDefinitionRef {
        TaskDefinitionRef { family: self.family.clone(), revision }
    }

    /// Revision `n` as moto stores it, with its tags.
    async fn stored(
        &self,
        revision: i32,
    ) -> aws_sdk_ecs::operation::describe_task_definition::DescribeTaskDefinitionOutput {
        let described = self.ecs.describe_task_definition().task_definition(self.revision(revision).to_string());
        described.include(ecs::TaskDefinitionField::Tags).send().await.unwrap()
    }
}

fn context() -> opsbot_commands::Context {
    opsbot_commands::Context {
        request_id: unique("req"),
        user: SlackUserId::parse("U0DEV").unwrap(),
        user_name: None,
        groups: Vec::new(),
        channel: ChannelId::parse("C0OPS").unwrap(),
        channel_name: None,
        now: chrono::Utc::now(),
    }
}

#[tokio::test]
async fn scale_changes_the_desired_count() {
    let f = fixture().await;

    let receipt = f.gateways.service_changes.scale(&f.service, 5).await.unwrap();

    assert!(receipt.request_id.is_some(), "moto answers with x-amzn-RequestId");
    assert_eq!(f.gateways.services.describe(&f.service).await.unwrap().summary.desired, 5);
}

#[tokio::test]
async fn a_new_revision_is_a_copy_with_only_the_named_image_changed() {
    let f = fixture().await;
    let image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/api:1.42.0";

    let swap = [Container { name: "api".into(), image: image.into() }];
    let (new, receipt) = f.gateways.service_changes.register_revision(&f.revision(1), &swap).await.unwrap();

    assert_eq!((new, receipt.request_id.is_some()), (f.revision(2), true));
    let stored = f.stored(2).await;
    let td = stored.task_definition().unwrap();
    let images: Vec<_> = td.container_definitions().iter().map(|c| (c.name().unwrap(), c.image().unwrap())).collect();
    assert_eq!(images, [("api", image), ("log-router", SIDECAR_IMAGE)]);
    assert_eq!(td.container_definitions()[0].environment()[0].value(), Some("prod"));
    assert_eq!(td.task_role_arn(), Some("arn:aws:iam::123456789012:role/api-task"));
    assert_eq!(td.execution_role_arn(), Some("arn:aws:iam::123456789012:role/api-exec"));
    assert_eq!((td.cpu(), td.memory(), td.network_mode()), (Some("256"), Some("512"), Some(&ecs::NetworkMode::Bridge)));
    assert_eq!(td.requires_compatibilities(), [ecs::Compatibility::Ec2]);
    let tags: Vec<_> = stored.tags().iter().map(|t| (t.key().unwrap(), t.value().unwrap())).collect();
    assert_eq!(tags, [("team", "shop")]);
}

#[tokio::test]
async fn a_registered_revision_is_found_and_an_unknown_one_is_none() {
    let f = fixture().await;

    let one = f.gateways.service_changes.task_definition(&f.revision(1)).await.unwrap().unwrap();
    let nine = f.gateways.service_changes.task_definition(&f.revision(9)).await.unwrap();

    assert_eq!((one.status.as_str(), one.containers.len()), ("ACTIVE", 2));
    assert_eq!(nine, None, "moto answers ClientException \"Unable to describe task definition.\", as ECS does");
}

#[tokio::test]
async fn an_update_points_the_service_at_another_revision() {
    let f = fixture().await;
    let swap = [Container { name: "api".into(), image: "r.io/shop/api:2".into() }];
    let (new, _) = f.gateways.service_changes.register_revision(&f.revision(1), &swap).await.unwrap();

    let update = ServiceUpdate { task_definition: Some(new.clone()), force_new_deployment: false };
    let updated = f.gateways.service_changes.update_service(&f.service, &update).await.unwrap();

    assert!(updated.receipt.request_id.is_some());
    let detail = f.gateways.services.describe(&f.service).await.unwrap();
    assert_eq!(detail.summary.task_definition, new);
    assert_eq!(detail.containers[0].image, "r.io/shop/api:2");
}

#[tokio::test]
async fn a_forced_deployment_names_the_deployment_it_started() {
    let f = fixture().await;
    let before = f.gateways.services.describe(&f.service).await.unwrap().deployments[0].id.clone();

    let restart = ServiceUpdate { task_definition: None, force_new_deployment: true };
    let updated = f.gateways.service_changes.update_service(&f.service, &restart).await.unwrap();

    let started = updated.deployment.expect("the PRIMARY deployment in UpdateService's answer");
    assert_ne!(started, before, "moto gives the PRIMARY deployment a new id");
    let detail = f.gateways.services.describe(&f.service).await.unwrap();
    assert_eq!(
        (detail.deployments[0].id.as_str(), &detail.summary.task_definition),
        (started.as_str(), &f.revision(1))
    );
}

#[tokio::test]
async fn deploy_registers_the_tag_and_points_the_service_at_it() {
    let f = fixture().await;
    let aws = f.gateways.clone();
    let deploy = Deploy::parse(&[f.service.to_string(), "1.42.0".into()]).unwrap();

    let plan = deploy.plan(&context(), &aws).await.unwrap();
    assert!(plan.lines[1].ends_with("`api:1.41.3` → `api:1.42.0`"), "{plan:?}");
    // moto's deployments stay IN_PROGRESS forever, so the plan refuses; `act`
    // is what runs once a plan is confirmed.
    assert!(matches!(&plan.verdict, Verdict::Unsafe(r) if r.len() == 1 && r[0].contains("still rolling out")));
    let outcome = deploy.act(&context(), &aws).await.unwrap();

    assert_eq!(outcome.aws_request_ids.len(), 2, "RegisterTaskDefinition and UpdateService");
    let detail = aws.services.describe(&f.service).await.unwrap();
    assert_eq!(detail.summary.task_definition, f.revision(2));
    let images: Vec<&str> = detail.containers.iter().map(|c| c.image.as_str()).collect();
    assert_eq!(images, ["123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/api:1.42.0", SIDECAR_IMAGE]);
}

#[tokio::test]
async fn deploy_is_refused_while_an_alarm_on_the_service_fires() {
    use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, StateValue, Statistic};
    let f = fixture().await;
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&f.sdk);
    let name = unique("api-cpu-high");
    let dimension = |n: &str, v: &str| Dimension::builder().name(n).value(v).build();
    cloudwatch
        .put_metric_alarm()
        .alarm_name(&name)
        .namespace("AWS/ECS")
        .metric_name("CPUUtilization")
        .dimensions(dimension("ClusterName", f.service.cluster.as_str()))
        .dimensions(dimension("ServiceName", &f.service.service))
        .statistic(Statistic::Average)
        .period(60)
        .evaluation_periods(1)
        .threshold(85.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .unwrap();
    let set = cloudwatch.set_alarm_state().alarm_name(&name).state_value(StateValue::Alarm).state_reason("CPU high");
    set.send().await.unwrap();

    let deploy = Deploy::parse(&[f.service.to_string(), "1.42.0".into()]).unwrap();
    let plan = deploy.plan(&context(), &f.gateways).await.unwrap();

    let Verdict::Unsafe(reasons) = plan.verdict else { panic!("{plan:?}") };
    assert!(reasons.iter().any(|r| r.starts_with(&format!("alarm {name} on {}", f.service))), "{reasons:?}");
}
