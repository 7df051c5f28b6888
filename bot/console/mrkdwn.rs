//! Slack mrkdwn → text a terminal shows well.
//!
//! Decisions (chosen for readability, applied everywhere):
//! - `*bold*`, `_italic_` and `~strike~` lose their markers: they only style.
//! - `` `code` `` keeps its backticks: it marks literal text (commands, ids,
//!   values) whose boundaries matter, e.g. a value with spaces. Nothing inside
//!   code is converted, except entities.
//! - ```` ```block``` ```` loses its fences, keeping its lines as they are.
//! - `<url|label>` → `label (url)`, `<url>` → `url`, `<@U1|ann>` → `@ann`,
//!   `<#C1|ops>` → `#ops`, `<!here>` → `@here`.
//! - Emoji shortcodes the commands use become one-character symbols
//!   ([`EMOJI`]); unknown ones stay as typed.
//! - A `>` quote line starts with `│ ` instead.
//! - `&amp;`, `&lt;`, `&gt;` are unescaped last, so escaped text from AWS
//!   (`&lt;!channel&gt;`) is shown, never taken for markup.
//!
//! Emphasis follows Slack's word-boundary rule, so `snake_case`, `a*b` and
//! `12:30:00` are left alone.

use opsbot_commands::mrkdwn::unesc;

/// Shortcode → symbol, for the emoji opsbot's replies use.
pub const EMOJI: &[(&str, &str)] = &[
    ("white_check_mark", "✓"),
    ("heavy_check_mark", "✓"),
    ("large_green_circle", "✓"),
    ("green_circle", "✓"),
    ("x", "✗"),
    ("red_circle", "✗"),
    ("no_entry", "✗"),
    ("no_entry_sign", "✗"),
    ("arrows_counterclockwise", "⟳"),
    ("repeat", "⟳"),
    ("hourglass", "⧗"),
    ("hourglass_flowing_sand", "⧗"),
    ("raised_hand", "⧗"),
    ("warning", "!"),
    ("page_facing_up", "≡"),
    ("rotating_light", "!"),
    ("boom", "!"),
    ("electric_plug", "!"),
    ("lock", "!"),
    ("snail", "!"),
    ("bell", "!"),
    ("mag", "?"),
    ("grey_question", "?"),
    ("question", "?"),
    ("large_yellow_circle", "?"),
    ("yellow_circle", "?"),
    ("white_circle", "○"),
    ("black_square_for_stop", "■"),
    ("fast_forward", "»"),
    // The change flow's: approval asked, given, refused, cancelled, nothing to do.
    ("raising_hand", "?"),
    ("ok_hand", "✓"),
    ("octagonal_sign", "✗"),
    ("wastebasket", "✗"),
    ("information_source", "i"),
    ("floppy_disk", "!"),
    ("zzz", "–"),
    // Notifications: acknowledged, flapping, anything else AWS said.
    ("eyes", "✓"),
    ("ocean", "~"),
    ("mailbox_with_mail", "✉"),
    ("key", "•"),
    ("gear", "⟳"),
];

/// Readable text for a piece of mrkdwn.
pub fn to_text(mrkdwn: &str) -> String {
    let quoted: Vec<String> = mrkdwn.split('\n').map(quote).collect();
    unesc(&convert(&quoted.join("\n").chars().collect::<Vec<_>>()))
}

/// A `>` quote line gets a bar, so it is not taken for a prompt.
fn quote(line: &str) -> String {
    match line.strip_prefix('>') {
        Some(rest) => format!("│ {}", rest.strip_prefix(' ').unwrap_or(rest)),
        None => line.to_owned(),
    }
}

fn convert(chars: &[char]) -> String {
    let mut out = String::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let next = match chars[i] {
            '`' => code(chars, i, &mut out),
            '<' => link(chars, i, &mut out),
            '*' | '_' | '~' => emphasis(chars, i, &mut out),
            ':' => emoji(chars, i, &mut out),
            _ => None,
        };
        i = next.unwrap_or_else(|| {
            out.push(chars[i]);
            i + 1
        });
    }
    out
}

/// Index of the first `want` at or after `from`, before any newline unless
/// `multiline`.
fn find(chars: &[char], from: usize, want: &[char], multiline: bool) -> Option<usize> {
    (from..chars.len()).take_while(|&j| multiline || chars[j] != '\n').find(|&j| chars[j..].starts_with(want))
}

fn code(chars: &[char], i: usize, out: &mut String) -> Option<usize> {
    if chars[i..].starts_with(&['`'; 3]) {
        let end = find(chars, i + 3, &['`'; 3], true)?;
        out.extend(chars[i + 3..end].iter().skip_while(|c| **c == '\n'));
        return Some(end + 3);
    }
    let end = find(chars, i + 1, &['`'], false)?;
    out.extend(&chars[i..=end]);
    Some(end + 1)
}

fn link(chars: &[char], i: usize, out: &mut String) -> Option<usize> {
    let end = find(chars, i + 1, &['>'], false)?;
    let inner: String = chars[i + 1..end].iter().collect();
    let (target, label) = match inner.split_once('|') {
        Some((target, label)) => (target, Some(label)),
        None => (inner.as_str(), None),
    };
    let label = label.map(|l| convert(&l.chars().collect::<Vec<_>>()));
    let shown = match (target.chars().next(), label) {
        (Some('@'), Some(label)) => format!("@{}", label.trim_start_matches('@')),
        (Some('#'), Some(label)) => format!("#{label}"),
        (Some('@' | '#'), None) => target.to_owned(),
        (Some('!'), Some(label)) => label,
        (Some('!'), None) => format!("@{}", &target[1..]),
        (_, Some(label)) if label != target => format!("{label} ({target})"),
        _ => target.to_owned(),
    };
    out.push_str(&shown);
    Some(end + 1)
}

fn opens(prev: Option<char>) -> bool {
    prev.is_none_or(|c| c.is_whitespace() || "([{\"'“‘*_~".contains(c))
}

fn closes(next: Option<char>) -> bool {
    next.is_none_or(|c| c.is_whitespace() || ".,;:!?)]}\"'”’*_~-/".contains(c))
}

fn emphasis(chars: &[char], i: usize, out: &mut String) -> Option<usize> {
    let marker = chars[i];
    let first = *chars.get(i + 1)?;
    if !opens(i.checked_sub(1).map(|p| chars[p])) || first.is_whitespace() || first == marker {
        return None;
    }
    let end = (i + 2..chars.len())
        .take_while(|&j| chars[j] != '\n')
        .find(|&j| chars[j] == marker && !chars[j - 1].is_whitespace() && closes(chars.get(j + 1).copied()))?;
    out.push_str(&convert(&chars[i + 1..end]));
    Some(end + 1)
}

fn emoji(chars: &[char], i: usize, out: &mut String) -> Option<usize> {
    let name_char = |c: &char| c.is_ascii_lowercase() || c.is_ascii_digit() || "_+-".contains(*c);
    let len = chars[i + 1..].iter().take(48).take_while(|c| name_char(c)).count();
    if len == 0 || chars.get(i + 1 + len) != Some(&':') {
        return None;
    }
    let name: String = chars[i + 1..=i + len].iter().collect();
    match EMOJI.iter().find(|(code, _)| *code == name) {
        Some((_, symbol)) => out.push_str(symbol),
        None => out.push_str(&format!(":{name}:")),
    }
    Some(i + len + 2)
}

#[cfg(test)]
mod tests {
    use super::to_text;

    #[test]
    fn links_show_their_label_and_address() {
        assert_eq!(to_text("see <https://x.test/a?b=1&amp;c=2|the build>"), "see the build (https://x.test/a?b=1&c=2)");
        assert_eq!(to_text("<https://x.test>"), "https://x.test");
        assert_eq!(to_text("<@U123|maria> in <#C9|ops> <!here>"), "@maria in #ops @here");
    }

    #[test]
    fn emphasis_markers_go_and_code_markers_stay() {
        assert_eq!(
            to_text("*storefront-web* is _failing_, see `pipeline *x*`"),
            "storefront-web is failing, see `pipeline *x*`"
        );
        assert_eq!(to_text("*User*\n`U1`"), "User\n`U1`");
        assert_eq!(to_text("~old~ new"), "old new");
    }

    #[test]
    fn markers_inside_words_are_left_alone() {
        assert_eq!(to_text("max_conn_pool and a*b*c and 2 * 3 * 4"), "max_conn_pool and a*b*c and 2 * 3 * 4");
        assert_eq!(to_text("*unclosed and _also"), "*unclosed and _also");
    }

    #[test]
    fn known_emoji_become_symbols_and_unknown_ones_stay() {
        assert_eq!(to_text(":x: failed :white_check_mark: ok :arrows_counterclockwise: busy"), "✗ failed ✓ ok ⟳ busy");
        assert_eq!(to_text(":warning: hm :mag: :party_parrot:"), "! hm ? :party_parrot:");
        assert_eq!(to_text("at 12:30:45, see https://x"), "at 12:30:45, see https://x");
    }

    #[test]
    fn escaped_text_is_shown_not_interpreted() {
        assert_eq!(to_text("&lt;!channel&gt; &amp;lt; *a &amp; b*"), "<!channel> &lt; a & b");
    }

    #[test]
    fn quotes_get_a_bar() {
        assert_eq!(to_text("Waiting\n>Check staging &gt; first"), "Waiting\n│ Check staging > first");
    }

    #[test]
    fn code_blocks_lose_their_fences() {
        assert_eq!(to_text("log:\n```\nnpm ERR! *x*\n```"), "log:\nnpm ERR! *x*\n");
    }
}
