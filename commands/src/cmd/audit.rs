//! `audit [N] [user:U] [command:C]`: the newest audit records — who asked
//! for which change, who approved it, what AWS did — newest first.

use async_trait::async_trait;

use crate::command::{Body, CommandDef, Reach, Read};
use crate::context::Context;
use crate::error::{GatewayError, GatewayResult, UsageError};
use crate::mrkdwn;
use crate::mrkdwn::Mrkdwn;
use crate::ports::store::{AuditQuery, AuditRecord, Store};
use crate::reply::Reply;
use crate::spec::{Spec, expect_args};
use crate::text::ago;
use crate::values::SlackUserId;

pub const SPEC: Spec = Spec {
    name: "audit",
    args: "[N] [user:USER] [command:COMMAND]",
    summary: "The newest audit records: requests, decisions, approvals and outcomes",
    example: "audit 20 command:deploy",
    changes: false,
    alias: None,
};

const DEFAULT: usize = 10;
const MAX: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audit {
    pub query: AuditQuery,
}

impl CommandDef for Audit {
    const SPEC: &'static Spec = &SPEC;

    fn parse(args: &[String]) -> Result<Self, UsageError> {
        expect_args(&SPEC, args, 0, 3)?;
        let mut query = AuditQuery { limit: DEFAULT, user: None, command: None };
        for arg in args {
            if let Some(user) = arg.strip_prefix("user:") {
                let user = user.trim_start_matches("<@").trim_end_matches('>');
                query.user = Some(SlackUserId::parse(user.split('|').next().unwrap_or(user))?);
            } else if let Some(command) = arg.strip_prefix("command:") {
                query.command = Some(command.replace('_', " "));
            } else {
                query.limit = arg.parse().ok().filter(|n| (1..=MAX).contains(n)).ok_or_else(|| {
                    UsageError::invalid("filter", arg, &format!("a count up to {MAX}, `user:U123` or `command:deploy`"))
                })?;
            }
        }
        Ok(Audit { query })
    }

    fn body(&self) -> Body<'_> {
        Body::Read(self)
    }
}

#[async_trait]
impl Read for Audit {
    async fn read(&self, ctx: &Context, reach: &Reach<'_>) -> GatewayResult<Reply> {
        self.run(ctx, reach.store).await
    }
}

impl Audit {
    pub async fn run(&self, ctx: &Context, store: &dyn Store) -> GatewayResult<Reply> {
        let records = store.audit(&self.query).await.map_err(|e| GatewayError::other("reading the audit log", e))?;
        if records.is_empty() {
            return Ok(Reply::in_channel("No audit records").section(mrkdwn!("No audit records match.")));
        }
        let lines: Vec<Mrkdwn> = records.iter().map(|r| line(ctx, r)).collect();
        Ok(Reply::in_channel(format!("{} audit records", records.len())).header("Audit").lines(lines))
    }
}

fn line(ctx: &Context, r: &AuditRecord) -> Mrkdwn {
    let approver = r.approver.as_ref().map(|a| mrkdwn!(" · approver {}", Mrkdwn::user(a.as_str()))).unwrap_or_default();
    let rule = r.rule.as_deref().map(|rule| mrkdwn!(" · rule `{}`", rule)).unwrap_or_default();
    let detail = r.detail.as_deref().map(|d| mrkdwn!(" — {}", d)).unwrap_or_default();
    let ids = if r.aws_request_ids.is_empty() {
        Mrkdwn::new()
    } else {
        mrkdwn!(" · AWS `{}`", r.aws_request_ids.join(", "))
    };
    mrkdwn!(
        "{} *{}* {} `{}`{}{}{}{} · `{}`",
        ago(ctx.now, r.at),
        r.event.as_str(),
        Mrkdwn::user(r.actor.as_str()),
        r.text,
        approver,
        rule,
        ids,
        detail,
        r.request
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_and_a_count_can_come_in_any_order() {
        let a = Audit::parse(&["command:deploy".into(), "25".into(), "user:<@U123|ann>".into()]).unwrap();
        assert_eq!(a.query.limit, 25);
        assert_eq!(a.query.user.unwrap().as_str(), "U123");
        assert_eq!(a.query.command.as_deref(), Some("deploy"));
        assert!(Audit::parse(&["500".into()]).is_err());
        assert!(Audit::parse(&["who:me".into()]).is_err());
    }
}
