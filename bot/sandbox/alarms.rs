//! CloudWatch alarms in the sandbox: stored as the port's [`Alarm`] (there is
//! nothing the port hides), keyed and therefore listed by name as
//! `DescribeAlarms` lists them.

use async_trait::async_trait;
use opsbot_commands::GatewayResult;
use opsbot_commands::ports::{Alarm, Alarms};
use opsbot_commands::values::AlarmPrefix;

use super::Sandbox;

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
    use opsbot_commands::ports::AlarmState;

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
}
