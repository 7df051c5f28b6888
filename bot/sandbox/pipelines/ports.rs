//! The `Pipelines` and `PipelineChanges` ports of the sandbox over its
//! [`SimPipeline`]s: every call first brings the pipeline up to the present.
//! Apart from the data (`pipelines.rs`), which the account names, so that the
//! data never imports the [`Sandbox`] that holds it.

use async_trait::async_trait;
use opsbot_commands::ports::{
    Applied, ApprovalDecision, Execution, PipelineChanges, PipelineState, PipelineSummary, Pipelines, Receipt,
    WaitingApproval,
};
use opsbot_commands::values::PipelineName;
use opsbot_commands::{GatewayError, GatewayResult};
use tokio::time::Instant;

use super::SimPipeline;
use crate::sandbox::Sandbox;

impl Sandbox {
    /// Runs `f` on pipeline `name`, brought up to the present, under the lock.
    pub(crate) fn with_pipeline<R>(
        &self,
        name: &PipelineName,
        f: impl FnOnce(&mut SimPipeline) -> GatewayResult<R>,
    ) -> GatewayResult<R> {
        self.update(|account| {
            let pipeline = account.pipelines.get_mut(name).ok_or_else(|| missing(name))?;
            pipeline.advance(Instant::now());
            f(pipeline)
        })
    }
}

fn missing(name: &PipelineName) -> GatewayError {
    GatewayError::not_found(format!("pipeline `{name}`"))
}

#[async_trait]
impl Pipelines for Sandbox {
    async fn list(&self) -> GatewayResult<Vec<PipelineSummary>> {
        let now = Instant::now();
        let summary = |p: &mut SimPipeline| {
            p.advance(now);
            p.summary()
        };
        Ok(self.update(|a| a.pipelines.values_mut().map(summary).collect()))
    }

    async fn state(&self, name: &PipelineName) -> GatewayResult<PipelineState> {
        self.with_pipeline(name, |p| Ok(p.state()))
    }

    async fn execution(&self, name: &PipelineName, id: &str) -> GatewayResult<Execution> {
        self.with_pipeline(name, |p| {
            let found = p.executions.iter().find(|e| e.id == id).cloned();
            found.ok_or_else(|| GatewayError::not_found(format!("execution {id} of pipeline `{name}`")))
        })
    }
}

fn receipt(what: &str, name: &PipelineName) -> Receipt {
    Receipt { request_id: Some(format!("sandbox-{what}-{name}")) }
}

fn applied(done: bool, what: &str, name: &PipelineName) -> Applied {
    if done { Applied::Done(receipt(what, name)) } else { Applied::TooLate }
}

#[async_trait]
impl PipelineChanges for Sandbox {
    async fn start(&self, name: &PipelineName) -> GatewayResult<(String, Receipt)> {
        self.with_pipeline(name, |p| Ok((p.start(Instant::now()), receipt("start", name))))
    }

    async fn retry_stage(&self, name: &PipelineName, stage: &str, execution_id: &str) -> GatewayResult<Applied> {
        self.with_pipeline(name, |p| {
            let found = p.stages.iter().position(|s| s.name == stage);
            let found =
                found.ok_or_else(|| GatewayError::not_found(format!("stage `{stage}` of pipeline `{name}`")))?;
            Ok(applied(p.retry(found, execution_id, Instant::now()), "retry", name))
        })
    }

    async fn stop(&self, name: &PipelineName, id: &str, abandon: bool, reason: &str) -> GatewayResult<Applied> {
        self.with_pipeline(name, |p| {
            let done = p.stop(id, abandon, Instant::now());
            if done {
                p.log.push(format!("stop {id} abandon={abandon}: {reason}"));
            }
            Ok(applied(done, "stop", name))
        })
    }

    async fn put_approval(
        &self,
        name: &PipelineName,
        approval: &WaitingApproval,
        decision: ApprovalDecision,
        summary: &str,
    ) -> GatewayResult<Applied> {
        self.with_pipeline(name, |p| {
            let WaitingApproval { stage, action, token } = approval;
            let at = p.stages.iter().enumerate().find_map(|(s, sim)| {
                (sim.name == *stage).then(|| sim.actions.iter().position(|a| a.name == *action).map(|a| (s, a)))?
            });
            let what = || GatewayError::not_found(format!("approval {stage}/{action} of pipeline `{name}`"));
            // As CodePipeline does, the decision is told as the action's
            // event (the approval's message then shows who decided, without
            // buttons), and the run's moves after it as theirs.
            let done = p.decide(at.ok_or_else(what)?, token, decision, summary, Instant::now());
            if done {
                p.log.push(format!("{decision:?} {stage}/{action}: {summary}"));
            }
            Ok(applied(done, "approval", name))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::seed::tests::demo;
    use opsbot_commands::ports::{ActionCategory, ExecStatus};

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
        assert_eq!(build.execution_id, state.latest.as_ref().map(|e| e.id.clone()));
        let error = build.actions[0].error.clone().unwrap();
        assert_eq!(error.code.as_deref(), Some("JobFailed"));
        assert!(error.message.contains("checkout.spec.ts"), "{}", error.message);
        assert_eq!(state.stages.last().unwrap().status, None, "Deploy never ran");
    }

    #[tokio::test]
    async fn payments_waits_for_a_manual_approval_with_a_review_link_and_a_token() {
        let state = demo().state(&name("payments-api")).await.unwrap();
        let stage = state.stages.iter().find(|s| s.name == "ApproveProd").unwrap();
        assert_eq!(stage.status, Some(ExecStatus::InProgress));
        let approval = &stage.actions[0];
        assert!(approval.awaits_approval());
        assert_eq!(approval.category, ActionCategory::Approval);
        assert!(approval.external_url.as_deref().unwrap().starts_with("https://"));
        assert!(approval.token.is_some());
    }

    async fn waiting(sandbox: &Sandbox) -> (WaitingApproval, String) {
        let state = sandbox.state(&name("payments-api")).await.unwrap();
        let action = &state.stages.iter().find(|s| s.name == "ApproveProd").unwrap().actions[0];
        let token = action.token.clone().unwrap();
        (WaitingApproval { stage: "ApproveProd".into(), action: action.name.clone(), token }, state.latest.unwrap().id)
    }

    /// Each told event as (detail-type's first word after CodePipeline, stage/action, state).
    fn moves(told: &[String]) -> Vec<String> {
        told.iter()
            .map(|body| {
                let event: serde_json::Value = serde_json::from_str(body).unwrap();
                let d = &event["detail"];
                let kind = event["detail-type"].as_str().unwrap().split(' ').nth(1).unwrap().to_owned();
                let place = [d["stage"].as_str(), d["action"].as_str()].into_iter().flatten().collect::<Vec<_>>();
                format!("{kind} {} {}", place.join("/"), d["state"].as_str().unwrap())
            })
            .collect()
    }

    #[tokio::test]
    async fn a_rejection_is_told_once_as_codepipelines_events_of_the_action_stage_and_execution() {
        let sandbox = demo();
        let (waiting, execution) = waiting(&sandbox).await;

        sandbox.put_approval(&name("payments-api"), &waiting, ApprovalDecision::Reject, "no").await.unwrap();
        let told = sandbox.take_events();

        let action = format!("ApproveProd/{}", waiting.action);
        assert_eq!(
            moves(&told),
            [format!("Action {action} FAILED"), "Stage ApproveProd FAILED".into(), "Pipeline  FAILED".into()]
        );
        let event: serde_json::Value = serde_json::from_str(&told[0]).unwrap();
        assert_eq!(event["detail"]["execution-id"], execution.as_str());
        assert_eq!(event["detail"]["type"]["category"], "Approval");
        assert!(sandbox.take_events().is_empty(), "told once");
    }

    #[tokio::test(start_paused = true)]
    async fn an_approved_run_tells_each_move_as_it_happens_until_it_succeeds() {
        let sandbox = demo();
        let (waiting, _) = waiting(&sandbox).await;

        sandbox.put_approval(&name("payments-api"), &waiting, ApprovalDecision::Approve, "ok").await.unwrap();
        let at_once = moves(&sandbox.take_events());
        tokio::time::advance(std::time::Duration::from_secs(3600)).await;
        let later = moves(&sandbox.take_events());

        let action = format!("ApproveProd/{}", waiting.action);
        assert_eq!(at_once[..2], [format!("Action {action} SUCCEEDED"), "Stage ApproveProd SUCCEEDED".into()]);
        assert!(at_once[2..].iter().all(|m| m.ends_with("STARTED")), "the next stage starts at once: {at_once:?}");
        assert_eq!(later.last().map(String::as_str), Some("Pipeline  SUCCEEDED"), "{later:?}");
        assert!(sandbox.take_events().is_empty(), "told once");
    }

    #[tokio::test]
    async fn an_unknown_pipeline_or_execution_is_not_found_like_the_aws_gateway_says() {
        let err = demo().state(&name("nope")).await.unwrap_err();
        assert!(matches!(&err, GatewayError::NotFound { what } if what == "pipeline `nope`"), "{err:?}");
        let err = demo().execution(&name("payments-api"), "no-such-id").await.unwrap_err();
        assert_eq!(err.to_string(), "execution no-such-id of pipeline `payments-api` was not found");
    }
}
