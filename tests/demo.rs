//! `opsbot demo` as a new user runs it: the real binary, commands on stdin,
//! no credentials and no network.

use std::io::Write;
use std::process::{Command, Stdio};

fn demo(input: &str) -> (String, String, bool) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_opsbot"))
        .arg("demo")
        // Whatever the caller's environment holds, the demo must not need or touch it.
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("opsbot runs");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.success(),
    )
}

#[test]
fn the_demo_answers_help_and_pipelines_from_a_pipe() {
    let (out, err, ok) = demo("help\npipelines\n");
    assert!(ok, "exit status; stderr: {err}");
    for usage in ["pipelines", "pipeline NAME", "service CLUSTER/NAME", "param history NAME", "whoami"] {
        assert!(out.contains(usage), "help lacks {usage}:\n{out}");
    }
    assert!(out.contains("storefront-web — Failed"), "{out}");
    assert!(out.contains("payments-api"), "{out}");
    assert!(out.contains("catalog-service — Succeeded"), "{out}");
    assert!(!out.contains("opsbot console —"), "no banner when stdin is not a terminal:\n{out}");
}

#[test]
fn the_demo_shows_every_command_and_never_a_secret() {
    let script = "pipeline storefront-web\npipeline payments-api\nservices\nservice prod/api\nalarms\n\
                  param get /shop/prod/db-host\nparams /shop/prod\nparam history /shop/prod/db-password\nwhoami\n";
    let (out, err, ok) = demo(script);
    assert!(ok, "stderr: {err}");
    for expected in
        ["JobFailed", "ApproveProd", "prod/api", "rolling out", "shop-checkout-5xx", "SecureString", "U0CONSOLE"]
    {
        assert!(out.contains(expected), "{expected} missing:\n{out}");
    }
    // Every version of the demo's SecureString (bot/sandbox/seed/params.rs).
    for secret in ["Xq7!placeholder", "Vb9#rT2m!kLp4sQz", "pR0d-7f#Kq9!vLx2-Zw8"] {
        assert!(!out.contains(secret) && !err.contains(secret), "a SecureString value leaked: {secret}");
    }
}

#[test]
fn the_demo_shows_the_declared_prod_parameters_drifted_in_one_value() {
    let (out, err, ok) = demo("params diff prod\n");
    assert!(ok, "stderr: {err}");
    assert!(out.contains("Parameters of prod (/shop/prod/, from params/prod.yaml)"), "{out}");
    assert!(out.contains("/shop/prod/api/max-connections`: value `400` → `200`"), "{out}");
    assert!(out.contains("1 changed") && !out.contains("Missing") && !out.contains("Extra"), "{out}");
    assert!(!out.contains("pR0d-7f#Kq9!vLx2-Zw8"), "the declared secret leaked:\n{out}");
}

/// The fenced block of README.md that starts with `first`, as lines.
fn readme_block(first: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let lines: Vec<&str> = readme.lines().map(str::trim).collect();
    let start = lines.iter().position(|l| *l == first).unwrap_or_else(|| panic!("README lacks {first}"));
    lines[start..].iter().take_while(|l| !l.starts_with("```")).map(|l| (*l).to_owned()).collect()
}

#[test]
fn the_readme_preflight_example_is_what_the_demo_prints() {
    let block = readme_block("> run AWS-RunShellScript on tag:Environment=staging commands=uptime");
    let typed: String =
        block.iter().filter_map(|l| l.strip_prefix("> ")).map(|command| format!("{command}\n")).collect();
    let (out, err, ok) = demo(&typed);
    assert!(ok, "stderr: {err}");
    for line in block.iter().filter(|l| !l.starts_with("> ")) {
        assert!(out.contains(line.as_str()), "the demo does not print the README's line\n{line}\n---\n{out}");
    }
}

#[test]
fn the_alarm_the_story_fires_is_listed_by_alarms_until_it_recovers() {
    // The story fires `shop-checkout-latency` after the third line and
    // resolves it after the fifth (bot/sandbox/story.rs).
    let (out, err, ok) = demo("whoami\nwhoami\nwhoami\nalarms\nwhoami\nalarms\n");
    assert!(ok, "stderr: {err}");
    let listings: Vec<&str> = out.split("\nAlarms\n").skip(1).collect();
    assert_eq!(listings.len(), 2, "{out}");
    let listed = |listing: &str| listing.lines().any(|l| l.starts_with("! shop-checkout-latency — in alarm"));
    assert!(out.contains("! shop-checkout-latency is ALARM"), "the channel saw it fire:\n{out}");
    assert!(listed(listings[0]), "firing, and `alarms` lists it:\n{}", listings[0]);
    assert!(out.contains("shop-checkout-latency is OK again"), "{out}");
    assert!(!listed(listings[1]), "recovered, and `alarms` no longer lists it:\n{}", listings[1]);
    assert!(err.is_empty(), "the demo prints no warnings: {err}");
}

#[test]
fn retry_on_the_storys_failed_run_retries_the_run_the_pipeline_shows() {
    // The story's run fails after the fourth line; its Retry is choice [5]
    // (after the approval's three and the alarm's Ack), as the README shows.
    let (out, err, ok) = demo("whoami\nwhoami\nwhoami\nwhoami\n5\npipeline storefront-web\n");
    assert!(ok, "stderr: {err}");
    assert!(out.contains("execution `d3f1a2b4` failed") && out.contains("[5] Retry stage"), "{out}");
    assert!(
        out.contains(
            "Plan — `pipeline retry storefront-web Build --execution d3f1a2b4-7c6e-4e1a-9b2d-5f8e7a6c4b3d \
             --account shop`"
        ),
        "Retry plans a retry of the run the story told, in the account its message names:\n{out}"
    );
    let shown = out.split("storefront-web: Failed").nth(1).expect("`pipeline storefront-web` answers");
    assert!(
        shown.contains("`d3f1a2b4-7c6e-4e1a-9b2d-5f8e7a6c4b3d`"),
        "the pipeline's latest run is that one:\n{shown}"
    );
    assert!(shown.contains("npm test: 2 failing (checkout.spec.ts: retries the payment call)"), "{shown}");
}

#[test]
fn the_demos_notifications_name_its_account_and_typed_lines_act_in_the_bots_own() {
    let (out, err, ok) =
        demo("whoami\npipeline storefront-web --account shop\npipeline storefront-web --account prod\n");
    assert!(ok, "stderr: {err}");
    let notification = out.split("── #ops ──").nth(1).expect("a notification");
    assert!(notification.contains("\n  Account shop\n"), "named as aws.accounts names it:\n{notification}");
    assert!(out.contains("In shop"), "an answer from the named account says so:\n{out}");
    assert!(out.contains("I don't know the account `prod`"), "only the demo's account is known:\n{out}");
}

#[test]
fn an_approval_once_decided_shows_who_decided_and_loses_its_buttons() {
    // A lead presses the story's [1] Approve, confirms the plan ([4]), and the
    // account tells the decision as CodePipeline would.
    let (out, err, ok) = demo(":as U0LEAD1\n1\n4\nwhoami\n");
    assert!(ok, "stderr: {err}");
    let edited = out
        .split("── #ops (edited) ──\n")
        .find(|m| m.starts_with("payments-api: manual approval at ApproveProd/ManualApproval"))
        .unwrap_or_else(|| panic!("the approval's message is edited once decided:\n{out}"));
    let message = edited.split("\n──").next().unwrap();
    assert!(message.contains("✓ Approved at") && message.contains("U0LEAD1"), "{message}");
    assert!(!message.contains("] Approve") && !message.contains("] Reject"), "no buttons left:\n{message}");
}

#[test]
fn answers_that_name_what_was_not_found_print_no_warnings_on_stderr() {
    let (out, err, ok) = demo("param get /nope\npipeline nope\nservice prod/nope\n");
    assert!(ok, "stderr: {err}");
    assert!(out.contains("parameter `/nope` was not found") && out.contains("pipeline `nope` was not found"), "{out}");
    assert!(err.is_empty(), "the demo prints warnings on stderr:\n{err}");
}

#[test]
fn the_readme_try_it_script_prints_the_notification_the_readme_shows() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let script = readme.lines().find_map(|l| l.strip_prefix("printf '")?.split_once("' | cargo run -- demo"));
    let (script, _) = script.expect("README has a scripted demo");
    let (out, err, ok) = demo(&script.replace("\\n", "\n"));
    assert!(ok, "stderr: {err}");
    for line in readme_block("── #ops (edited) ──").iter().filter(|l| !l.is_empty()) {
        assert!(out.contains(line.as_str()), "the README's script does not print\n{line}\n---\n{out}");
    }
}

#[test]
fn the_approved_run_is_the_one_the_channel_saw_start_shown_once_with_its_true_start_and_ends_succeeded() {
    // A lead approves the story's payments-api approval; CodePipeline's
    // action event then moves that run, which the channel was told of first.
    let (out, err, ok) = demo(":as U0LEAD1\n1\n4\nwhoami\n");
    assert!(ok, "stderr: {err}");
    let run = "⟳ payments-api — execution `5e1a7c93` in progress (started 52m ago)";
    let posted = out.split("── #ops ──\n").filter(|m| m.starts_with(run)).count();
    let edited = out.split("── #ops (edited) ──\n").filter(|m| m.starts_with(run)).count();
    assert_eq!((posted, edited), (1, 1), "posted once when the story starts, edited on approval:\n{out}");
    assert!(!out.contains("payments-api — execution `5e1a7c93` in progress (started just now)"), "{out}");
    let last = out.rsplit("── #ops (edited) ──\n").find(|m| m.contains("payments-api — execution `5e1a7c93`"));
    let last = last.unwrap_or_else(|| panic!("the run's message is edited as it moves on:\n{out}"));
    assert!(
        last.starts_with("✓ payments-api — execution `5e1a7c93` succeeded"),
        "the channel shows where the deploy left the run, as the change's own message does:\n{last}"
    );
}
