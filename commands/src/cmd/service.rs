//! `service CLUSTER/NAME`: one ECS service in detail.

use crate::error::{GatewayResult, UsageError};
use crate::ports::Services as ServicesPort;
use crate::reply::Reply;
use crate::spec::{Spec, expect_args};
use crate::values::ServiceRef;

use super::Context;

pub const SPEC: Spec = Spec {
    name: "service",
    args: "CLUSTER/NAME",
    summary: "One ECS service: tasks, task definition and image, deployments, latest events",
    example: "service prod/api",
    changes: false,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub service: ServiceRef,
}

impl Service {
    pub fn parse(args: &[String]) -> Result<Self, UsageError> {
        expect_args(&SPEC, args, 1, 1)?;
        Ok(Service { service: ServiceRef::parse(&args[0])? })
    }

    pub async fn run(&self, _ctx: &Context, _services: &dyn ServicesPort) -> GatewayResult<Reply> {
        todo!("being written")
    }
}
