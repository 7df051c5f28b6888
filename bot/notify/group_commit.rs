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
//! - The thread stops when the last handle is dropped.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::store::SqliteStore;

/// Most rows one transaction takes.
const MAX_BATCH: usize = 256;

struct Pending {
    key: String,
    body: Vec<u8>,
    now_ms: i64,
    done: oneshot::Sender<Result<bool, String>>,
}

/// The handle callers accept through; cheap to clone.
#[derive(Clone)]
pub struct GroupCommit {
    queue: mpsc::UnboundedSender<Pending>,
}

impl GroupCommit {
    /// Starts the writer thread for `store`.
    pub fn start(store: Arc<SqliteStore>) -> std::io::Result<Self> {
        let (queue, pending) = mpsc::unbounded_channel();
        std::thread::Builder::new().name("inbox-commit".into()).spawn(move || write_batches(&store, pending))?;
        Ok(GroupCommit { queue })
    }

    /// Stores `body` under `key` unless the key is known; true when new.
    /// Returns once the row is committed (or the batch failed).
    pub async fn accept(&self, key: String, body: Vec<u8>, now_ms: i64) -> Result<bool, String> {
        let (done, answer) = oneshot::channel();
        let stopped = || "the inbox writer thread stopped; restart opsbot".to_owned();
        self.queue.send(Pending { key, body, now_ms, done }).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn write_batches(store: &SqliteStore, mut pending: mpsc::UnboundedReceiver<Pending>) {
    while let Some(first) = pending.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match pending.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let items: Vec<(&str, &[u8], i64)> = batch.iter().map(|p| (p.key.as_str(), &p.body[..], p.now_ms)).collect();
        match store.inbox_accept_all(&items) {
            Ok(new) => batch.into_iter().zip(new).for_each(|(p, new)| drop(p.done.send(Ok(new)))),
            Err(err) => {
                let err = format!("cannot store the notification: {err}");
                batch.into_iter().for_each(|p| drop(p.done.send(Err(err.clone()))));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn concurrent_accepts_are_each_stored_once_and_each_told_whether_new() {
        let store = Arc::new(SqliteStore::in_memory().unwrap());
        let commit = GroupCommit::start(store.clone()).unwrap();
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let commit = commit.clone();
                tokio::spawn(async move { commit.accept(format!("k{}", i % 50), vec![1], i).await })
            })
            .collect();
        let mut new = 0;
        for task in tasks {
            new += usize::from(task.await.unwrap().unwrap());
        }
        assert_eq!(new, 50, "each of the 50 keys is new exactly once");
        assert_eq!(store.inbox_pending(500, i64::MAX).unwrap().len(), 50);
    }

    #[tokio::test]
    async fn a_known_key_is_reported_as_a_duplicate_after_its_commit() {
        let store = Arc::new(SqliteStore::in_memory().unwrap());
        let commit = GroupCommit::start(store.clone()).unwrap();
        assert!(commit.accept("k".into(), b"first".to_vec(), 0).await.unwrap());
        assert!(store.inbox_knows("k").unwrap(), "committed before the answer");
        assert!(!commit.accept("k".into(), b"again".to_vec(), 1).await.unwrap());
    }
}
