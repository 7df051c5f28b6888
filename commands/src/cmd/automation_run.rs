//! `automation run DOCUMENT [Key=Value ...]`: start an SSM Automation
//! runbook and follow it, step by step, until it succeeds, fails, times out
//! or is cancelled.
//!
//! Need and safety are the runbook's and the policy's (which `document` who
//! may run): the plan shows the document and its parameters exactly as they
//! will be sent. Verify: `GetAutomationExecution` until a final status; the
//! message shows the step running now, and at the end every step.
//!
//! Preflight ([`super::preflight`]), at plan time and again right before
//! starting: the document exists, is an Automation runbook, declares every
//! parameter given and gets every required one; no execution of it with the
//! same parameters is still pending or in progress. Nothing is pinned: the
//! plan shows the document and the parameters exactly as they will be sent.

use std::time::Duration;

use async_trait::async_trait;

use crate::change::{ChangeCommand, Follow, Outcome, Plan, Progress};
use crate::command::{Body, CommandDef};
use crate::context::Context;
use crate::error::{GatewayError, GatewayResult, UsageError};
use crate::mrkdwn::esc;
use crate::ports::{DocumentKind, Gateways, RunStatus};
use crate::spec::{Spec, expect_args};
use crate::values::ssm::{DocParams, DocumentName, ExecutionId};

use super::automation_status::{progress, summary};
use super::memo::Memo;
use super::preflight;

pub const SPEC: Spec = Spec {
    name: "automation run",
    args: "DOCUMENT [Key=Value ...]",
    summary: "Start an SSM Automation runbook and follow it step by step",
    example: "automation run AWS-RestartEC2Instance InstanceId=i-0abc123def4567890",
    changes: true,
    alias: None,
};

/// Runbooks run long; past this the message says where to look.
const TIMEOUT: Duration = Duration::from_secs(60 * 60);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutomationRun {
    pub document: DocumentName,
    pub parameters: DocParams,
    started: Memo<ExecutionId>,
}

impl CommandDef for AutomationRun {
    const SPEC: &'static Spec = &SPEC;

    fn parse(args: &[String]) -> Result<Self, UsageError> {
        expect_args(&SPEC, args, 1, usize::MAX)?;
        Ok(AutomationRun {
            document: DocumentName::parse(&args[0])?,
            parameters: DocParams::parse(&args[1..])?,
            started: Memo::default(),
        })
    }

    fn policy_args(&self) -> Vec<(&'static str, String)> {
        vec![("document", self.document.to_string())]
    }

    fn body(&self) -> Body<'_> {
        Body::Change(self)
    }
}

#[async_trait]
impl ChangeCommand for AutomationRun {
    async fn plan(&self, _ctx: &Context, aws: &Gateways) -> GatewayResult<Plan> {
        let mut lines = vec![format!("Start Automation *{}*", esc(self.document.as_str()))];
        if self.parameters.is_empty() {
            lines.push("with the document's default parameters".into());
        }
        lines.extend(self.parameters.lines().into_iter().map(|l| format!("• {l}")));
        let reasons = preflight::document(aws, &self.document, DocumentKind::Automation, &self.parameters).await?;
        let busy = preflight::automation_in_progress(aws, &self.document, &self.parameters).await?;
        let verdict = preflight::verdict(reasons, busy);
        Ok(Plan { lines, verdict })
    }

    async fn act(&self, ctx: &Context, aws: &Gateways) -> GatewayResult<Outcome> {
        let started = aws.automations.start(&self.document, &self.parameters, &ctx.user).await?;
        let id = ExecutionId::parse(&started.id).map_err(|e| GatewayError::other("unexpected execution id", e))?;
        self.started.keep(id);
        Ok(Outcome {
            lines: vec![format!(
                "Started Automation *{}*: execution `{}` (`automation status {}`).",
                esc(self.document.as_str()),
                esc(&started.id),
                esc(&started.id)
            )],
            aws_request_ids: started.receipt.request_id.into_iter().collect(),
            follow: Some(Follow { every: Duration::from_secs(5), timeout: TIMEOUT }),
        })
    }

    async fn check(&self, _ctx: &Context, aws: &Gateways, _outcome: &Outcome) -> GatewayResult<Progress> {
        let Some(id) = self.started.get() else { return Ok(Progress::Failed("the automation was not started".into())) };
        let run = aws.automations.execution(id).await?;
        Ok(match run.status {
            RunStatus::Success => Progress::Done(summary(&run)),
            ref s if s.is_final() => Progress::Failed(summary(&run)),
            _ => Progress::Running(progress(&run)),
        })
    }

    fn progress(&self) -> Option<String> {
        self.started.progress(SPEC.name, &self.document)
    }

    fn resume(&self, progress: &str) -> Result<(), String> {
        self.started.resume(SPEC.name, &self.document, progress)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::change::Verdict;
    use crate::testing::ssm::automation;
    use crate::testing::{FakeAws, ctx};

    fn run(text: &str) -> AutomationRun {
        match crate::Command::parse(text).unwrap() {
            crate::Command::AutomationRun(c) => c,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_document_and_its_parameters_parse() {
        let c = run("automation run AWS-RestartEC2Instance InstanceId=i-0abc123def4567890");
        assert_eq!(c.document.as_str(), "AWS-RestartEC2Instance");
        assert_eq!(c.parameters.0, [("InstanceId".to_string(), vec!["i-0abc123def4567890".to_string()])]);
        assert!(crate::Command::parse("automation run").is_err());
        assert!(crate::Command::parse("automation run Doc not-a-pair").unwrap_err().to_string().contains("Key=Value"));
    }

    #[tokio::test]
    async fn the_plan_shows_the_document_and_parameters_as_sent() {
        let c = run("automation run Shop-FlushCache Tier=web");
        let plan = c.plan(&ctx(), &FakeAws::default().with_ssm_catalog().gateways()).await.unwrap();
        assert_eq!(plan.lines, ["Start Automation *Shop-FlushCache*", "• `Tier` = `web`"]);
        assert_eq!(plan.verdict, Verdict::Ready);
    }

    async fn refusal(aws: FakeAws, text: &str) -> Vec<String> {
        match run(text).plan(&ctx(), &aws.gateways()).await.unwrap().verdict {
            Verdict::Invalid(reasons) => reasons,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[tokio::test]
    async fn an_unknown_runbook_or_a_command_document_is_refused() {
        let aws = || FakeAws::default().with_ssm_catalog();
        let reasons = refusal(aws(), "automation run Shop-FlushCahce").await;
        assert_eq!(reasons.len(), 1);
        assert!(reasons[0].starts_with("there is no SSM document `Shop-FlushCahce` in this account"), "{reasons:?}");
        let reasons = refusal(aws(), "automation run AWS-RunShellScript commands=uptime").await;
        assert_eq!(reasons, ["`AWS-RunShellScript` is a Command document, not an Automation one"]);
    }

    #[tokio::test]
    async fn a_misspelt_parameter_gets_a_suggestion_and_a_missing_required_one_is_named() {
        let reasons =
            refusal(FakeAws::default().with_ssm_catalog(), "automation run AWS-RestartEC2Instance InstanceID=i-1")
                .await;
        assert_eq!(
            reasons,
            [
                "`AWS-RestartEC2Instance` has no parameter `InstanceID` — did you mean `InstanceId`?",
                "`AWS-RestartEC2Instance` needs `InstanceId` (no default value): add `Name=value` for each",
            ]
        );
    }

    #[tokio::test]
    async fn an_execution_with_the_same_parameters_still_running_refuses_and_another_does_not() {
        let aws = || {
            let aws = FakeAws::default().with_ssm_catalog();
            aws.ssm.running_automations.lock().unwrap().push(crate::ports::RunningAutomation {
                id: "exec-theirs".into(),
                parameters: DocParams::parse(&["InstanceId=i-1".to_string()]).unwrap(),
            });
            aws
        };
        let busy = run("automation run AWS-RestartEC2Instance InstanceId=i-1");
        let Verdict::Unsafe(reasons) = busy.plan(&ctx(), &aws().gateways()).await.unwrap().verdict else {
            panic!("a run in progress is unsafe now, the one thing --force goes past")
        };
        assert_eq!(
            reasons,
            ["execution `exec-theirs` of `AWS-RestartEC2Instance` with the same parameters is still running — \
              wait for it (`automation status exec-theirs`) or stop it"]
        );
        let other = run("automation run AWS-RestartEC2Instance InstanceId=i-2");
        assert_eq!(other.plan(&ctx(), &aws().gateways()).await.unwrap().verdict, Verdict::Ready);
    }

    #[tokio::test]
    async fn act_starts_it_and_check_follows_the_steps_to_success() {
        let steps = |first, second| vec![("stop", first), ("start", second)];
        let aws = FakeAws::default().with_automation_states(vec![
            automation(
                "AWS-RestartEC2Instance",
                RunStatus::InProgress,
                &steps(RunStatus::InProgress, RunStatus::Pending),
            ),
            automation("AWS-RestartEC2Instance", RunStatus::Success, &steps(RunStatus::Success, RunStatus::Success)),
        ]);
        let aws = Arc::new(aws);
        let gw = FakeAws::share(&aws);
        let c = run("automation run AWS-RestartEC2Instance InstanceId=i-0abc123def4567890");

        let outcome = c.act(&ctx(), &gw).await.unwrap();
        let first = c.check(&ctx(), &gw, &outcome).await.unwrap();
        let last = c.check(&ctx(), &gw, &outcome).await.unwrap();

        assert_eq!(aws.ssm.started.lock().unwrap()[0].0, "AWS-RestartEC2Instance");
        assert!(outcome.lines[0].contains("execution `4105a4fc-f944-11e6-9d32-8fb2db27a909`"), "{:?}", outcome.lines);
        assert_eq!(outcome.aws_request_ids, ["req-automation"]);
        assert_eq!(
            first,
            Progress::Running("`AWS-RestartEC2Instance` in progress: step 1 `stop` in progress (0 done)".into())
        );
        let Progress::Done(text) = last else { panic!("{last:?}") };
        assert!(text.contains("ended: *success*") && text.contains(":white_check_mark: `start`"), "{text}");
    }

    #[tokio::test]
    async fn a_failed_run_ends_failed_with_its_reason() {
        let mut failed = automation("Doc", RunStatus::Failed, &[("only", RunStatus::Failed)]);
        failed.failure = Some("Step only failed".into());
        let gw = FakeAws::default().with_automation_states(vec![failed]).gateways();
        let c = run("automation run Doc");
        let outcome = c.act(&ctx(), &gw).await.unwrap();
        let Progress::Failed(text) = c.check(&ctx(), &gw, &outcome).await.unwrap() else { panic!() };
        assert!(text.contains("*failed*") && text.contains("Failure: Step only failed"), "{text}");
    }
}
