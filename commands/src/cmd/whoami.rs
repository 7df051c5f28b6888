//! `whoami`: who opsbot thinks you are and where you are asking from —
//! the identity every policy decision is made on — and which version of the
//! policy is in force (it changes on reload, see `LivePolicy`).

use async_trait::async_trait;

use crate::command::{Body, CommandDef, Reach, Read};
use crate::context::Context;
use crate::error::{GatewayResult, UsageError};
use crate::live_policy::PolicyVersion;
use crate::mrkdwn;
use crate::mrkdwn::Mrkdwn;
use crate::reply::Reply;
use crate::spec::{Spec, expect_args};

pub const SPEC: Spec = Spec {
    name: "whoami",
    args: "",
    summary: "Show your Slack user id and name, this channel, and the policy version in force",
    example: "whoami",
    changes: false,
    alias: None,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Whoami;

impl CommandDef for Whoami {
    const SPEC: &'static Spec = &SPEC;

    fn parse(args: &[String]) -> Result<Self, UsageError> {
        expect_args(&SPEC, args, 0, 0).map(|()| Whoami)
    }

    fn body(&self) -> Body<'_> {
        Body::Read(self)
    }
}

#[async_trait]
impl Read for Whoami {
    async fn read(&self, ctx: &Context, reach: &Reach<'_>) -> GatewayResult<Reply> {
        Ok(self.run(ctx, &reach.policy.version()))
    }
}

impl Whoami {
    pub fn run(&self, ctx: &Context, policy: &PolicyVersion) -> Reply {
        let name = ctx.user_name.as_deref().map(|n| mrkdwn!(" ({})", n)).unwrap_or_default();
        let channel = ctx.channel_name.as_deref().map(|n| mrkdwn!(" (#{})", n)).unwrap_or_default();
        Reply::ephemeral(format!("You are {}{}", ctx.user, name.plain())).fields(
            Mrkdwn::new(),
            vec![
                mrkdwn!("*User*\n`{}`{}", ctx.user, name),
                mrkdwn!("*Channel*\n`{}`{}", ctx.channel, channel),
                mrkdwn!("*Policy*\n{}", policy.to_string()),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::{ChannelId, SlackUserId};

    #[test]
    fn whoami_shows_user_and_channel_ids_and_names() {
        let ctx = Context {
            request_id: "r1".into(),
            user: SlackUserId::parse("U123").unwrap(),
            user_name: Some("alice".into()),
            groups: vec![],
            channel: ChannelId::parse("C999").unwrap(),
            channel_name: Some("deploys".into()),
            now: chrono::Utc::now(),
        };
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-07T12:04:00Z").unwrap().to_utc();
        let version = PolicyVersion { id: "1a2b3c4d5e6f".into(), loaded_at: at };
        let text = Whoami.run(&ctx, &version).text();
        assert!(text.contains("`U123` (alice)") && text.contains("`C999` (#deploys)"), "{text}");
        assert!(text.contains("v1a2b3c4d5e6f loaded 2026-12-07 12:04 UTC"), "{text}");
    }

    #[test]
    fn whoami_takes_no_arguments() {
        assert!(Whoami::parse(&["x".into()]).unwrap_err().to_string().contains("does not take `x`"));
    }
}
