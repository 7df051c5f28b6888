//! `param rollback NAME [VERSION]`: write the value of an earlier version
//! (by default the one before the current) again, as a new version — SSM
//! has no "make version 5 current", and a new version keeps the history honest.
//!
//! Need: refuses when there is nothing earlier, when VERSION is the current
//! one, and when a String's or StringList's old value equals the current one.
//! Safe: refuses to write a value that was a SecureString into a parameter
//! that is no longer one (it would come out in clear). Act: the gateway's
//! `restore` copies the old value inside the gateway (for a SecureString it
//! decrypts it there, so that needs `kms:Decrypt`; the value never reaches
//! opsbot's commands). Verify and hooks: as `param set`.
//!
//! Without VERSION, the plan works out "the previous version" and pins it:
//! the change is confirmed, approved and run as `param rollback NAME N`, so a
//! write in between cannot make an approved rollback restore another value.

use async_trait::async_trait;

use crate::change::{ChangeCommand, Outcome, Plan, Progress, Verdict};
use crate::command::{Body, CommandDef};
use crate::context::Context;
use crate::error::{GatewayError, GatewayResult, UsageError};
use crate::mrkdwn::esc;
use crate::ports::{Gateways, ParamKind, ParamValue, ParamVersion};
use crate::spec::{Spec, expect_args};
use crate::values::ParamName;

use super::memo::Memo;
use super::param_get::preview;
use super::param_hooks::{Written, after_write, check_write};
use super::param_set::{described, missing};

pub const SPEC: Spec = Spec {
    name: "param rollback",
    args: "NAME [VERSION]",
    summary: "Write an earlier version's value (default: the previous one) as a new version of a parameter",
    example: "param rollback /shop/staging/feature-flags",
    changes: true,
    alias: None,
};

/// Characters of a value a plan shows.
const SHOWN: usize = 300;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamRollback {
    pub name: ParamName,
    /// `None`: the version before the current one.
    pub version: Option<i64>,
    written: Memo<Written>,
    /// The version the plan chose when none was given.
    planned: Memo<i64>,
}

impl CommandDef for ParamRollback {
    const SPEC: &'static Spec = &SPEC;

    fn parse(args: &[String]) -> Result<Self, UsageError> {
        expect_args(&SPEC, args, 1, 2)?;
        let version = match args.get(1) {
            None => None,
            Some(raw) => Some(raw.parse::<i64>().ok().filter(|v| *v >= 1).ok_or_else(|| {
                UsageError::invalid("version", raw, "a version number from `param history`, e.g. `5`")
            })?),
        };
        Ok(ParamRollback {
            name: ParamName::parse(&args[0])?,
            version,
            written: Memo::default(),
            planned: Memo::default(),
        })
    }

    fn policy_args(&self) -> Vec<(&'static str, String)> {
        vec![("name", self.name.to_string())]
    }

    fn body(&self) -> Body<'_> {
        Body::Change(self)
    }
}

impl ParamRollback {
    /// The current version and the one to put back.
    async fn versions(&self, aws: &Gateways) -> GatewayResult<Result<(ParamVersion, ParamVersion), String>> {
        let history = aws.params.history(&self.name).await.map_err(|e| missing(e, &self.name))?;
        let Some(current) = history.last().cloned() else {
            return Err(missing(GatewayError::not_found(""), &self.name));
        };
        let target = match self.version {
            None if history.len() < 2 => {
                return Ok(Err(format!("{} has only one version; there is nothing to roll back to", self.name)));
            }
            None => history[history.len() - 2].clone(),
            Some(v) if v == current.version => {
                return Ok(Err(format!("version {v} is the current version of {}", self.name)));
            }
            Some(v) => match history.iter().find(|h| h.version == v) {
                Some(found) => found.clone(),
                None => {
                    return Err(GatewayError::not_found(format!(
                        "version {v} of `{}` (SSM keeps the last 100 versions; `param history {}` lists them)",
                        self.name, self.name
                    )));
                }
            },
        };
        Ok(Ok((current, target)))
    }
}

#[async_trait]
impl ChangeCommand for ParamRollback {
    async fn plan(&self, ctx: &Context, aws: &Gateways) -> GatewayResult<Plan> {
        let (current, target) = match self.versions(aws).await? {
            Ok(pair) => pair,
            Err(why) => return Ok(Plan { lines: vec![], verdict: Verdict::NoOp(why) }),
        };
        self.planned.keep(target.version);
        let keep = aws.param_changes.settings(&self.name).await.map_err(|e| missing(e, &self.name))?;
        let head = described(&self.name, &keep, current.version);
        let mut lines = vec![format!("{head} → new version with the value of version {}", target.version)];
        let secret = keep.kind == ParamKind::SecureString || target.kind == ParamKind::SecureString;
        let same = match (&current.value, &target.value) {
            (ParamValue::Plain(now), ParamValue::Plain(then)) if !secret => {
                lines.push(format!(
                    "{} → {}",
                    preview(&keep.kind, &current.value, SHOWN).as_str(),
                    preview(&keep.kind, &target.value, SHOWN).as_str()
                ));
                now == then
            }
            _ if secret => {
                lines.push("Value hidden (SecureString); opsbot cannot tell whether it differs, so this writes a new version either way.".into());
                false
            }
            _ => false,
        };
        if let Some(by) = target.modified_by.as_deref() {
            let when = target.modified.map(|t| format!(" {}", crate::text::when(ctx.now, t))).unwrap_or_default();
            lines.push(format!(
                "Version {} was written{when} by {}.",
                target.version,
                esc(by.rsplit('/').next().unwrap_or(by))
            ));
        }
        lines.extend(super::param_hooks::plan_lines(ctx, aws, &self.name).await);
        let verdict = if same {
            Verdict::NoOp(format!(
                "version {} has the same value as the current version {}",
                target.version, current.version
            ))
        } else if target.kind == ParamKind::SecureString && keep.kind != ParamKind::SecureString {
            Verdict::Invalid(vec![format!(
                "version {} was a SecureString and {} is now a {}: its value would be stored in clear",
                target.version,
                self.name,
                keep.kind.label()
            )])
        } else {
            Verdict::Ready
        };
        Ok(Plan { lines, verdict })
    }

    fn pinned(&self) -> Option<String> {
        let planned = self.planned.get().filter(|_| self.version.is_none())?;
        Some(format!("{} {} {planned}", SPEC.name, self.name))
    }

    async fn act(&self, ctx: &Context, aws: &Gateways) -> GatewayResult<Outcome> {
        let (_, target) = self.versions(aws).await?.map_err(|why| GatewayError::other("nothing to roll back", why))?;
        let keep = aws.param_changes.settings(&self.name).await.map_err(|e| missing(e, &self.name))?;
        let write = aws.param_changes.restore(&self.name, target.version, &keep, &ctx.user).await?;
        let line = format!(
            "*{}* is now version *{}*, with the value of version {}.",
            esc(self.name.as_str()),
            write.version,
            target.version
        );
        Ok(after_write(ctx, aws, &self.name, write, vec![line], &self.written).await)
    }

    async fn check(&self, _ctx: &Context, aws: &Gateways, _outcome: &Outcome) -> GatewayResult<Progress> {
        check_write(aws, &self.name, &self.written).await
    }

    fn progress(&self) -> Option<String> {
        self.written.progress(SPEC.name, &self.name)
    }

    fn resume(&self, progress: &str) -> Result<(), String> {
        self.written.resume(SPEC.name, &self.name, progress)
    }
}

#[cfg(test)]
#[path = "param_rollback_tests.rs"]
mod tests;
