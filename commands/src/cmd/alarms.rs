//! `alarms [PREFIX]`: CloudWatch alarms that need attention.

use crate::error::{GatewayResult, UsageError};
use crate::ports::Alarms as AlarmsPort;
use crate::reply::Reply;
use crate::spec::{Spec, expect_args};
use crate::values::AlarmPrefix;

use super::Context;

pub const SPEC: Spec = Spec {
    name: "alarms",
    args: "[PREFIX]",
    summary: "CloudWatch alarms in ALARM or INSUFFICIENT_DATA, with reason and since when",
    example: "alarms shop-",
    changes: false,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alarms {
    pub prefix: Option<AlarmPrefix>,
}

impl Alarms {
    pub fn parse(args: &[String]) -> Result<Self, UsageError> {
        expect_args(&SPEC, args, 0, 1)?;
        Ok(Alarms { prefix: args.first().map(|p| AlarmPrefix::parse(p)).transpose()? })
    }

    pub async fn run(&self, _ctx: &Context, _alarms: &dyn AlarmsPort) -> GatewayResult<Reply> {
        todo!("being written")
    }
}
