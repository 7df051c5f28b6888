//! `--force`: only an allow rule with `force: true` lets a forced request
//! through, and then no freeze stops it; nothing forces past a deny.

use crate::support::{ask, load_error, policy, verdict};

const FORCEABLE: &str = "
roles: { devs: { everyone: true }, leads: { users: [U0LEAD] } }
rules:
  - allow: [deploy, restart]
    to: devs
  - allow: [deploy]
    to: leads
    force: true
    reason: leads may ship a fix through a freeze
  - allow: [rollback]
    to: leads
    force: true
    approval: { by: leads }
  - deny: [restart]
    to: leads
    reason: leads do not restart by hand
freeze:
  - { name: holidays, from: 2026-12-22T00:00:00Z, to: 2027-01-04T00:00:00Z, commands: [deploy, rollback], reason: holiday change freeze }
";

const IN_FREEZE: &str = "2026-12-24T09:00:00Z";

#[test]
fn a_forced_deploy_by_a_lead_passes_the_freeze() {
    let decision = ask("deploy").by("U0LEAD").forced().at(IN_FREEZE).of(&policy(FORCEABLE));
    assert_eq!(verdict(&decision), ("allow", Some("policies.yaml:6".into())));
    assert_eq!(decision.reason(), "allowed by policies.yaml:6: leads may ship a fix through a freeze");
}

#[test]
fn the_same_deploy_without_force_is_still_frozen() {
    let decision = ask("deploy").by("U0LEAD").at(IN_FREEZE).of(&policy(FORCEABLE));
    assert_eq!(verdict(&decision), ("deny", Some("policies.yaml:18".into())));
}

#[test]
fn a_forced_request_that_only_an_unforced_rule_allows_is_denied_with_what_to_do() {
    let decision = ask("deploy").by("U0DEV").forced().of(&policy(FORCEABLE));
    assert_eq!(verdict(&decision), ("deny", Some("policies.yaml:4".into())));
    assert!(decision.reason().contains("ask again without it"), "{}", decision.reason());
}

#[test]
fn a_forced_request_nobody_may_make_is_the_default_deny() {
    let decision = ask("scale").forced().of(&policy(FORCEABLE));
    assert_eq!(verdict(&decision), ("deny", None));
}

#[test]
fn force_keeps_the_approval_its_rule_asks_for() {
    let decision = ask("rollback").by("U0LEAD").forced().at(IN_FREEZE).of(&policy(FORCEABLE));
    assert_eq!(decision.kind(), "approval");
}

#[test]
fn nothing_forces_past_a_deny() {
    let decision = ask("restart").by("U0LEAD").forced().of(&policy(FORCEABLE));
    assert_eq!(decision.reason(), "denied by rule policies.yaml:14: leads do not restart by hand");
}

#[test]
fn force_on_a_deny_rule_is_a_load_error() {
    let message = load_error("rules:\n  - deny: [deploy]\n    force: true\n");
    assert!(message.starts_with("policies.yaml:3:12: `force:` belongs to allow rules"), "{message}");
}
