//! SSM Automation in the sandbox: `start` looks the runbook up in the
//! catalog (`ssm::automation_steps`) and records when it started; every look
//! at the execution works out from the time elapsed which steps are done,
//! which one runs and whether one failed (the steps after a failure never run).

use std::time::Duration;

use async_trait::async_trait;
use opsbot_commands::ports::{
    AutomationRun, AutomationStep, Automations, Document, Documents, Receipt, RunStatus, RunningAutomation, Started,
};
use opsbot_commands::values::SlackUserId;
use opsbot_commands::values::ssm::{DocParams, DocumentName, ExecutionId};
use opsbot_commands::{GatewayError, GatewayResult};
use tokio::time::Instant;

use super::Sandbox;
use super::account::ACCOUNT_ID;
use super::ssm::{SimAutomation, automation_steps, document};

#[async_trait]
impl Automations for Sandbox {
    async fn start(&self, document: &DocumentName, parameters: &DocParams, by: &SlackUserId) -> GatewayResult<Started> {
        let steps = automation_steps(document.as_str())
            .ok_or_else(|| GatewayError::not_found(format!("automation document `{document}`")))?;
        Ok(self.update(|account| {
            let id = account.ssm.next_id();
            let started_at = account.ssm.now(account.now);
            let by = format!("arn:aws:sts::{ACCOUNT_ID}:assumed-role/opsbot/{by}");
            let sim = SimAutomation {
                document: document.to_string(),
                steps,
                started: Instant::now(),
                started_at,
                by,
                parameters: parameters.clone(),
            };
            account.ssm.automations.insert(id.clone(), sim);
            Started { receipt: Receipt { request_id: Some(format!("sandbox-automation-{id}")) }, id }
        }))
    }

    async fn execution(&self, id: &ExecutionId) -> GatewayResult<AutomationRun> {
        self.read(|account| account.ssm.automations.get(id.as_str()).map(|sim| view(id, sim)))
            .ok_or_else(|| GatewayError::not_found(format!("automation execution `{id}`")))
    }

    async fn running(&self, document: &DocumentName) -> GatewayResult<Vec<RunningAutomation>> {
        Ok(self.read(|account| {
            let automations = account.ssm.automations.iter().filter(|(_, sim)| sim.document == document.as_str());
            automations
                .filter_map(|(id, sim)| {
                    let run = view(&ExecutionId::parse(id).ok()?, sim);
                    (!run.status.is_final())
                        .then(|| RunningAutomation { id: id.clone(), parameters: sim.parameters.clone() })
                })
                .collect()
        }))
    }
}

#[async_trait]
impl Documents for Sandbox {
    async fn document(&self, name: &DocumentName) -> GatewayResult<Option<Document>> {
        Ok(document(name.as_str()))
    }
}

/// The execution as it stands now.
fn view(id: &ExecutionId, sim: &SimAutomation) -> AutomationRun {
    let elapsed = sim.started.elapsed();
    let mut run = AutomationRun {
        id: id.to_string(),
        document: sim.document.clone(),
        status: RunStatus::Success,
        steps: Vec::new(),
        started: Some(sim.started_at),
        ended: None,
        failure: None,
        executed_by: Some(sim.by.clone()),
    };
    let mut end = Duration::ZERO;
    for step in &sim.steps {
        let start = end;
        end += step.takes;
        let status = match (elapsed, step.fails) {
            (e, _) if e < start => RunStatus::Pending,
            (e, _) if e < end => RunStatus::InProgress,
            (_, Some(_)) => RunStatus::Failed,
            (_, None) => RunStatus::Success,
        };
        let failure = step.fails.filter(|_| status == RunStatus::Failed).map(str::to_owned);
        if status != RunStatus::Success && run.status == RunStatus::Success {
            run.status = if status == RunStatus::Failed { RunStatus::Failed } else { RunStatus::InProgress };
        }
        run.steps.push(AutomationStep { name: step.name.into(), action: Some(step.action.into()), status, failure });
        if run.status == RunStatus::Failed {
            run.failure = Some(format!("Step {} failed: {}", step.name, step.fails.unwrap_or_default()));
            break;
        }
    }
    if run.status.is_final() {
        run.ended = Some(sim.started_at + chrono::Duration::from_std(end.min(elapsed)).unwrap_or_default());
    }
    run
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::seed::tests::demo;

    fn doc(name: &str) -> DocumentName {
        DocumentName::parse(name).unwrap()
    }

    async fn start(sandbox: &Sandbox, name: &str) -> ExecutionId {
        let user = SlackUserId::parse("U0DEV").unwrap();
        let started = sandbox.start(&doc(name), &DocParams::default(), &user).await.unwrap();
        ExecutionId::parse(&started.id).unwrap()
    }

    fn statuses(run: &AutomationRun) -> Vec<(&str, RunStatus)> {
        run.steps.iter().map(|s| (s.name.as_str(), s.status.clone())).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn a_runbook_moves_through_its_steps_as_time_passes() {
        let sandbox = demo();
        let id = start(&sandbox, "AWS-RestartEC2Instance").await;

        let at_start = sandbox.execution(&id).await.unwrap();
        tokio::time::advance(Duration::from_secs(5)).await;
        let midway = sandbox.execution(&id).await.unwrap();
        tokio::time::advance(Duration::from_secs(10)).await;
        let done = sandbox.execution(&id).await.unwrap();

        assert_eq!(at_start.status, RunStatus::InProgress);
        assert_eq!(
            statuses(&midway),
            [("stopInstances", RunStatus::Success), ("startInstances", RunStatus::InProgress)]
        );
        assert_eq!(done.status, RunStatus::Success);
        assert_eq!(done.ended.unwrap() - done.started.unwrap(), chrono::Duration::seconds(10));
        assert!(done.executed_by.unwrap().ends_with("assumed-role/opsbot/U0DEV"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_runbook_stops_at_the_failed_step_with_its_reason() {
        let sandbox = demo();
        let id = start(&sandbox, "Shop-MigrateLegacy").await;
        tokio::time::advance(Duration::from_secs(60)).await;

        let run = sandbox.execution(&id).await.unwrap();

        assert_eq!(run.status, RunStatus::Failed);
        assert_eq!(statuses(&run), [("snapshotDatabase", RunStatus::Success), ("migrateSchema", RunStatus::Failed)]);
        assert!(run.failure.unwrap().contains("table `orders` is locked"));
    }

    #[tokio::test]
    async fn unknown_runbooks_and_executions_are_not_found() {
        let sandbox = demo();
        let user = SlackUserId::parse("U0DEV").unwrap();
        let err = sandbox.start(&doc("Nope-Doc"), &DocParams::default(), &user).await.unwrap_err();
        assert_eq!(err.to_string(), "automation document `Nope-Doc` was not found");
        let id = ExecutionId::parse("4105a4fc-f944-11e6-9d32-8fb2db27a909").unwrap();
        assert!(sandbox.execution(&id).await.is_err());
    }
}
