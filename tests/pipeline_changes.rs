//! `pipeline start` against moto: StartPipelineExecution and
//! GetPipelineExecution are the two pipeline-change calls moto implements
//! (its executions are Succeeded at once). The command's `act` and `check`
//! run on the real AWS gateways; its plan reads GetPipelineState, which moto
//! does not have, so the plan, retries, stops and approvals are covered by
//! aws-smithy-mocks (`bot/aws/codepipeline_changes_tests.rs`) and the sandbox.

use aws_sdk_codepipeline::types as cp;
use opsbot_commands::Context;
use opsbot_commands::change::{ChangeCommand, Progress};
use opsbot_commands::cmd::pipeline_start::PipelineStart;
use opsbot_commands::command::CommandDef;
use opsbot_commands::error::GatewayError;
use opsbot_commands::ports::ExecStatus;
use opsbot_commands::values::{ChannelId, PipelineName, SlackUserId};

use crate::support::emulators::{emulators, unique};

/// A two-stage pipeline (S3 source, manual approval) in moto.
async fn pipeline(client: &aws_sdk_codepipeline::Client) -> String {
    let name = unique("start");
    let role = emulators().await.codepipeline_role().await;
    let type_id = |category, provider: &str| {
        cp::ActionTypeId::builder()
            .category(category)
            .owner(cp::ActionOwner::Aws)
            .provider(provider)
            .version("1")
            .build()
            .unwrap()
    };
    let source = cp::ActionDeclaration::builder()
        .name("Checkout")
        .action_type_id(type_id(cp::ActionCategory::Source, "S3"))
        .output_artifacts(cp::OutputArtifact::builder().name("SourceArtifact").build().unwrap())
        .build()
        .unwrap();
    let approval = cp::ActionDeclaration::builder()
        .name("LeadApproval")
        .action_type_id(type_id(cp::ActionCategory::Approval, "Manual"))
        .build()
        .unwrap();
    let stage = |name: &str, action| cp::StageDeclaration::builder().name(name).actions(action).build().unwrap();
    let store = cp::ArtifactStore::builder().r#type(cp::ArtifactStoreType::S3).location("artifacts").build().unwrap();
    let declaration = cp::PipelineDeclaration::builder()
        .name(&name)
        .role_arn(role)
        .artifact_store(store)
        .stages(stage("Source", source))
        .stages(stage("Approve", approval))
        .build()
        .unwrap();
    client.create_pipeline().pipeline(declaration).send().await.unwrap();
    name
}

fn ctx() -> Context {
    Context {
        request_id: "req-moto".into(),
        user: SlackUserId::parse("U0DEV").unwrap(),
        user_name: Some("dev".into()),
        groups: Vec::new(),
        channel: ChannelId::parse("C0OPS").unwrap(),
        channel_name: None,
        now: chrono::Utc::now(),
    }
}

#[tokio::test]
async fn a_started_execution_is_read_back_by_its_id() {
    let sdk = emulators().await.sdk_config().await;
    let gw = opsbot::aws::gateways(&sdk, &Default::default());
    let name = PipelineName::parse(&pipeline(&aws_sdk_codepipeline::Client::new(&sdk)).await).unwrap();

    let (id, receipt) = gw.pipeline_changes.start(&name).await.unwrap();

    assert!(!id.is_empty());
    assert!(receipt.request_id.is_some(), "moto sends x-amzn-RequestId");
    let execution = gw.pipelines.execution(&name, &id).await.unwrap();
    assert_eq!((execution.id.as_str(), &execution.status), (id.as_str(), &ExecStatus::Succeeded));
    assert!(execution.trigger.as_deref().unwrap_or_default().starts_with("StartPipelineExecution"), "{execution:?}");
}

#[tokio::test]
async fn pipeline_start_acts_and_follows_to_the_end_through_the_aws_gateways() {
    let sdk = emulators().await.sdk_config().await;
    let gw = opsbot::aws::gateways(&sdk, &Default::default());
    let name = pipeline(&aws_sdk_codepipeline::Client::new(&sdk)).await;
    let start = PipelineStart::parse(std::slice::from_ref(&name)).unwrap();

    let outcome = start.act(&ctx(), &gw).await.unwrap();

    assert!(outcome.lines[0].starts_with(&format!("Started *{name}*: execution `")), "{outcome:?}");
    assert_eq!(outcome.aws_request_ids.len(), 1);
    let Progress::Done(done) = start.check(&ctx(), &gw, &outcome).await.unwrap() else {
        panic!("moto finishes every execution at once")
    };
    assert!(done.contains("succeeded after"), "{done}");
}

#[tokio::test]
async fn starting_a_missing_pipeline_is_not_found() {
    let sdk = emulators().await.sdk_config().await;
    let name = PipelineName::parse(&unique("ghost")).unwrap();

    let err = opsbot::aws::gateways(&sdk, &Default::default()).pipeline_changes.start(&name).await.unwrap_err();

    assert!(matches!(&err, GatewayError::NotFound { what } if what == &format!("pipeline `{name}`")), "{err:?}");
}
