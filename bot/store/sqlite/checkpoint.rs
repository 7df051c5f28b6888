//! Checkpoints off the writer's path: a thread of their own, with a
//! connection of its own, copies the WAL back into the database file while
//! the writer goes on committing.
//!
//! # Decisions
//! - SQLite's own checkpoint runs inside the commit that crosses its
//!   threshold: two `fsync`s and a copy of every page written since, on the
//!   thread that answers `POST /sns`. Under a storm that was every ~45 ms
//!   and 2–5 ms each, and it made the p99 (issue 14: 7.3 ms with it, 3.0
//!   with none). So the writer's commits only wake this thread
//!   ([`Checkpoints::install`]), and it checkpoints `PASSIVE`: without
//!   waiting for, or holding up, the writer or the readers.
//! - A passive checkpoint copies what was committed when it began. The WAL
//!   only starts over at a commit that finds all of it copied and no reader
//!   still on it, which a writer that never pauses never gives. So once the
//!   WAL holds `cap` frames, this thread holds the writer's lock for one more
//!   pass (`RESTART`), which copies only what was committed during the last
//!   one and waits for the readers still on the WAL: the next commit then
//!   starts it over, and it never grows much past `cap` (16 MB by default).
//! - Durability is unchanged: a checkpoint `fsync`s the WAL before copying
//!   and the database file after, whichever thread runs it.

use std::path::Path;
use std::sync::Weak;
use std::sync::mpsc::{Receiver, sync_channel};

use rusqlite::Connection;
use rusqlite::wal::CheckpointMode;

use super::db::Db;

/// When the WAL is copied back, in frames (pages) it holds.
#[derive(Debug, Clone, Copy)]
pub(super) struct Checkpoints {
    /// A checkpoint starts once the WAL holds this many (SQLite's own default).
    pub start: i32,
    /// With this many, the last pass holds the writer's lock, so the WAL starts over.
    pub cap: i32,
}

impl Checkpoints {
    pub(super) const DEFAULT: Checkpoints = Checkpoints { start: 1000, cap: 4000 };

    /// Has `writer`'s commits wake the checkpoint thread, in place of
    /// SQLite's checkpoint inside the commit. Returns what the thread waits on.
    pub(super) fn install(self, writer: &mut Connection) -> rusqlite::Result<Receiver<()>> {
        let (wake, woken) = sync_channel(1);
        writer.wal_hook(Some(move |_: &mut rusqlite::hooks::Wal, frames| {
            if frames >= self.start {
                // Full: the thread is woken already, or about to be; gone: the store is closing.
                let _ = wake.try_send(());
            }
            Ok(())
        }))?;
        Ok(woken)
    }

    /// Starts the thread copying `path`'s WAL back each time it is woken;
    /// it ends with the writer (when `woken` hangs up). `writer` is held only
    /// for the last pass before the WAL starts over.
    pub(super) fn start(self, path: &Path, writer: Weak<Db>, woken: Receiver<()>) -> std::io::Result<()> {
        let mut conn = Connection::open(path).map_err(std::io::Error::other)?;
        // A connection finds the WAL when it first reads the file; until then
        // a checkpoint does nothing.
        let mode: String =
            conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).map_err(std::io::Error::other)?;
        if mode != "wal" {
            return Err(std::io::Error::other(format!("the store is in {mode} mode, not WAL")));
        }
        // The pass under the writer's lock waits for readers still on frames it
        // copies: lookups take microseconds, so it looks again every 50 µs (for
        // at most about 100 ms), not after SQLite's default 1 ms and more.
        conn.busy_handler(Some(|tries| {
            std::thread::sleep(std::time::Duration::from_micros(50));
            tries < 2000
        }))
        .map_err(std::io::Error::other)?;
        std::thread::Builder::new().name("wal-checkpoint".into()).spawn(move || {
            let mut failing = false;
            let copy = |mode, failing: &mut bool| match conn.wal_checkpoint_v2(None::<&str>, mode) {
                Ok((frames, _copied)) => {
                    if std::mem::take(failing) {
                        tracing::info!("the store's WAL is copied back again");
                    }
                    Some(frames)
                }
                // Another connection (`opsbot` on the same file) is copying it: its pass counts.
                Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => None,
                Err(e) => {
                    if !std::mem::replace(failing, true) {
                        tracing::warn!(error = %e, "cannot copy the store's WAL back; it grows until a later try succeeds");
                    }
                    None
                }
            };
            while woken.recv().is_ok() {
                if copy(CheckpointMode::PASSIVE, &mut failing).is_none_or(|frames| frames < self.cap) {
                    continue;
                }
                let Some(writer) = writer.upgrade() else { return };
                let _no_commit = writer.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                copy(CheckpointMode::RESTART, &mut failing);
            }
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::InboxStore;
    use crate::store::sqlite::SqliteStore;

    /// The WAL file's size in frames: it never shrinks, so this is the most
    /// it ever held.
    fn wal_frames(db: &Path) -> u64 {
        let wal = db.with_extension("db-wal");
        std::fs::metadata(wal).map_or(0, |m| m.len()) / (4096 + 24)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wal_starts_over_while_the_writer_never_pauses_and_readers_keep_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        let checkpoints = Checkpoints { start: 50, cap: 200 };
        let store = std::sync::Arc::new(SqliteStore::open_with(&path, checkpoints).unwrap());
        let reading = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let reader = {
            let (store, reading) = (store.clone(), reading.clone());
            tokio::spawn(async move {
                while reading.load(std::sync::atomic::Ordering::Relaxed) {
                    store.inbox_knows("k17").await.unwrap();
                    tokio::task::yield_now().await;
                }
            })
        };
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let store = store.clone();
                tokio::spawn(async move {
                    for i in 0..2500 {
                        store.inbox_accept(&format!("w{w}-{i}"), &[7; 300], i).await.unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.await.unwrap();
        }
        reading.store(false, std::sync::atomic::Ordering::Relaxed);
        reader.await.unwrap();
        // Without the pass under the writer's lock it grew past 3,000 here.
        let most = wal_frames(&path);
        assert!(most <= 800, "the WAL grew to {most} frames, against a cap of 200");
        assert_eq!(store.inbox_pending(20_000, i64::MAX).await.unwrap().len(), 10_000, "every row is kept");
    }

    #[tokio::test]
    async fn a_closed_store_leaves_every_row_in_the_file_and_no_wal_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        let store = SqliteStore::open(&path).unwrap();
        store.inbox_accept("k", b"body", 0).await.unwrap();
        drop(store);
        // The last connection to close copies the WAL back and deletes it;
        // one left open (a thread that outlived its store) would keep it.
        for _ in 0..100 {
            if !path.with_extension("db-wal").exists() {
                let reopened = SqliteStore::open(&path).unwrap();
                assert_eq!(reopened.inbox_pending(10, 0).await.unwrap()[0].body, b"body");
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("the WAL is still there a second after the store was dropped: a connection outlived it");
    }
}
