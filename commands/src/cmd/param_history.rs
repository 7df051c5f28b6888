//! `param history NAME`: every version of a parameter, who wrote it and its labels.

use crate::error::{GatewayResult, UsageError};
use crate::ports::Params as ParamsPort;
use crate::reply::Reply;
use crate::spec::{Spec, expect_args};
use crate::values::ParamName;

use super::Context;

pub const SPEC: Spec = Spec {
    name: "param history",
    args: "NAME",
    summary: "Versions of a parameter: when, who changed it, labels (SecureStrings are masked)",
    example: "param history /shop/prod/db-host",
    changes: false,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamHistory {
    pub name: ParamName,
}

impl ParamHistory {
    pub fn parse(args: &[String]) -> Result<Self, UsageError> {
        expect_args(&SPEC, args, 1, 1)?;
        Ok(ParamHistory { name: ParamName::parse(&args[0])? })
    }

    pub async fn run(&self, _ctx: &Context, _params: &dyn ParamsPort) -> GatewayResult<Reply> {
        todo!("being written")
    }
}
