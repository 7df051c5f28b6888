//! CloudWatch alarms in the sandbox: stored as the port's [`Alarm`] (there is
//! nothing the port hides), keyed and therefore listed by name as
//! `DescribeAlarms` lists them. [`Sandbox::follow`] applies an alarm's state
//! change event (EventBridge "CloudWatch Alarm State Change") to the alarm it
//! is about, as CloudWatch had changed it before it told.

use async_trait::async_trait;
use opsbot_commands::GatewayResult;
use opsbot_commands::ports::{Alarm, AlarmState, Alarms};
use opsbot_commands::values::AlarmPrefix;
use serde_json::Value;

use super::Sandbox;

impl Sandbox {
    /// Brings the account in line with an event it sent: an alarm's state
    /// change sets that alarm's state, reason and since (other bodies change
    /// nothing). An alarm the account lacks is added as the event names it.
    pub fn follow(&self, body: &str) {
        let Ok(event) = serde_json::from_str::<Value>(body) else { return };
        if event["detail-type"] != "CloudWatch Alarm State Change" {
            return;
        }
        let (detail, state) = (&event["detail"], &event["detail"]["state"]);
        let Some(name) = detail["alarmName"].as_str() else { return };
        let Some(new) = state["value"].as_str().and_then(AlarmState::from_aws) else { return };
        let since = state["timestamp"].as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
        self.update(|account| {
            let alarm = account.alarms.entry(name.to_owned()).or_insert_with(|| Alarm {
                name: name.to_owned(),
                arn: event["resources"][0].as_str().map(str::to_owned),
                state: AlarmState::Ok,
                reason: None,
                since: None,
                metric: None,
                dimensions: Vec::new(),
            });
            alarm.state = new;
            alarm.reason = state["reason"].as_str().map(str::to_owned);
            alarm.since = since.map(|t| t.with_timezone(&chrono::Utc)).or(alarm.since);
        });
    }
}

#[async_trait]
impl Alarms for Sandbox {
    async fn list(&self, prefix: Option<&AlarmPrefix>) -> GatewayResult<Vec<Alarm>> {
        Ok(self.read(|account| {
            account
                .alarms
                .values()
                .filter(|alarm| prefix.is_none_or(|p| alarm.name.starts_with(p.as_str())))
                .cloned()
                .collect()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::seed::tests::demo;

    #[tokio::test]
    async fn the_demo_has_one_alarm_firing_and_one_without_data() {
        let alarms = Alarms::list(&demo(), None).await.unwrap();
        let firing: Vec<&Alarm> = alarms.iter().filter(|a| a.state == AlarmState::Alarm).collect();
        assert_eq!(firing.len(), 1);
        assert_eq!(firing[0].name, "shop-checkout-5xx");
        assert!(firing[0].reason.as_deref().unwrap().starts_with("Threshold Crossed"));
        assert_eq!(alarms.iter().filter(|a| a.state == AlarmState::InsufficientData).count(), 1);
        assert!(alarms.iter().filter(|a| a.state == AlarmState::Ok).count() >= 2);
    }

    #[tokio::test]
    async fn a_prefix_narrows_the_list() {
        let prefix = AlarmPrefix::parse("shop-checkout").unwrap();
        let alarms = Alarms::list(&demo(), Some(&prefix)).await.unwrap();
        assert!(!alarms.is_empty() && alarms.iter().all(|a| a.name.starts_with("shop-checkout")));
        let none = Alarms::list(&demo(), Some(&AlarmPrefix::parse("zzz").unwrap())).await.unwrap();
        assert!(none.is_empty(), "an unmatched prefix is an empty list, not an error");
    }

    #[tokio::test]
    async fn the_story_fires_and_resolves_the_alarm_that_alarms_lists() {
        let sandbox = std::sync::Arc::new(demo());
        let story = crate::sandbox::story::demo_story(chrono::Utc::now(), sandbox.clone());
        let latency =
            |alarms: Vec<Alarm>| alarms.into_iter().find(|a| a.name == "shop-checkout-latency").map(|a| a.state);

        let mut seen = Vec::new();
        for step in &story.steps {
            step.iter().for_each(|body| sandbox.follow(body));
            seen.push(latency(Alarms::list(sandbox.as_ref(), None).await.unwrap()));
        }

        assert!(seen.contains(&Some(AlarmState::Alarm)), "the story's alarm fires in the account: {seen:?}");
        assert_eq!(seen.last(), Some(&Some(AlarmState::Ok)), "and is OK again at the end");
    }
}
