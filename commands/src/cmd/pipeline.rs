//! `pipeline NAME`: one pipeline's latest execution, every stage and action —
//! what a developer asks ("is my commit out yet?") and what on-call needs when
//! it broke (the failed action's error) or stalls (the approval it waits for).
//!
//! Reply layout: header (name: status); the execution (status, revisions,
//! id, trigger, started, duration); approvals waiting, before the stages so
//! nobody scrolls past them; one section per stage with its actions; then
//! what to run next. Errors of actions that are not failed are stale and not shown.

use async_trait::async_trait;

use crate::command::{Body, CommandDef, Reach, Read};
use crate::context::Context;
use crate::error::{GatewayResult, UsageError};
use crate::mrkdwn;
use crate::mrkdwn::Mrkdwn;
use crate::ports::{
    ActionError, ActionState, ExecStatus, Execution, PipelineState, Pipelines as PipelinesPort, SourceRevision,
    StageState, Time,
};
use crate::reply::Reply;
use crate::spec::{Spec, expect_args};
use crate::text::{ago, duration, one_line, truncate, when};
use crate::values::PipelineName;

use super::pipelines::status_icon;

pub const SPEC: Spec = Spec {
    name: "pipeline",
    args: "NAME",
    summary: "Stages and actions of a pipeline: status, revision, trigger, duration, errors, pending approvals",
    example: "pipeline storefront-prod",
    changes: false,
    alias: None,
};

/// How much of a failed action's error message is shown.
const ERROR_MAX: usize = 300;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pipeline {
    pub name: PipelineName,
}

impl CommandDef for Pipeline {
    const SPEC: &'static Spec = &SPEC;

    fn parse(args: &[String]) -> Result<Self, UsageError> {
        expect_args(&SPEC, args, 1, 1)?;
        Ok(Pipeline { name: PipelineName::parse(&args[0])? })
    }

    fn policy_args(&self) -> Vec<(&'static str, String)> {
        vec![("pipeline", self.name.to_string())]
    }

    fn body(&self) -> Body<'_> {
        Body::Read(self)
    }
}

#[async_trait]
impl Read for Pipeline {
    async fn read(&self, ctx: &Context, reach: &Reach<'_>) -> GatewayResult<Reply> {
        self.run(ctx, reach.aws.pipelines.as_ref()).await
    }
}

impl Pipeline {
    /// A pipeline that does not exist comes back as the port's `NotFound`.
    pub async fn run(&self, ctx: &Context, pipelines: &dyn PipelinesPort) -> GatewayResult<Reply> {
        let state = pipelines.state(&self.name).await?;
        Ok(render(ctx.now, &state))
    }
}

/// An action and the stage it belongs to.
type Located<'a> = (&'a StageState, &'a ActionState);

fn render(now: Time, state: &PipelineState) -> Reply {
    let status = state.latest.as_ref().map_or("never ran", |e| e.status.label());
    let approvals: Vec<Located> = actions(state).filter(|(_, a)| a.awaits_approval()).collect();
    let mut reply = Reply::in_channel(fallback(state, status, &approvals)).header(format!("{}: {status}", state.name));
    if let Some(exec) = &state.latest {
        reply = execution(reply, now, exec);
    }
    for (stage, action) in &approvals {
        reply = reply.section(approval(now, stage, action));
    }
    for stage in &state.stages {
        reply = reply.section(stage_text(now, stage));
    }
    reply.context(next_steps(state, !approvals.is_empty()))
}

fn actions(state: &PipelineState) -> impl Iterator<Item = Located<'_>> {
    state.stages.iter().flat_map(|s| s.actions.iter().map(move |a| (s, a)))
}

fn at(stage: &StageState, action: &ActionState) -> String {
    format!("{}/{}", stage.name, action.name)
}

fn fallback(state: &PipelineState, status: &str, approvals: &[Located]) -> String {
    let failed = actions(state).find(|(_, a)| a.status == Some(ExecStatus::Failed));
    let detail = match (approvals.first(), failed) {
        (Some((s, a)), _) => format!(" — waiting for approval at {}", at(s, a)),
        (None, Some((s, a))) => format!(" — {} failed", at(s, a)),
        (None, None) => String::new(),
    };
    format!("{}: {status}{detail}", state.name)
}

fn execution(reply: Reply, now: Time, exec: &Execution) -> Reply {
    let mut text = mrkdwn!("{} *{}*", status_icon(Some(&exec.status)), exec.status.label());
    for rev in &exec.revisions {
        text.push(mrkdwn!("\n*Revision* {}", revision(rev)));
    }
    let mut fields = vec![mrkdwn!("*Execution*\n`{}`", exec.id)];
    if let Some(trigger) = &exec.trigger {
        fields.push(mrkdwn!("*Trigger*\n{}", truncate(trigger, 100)));
    }
    if let Some(started) = exec.started {
        fields.push(mrkdwn!("*Started*\n{}", when(now, started)));
        fields.extend(took(now, exec, started));
    }
    reply.fields(text, fields)
}

/// `<url|abcdef12> First line of the message _(Source)_`.
fn revision(rev: &SourceRevision) -> Mrkdwn {
    let short: String = rev.id.chars().take(8).collect();
    let id = Mrkdwn::link(rev.url.as_deref(), &short).unwrap_or_else(|| mrkdwn!("`{}`", short));
    let summary = rev.summary.as_deref().and_then(|s| s.lines().map(str::trim).find(|l| !l.is_empty()));
    let summary = summary.map(|s| mrkdwn!(" {}", truncate(s, 100))).unwrap_or_default();
    mrkdwn!("{}{} _({})_", id, summary, rev.action)
}

/// Finished: started → last update. Still going: started → now.
fn took(now: Time, exec: &Execution, started: Time) -> Option<Mrkdwn> {
    if matches!(exec.status, ExecStatus::InProgress | ExecStatus::Stopping) {
        return Some(mrkdwn!("*Running for*\n{}", duration(started, now)));
    }
    exec.updated.map(|end| mrkdwn!("*Took*\n{}", duration(started, end)))
}

fn approval(now: Time, stage: &StageState, action: &ActionState) -> Mrkdwn {
    let since = action.last_change.map(|t| format!(" (since {})", ago(now, t))).unwrap_or_default();
    let review = Mrkdwn::link(action.external_url.as_deref(), "review").map(|l| mrkdwn!(" — {}", l));
    let note = action.summary.as_deref().map(|s| mrkdwn!("\n>{}", truncate(&one_line(s), 200)));
    mrkdwn!(
        ":raised_hand: *Waiting for approval at {}*{}{}{}",
        at(stage, action),
        since,
        review.unwrap_or_default(),
        note.unwrap_or_default()
    )
}

fn stage_text(now: Time, stage: &StageState) -> Mrkdwn {
    let status = stage.status.as_ref().map_or("not run yet", ExecStatus::label);
    let mut lines = vec![mrkdwn!("{} *{}* — {}", status_icon(stage.status.as_ref()), stage.name, status)];
    for action in &stage.actions {
        lines.push(action_line(now, action));
        if action.status == Some(ExecStatus::Failed) {
            lines.extend(action.error.as_ref().map(error_line));
        }
    }
    Mrkdwn::join(lines, "\n")
}

fn action_line(now: Time, action: &ActionState) -> Mrkdwn {
    let (icon, status) = match &action.status {
        _ if action.awaits_approval() => (":raised_hand:", "waiting for approval"),
        None => (status_icon(None), "not run yet"),
        Some(s) => (status_icon(Some(s)), s.label()),
    };
    let name = Mrkdwn::link(action.external_url.as_deref(), &action.name).unwrap_or_else(|| Mrkdwn::text(&action.name));
    let changed = action.last_change.filter(|_| action.status.is_some()).map(|t| format!(", {}", ago(now, t)));
    mrkdwn!("• {} {} — {}{}", icon, name, status, changed.unwrap_or_default())
}

/// `>`-quoted `Code`: message, on one line and cut to [`ERROR_MAX`].
fn error_line(error: &ActionError) -> Mrkdwn {
    let code = error.code.as_deref().map(|c| mrkdwn!("`{}` ", c)).unwrap_or_default();
    mrkdwn!(">{}{}", code, truncate(&one_line(&error.message), ERROR_MAX))
}

fn next_steps(state: &PipelineState, approval_waiting: bool) -> Vec<Mrkdwn> {
    let mut steps = Vec::new();
    if approval_waiting {
        steps.push(mrkdwn!("A lead approves or rejects it from the approval message or the review link"));
    }
    match state.latest.as_ref().map(|e| &e.status) {
        Some(ExecStatus::InProgress) => steps.push(mrkdwn!("`pipeline {}` again to follow progress", state.name)),
        Some(ExecStatus::Failed) => steps.push(mrkdwn!(
            "Fix and push, or retry the failed stage in the AWS console; linked actions open their logs"
        )),
        _ => {}
    }
    steps.push(mrkdwn!("`pipelines` for every pipeline"));
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::GatewayError;
    use crate::ports::ActionCategory::{Approval, Build, Deploy, Source};
    use crate::testing::{FakeAws, action, ctx, execution, stage};
    use ExecStatus::{Failed, InProgress, Succeeded};

    async fn show(aws: &FakeAws, name: &str) -> Reply {
        Pipeline { name: PipelineName::parse(name).unwrap() }.run(&ctx(), aws).await.unwrap()
    }

    fn web(latest: Execution, stages: Vec<StageState>) -> FakeAws {
        FakeAws::default().with_pipeline("web", Some(latest)).with_stages("web", stages)
    }

    fn revision(id: &str, summary: &str, url: Option<&str>) -> SourceRevision {
        SourceRevision {
            action: "Source".into(),
            id: id.into(),
            summary: Some(summary.into()),
            url: url.map(Into::into),
        }
    }

    #[tokio::test]
    async fn the_header_names_the_pipeline_and_its_latest_status() {
        let reply = show(&web(execution(Failed, 60), vec![]), "web").await;
        assert_eq!(reply.visibility, crate::reply::Visibility::InChannel);
        assert!(reply.text().starts_with("web: Failed\n"), "{}", reply.text());
    }

    #[tokio::test]
    async fn the_revision_is_shortened_linked_and_summarised_by_its_first_line() {
        let mut exec = execution(Succeeded, 60);
        exec.revisions =
            vec![revision("0123456789abcdef", "Fix login redirect\n\nLong body", Some("https://gh.io/c/1"))];
        exec.trigger = Some("Webhook".into());
        let text = show(&web(exec, vec![]), "web").await.text();
        assert!(text.contains("*Revision* <https://gh.io/c/1|01234567> Fix login redirect _(Source)_"), "{text}");
        assert!(!text.contains("Long body") && !text.contains("89abcdef"), "{text}");
        assert!(text.contains("*Execution*\n`exec-1`") && text.contains("*Trigger*\nWebhook"), "{text}");
    }

    #[tokio::test]
    async fn a_revision_without_url_is_shown_as_code() {
        let mut exec = execution(Succeeded, 60);
        exec.revisions = vec![revision("0123456789abcdef", "Bump <deps>", None)];
        let text = show(&web(exec, vec![]), "web").await.text();
        assert!(text.contains("*Revision* `01234567` Bump &lt;deps&gt;"), "{text}");
    }

    #[tokio::test]
    async fn a_finished_execution_shows_when_it_started_and_how_long_it_took() {
        let text = show(&web(execution(Succeeded, 600), vec![]), "web").await.text();
        assert!(text.contains("*Started*\n2026-11-22 11:45 UTC (15m ago)"), "{text}");
        assert!(text.contains("*Took*\n5m"), "{text}");
    }

    #[tokio::test]
    async fn a_running_execution_shows_how_long_it_has_been_running() {
        let text = show(&web(execution(InProgress, 600), vec![]), "web").await.text();
        assert!(text.contains("*Running for*\n15m"), "{text}");
        assert!(text.contains("`pipeline web` again to follow progress"), "{text}");
    }

    #[tokio::test]
    async fn every_stage_and_action_is_shown_with_status_and_last_change() {
        let stages = vec![
            stage("Source", Some(Succeeded), vec![action("GitHub", Source, Some(Succeeded), 900)]),
            stage("Build", Some(InProgress), vec![action("CodeBuild", Build, Some(InProgress), 120)]),
            stage("Deploy", None, vec![action("ECS", Deploy, None, 86_400)]),
        ];
        let text = show(&web(execution(InProgress, 120), stages), "web").await.text();
        assert!(
            text.contains(":white_check_mark: *Source* — Succeeded\n• :white_check_mark: GitHub — Succeeded, 15m ago")
        );
        assert!(text.contains("*Build* — In progress\n• :arrows_counterclockwise: CodeBuild — In progress, 2m ago"));
        assert!(text.contains(":white_circle: *Deploy* — not run yet\n• :white_circle: ECS — not run yet\n"), "{text}");
    }

    #[tokio::test]
    async fn a_failed_action_shows_its_error_summary() {
        let mut build = action("CodeBuild", Build, Some(Failed), 60);
        build.error = Some(ActionError {
            code: Some("JobFailed".into()),
            message: format!("npm test\nexited 1 {}", "x".repeat(400)),
        });
        build.external_url = Some("https://console.aws/codebuild/1".into());
        let stages = vec![stage("Build", Some(Failed), vec![build])];
        let reply = show(&web(execution(Failed, 60), stages), "web").await;
        let text = reply.text();
        assert!(text.contains("• :x: <https://console.aws/codebuild/1|CodeBuild> — Failed, 1m ago"), "{text}");
        let error = text.lines().find(|l| l.starts_with('>')).unwrap();
        assert!(error.starts_with(">`JobFailed` npm test exited 1 xxx") && error.ends_with('…'), "{error}");
        assert!(error.chars().count() < ERROR_MAX + 20, "{error}");
        assert_eq!(reply.fallback, "web: Failed — Build/CodeBuild failed");
    }

    #[tokio::test]
    async fn the_error_of_an_action_that_succeeded_since_is_not_shown() {
        let mut build = action("CodeBuild", Build, Some(Succeeded), 60);
        build.error = Some(ActionError { code: None, message: "old failure".into() });
        let text =
            show(&web(execution(Succeeded, 60), vec![stage("Build", Some(Succeeded), vec![build])]), "web").await;
        assert!(!text.text().contains("old failure"), "{}", text.text());
    }

    #[tokio::test]
    async fn an_approval_waiting_is_called_out() {
        let mut gate = action("ProdGate", Approval, Some(InProgress), 1800);
        gate.external_url = Some("https://review.example/42".into());
        gate.summary = Some("Check staging first".into());
        let stages = vec![
            stage("Build", Some(Succeeded), vec![action("CodeBuild", Build, Some(Succeeded), 2000)]),
            stage("Approve", Some(InProgress), vec![gate]),
        ];
        let reply = show(&web(execution(InProgress, 1800), stages), "web").await;
        let text = reply.text();
        let callout = ":raised_hand: *Waiting for approval at Approve/ProdGate* (since 30m ago) — <https://review.example/42|review>\n>Check staging first";
        assert!(text.contains(callout), "{text}");
        assert!(text.find(callout).unwrap() < text.find("*Build*").unwrap(), "before the stages: {text}");
        assert!(text.contains("• :raised_hand: <https://review.example/42|ProdGate> — waiting for approval"), "{text}");
        assert!(text.contains("A lead approves or rejects it"), "{text}");
        assert_eq!(reply.fallback, "web: In progress — waiting for approval at Approve/ProdGate");
    }

    #[tokio::test]
    async fn a_pipeline_that_never_ran_still_lists_its_stages() {
        let aws = FakeAws::default()
            .with_pipeline("new", None)
            .with_stages("new", vec![stage("Source", None, vec![action("GitHub", Source, None, 60)])]);
        let text = show(&aws, "new").await.text();
        assert!(text.starts_with("new: never ran\n") && text.contains("*Source* — not run yet"), "{text}");
    }

    #[tokio::test]
    async fn aws_text_cannot_ping_the_channel() {
        let mut build = action("<!channel>", Build, Some(Failed), 60);
        build.error = Some(ActionError { code: None, message: "<!here> & friends".into() });
        let text =
            show(&web(execution(Failed, 60), vec![stage("<@U1>", Some(Failed), vec![build])]), "web").await.text();
        assert!(!text.contains("<!") && !text.contains("<@"), "{text}");
        assert!(text.contains("&lt;!here&gt; &amp; friends"), "{text}");
    }

    #[tokio::test]
    async fn an_unknown_pipeline_is_reported_as_not_found() {
        let err = Pipeline { name: PipelineName::parse("nope").unwrap() }.run(&ctx(), &FakeAws::default()).await;
        assert!(matches!(err, Err(GatewayError::NotFound { .. })), "{err:?}");
    }
}
