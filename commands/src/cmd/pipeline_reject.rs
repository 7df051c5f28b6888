//! `pipeline reject NAME [STAGE/ACTION] [--execution ID] [comment]`: reject a manual approval
//! (PutApprovalResult, Rejected) with a summary naming the Slack user, then
//! follow until the execution has ended there. Everything but the spec is
//! shared with `pipeline approve`: a [`PipelineReject`] is a
//! [`PipelineDecision`] that rejects.

use std::ops::Deref;

use crate::command::{Body, CommandDef};
use crate::error::UsageError;
use crate::ports::ApprovalDecision;
use crate::spec::Spec;

use super::pipeline_approve::PipelineDecision;

pub const SPEC: Spec = Spec {
    name: "pipeline reject",
    args: "NAME [STAGE/ACTION] [--execution ID] [comment]",
    summary: "Reject a pipeline's manual approval (your name goes into its summary); the execution ends there",
    example: "pipeline reject payments-api ApproveProd/ManualApproval canary shows 5xx",
    changes: true,
    alias: None,
};

/// `pipeline reject`: the shared decision, under its own spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineReject(pub PipelineDecision);

impl Deref for PipelineReject {
    type Target = PipelineDecision;

    fn deref(&self) -> &PipelineDecision {
        &self.0
    }
}

impl CommandDef for PipelineReject {
    const SPEC: &'static Spec = &SPEC;

    fn parse(args: &[String]) -> Result<Self, UsageError> {
        parse(args).map(PipelineReject)
    }

    fn policy_args(&self) -> Vec<(&'static str, String)> {
        self.0.decision_args()
    }

    fn body(&self) -> Body<'_> {
        Body::Change(&self.0)
    }
}

/// The rejection `args` ask for.
pub fn parse(args: &[String]) -> Result<PipelineDecision, UsageError> {
    PipelineDecision::parse_as(&SPEC, ApprovalDecision::Reject, args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::{ChangeCommand, Progress, Verdict};
    use crate::cmd::Command;
    use crate::ports::{ActionCategory::*, ExecStatus::*};
    use crate::testing::{FakeAws, ctx, pipeline_state, stage_of};

    fn waiting() -> FakeAws {
        let stages = vec![
            stage_of("exec-1", "Build", Build, Some(Succeeded)),
            stage_of("exec-1", "Prod", Approval, Some(InProgress)),
        ];
        let ended = vec![
            stage_of("exec-1", "Build", Build, Some(Succeeded)),
            stage_of("exec-1", "Prod", Approval, Some(Failed)),
        ];
        FakeAws {
            pipelines: [("web".into(), pipeline_state("web", "exec-1", InProgress, stages))].into(),
            ..FakeAws::default()
        }
        .after_pipeline_change(
            "web",
            vec![pipeline_state("web", "exec-1", InProgress, vec![]), pipeline_state("web", "exec-1", Failed, ended)],
        )
    }

    #[test]
    fn reject_parses_to_a_rejection_with_its_comment() {
        let Command::PipelineReject(reject) = Command::parse("pipeline reject web Prod/Prod canary shows 5xx").unwrap()
        else {
            panic!("not a reject")
        };
        assert_eq!(reject.decision, ApprovalDecision::Reject);
        assert_eq!(reject.at, Some(("Prod".into(), "Prod".into())));
        assert_eq!(reject.comment.as_deref(), Some("canary shows 5xx"));
    }

    #[tokio::test]
    async fn a_rejection_names_the_user_and_follows_until_the_execution_ended() {
        let aws = waiting();
        let calls = aws.pipeline_calls.clone();
        let gateways = aws.gateways();
        let reject = parse(&["web".into(), "no".into()]).unwrap();
        let plan = reject.plan(&ctx(), &gateways).await.unwrap();
        assert_eq!(plan.verdict, Verdict::Ready);
        assert!(plan.lines.iter().any(|l| l.contains("execution ends here")), "{plan:?}");

        let outcome = reject.act(&ctx(), &gateways).await.unwrap();
        assert_eq!(outcome.lines, ["Rejected *Prod/Prod* of *web* (execution `exec-1`)."]);
        assert_eq!(*calls.lock().unwrap(), ["reject web Prod/Prod tok-Prod: Rejected by dev (U0DEV) via opsbot: no"]);
        assert!(matches!(reject.check(&ctx(), &gateways, &outcome).await.unwrap(), Progress::Running(_)));
        let done = reject.check(&ctx(), &gateways, &outcome).await.unwrap();
        assert_eq!(done, Progress::Done("Rejected — execution `exec-1` stopped at *Prod/Prod*.".into()));
    }
}
