//! What a command answers, independent of where it is shown. `bot/slack`
//! renders a [`Reply`] as Block Kit, `bot/console` as plain text.
//!
//! Blocks hold [`Mrkdwn`] (`*bold*`, `_italic_`, `` `code` ``, `<url|label>`),
//! which can only be built with text from AWS or a user escaped, so a name
//! like `<!channel>` can never ping a channel or break the markup. The
//! fallback and headers are plain text; renderers escape them where the
//! target would read markup.

use crate::click::Press;

pub use crate::mrkdwn::Mrkdwn;

/// Who sees the reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Everyone in the channel (answers to status questions).
    InChannel,
    /// Only the requester (errors, help, refusals).
    Ephemeral,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A title line (plain text: Block Kit shows it as it is).
    Header(String),
    /// A paragraph of mrkdwn, optionally with short two-column fields.
    Section {
        text: Mrkdwn,
        fields: Vec<Mrkdwn>,
    },
    /// Small print: ids, times, hints.
    Context(Vec<Mrkdwn>),
    Divider,
    /// A row of buttons (Slack buttons; numbered choices at the console).
    Buttons(Vec<Button>),
}

/// A button: acts on a change, or runs a command as whoever presses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    pub label: String,
    pub press: Press,
    pub style: ButtonStyle,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ButtonStyle {
    Default,
    /// The action the message is about (green in Slack).
    Primary,
    /// Stops or refuses something (red in Slack).
    Danger,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub visibility: Visibility,
    /// Plain summary for notifications, screen readers and clients that cannot
    /// show blocks. Plain text, not mrkdwn: the Slack renderer escapes it.
    pub fallback: String,
    pub blocks: Vec<Block>,
}

impl Reply {
    pub fn in_channel(fallback: impl Into<String>) -> Self {
        Reply { visibility: Visibility::InChannel, fallback: fallback.into(), blocks: Vec::new() }
    }

    pub fn ephemeral(fallback: impl Into<String>) -> Self {
        Reply { visibility: Visibility::Ephemeral, fallback: fallback.into(), blocks: Vec::new() }
    }

    pub fn header(mut self, text: impl Into<String>) -> Self {
        self.blocks.push(Block::Header(text.into()));
        self
    }

    pub fn section(mut self, text: impl Into<Mrkdwn>) -> Self {
        self.blocks.push(Block::Section { text: text.into(), fields: Vec::new() });
        self
    }

    pub fn fields(mut self, text: impl Into<Mrkdwn>, fields: Vec<impl Into<Mrkdwn>>) -> Self {
        self.blocks.push(Block::Section { text: text.into(), fields: fields.into_iter().map(Into::into).collect() });
        self
    }

    pub fn context(mut self, parts: Vec<impl Into<Mrkdwn>>) -> Self {
        if !parts.is_empty() {
            self.blocks.push(Block::Context(parts.into_iter().map(Into::into).collect()));
        }
        self
    }

    /// Adds `lines` as one or more sections, each within Slack's limit of
    /// [`SECTION_MAX`] characters of text, so long lists are never rejected.
    pub fn lines(mut self, lines: impl IntoIterator<Item = impl Into<Mrkdwn>>) -> Self {
        let mut chunk = Mrkdwn::new();
        for line in lines {
            let line: Mrkdwn = line.into();
            if !chunk.is_empty() && chunk.len() + 1 + line.len() > SECTION_MAX {
                self = self.section(std::mem::take(&mut chunk));
            }
            if !chunk.is_empty() {
                chunk.push(crate::mrkdwn!("\n"));
            }
            chunk.push(line);
        }
        if chunk.is_empty() { self } else { self.section(chunk) }
    }

    pub fn buttons(mut self, buttons: Vec<Button>) -> Self {
        if !buttons.is_empty() {
            self.blocks.push(Block::Buttons(buttons));
        }
        self
    }

    /// The buttons of this reply, in order.
    pub fn all_buttons(&self) -> impl Iterator<Item = &Button> {
        self.blocks.iter().flat_map(|b| match b {
            Block::Buttons(buttons) => buttons.as_slice(),
            _ => &[],
        })
    }

    pub fn divider(mut self) -> Self {
        self.blocks.push(Block::Divider);
        self
    }

    /// Every piece of text in the reply, in order (for tests and plain renderers).
    pub fn text(&self) -> String {
        let mut out = Vec::new();
        for block in &self.blocks {
            match block {
                Block::Header(t) => out.push(t.clone()),
                Block::Section { text, fields } => {
                    out.push(text.as_str().to_owned());
                    out.extend(fields.iter().map(|f| f.as_str().to_owned()));
                }
                Block::Context(parts) => out.push(parts.iter().map(Mrkdwn::as_str).collect::<Vec<_>>().join("  ·  ")),
                Block::Divider => out.push("---".into()),
                Block::Buttons(buttons) => {
                    out.push(buttons.iter().map(|b| format!("[{}]", b.label)).collect::<Vec<_>>().join(" "))
                }
            }
        }
        if out.is_empty() {
            out.push(self.fallback.clone());
        }
        out.join("\n")
    }
}

/// The most text Slack accepts in one section block.
pub const SECTION_MAX: usize = 3000;

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn long_lists_are_split_into_sections_slack_accepts() {
        let line = Mrkdwn::text(&"x".repeat(999));
        let reply = Reply::in_channel("f").lines(vec![line.clone(); 7]);
        assert_eq!(reply.blocks.len(), 3);
        assert!(reply.blocks.iter().all(|b| matches!(b, Block::Section { text, .. } if text.len() <= SECTION_MAX)));
        assert!(Reply::in_channel("f").lines(Vec::<Mrkdwn>::new()).blocks.is_empty());
    }
}
