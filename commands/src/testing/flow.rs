//! Drives one change through the whole flow — plan, Confirm, act, follow —
//! against a [`FakeAws`], for command tests about how a change ends. The
//! follow loop sleeps on tokio time: run these under
//! `#[tokio::test(start_paused = true)]` and minutes pass in no time.

use std::sync::Arc;
use std::time::Duration;

use opsbot_policies::Policy;

use super::{FakeAws, MemoryChat, MemoryStore, ctx};
use crate::ops::Ops;
use crate::ports::store::{AuditEvent, ChangeId, Store};

/// What a change left behind.
pub struct Ran {
    /// The fake, to look at the calls it received.
    pub aws: Arc<FakeAws>,
    /// The channel message's last text (the change's outcome).
    pub last: String,
    /// Every text the channel message showed, in order (progress included).
    pub shown: Vec<String>,
    pub events: Vec<AuditEvent>,
}

/// Runs `text` as its requester would: a policy that allows its command,
/// the plan confirmed at once, then waits until the change is over.
pub async fn run_change(aws: FakeAws, text: &str) -> Ran {
    let aws = Arc::new(aws);
    let store = Arc::new(MemoryStore::default());
    let chat = Arc::new(RecordingChat::default());
    let command = text.split_whitespace().next().expect("a command");
    let policy = Arc::new(Policy::reads_for_everyone([command]));
    let ops = Arc::new(Ops::new(FakeAws::share(&aws), policy, store.clone(), chat.clone()));
    let plan = ops.handle(&ctx(), text).await;
    let confirm = plan.all_buttons().find(|b| b.label == "Confirm");
    let confirm = confirm
        .unwrap_or_else(|| panic!("no plan to confirm:\n{}", plan.text()))
        .press
        .change()
        .cloned()
        .expect("a change button");
    ops.click(&ctx(), &confirm).await;
    let id = ChangeId(ctx().request_id);
    while !store.change(&id).await.unwrap().is_some_and(|c| c.state.is_final()) {
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let events = store.audit.lock().unwrap().iter().map(|r| r.event).collect();
    let shown = chat.shown.lock().unwrap().clone();
    Ran { aws, last: shown.last().cloned().unwrap_or_default(), shown, events }
}

/// A [`MemoryChat`] that also keeps every version of every message.
#[derive(Default)]
struct RecordingChat {
    inner: MemoryChat,
    shown: std::sync::Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl crate::ports::chat::Chat for RecordingChat {
    async fn post(
        &self,
        channel: &crate::values::ChannelId,
        reply: &crate::Reply,
    ) -> Result<crate::ports::chat::MessageRef, crate::ports::chat::ChatError> {
        self.shown.lock().unwrap().push(reply.text());
        self.inner.post(channel, reply).await
    }

    async fn update(
        &self,
        message: &crate::ports::chat::MessageRef,
        reply: &crate::Reply,
    ) -> Result<(), crate::ports::chat::ChatError> {
        self.shown.lock().unwrap().push(reply.text());
        self.inner.update(message, reply).await
    }

    async fn whisper(
        &self,
        channel: &crate::values::ChannelId,
        user: &crate::values::SlackUserId,
        reply: &crate::Reply,
    ) -> Result<(), crate::ports::chat::ChatError> {
        self.inner.whisper(channel, user, reply).await
    }
}
