//! Where notification bodies come in: the SQS poller ([`sqs`]) and the SNS
//! HTTP(S) endpoint ([`sns`]). Both hand each body to an [`Inbox`] and tell
//! their source it may forget it only once the inbox has it on disk.

use async_trait::async_trait;

pub use crate::metrics::Source;

pub mod sns;
pub mod sqs;

/// Where intake puts what it receives.
#[async_trait]
pub trait Inbox: Send + Sync {
    /// Persists one body received from `source`. `Ok` — new or already
    /// known — means the source may forget it; `Err` means it must deliver it again.
    async fn receive(&self, source: Source, body: &[u8]) -> Result<(), String>;

    /// An SNS notification whose envelope `POST /sns` has parsed (and
    /// checked), with the body it came in: as `receive`; an inbox that can
    /// use the envelope spares parsing it twice.
    async fn receive_sns(&self, envelope: sns::SnsMessage, body: &[u8]) -> Result<(), String> {
        drop(envelope);
        self.receive(Source::Sns, body).await
    }
}
