//! `params PATH`: every parameter under a path.

use crate::error::{GatewayResult, UsageError};
use crate::ports::Params as ParamsPort;
use crate::reply::Reply;
use crate::spec::{Spec, expect_args};
use crate::values::ParamPath;

use super::Context;

pub const SPEC: Spec = Spec {
    name: "params",
    args: "PATH",
    summary: "Every parameter under a path, recursively (SecureStrings are masked)",
    example: "params /shop/prod",
    changes: false,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    pub path: ParamPath,
}

impl Params {
    pub fn parse(args: &[String]) -> Result<Self, UsageError> {
        expect_args(&SPEC, args, 1, 1)?;
        Ok(Params { path: ParamPath::parse(&args[0])? })
    }

    pub async fn run(&self, _ctx: &Context, _params: &dyn ParamsPort) -> GatewayResult<Reply> {
        todo!("being written")
    }
}
