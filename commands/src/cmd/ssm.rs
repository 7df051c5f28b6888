//! What the SSM change commands (`param set`, `param rollback`, `automation
//! run`, `automation status`, `run`) share besides their typed arguments
//! (those are values, in [`crate::values::ssm`]): the [`Memo`] through which
//! `act` tells `check` what it started, and how command output is cut to fit
//! a message.
//!
//! # Decisions
//! - [`Memo`] is runtime state, not part of a command's identity: two commands
//!   are equal whatever they remember, and a re-parsed command remembers nothing.

use std::fmt;
use std::sync::OnceLock;

/// What `act` started, kept for `check` on the same command value.
pub struct Memo<T>(OnceLock<T>);

impl<T> Memo<T> {
    /// Remembers `value` unless something is already remembered.
    pub fn keep(&self, value: T) {
        let _ = self.0.set(value);
    }

    pub fn get(&self) -> Option<&T> {
        self.0.get()
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

/// Lines kept from each end of a long output.
const KEEP_LINES: usize = 20;

/// Command output cut to fit a message: the first and last [`KEEP_LINES`]
/// lines, then at most `max` characters (head and tail halves), with a note
/// saying what was cut.
pub fn trim_output(raw: &str, max: usize) -> String {
    let lines: Vec<&str> = raw.trim_end().lines().collect();
    let mut text = if lines.len() > 2 * KEEP_LINES {
        let cut = lines.len() - 2 * KEEP_LINES;
        let (head, tail) = (&lines[..KEEP_LINES], &lines[lines.len() - KEEP_LINES..]);
        format!("{}\n… {cut} lines cut …\n{}", head.join("\n"), tail.join("\n"))
    } else {
        lines.join("\n")
    };
    let chars = text.chars().count();
    if chars > max {
        let half = max.saturating_sub(30) / 2;
        let head: String = text.chars().take(half).collect();
        let tail: String = text.chars().skip(chars - half).collect();
        text = format!("{head}\n… {} characters cut …\n{tail}", chars - 2 * half);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_output_keeps_its_first_and_last_lines_within_the_limit() {
        let raw: String = (1..=100).map(|n| format!("line {n}\n")).collect();
        let text = trim_output(&raw, 2000);
        assert!(text.starts_with("line 1\n") && text.ends_with("line 100"), "{text}");
        assert!(text.contains("… 60 lines cut …") && !text.contains("line 21\n"), "{text}");
        let wide = trim_output(&"x".repeat(5000), 2000);
        assert!(wide.chars().count() <= 2000 && wide.contains("characters cut"), "{}", wide.len());
        assert_eq!(trim_output("ok\n", 2000), "ok");
    }

    #[test]
    fn a_memo_is_not_part_of_a_commands_identity() {
        let (a, b) = (Memo::default(), Memo::<u8>::default());
        a.keep(1);
        a.keep(2);
        assert_eq!((a.get(), a == b), (Some(&1), true));
    }
}
