//! CodePipeline in the sandbox: pipelines with their executions and the
//! stage/action state `GetPipelineState` would report.
//!
//! A stage's status is derived from its actions ([`stage_status`]) rather than
//! stored, so progressing an action (an approval granted, a retry) cannot leave
//! its stage saying something else.

use async_trait::async_trait;
use opsbot_commands::ports::{
    ActionState, ExecStatus, Execution, PipelineState, PipelineSummary, Pipelines, StageState,
};
use opsbot_commands::values::PipelineName;
use opsbot_commands::{GatewayError, GatewayResult};

use super::Sandbox;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimPipeline {
    pub name: PipelineName,
    /// Every execution, oldest first: the last one is the latest.
    pub executions: Vec<Execution>,
    /// Stages in order, each with its actions' latest state.
    pub stages: Vec<SimStage>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimStage {
    pub name: String,
    pub actions: Vec<ActionState>,
}

impl SimPipeline {
    pub fn latest(&self) -> Option<&Execution> {
        self.executions.last()
    }

    fn summary(&self) -> PipelineSummary {
        PipelineSummary { name: self.name.clone(), latest: self.latest().cloned() }
    }

    fn state(&self) -> PipelineState {
        let stages = self
            .stages
            .iter()
            .map(|s| StageState { name: s.name.clone(), status: stage_status(&s.actions), actions: s.actions.clone() })
            .collect();
        PipelineState { name: self.name.clone(), latest: self.latest().cloned(), stages }
    }
}

/// A stage's status as CodePipeline reports it: failed or in progress if any
/// action is, succeeded when every action that ran succeeded, `None` when
/// none ran.
pub fn stage_status(actions: &[ActionState]) -> Option<ExecStatus> {
    let statuses: Vec<&ExecStatus> = actions.iter().filter_map(|a| a.status.as_ref()).collect();
    for urgent in [ExecStatus::Failed, ExecStatus::InProgress, ExecStatus::Stopped] {
        if statuses.contains(&&urgent) {
            return Some(urgent);
        }
    }
    statuses.last().map(|s| (*s).clone())
}

#[async_trait]
impl Pipelines for Sandbox {
    async fn list(&self) -> GatewayResult<Vec<PipelineSummary>> {
        Ok(self.read(|a| a.pipelines.values().map(SimPipeline::summary).collect()))
    }

    async fn state(&self, name: &PipelineName) -> GatewayResult<PipelineState> {
        self.read(|a| a.pipelines.get(name).map(SimPipeline::state))
            .ok_or_else(|| GatewayError::not_found(format!("pipeline `{name}`")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::seed::tests::demo;
    use opsbot_commands::ports::ActionCategory;

    fn name(raw: &str) -> PipelineName {
        PipelineName::parse(raw).unwrap()
    }

    #[tokio::test]
    async fn the_demo_has_one_failed_one_waiting_and_one_green_pipeline() {
        let list = Pipelines::list(&demo()).await.unwrap();
        let statuses: Vec<(&str, ExecStatus)> =
            list.iter().map(|p| (p.name.as_str(), p.latest.clone().unwrap().status)).collect();
        assert_eq!(
            statuses,
            [
                ("catalog-service", ExecStatus::Succeeded),
                ("payments-api", ExecStatus::InProgress),
                ("storefront-web", ExecStatus::Failed),
            ]
        );
    }

    #[tokio::test]
    async fn the_failed_build_carries_codebuilds_error() {
        let state = demo().state(&name("storefront-web")).await.unwrap();
        let build = state.stages.iter().find(|s| s.name == "Build").unwrap();
        assert_eq!(build.status, Some(ExecStatus::Failed));
        let error = build.actions[0].error.clone().unwrap();
        assert_eq!(error.code.as_deref(), Some("JobFailed"));
        assert!(error.message.contains("checkout.spec.ts"), "{}", error.message);
        assert_eq!(state.stages.last().unwrap().status, None, "Deploy never ran");
    }

    #[tokio::test]
    async fn payments_waits_for_a_manual_approval_with_a_review_link() {
        let state = demo().state(&name("payments-api")).await.unwrap();
        let stage = state.stages.iter().find(|s| s.name == "ApproveProd").unwrap();
        assert_eq!(stage.status, Some(ExecStatus::InProgress));
        let approval = &stage.actions[0];
        assert!(approval.awaits_approval());
        assert_eq!(approval.category, ActionCategory::Approval);
        assert!(approval.external_url.as_deref().unwrap().starts_with("https://"));
    }

    #[tokio::test]
    async fn an_unknown_pipeline_is_not_found_like_the_aws_gateway_says() {
        let err = demo().state(&name("nope")).await.unwrap_err();
        assert!(matches!(&err, GatewayError::NotFound { what } if what == "pipeline `nope`"), "{err:?}");
    }
}
