//! `restart CLUSTER/SERVICE`: replace every task of an ECS service with a
//! fresh one on the same revision (UpdateService `forceNewDeployment`) — new
//! tasks pull their image tag again and read their secrets and parameters
//! again, which is what people mean by "restart".
//!
//! Need: a service that wants no tasks has nothing to restart. Safe and
//! verify: see [`super::rollout`]. The revision restarted is pinned
//! (`--from N`): if another one was deployed since the plan, nothing is
//! restarted and the change is refused.

use std::time::Duration;

use async_trait::async_trait;

use crate::change::{ChangeCommand, Outcome, Plan, Progress, Verdict};
use crate::command::{Body, CommandDef};
use crate::context::Context;
use crate::error::{GatewayError, GatewayResult, UsageError};
use crate::mrkdwn::esc;
use crate::ports::{Gateways, ServiceUpdate};
use crate::spec::Spec;
use crate::text::count;
use crate::values::ServiceRef;

use super::memo::Memo;
use super::rollout::{self, Draft, Started};

pub const SPEC: Spec = Spec {
    name: "restart",
    args: "CLUSTER/SERVICE [--from REVISION] [--timeout 15m]",
    summary: "Replace every task of an ECS service with a fresh one (force a new deployment), then follow it",
    example: "restart staging/api",
    changes: true,
    alias: None,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restart {
    pub service: ServiceRef,
    pub timeout: Duration,
    /// The revision the service must still run (`--from`; the plan pins it).
    pub from: Option<i32>,
    /// The revision the plan showed.
    planned: Memo<i32>,
    started: Started,
}

impl CommandDef for Restart {
    const SPEC: &'static Spec = &SPEC;

    fn parse(args: &[String]) -> Result<Self, UsageError> {
        let words = rollout::words(&SPEC, args, false)?;
        match &words.positional[..] {
            [service] => Ok(Restart {
                service: ServiceRef::parse(service)?,
                timeout: words.timeout,
                from: words.from,
                planned: Memo::default(),
                started: Started::default(),
            }),
            [] => Err(UsageError::new("`restart` needs CLUSTER/SERVICE").with_usage(SPEC.usage())),
            [_, extra @ ..] => {
                Err(UsageError::new(format!("`restart` does not take `{}`", extra.join(" "))).with_usage(SPEC.usage()))
            }
        }
    }

    fn policy_args(&self) -> Vec<(&'static str, String)> {
        vec![("service", self.service.to_string())]
    }

    fn body(&self) -> Body<'_> {
        Body::Change(self)
    }
}

#[async_trait]
impl ChangeCommand for Restart {
    async fn plan(&self, ctx: &Context, aws: &Gateways) -> GatewayResult<Plan> {
        let detail = aws.services.describe(&self.service).await?;
        if let Some(why) = rollout::moved(&detail, self.from) {
            return Ok(Plan { lines: vec![], verdict: Verdict::Moved(why) });
        }
        let s = &detail.summary;
        self.planned.keep(s.task_definition.revision);
        let line = format!(
            "*{}*: replace {} of `{}` with fresh ones (same revision; images pulled and secrets read again)",
            esc(&s.service.to_string()),
            count(s.desired.unsigned_abs() as usize, "task"),
            esc(&s.task_definition.to_string())
        );
        let noop = (s.desired == 0).then(|| format!("{} runs no tasks (desired count 0)", s.service));
        let draft = Draft { lines: vec![line], noop, problems: Vec::new() };
        draft.finish(aws, &detail, ctx.now, self.timeout).await
    }

    fn pinned(&self) -> Option<String> {
        Some(format!("{} {}{}", SPEC.name, self.service, rollout::pin_words(*self.planned.get()?, self.timeout)))
    }

    async fn act(&self, _ctx: &Context, aws: &Gateways) -> GatewayResult<Outcome> {
        if let Some(why) = rollout::moved(&aws.services.describe(&self.service).await?, self.from) {
            return Err(GatewayError::moved(why));
        }
        let update = ServiceUpdate { task_definition: None, force_new_deployment: true };
        let updated = rollout::start(aws, &self.service, update, &self.started).await?;
        Ok(Outcome {
            lines: vec![format!(
                "Started a new deployment of *{}*; ECS is replacing its tasks.",
                esc(&self.service.to_string())
            )],
            aws_request_ids: updated.receipt.request_id.into_iter().collect(),
            follow: Some(rollout::follow(self.timeout)),
        })
    }

    async fn check(&self, _ctx: &Context, aws: &Gateways, _outcome: &Outcome) -> GatewayResult<Progress> {
        rollout::check(aws, &self.service, &self.started).await
    }

    fn progress(&self) -> Option<String> {
        self.started.progress(SPEC.name, &self.service)
    }

    fn resume(&self, progress: &str) -> Result<(), String> {
        self.started.resume(SPEC.name, &self.service, progress)
    }
}

#[cfg(test)]
#[path = "restart_tests.rs"]
mod tests;
