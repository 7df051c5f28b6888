//! The notifications `opsbot demo` tells, as AWS would deliver them
//! (EventBridge events and CodePipeline's SNS approval message), about the
//! sandbox's own pipelines and alarms: `storefront-web` runs and fails at
//! Build, `shop-checkout-latency` fires and recovers, and `payments-api` waits
//! for a lead's approval. One step per command line (see
//! `console::notices`), times from `start` on, a minute apart — except the
//! start of the `payments-api` run waiting for approval, told at the time
//! the sandbox says it started.
//!
//! The account follows the story ([`Story::sandbox`], see
//! [`Sandbox::follow`]): as an alarm's event is told, the sandbox's alarm
//! takes that state, so `alarms` lists the alarm the channel just saw fire.

use chrono::Duration;
use serde_json::{Value, json};

use super::events::{event, run_event};

use std::sync::Arc;

use super::Sandbox;
use super::account::{ACCOUNT_ID, REGION};
use super::seed::pipelines::{STOREFRONT_COMMIT, STOREFRONT_RUN};
use opsbot_commands::ports::Time;

/// The story to tell and the account it is about.
pub struct Story {
    /// Each step's notification bodies.
    pub steps: Vec<Vec<String>>,
    /// Follows every body as it is told.
    pub sandbox: Arc<Sandbox>,
}

/// The CodeBuild build whose failure the story tells; its log is [`failed_build_log`].
pub const FAILED_BUILD: &str = "storefront-web:6a0e2f4c-9b1d-4c3e-8f7a-2d5b9c1e0a47";

const ALARM: &str = "shop-checkout-latency";

fn pipeline(id: &str, at: Time, detail_type: &str, extra: Value) -> String {
    run_event("storefront-web", STOREFRONT_RUN, id, at, detail_type, extra)
}

/// The execution of `payments-api` waiting for approval: its id and when it
/// started, as the sandbox has it.
struct Waiting {
    id: String,
    started: Time,
}

/// The sandbox's `payments-api` run, whose approval the story announces.
fn waiting_run(sandbox: &Sandbox) -> Waiting {
    sandbox.read(|account| {
        let latest =
            account.pipelines.iter().find(|(name, _)| name.as_str() == "payments-api").and_then(|(_, p)| p.latest());
        let latest = latest.expect("the demo account seeds a payments-api run");
        Waiting { id: latest.id.clone(), started: latest.started.unwrap_or(account.now) }
    })
}

fn stage(id: &str, at: Time, stage: &str, state: &str) -> String {
    pipeline(id, at, "CodePipeline Stage Execution State Change", json!({"stage": stage, "state": state}))
}

fn alarm(id: &str, at: Time, state: &str, reason: &str) -> String {
    let arn = format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT_ID}:alarm:{ALARM}");
    let detail = json!({"alarmName": ALARM, "state": {"value": state, "reason": reason, "timestamp": at.to_rfc3339()},
        "configuration": {"description": "Checkout p99 latency over 2 s"}});
    event(id, at, "CloudWatch Alarm State Change", "aws.cloudwatch", arn, detail)
}

/// The demo's story about `sandbox`, from `start` on.
pub fn demo_story(start: Time, sandbox: Arc<Sandbox>) -> Story {
    let waiting = waiting_run(&sandbox);
    Story { steps: steps(start, &waiting), sandbox }
}

/// The story's steps, each a list of bodies.
fn steps(start: Time, waiting: &Waiting) -> Vec<Vec<String>> {
    let at = |minutes: i64| start + Duration::minutes(minutes);
    let trigger = json!({"trigger-type": "Webhook", "commit-id": STOREFRONT_COMMIT, "commit-message": "Checkout: retry the payment call",
        "author-display-name": "li.wei"});
    let approval = json!({"region": REGION, "consoleLink": "https://console.aws.amazon.com/codesuite/codepipeline/pipelines/payments-api/view",
        "approval": {"pipelineName": "payments-api", "stageName": "ApproveProd", "actionName": "ManualApproval",
        "token": "demo-approval-token", "expires": (start + Duration::days(7)).format("%Y-%m-%dT%H:%MZ").to_string(),
        "customData": "Staging is green; check the canary before approving."}})
    .to_string();
    let failed = json!({"stage": "Build", "action": "UnitTests", "state": "FAILED",
        "type": {"owner": "AWS", "category": "Test", "provider": "CodeBuild", "version": "1"},
        "execution-result": {"external-execution-summary": "npm test: 2 failing (checkout.spec.ts: retries the payment call)",
            "external-execution-id": FAILED_BUILD}});
    // The approval's run is told from its real start, before the approval:
    // when a lead decides, CodePipeline's action event then moves a run the
    // channel already shows instead of posting one it never saw start.
    let waiting_started = run_event(
        "payments-api",
        &waiting.id,
        "demo-0",
        waiting.started,
        "CodePipeline Pipeline Execution State Change",
        json!({"state": "STARTED"}),
    );
    vec![
        vec![
            waiting_started,
            pipeline(
                "demo-1",
                at(0),
                "CodePipeline Pipeline Execution State Change",
                json!({"state": "STARTED", "execution-trigger": trigger}),
            ),
            stage("demo-2", at(0), "Source", "STARTED"),
            approval,
        ],
        vec![stage("demo-3", at(1), "Source", "SUCCEEDED"), stage("demo-4", at(1), "Build", "STARTED")],
        vec![alarm(
            "demo-5",
            at(2),
            "ALARM",
            "Threshold Crossed: 3 datapoints were greater than the threshold (2000.0).",
        )],
        vec![
            pipeline("demo-6", at(3), "CodePipeline Action Execution State Change", failed),
            stage("demo-7", at(3), "Build", "FAILED"),
            pipeline("demo-8", at(3), "CodePipeline Pipeline Execution State Change", json!({"state": "FAILED"})),
        ],
        vec![alarm(
            "demo-9",
            at(5),
            "OK",
            "Threshold Crossed: 3 datapoints were not greater than the threshold (2000.0).",
        )],
    ]
}

/// The end of [`FAILED_BUILD`]'s log, as CodeBuild writes it; one line
/// carries a token, which the thread must show redacted.
pub fn failed_build_log() -> Vec<String> {
    [
        "[Container] 2026/12/07 09:03:11 Running command npm test",
        "> storefront-web@5.4.0 test",
        "> jest --ci",
        "PASS src/cart/cart.spec.ts",
        "FAIL src/checkout/checkout.spec.ts",
        "  ● checkout › retries the payment call",
        "    expect(received).toBe(expected)",
        "    Expected: 2",
        "    Received: 1",
        "  ● checkout › gives up after three attempts",
        "    Timeout - Async callback was not invoked within 5000 ms",
        "    at PaymentClient.post (src/checkout/payment.ts:41:11) with NPM_TOKEN=npm_d3m0t0k3n",
        "Tests: 2 failed, 57 passed, 59 total",
        "[Container] 2026/12/07 09:03:42 Command did not exit successfully npm test exit status 1",
        "[Container] 2026/12/07 09:03:42 Phase complete: BUILD State: FAILED",
    ]
    .map(str::to_owned)
    .to_vec()
}
