//! `service CLUSTER/NAME`: one ECS service in detail — what on-call reads when
//! a deploy is stuck: task counts, the task definition and each container's
//! image, every deployment (PRIMARY first) with its rollout state and failed
//! tasks, and the newest service events (ECS explains itself there).

use async_trait::async_trait;

use crate::command::{Body, CommandDef, Reach, Read};
use crate::context::Context;
use crate::error::{GatewayResult, UsageError};
use crate::mrkdwn;
use crate::mrkdwn::Mrkdwn;
use crate::ports::{Container, Deployment, RolloutState, ServiceDetail, ServiceEvent, Services as ServicesPort, Time};
use crate::reply::Reply;
use crate::spec::{Spec, expect_args};
use crate::text::{ago, count, truncate, when};
use crate::values::ServiceRef;

use super::services::{is_short, rollout_note};

pub const SPEC: Spec = Spec {
    name: "service",
    args: "CLUSTER/NAME",
    summary: "One ECS service: tasks, task definition and image, deployments, latest events",
    example: "service prod/api",
    changes: false,
    alias: None,
};

/// How many of the newest service events are shown, and how much of each.
const EVENTS: usize = 5;
const EVENT_MAX: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub service: ServiceRef,
}

impl CommandDef for Service {
    const SPEC: &'static Spec = &SPEC;

    fn parse(args: &[String]) -> Result<Self, UsageError> {
        expect_args(&SPEC, args, 1, 1)?;
        Ok(Service { service: ServiceRef::parse(&args[0])? })
    }

    fn policy_args(&self) -> Vec<(&'static str, String)> {
        vec![("service", self.service.to_string())]
    }

    fn body(&self) -> Body<'_> {
        Body::Read(self)
    }
}

#[async_trait]
impl Read for Service {
    async fn read(&self, ctx: &Context, reach: &Reach<'_>) -> GatewayResult<Reply> {
        self.run(ctx, reach.aws.services.as_ref()).await
    }
}

impl Service {
    /// A service that does not exist comes back as the port's `NotFound`.
    pub async fn run(&self, ctx: &Context, services: &dyn ServicesPort) -> GatewayResult<Reply> {
        let detail = services.describe(&self.service).await?;
        Ok(render(ctx.now, &detail))
    }
}

fn render(now: Time, detail: &ServiceDetail) -> Reply {
    let s = &detail.summary;
    let fallback = format!("{}: {}{}", s.service, tasks(s.running, s.desired, s.pending), rollout_text(&s.rollout));
    let icon = if is_short(s.running, s.desired) { ":warning:" } else { ":white_check_mark:" };
    let mut headline = vec![mrkdwn!("{} *{}*", icon, tasks(s.running, s.desired, s.pending))];
    headline.extend(s.rollout.as_ref().and_then(rollout_note));
    let fields = vec![mrkdwn!("*Status*\n{}", s.status), mrkdwn!("*Task definition*\n`{}`", s.task_definition)];
    let mut deployments: Vec<&Deployment> = detail.deployments.iter().collect();
    deployments.sort_by_key(|d| d.status != "PRIMARY");
    Reply::in_channel(fallback)
        .header(format!("Service {}", truncate(&s.service.to_string(), 140)))
        .fields(Mrkdwn::join(headline, " · "), fields)
        .lines(titled("Images", detail.containers.iter().map(image)))
        .lines(titled("Deployments", deployments.iter().map(|d| deployment(now, d))))
        .lines(titled("Latest events", detail.events.iter().take(EVENTS).map(|e| event(now, e))))
        .context(vec![mrkdwn!("`services {}` for the whole cluster", s.service.cluster)])
}

/// `2/3 running, 1 pending`.
fn tasks(running: i32, desired: i32, pending: i32) -> String {
    let pending = if pending > 0 { format!(", {pending} pending") } else { String::new() };
    format!("{running}/{desired} running{pending}")
}

fn rollout_text(rollout: &Option<RolloutState>) -> String {
    match rollout {
        Some(RolloutState::Completed) | None => String::new(),
        Some(r) => format!(", {}", r.label()),
    }
}

/// A bold title line followed by `lines`; nothing at all when there are none.
fn titled(title: &str, lines: impl Iterator<Item = Mrkdwn>) -> Vec<Mrkdwn> {
    let lines: Vec<Mrkdwn> = lines.collect();
    if lines.is_empty() { lines } else { std::iter::once(mrkdwn!("*{}*", title)).chain(lines).collect() }
}

fn image(c: &Container) -> Mrkdwn {
    mrkdwn!("• {}: `{}`", c.name, truncate(&c.image, 200))
}

/// `• *PRIMARY* `api:42` · :arrows_counterclockwise: rolling out · 2/3 running, 2 failed tasks · created …`
/// and the rollout reason on its own line.
fn deployment(now: Time, d: &Deployment) -> Mrkdwn {
    let task_def = d.task_definition.as_ref().map(|t| mrkdwn!(" `{}`", t)).unwrap_or_default();
    let state = match &d.rollout {
        Some(RolloutState::Completed) => Some(mrkdwn!(":white_check_mark: completed")),
        Some(other) => rollout_note(other),
        None => None,
    };
    let mut parts = vec![mrkdwn!("• *{}*{}", d.status, task_def)];
    parts.extend(state);
    let failed = if d.failed_tasks > 0 {
        format!(", :warning: {}", count(d.failed_tasks as usize, "failed task"))
    } else {
        String::new()
    };
    parts.push(mrkdwn!("{}{}", tasks(d.running, d.desired, d.pending), failed));
    parts.extend(d.created.map(|t| mrkdwn!("created {}", when(now, t))));
    let reason = d.rollout_reason.as_deref().map(|r| mrkdwn!("\n    _{}_", truncate(r, EVENT_MAX)));
    mrkdwn!("{}{}", Mrkdwn::join(parts, " · "), reason.unwrap_or_default())
}

fn event(now: Time, e: &ServiceEvent) -> Mrkdwn {
    let at = e.at.map(|t| format!("{} — ", ago(now, t))).unwrap_or_default();
    mrkdwn!("• {}{}", at, truncate(&e.message, EVENT_MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::GatewayError;
    use crate::testing::{FakeAws, ctx, deployment as deploy, event as ev, service};

    async fn show(aws: &FakeAws, name: &str) -> Reply {
        Service { service: ServiceRef::parse(name).unwrap() }.run(&ctx(), aws).await.unwrap()
    }

    /// `prod/api` mid-rollout from revision 41 to 42, one task short, tasks failing.
    fn rolling() -> FakeAws {
        let mut api = service("prod/api", 3, 2);
        api.summary.pending = 1;
        api.summary.rollout = Some(RolloutState::InProgress);
        api.summary.task_definition.revision = 42;
        api.containers.push(Container { name: "envoy".into(), image: "envoyproxy/envoy:v1.30".into() });
        let mut new = deploy("PRIMARY", 42, RolloutState::InProgress);
        (new.desired, new.running, new.pending, new.failed_tasks) = (3, 1, 1, 2);
        new.rollout_reason = Some("ECS deployment ecs-svc/42000 in progress.".into());
        let mut old = deploy("ACTIVE", 41, RolloutState::Completed);
        (old.desired, old.running) = (0, 1);
        api.deployments = vec![old, new];
        api.events = (1..=7).map(|i| ev(i * 60, &format!("(service api) event {i}"))).collect();
        FakeAws::default().with_service(api)
    }

    #[tokio::test]
    async fn the_service_shows_its_tasks_task_definition_and_images() {
        let reply = show(&rolling(), "prod/api").await;
        let text = reply.text();
        assert_eq!(reply.fallback, "prod/api: 2/3 running, 1 pending, rolling out");
        assert!(text.starts_with("Service prod/api\n"), "{text}");
        assert!(
            text.contains(":warning: *2/3 running, 1 pending* · :arrows_counterclockwise: rolling out\n"),
            "{text}"
        );
        assert!(text.contains("*Task definition*\n`api:42`") && text.contains("*Status*\nACTIVE"), "{text}");
        assert!(text.contains("*Images*\n• api: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:v1`"), "{text}");
        assert!(text.contains("• envoy: `envoyproxy/envoy:v1.30`"), "{text}");
    }

    #[tokio::test]
    async fn deployments_come_primary_first_with_rollout_counts_and_failures() {
        let text = show(&rolling(), "prod/api").await.text();
        let primary = "• *PRIMARY* `app:42` · :arrows_counterclockwise: rolling out · 1/3 running, 1 pending, \
                       :warning: 2 failed tasks · created 2026-11-22 11:00 UTC (1h ago)\n    \
                       _ECS deployment ecs-svc/42000 in progress._";
        assert!(text.contains(primary), "{text}");
        let active = text.find("• *ACTIVE* `app:41` · :white_check_mark: completed · 1/0 running").unwrap();
        assert!(text.find("*PRIMARY*").unwrap() < active, "{text}");
    }

    #[tokio::test]
    async fn only_the_five_newest_events_are_shown_newest_first() {
        let text = show(&rolling(), "prod/api").await.text();
        assert!(text.contains("*Latest events*\n• 1m ago — (service api) event 1\n• 2m ago"), "{text}");
        assert!(text.contains("event 5") && !text.contains("event 6"), "{text}");
    }

    #[tokio::test]
    async fn long_events_are_cut_and_cannot_ping() {
        let mut api = service("prod/api", 1, 1);
        api.events = vec![ev(30, &format!("<!channel> {}", "y".repeat(500)))];
        let text = show(&FakeAws::default().with_service(api), "prod/api").await.text();
        let line = text.lines().find(|l| l.contains("yyy")).unwrap();
        assert!(line.starts_with("• just now — &lt;!channel&gt; yyy") && line.ends_with('…'), "{line}");
        assert!(line.chars().count() < EVENT_MAX + 40, "{line}");
    }

    #[tokio::test]
    async fn a_steady_service_reads_calm() {
        let reply = show(&FakeAws::default().with_service(service("prod/web", 2, 2)), "prod/web").await;
        assert_eq!(reply.fallback, "prod/web: 2/2 running");
        assert!(reply.text().contains(":white_check_mark: *2/2 running*\n"), "{}", reply.text());
        assert!(!reply.text().contains("rolling") && !reply.text().contains("Latest events"), "{}", reply.text());
    }

    #[tokio::test]
    async fn an_unknown_service_is_reported_as_not_found() {
        let err = Service { service: ServiceRef::parse("prod/nope").unwrap() }.run(&ctx(), &FakeAws::default()).await;
        assert!(matches!(err, Err(GatewayError::NotFound { .. })), "{err:?}");
    }
}
