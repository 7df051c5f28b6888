//! [`Memo`]: what `act` learned that `check` needs to follow a change — the
//! deployment, execution, command or version it started or wrote — and how
//! it travels to another replica.
//!
//! # Decisions
//! - A memo is runtime state, not part of a command's identity: two commands
//!   are equal whatever they remember, and a re-parsed command remembers
//!   nothing until it is resumed.
//! - A replica that takes over a running change (the one that started it
//!   stopped or died) parses the stored command line again; `check` on that
//!   fresh command would not know what to follow. So [`Memo::progress`]
//!   writes what `act` kept as one JSON string, stored with the change, and
//!   [`Memo::resume`] puts it into the fresh command: it then answers as the
//!   original would.
//! - The JSON names its format version, the command (spec name) and what it
//!   acts on: `{"v":1,"command":"deploy","of":"prod/api","state":"ecs-svc/1"}`
//!   (`state` is the memo's value as serde writes it). Progress written for
//!   another command or target is refused, never taken: following someone
//!   else's deployment would report on the wrong change. A shape old
//!   progress cannot be read as bumps `v`.

use std::fmt;
use std::sync::OnceLock;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// What `act` started, kept for `check` on the same command value.
pub struct Memo<T>(OnceLock<T>);

/// The format [`Memo::progress`] writes and [`Memo::resume`] reads.
const VERSION: u32 = 1;

/// Progress as stored: what it is for, then the memo's value.
#[derive(Serialize, Deserialize)]
struct Saved<S> {
    v: u32,
    command: String,
    of: String,
    state: S,
}

impl<T> Memo<T> {
    /// Remembers `value` unless something is already remembered.
    pub fn keep(&self, value: T) {
        let _ = self.0.set(value);
    }

    pub fn get(&self) -> Option<&T> {
        self.0.get()
    }
}

impl<T: Serialize> Memo<T> {
    /// What was kept, as the JSON [`Memo::resume`] reads, for `command`
    /// (its spec name) acting `of` its target; `None` while nothing is kept.
    pub fn progress(&self, command: &str, of: impl fmt::Display) -> Option<String> {
        let state = self.get()?;
        let saved = Saved { v: VERSION, command: command.to_owned(), of: of.to_string(), state };
        // Our states are plain data (strings, numbers, lists): serialising them cannot fail.
        serde_json::to_string(&saved).ok()
    }
}

impl<T: DeserializeOwned> Memo<T> {
    /// Keeps what `progress` says, when it was written for `command` acting
    /// `of` the same target; otherwise says what does not fit.
    pub fn resume(&self, command: &str, of: impl fmt::Display, progress: &str) -> Result<(), String> {
        let saved: Saved<serde_json::Value> =
            serde_json::from_str(progress).map_err(|e| format!("the progress is not what opsbot writes: {e}"))?;
        if saved.v != VERSION {
            return Err(format!("the progress is in format {}; this opsbot reads format {VERSION}", saved.v));
        }
        let of = of.to_string();
        if (saved.command.as_str(), saved.of.as_str()) != (command, of.as_str()) {
            return Err(format!(
                "the progress is of `{}` on `{}`, not of `{command}` on `{of}`",
                saved.command, saved.of
            ));
        }
        let state = serde_json::from_value(saved.state)
            .map_err(|e| format!("the progress of `{command}` does not fit it: {e}"))?;
        self.0.set(state).map_err(|_| format!("this `{command}` already follows a change; resume a fresh one"))
    }
}

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Memo(OnceLock::new())
    }
}

impl<T: Clone> Clone for Memo<T> {
    fn clone(&self) -> Self {
        Memo(self.0.clone())
    }
}

impl<T> PartialEq for Memo<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<T> Eq for Memo<T> {}

impl<T: fmt::Debug> fmt::Debug for Memo<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.get().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_memo_is_not_part_of_a_commands_identity() {
        let (a, b) = (Memo::default(), Memo::<u8>::default());
        a.keep(1);
        a.keep(2);
        assert_eq!((a.get(), a == b), (Some(&1), true));
    }

    #[test]
    fn progress_names_its_format_command_and_target() {
        let memo = Memo::default();
        assert_eq!(memo.progress("run", "Doc"), None, "nothing kept, nothing to resume");
        memo.keep(vec![7_i64]);
        let progress = memo.progress("run", "Doc").unwrap();
        assert_eq!(progress, r#"{"v":1,"command":"run","of":"Doc","state":[7]}"#);
        let fresh = Memo::<Vec<i64>>::default();
        fresh.resume("run", "Doc", &progress).unwrap();
        assert_eq!(fresh.get(), Some(&vec![7]));
    }

    #[test]
    fn progress_that_does_not_fit_is_refused_and_says_why() {
        let memo = Memo::<i64>::default();
        let refused = |progress: &str| memo.resume("run", "Doc", progress).unwrap_err();
        assert!(refused("{not json").contains("not what opsbot writes"), "{}", refused("{not json"));
        let other = r#"{"v":2,"command":"run","of":"Doc","state":1}"#;
        assert_eq!(refused(other), "the progress is in format 2; this opsbot reads format 1");
        let other = r#"{"v":1,"command":"deploy","of":"prod/api","state":1}"#;
        assert_eq!(refused(other), "the progress is of `deploy` on `prod/api`, not of `run` on `Doc`");
        let other = r#"{"v":1,"command":"run","of":"Doc","state":"x"}"#;
        assert!(
            refused(other).starts_with("the progress of `run` does not fit it: invalid type"),
            "{}",
            refused(other)
        );
        assert_eq!(memo.get(), None, "nothing was taken");
        memo.resume("run", "Doc", r#"{"v":1,"command":"run","of":"Doc","state":1}"#).unwrap();
        assert!(refused(r#"{"v":1,"command":"run","of":"Doc","state":2}"#).contains("already follows"));
        assert_eq!(memo.get(), Some(&1));
    }
}
