//! `alarms [PREFIX]`: CloudWatch alarms that need attention — the on-call's
//! "what is on fire?". Alarms in ALARM come first, then those with
//! insufficient data (often a metric that stopped reporting, so worth a look);
//! OK alarms are only counted. "Nothing firing" is said in so many words.

use async_trait::async_trait;

use crate::command::{Body, CommandDef, Reach, Read};
use crate::context::Context;
use crate::error::{GatewayResult, UsageError};
use crate::mrkdwn;
use crate::mrkdwn::Mrkdwn;
use crate::ports::{Alarm, AlarmState, Alarms as AlarmsPort, Time};
use crate::reply::Reply;
use crate::spec::{Spec, expect_args};
use crate::text::{count, one_line, truncate, when};
use crate::values::AlarmPrefix;

pub const SPEC: Spec = Spec {
    name: "alarms",
    args: "[PREFIX]",
    summary: "CloudWatch alarms in ALARM or INSUFFICIENT_DATA, with reason and since when",
    example: "alarms shop-",
    changes: false,
    alias: None,
};

/// At most this many alarms are listed; the rest are counted.
const SHOWN: usize = 50;
const REASON_MAX: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alarms {
    pub prefix: Option<AlarmPrefix>,
}

impl CommandDef for Alarms {
    const SPEC: &'static Spec = &SPEC;

    fn parse(args: &[String]) -> Result<Self, UsageError> {
        expect_args(&SPEC, args, 0, 1)?;
        Ok(Alarms { prefix: args.first().map(|p| AlarmPrefix::parse(p)).transpose()? })
    }

    fn body(&self) -> Body<'_> {
        Body::Read(self)
    }
}

#[async_trait]
impl Read for Alarms {
    async fn read(&self, ctx: &Context, reach: &Reach<'_>) -> GatewayResult<Reply> {
        self.run(ctx, reach.aws.alarms.as_ref()).await
    }
}

impl Alarms {
    pub async fn run(&self, ctx: &Context, alarms: &dyn AlarmsPort) -> GatewayResult<Reply> {
        let list = alarms.list(self.prefix.as_ref()).await?;
        if list.is_empty() {
            return Ok(self.none_at_all());
        }
        let firing = newest_first(&list, AlarmState::Alarm);
        let unknown = newest_first(&list, AlarmState::InsufficientData);
        let ok = list.len() - firing.len() - unknown.len();
        let summary = format!("{} in alarm, {} with insufficient data, {ok} OK", firing.len(), unknown.len());
        let title = self
            .prefix
            .as_ref()
            .map_or("Alarms".into(), |p| format!("Alarms starting with {}", truncate(p.as_str(), 100)));
        let mut reply = Reply::in_channel(format!("{title}: {summary}")).header(title);
        if firing.is_empty() {
            let calm = mrkdwn!("No alarms firing{} — {} OK", self.scope(), ok);
            reply.fallback = calm.plain().replace('`', "");
            reply = reply.section(mrkdwn!(":white_check_mark: {}", calm));
        }
        let listed: Vec<&Alarm> = firing.into_iter().chain(unknown).collect();
        let lines = listed.iter().take(SHOWN).map(|a| line(ctx.now, a));
        Ok(reply.lines(lines).context(self.footer(summary, listed.len())))
    }

    /// ` for `shop-`` when a prefix was given.
    fn scope(&self) -> Mrkdwn {
        self.prefix.as_ref().map(|p| mrkdwn!(" for `{}`", p.as_str())).unwrap_or_default()
    }

    fn none_at_all(&self) -> Reply {
        let text = match &self.prefix {
            Some(p) => mrkdwn!("No alarm names start with `{}`.", p.as_str()),
            None => mrkdwn!("There are no CloudWatch alarms in this account and region."),
        };
        Reply::in_channel(text.plain()).section(text)
    }

    fn footer(&self, summary: String, listed: usize) -> Vec<Mrkdwn> {
        let mut parts = vec![Mrkdwn::text(&summary)];
        if listed > SHOWN {
            let more = count(listed - SHOWN, "more alarm");
            parts.push(mrkdwn!("{} not shown: narrow the list with `alarms PREFIX`", more));
        }
        parts
    }
}

/// Alarms in `state`, the most recent change first (what just broke), then by name.
fn newest_first(list: &[Alarm], state: AlarmState) -> Vec<&Alarm> {
    let mut out: Vec<&Alarm> = list.iter().filter(|a| a.state == state).collect();
    out.sort_by(|a, b| b.since.cmp(&a.since).then_with(|| a.name.cmp(&b.name)));
    out
}

/// `:rotating_light: *name* — in alarm · since … · `metric`` and the reason below.
fn line(now: Time, alarm: &Alarm) -> Mrkdwn {
    let (icon, state) = match alarm.state {
        AlarmState::Alarm => (":rotating_light:", "in alarm"),
        AlarmState::InsufficientData => (":grey_question:", "insufficient data"),
        AlarmState::Ok => (":white_check_mark:", "OK"),
    };
    let mut parts = vec![mrkdwn!("{} *{}* — {}", icon, alarm.name, state)];
    parts.extend(alarm.since.map(|t| mrkdwn!("since {}", when(now, t))));
    parts.extend(alarm.metric.as_deref().map(|m| mrkdwn!("`{}`", m)));
    let reason = alarm.reason.as_deref().map(|r| mrkdwn!("\n>{}", truncate(&one_line(r), REASON_MAX)));
    mrkdwn!("{}{}", Mrkdwn::join(parts, " · "), reason.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FakeAws, alarm, ctx};
    use AlarmState::{Alarm as Firing, InsufficientData, Ok};

    async fn show(aws: &FakeAws, prefix: Option<&str>) -> Reply {
        let prefix = prefix.map(|p| AlarmPrefix::parse(p).unwrap());
        Alarms { prefix }.run(&ctx(), aws).await.unwrap()
    }

    fn shop() -> FakeAws {
        let mut errors = alarm("shop-5xx", Firing, 720);
        errors.reason = Some("Threshold Crossed: 1 datapoint [12.0]\nwas greater than the threshold (5.0).".into());
        errors.metric = Some("AWS/ApplicationELB HTTPCode_Target_5XX_Count".into());
        FakeAws::default()
            .with_alarm(alarm("shop-latency", Firing, 7200))
            .with_alarm(errors)
            .with_alarm(alarm("shop-queue-age", InsufficientData, 60))
            .with_alarm(alarm("shop-cpu", Ok, 60))
            .with_alarm(alarm("billing-cpu", Ok, 60))
    }

    #[tokio::test]
    async fn firing_alarms_come_first_newest_first_with_reason_and_since() {
        let reply = show(&shop(), None).await;
        let text = reply.text();
        let firing = ":rotating_light: *shop-5xx* — in alarm · since 2026-11-22 11:48 UTC (12m ago) · \
                      `AWS/ApplicationELB HTTPCode_Target_5XX_Count`\n\
                      >Threshold Crossed: 1 datapoint [12.0] was greater than the threshold (5.0).";
        assert!(text.contains(firing), "{text}");
        let order: Vec<usize> =
            ["*shop-5xx*", "*shop-latency*", "*shop-queue-age*"].iter().map(|n| text.find(n).unwrap()).collect();
        assert!(order.is_sorted(), "{text}");
        assert!(!text.contains("*shop-cpu*"), "OK alarms are only counted: {text}");
        assert_eq!(reply.fallback, "Alarms: 2 in alarm, 1 with insufficient data, 2 OK");
    }

    #[tokio::test]
    async fn insufficient_data_is_marked_as_such() {
        let text = show(&shop(), None).await.text();
        assert!(text.contains(":grey_question: *shop-queue-age* — insufficient data · since"), "{text}");
    }

    #[tokio::test]
    async fn nothing_firing_is_said_clearly_with_the_ok_count_and_prefix() {
        let aws = FakeAws::default().with_alarm(alarm("shop-cpu", Ok, 60)).with_alarm(alarm("shop-mem", Ok, 60));
        let text = show(&aws, Some("shop-")).await.text();
        assert!(text.starts_with("Alarms starting with shop-\n"), "{text}");
        assert!(text.contains(":white_check_mark: No alarms firing for `shop-` — 2 OK"), "{text}");
        assert_eq!(show(&aws, Some("shop-")).await.fallback, "No alarms firing for shop- — 2 OK");
    }

    #[tokio::test]
    async fn a_prefix_matching_nothing_says_so() {
        let text = show(&shop(), Some("payments-")).await.text();
        assert_eq!(text, "No alarm names start with `payments-`.");
        assert!(show(&FakeAws::default(), None).await.text().contains("no CloudWatch alarms"));
    }

    #[tokio::test]
    async fn long_reasons_are_cut_and_alarm_text_cannot_ping() {
        let mut loud = alarm("<!channel>", Firing, 60);
        loud.reason = Some(format!("<@U1> {}", "z".repeat(500)));
        let text = show(&FakeAws::default().with_alarm(loud), None).await.text();
        assert!(!text.contains("<!") && !text.contains("<@"), "{text}");
        let reason = text.lines().find(|l| l.starts_with('>')).unwrap();
        assert!(reason.ends_with('…') && reason.chars().count() < REASON_MAX + 20, "{reason}");
    }

    #[tokio::test]
    async fn a_flood_of_alarms_is_capped_with_a_hint() {
        let aws = (0..60).fold(FakeAws::default(), |aws, i| aws.with_alarm(alarm(&format!("a{i:02}"), Firing, 60)));
        let text = show(&aws, None).await.text();
        assert_eq!(text.matches(":rotating_light:").count(), SHOWN, "{text}");
        assert!(text.contains("10 more alarms not shown: narrow the list with `alarms PREFIX`"), "{text}");
    }
}
