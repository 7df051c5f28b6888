//! A pipeline execution as one message: posted once, stages in order, thread
//! lines for what matters, failures with their error and a Retry button,
//! late and repeated events harmless.

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::*;
use crate::notify::event::ExecutionState as State;

fn t(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap() + Duration::minutes(minute)
}

fn ev(minute: i64, what: What<'static>) -> Event<'static> {
    Event { pipeline: "storefront-web", execution: "1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d", at: t(minute), what }
}

fn stage(name: &'static str, state: State) -> What<'static> {
    What::Stage { stage: name, state }
}

fn run(events: &[Event<'static>]) -> (RunRecord, Vec<Effect>) {
    let (mut kept, mut effects) = (None, Vec::new());
    for event in events {
        let (run, more) = apply(kept, event);
        kept = Some(run);
        effects.extend(more);
    }
    (kept.unwrap(), effects)
}

fn threads(effects: &[Effect]) -> Vec<&str> {
    effects.iter().filter_map(|e| if let Effect::Thread(line) = e { Some(line.as_str()) } else { None }).collect()
}

#[test]
fn an_execution_is_one_message_edited_as_its_stages_move() {
    use State::*;
    let (run, effects) = run(&[
        ev(0, What::Execution { state: Started, trigger: Some("Webhook") }),
        ev(0, stage("Source", Started)),
        ev(1, stage("Source", Succeeded)),
        ev(1, stage("Build", Started)),
        ev(1, What::Action { stage: "Build", action: "CodeBuild", state: Started, error: None, build: None }),
        ev(6, stage("Build", Succeeded)),
        ev(12, What::Execution { state: Succeeded, trigger: None }),
    ]);
    assert_eq!(effects.iter().filter(|e| **e == Effect::Post).count(), 1, "{effects:?}");
    assert_eq!(
        threads(&effects),
        [
            ":arrows_counterclockwise: Execution in progress",
            ":arrows_counterclockwise: Stage *Source* in progress",
            ":white_check_mark: Stage *Source* succeeded",
            ":arrows_counterclockwise: Stage *Build* in progress",
            ":white_check_mark: Stage *Build* succeeded",
            ":white_check_mark: Execution succeeded in 12m",
        ]
    );
    let text = render(&run, t(13)).text();
    assert!(
        text.contains("*storefront-web* — execution `1a2b3c4d` succeeded (after 12m, triggered by Webhook)"),
        "{text}"
    );
    assert!(text.contains(":white_check_mark: Source   :white_check_mark: Build"), "{text}");
}

#[test]
fn a_failed_action_shows_its_error_and_offers_to_retry_the_stage() {
    use State::*;
    let error = "Error while executing command: npm test. Reason: exit status 1";
    let (run, effects) = run(&[
        ev(0, stage("Build", Started)),
        ev(3, What::Action { stage: "Build", action: "UnitTests", state: Failed, error: Some(error), build: None }),
        ev(3, stage("Build", Failed)),
        ev(3, What::Execution { state: Failed, trigger: None }),
    ]);
    assert!(threads(&effects).contains(
        &":x: Action *Build/UnitTests* failed: Error while executing command: npm test. Reason: exit status 1"
    ));
    let reply = render(&run, t(4));
    assert!(
        reply.text().contains(":x: Failed at *Build/UnitTests*\nError while executing command"),
        "{}",
        reply.text()
    );
    let retry = reply.all_buttons().next().expect("Retry stage");
    assert_eq!(
        retry.press,
        Press::Run("pipeline retry storefront-web Build --execution 1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d".into()),
        "the button retries the execution it shows, not whichever failed last"
    );
}

#[test]
fn a_late_or_repeated_event_changes_nothing_it_should_not() {
    use State::*;
    let (run, effects) = run(&[
        ev(0, stage("Build", Started)),
        ev(5, stage("Build", Succeeded)),
        ev(2, stage("Build", Started)),
        ev(5, stage("Build", Succeeded)),
        ev(9, What::Execution { state: Succeeded, trigger: None }),
        ev(3, What::Execution { state: Started, trigger: None }),
    ]);
    assert_eq!(run.stages[0].state, Succeeded);
    assert_eq!(run.state, Some(Succeeded), "an ended execution never goes back");
    assert_eq!(threads(&effects).len(), 3, "{effects:?}");
}

#[test]
fn a_running_execution_has_no_retry_button() {
    let (run, _) = run(&[ev(0, stage("Deploy", State::Started))]);
    assert_eq!(render(&run, t(1)).all_buttons().count(), 0);
    assert!(render(&run, t(1)).text().contains("in progress (started 1m ago)"));
}
