//! A [`Reply`] as terminal text — the console's counterpart of Block Kit.
//!
//! - Header: its text, underlined with `═`.
//! - Section: its mrkdwn made readable ([`super::mrkdwn`]), then its fields
//!   two per line in columns, as Slack lays them out.
//! - Context: indented, parts joined with ` · `.
//! - Divider: a rule of `─`.
//! - Buttons: on one line, each as the caller labels it — `[Confirm]` by
//!   default, `[1] Confirm` when the console numbers them as choices.
//! - A reply with no blocks shows its fallback, plain text as it is; an ephemeral one ends
//!   with a note that in Slack only the requester sees it.
//!
//! No ANSI colours or dimming: the output must read the same in a pipe, a
//! log file or a test assertion. Context is set apart by indentation instead.

use opsbot_commands::reply::Button;
use opsbot_commands::{Block, Mrkdwn, Reply, Visibility};

use super::mrkdwn::to_text;

const RULE_WIDTH: usize = 48;
/// Fields wider than this push their neighbour right instead of widening the column.
const MAX_COLUMN: usize = 44;
const INDENT: &str = "  ";

/// The reply as plain text lines, without a trailing newline.
pub fn render(reply: &Reply) -> String {
    render_with(reply, &mut |b| format!("[{}]", b.label))
}

/// [`render`], with each button shown as `button` says.
pub fn render_with(reply: &Reply, button: &mut dyn FnMut(&Button) -> String) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut previous: Option<&Block> = None;
    for block in &reply.blocks {
        if matches!((previous, block), (Some(Block::Section { .. }), Block::Section { .. })) {
            lines.push(String::new());
        }
        lines.extend(render_block(block, button));
        previous = Some(block);
    }
    if reply.blocks.is_empty() {
        lines.push(reply.fallback.clone());
    }
    if reply.visibility == Visibility::Ephemeral {
        lines.push(format!("{INDENT}(only you see this reply in Slack)"));
    }
    lines.join("\n")
}

fn render_block(block: &Block, button: &mut dyn FnMut(&Button) -> String) -> Vec<String> {
    match block {
        Block::Header(text) => {
            let text = to_text(text);
            let underline = "═".repeat(width(&text));
            vec![text, underline]
        }
        Block::Section { text, fields } => {
            let text = text.as_str();
            let mut lines: Vec<String> = if text.trim().is_empty() { Vec::new() } else { vec![to_text(text)] };
            lines.extend(columns(fields));
            lines
        }
        Block::Context(parts) => {
            let joined = parts.iter().map(|p| to_text(p.as_str())).collect::<Vec<_>>().join(" · ");
            joined.lines().map(|l| format!("{INDENT}{l}")).collect()
        }
        Block::Divider => vec!["─".repeat(RULE_WIDTH)],
        Block::Buttons(buttons) => vec![buttons.iter().map(button).collect::<Vec<_>>().join("  ")],
    }
}

/// Fields two per line: the left column is as wide as its widest line
/// (up to [`MAX_COLUMN`]); multi-line fields stay side by side.
fn columns(fields: &[Mrkdwn]) -> Vec<String> {
    let fields: Vec<String> = fields.iter().map(|f| to_text(f.as_str())).collect();
    let left_width = fields.iter().step_by(2).flat_map(|f| f.lines()).map(width).max().unwrap_or(0).min(MAX_COLUMN);
    let mut out = Vec::new();
    for pair in fields.chunks(2) {
        let left: Vec<&str> = pair[0].lines().collect();
        let right: Vec<&str> = pair.get(1).map(|r| r.lines().collect()).unwrap_or_default();
        for row in 0..left.len().max(right.len()) {
            let l = left.get(row).copied().unwrap_or("");
            let line = match right.get(row) {
                Some(r) => format!("{l}{}   {r}", " ".repeat(left_width.saturating_sub(width(l)))),
                None => l.to_owned(),
            };
            out.push(line);
        }
    }
    out
}

fn width(text: &str) -> usize {
    text.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsbot_commands::mrkdwn;

    #[test]
    fn headers_are_underlined_and_context_is_indented() {
        let reply = Reply::in_channel("x")
            .header("Pipelines")
            .section(mrkdwn!(":x: *web* — Failed"))
            .context(vec![mrkdwn!("1 failed"), mrkdwn!("`pipeline NAME` for details")]);
        assert_eq!(render(&reply), "Pipelines\n═════════\n✗ web — Failed\n  1 failed · `pipeline NAME` for details");
    }

    #[test]
    fn fields_are_laid_out_two_per_line() {
        let reply = Reply::in_channel("x").fields(
            Mrkdwn::new(),
            vec![mrkdwn!("*User*\n`U1` (ann)"), mrkdwn!("*Channel*\n`C1`"), mrkdwn!("*Status*\nOK")],
        );
        let expected = "User         Channel\n`U1` (ann)   `C1`\nStatus\nOK";
        assert_eq!(render(&reply), expected);
    }

    #[test]
    fn dividers_are_rules_and_consecutive_sections_get_air() {
        let reply = Reply::in_channel("x").section(mrkdwn!("a")).section(mrkdwn!("b")).divider().section(mrkdwn!("c"));
        assert_eq!(render(&reply), format!("a\n\nb\n{}\nc", "─".repeat(RULE_WIDTH)));
    }

    #[test]
    fn ephemeral_replies_say_who_sees_them_and_empty_ones_show_the_plain_fallback_as_it_is() {
        let text = render(&Reply::ephemeral("Nothing to show for <a&b> *yet*"));
        assert_eq!(text, "Nothing to show for <a&b> *yet*\n  (only you see this reply in Slack)");
    }

    #[test]
    fn escaped_markup_from_outside_is_shown_as_typed_not_taken_for_markup() {
        let reply = Reply::in_channel("x").section(mrkdwn!("*{}* & {}", "<!here>", "<https://evil|review>"));
        assert_eq!(render(&reply), "<!here> & <https://evil|review>");
    }
}
