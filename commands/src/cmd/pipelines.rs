//! `pipelines`: every pipeline with its latest execution's status and when it
//! last changed — the "what's broken / what's deploying" overview.

use async_trait::async_trait;

use crate::command::{Body, CommandDef, Reach, Read};
use crate::context::Context;
use crate::error::{GatewayResult, UsageError};
use crate::mrkdwn;
use crate::mrkdwn::Mrkdwn;
use crate::ports::{ExecStatus, Pipelines as PipelinesPort};
use crate::reply::Reply;
use crate::spec::{Spec, expect_args};
use crate::text::ago;

pub const SPEC: Spec = Spec {
    name: "pipelines",
    args: "",
    summary: "Every pipeline with its latest execution status and when",
    example: "pipelines",
    changes: false,
    alias: None,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pipelines;

/// The emoji that leads a status everywhere we show one.
pub fn status_icon(status: Option<&ExecStatus>) -> &'static str {
    match status {
        Some(ExecStatus::Succeeded) => ":white_check_mark:",
        Some(ExecStatus::Failed) => ":x:",
        Some(ExecStatus::InProgress) => ":arrows_counterclockwise:",
        Some(ExecStatus::Stopped | ExecStatus::Stopping | ExecStatus::Cancelled | ExecStatus::Abandoned) => {
            ":black_square_for_stop:"
        }
        Some(ExecStatus::Superseded) => ":fast_forward:",
        Some(ExecStatus::Other(_)) | None => ":white_circle:",
    }
}

impl CommandDef for Pipelines {
    const SPEC: &'static Spec = &SPEC;

    fn parse(args: &[String]) -> Result<Self, UsageError> {
        expect_args(&SPEC, args, 0, 0).map(|()| Pipelines)
    }

    fn body(&self) -> Body<'_> {
        Body::Read(self)
    }
}

#[async_trait]
impl Read for Pipelines {
    async fn read(&self, ctx: &Context, reach: &Reach<'_>) -> GatewayResult<Reply> {
        self.run(ctx, reach.aws.pipelines.as_ref()).await
    }
}

impl Pipelines {
    pub async fn run(&self, ctx: &Context, pipelines: &dyn PipelinesPort) -> GatewayResult<Reply> {
        let mut list = pipelines.list().await?;
        if list.is_empty() {
            return Ok(Reply::in_channel("No pipelines")
                .section(mrkdwn!("There are no pipelines in this account and region.")));
        }
        list.sort_by(|a, b| a.name.cmp(&b.name));
        let failed = list.iter().filter(|p| p.latest.as_ref().is_some_and(|e| e.status == ExecStatus::Failed)).count();
        let lines: Vec<Mrkdwn> = list
            .iter()
            .map(|p| match &p.latest {
                None => mrkdwn!("{} *{}* — never ran", status_icon(None), p.name.as_str()),
                Some(exec) => {
                    let when =
                        exec.updated.or(exec.started).map(|t| format!(", {}", ago(ctx.now, t))).unwrap_or_default();
                    mrkdwn!(
                        "{} *{}* — {}{}",
                        status_icon(Some(&exec.status)),
                        p.name.as_str(),
                        exec.status.label(),
                        when
                    )
                }
            })
            .collect();
        let summary = format!("{} pipelines, {failed} failed", list.len());
        Ok(Reply::in_channel(summary.clone())
            .header("Pipelines")
            .section(Mrkdwn::join(lines, "\n"))
            .context(vec![Mrkdwn::text(&summary), mrkdwn!("`pipeline NAME` for stages and actions")]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FakeAws, ctx, execution};

    #[tokio::test]
    async fn pipelines_are_listed_by_name_with_status_and_age() {
        let aws = FakeAws::default()
            .with_pipeline("web", Some(execution(ExecStatus::Failed, 3600)))
            .with_pipeline("api", Some(execution(ExecStatus::Succeeded, 120)))
            .with_pipeline("new", None);
        let text = Pipelines.run(&ctx(), &aws).await.unwrap().text();
        let api = text.find("*api*").unwrap();
        let web = text.find("*web*").unwrap();
        assert!(api < web, "sorted by name: {text}");
        assert!(text.contains(":x: *web* — Failed, 1h ago"), "{text}");
        assert!(text.contains("*new* — never ran"), "{text}");
        assert!(text.contains("3 pipelines, 1 failed"), "{text}");
    }

    #[tokio::test]
    async fn an_empty_account_says_so() {
        let text = Pipelines.run(&ctx(), &FakeAws::default()).await.unwrap().text();
        assert!(text.contains("no pipelines"), "{text}");
    }
}
