//! Notifications at the console (`opsbot demo`): the same notifier, living
//! messages and alert book as `serve`, with the screen where Slack would be.
//! [`ConsoleWrites`] commits a notification's records and inbox row to the
//! store like the outbox does, then prints its writes: a new message framed
//! with its channel, an edit as "(edited)", a thread line indented under
//! "↳". Buttons become numbered choices, so Ack and Approve work by number.
//!
//! What one step (or one command) writes is printed at once after it, each
//! message once as it reads then, like a channel seen a moment later.
//!
//! [`Notices`] feeds a short story (a pipeline run that fails at Build, an
//! alarm that fires and recovers, an approval waiting) one step per command
//! line — tied to the session, not the wall clock, so a scripted demo prints
//! the same thing every time.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use opsbot_commands::values::ChannelId;

use super::screen::Screen;
use crate::notify::intake::Inbox;
use crate::notify::service::{Notifications, Writes};
use crate::sandbox::Sandbox;
use crate::sandbox::account::{ACCOUNT_ID, ACCOUNT_NAME};
use crate::sandbox::story::Story;
use crate::slack::outbox::{OutboxError, Write};
use crate::store::{LivingRecord, Storage};

pub struct ConsoleWrites {
    store: Arc<dyn Storage>,
    screen: Arc<Screen>,
    /// Each message key's channel, from its post.
    channels: Mutex<HashMap<String, ChannelId>>,
    /// Writes since the last [`ConsoleWrites::flush`].
    pending: Mutex<Vec<Write>>,
}

impl ConsoleWrites {
    pub fn new(store: Arc<dyn Storage>, screen: Arc<Screen>) -> Self {
        ConsoleWrites { store, screen, channels: Mutex::default(), pending: Mutex::default() }
    }

    /// Prints what was written since the last flush, each message once.
    pub fn flush(&self) {
        let writes = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        if let Err(err) = self.print(&writes) {
            tracing::warn!(error = %err, "cannot print notifications");
        }
    }

    /// Prints one notification's writes as a reader would see them after it:
    /// each message once, as it reads at the end (a post and its edits in the
    /// same notification merge, as the outbox merges them), then its new
    /// thread lines.
    fn print(&self, writes: &[Write]) -> std::io::Result<()> {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        let mut order: Vec<&str> = Vec::new();
        let mut last: HashMap<&str, (bool, &opsbot_commands::Reply)> = HashMap::new();
        let mut thread: HashMap<&str, Vec<&opsbot_commands::Reply>> = HashMap::new();
        for write in writes {
            let key = match write {
                Write::Post { key, channel, reply } => {
                    channels.insert(key.clone(), channel.clone());
                    last.insert(key, (true, reply));
                    key
                }
                Write::Update { key, reply } => {
                    let posted = last.get(key.as_str()).is_some_and(|(posted, _)| *posted);
                    last.insert(key, (posted, reply));
                    key
                }
                Write::Reply { key, reply } => {
                    thread.entry(key).or_default().push(reply);
                    key
                }
            };
            if !order.contains(&key.as_str()) {
                order.push(key);
            }
        }
        for key in order {
            let channel = channels.get(key).map(ToString::to_string).unwrap_or_default();
            let mut text = String::new();
            if let Some((posted, reply)) = last.get(key) {
                let edited = if *posted { "" } else { " (edited)" };
                text.push_str(&format!("── #{channel}{edited} ──\n{}\n", self.screen.render(reply)));
            }
            for line in thread.get(key).into_iter().flatten() {
                text.push_str(&format!("   ↳ {}\n", self.screen.render(line).replace('\n', "\n     ")));
            }
            self.screen.post(format!("{text}\n"))?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Writes for ConsoleWrites {
    async fn commit(
        &self,
        records: &[LivingRecord],
        writes: &[Write],
        handled: Option<i64>,
    ) -> Result<(), OutboxError> {
        self.store.commit_notification(records, &[], handled, chrono::Utc::now()).await?;
        self.pending.lock().unwrap_or_else(|p| p.into_inner()).extend(writes.iter().cloned());
        Ok(())
    }
}

/// The demo's notifications, one step per command line.
pub struct Notices {
    service: Arc<Notifications>,
    writes: Arc<ConsoleWrites>,
    steps: Mutex<VecDeque<Vec<String>>>,
    /// The account the story is about, which follows each event told.
    sandbox: Arc<Sandbox>,
}

impl Notices {
    pub fn new(service: Arc<Notifications>, writes: Arc<ConsoleWrites>, story: Story) -> Self {
        Notices { service, writes, steps: Mutex::new(story.steps.into()), sandbox: story.sandbox }
    }

    /// Delivers the events the account emitted since the last step, then the
    /// next step's notifications, and handles them (printing their
    /// messages); only the former once the story is told.
    pub async fn next_step(&self) {
        let step = self.steps.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
        // What the account's pipelines told since (a decided approval, a run moving on), then the story.
        self.tell(self.sandbox.take_events().into_iter().chain(step.unwrap_or_default())).await;
    }

    /// Delivers only what the account told since the last step: at the end
    /// of input, after the changes still running finished, so the channel
    /// shows where they left the account (the approved run succeeded).
    pub async fn last_word(&self) {
        self.tell(self.sandbox.take_events().into_iter()).await;
    }

    async fn tell(&self, bodies: impl Iterator<Item = String>) {
        for body in bodies {
            self.sandbox.follow(&body);
            if let Err(err) = self.service.receive(crate::metrics::Source::Demo, body.as_bytes()).await {
                tracing::warn!(error = %err, "a demo notification was not kept");
            }
        }
        self.service.drain().await;
        self.writes.flush();
    }
}

/// The demo's notification side: an alert book and notifier over `store`
/// printing on `screen`, and the story to tell — all of it to `#ops`.
pub fn demo_notices(
    store: Arc<dyn Storage>,
    screen: Arc<Screen>,
    policy: Arc<opsbot_policies::Policy>,
    pipelines: Arc<dyn opsbot_commands::ports::Pipelines>,
    builds: Option<Arc<dyn crate::notify::build_log::BuildLogs>>,
    story: Story,
) -> (Arc<Notifications>, Arc<Notices>) {
    let accounts = [(ACCOUNT_ID.to_owned(), ACCOUNT_NAME.to_owned())].into();
    let settings = crate::settings::NotificationSettings {
        default_channel: Some(ChannelId::parse("ops").expect("a valid channel name")),
        accounts,
        ..Default::default()
    };
    let mut notifier = crate::notify::notifier::Notifier::new(store.clone(), settings, policy, pipelines);
    if let Some(builds) = builds {
        notifier = notifier.with_build_logs(builds);
    }
    let writes = Arc::new(ConsoleWrites::new(store, screen));
    let clock = opsbot_commands::ports::system_clock();
    let service = Notifications::new(notifier, writes.clone(), clock, crate::app::SWEEP_EVERY, Default::default());
    let notices = Arc::new(Notices::new(service.clone(), writes, story));
    (service, notices)
}
