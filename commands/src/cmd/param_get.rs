//! `param get NAME`: one Parameter Store value; SecureStrings stay masked.

use crate::error::{GatewayResult, UsageError};
use crate::ports::Params as ParamsPort;
use crate::reply::Reply;
use crate::spec::{Spec, expect_args};
use crate::values::ParamName;

use super::Context;

pub const SPEC: Spec = Spec {
    name: "param get",
    args: "NAME",
    summary: "A Parameter Store value, its type, version and last change (SecureStrings are masked)",
    example: "param get /shop/prod/db-host",
    changes: false,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamGet {
    pub name: ParamName,
}

impl ParamGet {
    pub fn parse(args: &[String]) -> Result<Self, UsageError> {
        expect_args(&SPEC, args, 1, 1)?;
        Ok(ParamGet { name: ParamName::parse(&args[0])? })
    }

    pub async fn run(&self, _ctx: &Context, _params: &dyn ParamsPort) -> GatewayResult<Reply> {
        todo!("being written")
    }
}
