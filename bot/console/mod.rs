//! `opsbot console` / `opsbot demo`: the same command pipeline as Slack, in a
//! terminal. One command per line goes through [`Ops::handle`] exactly as a
//! slash command would; the [`Reply`] is printed with [`render`].
//!
//! # Layout
//! - [`run`]: the read–handle–print loop over any async reader and writer
//!   (stdin/stdout via [`run_stdio`], byte slices in tests).
//! - [`render`]: Block Kit replies as plain text; [`mrkdwn`]: inline markup.
//!
//! # Decisions
//! - Input may be a script (`opsbot demo < tour.txt`): blank lines and `#`
//!   comments are skipped, a leading `/ops` is dropped, `quit`/`exit` stop.
//!   The banner and the `> ` prompt appear only when a person is typing.
//! - Every line is its own request with a fresh [`crate::request_id`], like a
//!   Slack command, so nothing is mistaken for a retry of an earlier line.
//! - The console user has a fixed Slack-shaped id ([`ConsoleUser::local`]),
//!   so policies written for Slack ids apply unchanged.

use std::io::IsTerminal;

use chrono::Utc;
use opsbot_commands::values::{ChannelId, SlackUserId};
use opsbot_commands::{Context, Ops, Reply};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader};

pub mod chat;
pub mod mrkdwn;
mod render;

pub use render::render;

/// Who types at the console, and the channel their commands count as sent in.
#[derive(Debug, Clone)]
pub struct ConsoleUser {
    pub id: SlackUserId,
    pub name: Option<String>,
    pub channel: ChannelId,
}

impl ConsoleUser {
    /// The person at this terminal: named after `$USER`, with the id
    /// `U0CONSOLE` in channel `console`.
    pub fn local() -> Self {
        let name = std::env::var("USER").or_else(|_| std::env::var("USERNAME")).ok().filter(|n| !n.is_empty());
        ConsoleUser {
            id: SlackUserId::parse("U0CONSOLE").expect("a valid Slack user id"),
            name,
            channel: ChannelId::parse("console").expect("a valid channel name"),
        }
    }

    fn context(&self, request_id: String) -> Context {
        Context {
            request_id,
            user: self.id.clone(),
            user_name: self.name.clone(),
            groups: Vec::new(),
            channel: self.channel.clone(),
            channel_name: Some(self.channel.to_string()),
            now: Utc::now(),
        }
    }
}

/// What one input line asks for.
#[derive(Debug, PartialEq, Eq)]
enum Line<'a> {
    Skip,
    Quit,
    Command(&'a str),
}

fn classify(line: &str) -> Line<'_> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Line::Skip;
    }
    let text = match line.strip_prefix("/ops") {
        Some(rest) if rest.is_empty() || rest.starts_with(char::is_whitespace) => rest.trim_start(),
        _ => line,
    };
    if text.eq_ignore_ascii_case("quit") || text.eq_ignore_ascii_case("exit") {
        return Line::Quit;
    }
    Line::Command(text)
}

/// Reads commands from `input` until EOF or `quit`, printing each reply to
/// `output`. `interactive` (a person at a terminal) adds a banner and prompt.
pub async fn run<R, W>(ops: &Ops, who: ConsoleUser, input: R, mut output: W, interactive: bool) -> std::io::Result<()>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    if interactive {
        output.write_all(banner(&who).as_bytes()).await?;
    }
    let mut lines = input.lines();
    loop {
        if interactive {
            output.write_all(b"> ").await?;
            output.flush().await?;
        }
        let Some(line) = lines.next_line().await? else {
            if interactive {
                output.write_all(b"\n").await?;
            }
            break;
        };
        let text = match classify(&line) {
            Line::Skip => continue,
            Line::Quit => break,
            Line::Command(text) => text,
        };
        let reply: Reply = ops.handle(&who.context(crate::request_id()), text).await;
        output.write_all(format!("{}\n\n", render(&reply)).as_bytes()).await?;
    }
    output.flush().await
}

/// [`run`] on this process's stdin and stdout, interactive when stdin is a terminal.
pub async fn run_stdio(ops: &Ops, who: ConsoleUser) -> std::io::Result<()> {
    let interactive = std::io::stdin().is_terminal();
    run(ops, who, BufReader::new(tokio::io::stdin()), tokio::io::stdout(), interactive).await
}

fn banner(who: &ConsoleUser) -> String {
    let name = who.name.as_deref().map(|n| format!("{n} ({})", who.id)).unwrap_or_else(|| who.id.to_string());
    format!(
        "opsbot console — you are {name} in #{}.\nType a command as you would after /ops: `help` lists them, `quit` leaves.\n\n",
        who.channel
    )
}

#[cfg(test)]
mod tests;
