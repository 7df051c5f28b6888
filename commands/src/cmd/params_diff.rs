//! `params diff ENV`: an environment's declared parameters (`params.environments`
//! in the config: a file in the bot's repo, a URL or an S3 object) against
//! Parameter Store under its prefix — missing, changed (value, type,
//! description), with other tags than declared, and extra. ENV is the
//! environment's name or its prefix. SecureString values are compared by
//! hash and never shown. What `params apply ENV` would write.

use async_trait::async_trait;

use crate::command::{Body, CommandDef, Reach, Read};
use crate::context::Context;
use crate::error::{GatewayResult, UsageError};
use crate::mrkdwn;
use crate::ports::Gateways;
use crate::reply::Reply;
use crate::spec::{Spec, expect_args};

use super::drift::current;

pub const SPEC: Spec = Spec {
    name: "params diff",
    args: "ENV",
    summary: "Declared parameters (from git, a URL or S3) against Parameter Store: missing, changed, tags, extra",
    example: "params diff prod",
    changes: false,
    alias: None,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamsDiff {
    /// An environment's name or prefix, resolved when it runs.
    pub env: String,
}

impl CommandDef for ParamsDiff {
    const SPEC: &'static Spec = &SPEC;

    fn parse(args: &[String]) -> Result<Self, UsageError> {
        expect_args(&SPEC, args, 1, 1)?;
        Ok(ParamsDiff { env: args[0].clone() })
    }

    fn policy_args(&self) -> Vec<(&'static str, String)> {
        vec![("env", self.env.clone())]
    }

    fn body(&self) -> Body<'_> {
        Body::Read(self)
    }
}

#[async_trait]
impl Read for ParamsDiff {
    async fn read(&self, ctx: &Context, reach: &Reach<'_>) -> GatewayResult<Reply> {
        self.run(ctx, reach.aws).await
    }
}

impl ParamsDiff {
    pub async fn run(&self, _ctx: &Context, aws: &Gateways) -> GatewayResult<Reply> {
        let drift = current(aws, &self.env).await?;
        let title = format!("Parameters of {}", drift.title());
        if drift.is_empty() {
            let text = mrkdwn!(
                ":white_check_mark: Parameter Store matches the {} declared parameters of {}.",
                drift.declared.params.len(),
                drift.title()
            );
            return Ok(Reply::in_channel(text.plain()).section(text));
        }
        let mut footer = vec![mrkdwn!("{}", drift.summary())];
        if drift.missing.len() + drift.changed.len() + drift.retagged.len() > 0 {
            let tags = if drift.retagged.is_empty() { "" } else { " and sets the declared tags" };
            footer.push(mrkdwn!("`params apply {}` writes the missing and changed ones{}", drift.declared.env, tags));
        }
        Ok(Reply::in_channel(format!("{title}: {}", drift.summary()))
            .header(title)
            .lines(drift.lines())
            .context(footer))
    }
}

#[cfg(test)]
#[path = "params_diff_tests.rs"]
pub(crate) mod tests;
