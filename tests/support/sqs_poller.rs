//! Drives the bot's SQS poller (`opsbot::notify::intake::sqs::poll`) from a test: a
//! recording [`Inbox`] double that can refuse its first bodies, a handle that
//! starts and stops the poller, and a capture of the poller's log lines.
//!
//! # Decisions
//! - Every wait has a deadline and returns as soon as its condition holds
//!   (these are real servers: never a fixed sleep standing in for "done").
//! - [`Poller::stop`] asserts the poller ends within [`STOP_WITHIN`] — a bot
//!   that hangs on shutdown in a 20 s long poll or a 60 s backoff is a bug the
//!   tests must see.
//! - [`LogCapture`] is a thread-local subscriber: `#[tokio::test]` runs the
//!   test and the tasks it spawns on one thread, so each test sees its own
//!   poller's lines only, whatever else runs in parallel.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use opsbot::notify::intake::Inbox;
use opsbot::notify::intake::sqs::poll;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How long a stopped poller may take to end.
pub const STOP_WITHIN: Duration = Duration::from_secs(1);

/// One body the poller handed over, and what the inbox answered.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub body: String,
    pub kept: bool,
    pub at: Instant,
}

impl Delivery {
    /// The body as JSON (panics with the body when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("the body is not JSON ({e}): {}", self.body))
    }
}

/// An inbox that records every body and refuses the first `refuse` of them
/// the way a full disk would (`Err`).
pub struct RecordingInbox {
    refuse: AtomicUsize,
    seen: mpsc::UnboundedSender<Delivery>,
}

/// The receiving end of a [`RecordingInbox`].
pub struct Deliveries(mpsc::UnboundedReceiver<Delivery>);

impl RecordingInbox {
    /// An inbox that keeps everything.
    pub fn keeping() -> (Arc<RecordingInbox>, Deliveries) {
        RecordingInbox::refusing(0)
    }

    /// An inbox that refuses the first `refuse` bodies, then keeps the rest.
    pub fn refusing(refuse: usize) -> (Arc<RecordingInbox>, Deliveries) {
        let (seen, rx) = mpsc::unbounded_channel();
        (Arc::new(RecordingInbox { refuse: AtomicUsize::new(refuse), seen }), Deliveries(rx))
    }
}

#[async_trait]
impl Inbox for RecordingInbox {
    async fn receive(&self, _: opsbot::notify::intake::Source, body: &[u8]) -> Result<(), String> {
        let kept = self.refuse.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_err();
        let body = String::from_utf8_lossy(body).into_owned();
        let _ = self.seen.send(Delivery { body, kept, at: Instant::now() });
        if kept { Ok(()) } else { Err("disk full (test double)".into()) }
    }
}

impl Deliveries {
    /// The next body handed over; panics naming `what` if none comes `within`.
    pub async fn next(&mut self, within: Duration, what: &str) -> Delivery {
        match tokio::time::timeout(within, self.0.recv()).await {
            Ok(Some(delivery)) => delivery,
            Ok(None) => panic!("the poller stopped before {what} arrived"),
            Err(_) => panic!("{what} did not reach the inbox within {within:?}"),
        }
    }

    /// Everything handed over so far, without waiting.
    pub fn drain(&mut self) -> Vec<Delivery> {
        std::iter::from_fn(|| self.0.try_recv().ok()).collect()
    }
}

/// A running poller.
pub struct Poller {
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Poller {
    /// Starts `poll` on `queue_url` in a task of the test's runtime.
    pub fn start(client: aws_sdk_sqs::Client, queue_url: &str, inbox: Arc<dyn Inbox>) -> Poller {
        let stop = CancellationToken::new();
        let task = tokio::spawn(poll(client, queue_url.to_owned(), inbox, stop.clone()));
        Poller { stop, task }
    }

    /// Whether the poller has ended on its own (it never should).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Cancels and waits for the end; panics unless it comes within [`STOP_WITHIN`].
    pub async fn stop(self) -> Duration {
        let started = Instant::now();
        self.stop.cancel();
        match tokio::time::timeout(STOP_WITHIN, self.task).await {
            Ok(ended) => ended.expect("the poller panicked"),
            Err(_) => panic!("the poller did not stop within {STOP_WITHIN:?} of being told to"),
        }
        started.elapsed()
    }
}

/// Polls `check` every 50 ms until it is true; panics naming `what` after `within`.
pub async fn wait_until<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not true within {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The log lines (WARN and above, no colours) of the current thread while
/// it lives.
pub struct LogCapture {
    lines: Arc<Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogCapture {
    /// Starts capturing warnings and errors on this thread.
    pub fn start() -> LogCapture {
        LogCapture::at(tracing::Level::WARN)
    }

    /// Starts capturing lines at `level` and above on this thread.
    pub fn at(level: tracing::Level) -> LogCapture {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(level)
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()))
            .finish();
        LogCapture { lines, _guard: tracing::subscriber::set_default(subscriber) }
    }

    /// The lines containing `needle`, so far.
    pub fn lines_with(&self, needle: &str) -> Vec<String> {
        let text = String::from_utf8_lossy(&self.lines.lock().unwrap()).into_owned();
        text.lines().filter(|l| l.contains(needle)).map(str::to_owned).collect()
    }
}
