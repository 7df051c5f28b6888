//! [`Reply`] → Block Kit, within Slack's limits: a section's text is at most
//! 3,000 characters, a header 150, ten fields and ten context elements, 50
//! blocks a message. Long text is split at line breaks rather than cut, so a
//! long `params` listing arrives whole.
//!
//! Sections and context are [`Mrkdwn`], escaped where they were built. The
//! top-level `text` (notifications, screen readers) is the reply's plain
//! fallback, which Slack would also read as markup: it is escaped here, with
//! the same [`esc`]. Headers and button labels are `plain_text` objects, which
//! Slack shows as they are.

use opsbot_commands::mrkdwn::esc;
use opsbot_commands::reply::{Button, ButtonStyle};
use opsbot_commands::text::truncate;
use opsbot_commands::{Block, Mrkdwn, Reply, mrkdwn};
use slack_morphism::prelude::*;

const SECTION_MAX: usize = 3000;
const FIELD_MAX: usize = 2000;
const HEADER_MAX: usize = 150;
const FIELDS_MAX: usize = 10;
const CONTEXT_MAX: usize = 10;
const BLOCKS_MAX: usize = 50;
const ACTIONS_MAX: usize = 25;
const BUTTON_TEXT_MAX: usize = 75;
/// Notification / fallback text; Slack truncates at 40,000 but clients show far less.
const FALLBACK_MAX: usize = 3000;

/// The message content (blocks + fallback text) for a reply.
pub fn content(reply: &Reply) -> SlackMessageContent {
    SlackMessageContent::new().with_text(esc(&truncate(&reply.fallback, FALLBACK_MAX))).with_blocks(blocks(reply))
}

pub fn blocks(reply: &Reply) -> Vec<SlackBlock> {
    let mut out: Vec<SlackBlock> = Vec::new();
    for block in &reply.blocks {
        match block {
            Block::Header(text) => {
                out.push(SlackHeaderBlock::new(SlackBlockPlainText::new(truncate(text, HEADER_MAX)).into()).into())
            }
            Block::Section { text, fields } => out.extend(section(text, fields)),
            Block::Context(parts) => out.push(context(parts)),
            Block::Divider => out.push(SlackDividerBlock::new().into()),
            Block::Buttons(buttons) => out.push(actions(buttons)),
        }
    }
    if out.len() > BLOCKS_MAX {
        let dropped = out.len() - (BLOCKS_MAX - 1);
        out.truncate(BLOCKS_MAX - 1);
        out.push(context(&[mrkdwn!("… {} more blocks not shown; narrow the question to see them", dropped)]));
    }
    out
}

fn section(text: &Mrkdwn, fields: &[Mrkdwn]) -> Vec<SlackBlock> {
    let mut out: Vec<SlackBlock> = split_lines(text.as_str(), SECTION_MAX)
        .into_iter()
        .map(|chunk| SlackSectionBlock::new().with_text(md(chunk)).into())
        .collect();
    for group in fields.chunks(FIELDS_MAX) {
        let fields = group.iter().map(|f| md(truncate(f.as_str(), FIELD_MAX))).collect();
        out.push(SlackSectionBlock::new().with_fields(fields).into());
    }
    out
}

fn context(parts: &[Mrkdwn]) -> SlackBlock {
    let elements = parts
        .iter()
        .take(CONTEXT_MAX)
        .map(|p| SlackContextBlockElement::MarkDown(SlackBlockMarkDownText::new(truncate(p.as_str(), SECTION_MAX))))
        .collect();
    SlackContextBlock::new(elements).into()
}

/// Buttons carry the change id and parameter hash, or a command line, in `value` (see `Press`).
fn actions(buttons: &[Button]) -> SlackBlock {
    let elements = buttons
        .iter()
        .take(ACTIONS_MAX)
        .map(|b| {
            let (action_id, value) = b.press.to_wire();
            let mut button =
                SlackBlockButtonElement::new(SlackBlockPlainText::new(truncate(&b.label, BUTTON_TEXT_MAX)).into())
                    .with_action_id(SlackActionId(action_id.to_owned()))
                    .with_value(value);
            button.style = match b.style {
                ButtonStyle::Primary => Some(SlackBlockButtonStyle::Primary),
                ButtonStyle::Danger => Some(SlackBlockButtonStyle::Danger),
                ButtonStyle::Default => None,
            };
            SlackActionBlockElement::Button(button)
        })
        .collect();
    SlackActionsBlock::new(elements).into()
}

fn md(text: String) -> SlackBlockText {
    SlackBlockText::MarkDown(SlackBlockMarkDownText::new(text))
}

/// Splits text into chunks of at most `max` characters, at line breaks when
/// possible. Empty text gives no chunk (Slack refuses empty sections).
fn split_lines(text: &str, max: usize) -> Vec<String> {
    let mut chunks: Vec<String> = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = truncate(line, max);
        if !current.is_empty() && current.chars().count() + 1 + line.chars().count() > max {
            chunks.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push('\n');
        }
        current.push_str(&line);
    }
    if !current.trim().is_empty() {
        chunks.push(current);
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn rendered(reply: &Reply) -> Value {
        serde_json::to_value(blocks(reply)).unwrap()
    }

    #[test]
    fn each_reply_block_becomes_its_block_kit_counterpart() {
        let reply = Reply::in_channel("f")
            .header("Pipelines")
            .section(mrkdwn!("*web* ok"))
            .context(vec![mrkdwn!("hint")])
            .divider();
        assert_eq!(
            rendered(&reply),
            json!([
                {"type": "header", "text": {"type": "plain_text", "text": "Pipelines"}},
                {"type": "section", "text": {"type": "mrkdwn", "text": "*web* ok"}},
                {"type": "context", "elements": [{"type": "mrkdwn", "text": "hint"}]},
                {"type": "divider"}
            ])
        );
    }

    #[test]
    fn long_sections_are_split_at_line_breaks_within_slacks_limit() {
        let text = (0..200).map(|i| format!("line {i:03} {}", "x".repeat(40))).collect::<Vec<_>>().join("\n");
        let json = rendered(&Reply::in_channel("f").section(Mrkdwn::text(&text)));
        let sections = json.as_array().unwrap();
        assert!(sections.len() > 1);
        let mut joined = Vec::new();
        for s in sections {
            let t = s["text"]["text"].as_str().unwrap();
            assert!(t.chars().count() <= SECTION_MAX);
            joined.push(t.to_owned());
        }
        assert_eq!(joined.join("\n"), text, "nothing lost in splitting");
    }

    #[test]
    fn more_than_ten_fields_spill_into_another_section() {
        let fields: Vec<Mrkdwn> = (0..13).map(|i| mrkdwn!("f{}", i)).collect();
        let json = rendered(&Reply::in_channel("f").fields(Mrkdwn::new(), fields));
        assert_eq!(json[0]["fields"].as_array().unwrap().len(), 10);
        assert_eq!(json[1]["fields"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn too_many_blocks_end_with_a_note_instead_of_an_error_from_slack() {
        let mut reply = Reply::in_channel("f");
        for i in 0..60 {
            reply = reply.section(mrkdwn!("s{}", i));
        }
        let json = rendered(&reply);
        assert_eq!(json.as_array().unwrap().len(), BLOCKS_MAX);
        assert!(json[BLOCKS_MAX - 1]["elements"][0]["text"].as_str().unwrap().contains("11 more blocks"));
    }

    #[test]
    fn the_plain_fallback_text_is_escaped_so_it_cannot_ping_or_spoof_a_link() {
        let raw = "alarm <!here> <!channel> <@U123> <https://evil|review> & co";
        let json = serde_json::to_value(content(&Reply::in_channel(raw).section(mrkdwn!("{}", raw)))).unwrap();
        let escaped = "alarm &lt;!here&gt; &lt;!channel&gt; &lt;@U123&gt; &lt;https://evil|review&gt; &amp; co";
        assert_eq!(json["text"], escaped);
        assert_eq!(json["blocks"][0]["text"]["text"], escaped, "escaped once, not twice");
    }

    #[test]
    fn a_long_fallback_is_cut_before_escaping_so_no_entity_is_split() {
        let raw = format!("{}&&&&", "x".repeat(FALLBACK_MAX - 2));
        let json = serde_json::to_value(content(&Reply::in_channel(raw))).unwrap();
        assert!(json["text"].as_str().unwrap().ends_with("x&amp;…"), "{}", json["text"]);
    }
}
