//! A manual approval as one message: announced once from either source,
//! buttons that run the policy-checked commands, the decision shown with the
//! summary CodePipeline kept, and no buttons after.

use crate::notify::lifecycle::Lifecycle;
use chrono::{DateTime, Duration, TimeZone, Utc};

use super::*;

fn t(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap() + Duration::minutes(minute)
}

/// As CodePipeline's SNS approval notification says it.
fn from_sns() -> Waiting<'static> {
    Waiting {
        pipeline: "storefront-web",
        stage: "ApproveProd",
        action: "Manual",
        expires: Some(t(7 * 24 * 60)),
        review: Some("https://staging.shop.example/release/42"),
        console: Some("https://console.aws.amazon.com/codesuite/codepipeline/pipelines/storefront-web/view"),
        custom: Some("Check the canary dashboard first"),
    }
}

/// As the EventBridge action event says it: only the place.
fn from_eventbridge() -> Waiting<'static> {
    Waiting { pipeline: "storefront-web", stage: "ApproveProd", action: "Manual", ..Waiting::default() }
}

#[test]
fn an_approval_shows_what_to_review_and_buttons_that_run_the_commands() {
    let (record, effects) = announce(None, &from_sns(), t(0));
    assert_eq!(effects, [Effect::Post]);
    let reply = render(&record, t(1));
    let text = reply.text();
    assert!(
        text.contains(
            ":raising_hand: *storefront-web* waits for approval at *ApproveProd/Manual* — expires 2026-11-29"
        ),
        "{text}"
    );
    assert!(text.contains("what to review") && text.contains("Check the canary dashboard first"), "{text}");
    let presses: Vec<Press> = reply.all_buttons().map(|b| b.press.clone()).collect();
    assert_eq!(
        presses,
        [
            Press::Run("pipeline approve storefront-web ApproveProd/Manual".into()),
            Press::Ask("pipeline approve storefront-web ApproveProd/Manual".into()),
            Press::Ask("pipeline reject storefront-web ApproveProd/Manual".into()),
        ]
    );
}

#[test]
fn both_announcements_of_one_approval_make_one_message() {
    let (first, _) = announce(None, &from_eventbridge(), t(0));
    let (merged, effects) = announce(Some(first.clone()), &from_sns(), t(0));
    assert_eq!(effects, [Effect::Update], "the second source fills in, no second post");
    assert_eq!(merged.message_key(), first.message_key());
    assert_eq!(merged.custom.as_deref(), Some("Check the canary dashboard first"));
    let (again, effects) = announce(Some(merged.clone()), &from_sns(), t(1));
    assert_eq!((again, effects), (merged, vec![]), "a repeat changes nothing");
}

#[test]
fn a_decision_through_opsbot_names_who_and_removes_the_buttons() {
    let (mut record, _) = announce(None, &from_sns(), t(0));
    let effects = decide(&mut record, true, t(12), Some("Approved by Lee Lead (U0LEAD) via opsbot: canary green"));
    assert_eq!(effects.len(), 2);
    let reply = render(&record, t(13));
    assert!(
        reply.text().contains(
            ":white_check_mark: Approved at 09:12 UTC — “Approved by Lee Lead (U0LEAD) via opsbot: canary green”"
        ),
        "{}",
        reply.text()
    );
    assert_eq!(reply.all_buttons().count(), 0);
    assert_eq!(decide(&mut record, false, t(14), None), vec![], "decided once");
}

#[test]
fn a_rejection_elsewhere_and_an_expiry_say_so() {
    let (mut rejected, _) = announce(None, &from_sns(), t(0));
    decide(&mut rejected, false, t(5), None);
    assert!(render(&rejected, t(6)).text().contains(":no_entry: Rejected at 09:05 UTC (decided outside opsbot"));
    let (mut expired, _) = announce(None, &from_sns(), t(0));
    decide(&mut expired, false, t(7 * 24 * 60), None);
    assert!(render(&expired, t(7 * 24 * 60 + 1)).text().contains(":hourglass: Expired without a decision"));
}

#[test]
fn a_new_approval_after_a_decided_one_is_a_new_message() {
    let (mut record, _) = announce(None, &from_sns(), t(0));
    decide(&mut record, true, t(5), None);
    let (next, effects) = announce(Some(record.clone()), &from_sns(), t(60));
    assert_eq!(effects, [Effect::Post]);
    assert_ne!(next.message_key(), record.message_key());
}
