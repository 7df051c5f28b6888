//! Judging one request: denies first (any match wins), then the FIRST
//! matching allow in file order decides — with or without approval — then
//! freezes may turn that allow into a deny. No matching allow: default deny.
//! A `--force` request counts only allows with `force: true`, and those are
//! not stopped by freezes; nothing forces past a deny.
//!
//! Only the rules indexed under the request's command are looked at, cheap
//! tests (channel, role) run before regexes, whether the requester holds a
//! role is worked out once per request, and the one sentence returned is
//! formatted once, for the rule that decided — so a policy of a thousand rules
//! still answers in microseconds. How a `where` matches is in `condition`.

use std::cell::Cell;

use crate::decision::{Decision, Request};
use crate::policy::{Effect, Policy, Role, Rule};
use crate::values::show_duration;

impl Policy {
    /// Judges `request` (pure: same policy and request, same answer).
    pub fn evaluate(&self, request: &Request<'_>) -> Decision {
        let Some(index) = self.index.get(request.command) else { return self.default_deny(request) };
        let member = &Membership::new(&self.roles, request);
        let matching = |deny: bool| move |rule: &&Rule| matches(rule, request, member, deny);
        if let Some(rule) = index.denies.iter().map(|&i| &self.rules[i]).find(matching(true)) {
            return deny(rule, request.command);
        }
        let mut allows = index.allows.iter().map(|&i| &self.rules[i]).filter(matching(false));
        let Some(rule) = (if request.force { allows.find(|r| r.force) } else { allows.next() }) else {
            return match index.allows.iter().map(|&i| &self.rules[i]).find(matching(false)) {
                Some(unforced) if request.force => force_denied(unforced, request.command),
                _ => self.default_deny(request),
            };
        };
        if request.force {
            return self.allow(rule, request.command);
        }
        if let Some(freeze) = index.freezes.iter().map(|&i| &self.freezes[i]).find(|f| f.covers(request.at)) {
            return Decision::Deny { rule: Some(freeze.at.clone()), reason: freeze.deny_reason() };
        }
        self.allow(rule, request.command)
    }

    fn allow(&self, rule: &Rule, command: &str) -> Decision {
        let at = rule.at.clone();
        let Effect::Allow(Some(approval)) = &rule.effect else {
            let reason = match (&at, &rule.reason) {
                (None, _) => format!("`{command}` is a read-only command open to everyone (built-in policy)"),
                (Some(at), Some(reason)) => format!("allowed by {at}: {reason}"),
                (Some(at), None) => format!("allowed by {at} ({command}{})", rule.summary),
            };
            return Decision::Allow { rule: at, reason };
        };
        let approvers = self.roles[approval.role].name.clone();
        let because = match &rule.reason {
            Some(reason) => reason.clone(),
            None => format!("{command}{}", rule.summary),
        };
        let reason = format!(
            "needs a second person: a member of {approvers} other than you must approve within {} (rule {}: {because})",
            show_duration(approval.ttl),
            at.as_ref().map(ToString::to_string).unwrap_or_default()
        );
        Decision::NeedsApproval { approvers, ttl: approval.ttl, rule: at, reason }
    }

    fn default_deny(&self, request: &Request<'_>) -> Decision {
        let hint = if self.builtin {
            "; the built-in policy allows only read commands — add `policies:` to the config to allow changes"
        } else {
            ""
        };
        let reason =
            format!("no rule allows `{}` for you in this channel (opsbot denies by default{hint})", request.command);
        Decision::Deny { rule: None, reason }
    }
}

fn matches(rule: &Rule, request: &Request<'_>, member: &Membership<'_>, deny: bool) -> bool {
    (rule.channels.is_empty() || rule.channels.iter().any(|c| c == request.channel))
        && (rule.to.is_empty() || rule.to.iter().any(|&r| member.of(r)))
        && rule.conditions.iter().all(|c| c.holds(request.args, deny))
}

/// Which roles the requester holds, each worked out at most once per request
/// (for the first 64 roles; any beyond are worked out each time).
struct Membership<'a> {
    roles: &'a [Role],
    user: &'a str,
    groups: &'a [String],
    known: Cell<u64>,
    held: Cell<u64>,
}

impl<'a> Membership<'a> {
    fn new(roles: &'a [Role], request: &Request<'a>) -> Self {
        Membership { roles, user: request.user, groups: request.groups, known: Cell::new(0), held: Cell::new(0) }
    }

    fn of(&self, role: usize) -> bool {
        let Some(bit) = u32::try_from(role).ok().and_then(|r| 1u64.checked_shl(r)) else {
            return self.roles[role].includes(self.user, self.groups);
        };
        if self.known.get() & bit == 0 {
            self.known.set(self.known.get() | bit);
            if self.roles[role].includes(self.user, self.groups) {
                self.held.set(self.held.get() | bit);
            }
        }
        self.held.get() & bit != 0
    }
}

/// A forced request that only rules without `force: true` would allow.
fn force_denied(unforced: &Rule, command: &str) -> Decision {
    let at = unforced.at.as_ref().map(ToString::to_string).unwrap_or_default();
    let reason = format!(
        "no rule lets you force `{command}`: rule {at} allows it without `--force` — ask again without it, \
         or ask for a rule with `force: true`"
    );
    Decision::Deny { rule: unforced.at.clone(), reason }
}

fn deny(rule: &Rule, command: &str) -> Decision {
    let at = rule.at.as_ref().map(ToString::to_string).unwrap_or_default();
    let reason = match &rule.reason {
        Some(reason) => format!("denied by rule {at}: {reason}"),
        None => format!("denied by rule {at} ({command}{})", rule.summary),
    };
    Decision::Deny { rule: rule.at.clone(), reason }
}
