//! The words the pipeline change commands share: `--timeout`,
//! `--execution`, unknown options, stage and action names, and how the Slack
//! user is named in what AWS keeps (approval summaries, stop reasons).
//!
//! `--execution ID` names the pipeline execution a change acts on. People
//! rarely type it: a plan pins the execution it showed by writing it into
//! the command line that is confirmed, approved and run (see
//! `ChangeCommand::pinned`), so the change refuses to act on another one.

use std::time::Duration;

use crate::context::Context;
use crate::error::UsageError;
use crate::text::truncate;

use super::pipeline_follow::DEFAULT_TIMEOUT;

const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// The Slack user as AWS will keep them: `Dana (U0DEV)`, or the id alone.
pub fn slack_user(ctx: &Context) -> String {
    match ctx.user_name.as_deref().filter(|n| !n.is_empty()) {
        Some(name) => format!("{} ({})", truncate(name, 60), ctx.user),
        None => format!("Slack user {}", ctx.user),
    }
}

/// A stage or action name: `[A-Za-z0-9.@_-]{1,100}`, as CodePipeline allows.
pub fn stage_or_action(what: &str, raw: &str) -> Result<String, UsageError> {
    let ok = |c: char| c.is_ascii_alphanumeric() || ".@_-".contains(c);
    if raw.is_empty() || raw.len() > 100 || !raw.chars().all(ok) {
        return Err(UsageError::invalid(what, raw, "letters, digits and . @ _ - (up to 100), e.g. `Build`"));
    }
    Ok(raw.to_owned())
}

/// Takes `--timeout 90m` (or `--timeout=90m`) out of `args`: the rest, and the timeout.
pub fn take_timeout(args: &[String]) -> Result<(Vec<String>, Duration), UsageError> {
    let mut rest = Vec::new();
    let mut timeout = None;
    let mut words = args.iter();
    while let Some(word) = words.next() {
        let value = match word.strip_prefix("--timeout") {
            Some("") => words.next().ok_or_else(|| UsageError::new("`--timeout` needs a duration, e.g. `90m`"))?,
            Some(eq) if eq.starts_with('=') => &eq[1..],
            _ => {
                rest.push(word.clone());
                continue;
            }
        };
        timeout = Some(parse_timeout(value)?);
    }
    Ok((rest, timeout.unwrap_or(DEFAULT_TIMEOUT)))
}

/// The option that names an execution.
pub const EXECUTION: &str = "--execution";

/// A pipeline execution id: `[A-Za-z0-9-]{1,100}` (CodePipeline's are UUIDs).
pub fn execution_id(raw: &str) -> Result<String, UsageError> {
    let ok = |c: char| c.is_ascii_alphanumeric() || c == '-';
    if raw.is_empty() || raw.len() > 100 || !raw.chars().all(ok) {
        return Err(UsageError::invalid(
            "execution id",
            raw,
            "an id from `pipeline NAME`, e.g. `3137f7cb-8d49-4a9d-bd7f-a9e1f3e3b1c2`",
        ));
    }
    Ok(raw.to_owned())
}

/// Takes `--execution ID` (or `--execution=ID`) out of `args`: the rest, and the id.
pub fn take_execution(args: &[String]) -> Result<(Vec<String>, Option<String>), UsageError> {
    let mut rest = Vec::new();
    let mut execution = None;
    let mut words = args.iter();
    while let Some(word) = words.next() {
        let value = match word.strip_prefix(EXECUTION) {
            Some("") => words.next().ok_or_else(needs_an_id)?,
            Some(eq) if eq.starts_with('=') => &eq[1..],
            _ => {
                rest.push(word.clone());
                continue;
            }
        };
        if execution.is_some() {
            return Err(UsageError::new(format!("`{EXECUTION}` is given twice: name one execution")));
        }
        execution = Some(execution_id(value)?);
    }
    Ok((rest, execution))
}

/// The error for `--execution` without an id.
pub fn needs_an_id() -> UsageError {
    UsageError::new(format!(
        "`{EXECUTION}` needs an execution id, e.g. `{EXECUTION} 3137f7cb-8d49-4a9d-bd7f-a9e1f3e3b1c2`"
    ))
}

/// ` --timeout 90m` as the commands read it back, or nothing for `default`.
pub fn timeout_words(timeout: Duration, default: Duration) -> String {
    let secs = timeout.as_secs();
    match secs {
        _ if timeout == default => String::new(),
        _ if secs.is_multiple_of(3600) => format!(" --timeout {}h", secs / 3600),
        _ if secs.is_multiple_of(60) => format!(" --timeout {}m", secs / 60),
        _ => format!(" --timeout {secs}s"),
    }
}

/// `45m`, `2h`, `90s`: from a minute to a day.
fn parse_timeout(raw: &str) -> Result<Duration, UsageError> {
    let invalid = || UsageError::invalid("timeout", raw, "minutes or hours such as `30m` or `2h` (1m to 24h)");
    let timeout = opsbot_policies::parse_duration(raw).ok_or_else(invalid)?;
    (Duration::from_secs(60)..=MAX_TIMEOUT).contains(&timeout).then_some(timeout).ok_or_else(invalid)
}

/// Rejects options a command does not know (`--abandon` on start, typos).
pub fn no_other_options(args: &[String], known: &[&str]) -> Result<(), UsageError> {
    match args.iter().find(|a| a.starts_with("--") && !known.contains(&a.as_str())) {
        Some(unknown) => Err(UsageError::new(format!("unknown option `{}`", truncate(unknown, 40)))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::ctx;

    fn words(text: &str) -> Vec<String> {
        text.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn a_timeout_is_minutes_or_hours_from_a_minute_to_a_day() {
        let (rest, timeout) = take_timeout(&words("web --timeout 45m")).unwrap();
        assert_eq!((rest, timeout), (words("web"), Duration::from_secs(45 * 60)));
        assert_eq!(take_timeout(&words("--timeout=24h web")).unwrap().1, MAX_TIMEOUT);
        assert_eq!(take_timeout(&words("web")).unwrap().1, DEFAULT_TIMEOUT);
        assert_eq!(take_timeout(&words("web --timeout 90s")).unwrap().1, Duration::from_secs(90));
        for bad in ["--timeout 59s", "--timeout 2d", "--timeout -1m", "--timeout 1.5h", "--timeout=", "--timeout ñ"] {
            assert!(take_timeout(&words(&format!("web {bad}"))).is_err(), "{bad}");
        }
    }

    #[test]
    fn stage_and_action_names_follow_codepipelines_rules() {
        assert_eq!(stage_or_action("stage name", "Deploy-eu.1@x_y").unwrap(), "Deploy-eu.1@x_y");
        for bad in ["", "a b", "a/b", "<!here>", &"x".repeat(101)] {
            assert!(stage_or_action("stage name", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_slack_user_is_named_with_their_id() {
        assert_eq!(slack_user(&ctx()), "dev (U0DEV)");
        assert_eq!(slack_user(&Context { user_name: Some(String::new()), ..ctx() }), "Slack user U0DEV");
    }

    #[test]
    fn an_execution_is_named_once_with_a_valid_id() {
        let (rest, id) = take_execution(&words("web --execution exec-1 --abandon")).unwrap();
        assert_eq!((rest, id.as_deref()), (words("web --abandon"), Some("exec-1")));
        assert_eq!(take_execution(&words("web --execution=e-2")).unwrap().1.as_deref(), Some("e-2"));
        assert_eq!(take_execution(&words("web")).unwrap().1, None);
        assert!(take_execution(&words("web --execution")).unwrap_err().message.contains("needs an execution id"));
        assert!(take_execution(&words("web --execution a --execution b")).unwrap_err().message.contains("twice"));
        for bad in ["<!here>", "a/b", "a_b", &"x".repeat(101)] {
            assert!(take_execution(&words(&format!("web --execution {bad}"))).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_timeout_reads_back_as_it_was_given() {
        for timeout in ["45m", "2h", "90s"] {
            let (_, parsed) = take_timeout(&words(&format!("web --timeout {timeout}"))).unwrap();
            assert_eq!(timeout_words(parsed, DEFAULT_TIMEOUT), format!(" --timeout {timeout}"));
        }
        assert_eq!(timeout_words(DEFAULT_TIMEOUT, DEFAULT_TIMEOUT), "");
    }

    #[test]
    fn only_unknown_options_are_refused() {
        assert!(no_other_options(&words("web --abandon"), &["--abandon"]).is_ok());
        assert!(no_other_options(&words("web -x"), &[]).is_ok(), "one dash is a word");
        assert_eq!(no_other_options(&words("web --now"), &[]).unwrap_err().message, "unknown option `--now`");
    }
}
