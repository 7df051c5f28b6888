//! The simulated account: its id and region, shown in the ARNs and console
//! links it makes up, and [`Account`], the plain data of every resource in it.
//!
//! It names the resources' data types (`pipelines`, `ecs`, `params`, `ssm`),
//! which never import it: only their ports (`pipelines/ports.rs`, ...) and
//! the seed do.

use std::collections::BTreeMap;

use opsbot_commands::ports::{Alarm, Container, Time};
use opsbot_commands::values::{ClusterName, ParamName, PipelineName};

use super::ecs::SimCluster;
use super::params::SimParam;
use super::pipelines::SimPipeline;
use super::ssm;

/// The demo's AWS account id.
pub const ACCOUNT_ID: &str = "123456789012";
/// The demo account's name, as `aws.accounts` would name it: messages
/// about it say so ([`super::accounts::DemoAccounts`]).
pub const ACCOUNT_NAME: &str = "shop";
/// The demo's region.
pub const REGION: &str = "eu-west-1";

/// One simulated AWS account and region.
#[derive(Debug, Clone)]
pub struct Account {
    /// The account's present moment: every seeded time is relative to it.
    pub now: Time,
    pub pipelines: BTreeMap<PipelineName, SimPipeline>,
    pub clusters: BTreeMap<ClusterName, SimCluster>,
    /// Registered task definitions by `family:revision`, with their containers.
    pub task_definitions: BTreeMap<String, Vec<Container>>,
    /// CloudWatch alarms by name.
    pub alarms: BTreeMap<String, Alarm>,
    pub params: BTreeMap<ParamName, SimParam>,
    /// Managed instances, Automation executions and Run Command commands.
    pub ssm: ssm::SimSsm,
}

impl Account {
    /// An account with nothing in it.
    pub fn empty(now: Time) -> Self {
        Account {
            now,
            pipelines: BTreeMap::new(),
            clusters: BTreeMap::new(),
            task_definitions: BTreeMap::new(),
            alarms: BTreeMap::new(),
            params: BTreeMap::new(),
            ssm: ssm::SimSsm::default(),
        }
    }
}
