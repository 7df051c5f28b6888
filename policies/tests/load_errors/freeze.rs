//! Load errors in `freeze:` entries: times, days, missing parts.

use crate::support::load_error;

#[test]
fn a_freeze_ending_before_it_starts_is_refused() {
    assert_eq!(
        load_error(
            "freeze:\n  - { name: x, from: 2027-01-04T00:00:00Z, to: 2026-12-22T00:00:00Z, commands: [deploy] }\n"
        ),
        "policies.yaml:2:22: `from` (2027-01-04T00:00:00Z) must be before `to` (2026-12-22T00:00:00Z) — swap them?"
    );
}

#[test]
fn a_freeze_time_that_is_not_a_time_shows_the_format() {
    assert_eq!(
        load_error("freeze:\n  - { name: x, from: tomorrow, to: 2026-12-22, commands: [deploy] }\n"),
        "policies.yaml:2:22: `from: tomorrow` is not a time — write an RFC 3339 time like 2026-12-22T00:00:00Z or a \
         date like 2026-12-22 (UTC)"
    );
}

#[test]
fn an_unknown_weekday_lists_the_days() {
    assert_eq!(
        load_error("freeze:\n  - { name: x, weekly: [sat, sunday, fryday], commands: [deploy] }\n"),
        "policies.yaml:2:38: unknown weekday `fryday` in weekly — days: mon, tue, wed, thu, fri, sat, sun"
    );
}

#[test]
fn a_freeze_with_only_from_asks_for_to() {
    assert_eq!(
        load_error("freeze:\n  - { name: x, from: 2026-12-22T00:00:00Z, commands: [deploy] }\n"),
        "policies.yaml:2:5: a dated freeze needs both `from:` and `to:`"
    );
}

#[test]
fn a_freeze_both_dated_and_weekly_is_refused() {
    assert_eq!(
        load_error("freeze:\n  - { name: x, weekly: [sat], from: 2026-12-22, to: 2026-12-23, commands: [deploy] }\n"),
        "policies.yaml:2:5: a freeze needs either `from:` and `to:` (e.g. `from: 2026-12-22T00:00:00Z`) or \
         `weekly: [sat, sun]`, not both"
    );
}

#[test]
fn a_freeze_without_commands_or_name_says_what_to_add() {
    assert_eq!(
        load_error("freeze:\n  - name: x\n    weekly: [sat]\n"),
        "policies.yaml:2:5: freeze `x` needs `commands:` listing what it stops, e.g. `commands: [deploy]`"
    );
    assert_eq!(
        load_error("freeze:\n  - { weekly: [sat], commands: [deploy] }\n"),
        "policies.yaml:2:5: a freeze needs a `name:` (it is shown in every refusal), e.g. `name: holidays`"
    );
}
