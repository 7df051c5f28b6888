//! `scale CLUSTER/SERVICE N`: set an ECS service's desired task count.
//! Need: refuses a no-op. Safe: refuses while a deployment is rolling out
//! (scaling mid-rollout muddles both). Verify: follows until running equals
//! the new desired count with nothing pending.
//!
//! Not pinned (unlike `deploy`, `restart`, `rollback`): the count is
//! absolute, so what runs is exactly the count reviewed whatever the count
//! was before, and desired counts move on their own under Application Auto
//! Scaling — a pin on the "before" count would refuse most approved scales of
//! such services. The plan's `4 → 6` is context; the re-plan when the change
//! runs shows nothing-to-do or a rollout in progress and refuses then.

use std::time::Duration;

use async_trait::async_trait;

use crate::change::{ChangeCommand, Follow, Outcome, Plan, Progress, Verdict};
use crate::command::{Body, CommandDef};
use crate::context::Context;
use crate::error::{GatewayResult, UsageError};
use crate::mrkdwn::esc;
use crate::ports::{Gateways, RolloutState};
use crate::spec::{Spec, expect_args};
use crate::values::ServiceRef;

pub const SPEC: Spec = Spec {
    name: "scale",
    args: "CLUSTER/SERVICE COUNT",
    summary: "Set an ECS service's desired task count, then follow it until the tasks run",
    example: "scale staging/api 3",
    changes: true,
    alias: None,
};

/// ECS services quota on tasks per service.
const MAX_COUNT: i32 = 5000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scale {
    pub service: ServiceRef,
    pub count: i32,
}

impl CommandDef for Scale {
    const SPEC: &'static Spec = &SPEC;

    fn parse(args: &[String]) -> Result<Self, UsageError> {
        expect_args(&SPEC, args, 2, 2)?;
        let service = ServiceRef::parse(&args[0])?;
        let count = args[1].parse::<i32>().ok().filter(|n| (0..=MAX_COUNT).contains(n)).ok_or_else(|| {
            UsageError::invalid("task count", &args[1], &format!("a whole number from 0 to {MAX_COUNT}"))
        })?;
        Ok(Scale { service, count })
    }

    fn policy_args(&self) -> Vec<(&'static str, String)> {
        vec![("service", self.service.to_string()), ("count", self.count.to_string())]
    }

    fn body(&self) -> Body<'_> {
        Body::Change(self)
    }
}

#[async_trait]
impl ChangeCommand for Scale {
    async fn plan(&self, _ctx: &Context, aws: &Gateways) -> GatewayResult<Plan> {
        let detail = aws.services.describe(&self.service).await?;
        let now = &detail.summary;
        let lines = vec![format!(
            "*{}*: desired count *{} → {}* ({} running now)",
            esc(&self.service.to_string()),
            now.desired,
            self.count,
            now.running
        )];
        let verdict = if now.desired == self.count {
            Verdict::NoOp(format!("{} already wants {} tasks", self.service, self.count))
        } else if now.rollout == Some(RolloutState::InProgress) {
            Verdict::Unsafe(vec![format!(
                "a deployment of {} is still rolling out; wait for it to finish (`service {}`)",
                self.service, self.service
            )])
        } else {
            Verdict::Ready
        };
        Ok(Plan { lines, verdict })
    }

    async fn act(&self, _ctx: &Context, aws: &Gateways) -> GatewayResult<Outcome> {
        let receipt = aws.service_changes.scale(&self.service, self.count).await?;
        Ok(Outcome {
            lines: vec![format!("*{}* desired count set to *{}*.", esc(&self.service.to_string()), self.count)],
            aws_request_ids: receipt.request_id.into_iter().collect(),
            follow: Some(Follow { every: Duration::from_secs(10), timeout: Duration::from_secs(10 * 60) }),
        })
    }

    async fn check(&self, _ctx: &Context, aws: &Gateways, _outcome: &Outcome) -> GatewayResult<Progress> {
        let now = aws.services.describe(&self.service).await?.summary;
        let counts = format!("{}/{} running, {} pending", now.running, self.count, now.pending);
        Ok(if now.running == self.count && now.pending == 0 {
            Progress::Done(format!("{counts} — done."))
        } else {
            Progress::Running(counts)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_must_be_a_sane_whole_number() {
        let parse = |n: &str| Scale::parse(&["prod/api".into(), n.into()]);
        assert_eq!(parse("6").unwrap().count, 6);
        for bad in ["-1", "six", "5001", "2.5"] {
            assert!(parse(bad).unwrap_err().to_string().contains("whole number"), "{bad}");
        }
    }
}
