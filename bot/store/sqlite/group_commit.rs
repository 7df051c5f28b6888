//! Group commit of inbox accepts: every notification that arrives (`POST /sns`,
//! the SQS pollers) is handed to one writer thread, which takes whatever has
//! queued up meanwhile and stores it in ONE transaction — one lock of the
//! store and one WAL commit per batch instead of per request.
//!
//! # Decisions
//! - Durability is unchanged: a caller hears "stored" only after the commit
//!   of the transaction holding its row returned, so `POST /sns` still
//!   answers 200 only once the row is in the WAL. A failed batch fails every
//!   request in it (each gets the error; SNS and SQS deliver them again).
//! - A plain thread, not a tokio task: SQLite blocks, and a worker blocked on
//!   the store's mutex is a worker not serving requests. Batches are as large
//!   as what queued during the previous commit (at most [`MAX_BATCH`]), so a
//!   lone request waits for nothing but its own commit.
//! - The thread holds the connection, not the store, and stops when the
//!   store (the last handle) is dropped.
//! - Other writes that should not block a tokio worker run on the same
//!   thread, in order with the accepts (`GroupCommit::run`): the
//!   notifications handled as they arrive commit here.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use opsbot_commands::ports::store::StoreError;
use rusqlite::params;

use super::db::Db;

pub(super) const ACCEPT: &str = "INSERT OR IGNORE INTO inbox (key, body, received) VALUES (?1, ?2, ?3)";

/// Most rows one transaction takes.
const MAX_BATCH: usize = 256;

struct Pending {
    key: String,
    body: Vec<u8>,
    now_ms: i64,
    done: oneshot::Sender<Result<bool, String>>,
}

/// What the writer thread is asked to do, in order.
enum Job {
    Accept(Pending),
    /// Any other write that should not block a tokio worker (the notifications
    /// handled as they arrive): run on the connection, alone.
    Run(Box<dyn FnOnce(&Db) + Send>),
}

/// The handle callers accept through; cheap to clone.
#[derive(Clone)]
pub struct GroupCommit {
    queue: mpsc::UnboundedSender<Job>,
}

impl GroupCommit {
    /// Starts the writer thread for `db`; it ends when the last handle is dropped.
    pub(super) fn start(db: Arc<Db>) -> std::io::Result<Self> {
        let (queue, pending) = mpsc::unbounded_channel();
        std::thread::Builder::new().name("inbox-commit".into()).spawn(move || write_batches(&db, pending))?;
        Ok(GroupCommit { queue })
    }

    /// Stores `body` under `key` unless the key is known; true when new.
    /// Returns once the row is committed (or the batch failed).
    pub async fn accept(&self, key: String, body: Vec<u8>, now_ms: i64) -> Result<bool, String> {
        let (done, answer) = oneshot::channel();
        self.queue.send(Job::Accept(Pending { key, body, now_ms, done })).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Runs `write` on the writer thread's connection, after the accepts
    /// queued before it, and returns what it returned.
    pub async fn run<T: Send + 'static>(&self, write: impl FnOnce(&Db) -> T + Send + 'static) -> Result<T, String> {
        let (done, answer) = oneshot::channel();
        let job = Job::Run(Box::new(move |db: &Db| drop(done.send(write(db)))));
        self.queue.send(job).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())
    }
}

fn stopped() -> String {
    "the inbox writer thread stopped; restart opsbot".to_owned()
}

fn write_batches(db: &Db, mut jobs: mpsc::UnboundedReceiver<Job>) {
    let mut next = None;
    while let Some(first) = next.take().or_else(|| jobs.blocking_recv()) {
        let mut batch = match first {
            Job::Run(write) => {
                write(db);
                continue;
            }
            Job::Accept(pending) => vec![pending],
        };
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(Job::Accept(pending)) => batch.push(pending),
                Ok(run) => {
                    next = Some(run); // after this batch, in order
                    break;
                }
                Err(_) => break,
            }
        }
        let items: Vec<(&str, &[u8], i64)> = batch.iter().map(|p| (p.key.as_str(), &p.body[..], p.now_ms)).collect();
        match accept_all(db, &items) {
            Ok(new) => batch.into_iter().zip(new).for_each(|(p, new)| drop(p.done.send(Ok(new)))),
            Err(err) => {
                let err = format!("cannot store the notification: {err}");
                batch.into_iter().for_each(|p| drop(p.done.send(Err(err.clone()))));
            }
        }
    }
}

/// Stores many `(key, body, now_ms)` in one transaction (one WAL commit):
/// true per new key, in order. A key twice in `items` is new the first time
/// only. All or nothing: on an error none is stored.
pub(super) fn accept_all(db: &Db, items: &[(&str, &[u8], i64)]) -> Result<Vec<bool>, StoreError> {
    db.with(|c| {
        let tx = c.unchecked_transaction()?;
        let mut new = Vec::with_capacity(items.len());
        {
            let mut insert = tx.prepare_cached(ACCEPT)?;
            for (key, body, now_ms) in items {
                new.push(insert.execute(params![key, body, now_ms])? == 1);
            }
        }
        tx.commit()?;
        Ok(new)
    })
}

#[cfg(test)]
mod tests {
    use super::super::SqliteStore;
    use crate::store::InboxStore;

    #[tokio::test]
    async fn concurrent_accepts_are_each_stored_once_and_each_told_whether_new() {
        let store = std::sync::Arc::new(SqliteStore::in_memory().unwrap());
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move { store.inbox_accept(&format!("k{}", i % 50), &[1], i).await })
            })
            .collect();
        let mut new = 0;
        for task in tasks {
            new += usize::from(task.await.unwrap().unwrap());
        }
        assert_eq!(new, 50, "each of the 50 keys is new exactly once");
        assert_eq!(store.inbox_pending(500, i64::MAX).await.unwrap().len(), 50);
    }

    #[tokio::test]
    async fn the_writer_thread_ends_with_its_store() {
        let store = SqliteStore::in_memory().unwrap();
        store.inbox_accept("k", b"{}", 0).await.unwrap();
        let db = std::sync::Arc::downgrade(&store.db);
        drop(store);
        for _ in 0..100 {
            if db.upgrade().is_none() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("the group-commit thread still holds the connection after the store was dropped");
    }
}
