//! [`FakeAccounts`]: named accounts, each its own [`FakeAws`], and places
//! (an account or the bot's own in another region, by [`Target::label`]) that
//! have their own, recording which was asked for what and for whom.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::FakeAws;
use crate::error::{GatewayError, GatewayResult};
use crate::ports::{Accounts, Gateways};
use crate::target::{AccountNames, Target};
use crate::values::SlackUserId;

/// Accounts by name, each backed by its own fake.
pub struct FakeAccounts {
    default: Option<String>,
    accounts: BTreeMap<String, Arc<FakeAws>>,
    /// Gateways of a place (`prod eu-west-1`, `eu-west-1`) apart from its account's.
    places: BTreeMap<String, Arc<FakeAws>>,
    /// `reads prod`, `changes prod for U0DEV`, in order.
    pub asked: Mutex<Vec<String>>,
}

impl FakeAccounts {
    /// `accounts` by name; a line naming none acts in `default` (if any).
    pub fn new(accounts: Vec<(&str, FakeAws)>, default: Option<&str>) -> Self {
        let accounts = accounts.into_iter().map(|(name, aws)| (name.to_owned(), Arc::new(aws))).collect();
        FakeAccounts { default: default.map(Into::into), accounts, places: BTreeMap::new(), asked: Mutex::default() }
    }

    /// With `aws` behind the place labelled `label` (`eu-west-1`, `prod us-east-2`).
    pub fn with_place(mut self, label: &str, aws: FakeAws) -> Self {
        self.places.insert(label.to_owned(), Arc::new(aws));
        self
    }

    /// The fake behind the place `label`.
    pub fn place(&self, label: &str) -> Arc<FakeAws> {
        self.places[label].clone()
    }

    /// The fake behind `name`, to look at the calls it received.
    pub fn account(&self, name: &str) -> Arc<FakeAws> {
        self.accounts[name].clone()
    }

    fn gateways(&self, target: &Target) -> GatewayResult<Gateways> {
        if let Some(aws) = target.label().and_then(|label| self.places.get(&label)) {
            return Ok(FakeAws::share(aws));
        }
        let name = target.account.as_deref().unwrap_or_default();
        let aws = self.accounts.get(name).ok_or_else(|| GatewayError::not_found(format!("account `{name}`")))?;
        Ok(FakeAws::share(aws))
    }
}

#[async_trait]
impl Accounts for FakeAccounts {
    fn names(&self) -> AccountNames {
        AccountNames::new(self.accounts.keys().cloned().collect(), self.default.clone())
    }

    async fn reads(&self, target: &Target) -> GatewayResult<Gateways> {
        self.asked.lock().unwrap().push(format!("reads {}", target.label().unwrap_or_default()));
        self.gateways(target)
    }

    async fn changes(&self, target: &Target, user: &SlackUserId) -> GatewayResult<Gateways> {
        self.asked.lock().unwrap().push(format!("changes {} for {user}", target.label().unwrap_or_default()));
        self.gateways(target)
    }
}
