//! `params apply ENV [--plan PIN]`: make Parameter Store match an
//! environment's declared parameters — create the missing ones, write the
//! changed ones — as one gated change.
//!
//! Need: the plan is exactly the diff `params diff ENV` shows, and refuses a
//! no-op. Safe: every parameter it writes must be one the requester may
//! `param set` here (the policy's `param set` rules and their `where: name`
//! patterns); one that is not refuses the whole plan, naming it. One whose
//! `param set` needs an approval makes the apply need the same approval
//! ([`Verdict::NeedsApproval`]): the apply's own rule must ask for it, or
//! the plan is refused naming the parameter and the rule. Act:
//! `PutParameter` per parameter, each followed by its `on_param_change`
//! hooks, then the declared tags (`AddTagsToResource`,
//! `RemoveTagsFromResource`) of each new parameter and of each whose tags
//! differ. Verify: every new version reads back, every hook finishes, and
//! every retagged parameter has its declared tags.
//!
//! # Decisions
//! - **Extras are never deleted.** The plan lists them and says so: deleting
//!   is for the infrastructure code that owns a parameter's life.
//! - **It applies the diff the plan showed, and no other.** The plan pins a
//!   hash of both sides of every difference into the confirmed, approved and
//!   run line (`params apply prod --plan 3f2a…`); if the file or Parameter
//!   Store changed in between, the change is refused and must be asked again.
//! - A write that fails stops the apply: what was written stays written
//!   (listed), the rest is not tried, and the change ends failed.
//! - Tags are a change to the parameter like its value: retagging one is
//!   judged by the same `param set` rules, but writes no new version and
//!   runs no `on_param_change` hook (the value did not change).
//! - The `params apply` rule itself is matched on `env`; approvals come from
//!   it. The lifecycle has one approver role per change, so an approval the
//!   apply's rule does not ask for is refused rather than added: the policy
//!   file stays the one place that says who approves an apply.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::change::{ChangeCommand, Follow, Outcome, Plan, Progress, Verdict};
use crate::command::{Body, CommandDef};
use crate::context::Context;
use crate::error::{GatewayError, GatewayResult, UsageError};
use crate::mrkdwn::esc;
use crate::ports::DeclaredParam;
use crate::ports::{Gateways, LiveParam, ParamSettings, ParamTags};
use crate::spec::{Spec, expect_args};
use crate::text::count;
use crate::values::ParamName;

use super::drift::{Drift, current, tags_line};
use super::memo::Memo;
use super::param_hooks::{Written, after_write, check_write};

pub const SPEC: Spec = Spec {
    name: "params apply",
    args: "ENV [--plan PIN]",
    summary: "Write the declared parameters of an environment that are missing or differ (never deletes)",
    example: "params apply staging",
    changes: true,
    alias: None,
};

/// The option that pins the diff applied.
const PLAN: &str = "--plan";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamsApply {
    /// An environment's name or prefix.
    pub env: String,
    /// Apply only the diff with this pin (`--plan`; the plan pins it).
    pub pin: Option<String>,
    planned: Memo<String>,
    applied: Memo<Applied>,
}

/// What `act` wrote, for `check` (and a replica resuming it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Applied {
    written: Vec<(String, Written)>,
    /// The parameters retagged, with the tags set and the keys removed.
    #[serde(default)]
    tagged: Vec<Retag>,
    /// Why the apply stopped early, if it did.
    failed: Option<String>,
}

/// Tags to set and tag keys to remove on one parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Retag {
    name: String,
    set: ParamTags,
    remove: Vec<String>,
}

impl CommandDef for ParamsApply {
    const SPEC: &'static Spec = &SPEC;

    fn parse(args: &[String]) -> Result<Self, UsageError> {
        expect_args(&SPEC, args, 1, 3)?;
        let pin = match &args[1..] {
            [] => None,
            [flag, pin] if flag == PLAN && pin.len() == 16 && pin.chars().all(|c| c.is_ascii_hexdigit()) => {
                Some(pin.to_lowercase())
            }
            _ => {
                return Err(UsageError::new(format!(
                    "`params apply` takes an environment and nothing else, e.g. `params apply {}` (`{PLAN} PIN` is added by the plan you confirm)",
                    args[0]
                )));
            }
        };
        Ok(ParamsApply { env: args[0].clone(), pin, planned: Memo::default(), applied: Memo::default() })
    }

    fn policy_args(&self) -> Vec<(&'static str, String)> {
        vec![("env", self.env.clone())]
    }

    fn body(&self) -> Body<'_> {
        Body::Change(self)
    }
}

impl ParamsApply {
    /// Why `drift` is not the one reviewed.
    fn moved(&self, drift: &Drift) -> Option<String> {
        let want = self.pin.as_ref().filter(|want| **want != drift.pin())?;
        Some(format!(
            "the declared parameters of {} or Parameter Store changed since you reviewed the plan ({want}) — ask again (`params diff {}` shows them now)",
            self.env, self.env
        ))
    }
}

/// What the apply writes: each declared parameter, with what is live of it.
fn to_write(drift: &Drift) -> Vec<(&DeclaredParam, Option<&LiveParam>)> {
    let missing = drift.missing.iter().map(|p| (p, None));
    missing.chain(drift.changed.iter().map(|c| (&c.declared, Some(&c.live)))).collect()
}

/// What the apply retags: each new parameter that declares tags, and each
/// live one whose tags differ.
fn to_retag(drift: &Drift) -> Vec<Retag> {
    let new = drift.missing.iter().filter_map(|p| {
        let set = p.tags.clone().filter(|t| !t.is_empty())?;
        Some(Retag { name: p.name.to_string(), set, remove: Vec::new() })
    });
    let live =
        drift.retagged.iter().map(|r| Retag { name: r.name.to_string(), set: r.to_set(), remove: r.to_remove() });
    new.chain(live).collect()
}

/// Every parameter the apply touches (written or retagged), each once.
fn touched(drift: &Drift) -> Vec<ParamName> {
    let mut names: Vec<ParamName> = to_write(drift).into_iter().map(|(p, _)| p.name.clone()).collect();
    for r in &drift.retagged {
        if !names.contains(&r.name) {
            names.push(r.name.clone());
        }
    }
    names
}

impl Retag {
    /// `*name*: tags set `a=b`; removed `c``.
    fn line(&self) -> String {
        let mut what = Vec::new();
        if !self.set.is_empty() {
            what.push(format!("set `{}`", esc(&tags_line(&self.set))));
        }
        if !self.remove.is_empty() {
            what.push(format!("removed `{}`", esc(&self.remove.join(", "))));
        }
        format!("*{}*: tags {}.", esc(&self.name), what.join("; "))
    }

    async fn apply(&self, aws: &Gateways) -> GatewayResult<crate::ports::Receipt> {
        let name = ParamName::parse(&self.name).map_err(|e| GatewayError::other("stored name", e))?;
        aws.param_changes.retag(&name, &self.set, &self.remove).await
    }

    /// Whether the parameter has the tags set and none of those removed.
    async fn check(&self, aws: &Gateways) -> GatewayResult<Progress> {
        let name = ParamName::parse(&self.name).map_err(|e| GatewayError::other("stored name", e))?;
        let now = aws.params.tags(&name).await?;
        let set = self.set.iter().all(|(k, v)| now.get(k) == Some(v));
        let removed = self.remove.iter().all(|k| !now.contains_key(k));
        Ok(match set && removed {
            true => Progress::Done("tags as declared".into()),
            false => Progress::Failed(format!("tags are `{}`, not as declared", tags_line(&now))),
        })
    }
}

#[async_trait]
impl ChangeCommand for ParamsApply {
    async fn plan(&self, ctx: &Context, aws: &Gateways) -> GatewayResult<Plan> {
        let drift = current(aws, &self.env).await?;
        if let Some(why) = self.moved(&drift) {
            return Ok(Plan { lines: vec![], verdict: Verdict::Moved(why) });
        }
        self.planned.keep(drift.pin());
        let writes = to_write(&drift);
        let mut lines = vec![format!("Parameters of {}:", esc(&drift.title()))];
        for line in drift.lines() {
            lines.push(line.as_str().to_owned());
        }
        for (param, _) in &writes {
            lines.extend(super::param_hooks::plan_lines(ctx, aws, &param.name).await);
        }
        if !drift.extra.is_empty() {
            lines.push(format!(
                "Leaves the {} alone: opsbot never deletes parameters (delete them with your infrastructure code).",
                count(drift.extra.len(), "extra parameter")
            ));
        }
        let mut denied = Vec::new();
        let mut needed = Vec::new();
        for name in touched(&drift) {
            match aws.param_hooks.may_set(ctx, &name) {
                Ok(None) => {}
                Ok(Some(approval)) => needed.push(approval),
                Err(why) => denied.push(format!("you may not `param set` {name} here ({why})")),
            }
        }
        let verdict = if writes.is_empty() && drift.retagged.is_empty() {
            Verdict::NoOp(format!("Parameter Store already has every declared parameter of {}", drift.declared.env))
        } else if !denied.is_empty() {
            Verdict::Denied(denied)
        } else if !needed.is_empty() {
            Verdict::NeedsApproval(needed)
        } else {
            Verdict::Ready
        };
        Ok(Plan { lines, verdict })
    }

    fn pinned(&self) -> Option<String> {
        Some(format!("{} {} {PLAN} {}", SPEC.name, self.env, self.planned.get()?))
    }

    async fn act(&self, ctx: &Context, aws: &Gateways) -> GatewayResult<Outcome> {
        let drift = current(aws, &self.env).await?;
        if let Some(why) = self.moved(&drift) {
            return Err(GatewayError::moved(why));
        }
        let mut outcome = Outcome::default();
        let mut applied = Applied { written: Vec::new(), tagged: Vec::new(), failed: None };
        for (param, live) in to_write(&drift) {
            let write = match write(ctx, aws, param, live).await {
                Ok(write) => write,
                // Nothing written yet: the change simply failed.
                Err(err) if applied.written.is_empty() => return Err(err),
                Err(err) => {
                    let why = format!("could not write {}: {err}; the rest was not tried", param.name);
                    outcome.lines.push(format!(":x: {}", esc(&why)));
                    applied.failed = Some(why);
                    break;
                }
            };
            let line = format!("*{}* is now version *{}*.", esc(param.name.as_str()), write.version);
            let memo = Memo::default();
            let done = after_write(ctx, aws, &param.name, write, vec![line], &memo).await;
            outcome.lines.extend(done.lines);
            outcome.aws_request_ids.extend(done.aws_request_ids);
            outcome.follow = longest(outcome.follow, done.follow);
            applied.written.extend(memo.get().map(|w| (param.name.to_string(), w.clone())));
        }
        for retag in to_retag(&drift) {
            if applied.failed.is_some() {
                break;
            }
            match retag.apply(aws).await {
                Ok(receipt) => {
                    outcome.lines.push(retag.line());
                    outcome.aws_request_ids.extend(receipt.request_id);
                    applied.tagged.push(retag);
                }
                Err(err) if applied.written.is_empty() && applied.tagged.is_empty() => return Err(err),
                Err(err) => {
                    let why = format!("could not tag {}: {err}; the rest was not tried", retag.name);
                    outcome.lines.push(format!(":x: {}", esc(&why)));
                    applied.failed = Some(why);
                }
            }
        }
        self.applied.keep(applied);
        Ok(outcome)
    }

    async fn check(&self, _ctx: &Context, aws: &Gateways, _outcome: &Outcome) -> GatewayResult<Progress> {
        let Some(applied) = self.applied.get() else { return Ok(Progress::Failed("nothing was written".into())) };
        let mut texts = Vec::new();
        let mut ok = applied.failed.is_none();
        for (name, written) in &applied.written {
            let name = crate::values::ParamName::parse(name).map_err(|e| GatewayError::other("stored name", e))?;
            let memo = Memo::default();
            memo.keep(written.clone());
            match check_write(aws, &name, &memo).await? {
                Progress::Running(now) => return Ok(Progress::Running(format!("{name}: {now}"))),
                Progress::Done(text) => texts.push(format!("{name}: {text}")),
                Progress::Failed(text) => {
                    ok = false;
                    texts.push(format!("{name}: {text}"));
                }
            }
        }
        for retag in &applied.tagged {
            match retag.check(aws).await? {
                Progress::Failed(text) => {
                    ok = false;
                    texts.push(format!("{}: {text}", retag.name));
                }
                Progress::Done(text) | Progress::Running(text) => texts.push(format!("{}: {text}", retag.name)),
            }
        }
        texts.extend(applied.failed.clone());
        Ok(if ok { Progress::Done(texts.join("\n")) } else { Progress::Failed(texts.join("\n")) })
    }

    fn progress(&self) -> Option<String> {
        self.applied.progress(SPEC.name, &self.env)
    }

    fn resume(&self, progress: &str) -> Result<(), String> {
        self.applied.resume(SPEC.name, &self.env, progress)
    }
}

/// Writes `param` as declared: over what is live (keeping its KMS key, tier
/// and pattern), or new.
async fn write(
    ctx: &Context,
    aws: &Gateways,
    param: &DeclaredParam,
    live: Option<&LiveParam>,
) -> GatewayResult<crate::ports::ParamWrite> {
    let keep = match live {
        Some(_) => {
            let mut keep = aws.param_changes.settings(&param.name).await?;
            if keep.kind != param.kind {
                // A new type takes the default key rather than one chosen for another type.
                keep.key_id = None;
            }
            keep.kind = param.kind.clone();
            keep.description = param.description.clone().or(keep.description);
            keep
        }
        None => ParamSettings {
            kind: param.kind.clone(),
            key_id: None,
            tier: None,
            data_type: None,
            description: param.description.clone(),
            allowed_pattern: None,
        },
    };
    aws.param_changes.put(&param.name, &param.value.new_value(), &keep, &ctx.user).await
}

/// The follow that waits longest of two.
fn longest(a: Option<Follow>, b: Option<Follow>) -> Option<Follow> {
    match (a, b) {
        (Some(a), Some(b)) => Some(Follow { every: a.every.min(b.every), timeout: a.timeout.max(b.timeout) }),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
#[path = "params_apply_tests.rs"]
mod tests;
