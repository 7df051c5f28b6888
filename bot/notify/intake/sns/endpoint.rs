//! What `POST /sns` needs to judge a message: the signature check, which
//! topics and confirmations are wanted, the client to confirm with, the inbox
//! and the age window. The HTTP handler is `crate::http::sns`; starting
//! notifications (`notify::wiring`) builds this.

use std::sync::Arc;

use opsbot_commands::ports::Clock;

use super::Freshness;
use super::confirm::ConfirmPolicy;
use super::fetch::SnsHttp;
use super::verify::SnsVerifier;
use crate::notify::intake::Inbox;

/// SNS allows 256 KiB of message; the envelope adds its fields and escaping.
pub const MAX_BODY: usize = 1024 * 1024;

/// What `POST /sns` needs.
pub struct SnsEndpoint {
    /// `None` only when signatures are deliberately not checked.
    pub verifier: Option<SnsVerifier>,
    pub confirm: ConfirmPolicy,
    pub http: SnsHttp,
    pub inbox: Arc<dyn Inbox>,
    /// "Now", for the age check (the app's clock).
    pub clock: Clock,
    pub fresh: Freshness,
}
