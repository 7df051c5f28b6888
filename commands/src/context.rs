//! Who asks, where and when: the [`Context`] every command runs in, filled by
//! the adapter (Slack or console) — or, for a change that runs later, from
//! its stored request.

use chrono::{DateTime, Utc};

use crate::values::{ChannelId, SlackUserId};

/// Who asks, where, and when — filled by the adapter (Slack or console).
#[derive(Debug, Clone)]
pub struct Context {
    /// Unique per request; shown to users as the reference of internal errors.
    pub request_id: String,
    pub user: SlackUserId,
    pub user_name: Option<String>,
    /// The user's Slack user groups (ids), for policies that name groups.
    pub groups: Vec<String>,
    pub channel: ChannelId,
    pub channel_name: Option<String>,
    pub now: DateTime<Utc>,
}
