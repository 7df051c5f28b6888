//! An alarm's life as one message: episodes, thread lines, flapping,
//! out-of-order events, escalation and resolution.

use crate::notify::lifecycle::Lifecycle;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, TimeZone, Utc};
use opsbot_commands::ports::AlarmState::{self, Alarm, InsufficientData, Ok as Fine};
use opsbot_commands::ports::alerts::Ack;
use opsbot_commands::values::SlackUserId;

use super::*;

const ARN: &str = "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:shop-5xx";

fn t(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap() + Duration::minutes(minute)
}

fn rules() -> AlarmSettings {
    AlarmSettings {
        escalate_after: StdDuration::from_secs(600),
        flapping_transitions: 4,
        flapping_within: StdDuration::from_secs(600),
    }
}

fn change(state: AlarmState, minute: i64) -> AlarmChange {
    let reason = if state == Fine { "Threshold Crossed: back under 1.0" } else { "Threshold Crossed: 5.0 > 1.0" };
    AlarmChange {
        arn: ARN.into(),
        name: "shop-5xx".into(),
        state,
        previous: None,
        reason: reason.into(),
        at: t(minute),
        description: Some("5xx on the shop".into()),
    }
}

/// Applies the changes in order, returning the alert and every effect.
fn run(changes: &[(AlarmState, i64)]) -> (Option<AlertRecord>, Vec<Effect>) {
    let (mut kept, mut effects) = (None, Vec::new());
    for (state, minute) in changes {
        let step = apply(kept, &change(*state, *minute), &rules(), &Mrkdwn::subteam("S0ONCALL"));
        kept = step.alert;
        effects.extend(step.effects);
    }
    (kept, effects)
}

fn threads(effects: &[Effect]) -> Vec<&str> {
    effects.iter().filter_map(|e| if let Effect::Thread(line) = e { Some(line.as_str()) } else { None }).collect()
}

#[test]
fn an_alarm_posts_once_then_edits_and_resolves_with_its_duration() {
    let (alert, effects) = run(&[(Alarm, 0), (InsufficientData, 5), (Fine, 23)]);
    let alert = alert.unwrap();
    assert_eq!(effects.iter().filter(|e| **e == Effect::Post).count(), 1);
    assert_eq!(effects.iter().filter(|e| **e == Effect::Update).count(), 2);
    assert_eq!(threads(&effects).len(), 3, "every change has its line: {effects:?}");
    assert_eq!(alert.resolved, Some(t(23)));
    let text = render(&alert, t(30)).text();
    assert!(text.contains("*shop-5xx* is OK again — resolved after 23m"), "{text}");
    assert_eq!(render(&alert, t(30)).all_buttons().count(), 0, "a resolved alert has no Ack");
}

#[test]
fn an_open_alarm_mentions_the_role_and_offers_ack_running_alert_ack_by_arn() {
    let (alert, _) = run(&[(Alarm, 0)]);
    let reply = render(&alert.unwrap(), t(3));
    assert!(reply.text().contains("<!subteam^S0ONCALL> :rotating_light: *shop-5xx* is *ALARM* since 3m ago"));
    let ack = reply.all_buttons().next().expect("an Ack button");
    assert_eq!(ack.press, Press::Run(format!("alert ack {ARN}")));
}

#[test]
fn ok_without_an_open_alert_posts_nothing() {
    let (alert, effects) = run(&[(Fine, 0)]);
    assert_eq!((alert, effects), (None, vec![]));
}

#[test]
fn the_next_episode_gets_a_new_message() {
    let (first, _) = run(&[(Alarm, 0), (Fine, 5)]);
    let first = first.unwrap();
    let step = apply(Some(first.clone()), &change(Alarm, 60), &rules(), &Mrkdwn::new());
    let second = step.alert.unwrap();
    assert_ne!(first.message_key(), second.message_key());
    assert_eq!(step.effects[0], Effect::Post);
}

#[test]
fn a_late_event_older_than_the_last_change_changes_nothing() {
    let (alert, _) = run(&[(Alarm, 10)]);
    let step = apply(alert.clone(), &change(Fine, 5), &rules(), &Mrkdwn::new());
    assert_eq!(step, Step { alert, effects: vec![] });
}

#[test]
fn a_repeated_state_is_not_a_change() {
    let (_, effects) = run(&[(Alarm, 0), (Alarm, 1)]);
    assert_eq!(effects.iter().filter(|e| **e == Effect::Update).count(), 0);
}

#[test]
fn flapping_collapses_into_one_line_and_settles_only_after_a_calm_window() {
    let (alert, effects) =
        run(&[(Alarm, 0), (Fine, 1), (Alarm, 2), (Fine, 3), (Alarm, 4), (Fine, 5), (Alarm, 6), (Fine, 7)]);
    let mut alert = alert.unwrap();
    let lines = threads(&effects);
    assert_eq!(lines.len(), 4, "three changes, then one flapping line: {lines:?}");
    assert!(lines[3].starts_with(":ocean: Flapping: 4 state changes in 10m"), "{lines:?}");
    assert!(alert.flapping && alert.is_open(), "OK while flapping keeps it open");
    assert!(render(&alert, t(8)).text().contains("is *flapping*"));
    assert!(!settle(&mut alert, t(12), &rules()), "not calm for a whole window yet");
    assert!(settle(&mut alert, t(17), &rules()));
    assert_eq!(alert.resolved, Some(t(7)));
}

#[test]
fn changes_outside_the_window_do_not_count_as_flapping() {
    let (alert, _) = run(&[(Alarm, 0), (InsufficientData, 15), (Alarm, 30), (InsufficientData, 45)]);
    assert!(!alert.unwrap().flapping);
}

#[test]
fn an_unacknowledged_alarm_escalates_once_after_the_delay() {
    let (alert, _) = run(&[(Alarm, 0)]);
    let mut alert = alert.unwrap();
    assert_eq!(escalate(&mut alert, t(9), &rules()), None);
    let line = escalate(&mut alert, t(10), &rules()).expect("escalated at 10m");
    assert!(
        line.as_str().starts_with(":rotating_light: <!subteam^S0ONCALL>: *shop-5xx* has been firing for 10m"),
        "{line:?}"
    );
    assert_eq!(escalate(&mut alert, t(30), &rules()), None, "only once");
}

#[test]
fn an_acknowledged_alarm_does_not_escalate_and_says_who_took_it() {
    let (alert, _) = run(&[(Alarm, 0)]);
    let mut alert = alert.unwrap();
    alert.acked = Some(Ack { by: SlackUserId::parse("U0ONCALL").unwrap(), at: t(2) });
    assert_eq!(escalate(&mut alert, t(20), &rules()), None);
    let reply = render(&alert, t(4));
    assert!(reply.text().contains(":eyes: Acknowledged by <@U0ONCALL> 2m ago"), "{}", reply.text());
    assert_eq!(reply.all_buttons().count(), 0);
}

#[test]
fn firing_again_soon_after_ok_reopens_the_same_message() {
    let (alert, effects) = run(&[(Alarm, 0), (Fine, 2), (Alarm, 4)]);
    let alert = alert.unwrap();
    assert!(alert.is_open());
    assert_eq!(alert.episode, t(0), "the same episode, so the same message");
    assert_eq!(effects.iter().filter(|e| **e == Effect::Post).count(), 1);
}

#[test]
fn changes_stamped_the_same_second_apply_in_arrival_order() {
    let (alert, _) = run(&[(Alarm, 0), (Fine, 0)]);
    assert_eq!(alert.unwrap().resolved, Some(t(0)));
}
