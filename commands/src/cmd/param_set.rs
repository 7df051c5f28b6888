//! `param set NAME VALUE [--if-version N]`: write a new version of an existing parameter,
//! keeping its type, KMS key, tier, data type, description and pattern.
//!
//! Need: the plan shows `old → new` for String and StringList and refuses a
//! no-op. Safe: the value must fit the tier and match the parameter's allowed
//! pattern. Act: `PutParameter` with overwrite, then the `on_param_change`
//! hooks. Verify: the new version number reads back (and the hooks finish).
//!
//! # Decisions
//! - **A SecureString is never compared.** Telling "unchanged" would need the
//!   current value decrypted, and answering that before anyone approves
//!   would let whoever may *ask* for `param set` test guesses against a
//!   secret. So the plan says "cannot tell; will write a new version".
//! - **The new value is never echoed**, whatever the type: [`Command::shown`]
//!   masks it in the text that is shown, approved and audited (the type is
//!   not known when that text is made), `Debug` masks it, and usage errors
//!   never quote it. Plans show String and StringList values; they are not
//!   secret.
//! - **It writes over the version the plan showed, and no other.** The plan
//!   pins the current version into the line that is confirmed, approved and
//!   run (`param set NAME VALUE --if-version 7`). If someone wrote the
//!   parameter in between, the change is refused ("written since you
//!   reviewed it: it is at version 8, not 7 — ask again") rather than
//!   silently overwriting their value. SSM has no conditional write, so the
//!   version is read again just before the write: a write landing in that
//!   last instant is not caught (the history keeps both).
//! - Creating parameters is out of scope: a missing one is `NotFound`, with
//!   what to do instead.
//! - The allowed pattern is checked with Rust's `regex` before anything is
//!   written; a pattern it cannot compile (SSM's are Java regexes) is left to
//!   SSM, which checks it again on write.
//!
//! [`Command::shown`]: super::Command::shown

use std::fmt;

use async_trait::async_trait;

use crate::change::{ChangeCommand, Outcome, Plan, Progress, Verdict};
use crate::command::{Body, CommandDef};
use crate::context::Context;
use crate::error::{GatewayError, GatewayResult, UsageError};
use crate::mrkdwn::esc;
use crate::ports::{Gateways, NewValue, ParamKind, ParamSettings, ParamValue};
use crate::spec::{Spec, expect_args, quoted};
use crate::values::ParamName;

use super::memo::Memo;
use super::param_get::{MASK, preview};
use super::param_hooks::{Written, after_write, check_write};

pub const SPEC: Spec = Spec {
    name: "param set",
    args: "NAME VALUE [--if-version N]",
    summary: "Write a new version of a parameter, keeping its type and KMS key (SecureString values are never shown)",
    example: "param set /shop/staging/feature-flags new-checkout,one-click-pay",
    changes: true,
    alias: None,
};

/// Characters a value may have: Standard tier, and Advanced.
const STANDARD_MAX: usize = 4096;
const ADVANCED_MAX: usize = 8192;
/// Characters of a value a plan shows.
const SHOWN: usize = 300;

#[derive(Clone, PartialEq, Eq)]
pub struct ParamSet {
    pub name: ParamName,
    pub value: NewValue,
    /// Write only over this version (`--if-version`; the plan pins it).
    pub if_version: Option<i64>,
    /// The version the plan showed.
    planned: Memo<i64>,
    written: Memo<Written>,
}

impl fmt::Debug for ParamSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParamSet").field("name", &self.name).field("value", &MASK).finish()
    }
}

impl CommandDef for ParamSet {
    const SPEC: &'static Spec = &SPEC;

    fn parse(args: &[String]) -> Result<Self, UsageError> {
        expect_args(&SPEC, args, 2, usize::MAX)?;
        let (args, if_version) = take_if_version(args)?;
        if args.len() > 2 {
            // Never quote the extra words: they are most likely part of the value.
            return Err(UsageError::new(
                "`param set` takes one VALUE: put a value with spaces in quotes, e.g. `param set /shop/x \"two words\"`",
            ));
        }
        let name = ParamName::parse(&args[0])?;
        let value = &args[1];
        if value.is_empty() {
            return Err(UsageError::new("a parameter value cannot be empty (Parameter Store refuses it)"));
        }
        if value.chars().count() > ADVANCED_MAX {
            return Err(UsageError::new(format!(
                "the value is longer than {ADVANCED_MAX} characters, the most SSM holds"
            )));
        }
        let (planned, written) = (Memo::default(), Memo::default());
        Ok(ParamSet { name, value: NewValue::new(value.clone()), if_version, planned, written })
    }

    fn policy_args(&self) -> Vec<(&'static str, String)> {
        // The value goes to the policy (rules may match on it); policies are local and never log it.
        vec![("name", self.name.to_string()), ("value", self.value.expose().to_owned())]
    }

    fn shown(&self, _canonical: &str) -> String {
        self.shown()
    }

    fn body(&self) -> Body<'_> {
        Body::Change(self)
    }
}

impl ParamSet {
    /// The text shown, approved and audited: the value masked.
    pub fn shown(&self) -> String {
        let pin = self.if_version.map(|v| format!(" {IF_VERSION} {v}")).unwrap_or_default();
        format!("{} {} {MASK}{pin}", SPEC.name, self.name)
    }

    /// Why the parameter, now at `version`, is not the one reviewed.
    fn moved(&self, version: i64) -> Option<String> {
        let want = self.if_version.filter(|want| *want != version)?;
        Some(format!(
            "{} was written since you reviewed it: it is at version {version}, not {want} — ask again (`param history {}` shows who wrote it)",
            self.name, self.name
        ))
    }
}

/// The option that pins the version written over.
const IF_VERSION: &str = "--if-version";

/// Takes a trailing `--if-version N` (or `--if-version=N`) off the words after
/// NAME and VALUE; anything else is left for the caller to refuse.
fn take_if_version(args: &[String]) -> Result<(&[String], Option<i64>), UsageError> {
    let (rest, raw) = match args {
        [rest @ .., flag, n] if rest.len() == 2 && flag == IF_VERSION => (rest, n.as_str()),
        [rest @ .., flag] if rest.len() == 2 && flag.starts_with("--if-version=") => {
            (rest, &flag[IF_VERSION.len() + 1..])
        }
        _ => return Ok((args, None)),
    };
    let version = raw.parse::<i64>().ok().filter(|v| *v >= 1);
    let version = version
        .ok_or_else(|| UsageError::invalid("version", raw, "a version number from `param history`, e.g. `7`"))?;
    Ok((rest, Some(version)))
}

/// A missing parameter, with what to do instead of creating it from chat.
pub(crate) fn missing(err: GatewayError, name: &ParamName) -> GatewayError {
    match err {
        GatewayError::NotFound { .. } => GatewayError::not_found(format!(
            "parameter `{name}` (opsbot changes existing parameters only: create it with your infrastructure code or `aws ssm put-parameter`, then ask again)"
        )),
        other => other,
    }
}

/// Why a value cannot be written to a parameter with `keep`, if it cannot.
pub(crate) fn unfit(value: &str, keep: &ParamSettings) -> Vec<String> {
    let mut reasons = Vec::new();
    let len = value.chars().count();
    let advanced = keep.tier.as_deref().is_some_and(|t| t != "Standard");
    if len > STANDARD_MAX && !advanced {
        reasons.push(format!(
            "the value has {len} characters; a Standard parameter holds {STANDARD_MAX} (Advanced: {ADVANCED_MAX})"
        ));
    }
    let pattern = keep.allowed_pattern.as_deref().and_then(|p| regex::Regex::new(p).ok().map(|r| (p, r)));
    if let Some((raw, _)) = pattern.filter(|(_, re)| !re.is_match(value)) {
        reasons.push(format!("the value does not match the parameter's allowed pattern `{raw}`"));
    }
    reasons
}

/// "`/shop/x` (SecureString, KMS key `alias/shop`, version 7)"
pub(crate) fn described(name: &ParamName, keep: &ParamSettings, version: i64) -> String {
    let key = keep.key_id.as_deref().filter(|_| keep.kind == ParamKind::SecureString);
    let key = key.map(|k| format!(", KMS key `{}`", esc(k))).unwrap_or_default();
    format!("*{}* ({}{key}, version {version})", esc(name.as_str()), keep.kind.label())
}

#[async_trait]
impl ChangeCommand for ParamSet {
    async fn plan(&self, ctx: &Context, aws: &Gateways) -> GatewayResult<Plan> {
        let now = aws.params.get(&self.name).await.map_err(|e| missing(e, &self.name))?;
        if let Some(why) = self.moved(now.version) {
            return Ok(Plan { lines: vec![], verdict: Verdict::Moved(why) });
        }
        self.planned.keep(now.version);
        let keep = aws.param_changes.settings(&self.name).await.map_err(|e| missing(e, &self.name))?;
        let head = described(&self.name, &keep, now.version);
        let new = ParamValue::Plain(self.value.expose().to_owned());
        let (line, same) = match (&keep.kind, &now.value) {
            (ParamKind::SecureString, _) => (
                format!(
                    "{head}: value changes (hidden). `param set` never decrypts a SecureString, so it cannot tell whether the value differs; this writes a new version either way."
                ),
                false,
            ),
            (kind, ParamValue::Plain(old)) => (
                format!(
                    "{head}: {} → {}",
                    preview(kind, &now.value, SHOWN).as_str(),
                    preview(kind, &new, SHOWN).as_str()
                ),
                *old == self.value.expose(),
            ),
            (kind, ParamValue::Masked) => (format!("{head}: → {}", preview(kind, &new, SHOWN).as_str()), false),
        };
        let mut lines =
            vec![line, format!("Keeps its type{}.", if keep.key_id.is_some() { " and KMS key" } else { "" })];
        lines.extend(super::param_hooks::plan_lines(ctx, aws, &self.name).await);
        let unfit = unfit(self.value.expose(), &keep);
        let verdict = if same {
            Verdict::NoOp(format!("{} already has that value (version {})", self.name, now.version))
        } else if !unfit.is_empty() {
            Verdict::Invalid(unfit)
        } else {
            Verdict::Ready
        };
        Ok(Plan { lines, verdict })
    }

    fn pinned(&self) -> Option<String> {
        let value = quoted(self.value.expose());
        Some(format!("{} {} {value} {IF_VERSION} {}", SPEC.name, self.name, self.planned.get()?))
    }

    async fn act(&self, ctx: &Context, aws: &Gateways) -> GatewayResult<Outcome> {
        if self.if_version.is_some() {
            let now = aws.params.get(&self.name).await.map_err(|e| missing(e, &self.name))?;
            if let Some(why) = self.moved(now.version) {
                return Err(GatewayError::moved(why));
            }
        }
        let keep = aws.param_changes.settings(&self.name).await.map_err(|e| missing(e, &self.name))?;
        let write = aws.param_changes.put(&self.name, &self.value, &keep, &ctx.user).await?;
        let line = format!("*{}* is now version *{}*.", esc(self.name.as_str()), write.version);
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
#[path = "param_set_tests.rs"]
mod tests;
