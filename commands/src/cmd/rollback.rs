//! `rollback CLUSTER/SERVICE`: point an ECS service back at the revision it
//! ran before.
//!
//! "Before" is, in this order: the task definition of the newest ACTIVE
//! deployment that is not the current revision (what still runs after a
//! failed rollout, so rolling back returns to tasks that are serving), else
//! revision N-1 of the current family. The plan says which of the two it
//! took. That revision must be registered and ACTIVE; when it is not, the
//! plan names it and suggests `deploy … --revision N`.
//!
//! Need: a service on its family's first revision has nothing to roll back
//! to. Safe and verify: see [`super::rollout`] — a rollback is refused while
//! a deployment rolls out or an alarm fires on the service, like any change.
//! `act` works the target out again from what runs then, and the revision
//! rolled back from is pinned (`--from N`): if another one was deployed
//! since the plan, "before" means something else now, so nothing is done
//! and the change is refused.

use std::time::Duration;

use async_trait::async_trait;

use crate::change::{ChangeCommand, Outcome, Plan, Progress, Verdict};
use crate::command::{Body, CommandDef};
use crate::context::Context;
use crate::error::{GatewayError, GatewayResult, UsageError};
use crate::mrkdwn::esc;
use crate::ports::{Gateways, ServiceDetail, ServiceUpdate, TaskDefinition, TaskDefinitionRef};
use crate::spec::Spec;
use crate::values::ServiceRef;

use super::memo::Memo;
use super::rollout::{self, Draft, Started};

pub const SPEC: Spec = Spec {
    name: "rollback",
    args: "CLUSTER/SERVICE [--from REVISION] [--timeout 15m]",
    summary: "Point an ECS service back at the revision it ran before, then follow the rollout",
    example: "rollback staging/api",
    changes: true,
    alias: None,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollback {
    pub service: ServiceRef,
    pub timeout: Duration,
    /// The revision the service must still run (`--from`; the plan pins it).
    pub from: Option<i32>,
    /// The revision the plan showed.
    planned: Memo<i32>,
    started: Started,
}

impl CommandDef for Rollback {
    const SPEC: &'static Spec = &SPEC;

    fn parse(args: &[String]) -> Result<Self, UsageError> {
        let words = rollout::words(&SPEC, args, false)?;
        match &words.positional[..] {
            [service] => Ok(Rollback {
                service: ServiceRef::parse(service)?,
                timeout: words.timeout,
                from: words.from,
                planned: Memo::default(),
                started: Started::default(),
            }),
            [] => Err(UsageError::new("`rollback` needs CLUSTER/SERVICE").with_usage(SPEC.usage())),
            [_, extra @ ..] => {
                Err(UsageError::new(format!("`rollback` does not take `{}`", extra.join(" "))).with_usage(SPEC.usage()))
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

/// Where a rollback goes, or why it goes nowhere.
enum Target {
    /// The revision, and why it was chosen.
    To(TaskDefinition, String),
    /// Nothing to roll back to (a no-op).
    Nowhere(String),
    /// The previous revision cannot be used.
    Unusable(String),
}

async fn target(aws: &Gateways, detail: &ServiceDetail) -> GatewayResult<Target> {
    let (service, current) = (&detail.summary.service, &detail.summary.task_definition);
    let older = detail.deployments.iter().filter(|d| d.status == "ACTIVE");
    let older = older.filter_map(|d| d.task_definition.as_ref()).find(|t| *t != current);
    let (previous, why) = match older {
        Some(older) => (older.clone(), "the revision its older ACTIVE deployment still runs".to_owned()),
        None if current.revision > 1 => {
            let previous = TaskDefinitionRef { family: current.family.clone(), revision: current.revision - 1 };
            (previous, format!("the revision before {current}; no older deployment is running"))
        }
        None => return Ok(Target::Nowhere(format!("{service} is at {current}, the first revision of its family"))),
    };
    let explicitly = format!("deploy a revision explicitly: `deploy {service} --revision N`");
    Ok(match aws.service_changes.task_definition(&previous).await? {
        None => Target::Unusable(format!("{previous} is not registered; {explicitly}")),
        Some(found) if found.status != "ACTIVE" => Target::Unusable(format!(
            "{previous} is {} (deregistered): ECS starts no tasks from it; {explicitly}",
            found.status
        )),
        Some(found) => Target::To(found, why),
    })
}

#[async_trait]
impl ChangeCommand for Rollback {
    async fn plan(&self, ctx: &Context, aws: &Gateways) -> GatewayResult<Plan> {
        let detail = aws.services.describe(&self.service).await?;
        if let Some(why) = rollout::moved(&detail, self.from) {
            return Ok(Plan { lines: vec![], verdict: Verdict::Moved(why) });
        }
        self.planned.keep(detail.summary.task_definition.revision);
        let current = esc(&detail.summary.task_definition.to_string());
        let service = esc(&self.service.to_string());
        let draft = match target(aws, &detail).await? {
            Target::To(found, why) => {
                let to = esc(&found.reference.to_string());
                let mut lines = vec![format!("*{service}*: `{current}` → `{to}` — {}", esc(&why))];
                lines.extend(rollout::image_lines(&detail.containers, &found.containers));
                Draft { lines, ..Draft::default() }
            }
            Target::Nowhere(why) => Draft { noop: Some(why), ..Draft::default() },
            Target::Unusable(why) => Draft {
                lines: vec![format!("*{service}*: roll back from `{current}`")],
                problems: vec![why],
                noop: None,
            },
        };
        draft.finish(aws, &detail, ctx.now, self.timeout).await
    }

    fn pinned(&self) -> Option<String> {
        Some(format!("{} {}{}", SPEC.name, self.service, rollout::pin_words(*self.planned.get()?, self.timeout)))
    }

    async fn act(&self, _ctx: &Context, aws: &Gateways) -> GatewayResult<Outcome> {
        let detail = aws.services.describe(&self.service).await?;
        if let Some(why) = rollout::moved(&detail, self.from) {
            return Err(GatewayError::moved(why));
        }
        let found = match target(aws, &detail).await? {
            Target::To(found, _) => found,
            Target::Nowhere(why) | Target::Unusable(why) => return Err(GatewayError::other(why.clone(), why)),
        };
        let to = found.reference;
        let update = ServiceUpdate { task_definition: Some(to.clone()), force_new_deployment: false };
        let updated = rollout::start(aws, &self.service, update, &self.started).await?;
        Ok(Outcome {
            lines: vec![format!(
                "Pointed *{}* back at `{}`; ECS is rolling it out.",
                esc(&self.service.to_string()),
                esc(&to.to_string())
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
#[path = "rollback_tests.rs"]
mod tests;
