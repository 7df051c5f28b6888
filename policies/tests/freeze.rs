//! Freeze windows: dated (from inclusive, to exclusive) and weekly (UTC days).

use crate::support::{ask, policy, verdict};

const FROZEN: &str = "
roles: { devs: { everyone: true }, leads: { users: [U0LEAD] } }
rules:
  - allow: [deploy, restart, scale]
    to: devs
  - allow: [rollback]
    to: devs
    approval: { by: leads }
  - deny: [scale]
    reason: scaling is done by autoscaling
freeze:
  - { name: holidays, from: 2026-12-22T00:00:00Z, to: 2027-01-04T00:00:00Z, commands: [deploy, rollback, scale], reason: holiday change freeze }
  - name: weekends
    weekly: [sat, Sunday]
    commands: restart
  - { name: launch, from: 2026-06-01, to: 2026-06-02, commands: [deploy] }
";

#[test]
fn a_dated_freeze_starts_exactly_at_from() {
    let frozen = policy(FROZEN);
    assert!(ask("deploy").at("2026-12-21T23:59:59Z").of(&frozen).is_allowed());
    let decision = ask("deploy").at("2026-12-22T00:00:00Z").of(&frozen);
    assert_eq!(verdict(&decision), ("deny", Some("policies.yaml:12".into())));
    assert_eq!(
        decision.reason(),
        "denied by freeze `holidays` (policies.yaml:12): holiday change freeze \
         (from 2026-12-22T00:00:00+00:00 to 2027-01-04T00:00:00+00:00)"
    );
}

#[test]
fn a_dated_freeze_ends_just_before_to() {
    let frozen = policy(FROZEN);
    assert_eq!(ask("deploy").at("2027-01-03T23:59:59Z").of(&frozen).kind(), "deny");
    assert!(ask("deploy").at("2027-01-04T00:00:00Z").of(&frozen).is_allowed());
}

#[test]
fn a_freeze_turns_a_request_needing_approval_into_a_deny() {
    let decision = ask("rollback").at("2026-12-24T09:00:00Z").of(&policy(FROZEN));
    assert_eq!(verdict(&decision), ("deny", Some("policies.yaml:12".into())));
}

#[test]
fn a_deny_rule_still_decides_inside_a_freeze() {
    let decision = ask("scale").at("2026-12-24T09:00:00Z").of(&policy(FROZEN));
    assert_eq!(decision.reason(), "denied by rule policies.yaml:9: scaling is done by autoscaling");
}

#[test]
fn a_freeze_leaves_commands_it_does_not_list_alone() {
    assert!(ask("restart").at("2026-12-24T09:00:00Z").of(&policy(FROZEN)).is_allowed());
}

#[test]
fn a_weekly_freeze_covers_whole_utc_days() {
    let frozen = policy(FROZEN);
    assert!(ask("restart").at("2026-05-08T23:59:59Z").of(&frozen).is_allowed(), "Friday");
    let saturday = ask("restart").at("2026-05-09T00:00:00Z").of(&frozen);
    assert_eq!(verdict(&saturday), ("deny", Some("policies.yaml:13".into())));
    assert_eq!(
        saturday.reason(),
        "denied by freeze `weekends` (policies.yaml:13): change freeze `weekends` (every sat, sun, UTC)"
    );
    assert_eq!(ask("restart").at("2026-05-10T23:59:59Z").of(&frozen).kind(), "deny", "Sunday");
    assert!(ask("restart").at("2026-05-11T00:00:00Z").of(&frozen).is_allowed(), "Monday");
}

#[test]
fn a_freeze_given_as_dates_runs_from_midnight_to_midnight_utc() {
    let frozen = policy(FROZEN);
    assert!(ask("deploy").at("2026-05-31T23:59:59Z").of(&frozen).is_allowed());
    assert_eq!(ask("deploy").at("2026-06-01T00:00:00Z").of(&frozen).kind(), "deny");
    assert!(ask("deploy").at("2026-06-02T00:00:00Z").of(&frozen).is_allowed());
}

#[test]
fn a_freeze_does_not_turn_a_default_deny_into_anything_else() {
    let decision = ask("deploy")
        .by("U0X")
        .at("2026-12-24T09:00:00Z")
        .of(&policy("freeze: [{ name: x, weekly: [thu], commands: [deploy] }]"));
    assert_eq!(verdict(&decision), ("deny", None));
}
