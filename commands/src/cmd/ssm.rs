//! What the SSM change commands (`param set`, `param rollback`, `automation
//! run`, `automation status`, `run`) share besides their typed arguments
//! (those are values, in [`crate::values::ssm`]) and the [`super::memo::Memo`]
//! through which `act` tells `check` what it started: how command output is
//! made fit to show — secrets redacted, then cut to fit a message.

use crate::text::redact;

/// Lines kept from each end of a long output.
const KEEP_LINES: usize = 20;

/// Command output fit to show: credentials redacted ([`redact`]: scripts echo
/// environment values and tokens, and output goes to a channel), then cut to
/// the first and last [`KEEP_LINES`] lines and at most `max` characters (head
/// and tail halves), with a note saying what was cut. Redacted before it is
/// cut, so a cut cannot leave half a secret unrecognised.
pub fn trim_output(raw: &str, max: usize) -> String {
    let redacted: Vec<String> = raw.trim_end().lines().map(|line| redact(line, &[])).collect();
    let lines: Vec<&str> = redacted.iter().map(String::as_str).collect();
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
}
