//! The serving tasks of a running bot, each with a name for the log, and the
//! two ways they end: the first one ending by itself ([`Tasks::first_to_end`])
//! and all of them being stopped ([`Tasks::join`]).
//!
//! Every serving task is meant to run until the bot stops, so one ending by
//! itself is always an error: its own (Slack refused the app token), a panic,
//! or "ended by itself". The finished task is taken out of the list before
//! the rest are awaited: a `JoinHandle` must not be polled again once it has
//! given its result (tokio panics when it is).

use futures_util::future::select_all;
use tokio::task::{JoinError, JoinHandle};
use tracing::error;

use super::error::AppError;

type Handle = JoinHandle<Result<(), AppError>>;

#[derive(Default)]
pub(super) struct Tasks(Vec<(&'static str, Handle)>);

impl Tasks {
    pub fn push(&mut self, name: &'static str, task: Handle) {
        self.0.push((name, task));
    }

    /// Waits for the first task to end and removes it; why it ended. Pending
    /// forever when there are no tasks.
    pub async fn first_to_end(&mut self) -> AppError {
        if self.0.is_empty() {
            return std::future::pending().await;
        }
        let (result, index, _) = select_all(self.0.iter_mut().map(|(_, task)| task)).await;
        let (name, _) = self.0.swap_remove(index);
        match outcome(name, result) {
            Err(err) => err,
            Ok(()) => AppError::Ended { task: name },
        }
    }

    /// Awaits every task (they have been told to stop); the first error any
    /// ended with. Later errors are logged, so none goes unseen.
    pub async fn join(self) -> Result<(), AppError> {
        let mut first = Ok(());
        for (name, task) in self.0 {
            if let Err(err) = outcome(name, task.await) {
                match first {
                    Ok(()) => first = Err(err),
                    Err(_) => error!(task = name, error = %err, "a serving task failed while stopping"),
                }
            }
        }
        first
    }
}

/// A task's result as the app's: a panic becomes an error naming the task.
fn outcome(name: &'static str, result: Result<Result<(), AppError>, JoinError>) -> Result<(), AppError> {
    match result {
        Ok(result) => result,
        Err(join) if join.is_panic() => Err(AppError::Panicked { task: name, panic: panic_text(join) }),
        Err(_) => Err(AppError::Ended { task: name }),
    }
}

fn panic_text(join: JoinError) -> String {
    let payload = join.into_panic();
    match (payload.downcast_ref::<&str>(), payload.downcast_ref::<String>()) {
        (Some(text), _) => (*text).to_owned(),
        (None, Some(text)) => text.clone(),
        (None, None) => "(no message)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_util::sync::CancellationToken;

    fn until(stop: &CancellationToken) -> Handle {
        let stop = stop.clone();
        tokio::spawn(async move {
            stop.cancelled().await;
            Ok(())
        })
    }

    #[tokio::test]
    async fn the_task_that_failed_is_reported_and_the_rest_are_joined_without_polling_it_again() {
        let stop = CancellationToken::new();
        let mut tasks = Tasks::default();
        tasks.push("HTTP server", until(&stop));
        tasks.push("Socket Mode connection", tokio::spawn(async { Err(AppError::Ended { task: "inner" }) }));
        tasks.push("expiry sweeper", until(&stop));
        let ended = tasks.first_to_end().await;
        assert_eq!(ended.to_string(), AppError::Ended { task: "inner" }.to_string());
        stop.cancel();
        assert!(tasks.join().await.is_ok(), "the others stopped cleanly");
    }

    #[tokio::test]
    async fn a_panicking_task_becomes_an_error_naming_it() {
        let stop = CancellationToken::new();
        let mut tasks = Tasks::default();
        tasks.push("outbox sender", tokio::spawn(async { panic!("the disk is on fire") }));
        tasks.push("HTTP server", until(&stop));
        let ended = tasks.first_to_end().await.to_string();
        assert!(ended.contains("outbox sender") && ended.contains("the disk is on fire"), "{ended}");
        stop.cancel();
        assert!(tasks.join().await.is_ok());
    }

    #[tokio::test]
    async fn a_task_that_returns_while_nobody_asked_it_to_stop_is_an_error() {
        let mut tasks = Tasks::default();
        tasks.push("expiry sweeper", tokio::spawn(async { Ok(()) }));
        let ended = tasks.first_to_end().await.to_string();
        assert!(ended.contains("expiry sweeper") && ended.contains("by itself"), "{ended}");
    }

    #[tokio::test]
    async fn stopping_reports_the_first_error_any_task_ended_with() {
        let mut tasks = Tasks::default();
        tasks.push("HTTP server", tokio::spawn(async { Ok(()) }));
        tasks.push("notifications", tokio::spawn(async { panic!("boom") }));
        let err = tasks.join().await.expect_err("the panic is reported").to_string();
        assert!(err.contains("notifications") && err.contains("boom"), "{err}");
    }
}
