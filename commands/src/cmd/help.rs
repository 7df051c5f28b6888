//! `help [command]`: the command list, or one command's usage and example —
//! generated from the specs in [`super::ENTRIES`], never written by hand.

use crate::error::UsageError;
use crate::mrkdwn;
use crate::reply::{Mrkdwn, Reply};
use crate::spec::Spec;

use super::{ENTRIES, did_you_mean, lookup};

pub const SPEC: Spec = Spec {
    name: "help",
    args: "[COMMAND]",
    summary: "List the commands, or show how to use one",
    example: "help param get",
    changes: false,
};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Help {
    /// The spec asked about; `None` lists every command.
    pub topic: Option<&'static Spec>,
}

impl Help {
    pub fn parse(args: &[String]) -> Result<Self, UsageError> {
        if args.is_empty() {
            return Ok(Help::default());
        }
        match lookup(args) {
            Some((entry, used)) if used == args.len() => Ok(Help { topic: Some(entry.spec) }),
            _ => {
                let mut err = UsageError::new(format!("there is no command `{}`", args.join(" ")));
                err.suggestions = did_you_mean(args);
                Err(err)
            }
        }
    }

    pub fn run(&self) -> Reply {
        match self.topic {
            None => {
                let lines = ENTRIES.iter().map(|e| mrkdwn!("`{}` — {}", e.spec.usage(), e.spec.summary));
                Reply::ephemeral("opsbot commands")
                    .header("opsbot commands")
                    .section(Mrkdwn::join(lines, "\n"))
                    .context(vec![mrkdwn!("`help COMMAND` shows an example. In Slack, type `/ops COMMAND`.")])
            }
            Some(spec) => Reply::ephemeral(format!("{}: {}", spec.name, spec.summary))
                .section(mrkdwn!(
                    "*{}* — {}\nUsage: `{}`\nExample: `{}`",
                    spec.name,
                    spec.summary,
                    spec.usage(),
                    spec.example
                ))
                .context(vec![if spec.changes {
                    mrkdwn!("Changes things: checked by policy.")
                } else {
                    mrkdwn!("Read-only.")
                }]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::tokenize;

    fn help(text: &str) -> Result<Reply, UsageError> {
        Help::parse(&tokenize(text)?).map(|h| h.run())
    }

    #[test]
    fn help_lists_every_command_with_its_usage() {
        let text = help("").unwrap().text();
        for entry in ENTRIES {
            assert!(text.contains(&entry.spec.usage()), "help misses {}", entry.spec.name);
        }
    }

    #[test]
    fn help_for_one_command_shows_usage_and_example() {
        let text = help("param get").unwrap().text();
        assert!(text.contains("Usage: `param get NAME`"), "{text}");
        assert!(text.contains("Example: `param get"), "{text}");
    }

    #[test]
    fn help_for_an_unknown_command_suggests_close_ones() {
        let err = help("servcie").unwrap_err();
        assert!(err.suggestions.contains(&"service".to_string()), "{:?}", err.suggestions);
    }
}
