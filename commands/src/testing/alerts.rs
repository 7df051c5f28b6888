//! An in-memory alert book for command tests: the port's behaviour (pick by
//! ARN or name, first acknowledgement wins) without the notification side.

use std::sync::Mutex;

use async_trait::async_trait;

use crate::ports::Time;
use crate::ports::alerts::{Ack, AckOutcome, Alert, Alerts, Parked, pick};
use crate::ports::store::StoreError;
use crate::values::SlackUserId;

#[derive(Default)]
pub struct MemoryAlerts {
    open: Mutex<Vec<Alert>>,
    parked: Parked,
}

impl MemoryAlerts {
    pub fn with(open: Vec<Alert>) -> Self {
        MemoryAlerts { open: Mutex::new(open), parked: Parked::default() }
    }

    /// The same book, with these notifications parked.
    pub fn with_parked(self, parked: Parked) -> Self {
        MemoryAlerts { parked, ..self }
    }

    pub fn open_now(&self) -> Vec<Alert> {
        self.open.lock().unwrap().clone()
    }
}

#[async_trait]
impl Alerts for MemoryAlerts {
    async fn open(&self) -> Result<Vec<Alert>, StoreError> {
        Ok(self.open_now())
    }

    async fn ack(&self, which: &str, by: &SlackUserId, at: Time) -> Result<AckOutcome, StoreError> {
        let mut open = self.open.lock().unwrap();
        let found = match pick(&open, which) {
            Ok(found) => found,
            Err(miss) => return Ok(miss.into()),
        };
        let alert = &mut open[found];
        if alert.acked.is_some() {
            return Ok(AckOutcome::AlreadyAcked(alert.clone()));
        }
        alert.acked = Some(Ack { by: by.clone(), at });
        Ok(AckOutcome::Acked(alert.clone()))
    }

    async fn parked(&self) -> Result<Parked, StoreError> {
        Ok(self.parked.clone())
    }
}
