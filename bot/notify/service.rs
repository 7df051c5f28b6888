//! Notifications at run time: [`Notifications`] is the inbox the SQS poller
//! and `POST /sns` deliver to, the task that handles what the inbox holds
//! (in arrival order, each notification committed with its effects, all or
//! nothing), the periodic sweep (escalations, calmed flapping), and the
//! alert book behind `alerts` / `alert ack`.
//!
//! # Decisions
//! - The answer to SQS or SNS never waits for Slack, only for the
//!   notification to be durable. An SNS notification is kept without its
//!   signature fields (`event::kept`, made only when a row is kept), which
//!   handling never reads; rows kept whole by earlier versions are handled
//!   as before. The envelope `POST /sns` parsed is not parsed again
//!   (`receive_sns`), and a key seen committed lately is answered
//!   "duplicate" without asking the store ([`RecentKeys`]).
//! - On a store that commits notifications together (SQLite) and with the
//!   Slack outbox, a notification is handled as it arrives: what arrives
//!   while the previous lot commits is worked out together (each over the
//!   ones before it) and committed in one transaction with its key, its
//!   records and its writes, before its source is answered — one commit,
//!   and no body written, instead of a row stored, read back, parsed again
//!   and committed a second time. Only what needs no AWS read is handled
//!   so (`Notifier::reads_aws`), and only while no row waits in the inbox
//!   (so arrival order holds); the rest, and one whose records moved on or
//!   that fails, is kept in the inbox and handled from there. Elsewhere
//!   (DynamoDB) `receive` parses (for the dedup key) and stores, and the
//!   handler works the rows out behind it.
//! - Handling a row and marking it handled are committed together with the
//!   records and Slack writes it causes, all or nothing; after a crash,
//!   unhandled rows are handled on the next start — nothing lost, nothing twice.
//! - On a store that commits many notifications in one transaction
//!   (SQLite), rows are worked out a chunk at a time and committed together
//!   (one WAL commit per chunk), each row over the records the rows before it
//!   decided ([`Earlier`]); a row refused at commit is handled again alone,
//!   from the store. Elsewhere (DynamoDB: one transaction per notification,
//!   replicas racing) each row is committed before the next is worked out.
//! - A row that fails is tried again later with back-off while the rows
//!   behind it are handled, and parked after `PARK_AFTER` failures (listed by
//!   `alerts`, logged at error with the count). Only when even the failure
//!   cannot be recorded (the store is down) does draining stop until the next
//!   wake.
//! - A body that parses to nothing (empty) or is an SNS subscription control
//!   message that came through SQS is logged and dropped at `receive`: it is
//!   not a notification, and keeping it would only redeliver it forever.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use async_trait::async_trait;
use opsbot_commands::ports::Time;
use opsbot_commands::ports::alerts::{Ack, AckOutcome, Alert, Alerts, Parked, ParkedNotification, pick};
use opsbot_commands::ports::store::StoreError;
use opsbot_commands::values::SlackUserId;
use opsbot_commands::{Mrkdwn, mrkdwn};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, warn};

use super::earlier::Earlier;
use super::event::{Inbound, ParseError, kept, parse, parse_delivered, parse_envelope};
use super::intake::sns::SnsMessage;
use super::intake::{Inbox, Source};
use super::lifecycle::Lifecycle;
use super::lifecycle::alarm::{self, AlertRecord, Effect};
use super::notifier::{Batch, Notifier};
use super::recent::RecentKeys;
use crate::metrics::{Intake, Metrics};
use crate::slack::outbox::{Outbox, OutboxError, ToCommit, Write};
use crate::store::{Arrived, Failure, InboxRow, Living, LivingRecord, Storage, Told};
use opsbot_commands::ports::Clock;

/// Rows handled per read of the inbox.
const CHUNK: usize = 64;
/// Parked notifications `alerts` names (it counts them all).
const PARKED_LISTED: usize = 3;
/// After a wake, how long more notifications may gather before the inbox is
/// read: in a storm, one read (and one look for retries) per this instead
/// of one per notification.
const GATHER: Duration = Duration::from_millis(50);
/// How often a notification whose commit was refused is handled again at
/// once before the refusal counts as a failure (see `Notifications::handle`).
const AT_ONCE: u32 = 3;

/// Where handled notifications go: their records and writes, committed with
/// the inbox row they came from. The Slack [`Outbox`] in `serve`; the
/// console's screen in `opsbot demo`.
#[async_trait]
pub trait Writes: Send + Sync {
    async fn commit(&self, records: &[LivingRecord], writes: &[Write], handled: Option<i64>)
    -> Result<(), OutboxError>;

    /// Several notifications, in order, as `commit` each, one result each:
    /// one refused leaves the others committed. By default one by one.
    async fn commit_each(&self, each: &[ToCommit<'_>]) -> Vec<Result<(), OutboxError>> {
        let mut done = Vec::with_capacity(each.len());
        for (records, writes, handled) in each {
            done.push(self.commit(records, writes, *handled).await);
        }
        done
    }

    /// The Slack outbox, which can commit notifications as they arrive
    /// (`Outbox::commit_arrivals`); `None`: they go through the inbox.
    fn arrivals(&self) -> Option<&Outbox> {
        None
    }
}

#[async_trait]
impl Writes for Outbox {
    async fn commit(
        &self,
        records: &[LivingRecord],
        writes: &[Write],
        handled: Option<i64>,
    ) -> Result<(), OutboxError> {
        Outbox::commit(self, records, writes, handled).await
    }

    async fn commit_each(&self, each: &[ToCommit<'_>]) -> Vec<Result<(), OutboxError>> {
        Outbox::commit_each(self, each).await
    }

    fn arrivals(&self) -> Option<&Outbox> {
        Some(self)
    }
}

/// A notification handed from `receive` to the arrivals task, and where its
/// answer goes.
struct Arriving {
    inbound: Inbound,
    /// The SNS envelope it came in, if any: what the inbox keeps is made
    /// from it ([`kept`]) only if it is kept.
    envelope: Option<SnsMessage>,
    /// The body as it came: kept when it came without an envelope, or when
    /// its commit is refused (it parses as a kept one does).
    body: Vec<u8>,
    received_ms: i64,
    done: oneshot::Sender<Result<Arrived, String>>,
}

pub struct Notifications {
    store: Arc<dyn Storage>,
    notifier: Notifier,
    outbox: Arc<dyn Writes>,
    clock: Clock,
    wake: Notify,
    sweep_every: Duration,
    /// Counts what arrives (by source, kind and outcome) and how long each
    /// notification waited to be handled.
    metrics: Arc<Metrics>,
    /// To the task that handles notifications as they arrive; `None`: they
    /// are stored and handled from the inbox.
    arrivals: Option<mpsc::UnboundedSender<Arriving>>,
    /// Rows kept in the inbox since the drain last found it empty (it starts
    /// unknown): while any may wait, arrivals are kept behind them. Shared
    /// with the store's thread, which counts a kept arrival before it answers.
    backlog: Arc<AtomicU64>,
    /// Keys last seen committed: a redelivery of one is answered at once.
    recent: RecentKeys,
}

impl Notifications {
    pub fn new(
        notifier: Notifier,
        outbox: Arc<dyn Writes>,
        clock: Clock,
        sweep_every: Duration,
        metrics: Arc<Metrics>,
    ) -> Arc<Self> {
        let store = notifier.store.clone();
        // The arrivals task runs on the runtime that builds this (it ends
        // with it); built outside one, everything goes through the inbox.
        let at_arrival = store.commits_notifications_together() && outbox.arrivals().is_some();
        let runtime = tokio::runtime::Handle::try_current().ok().filter(|_| at_arrival);
        let (arrivals, arriving) = runtime.as_ref().map(|_| mpsc::unbounded_channel()).unzip();
        let backlog = Arc::new(AtomicU64::new(1));
        let this = Arc::new(Notifications {
            store,
            notifier,
            outbox,
            clock,
            wake: Notify::new(),
            sweep_every,
            metrics,
            arrivals,
            backlog,
            recent: RecentKeys::default(),
        });
        if let (Some(runtime), Some(arriving)) = (runtime, arriving) {
            runtime.spawn(Self::arrivals_task(Arc::downgrade(&this), arriving));
        }
        this
    }

    /// Takes what arrived while the previous lot was committed and handles
    /// it ([`Notifications::arrive`]); ends when `this` is dropped.
    async fn arrivals_task(this: Weak<Self>, mut arriving: mpsc::UnboundedReceiver<Arriving>) {
        while let Some(first) = arriving.recv().await {
            let lot = Self::gather(first, &mut arriving).await;
            let Some(this) = this.upgrade() else { return };
            this.arrive(lot).await;
        }
    }

    /// `first` and what arrives behind it, up to [`CHUNK`]. Before taking
    /// the lot, this task lets the tasks already woken run (`yield_now`), as
    /// long as that brings more: under load those are HTTP tasks with a new
    /// notification each, and one commit for the many of them costs much
    /// less than a commit each (issue 14: lots of ~8 → ~11, a fifth less
    /// CPU per notification). A lone notification waits for one yield.
    async fn gather(first: Arriving, arriving: &mut mpsc::UnboundedReceiver<Arriving>) -> Vec<Arriving> {
        let mut lot = vec![first];
        loop {
            while lot.len() < CHUNK {
                match arriving.try_recv() {
                    Ok(next) => lot.push(next),
                    Err(_) => break,
                }
            }
            if lot.len() == CHUNK {
                return lot;
            }
            tokio::task::yield_now().await;
            if arriving.is_empty() {
                return lot;
            }
        }
    }

    /// Works out each of `lot` that can be at once (over the ones before it)
    /// and commits them all with their keys; each is answered as soon as the
    /// lot is durable (by the store, on the thread that committed it: `Told`).
    /// Once one is kept to be handled from the inbox, so are the ones behind
    /// it, here and until the drain finds the inbox empty: arrival order holds.
    async fn arrive(&self, lot: Vec<Arriving>) {
        let Some(outbox) = self.outbox.arrivals() else { return };
        let mut keep_the_rest = self.backlog.load(Ordering::Acquire) != 0;
        let now = (self.clock)();
        let mut earlier = Earlier::default();
        let mut work = Vec::with_capacity(lot.len());
        let mut answers = Vec::with_capacity(lot.len());
        let mut received = Vec::with_capacity(lot.len());
        for a in lot {
            let effects = match keep_the_rest || self.notifier.reads_aws(&a.inbound) {
                true => None,
                false => match self.notifier.handle_after(&a.inbound, now, &earlier).await {
                    Ok(batch) => {
                        earlier.absorb(&batch.records);
                        Some((batch.records, batch.writes))
                    }
                    Err(err) => {
                        debug!(key = %a.inbound.key, error = %err, "not handled on arrival; kept in the inbox");
                        None
                    }
                },
            };
            keep_the_rest |= effects.is_none();
            let body = match (&effects, a.envelope) {
                (None, Some(envelope)) => kept(&envelope),
                _ => a.body,
            };
            answers.push(a.done);
            received.push(a.received_ms);
            work.push((a.inbound.key, body, a.received_ms, effects));
        }
        let backlog = self.backlog.clone();
        let told: Told = Box::new(move |done| match done {
            Ok(done) => {
                if done.contains(&Arrived::Kept) {
                    // Before anyone hears of it, so no drain that starts after
                    // can find the inbox empty without it and let later arrivals by.
                    backlog.fetch_add(1, Ordering::AcqRel);
                }
                answers.into_iter().zip(done).for_each(|(answer, done)| drop(answer.send(Ok(*done))));
            }
            Err(err) => {
                let err = format!("cannot store the notification: {err}");
                answers.into_iter().for_each(|answer| drop(answer.send(Err(err.clone()))));
            }
        });
        // On an error every arrival was told so, and its source delivers it again.
        let Ok(done) = outbox.commit_arrivals(work, told).await else { return };
        if done.contains(&Arrived::Kept) {
            self.wake.notify_one();
        }
        for (received_ms, done) in received.into_iter().zip(done) {
            if done == Arrived::Handled {
                self.lag(received_ms);
            }
        }
    }

    /// `inbound` through the arrivals task, once durable. A key already
    /// committed is not looked up first: the lot's commit tells it
    /// (`Arrived::Duplicate`, nothing of it written). A lookup per new
    /// notification cost a tenth of the workers' time (the reader connection
    /// reads its pages again after every commit), only to keep redeliveries
    /// older than [`RecentKeys`] remembers out of a lot. In one, a
    /// redelivery is worked out for nothing, and a change of the same alarm
    /// behind it in that lot, worked out over what it decided, is refused
    /// and handled from the inbox instead: later, and just as right.
    async fn arrival(
        &self,
        arrivals: &mpsc::UnboundedSender<Arriving>,
        inbound: Inbound,
        envelope: Option<SnsMessage>,
        body: &[u8],
        received_ms: i64,
    ) -> Result<Arrived, String> {
        let stopped = || "the notification handler stopped; restart opsbot".to_owned();
        let (done, answer) = oneshot::channel();
        let arriving = Arriving { inbound, envelope, body: body.to_vec(), received_ms, done };
        arrivals.send(arriving).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Keeps `inbound` (received in `body`, in `envelope` if it came in one)
    /// unless its key is known; true when new. Returns once it is durable.
    async fn accept(&self, inbound: Inbound, envelope: Option<SnsMessage>, body: &[u8]) -> Result<bool, String> {
        let key = inbound.key.clone();
        let now = (self.clock)().timestamp_millis();
        let new = match &self.arrivals {
            _ if self.recent.knows(&key) => false,
            Some(arrivals) => self.arrival(arrivals, inbound, envelope, body, now).await? != Arrived::Duplicate,
            None => {
                let kept = envelope.as_ref().map(kept);
                let new = self.store.inbox_accept(&key, kept.as_deref().unwrap_or(body), now).await;
                let new = new.map_err(|err| err.to_string())?;
                if new {
                    self.wake.notify_one();
                }
                new
            }
        };
        self.recent.committed(&key);
        if !new {
            // A redelivery is routine (SNS and SQS deliver at least once); at
            // info it was one log line per request under a redelivery storm.
            debug!(%key, "duplicate notification ignored");
        }
        Ok(new)
    }

    /// A delivery from `source` as [`parse_delivered`] or [`parse_envelope`]
    /// read it, into the inbox; what is no notification is dropped.
    async fn take(
        &self,
        source: Source,
        parsed: Result<(Inbound, Option<SnsMessage>), ParseError>,
        body: &[u8],
    ) -> Result<(), String> {
        let (inbound, envelope) = match parsed {
            Ok(parsed) => parsed,
            Err(ParseError::Control(message)) => {
                warn!(
                    topic = %message.topic_arn,
                    kind = message.kind.as_str(),
                    "an SNS subscription message arrived by SQS; confirm SQS subscriptions in the SNS console"
                );
                self.metrics.notification(source, "none", Intake::Dropped);
                return Ok(());
            }
            Err(err) => {
                warn!(error = %err, "dropped a delivery that is not a notification");
                self.metrics.notification(source, "none", Intake::Dropped);
                return Ok(());
            }
        };
        let kind = inbound.notification.kind().as_str();
        let accepted = self.accept(inbound, envelope, body).await;
        let intake = match accepted {
            Ok(true) => Intake::New,
            Ok(false) => Intake::Duplicate,
            Err(_) => Intake::NotStored,
        };
        self.metrics.notification(source, kind, intake);
        accepted.map(drop)
    }

    /// The clock everything here is judged by.
    pub fn clock(&self) -> Clock {
        self.clock.clone()
    }

    /// Handles what the inbox holds, now and whenever more arrives or a
    /// retry is due; sweeps every `sweep_every`. Returns when `stop` is cancelled.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        let mut next_sweep = Instant::now();
        loop {
            self.drain().await;
            if Instant::now() >= next_sweep {
                self.sweep().await;
                next_sweep = Instant::now() + self.sweep_every;
            }
            let wake_at = self.next_retry().await.map_or(next_sweep, |retry| retry.min(next_sweep));
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = self.wake.notified() => tokio::time::sleep(GATHER).await,
                _ = tokio::time::sleep_until(wake_at) => {}
            }
        }
    }

    /// Handles every due inbox row, oldest first, a chunk at a time; a row
    /// that fails waits for its retry (or is parked) and the rows behind it
    /// go on.
    pub async fn drain(&self) {
        loop {
            let kept = self.backlog.load(Ordering::Acquire);
            let rows = match self.store.inbox_pending(CHUNK, (self.clock)().timestamp_millis()).await {
                Ok(rows) => rows,
                Err(err) => return error!(error = %err, "cannot read the inbox; trying again on the next wake"),
            };
            if rows.is_empty() {
                // Unless more was kept meanwhile, arrivals may be handled at once again.
                let _ = self.backlog.compare_exchange(kept, 0, Ordering::AcqRel, Ordering::Acquire);
                return;
            }
            let handled = if self.store.commits_notifications_together() {
                self.handle_chunk(&rows).await
            } else {
                self.handle_each(&rows).await
            };
            if !handled {
                return;
            }
        }
    }

    /// Handles `rows` in order, each over the records the rows before it
    /// decided ([`Earlier`]), and commits them together: one commit for the
    /// chunk instead of one per row, each row still all or nothing. A row
    /// that fails to be worked out is recorded as failed at once; a row
    /// whose commit is refused is handled again alone ([`Notifications::handle`]).
    /// False when even a failure cannot be recorded (stop until the next wake).
    async fn handle_chunk(&self, rows: &[InboxRow]) -> bool {
        let now = (self.clock)();
        let mut earlier = Earlier::default();
        let mut decided: Vec<(&InboxRow, Batch)> = Vec::with_capacity(rows.len());
        for row in rows {
            match self.work_out(row, now, &earlier).await {
                Ok(batch) => {
                    earlier.absorb(&batch.records);
                    decided.push((row, batch));
                }
                Err(err) if !self.failed(row, &err).await => return false,
                Err(_) => {}
            }
        }
        let each: Vec<ToCommit<'_>> =
            decided.iter().map(|(row, b)| (&b.records[..], &b.writes[..], Some(row.seq))).collect();
        let done = self.outbox.commit_each(&each).await;
        for ((row, _), done) in decided.iter().zip(done) {
            match done {
                Ok(()) => self.lag(row.received_ms),
                Err(err) => {
                    debug!(key = %row.key, error = %err, "not committed with its chunk; handling it alone");
                    if let Err(err) = self.handle(row).await
                        && !self.failed(row, &err).await
                    {
                        return false;
                    }
                }
            }
        }
        true
    }

    /// Handles `rows` one at a time, each committed before the next is worked
    /// out (a store that commits notifications one by one: see
    /// `OutboxStore::commits_notifications_together`). False as `handle_chunk`.
    async fn handle_each(&self, rows: &[InboxRow]) -> bool {
        for row in rows {
            if let Err(err) = self.handle(row).await
                && !self.failed(row, &err).await
            {
                return false;
            }
        }
        true
    }

    /// What row `row` changes, judged at `now` over `earlier` decisions.
    async fn work_out(
        &self,
        row: &InboxRow,
        now: chrono::DateTime<chrono::Utc>,
        earlier: &Earlier,
    ) -> Result<Batch, String> {
        match parse(&row.body) {
            Ok(inbound) => self.notifier.handle_after(&inbound, now, earlier).await.map_err(|e| e.to_string()),
            Err(err) => {
                warn!(key = %row.key, error = %err, "inbox row is not a notification; dropped");
                Ok(Batch::default())
            }
        }
    }

    /// Counts a notification received at `received_ms` handled, with how
    /// long it waited (received → committed).
    fn lag(&self, received_ms: i64) {
        let waited = (self.clock)().timestamp_millis().saturating_sub(received_ms).max(0);
        self.metrics.handled(Duration::from_millis(waited as u64));
    }

    /// Handles one row: its records, its Slack writes and its being handled,
    /// together (see [`Notifications::commit_at_once`]).
    /// Its lag (stored → committed) is measured on success, retries included.
    async fn handle(&self, row: &InboxRow) -> Result<(), String> {
        let alone = Earlier::default();
        self.commit_at_once(Some(row.seq), || self.work_out(row, (self.clock)(), &alone)).await?;
        self.lag(row.received_ms);
        Ok(())
    }

    /// Commits what `make` works out (with inbox row `handled`, if any). A
    /// refused commit is worked out again at once, up to [`AT_ONCE`] times,
    /// before it counts as a failure: with several replicas it is usually
    /// another one having just moved a record of the same alarm or pipeline
    /// on, and reading the records again resolves it.
    async fn commit_at_once<F, Fut>(&self, handled: Option<i64>, make: F) -> Result<(), String>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Batch, String>>,
    {
        let mut tries = 1;
        loop {
            let batch = make().await?;
            match self.outbox.commit(&batch.records, &batch.writes, handled).await {
                Ok(()) => return Ok(()),
                Err(err) if tries < AT_ONCE => {
                    debug!(error = %err, tries, handled, "not committed; working it out again at once");
                    tries += 1;
                }
                Err(err) => return Err(err.to_string()),
            }
        }
    }

    /// Records that `row` failed; false when even that cannot be written.
    async fn failed(&self, row: &InboxRow, error: &str) -> bool {
        let key = &row.key;
        match self.store.inbox_failed(row.seq, error, (self.clock)().timestamp_millis()).await {
            // The first failure says what is wrong; the retries of the same row stay out of the way.
            Ok(Failure::RetryAt { attempts: 1, .. }) => {
                warn!(%key, %error, "cannot handle a notification; trying it again later, the rest go on");
            }
            Ok(Failure::RetryAt { attempts, .. }) => debug!(%key, %error, attempts, "a notification failed again"),
            Ok(Failure::Parked { attempts }) => {
                let parked = self.store.inbox_parked(0).await.map(|(count, _)| count).unwrap_or_default();
                error!(
                    %key, %error, attempts, parked,
                    "notification parked: it failed {attempts} times; kept and listed by `/ops alerts`, the rest go on"
                );
            }
            Err(store) => {
                error!(%key, %error, store_error = %store, "cannot handle a notification; trying again on the next wake");
                return false;
            }
        }
        true
    }

    /// When the next failed row is due again, on the runtime's clock.
    async fn next_retry(&self) -> Option<Instant> {
        let due = self.store.inbox_next_retry().await.ok().flatten()?;
        let wait = due.saturating_sub((self.clock)().timestamp_millis()).max(0);
        Some(Instant::now() + Duration::from_millis(wait as u64))
    }

    /// Escalations and calmed-down flapping alarms, as of now, each alarm
    /// committed on its own. Every replica sweeps; when a commit is refused
    /// because another replica's sweep (or a notification) moved a record
    /// on, the sweep runs again at once, over what that one kept — so each
    /// escalation is shown once, and the alarms already committed are not
    /// swept twice.
    pub async fn sweep(&self) {
        let mut tries = 1;
        loop {
            let batches = match self.notifier.sweep((self.clock)()).await {
                Ok(batches) => batches,
                Err(err) => return error!(error = %err, "alarm sweep failed; trying again at the next one"),
            };
            let mut refused = None;
            for batch in batches {
                if let Err(err) = self.outbox.commit(&batch.records, &batch.writes, None).await {
                    refused = Some(err);
                }
            }
            match refused {
                None => return,
                Some(err) if tries < AT_ONCE => {
                    debug!(error = %err, tries, "an alarm's sweep was not committed; sweeping again at once");
                    tries += 1;
                }
                Some(err) => return error!(error = %err, "alarm sweep failed; trying again at the next one"),
            }
        }
    }

    /// Open alerts, newest episode first, each with the version it is kept at.
    async fn open_alerts(&self) -> Result<Vec<(AlertRecord, u64)>, StoreError> {
        let kept = self.store.living_open(Living::Alarm).await?;
        let mut open: Vec<(AlertRecord, u64)> =
            kept.iter().filter_map(|k| serde_json::from_str(&k.body).ok().map(|a| (a, k.version))).collect();
        open.sort_by_key(|(a, _)| std::cmp::Reverse(a.episode));
        Ok(open)
    }
}

#[async_trait]
impl Inbox for Notifications {
    async fn receive(&self, source: Source, body: &[u8]) -> Result<(), String> {
        self.take(source, parse_delivered(body), body).await
    }

    async fn receive_sns(&self, envelope: SnsMessage, body: &[u8]) -> Result<(), String> {
        let parsed = parse_envelope(&envelope).map(|inbound| (inbound, Some(envelope)));
        self.take(Source::Sns, parsed, body).await
    }
}

#[async_trait]
impl Alerts for Notifications {
    async fn open(&self) -> Result<Vec<Alert>, StoreError> {
        Ok(self.open_alerts().await?.iter().map(|(a, _)| alarm::as_alert(a)).collect())
    }

    async fn ack(&self, which: &str, by: &SlackUserId, at: Time) -> Result<AckOutcome, StoreError> {
        let mut open = self.open_alerts().await?;
        let alerts: Vec<Alert> = open.iter().map(|(a, _)| alarm::as_alert(a)).collect();
        let found = match pick(&alerts, which) {
            Ok(found) => found,
            Err(miss) => return Ok(miss.into()),
        };
        let (alert, version) = &mut open[found];
        if alert.acked.is_some() {
            return Ok(AckOutcome::AlreadyAcked(alarm::as_alert(alert)));
        }
        alert.acked = Some(Ack { by: by.clone(), at });
        let mut batch = Batch::default();
        let line = mrkdwn!(":eyes: Acknowledged by {} at {}", Mrkdwn::user(by.as_str()), at.format("%H:%M UTC"));
        batch.keep(Living::Alarm, &alert.arn, alert.is_open(), &*alert, Some(*version));
        let now = (self.clock)();
        batch.effects(alert.message_key(), None, vec![Effect::Update, Effect::Thread(line)], || {
            alarm::render(alert, now)
        });
        self.outbox.commit(&batch.records, &batch.writes, None).await.map_err(|e| match e {
            OutboxError::Store(err) => err,
            other => StoreError(other.to_string()),
        })?;
        Ok(AckOutcome::Acked(alarm::as_alert(alert)))
    }

    async fn parked(&self) -> Result<Parked, StoreError> {
        let (count, rows) = self.store.inbox_parked(PARKED_LISTED).await?;
        let newest = rows
            .into_iter()
            .map(|row| ParkedNotification {
                key: row.key,
                error: row.error,
                attempts: row.attempts,
                parked: chrono::DateTime::from_timestamp_millis(row.parked_ms).unwrap_or_default(),
            })
            .collect();
        Ok(Parked { count, newest })
    }
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
