//! The console's one output and its numbered choices, shared by the
//! read–handle–print loop and [`super::chat::ConsoleChat`].
//!
//! # Decisions
//! - Buttons become numbered choices, `[1] Confirm  [2] Cancel`, numbered
//!   once per session: a number always presses the same button, and a button
//!   shown again (an edited message) keeps its number. Pressing a number
//!   whose message has moved on is answered by the change flow ("already
//!   confirmed"), exactly like a stale button in Slack.
//! - Channel messages posted while the loop is handling a line are held and
//!   printed after the loop's own answer, so a click's outcome always comes
//!   before the progress it started, whatever thread runs what.
//! - Output goes to any `std::io::Write` (stdout, or a buffer in tests) in
//!   whole messages under one lock, so messages never interleave mid-line.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use opsbot_commands::Reply;
use opsbot_commands::click::Press;
use opsbot_commands::ports::store::ChangeId;

use super::render::render_with;

pub struct Screen {
    out: Mutex<Box<dyn Write + Send>>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Choice `n` is `choices[n - 1]`.
    choices: Vec<Press>,
    /// Channel messages waiting for the loop's answer; `None` when not holding.
    held: Option<Vec<String>>,
}

impl Screen {
    pub fn new(out: impl Write + Send + 'static) -> Arc<Self> {
        Arc::new(Screen { out: Mutex::new(Box::new(out)), state: Mutex::default() })
    }

    /// `reply` as text, its buttons numbered (and registered as choices).
    pub fn render(&self, reply: &Reply) -> String {
        let mut state = self.state();
        render_with(reply, &mut |button| {
            let number = match state.choices.iter().position(|c| *c == button.press) {
                Some(i) => i + 1,
                None => {
                    state.choices.push(button.press.clone());
                    state.choices.len()
                }
            };
            format!("[{number}] {}", button.label)
        })
    }

    /// The button behind choice `number`, if it was ever shown.
    pub fn choice(&self, number: usize) -> Option<Press> {
        number.checked_sub(1).and_then(|i| self.state().choices.get(i).cloned())
    }

    /// Every change that has shown a button this session.
    pub fn changes(&self) -> Vec<ChangeId> {
        let mut ids: Vec<ChangeId> =
            self.state().choices.iter().filter_map(|p| p.change()).map(|c| c.change.clone()).collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// Prints `text` now (the loop's own output).
    pub fn print(&self, text: &str) -> std::io::Result<()> {
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        out.write_all(text.as_bytes())?;
        out.flush()
    }

    /// Prints a channel message now, or after the loop's answer if it is busy.
    pub fn post(&self, text: String) -> std::io::Result<()> {
        if let Some(held) = self.state().held.as_mut() {
            held.push(text);
            return Ok(());
        }
        self.print(&text)
    }

    /// Holds channel messages until [`Self::release`].
    pub fn hold(&self) {
        self.state().held.get_or_insert_with(Vec::new);
    }

    /// Prints the held channel messages and stops holding.
    pub fn release(&self) -> std::io::Result<()> {
        let held = self.state().held.take().unwrap_or_default();
        held.iter().try_for_each(|text| self.print(text))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A `Write` into a shared buffer, for tests that read what was printed.
#[derive(Clone, Default)]
pub struct Captured(pub Arc<Mutex<Vec<u8>>>);

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
