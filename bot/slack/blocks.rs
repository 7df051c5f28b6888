//! [`Reply`] → Block Kit, within Slack's limits: a section's text is at most
//! 3,000 characters, a field 2,000, a header 150, ten fields and ten context
//! elements a block, 50 blocks a message. Nothing is cut: long text is split
//! at line breaks (a line longer than a section is wrapped, at a space when
//! there is one), a code block split across sections is closed and opened
//! again, extra fields and context elements spill into further blocks, and a
//! header too long for one becomes a bold section.
//!
//! A reply that needs more than one message becomes several ([`messages`]),
//! which the Web API calls post in order (`web.rs`): in the thread, at the
//! `response_url`, or privately, as the reply was addressed. Only where one
//! message must stay one — an edit in place ([`content`]: chat.update, the
//! outbox's living messages) — does the end give way, and then the message
//! says so in its last block.
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
/// Characters of text in one message. Slack documents no total for blocks
/// but refuses very long messages (`msg_too_long`, `msg_blocks_too_long`)
/// and clients fold long ones; four full sections stay well inside both.
const MESSAGE_CHARS_MAX: usize = 12_000;
/// Notification / fallback text; Slack truncates at 40,000 but clients show
/// far less, and the blocks carry the whole reply.
const FALLBACK_MAX: usize = 3000;
const FENCE: &str = "```";

/// The one message a reply becomes where it cannot be more than one (an
/// edit in place): the blocks that fit, and a last block saying how many
/// did not.
pub fn content(reply: &Reply) -> SlackMessageContent {
    let pages = paginate(rendered(reply), BLOCKS_MAX - 1);
    let left: usize = pages.iter().skip(1).map(Vec::len).sum();
    let mut blocks = pages.into_iter().next().unwrap_or_default();
    if left > 0 {
        let note = mrkdwn!("… {} more blocks not shown; narrow the question to see them", left);
        blocks.push(context(&[note.as_str().to_owned()]).0);
    }
    SlackMessageContent::new().with_text(fallback(reply)).with_blocks(blocks)
}

/// The messages a reply becomes, in order: one, unless its blocks pass what
/// one message may hold; each continuation says so in its fallback text.
pub fn messages(reply: &Reply) -> Vec<SlackMessageContent> {
    let pages = paginate(rendered(reply), BLOCKS_MAX);
    let total = pages.len().max(1);
    let mut out: Vec<SlackMessageContent> = pages
        .into_iter()
        .enumerate()
        .map(|(n, blocks)| {
            let text = if n == 0 { fallback(reply) } else { format!("(continued, {} of {total})", n + 1) };
            SlackMessageContent::new().with_text(text).with_blocks(blocks)
        })
        .collect();
    if out.is_empty() {
        out.push(SlackMessageContent::new().with_text(fallback(reply)).with_blocks(vec![]));
    }
    out
}

fn fallback(reply: &Reply) -> String {
    esc(&truncate(&reply.fallback, FALLBACK_MAX))
}

/// Every block of one message, for tests and callers that know it fits.
pub fn blocks(reply: &Reply) -> Vec<SlackBlock> {
    content(reply).blocks.unwrap_or_default()
}

/// Each block with the characters of text it carries.
fn rendered(reply: &Reply) -> Vec<(SlackBlock, usize)> {
    let mut out = Vec::new();
    for block in &reply.blocks {
        match block {
            Block::Header(text) if text.chars().count() <= HEADER_MAX => {
                let header = SlackHeaderBlock::new(SlackBlockPlainText::new(text.clone()).into());
                out.push((header.into(), text.chars().count()));
            }
            Block::Header(text) => out.extend(section(&mrkdwn!("*{}*", text.as_str()), &[])),
            Block::Section { text, fields } => out.extend(section(text, fields)),
            Block::Context(parts) => {
                let parts: Vec<String> = parts.iter().flat_map(|p| split_lines(p.as_str(), SECTION_MAX)).collect();
                out.extend(parts.chunks(CONTEXT_MAX).map(context));
            }
            Block::Divider => out.push((SlackDividerBlock::new().into(), 0)),
            Block::Buttons(buttons) => out.push(actions(buttons)),
        }
    }
    out
}

/// Blocks grouped into messages of at most `max_blocks` blocks and
/// [`MESSAGE_CHARS_MAX`] characters, in order.
fn paginate(blocks: Vec<(SlackBlock, usize)>, max_blocks: usize) -> Vec<Vec<SlackBlock>> {
    let mut pages: Vec<Vec<SlackBlock>> = Vec::new();
    let (mut page, mut chars) = (Vec::new(), 0);
    for (block, size) in blocks {
        if !page.is_empty() && (page.len() == max_blocks || chars + size > MESSAGE_CHARS_MAX) {
            pages.push(std::mem::take(&mut page));
            chars = 0;
        }
        chars += size;
        page.push(block);
    }
    if !page.is_empty() {
        pages.push(page);
    }
    pages
}

fn section(text: &Mrkdwn, fields: &[Mrkdwn]) -> Vec<(SlackBlock, usize)> {
    let mut out: Vec<(SlackBlock, usize)> = split_lines(text.as_str(), SECTION_MAX)
        .into_iter()
        .map(|chunk| {
            let size = chunk.chars().count();
            (SlackSectionBlock::new().with_text(md(chunk)).into(), size)
        })
        .collect();
    let fields: Vec<String> = fields.iter().flat_map(|f| split_lines(f.as_str(), FIELD_MAX)).collect();
    for group in fields.chunks(FIELDS_MAX) {
        let size = group.iter().map(|f| f.chars().count()).sum();
        let fields = group.iter().cloned().map(md).collect();
        out.push((SlackSectionBlock::new().with_fields(fields).into(), size));
    }
    out
}

/// Context elements, already mrkdwn.
fn context(parts: &[String]) -> (SlackBlock, usize) {
    let size = parts.iter().map(|p| p.chars().count()).sum();
    let elements =
        parts.iter().map(|p| SlackContextBlockElement::MarkDown(SlackBlockMarkDownText::new(p.clone()))).collect();
    (SlackContextBlock::new(elements).into(), size)
}

/// Buttons carry the change id and parameter hash, or a command line, in `value` (see `Press`).
fn actions(buttons: &[Button]) -> (SlackBlock, usize) {
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
    (SlackActionsBlock::new(elements).into(), buttons.iter().map(|b| b.label.chars().count()).sum())
}

fn md(text: String) -> SlackBlockText {
    SlackBlockText::MarkDown(SlackBlockMarkDownText::new(text))
}

/// Splits text into chunks of at most `max` characters, at line breaks when
/// possible; a longer line is wrapped ([`wrap`]). A code block that a split
/// leaves open is closed at the end of its chunk and opened again at the
/// start of the next, so each chunk renders on its own. Empty text gives no
/// chunk (Slack refuses empty sections).
fn split_lines(text: &str, max: usize) -> Vec<String> {
    // Room for the fences a chunk may gain.
    let budget = max - 2 * (FENCE.len() + 1);
    let mut chunks: Vec<String> = Vec::new();
    let mut current = String::new();
    for piece in text.lines().flat_map(|line| wrap(line, budget)) {
        if !current.is_empty() && current.chars().count() + 1 + piece.chars().count() > budget {
            chunks.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push('\n');
        }
        current.push_str(&piece);
    }
    if !current.trim().is_empty() {
        chunks.push(current);
    }
    let mut open = false;
    for chunk in &mut chunks {
        let toggles = chunk.matches(FENCE).count() % 2 == 1;
        if open {
            chunk.insert_str(0, &format!("{FENCE}\n"));
        }
        open ^= toggles;
        if open {
            chunk.push_str(&format!("\n{FENCE}"));
        }
    }
    chunks
}

/// A line cut into pieces of at most `max` characters: after the last space
/// in a piece's second half when there is one, and never inside an escaped
/// entity (`&amp;`).
fn wrap(line: &str, max: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut rest: Vec<char> = line.chars().collect();
    while rest.len() > max {
        let mut cut = max;
        if let Some(space) = rest[max / 2..max].iter().rposition(|c| *c == ' ') {
            cut = max / 2 + space + 1;
        } else if let Some(amp) = rest[max.saturating_sub(8)..max].iter().rposition(|c| *c == '&') {
            let at = max.saturating_sub(8) + amp;
            if !rest[at..max].contains(&';') && at > 0 {
                cut = at;
            }
        }
        pieces.push(rest.drain(..cut).collect());
    }
    pieces.push(rest.into_iter().collect());
    pieces
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
    fn an_edit_in_place_that_cannot_hold_every_block_says_how_many_are_not_shown() {
        let mut reply = Reply::in_channel("f");
        for i in 0..60 {
            reply = reply.section(mrkdwn!("s{}", i));
        }
        let json = rendered(&reply);
        assert_eq!(json.as_array().unwrap().len(), BLOCKS_MAX);
        assert!(json[BLOCKS_MAX - 1]["elements"][0]["text"].as_str().unwrap().contains("11 more blocks"));
    }

    /// The text of every section of `message`, in order.
    fn section_texts(message: &SlackMessageContent) -> Vec<String> {
        let json = serde_json::to_value(message).unwrap();
        let blocks = json["blocks"].as_array().unwrap().clone();
        blocks.iter().filter_map(|b| b["text"]["text"].as_str().map(str::to_owned)).collect()
    }

    #[test]
    fn a_reply_too_long_for_one_message_continues_in_more_that_hold_every_line_in_order() {
        let text = (0..2000).map(|i| format!("• `/shop/prod/key-{i:04}` = `value {i}`")).collect::<Vec<_>>().join("\n");
        let messages = messages(&Reply::in_channel("Parameters").section(Mrkdwn::text(&text)));

        assert!(messages.len() > 1, "{} messages", messages.len());
        let mut joined = Vec::new();
        for (n, message) in messages.iter().enumerate() {
            let blocks = message.blocks.as_ref().unwrap();
            let texts = section_texts(message);
            assert!(blocks.len() <= BLOCKS_MAX);
            assert!(texts.iter().map(|t| t.chars().count()).sum::<usize>() <= MESSAGE_CHARS_MAX);
            let expected =
                if n == 0 { "Parameters".to_owned() } else { format!("(continued, {} of {})", n + 1, messages.len()) };
            assert_eq!(message.text.as_deref(), Some(expected.as_str()));
            joined.extend(texts);
        }
        assert_eq!(joined.join("\n"), Mrkdwn::text(&text).as_str(), "nothing lost, nothing out of order");
    }

    #[test]
    fn a_line_longer_than_a_section_is_wrapped_at_spaces_not_cut() {
        let line = (0..1000).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ");
        let json = rendered_json(&line);
        let pieces: Vec<&str> = json.iter().map(|s| s.as_str()).collect();
        assert!(pieces.len() > 1 && pieces.iter().all(|p| p.chars().count() <= SECTION_MAX));
        assert!(pieces.iter().all(|p| p.ends_with(' ') || p.ends_with("w999")), "cut inside a word");
        assert_eq!(pieces.concat(), line);
    }

    fn rendered_json(text: &str) -> Vec<String> {
        messages(&Reply::in_channel("f").section(Mrkdwn::text(text))).iter().flat_map(section_texts).collect()
    }

    #[test]
    fn a_code_block_split_across_sections_is_closed_and_opened_again() {
        let output = (0..400).map(|i| format!("output line {i:03} of the command")).collect::<Vec<_>>().join("\n");
        let texts = rendered_json(&format!("Output of `i-1`:\n```\n{output}\n```"));
        assert!(texts.len() > 1);
        for text in &texts {
            assert_eq!(text.matches(FENCE).count() % 2, 0, "an unclosed code block:\n{text}");
        }
        assert!(texts[1].starts_with("```\n"), "{}", &texts[1][..40]);
    }

    #[test]
    fn a_long_escaped_run_is_never_cut_inside_an_entity() {
        let pieces = wrap(&"&amp;".repeat(1000), SECTION_MAX);
        assert!(pieces.len() > 1);
        assert!(pieces.iter().all(|p| p.starts_with("&amp;") && p.ends_with(';')), "an entity was split");
    }

    #[test]
    fn extra_context_elements_long_fields_and_long_headers_are_all_kept() {
        let parts: Vec<Mrkdwn> = (0..13).map(|i| mrkdwn!("c{}", i)).collect();
        let header = "h".repeat(HEADER_MAX + 1);
        let field = "f".repeat(FIELD_MAX + 10);
        let json = rendered(
            &Reply::in_channel("f").header(&header).context(parts).fields(Mrkdwn::new(), vec![Mrkdwn::text(&field)]),
        );
        assert_eq!(json[0]["type"], "section", "a header too long for one is a bold section");
        assert_eq!(json[0]["text"]["text"], format!("*{header}*"));
        assert_eq!(json[1]["elements"].as_array().unwrap().len(), 10);
        assert_eq!(json[2]["elements"].as_array().unwrap().len(), 3);
        let fields = json[3]["fields"].as_array().unwrap();
        let kept: String = fields.iter().map(|f| f["text"].as_str().unwrap()).collect();
        assert_eq!(kept, field);
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
