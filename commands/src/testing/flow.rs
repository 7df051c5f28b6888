//! Drives one change through the whole flow — plan, Confirm, act, follow —
//! against a [`FakeAws`], for command tests about how a change ends. The
//! follow loop sleeps on tokio time: run these under
//! `#[tokio::test(start_paused = true)]` and minutes pass in no time.

use std::sync::Arc;
use std::time::Duration;

use opsbot_policies::Policy;

use super::{FakeAws, MemoryChat, MemoryStore, change_button, ctx};
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
    let chat = Arc::new(MemoryChat::default());
    let command = text.split_whitespace().next().expect("a command");
    let policy = Arc::new(Policy::reads_for_everyone([command]));
    let ops = Arc::new(Ops::new(FakeAws::share(&aws), policy, store.clone(), chat.clone()));
    let plan = ops.handle(&ctx(), text).await;
    let confirm = change_button(&plan, "Confirm");
    ops.click(&ctx(), &confirm).await;
    let id = ChangeId(ctx().request_id);
    while !store.change(&id).await.unwrap().is_some_and(|c| c.state.is_final()) {
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let events = store.audit.lock().unwrap().iter().map(|r| r.event).collect();
    let shown = chat.shown.lock().unwrap().clone();
    Ran { aws, last: shown.last().cloned().unwrap_or_default(), shown, events }
}
