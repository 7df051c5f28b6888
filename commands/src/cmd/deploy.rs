//! `deploy CLUSTER/SERVICE TAG` and `deploy CLUSTER/SERVICE --revision N`:
//! ship an image tag, or a registered revision, to an ECS service.
//!
//! - TAG (or NAME:TAG): registers the next revision of the service's current
//!   task definition — a copy with every setting and tag — in which the *app
//!   containers* run TAG, then points the service at it. App containers are
//!   those whose image repository is the main container's (the container
//!   named like the service, else like the task family, else the first).
//!   Sidecars from other repositories (log routers, proxies, agents) keep
//!   their images: a tag is a version of *your* image, and
//!   `aws-for-fluent-bit:1.42.0` does not exist. Containers sharing the app's
//!   repository (a worker, a migrator) move together. NAME, when given, must
//!   be that repository's name: a guard against deploying to the wrong service.
//! - `--revision N`: points the service at revision N of its current family,
//!   which must be registered and ACTIVE.
//!
//! Need: the tag already running in every app container, or the service
//! already at revision N, is a no-op. Safe and verify: see [`super::rollout`].
//! `act` looks at the service again and builds on what runs then — which
//! must be the revision the plan showed: the plan pins it (`--from N`), and
//! if another one was deployed since, nothing is registered or deployed and
//! the change is refused (a tag deploy would copy a task definition nobody
//! reviewed).

use std::time::Duration;

use async_trait::async_trait;

use crate::change::{ChangeCommand, Outcome, Plan, Progress, Verdict};
use crate::command::{Body, CommandDef};
use crate::context::Context;
use crate::error::{GatewayError, GatewayResult, UsageError};
use crate::mrkdwn::esc;
use crate::ports::{Container, Gateways, ServiceDetail, ServiceUpdate, TaskDefinitionRef};
use crate::spec::{Spec, quoted};
use crate::values::ServiceRef;

use super::image::{self, TagArg};
use super::memo::Memo;
use super::rollout::{self, Draft, Started};

pub const SPEC: Spec = Spec {
    name: "deploy",
    args: "CLUSTER/SERVICE TAG|--revision N [--from REVISION] [--timeout 15m]",
    summary: "Deploy an image tag (as a new task-definition revision) or a registered revision to an ECS service, \
              then follow the rollout",
    example: "deploy staging/api 1.43.0",
    changes: true,
    alias: None,
};

/// What to deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Release {
    Tag(TagArg),
    Revision(i32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deploy {
    pub service: ServiceRef,
    pub release: Release,
    pub timeout: Duration,
    /// The revision the service must still run (`--from`; the plan pins it).
    pub from: Option<i32>,
    /// The revision the plan showed.
    planned: Memo<i32>,
    started: Started,
}

impl CommandDef for Deploy {
    const SPEC: &'static Spec = &SPEC;

    fn parse(args: &[String]) -> Result<Self, UsageError> {
        let words = rollout::words(&SPEC, args, true)?;
        let (service, release) = match (&words.positional[..], words.revision) {
            ([service], Some(n)) => (service, Release::Revision(n)),
            ([service, tag], None) => (service, Release::Tag(TagArg::parse(tag)?)),
            ([_, tag], Some(_)) => return Err(usage(&format!("give a tag or `--revision N`, not both (`{tag}`)"))),
            ([], _) => return Err(usage("`deploy` needs CLUSTER/SERVICE")),
            ([_], None) => return Err(usage("`deploy` needs an image TAG or `--revision N`")),
            ([_, _, extra @ ..], _) => return Err(usage(&format!("`deploy` does not take `{}`", extra.join(" ")))),
        };
        Ok(Deploy {
            service: ServiceRef::parse(service)?,
            release,
            timeout: words.timeout,
            from: words.from,
            planned: Memo::default(),
            started: Started::default(),
        })
    }

    fn policy_args(&self) -> Vec<(&'static str, String)> {
        let revision = self.revision().map(|n| ("revision", n.to_string()));
        [("service", self.service.to_string())].into_iter().chain(revision).collect()
    }

    fn body(&self) -> Body<'_> {
        Body::Change(self)
    }
}

impl Deploy {
    /// The revision asked for, for policies (`revision`).
    pub fn revision(&self) -> Option<i32> {
        match self.release {
            Release::Revision(n) => Some(n),
            Release::Tag(_) => None,
        }
    }
}

fn usage(message: &str) -> UsageError {
    UsageError::new(message).with_usage(SPEC.usage())
}

#[async_trait]
impl ChangeCommand for Deploy {
    async fn plan(&self, ctx: &Context, aws: &Gateways) -> GatewayResult<Plan> {
        let detail = aws.services.describe(&self.service).await?;
        if let Some(why) = rollout::moved(&detail, self.from) {
            return Ok(Plan { lines: vec![], verdict: Verdict::Moved(why) });
        }
        self.planned.keep(detail.summary.task_definition.revision);
        let draft = match &self.release {
            Release::Tag(tag) => tag_draft(&detail, tag),
            Release::Revision(n) => revision_draft(aws, &detail, *n).await?,
        };
        draft.finish(aws, &detail, ctx.now, self.timeout).await
    }

    fn pinned(&self) -> Option<String> {
        let release = match &self.release {
            Release::Tag(tag) => quoted(&tag.to_string()),
            Release::Revision(n) => format!("--revision {n}"),
        };
        let pin = rollout::pin_words(*self.planned.get()?, self.timeout);
        Some(format!("{} {} {release}{pin}", SPEC.name, self.service))
    }

    async fn act(&self, _ctx: &Context, aws: &Gateways) -> GatewayResult<Outcome> {
        let detail = aws.services.describe(&self.service).await?;
        if let Some(why) = rollout::moved(&detail, self.from) {
            return Err(GatewayError::moved(why));
        }
        let service = esc(&self.service.to_string());
        let (target, mut request_ids, line) = match &self.release {
            Release::Tag(tag) => {
                let after = retagged(&detail, tag).map_err(|why| GatewayError::other(why.clone(), why))?;
                let changed: Vec<Container> = after.into_iter().filter(|c| !detail.containers.contains(c)).collect();
                if changed.is_empty() {
                    let line = format!("Nothing left to do: *{service}* already runs *{}*.", esc(&tag.tag));
                    return Ok(Outcome { lines: vec![line], ..Outcome::default() });
                }
                let current = &detail.summary.task_definition;
                let (new, receipt) = aws.service_changes.register_revision(current, &changed).await?;
                let line = format!(
                    "Registered `{}` with tag *{}* and pointed *{service}* at it; ECS is rolling it out.",
                    esc(&new.to_string()),
                    esc(&tag.tag)
                );
                (new, receipt.request_id.into_iter().collect::<Vec<_>>(), line)
            }
            Release::Revision(n) => {
                let target = TaskDefinitionRef { family: detail.summary.task_definition.family.clone(), revision: *n };
                let line = format!("Pointed *{service}* at `{}`; ECS is rolling it out.", esc(&target.to_string()));
                (target, Vec::new(), line)
            }
        };
        let update = ServiceUpdate { task_definition: Some(target), force_new_deployment: false };
        let updated = rollout::start(aws, &self.service, update, &self.started).await?;
        request_ids.extend(updated.receipt.request_id);
        Ok(Outcome { lines: vec![line], aws_request_ids: request_ids, follow: Some(rollout::follow(self.timeout)) })
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

/// The plan of a tag deploy, before the safety check.
fn tag_draft(detail: &ServiceDetail, tag: &TagArg) -> Draft {
    let s = &detail.summary;
    let header = format!(
        "*{}*: register the next revision of `{}` with image tag *{}*, then deploy it",
        esc(&s.service.to_string()),
        esc(&s.task_definition.to_string()),
        esc(&tag.tag)
    );
    match retagged(detail, tag) {
        Err(why) => Draft { lines: vec![header], problems: vec![why], ..Draft::default() },
        Ok(after) => {
            let noop = (after == detail.containers)
                .then(|| format!("{} already runs {} ({})", s.service, tag.tag, s.task_definition));
            let mut lines = vec![header];
            lines.extend(rollout::image_lines(&detail.containers, &after));
            Draft { lines, noop, problems: Vec::new() }
        }
    }
}

/// The plan of a revision deploy, before the safety check.
async fn revision_draft(aws: &Gateways, detail: &ServiceDetail, revision: i32) -> GatewayResult<Draft> {
    let (service, current) = (&detail.summary.service, &detail.summary.task_definition);
    let target = TaskDefinitionRef { family: current.family.clone(), revision };
    let header =
        format!("*{}*: `{}` → `{}`", esc(&service.to_string()), esc(&current.to_string()), esc(&target.to_string()));
    if current.revision == revision {
        let noop = Some(format!("{service} is already at revision {revision} ({target})"));
        return Ok(Draft { lines: vec![header], noop, problems: Vec::new() });
    }
    let Some(found) = aws.service_changes.task_definition(&target).await? else {
        return Err(GatewayError::not_found(format!("task definition `{target}`")));
    };
    let mut lines = vec![header];
    lines.extend(rollout::image_lines(&detail.containers, &found.containers));
    let problems = (found.status != "ACTIVE")
        .then(|| format!("{target} is {} (deregistered): ECS starts no new tasks from it", found.status))
        .into_iter()
        .collect();
    Ok(Draft { lines, noop: None, problems })
}

/// Every container of the current task definition with the app containers
/// retagged (see the module's decisions); `Err` says why that cannot be done.
fn retagged(detail: &ServiceDetail, tag: &TagArg) -> Result<Vec<Container>, String> {
    let s = &detail.summary;
    let main = main_container(&detail.containers, &s.service.service, &s.task_definition.family)
        .ok_or_else(|| format!("{} has no containers in {}", s.service, s.task_definition))?;
    if let Some(name) = &tag.name
        && name != image::name(&main.image)
    {
        return Err(format!(
            "{} runs the image {} (container {}), not {name}: is this the right service?",
            s.service,
            image::name(&main.image),
            main.name
        ));
    }
    let repository = image::repository(&main.image);
    let retag = |c: &Container| match image::repository(&c.image) == repository {
        true => Container { name: c.name.clone(), image: image::with_tag(&c.image, &tag.tag) },
        false => c.clone(),
    };
    Ok(detail.containers.iter().map(retag).collect())
}

/// The container named like the service, else like the family, else the first.
fn main_container<'a>(containers: &'a [Container], service: &str, family: &str) -> Option<&'a Container> {
    let named = |name: &str| containers.iter().find(|c| c.name == name);
    named(service).or_else(|| named(family)).or_else(|| containers.first())
}

#[cfg(test)]
#[path = "deploy_tests.rs"]
mod tests;
