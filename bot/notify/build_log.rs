//! Why a CodeBuild action failed, shown in its pipeline execution's thread:
//! the last lines of the build's CloudWatch Logs stream, with links to the
//! build and to the stream.
//!
//! - [`BuildLogs`]: the port the notifier reads a failed build through
//!   (implemented in `bot/aws/codebuild.rs` and by the sandbox);
//! - [`BuildLog`]: what it returns — names, links and raw lines;
//! - [`explain`] / [`unreadable`]: the thread reply, pure.
//!
//! # Decisions
//! - Secrets never reach the channel: the build's environment variables are
//!   never shown, and every line is redacted before it is shown — AWS access
//!   key ids, Slack tokens, bearer tokens, `password=`/`secret=`/`token=`-style
//!   values, and verbatim any value the gateway marks sensitive (the build's
//!   Parameter Store / Secrets Manager variables, and plaintext ones whose
//!   name says secret) — by `opsbot_commands::text::redact`, the one
//!   redactor, which Run Command and Automation follow-ups use too.
//! - Lines are trimmed (colour codes stripped, each at most [`LINE_MAX`]
//!   characters) and the oldest dropped until the whole reply fits one Slack
//!   section; a line of ``` cannot end the code block early.
//! - A log that cannot be read (access denied, throttled, gone) is said so in
//!   the thread: the notification itself never fails because of it.

use std::sync::LazyLock;

use async_trait::async_trait;
use opsbot_commands::error::GatewayError;
use opsbot_commands::mrkdwn;
use opsbot_commands::mrkdwn::{Mrkdwn, esc};
use opsbot_commands::text::{one_line, redact, truncate};
use regex::Regex;

/// A shown line's most characters.
pub const LINE_MAX: usize = 200;

/// The reply's most characters: one Slack section (3000; a longer one is
/// split between lines, which would cut the code block in two).
const SECTION_MAX: usize = 2990;

/// Reads failed builds.
#[async_trait]
pub trait BuildLogs: Send + Sync {
    /// Build `id`'s record and the last `lines` lines of its log.
    async fn failed_build(&self, id: &str, lines: usize) -> Result<BuildLog, GatewayError>;
}

/// One build and the end of its log, as read (not yet redacted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildLog {
    pub id: String,
    pub project: String,
    /// Where its log is; `None` for a build that has no CloudWatch Logs stream.
    pub stream: Option<LogStream>,
    /// The phase that failed and what CodeBuild said about it.
    pub failed_phase: Option<String>,
    pub phase_message: Option<String>,
    /// The build's page in the console.
    pub build_link: Option<String>,
    /// The last lines of the log, oldest first.
    pub lines: Vec<String>,
    /// Values that must not be shown even verbatim (see the module's decisions).
    pub sensitive: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogStream {
    pub group: String,
    pub name: String,
    /// The stream's page in the CloudWatch console.
    pub link: Option<String>,
}

/// The console page of build `id` (`project:uuid`) in `region`.
pub fn build_console_url(region: &str, project: &str, id: &str) -> String {
    format!(
        "https://{region}.console.aws.amazon.com/codesuite/codebuild/projects/{}/build/{}/?region={region}",
        uri_component(project),
        uri_component(id)
    )
}

/// The CloudWatch console page of a log stream: its fragment encodes each
/// name as a URI component whose `%` is written `$25`, as the console does.
pub fn log_stream_console_url(region: &str, group: &str, stream: &str) -> String {
    let fragment = |name: &str| uri_component(name).replace('%', "$25");
    format!(
        "https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#logsV2:log-groups/log-group/{}/log-events/{}",
        fragment(group),
        fragment(stream)
    )
}

/// `encodeURIComponent`: everything but letters, digits and `-_.!~*'()`.
fn uri_component(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The thread reply for a failed build of `action`.
pub fn explain(action: &str, log: &BuildLog) -> Mrkdwn {
    let phase = match (&log.failed_phase, &log.phase_message) {
        (Some(phase), Some(message)) => mrkdwn!(" in phase {}: {}", phase, truncate(&one_line(message), 300)),
        (Some(phase), None) => mrkdwn!(" in phase {}", phase),
        _ => Mrkdwn::new(),
    };
    let build = Mrkdwn::link(log.build_link.as_deref(), &log.id).unwrap_or_else(|| mrkdwn!("`{}`", log.id));
    let mut text = mrkdwn!(":page_facing_up: *{}* build {}{}", action, build, phase);
    let Some(stream) = &log.stream else {
        text.push(mrkdwn!("\nThe build wrote no CloudWatch Logs stream."));
        return text;
    };
    // The heading's length is known before the lines: they get what is left.
    let heading = text.len() + stream_label(stream).len() + 40;
    let shown = shown_lines(&log.lines, &log.sensitive, SECTION_MAX.saturating_sub(heading));
    if shown.is_empty() {
        text.push(mrkdwn!("\nIts log ({}) is empty.", stream_label(stream)));
    } else {
        text.push(mrkdwn!("\nLast {} of its log ({}):\n", lines_noun(shown.len()), stream_label(stream)));
        text.push(code_block(&shown));
    }
    text
}

/// The thread reply when the build or its log could not be read.
pub fn unreadable(action: &str, build: &str, err: &GatewayError) -> Mrkdwn {
    mrkdwn!(":warning: *{}* build `{}`: couldn't read the build log: {}", action, build, reason(err))
}

fn reason(err: &GatewayError) -> String {
    match err {
        GatewayError::AccessDenied { message } => format!(
            "access denied ({message}): grant the bot \
             codebuild:BatchGetBuilds and logs:GetLogEvents (see `opsbot iam-policy`)"
        ),
        GatewayError::Throttled => "AWS throttled the request; the log is still in CloudWatch".into(),
        other => one_line(&other.to_string()),
    }
}

fn stream_label(stream: &LogStream) -> Mrkdwn {
    Mrkdwn::link(stream.link.as_deref(), format!("{}/{}", stream.group, stream.name))
        .unwrap_or_else(|| mrkdwn!("`{}/{}`", stream.group, stream.name))
}

fn lines_noun(n: usize) -> String {
    if n == 1 { "line".into() } else { format!("{n} lines") }
}

/// The lines to show: redacted, trimmed, the newest that fit in `budget`
/// characters of code block (fences included).
pub fn shown_lines(lines: &[String], sensitive: &[String], budget: usize) -> Vec<String> {
    let mut kept = Vec::new();
    let mut size = "```\n\n```".len();
    for line in lines.iter().rev() {
        let line = truncate(redact(&strip_colours(line), sensitive).trim_end(), LINE_MAX);
        // Measured as sent: escaping can make a line of `<` four times longer.
        size += esc(&line).len() + 1;
        if size > budget {
            break;
        }
        kept.push(line);
    }
    kept.reverse();
    // Blank lines at either end say nothing.
    let start = kept.iter().position(|l| !l.trim().is_empty()).unwrap_or(kept.len());
    let end = kept.iter().rposition(|l| !l.trim().is_empty()).map_or(start, |i| i + 1);
    kept[start..end].to_vec()
}

fn code_block(lines: &[String]) -> Mrkdwn {
    // A line's own ``` would close the block and show the rest as markup.
    let body = lines.iter().map(|l| l.replace("```", "'''")).collect::<Vec<_>>().join("\n");
    mrkdwn!("```\n{}\n```", body)
}

static COLOURS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\x1b\[[0-9;?]*[A-Za-z]").expect("valid regex"));

fn strip_colours(line: &str) -> String {
    COLOURS.replace_all(line, "").into_owned()
}

#[cfg(test)]
#[path = "build_log_tests.rs"]
mod tests;
