//! `automation status ID`: where an SSM Automation execution stands — its
//! document, status, times, who started it, each step and why it failed.
//! Read-only.
//!
//! This file also owns how an execution reads ([`step_lines`], [`progress`],
//! [`summary`]), for `automation run`'s progress and result too.

use async_trait::async_trait;

use crate::command::{Body, CommandDef, Reach, Read};
use crate::context::Context;
use crate::error::{GatewayResult, UsageError};
use crate::mrkdwn;
use crate::mrkdwn::Mrkdwn;
use crate::ports::{AutomationRun, AutomationStep, Automations, RunStatus};
use crate::reply::Reply;
use crate::spec::{Spec, expect_args};
use crate::text::when;
use crate::values::ssm::ExecutionId;

pub const SPEC: Spec = Spec {
    name: "automation status",
    args: "ID",
    summary: "Where an SSM Automation execution stands: status, steps, failure",
    example: "automation status 4105a4fc-f944-11e6-9d32-8fb2db27a909",
    changes: false,
    alias: None,
};

/// Steps listed; longer runbooks show the last ones.
const STEPS: usize = 25;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutomationStatus {
    pub id: ExecutionId,
}

impl CommandDef for AutomationStatus {
    const SPEC: &'static Spec = &SPEC;

    fn parse(args: &[String]) -> Result<Self, UsageError> {
        expect_args(&SPEC, args, 1, 1)?;
        Ok(AutomationStatus { id: ExecutionId::parse(&args[0])? })
    }

    fn body(&self) -> Body<'_> {
        Body::Read(self)
    }
}

#[async_trait]
impl Read for AutomationStatus {
    async fn read(&self, ctx: &Context, reach: &Reach<'_>) -> GatewayResult<Reply> {
        self.run(ctx, reach.aws.automations.as_ref()).await
    }
}

impl AutomationStatus {
    pub async fn run(&self, ctx: &Context, automations: &dyn Automations) -> GatewayResult<Reply> {
        let run = automations.execution(&self.id).await?;
        let mut fields = vec![mrkdwn!("*Status*\n{} {}", icon(&run.status), run.status.label())];
        fields.extend(run.started.map(|t| mrkdwn!("*Started*\n{}", when(ctx.now, t))));
        fields.extend(run.ended.map(|t| mrkdwn!("*Ended*\n{}", when(ctx.now, t))));
        fields.extend(run.executed_by.as_deref().map(|by| mrkdwn!("*By*\n{}", short(by))));
        let mut reply = Reply::in_channel(format!("Automation {}: {}", run.document, run.status.label()))
            .fields(mrkdwn!("*{}* — `{}`", run.document, run.id), fields);
        let steps = step_lines(&run);
        if !steps.is_empty() {
            reply = reply.section(Mrkdwn::join(steps, "\n"));
        }
        if let Some(failure) = &run.failure {
            reply = reply.section(mrkdwn!(":x: {}", failure_text(failure, FAILURE_MAX)));
        }
        Ok(reply)
    }
}

fn short(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

pub fn icon(status: &RunStatus) -> &'static str {
    match status {
        RunStatus::Success => ":white_check_mark:",
        RunStatus::Pending | RunStatus::Waiting => ":double_vertical_bar:",
        RunStatus::InProgress | RunStatus::Cancelling | RunStatus::Other(_) => ":arrows_counterclockwise:",
        RunStatus::Failed | RunStatus::TimedOut | RunStatus::Cancelled => ":x:",
    }
}

/// One mrkdwn line per step: icon, name, action, status and failure.
pub fn step_lines(run: &AutomationRun) -> Vec<Mrkdwn> {
    let skip = run.steps.len().saturating_sub(STEPS);
    let mut lines: Vec<Mrkdwn> = (skip > 0).then(|| mrkdwn!("… {} earlier steps", skip)).into_iter().collect();
    lines.extend(run.steps.iter().skip(skip).map(step_line));
    lines
}

fn step_line(step: &AutomationStep) -> Mrkdwn {
    let action = step.action.as_deref().map(|a| mrkdwn!(" ({})", a)).unwrap_or_default();
    let failure =
        step.failure.as_deref().map(|f| mrkdwn!(" — {}", failure_text(f, STEP_FAILURE_MAX))).unwrap_or_default();
    mrkdwn!("{} `{}`{}: {}{}", icon(&step.status), step.name, action, step.status.label(), failure)
}

/// One line while it runs: "step 2 `startInstances`: in progress (1 done)".
pub fn progress(run: &AutomationRun) -> String {
    let done = run.steps.iter().filter(|s| s.status.is_final()).count();
    let line = match run.steps.iter().position(|s| !s.status.is_final()) {
        Some(n) => mrkdwn!(
            "`{}` {}: step {} `{}` {} ({} done)",
            run.document,
            run.status.label(),
            n + 1,
            run.steps[n].name,
            run.steps[n].status.label(),
            done
        ),
        None => mrkdwn!("`{}` {} ({} steps done)", run.document, run.status.label(), done),
    };
    line.as_str().to_owned()
}

/// The end of an execution, in mrkdwn: status, steps and failure.
pub fn summary(run: &AutomationRun) -> String {
    let mut lines = vec![mrkdwn!("Automation `{}` ended: *{}*.", run.document, run.status.label())];
    lines.extend(step_lines(run));
    lines.extend(run.failure.as_deref().map(|f| mrkdwn!("Failure: {}", failure_text(f, FAILURE_MAX))));
    Mrkdwn::join(lines, "\n").as_str().to_owned()
}

/// Characters of a step's failure message shown.
const STEP_FAILURE_MAX: usize = 300;
/// Characters of an execution's failure message shown.
pub const FAILURE_MAX: usize = 500;

/// A failure message as shown: on one line, credentials redacted (a failing
/// step's message quotes what its command printed, which may echo
/// environment values and tokens), then cut to `max` characters.
pub fn failure_text(raw: &str, max: usize) -> String {
    crate::text::truncate(&crate::text::redact(&crate::text::one_line(raw), &[]), max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::ssm::automation;
    use crate::testing::{FakeAws, ctx};

    #[tokio::test]
    async fn an_execution_shows_its_status_steps_and_failure() {
        let mut failed = automation(
            "AWS-RestartEC2Instance",
            RunStatus::Failed,
            &[("stop", RunStatus::Success), ("start", RunStatus::Failed)],
        );
        failed.failure = Some("Step start failed: <InvalidInstanceId>".into());
        failed.steps[1].failure = Some("instance i-1 is terminated".into());
        let aws = FakeAws::default().with_automation_states(vec![failed]);
        let status = AutomationStatus::parse(&["4105A4FC-F944-11E6-9D32-8FB2DB27A909".into()]).unwrap();

        let text = status.run(&ctx(), &aws).await.unwrap().text();

        assert!(text.contains("*AWS-RestartEC2Instance* — `4105a4fc-f944-11e6-9d32-8fb2db27a909`"), "{text}");
        assert!(text.contains("*Status*\n:x: failed") && text.contains("*By*\nbot"), "{text}");
        assert!(text.contains(":white_check_mark: `stop` (aws:executeAwsApi): success"), "{text}");
        assert!(text.contains(":x: `start` (aws:executeAwsApi): failed — instance i-1 is terminated"), "{text}");
        assert!(text.contains("&lt;InvalidInstanceId&gt;"), "escaped: {text}");
    }

    #[test]
    fn the_end_of_a_failed_execution_shows_its_failure_messages_with_secrets_redacted() {
        let mut failed = automation("Shop-Migrate", RunStatus::Failed, &[("migrate", RunStatus::Failed)]);
        failed.steps[0].failure =
            Some("exit 1: DB_PASSWORD=hunter2 rejected\nkey AKIAIOSFODNN7EXAMPLE, xoxb-1234-5678-abcdef".into());
        failed.failure = Some("Step migrate failed: password=hunter2".into());

        let text = summary(&failed);

        assert!(
            text.contains(
                ":x: `migrate` (aws:executeAwsApi): failed — exit 1: DB_PASSWORD=[redacted] rejected key [redacted], [redacted]"
            ),
            "{text}"
        );
        assert!(text.contains("Failure: Step migrate failed: password=[redacted]"), "{text}");
        assert!(!text.contains("hunter2") && !text.contains("AKIA") && !text.contains("xoxb-"), "{text}");
    }

    #[tokio::test]
    async fn an_unknown_execution_is_not_found() {
        let status = AutomationStatus::parse(&["4105a4fc-f944-11e6-9d32-8fb2db27a909".into()]).unwrap();
        let err = status.run(&ctx(), &FakeAws::default()).await.unwrap_err();
        assert!(err.to_string().contains("was not found"), "{err}");
    }

    #[test]
    fn progress_names_the_step_running_now() {
        let run = automation("Doc", RunStatus::InProgress, &[("a", RunStatus::Success), ("b", RunStatus::InProgress)]);
        assert_eq!(progress(&run), "`Doc` in progress: step 2 `b` in progress (1 done)");
    }
}
