//! `alerts`: the alarms opsbot is keeping open — in ALARM, with insufficient
//! data, or flapping — with who acknowledged each, or for how long nobody has.
//! The on-call's "what is unowned right now?"; `alarms` asks CloudWatch
//! itself instead. Notifications opsbot could not handle (parked after their
//! retries) are listed too: one of them may be an alarm nobody saw.

use crate::command::{Body, CommandDef, Reach, Read};
use crate::context::Context;
use crate::error::{GatewayError, GatewayResult};
use crate::mrkdwn;
use crate::mrkdwn::Mrkdwn;
use crate::ports::Time;
use crate::ports::alerts::{Alert, AlertState, Alerts as AlertsPort, Parked};
use crate::reply::Reply;
use crate::spec::{Spec, expect_args};
use crate::text::{ago, count, duration, one_line, truncate};

pub const SPEC: Spec = Spec {
    name: "alerts",
    args: "",
    summary: "Open alerts from alarm notifications, with who acknowledged each (or that nobody has), and notifications that could not be handled",
    example: "alerts",
    changes: false,
    alias: None,
};

const SHOWN: usize = 30;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alerts;

impl Alerts {
    pub fn parse(args: &[String]) -> Result<Self, crate::error::UsageError> {
        expect_args(&SPEC, args, 0, 0).map(|()| Alerts)
    }

    pub async fn run(&self, ctx: &Context, alerts: &dyn AlertsPort) -> GatewayResult<Reply> {
        let open = alerts.open().await.map_err(|e| GatewayError::other("reading open alerts", e))?;
        let parked = alerts.parked().await.map_err(|e| GatewayError::other("reading parked notifications", e))?;
        let reply = if open.is_empty() {
            let calm = "No open alerts: every alarm opsbot follows is OK.";
            Reply::in_channel(calm).section(mrkdwn!(":white_check_mark: {}", calm))
        } else {
            let unacked = open.iter().filter(|a| a.acked.is_none()).count();
            let summary = format!("{} open, {unacked} not acknowledged", count(open.len(), "alert"));
            let mut parts = vec![Mrkdwn::text(&summary)];
            if open.len() > SHOWN {
                parts.push(mrkdwn!("{} not shown", count(open.len() - SHOWN, "more alert")));
            }
            parts.push(mrkdwn!("`alert ack NAME` (or `ack NAME`) takes one"));
            let lines = open.iter().take(SHOWN).map(|a| line(ctx.now, a));
            Reply::in_channel(format!("Open alerts: {summary}")).header("Open alerts").lines(lines).context(parts)
        };
        Ok(match parked.count {
            0 => reply,
            _ => reply.section(parked_section(ctx.now, &parked)),
        })
    }
}

/// What the on-call must know of the notifications that could not be handled.
fn parked_section(now: Time, parked: &Parked) -> Mrkdwn {
    let mut text = mrkdwn!(
        ":warning: *{} could not be handled* and {} parked: kept, not lost, and out of the way of the rest. \
         The log has each one's error (`notification parked`).",
        count(parked.count, "notification"),
        if parked.count == 1 { "is" } else { "are" }
    );
    for p in &parked.newest {
        let error = truncate(&one_line(&p.error), 150);
        text = mrkdwn!("{}\n• `{}` — {} ({} tries, parked {})", text, p.key, error, p.attempts, ago(now, p.parked));
    }
    text
}

fn line(now: Time, alert: &Alert) -> Mrkdwn {
    let (icon, state) = state_words(alert.state);
    let owner = match &alert.acked {
        Some(ack) => mrkdwn!("acknowledged by {} {}", Mrkdwn::user(ack.by.as_str()), ago(now, ack.at)),
        None if alert.escalated => mrkdwn!("*not acknowledged* for {} — escalated", duration(alert.since, now)),
        None => mrkdwn!("*not acknowledged* for {}", duration(alert.since, now)),
    };
    let reason = truncate(&one_line(&alert.reason), 150);
    mrkdwn!("{} *{}* — {} since {} · {}\n{}", icon, alert.name, state, ago(now, alert.since), owner, reason)
}

/// The icon and words for a state, shared with `alert ack`'s answer.
pub(crate) fn state_words(state: AlertState) -> (&'static str, &'static str) {
    match state {
        AlertState::Alarm => (":rotating_light:", "ALARM"),
        AlertState::InsufficientData => (":grey_question:", "insufficient data"),
        AlertState::Flapping => (":ocean:", "flapping"),
    }
}

// The command table's view of `alerts`; its grammar and answer are above.
impl CommandDef for Alerts {
    const SPEC: &'static Spec = &SPEC;

    fn parse(args: &[String]) -> Result<Self, crate::error::UsageError> {
        Alerts::parse(args)
    }

    fn body(&self) -> Body<'_> {
        Body::Read(self)
    }
}

#[async_trait::async_trait]
impl Read for Alerts {
    async fn read(&self, ctx: &Context, reach: &Reach<'_>) -> GatewayResult<Reply> {
        self.run(ctx, reach.alerts).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::alerts::{Ack, ParkedNotification};
    use crate::testing::{MemoryAlerts, before, ctx};
    use crate::values::SlackUserId;

    fn alert(name: &str, state: AlertState, since_secs: i64) -> Alert {
        Alert {
            arn: format!("arn:aws:cloudwatch:eu-west-1:111122223333:alarm:{name}"),
            name: name.into(),
            state,
            since: before(since_secs),
            reason: "Threshold Crossed: 1 datapoint [5.0] was greater than the threshold (1.0).".into(),
            acked: None,
            escalated: false,
        }
    }

    #[tokio::test]
    async fn open_alerts_show_their_state_and_who_owns_them() {
        let mut taken = alert("shop-latency", AlertState::Alarm, 600);
        taken.acked = Some(Ack { by: SlackUserId::parse("U0ONCALL").unwrap(), at: before(300) });
        let mut loud = alert("shop-5xx", AlertState::Flapping, 1200);
        loud.escalated = true;
        let book = MemoryAlerts::with(vec![taken, loud]);
        let text = Alerts.run(&ctx(), &book).await.unwrap().text();
        assert!(text.contains("2 alerts open, 1 not acknowledged"), "{text}");
        assert!(text.contains("*shop-latency* — ALARM since 10m ago · acknowledged by <@U0ONCALL> 5m ago"), "{text}");
        assert!(
            text.contains("*shop-5xx* — flapping since 20m ago · *not acknowledged* for 20m — escalated"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn parked_notifications_are_counted_and_the_newest_named_even_when_every_alarm_is_ok() {
        let newest = |key: &str, secs| ParkedNotification {
            key: key.into(),
            error: "cannot queue the Slack write: database disk image is malformed".into(),
            attempts: 8,
            parked: before(secs),
        };
        let parked = Parked { count: 5, newest: vec![newest("sns:m5", 60), newest("sns:m4", 120)] };
        let book = MemoryAlerts::default().with_parked(parked);
        let text = Alerts.run(&ctx(), &book).await.unwrap().text();
        assert!(text.contains("No open alerts"), "{text}");
        assert!(text.contains("*5 notifications could not be handled* and are parked"), "{text}");
        assert!(
            text.contains(
                "• `sns:m5` — cannot queue the Slack write: database disk image is malformed (8 tries, parked 1m ago)"
            ),
            "{text}"
        );
        assert!(text.contains("`sns:m4`"), "{text}");
    }

    #[tokio::test]
    async fn nothing_is_said_of_parked_notifications_when_there_are_none() {
        let text = Alerts.run(&ctx(), &MemoryAlerts::default()).await.unwrap().text();
        assert!(!text.contains("parked"), "{text}");
    }

    #[tokio::test]
    async fn no_open_alerts_is_said_in_words() {
        let text = Alerts.run(&ctx(), &MemoryAlerts::default()).await.unwrap().text();
        assert!(text.contains("No open alerts"), "{text}");
    }
}
