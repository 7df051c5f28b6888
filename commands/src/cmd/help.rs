//! `help [command]`: the command list, or one command's usage and example —
//! generated from the specs, never written by hand.
//!
//! Help lists every command, itself included, so it cannot import the
//! command table (which lists help): it expands the same one list
//! (`with_commands!`, in `cmd`) into [`SPECS`] instead.

use async_trait::async_trait;

use crate::command::{Body, CommandDef, Reach, Read};
use crate::context::Context;
use crate::error::{GatewayResult, UsageError};
use crate::mrkdwn;
use crate::reply::{Mrkdwn, Reply};
use crate::spec::{self, Spec};

pub const SPEC: Spec = Spec {
    name: "help",
    args: "[COMMAND]",
    summary: "List the commands, or show how to use one",
    example: "help param get",
    changes: false,
    alias: None,
};

/// Every command's spec, in the order help lists them (from `with_commands!`).
macro_rules! specs_of {
    ($($variant:ident($module:ident::$ty:ident),)*) => {
        &[$(<super::$module::$ty as CommandDef>::SPEC,)*]
    };
}
pub const SPECS: &[&Spec] = with_commands!(specs_of);

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Help {
    /// The spec asked about; `None` lists every command.
    pub topic: Option<&'static Spec>,
}

impl CommandDef for Help {
    const SPEC: &'static Spec = &SPEC;

    fn parse(args: &[String]) -> Result<Self, UsageError> {
        if args.is_empty() {
            return Ok(Help::default());
        }
        match spec::lookup(SPECS, args) {
            Some((spec, used)) if used == args.len() => Ok(Help { topic: Some(spec) }),
            _ => {
                let mut err = UsageError::new(format!("there is no command `{}`", args.join(" ")));
                err.suggestions = spec::did_you_mean(SPECS, args);
                Err(err)
            }
        }
    }

    fn body(&self) -> Body<'_> {
        Body::Read(self)
    }
}

#[async_trait]
impl Read for Help {
    async fn read(&self, _ctx: &Context, _reach: &Reach<'_>) -> GatewayResult<Reply> {
        Ok(self.run())
    }
}

impl Help {
    pub fn run(&self) -> Reply {
        match self.topic {
            None => {
                let lines = SPECS.iter().map(|spec| mrkdwn!("`{}` — {}", spec.usage(), spec.summary));
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
    use crate::cmd::ENTRIES;
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
