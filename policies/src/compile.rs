//! From the file as written ([`crate::file`]) to a ready [`Policy`]: names
//! resolved (roles, commands), regexes compiled, rules indexed by command.
//!
//! Everything that can be wrong with a policy is found here, at load, with its
//! position; evaluation afterwards cannot fail. Every rule and freeze is
//! checked on its own, so one load reports every broken entry (in file
//! order), each with what to write instead; a broken `roles:` stops there,
//! as every rule's `to:` would otherwise be reported as well.

use std::collections::HashMap;

use serde_saphyr::{Location, Spanned};

use crate::condition::Condition;
use crate::decision::RuleRef;
use crate::error::{PolicyError, unknown};
use crate::file::{Names, RawApproval, RawFreeze, RawPolicies, RawRule};
use crate::freeze::{self, Freeze};
use crate::policy::{Approval, CommandIndex, Effect, Policy, Role, Rule};
use crate::values;

const BOTH: &str = "a rule either allows or denies — split this into an `allow:` rule and a `deny:` rule";
const DENY_APPROVAL: &str = "a deny rule cannot ask for approval — remove `approval:` or make this an allow rule";
const DENY_FORCE: &str = "`force:` belongs to allow rules (nothing forces past a deny) — remove it from this deny rule";

/// Checks and compiles `raw`, read from `file`; `known` lists the command names
/// that exist (`"deploy"`, `"param get"`, ...).
pub(crate) fn compile(raw: &RawPolicies, file: &str, known: &[&str]) -> Result<Policy, Vec<PolicyError>> {
    let roles = values::roles(file, raw.roles.as_ref()).map_err(|e| vec![e])?;
    let cx = Compiler { file, known, roles: &roles };
    let (mut rules, mut freezes, mut problems) = (Vec::new(), Vec::new(), Vec::new());
    let mut index: HashMap<Box<str>, CommandIndex> = HashMap::new();
    for raw_rule in raw.rules.iter().flatten() {
        let (rule, commands) = match cx.rule(raw_rule) {
            Ok(compiled) => compiled,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        for command in commands {
            let entry = index.entry(command.into()).or_default();
            let list = if matches!(rule.effect, Effect::Deny) { &mut entry.denies } else { &mut entry.allows };
            push_once(list, rules.len());
        }
        rules.push(rule);
    }
    for raw_freeze in raw.freeze.iter().flatten() {
        let (compiled, commands) = match cx.freeze(raw_freeze) {
            Ok(compiled) => compiled,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        for command in commands {
            push_once(&mut index.entry(command.into()).or_default().freezes, freezes.len());
        }
        freezes.push(compiled);
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Policy { roles, rules, freezes, index, builtin: false })
}

fn push_once(list: &mut Vec<usize>, i: usize) {
    if list.last() != Some(&i) {
        list.push(i);
    }
}

struct Compiler<'a> {
    file: &'a str,
    known: &'a [&'a str],
    roles: &'a [Role],
}

impl Compiler<'_> {
    fn err(&self, at: Location, message: impl Into<String>) -> PolicyError {
        PolicyError::at(self.file, at, message)
    }

    /// One rule, and the commands it names.
    fn rule(&self, raw: &Spanned<RawRule>) -> Result<(Rule, Vec<String>), PolicyError> {
        let (r, at) = (&raw.value, raw.referenced);
        let (names, allow) = match (&r.allow, &r.deny) {
            (Some(names), None) => (names, true),
            (None, Some(names)) => (names, false),
            (Some(_), Some(_)) => return Err(self.err(at, BOTH)),
            (None, None) => return Err(self.err(at, "a rule needs `allow: [commands]` or `deny: [commands]`")),
        };
        let commands = self.commands(names, if allow { "allow" } else { "deny" }, at)?;
        let to = match &r.to {
            Some(names) => self.role_refs(names)?,
            None if allow => {
                return Err(self.err(at, format!("an allow rule needs `to:` naming a role — {}", self.roles_defined())));
            }
            None => vec![],
        };
        let conditions = values::conditions(self.file, r.where_.as_ref())?;
        let channels = self.channels(r.channels.as_deref(), at)?;
        let effect = self.effect(r.approval.as_ref(), allow)?;
        let force = match &r.force {
            Some(force) if !allow && force.value => return Err(self.err(force.referenced, DENY_FORCE)),
            Some(force) => force.value,
            None => false,
        };
        let mut summary = self.summary(&to, &conditions, &channels);
        if force {
            summary.push_str(", --force allowed");
        }
        let at = Some(RuleRef { file: self.file.to_owned(), line: at.line() });
        Ok((Rule { effect, to, channels, conditions, force, reason: r.reason.clone(), at, summary }, commands))
    }

    fn effect(&self, approval: Option<&Spanned<RawApproval>>, allow: bool) -> Result<Effect, PolicyError> {
        match (approval, allow) {
            (Some(approval), true) => Ok(Effect::Allow(Some(self.approval(approval)?))),
            (None, true) => Ok(Effect::Allow(None)),
            (Some(approval), false) => Err(self.err(approval.referenced, DENY_APPROVAL)),
            (None, false) => Ok(Effect::Deny),
        }
    }

    /// One freeze entry, and the commands it stops.
    fn freeze(&self, raw: &Spanned<RawFreeze>) -> Result<(Freeze, Vec<String>), PolicyError> {
        let compiled = freeze::compile(self.file, raw)?;
        let what = format!("freeze `{}`", compiled.name);
        let Some(names) = &raw.value.commands else {
            let message = format!("{what} needs `commands:` listing what it stops, e.g. `commands: [deploy]`");
            return Err(self.err(raw.referenced, message));
        };
        let commands = self.commands(names, &what, raw.referenced)?;
        Ok((compiled, commands))
    }

    /// Command names, each checked against the known commands.
    fn commands(&self, names: &Names, what: &str, at: Location) -> Result<Vec<String>, PolicyError> {
        if names.0.is_empty() {
            return Err(self.err(at, format!("`{what}` lists no commands — write e.g. `[deploy, restart]`")));
        }
        let mut out = Vec::new();
        for name in &names.0 {
            if !self.known.contains(&name.value.as_str()) {
                let message = unknown(
                    &format!("unknown command `{}` in {what}", name.value),
                    &name.value,
                    self.known,
                    "commands",
                );
                return Err(self.err(name.referenced, message));
            }
            out.push(name.value.clone());
        }
        Ok(out)
    }

    fn role_refs(&self, names: &Names) -> Result<Vec<usize>, PolicyError> {
        names.0.iter().map(|name| self.role_ref(name)).collect()
    }

    fn role_ref(&self, name: &Spanned<String>) -> Result<usize, PolicyError> {
        self.roles.iter().position(|r| r.name == name.value).ok_or_else(|| {
            let what = format!("unknown role `{}`", name.value);
            let message = if self.roles.is_empty() {
                format!("{what} — {}", self.roles_defined())
            } else {
                let names: Vec<&str> = self.roles.iter().map(|r| r.name.as_str()).collect();
                unknown(&what, &name.value, &names, "roles defined")
            };
            self.err(name.referenced, message)
        })
    }

    fn roles_defined(&self) -> String {
        if self.roles.is_empty() {
            return "no roles are defined; add e.g. `roles: { devs: { everyone: true } }`".into();
        }
        let names: Vec<&str> = self.roles.iter().map(|r| r.name.as_str()).collect();
        format!("roles defined: {}", names.join(", "))
    }

    fn channels(&self, raw: Option<&[Spanned<String>]>, at: Location) -> Result<Vec<String>, PolicyError> {
        if raw.is_some_and(<[_]>::is_empty) {
            return Err(self.err(at, "`channels:` lists no channel — remove it to allow any channel"));
        }
        values::slack_ids(self.file, raw, "channel", "C0123ABCD")
    }

    fn approval(&self, raw: &Spanned<RawApproval>) -> Result<Approval, PolicyError> {
        let Some(by) = &raw.value.by else {
            let message = format!("`approval:` needs `by:` naming the approving role — {}", self.roles_defined());
            return Err(self.err(raw.referenced, message));
        };
        let role = self.role_ref(by)?;
        let ttl = values::ttl(self.file, raw.value.ttl.as_ref(), raw.referenced)?;
        Ok(Approval { role, ttl })
    }

    /// `" by devs where service matches ^prod/ in channel C0DEPLOYS"`.
    fn summary(&self, to: &[usize], conditions: &[Condition], channels: &[String]) -> String {
        let mut out = String::new();
        if !to.is_empty() {
            let names: Vec<&str> = to.iter().map(|&r| self.roles[r].name.as_str()).collect();
            out.push_str(&format!(" by {}", names.join(" or ")));
        }
        if !conditions.is_empty() {
            let tests: Vec<String> = conditions.iter().map(|c| format!("{} matches {}", c.arg, c.pattern)).collect();
            out.push_str(&format!(" where {}", tests.join(" and ")));
        }
        match channels {
            [] => {}
            [one] => out.push_str(&format!(" in channel {one}")),
            many => out.push_str(&format!(" in channels {}", many.join(" or "))),
        }
        out
    }
}
