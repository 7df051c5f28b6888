//! `opsbot console` / `opsbot demo`: the same command runner as Slack, in a
//! terminal. One command per line goes through [`Ops::handle`] exactly as a
//! slash command would; the [`Reply`] is printed with [`render`]. Buttons are
//! numbered choices: typing the number alone presses it ([`Ops::click`]).
//!
//! # Layout
//! - [`start`]: `opsbot console` and `opsbot demo` on stdin/stdout, built
//!   from the app's [`Wiring`] like `serve`.
//! - [`run`]: the read–handle–print loop over any async reader, printing on a
//!   [`Screen`] (stdout via [`run_stdio`], a buffer in tests).
//! - [`screen`]: the shared output and the choice numbers; [`chat`]: the
//!   change flow's channel messages on that screen.
//! - [`render`]: Block Kit replies as plain text; [`mrkdwn`]: inline markup.
//! - [`demo`]: the policy `opsbot demo` runs under (a lead approves prod).
//!
//! # Decisions
//! - Input may be a script (`opsbot demo < tour.txt`): blank lines and `#`
//!   comments are skipped, a leading `/ops` is dropped, `quit`/`exit` stop.
//!   The banner and the `> ` prompt appear only when a person is typing.
//! - Every line is its own request with a fresh [`crate::request_id`], like a
//!   Slack command, so nothing is mistaken for a retry of an earlier line.
//! - The console user has a Slack-shaped id ([`ConsoleUser::local`]), so
//!   policies written for Slack ids apply unchanged; `:as USER [GROUP ...]`
//!   switches who is typing, so a requester and an approver can take turns.
//! - At the end of input, changes still running are waited for (up to
//!   [`WAIT_AT_END`]), so a piped script prints how its changes ended.
//! - Waiting changes expire while the console runs, as in `serve` (the same
//!   [`crate::app::sweeper`]).

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use opsbot_commands::ClickOutcome;
use opsbot_commands::hooks::ParamHook;
use opsbot_commands::ports::store::{ChangeState, Store};
use opsbot_commands::values::{ChannelId, SlackUserId};
use opsbot_commands::{Context, Ops, Reply};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, BufReader};
use tokio_util::sync::CancellationToken;

use crate::app::Wiring;
use crate::store::Storage;

pub mod chat;
pub mod demo;
mod input;
pub mod mrkdwn;
pub mod notices;
mod render;
pub mod screen;

use input::Line;
pub use render::render;
pub use screen::Screen;

/// How long the end of input waits for running changes to finish.
pub const WAIT_AT_END: Duration = Duration::from_secs(10 * 60);

/// Who types at the console, and the channel their commands count as sent in.
#[derive(Debug, Clone)]
pub struct ConsoleUser {
    pub id: SlackUserId,
    pub name: Option<String>,
    /// Slack user-group ids the user counts as a member of.
    pub groups: Vec<String>,
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
            groups: Vec::new(),
            channel: ChannelId::parse("console").expect("a valid channel name"),
        }
    }

    fn context(&self, request_id: String) -> Context {
        Context {
            request_id,
            user: self.id.clone(),
            user_name: self.name.clone(),
            groups: self.groups.clone(),
            channel: self.channel.clone(),
            channel_name: Some(self.channel.to_string()),
            now: Utc::now(),
        }
    }
}

/// Who the console user is, for policies and `whoami` (`--user`, `--channel`,
/// `--group` of `opsbot console` and `opsbot demo`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Who {
    /// Slack user id to act as.
    #[arg(long, value_parser = SlackUserId::parse)]
    pub user: Option<SlackUserId>,
    /// Channel the commands count as sent in.
    #[arg(long, value_parser = ChannelId::parse)]
    pub channel: Option<ChannelId>,
    /// Slack user-group id the user counts as a member of (repeatable).
    #[arg(long = "group")]
    pub groups: Vec<String>,
}

impl Who {
    /// The person at this terminal ([`ConsoleUser::local`]) as these options say.
    pub fn user(self) -> ConsoleUser {
        let local = ConsoleUser::local();
        ConsoleUser {
            id: self.user.unwrap_or(local.id),
            channel: self.channel.unwrap_or(local.channel),
            groups: self.groups,
            name: local.name,
        }
    }
}

/// What a console session runs on. `ops` prints its channel messages through
/// a [`chat::ConsoleChat`] on the same `screen`.
pub struct Session {
    pub ops: Arc<Ops>,
    pub store: Arc<dyn Store>,
    pub screen: Arc<Screen>,
    /// The demo's notifications, a step after each command line; `None` in `console`.
    pub notices: Option<Arc<notices::Notices>>,
}

impl Session {
    /// A session on `wiring` (its gateways, identity, policy and clock — the
    /// same command runner as `serve`), recording in `store`, running `hooks`
    /// after parameter changes, printing on `screen`; in the demo, telling
    /// the notification `story`, a step after each line.
    pub fn new(
        wiring: &Wiring,
        store: Arc<dyn Storage>,
        hooks: Vec<ParamHook>,
        screen: Arc<Screen>,
        story: Option<crate::sandbox::story::Story>,
    ) -> Self {
        let mut ops = wiring.ops(store.clone(), Arc::new(chat::ConsoleChat::new(screen.clone())), hooks);
        let mut notices = None;
        if let Some(story) = story {
            let pipelines = wiring.aws.pipelines.clone();
            let (alerts, told) = notices::demo_notices(
                store.clone(),
                screen.clone(),
                wiring.policy.current(),
                pipelines,
                wiring.builds.clone(),
                story,
            );
            ops = ops.with_alerts(alerts);
            notices = Some(told);
        }
        Session { ops: Arc::new(ops), store, screen, notices }
    }
}

/// Reads lines from `input` until EOF or `quit`, printing each answer on the
/// session's screen. `interactive` (a person at a terminal) adds a banner and prompt.
pub async fn run<R>(session: &Session, mut who: ConsoleUser, input: R, interactive: bool) -> std::io::Result<()>
where
    R: AsyncBufRead + Unpin,
{
    let screen = &session.screen;
    let stop = CancellationToken::new();
    let sweeper = crate::app::sweeper(
        session.ops.clone(),
        opsbot_commands::ports::system_clock(),
        crate::app::SWEEP_EVERY,
        stop.clone(),
    );
    let sweeping = tokio::spawn(sweeper);
    if interactive {
        screen.print(&banner(&who))?;
    }
    let mut lines = input.lines();
    loop {
        if let Some(notices) = &session.notices {
            notices.next_step().await;
        }
        if interactive {
            screen.print("> ")?;
        }
        let Some(line) = lines.next_line().await? else {
            if interactive {
                screen.print("\n")?;
            }
            break;
        };
        match input::classify(&line) {
            Line::Skip => continue,
            Line::Quit => break,
            Line::Command(text) => {
                screen.hold();
                let reply = session.ops.handle(&who.context(crate::request_id()), text).await;
                show(screen, &reply)?;
            }
            Line::Press(number) => press(session, &who, number).await?,
            Line::As(Ok((id, groups))) => {
                let groups_note = if groups.is_empty() { String::new() } else { format!(" in {}", groups.join(", ")) };
                screen.print(&format!("You are now {id}{groups_note}.\n\n"))?;
                (who.id, who.name, who.groups) = (id, None, groups);
            }
            Line::As(Err(why)) | Line::Unknown(why) => screen.print(&format!("{why}\n\n"))?,
        }
    }
    wait_for_running(session).await;
    if let Some(notices) = &session.notices {
        notices.last_word().await;
    }
    stop.cancel();
    let _ = sweeping.await;
    Ok(())
}

/// Prints a reply with its choices numbered, then anything posted meanwhile.
fn show(screen: &Screen, reply: &Reply) -> std::io::Result<()> {
    screen.print(&format!("{}\n\n", screen.render(reply)))?;
    screen.release()
}

/// Presses choice `number` as `who`.
async fn press(session: &Session, who: &ConsoleUser, number: usize) -> std::io::Result<()> {
    let Some(pressed) = session.screen.choice(number) else {
        return session.screen.print(&format!("There is no choice [{number}].\n\n"));
    };
    session.screen.hold();
    let reply = match session.ops.press(&who.context(crate::request_id()), &pressed).await {
        ClickOutcome::Replace(reply) | ClickOutcome::Note(reply) => reply,
    };
    show(&session.screen, &reply)
}

/// Waits until no change shown this session is running, up to [`WAIT_AT_END`].
async fn wait_for_running(session: &Session) {
    let deadline = tokio::time::Instant::now() + WAIT_AT_END;
    for id in session.screen.changes() {
        while let Ok(Some(change)) = session.store.change(&id).await {
            if change.state != ChangeState::Running || tokio::time::Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The console on `wiring`, recording in `store`, on stdin and stdout (see
/// [`Session::new`]). Reads until EOF or `quit`.
pub async fn start(
    wiring: &Wiring,
    store: Arc<dyn Storage>,
    hooks: Vec<ParamHook>,
    who: ConsoleUser,
    story: Option<crate::sandbox::story::Story>,
) -> std::io::Result<()> {
    let session = Session::new(wiring, store, hooks, Screen::new(std::io::stdout()), story);
    session.ops.recover().await;
    run_stdio(&session, who).await
}

/// [`run`] on this process's stdin, interactive when stdin is a terminal.
pub async fn run_stdio(session: &Session, who: ConsoleUser) -> std::io::Result<()> {
    let interactive = std::io::stdin().is_terminal();
    run(session, who, BufReader::new(tokio::io::stdin()), interactive).await
}

fn banner(who: &ConsoleUser) -> String {
    let name = who.name.as_deref().map(|n| format!("{n} ({})", who.id)).unwrap_or_else(|| who.id.to_string());
    format!(
        "opsbot console — you are {name} in #{}.\nType a command as you would after /ops: `help` lists them, \
         a number presses that button, `:as USER` switches who is typing, `quit` leaves.\n\n",
        who.channel
    )
}

#[cfg(test)]
mod tests;
