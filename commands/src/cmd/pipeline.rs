//! `pipeline NAME`: stages and actions of one pipeline with their status.

use crate::error::{GatewayResult, UsageError};
use crate::ports::Pipelines as PipelinesPort;
use crate::reply::Reply;
use crate::spec::{Spec, expect_args};
use crate::values::PipelineName;

use super::Context;

pub const SPEC: Spec = Spec {
    name: "pipeline",
    args: "NAME",
    summary: "Stages and actions of a pipeline: status, revision, trigger, duration, errors, pending approvals",
    example: "pipeline storefront-prod",
    changes: false,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pipeline {
    pub name: PipelineName,
}

impl Pipeline {
    pub fn parse(args: &[String]) -> Result<Self, UsageError> {
        expect_args(&SPEC, args, 1, 1)?;
        Ok(Pipeline { name: PipelineName::parse(&args[0])? })
    }

    pub async fn run(&self, _ctx: &Context, _pipelines: &dyn PipelinesPort) -> GatewayResult<Reply> {
        todo!("being written")
    }
}
