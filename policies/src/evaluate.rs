//! Judging one request: denies first (any match wins), then the FIRST
//! matching allow in file order decides — with or without approval — then
//! freezes may turn that allow into a deny. No matching allow: default deny.
//!
//! Only the rules indexed under the request's command are looked at, cheap
//! tests (channel, role) run before regexes, and the one sentence returned is
//! formatted once, for the rule that decided — so a policy of a thousand rules
//! still answers in microseconds.
//!
//! A `where` on an argument the request does not carry does not match. When
//! an argument appears several times, an allow needs every value to match and
//! a deny needs any one to — the reading that errs on the side of refusing.

use crate::decision::{Decision, Request};
use crate::policy::{Condition, Effect, Policy, Rule};
use crate::values::show_duration;

impl Policy {
    /// Judges `request` (pure: same policy and request, same answer).
    pub fn evaluate(&self, request: &Request<'_>) -> Decision {
        let Some(index) = self.index.get(request.command) else { return self.default_deny(request) };
        if let Some(rule) = index.denies.iter().map(|&i| &self.rules[i]).find(|r| self.matches(r, request, true)) {
            return deny(rule, request.command);
        }
        let Some(rule) = index.allows.iter().map(|&i| &self.rules[i]).find(|r| self.matches(r, request, false)) else {
            return self.default_deny(request);
        };
        if let Some(freeze) = index.freezes.iter().map(|&i| &self.freezes[i]).find(|f| f.covers(request.at)) {
            return Decision::Deny { rule: Some(freeze.at.clone()), reason: freeze.deny_reason() };
        }
        self.allow(rule, request.command)
    }

    fn matches(&self, rule: &Rule, request: &Request<'_>, deny: bool) -> bool {
        (rule.channels.is_empty() || rule.channels.iter().any(|c| c == request.channel))
            && (rule.to.is_empty() || rule.to.iter().any(|&r| self.roles[r].includes(request.user, request.groups)))
            && rule.conditions.iter().all(|c| condition_holds(c, request.args, deny))
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

fn deny(rule: &Rule, command: &str) -> Decision {
    let at = rule.at.as_ref().map(ToString::to_string).unwrap_or_default();
    let reason = match &rule.reason {
        Some(reason) => format!("denied by rule {at}: {reason}"),
        None => format!("denied by rule {at} ({command}{})", rule.summary),
    };
    Decision::Deny { rule: rule.at.clone(), reason }
}

/// Whether the request's value(s) of `c.arg` match: any one for a deny, all
/// (and at least one) for an allow.
fn condition_holds(c: &Condition, args: &[(&str, String)], deny: bool) -> bool {
    let mut values = args.iter().filter(|(name, _)| *name == c.arg).map(|(_, v)| c.pattern.is_match(v));
    if deny {
        values.any(|m| m)
    } else {
        let mut seen = false;
        values.all(|m| {
            seen = true;
            m
        }) && seen
    }
}
