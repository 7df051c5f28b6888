//! `services [CLUSTER]`: ECS services, one line each, grouped by cluster —
//! "is everything running?" at a glance. A service with fewer tasks running
//! than desired is flagged, and a rollout that has not completed is named.

use async_trait::async_trait;

use crate::command::{Body, CommandDef, Reach, Read};
use crate::context::Context;
use crate::error::{GatewayResult, UsageError};
use crate::mrkdwn;
use crate::mrkdwn::Mrkdwn;
use crate::ports::{RolloutState, ServiceSummary, Services as ServicesPort};
use crate::reply::Reply;
use crate::spec::{Spec, expect_args};
use crate::text::count;
use crate::values::ClusterName;

pub const SPEC: Spec = Spec {
    name: "services",
    args: "[CLUSTER]",
    summary: "ECS services (of one cluster or all): running/desired tasks and rollout state",
    example: "services prod",
    changes: false,
    alias: None,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Services {
    pub cluster: Option<ClusterName>,
}

/// A rollout worth mentioning, with its icon; `None` once it completed.
pub fn rollout_note(rollout: &RolloutState) -> Option<Mrkdwn> {
    match rollout {
        RolloutState::Completed => None,
        RolloutState::InProgress => Some(mrkdwn!(":arrows_counterclockwise: rolling out")),
        RolloutState::Failed => Some(mrkdwn!(":x: rollout failed")),
        RolloutState::Other(raw) => Some(mrkdwn!(":grey_question: {}", raw)),
    }
}

/// Fewer tasks running than the service wants.
pub fn is_short(running: i32, desired: i32) -> bool {
    running < desired
}

impl CommandDef for Services {
    const SPEC: &'static Spec = &SPEC;

    fn parse(args: &[String]) -> Result<Self, UsageError> {
        expect_args(&SPEC, args, 0, 1)?;
        Ok(Services { cluster: args.first().map(|c| ClusterName::parse(c)).transpose()? })
    }

    fn policy_args(&self) -> Vec<(&'static str, String)> {
        self.cluster.iter().map(|cl| ("cluster", cl.to_string())).collect()
    }

    fn body(&self) -> Body<'_> {
        Body::Read(self)
    }
}

#[async_trait]
impl Read for Services {
    async fn read(&self, ctx: &Context, reach: &Reach<'_>) -> GatewayResult<Reply> {
        self.run(ctx, reach.aws.services.as_ref()).await
    }
}

impl Services {
    pub async fn run(&self, _ctx: &Context, services: &dyn ServicesPort) -> GatewayResult<Reply> {
        let mut list = services.list(self.cluster.as_ref()).await?;
        if list.is_empty() {
            return Ok(self.empty());
        }
        list.sort_by(|a, b| {
            (a.service.cluster.as_str(), &a.service.service).cmp(&(b.service.cluster.as_str(), &b.service.service))
        });
        let summary = self.summary(&list);
        let title = self.cluster.as_ref().map_or("Services".into(), |c| format!("Services in {c}"));
        let mut reply = Reply::in_channel(summary.clone()).header(title);
        for group in list.chunk_by(|a, b| a.service.cluster == b.service.cluster) {
            let heading = mrkdwn!("*{}*", group[0].service.cluster.as_str());
            reply = reply.lines(std::iter::once(heading).chain(group.iter().map(line)));
        }
        let more = mrkdwn!("`service CLUSTER/NAME` for deployments and events");
        Ok(reply.context(vec![Mrkdwn::text(&summary), more]))
    }

    fn empty(&self) -> Reply {
        let text = match &self.cluster {
            Some(cluster) => mrkdwn!("No ECS services in cluster `{}`.", cluster),
            None => mrkdwn!("No ECS services in this account and region."),
        };
        Reply::in_channel(text.plain()).section(text)
    }

    /// `5 services in 2 clusters, 1 below desired count`.
    fn summary(&self, list: &[ServiceSummary]) -> String {
        let clusters = list.chunk_by(|a, b| a.service.cluster == b.service.cluster).count();
        let place = match &self.cluster {
            Some(cluster) => cluster.to_string(),
            None => count(clusters, "cluster"),
        };
        let short = list.iter().filter(|s| is_short(s.running, s.desired)).count();
        format!("{} in {place}, {short} below desired count", count(list.len(), "service"))
    }
}

/// `• :warning: *worker* — 1/3 running, 1 pending · `worker:7` · :arrows_counterclockwise: rolling out`.
fn line(s: &ServiceSummary) -> Mrkdwn {
    let flag = if is_short(s.running, s.desired) { ":warning: " } else { "" };
    let pending = if s.pending > 0 { format!(", {} pending", s.pending) } else { String::new() };
    let mut parts = vec![
        mrkdwn!("• {}*{}* — {}/{} running{}", flag, s.service.service, s.running, s.desired, pending),
        mrkdwn!("`{}`", s.task_definition),
    ];
    if s.status != "ACTIVE" {
        parts.push(mrkdwn!("_{}_", s.status.to_lowercase()));
    }
    parts.extend(s.rollout.as_ref().and_then(rollout_note));
    Mrkdwn::join(parts, " · ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FakeAws, ctx, service};

    async fn list(aws: &FakeAws, cluster: Option<&str>) -> Reply {
        let cluster = cluster.map(|c| ClusterName::parse(c).unwrap());
        Services { cluster }.run(&ctx(), aws).await.unwrap()
    }

    fn fleet() -> FakeAws {
        let mut worker = service("prod/worker", 3, 1);
        worker.summary.pending = 1;
        worker.summary.rollout = Some(RolloutState::InProgress);
        worker.summary.task_definition.revision = 7;
        FakeAws::default()
            .with_service(worker)
            .with_service(service("prod/api", 3, 3))
            .with_service(service("dev/api", 1, 1))
    }

    #[tokio::test]
    async fn services_are_grouped_by_cluster_with_counts_and_task_definition() {
        let reply = list(&fleet(), None).await;
        let text = reply.text();
        assert_eq!(reply.visibility, crate::reply::Visibility::InChannel);
        assert!(text.contains("*dev*\n• *api* — 1/1 running · `api:1`"), "{text}");
        assert!(text.contains("*prod*\n• *api* — 3/3 running · `api:1`\n• :warning: *worker*"), "{text}");
        assert!(text.find("*dev*").unwrap() < text.find("*prod*").unwrap(), "{text}");
        assert!(text.contains("3 services in 2 clusters, 1 below desired count"), "{text}");
    }

    #[tokio::test]
    async fn a_service_short_of_tasks_is_flagged_with_its_rollout() {
        let text = list(&fleet(), Some("prod")).await.text();
        let want = "• :warning: *worker* — 1/3 running, 1 pending · `worker:7` · :arrows_counterclockwise: rolling out";
        assert!(text.contains(want), "{text}");
        assert!(text.starts_with("Services in prod\n") && !text.contains("*dev*"), "{text}");
        assert!(text.contains("2 services in prod, 1 below desired count"), "{text}");
    }

    #[tokio::test]
    async fn completed_rollouts_are_not_mentioned_but_failed_ones_and_draining_are() {
        let mut broken = service("prod/api", 2, 2);
        broken.summary.rollout = Some(RolloutState::Failed);
        broken.summary.status = "DRAINING".into();
        let text = list(&FakeAws::default().with_service(broken).with_service(service("prod/web", 1, 1)), None).await;
        let text = text.text();
        assert!(text.contains("*api* — 2/2 running · `api:1` · _draining_ · :x: rollout failed"), "{text}");
        assert!(text.contains("*web* — 1/1 running · `web:1`\n"), "{text}");
    }

    #[tokio::test]
    async fn no_services_says_so_and_names_the_cluster() {
        let text = list(&fleet(), Some("staging")).await.text();
        assert_eq!(text, "No ECS services in cluster `staging`.");
        assert!(list(&FakeAws::default(), None).await.text().contains("No ECS services in this account"));
    }
}
