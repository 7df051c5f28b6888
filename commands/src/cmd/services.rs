//! `services [CLUSTER]`: ECS services with their counts and rollout state.

use crate::error::{GatewayResult, UsageError};
use crate::ports::Services as ServicesPort;
use crate::reply::Reply;
use crate::spec::{Spec, expect_args};
use crate::values::ClusterName;

use super::Context;

pub const SPEC: Spec = Spec {
    name: "services",
    args: "[CLUSTER]",
    summary: "ECS services (of one cluster or all): running/desired tasks and rollout state",
    example: "services prod",
    changes: false,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Services {
    pub cluster: Option<ClusterName>,
}

impl Services {
    pub fn parse(args: &[String]) -> Result<Self, UsageError> {
        expect_args(&SPEC, args, 0, 1)?;
        Ok(Services { cluster: args.first().map(|c| ClusterName::parse(c)).transpose()? })
    }

    pub async fn run(&self, _ctx: &Context, _services: &dyn ServicesPort) -> GatewayResult<Reply> {
        todo!("being written")
    }
}
