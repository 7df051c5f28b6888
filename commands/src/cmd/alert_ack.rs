//! `alert ack ALERT` (also `ack ALERT`): take an open alert — by alarm name,
//! or ARN when a name is open in several regions or accounts. The alert's
//! message shows who took it and when, and stops escalating. The Ack button
//! on an alert's message runs this same command, so one policy rule
//! (`alert ack`, e.g. for on-call) governs both.

use async_trait::async_trait;

use crate::command::{Body, CommandDef, Reach, Read};
use crate::context::Context;
use crate::error::{GatewayError, GatewayResult, UsageError};
use crate::mrkdwn;
use crate::mrkdwn::Mrkdwn;
use crate::ports::alerts::{AckOutcome, Alerts};
use crate::reply::Reply;
use crate::spec::{Spec, expect_args};
use crate::text::{ago, truncate};

pub const SPEC: Spec = Spec {
    name: "alert ack",
    args: "ALERT",
    summary: "Acknowledge an open alert (alarm name or ARN): you own it, escalation stops; also `ack ALERT`",
    example: "alert ack shop-checkout-latency",
    changes: false,
    alias: Some("ack"),
};

const NAME_MAX: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertAck {
    pub alert: String,
}

impl CommandDef for AlertAck {
    const SPEC: &'static Spec = &SPEC;

    fn parse(args: &[String]) -> Result<Self, UsageError> {
        expect_args(&SPEC, args, 1, 1)?;
        let alert = args[0].trim();
        if alert.is_empty() || alert.len() > NAME_MAX {
            return Err(UsageError::invalid("alert", alert, "an alarm name or ARN, as `alerts` lists them"));
        }
        Ok(AlertAck { alert: alert.to_owned() })
    }

    fn policy_args(&self) -> Vec<(&'static str, String)> {
        vec![("name", self.alert.clone())]
    }

    fn body(&self) -> Body<'_> {
        Body::Read(self)
    }
}

#[async_trait]
impl Read for AlertAck {
    async fn read(&self, ctx: &Context, reach: &Reach<'_>) -> GatewayResult<Reply> {
        self.run(ctx, reach.alerts).await
    }
}

impl AlertAck {
    pub async fn run(&self, ctx: &Context, alerts: &dyn Alerts) -> GatewayResult<Reply> {
        let name = truncate(&self.alert, 200);
        let outcome = alerts.ack(&self.alert, &ctx.user, ctx.now).await;
        Ok(match outcome.map_err(|e| GatewayError::other("acknowledging the alert", e))? {
            AckOutcome::Acked(alert) => {
                let (icon, state) = super::alerts::state_words(alert.state);
                Reply::in_channel(format!("{} acknowledged {}", ctx.user, alert.name)).section(mrkdwn!(
                    "{} {} acknowledged *{}* ({} since {}).",
                    icon,
                    Mrkdwn::user(ctx.user.as_str()),
                    alert.name,
                    state,
                    ago(ctx.now, alert.since)
                ))
            }
            AckOutcome::AlreadyAcked(alert) => {
                let by = alert.acked.map(|a| mrkdwn!("{} {}", Mrkdwn::user(a.by.as_str()), ago(ctx.now, a.at)));
                note(mrkdwn!(
                    ":information_source: *{}* was already acknowledged by {}.",
                    alert.name,
                    by.unwrap_or_default()
                ))
            }
            AckOutcome::NotOpen => note(mrkdwn!(
                ":grey_question: No open alert is called `{}` — it may be OK again. `alerts` lists the open ones.",
                name
            )),
            AckOutcome::Ambiguous(arns) => {
                let listed = arns.iter().map(|a| mrkdwn!("`alert ack {}`", a));
                note(mrkdwn!(
                    ":warning: Several open alerts are called `{}`; name one by its ARN: {}",
                    name,
                    Mrkdwn::join(listed, ", ")
                ))
            }
        })
    }
}

fn note(text: Mrkdwn) -> Reply {
    Reply::ephemeral(text.plain().replace(['*', '`'], "")).section(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::Command;
    use crate::ports::alerts::{Ack, Alert, AlertState};
    use crate::testing::{MemoryAlerts, before, ctx};
    use crate::values::SlackUserId;

    fn open(name: &str, region: &str) -> Alert {
        Alert {
            arn: format!("arn:aws:cloudwatch:{region}:111122223333:alarm:{name}"),
            name: name.into(),
            state: AlertState::Alarm,
            since: before(900),
            reason: "Threshold Crossed".into(),
            acked: None,
            escalated: false,
        }
    }

    fn ack(text: &str) -> AlertAck {
        match Command::parse(text).unwrap() {
            Command::AlertAck(ack) => ack,
            other => panic!("{text} parsed as {other:?}"),
        }
    }

    #[test]
    fn ack_is_short_for_alert_ack() {
        assert_eq!(ack("ack shop-5xx"), ack("alert ack shop-5xx"));
        assert!(Command::parse("ack").unwrap_err().to_string().contains("needs ALERT"));
    }

    #[tokio::test]
    async fn acknowledging_an_open_alert_names_who_took_it() {
        let book = MemoryAlerts::with(vec![open("shop-5xx", "eu-west-1")]);
        let text = ack("ack shop-5xx").run(&ctx(), &book).await.unwrap().text();
        assert!(text.contains("<@U0DEV> acknowledged *shop-5xx* (ALARM since 15m ago)"), "{text}");
        let stored = book.open_now().remove(0).acked.unwrap();
        assert_eq!(stored.by.as_str(), "U0DEV");
    }

    #[tokio::test]
    async fn a_second_ack_says_who_was_first_and_changes_nothing() {
        let mut taken = open("shop-5xx", "eu-west-1");
        taken.acked = Some(Ack { by: SlackUserId::parse("U0FIRST").unwrap(), at: before(60) });
        let book = MemoryAlerts::with(vec![taken]);
        let text = ack("ack shop-5xx").run(&ctx(), &book).await.unwrap().text();
        assert!(text.contains("already acknowledged by <@U0FIRST> 1m ago"), "{text}");
        assert_eq!(book.open_now()[0].acked.as_ref().unwrap().by.as_str(), "U0FIRST");
    }

    #[tokio::test]
    async fn an_alert_that_is_not_open_or_is_ambiguous_says_what_to_do() {
        let book = MemoryAlerts::with(vec![open("shop-5xx", "eu-west-1"), open("shop-5xx", "us-east-1")]);
        let text = ack("ack shop-5xx").run(&ctx(), &book).await.unwrap().text();
        assert!(text.contains("name one by its ARN") && text.contains("alarm:shop-5xx"), "{text}");
        let text = ack("ack nope").run(&ctx(), &book).await.unwrap().text();
        assert!(text.contains("No open alert is called `nope`"), "{text}");
        let arn = "arn:aws:cloudwatch:us-east-1:111122223333:alarm:shop-5xx";
        let text = ack(&format!("ack {arn}")).run(&ctx(), &book).await.unwrap().text();
        assert!(text.contains("acknowledged *shop-5xx*"), "{text}");
    }
}
