//! Demo pipelines: `storefront-web` failed in Build, at the run the demo's
//! story tells (a retry passes),
//! `payments-api` waits at `ApproveProd` (approve it and DeployProd runs),
//! `catalog-service` succeeded. Each has Source → Build → Deploy stages, a
//! GitHub commit and a trigger.

use opsbot_commands::ports::{ActionCategory, ActionError, ActionState, ExecStatus, Execution, SourceRevision, Time};
use opsbot_commands::values::PipelineName;

use super::common::ago;
use crate::sandbox::account::Account;
use crate::sandbox::account::{ACCOUNT_ID, REGION};
use crate::sandbox::pipelines::{SimPipeline, SimStage};

pub(super) fn seed(account: &mut Account) {
    let now = account.now;
    for pipeline in [storefront_web(now), payments_api(now), catalog_service(now)] {
        account.pipelines.insert(pipeline.name.clone(), pipeline);
    }
}

/// The `storefront-web` run the demo's story tells (`sandbox::story`).
pub const STOREFRONT_RUN: &str = "d3f1a2b4-7c6e-4e1a-9b2d-5f8e7a6c4b3d";
/// Its source commit.
pub const STOREFRONT_COMMIT: &str = "7d2c9e1b4a6f0c3e5d8a1b2c9f4e7d6a5b3c2e1f";

/// Its latest execution is the one the demo's story tells (`sandbox::story`):
/// started 6 minutes ago by li.wei's push, failed 3 minutes ago at
/// Build/UnitTests — so a Retry on the story's message retries this run.
/// An earlier failed run, by maria, stays in its history.
fn storefront_web(now: Time) -> SimPipeline {
    let (commit, message) = (STOREFRONT_COMMIT, "Checkout: retry the payment call");
    let earlier = ("a3f9c2e71b4d5e8f90a1b2c3d4e5f60718293a4b", "checkout: apply promo codes before tax (#1482)");
    let tests = ActionState {
        error: Some(ActionError {
            code: Some("JobFailed".into()),
            message: "npm test: 2 failing (checkout.spec.ts: retries the payment call)".into(),
        }),
        external_url: Some(codebuild_url("storefront-web", "6a0e2f4c-9b1d-4c3e-8f7a-2d5b9c1e0a47")),
        ..ran("UnitTests", ActionCategory::Test, ExecStatus::Failed, ago(now, 3))
    };
    SimPipeline::seeded(
        name("storefront-web"),
        now,
        vec![
            Execution {
                id: "b8d3e5f1-4c2a-4f7e-9a61-0d2c7e3f9a14".into(),
                status: ExecStatus::Failed,
                started: Some(ago(now, 26)),
                updated: Some(ago(now, 19)),
                trigger: Some("Webhook (GitHub push by maria)".into()),
                revisions: vec![revision("storefront-web", earlier.0, earlier.1)],
            },
            Execution {
                id: STOREFRONT_RUN.into(),
                status: ExecStatus::Failed,
                started: Some(ago(now, 6)),
                updated: Some(ago(now, 3)),
                trigger: Some("Webhook (GitHub push by li.wei)".into()),
                revisions: vec![revision("storefront-web", commit, message)],
            },
        ],
        vec![
            stage("Source", vec![source("storefront-web", commit, message, ago(now, 5))]),
            stage("Build", vec![tests]),
            stage("Deploy", vec![idle("Deploy", ActionCategory::Deploy)]),
        ],
    )
}

fn payments_api(now: Time) -> SimPipeline {
    let (commit, message) =
        ("e41d7b09c3a2f5e6d7c8b9a0f1e2d3c4b5a69788", "Retry card authorisation on 502 from the PSP (#733)");
    let approval = ActionState {
        external_url: Some(
            "https://grafana.acme-shop.example/d/payments-canary/payments-canary?var-env=staging&from=now-1h".into(),
        ),
        ..ran("ManualApproval", ActionCategory::Approval, ExecStatus::InProgress, ago(now, 41))
    };
    SimPipeline::seeded(
        name("payments-api"),
        now,
        vec![Execution {
            id: "5e1a7c93-2d4b-4b8f-a6e0-9c3f1d2b7e58".into(),
            status: ExecStatus::InProgress,
            started: Some(ago(now, 52)),
            updated: Some(ago(now, 41)),
            trigger: Some("Webhook (GitHub push by li.wei)".into()),
            revisions: vec![revision("payments-api", commit, message)],
        }],
        vec![
            stage("Source", vec![source("payments-api", commit, message, ago(now, 51))]),
            stage("Build", vec![build_ok("payments-api", "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", ago(now, 45))]),
            stage("DeployStaging", vec![deploy_ok("DeployStaging", "staging", "payments", ago(now, 41))]),
            stage("ApproveProd", vec![approval]),
            stage("DeployProd", vec![idle("DeployProd", ActionCategory::Deploy)]),
        ],
    )
}

fn catalog_service(now: Time) -> SimPipeline {
    let (commit, message) =
        ("7b2e9f4c1a0d3e5b6c8a9f0e1d2c3b4a59687f6e", "Cache the category tree for 5 minutes (#318)");
    SimPipeline::seeded(
        name("catalog-service"),
        now,
        vec![Execution {
            id: "0c9f4b2e-7a1d-4e3c-8b5f-6d2a9e0c1f73".into(),
            status: ExecStatus::Succeeded,
            started: Some(ago(now, 194)),
            updated: Some(ago(now, 180)),
            trigger: Some("StartPipelineExecution by daniel".into()),
            revisions: vec![revision("catalog-service", commit, message)],
        }],
        vec![
            stage("Source", vec![source("catalog-service", commit, message, ago(now, 193))]),
            stage("Build", vec![build_ok("catalog-service", "3c2b1a0f-9e8d-4c7b-a6f5-e4d3c2b1a0f9", ago(now, 186))]),
            stage("Deploy", vec![deploy_ok("Deploy", "prod", "catalog", ago(now, 180))]),
        ],
    )
}

fn name(raw: &str) -> PipelineName {
    PipelineName::parse(raw).expect("demo pipeline names are valid")
}

fn stage(name: &str, actions: Vec<ActionState>) -> SimStage {
    SimStage { name: name.into(), actions, execution_id: None }
}

/// An action of the latest execution that reached `status` at `at`.
fn ran(name: &str, category: ActionCategory, status: ExecStatus, at: Time) -> ActionState {
    ActionState { status: Some(status), last_change: Some(at), ..idle(name, category) }
}

/// An action the latest execution has not reached.
fn idle(name: &str, category: ActionCategory) -> ActionState {
    ActionState {
        name: name.into(),
        category,
        status: None,
        last_change: None,
        summary: None,
        error: None,
        external_url: None,
        token: None,
    }
}

fn commit_url(repo: &str, commit: &str) -> String {
    format!("https://github.com/acme-shop/{repo}/commit/{commit}")
}

fn revision(repo: &str, commit: &str, message: &str) -> SourceRevision {
    SourceRevision {
        action: "Source".into(),
        id: commit.into(),
        summary: Some(message.into()),
        url: Some(commit_url(repo, commit)),
    }
}

/// A GitHub source action: CodePipeline shows the commit message as summary.
fn source(repo: &str, commit: &str, message: &str, at: Time) -> ActionState {
    ActionState {
        summary: Some(message.into()),
        external_url: Some(commit_url(repo, commit)),
        ..ran("Source", ActionCategory::Source, ExecStatus::Succeeded, at)
    }
}

fn codebuild_url(project: &str, build: &str) -> String {
    format!(
        "https://{REGION}.console.aws.amazon.com/codesuite/codebuild/{ACCOUNT_ID}/projects/{project}/build/{project}%3A{build}/?region={REGION}"
    )
}

fn build_ok(project: &str, build: &str, at: Time) -> ActionState {
    ActionState {
        external_url: Some(codebuild_url(project, build)),
        ..ran("Build", ActionCategory::Build, ExecStatus::Succeeded, at)
    }
}

fn deploy_ok(action: &str, cluster: &str, service: &str, at: Time) -> ActionState {
    ActionState {
        external_url: Some(format!(
            "https://{REGION}.console.aws.amazon.com/ecs/v2/clusters/{cluster}/services/{service}/deployments?region={REGION}"
        )),
        ..ran(action, ActionCategory::Deploy, ExecStatus::Succeeded, at)
    }
}
