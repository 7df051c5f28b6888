//! `run` against the fake: parsing, the plan, sending, following each
//! instance, and how the result reads.

use std::sync::Arc;

use super::*;
use crate::Command;
use crate::change::Verdict;
use crate::testing::ssm::command;
use crate::testing::{FakeAws, ctx};

fn run(text: &str) -> RunCommand {
    match Command::parse(text).unwrap() {
        Command::Run(c) => c,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_document_targets_and_parameters_parse() {
    let c = run("run AWS-RunShellScript on tag:Environment=staging \"commands=systemctl reload nginx\"");
    assert_eq!(c.document.as_str(), "AWS-RunShellScript");
    assert_eq!(c.targets, Targets::Tag { key: "Environment".into(), values: vec!["staging".into()] });
    assert_eq!(c.parameters.0, [("commands".to_string(), vec!["systemctl reload nginx".to_string()])]);
    let ids = run("run AWS-RunShellScript ON i-0abc123def4567890,i-12345678");
    assert_eq!(ids.targets, Targets::Instances(vec!["i-0abc123def4567890".into(), "i-12345678".into()]));
}

#[test]
fn a_missing_on_or_bad_targets_say_what_to_write() {
    let err = Command::parse("run AWS-RunShellScript tag:Env=x").unwrap_err();
    assert!(err.message.contains("needs `on`"), "{}", err.message);
    let err = Command::parse("run AWS-RunShellScript on staging").unwrap_err();
    assert!(err.message.contains("tag:KEY=VALUE"), "{}", err.message);
    assert!(Command::parse("run AWS-RunShellScript on").is_err());
}

#[test]
fn policies_see_the_document_and_the_targets() {
    let c = Command::parse("run Shop-Reload on tag:Role=web").unwrap();
    assert_eq!(c.policy_args(), [("document", "Shop-Reload".to_string()), ("targets", "tag:Role=web".to_string())]);
}

#[tokio::test]
async fn the_plan_names_the_document_targets_and_parameters() {
    let c = run("run AWS-RunShellScript on tag:Environment=staging commands=uptime");
    let plan = c.plan(&ctx(), &FakeAws::default().with_ssm_catalog().gateways()).await.unwrap();
    assert_eq!(
        plan.lines,
        [
            "Run *AWS-RunShellScript* on instances tagged `Environment=staging`",
            "• `commands` = `uptime`",
            "Resolves to 2 instances (`i-0abc123def4567890`, `i-0abc123def4567891`)"
        ]
    );
    assert_eq!(plan.verdict, Verdict::Ready);
}

#[tokio::test]
async fn act_sends_it_and_check_follows_every_instance_to_the_end() {
    let running = command(
        "AWS-RunShellScript",
        RunStatus::InProgress,
        &[("i-1", RunStatus::Success, "ok"), ("i-2", RunStatus::InProgress, "")],
    );
    let done = command(
        "AWS-RunShellScript",
        RunStatus::Success,
        &[("i-1", RunStatus::Success, "up 3 days"), ("i-2", RunStatus::Success, "up 5 days")],
    );
    let aws = Arc::new(FakeAws::default().with_command_states(vec![running, done]));
    let gw = FakeAws::share(&aws);
    let c = run("run AWS-RunShellScript on tag:Environment=staging commands=uptime");

    let outcome = c.act(&ctx(), &gw).await.unwrap();
    let first = c.check(&ctx(), &gw, &outcome).await.unwrap();
    let last = c.check(&ctx(), &gw, &outcome).await.unwrap();

    assert_eq!(aws.ssm.sent.lock().unwrap()[0].1, c.targets);
    assert_eq!(outcome.lines, ["Sent *AWS-RunShellScript* (command `c0mmand-1`)."]);
    assert_eq!(first, Progress::Running("`AWS-RunShellScript`: 1 of 2 instances done, 1 in progress".into()));
    let Progress::Done(text) = last else { panic!("{last:?}") };
    assert!(text.starts_with("`AWS-RunShellScript` success on 2 of 2 instances."), "{text}");
    assert!(text.contains("• :white_check_mark: `i-2`: success"), "{text}");
    assert!(text.contains("Output of `i-1`:\n```\nup 3 days\n```"), "{text}");
}

#[tokio::test]
async fn a_failed_instance_fails_the_run_and_its_output_comes_first() {
    let mut result = command(
        "AWS-RunShellScript",
        RunStatus::Failed,
        &[("i-1", RunStatus::Success, "fine"), ("i-2", RunStatus::Failed, "nginx: [emerg] <bad> config")],
    );
    result.invocations[1].detail = Some("Failed".into());
    let gw = FakeAws::default().with_command_states(vec![result]).gateways();
    let c = run("run AWS-RunShellScript on tag:Environment=staging");
    let outcome = c.act(&ctx(), &gw).await.unwrap();

    let Progress::Failed(text) = c.check(&ctx(), &gw, &outcome).await.unwrap() else { panic!() };

    assert!(text.contains("failed on 1 of 2 instances (1 did not succeed)"), "{text}");
    assert!(text.contains(":x: `i-2`: failed"), "{text}");
    let (i2, i1) = (text.find("Output of `i-2`").unwrap(), text.find("Output of `i-1`").unwrap());
    assert!(i2 < i1 && text.contains("&lt;bad&gt;"), "{text}");
}

#[tokio::test]
async fn a_failed_runs_output_shows_no_access_key_token_or_password() {
    let stderr = "+ export PASSWORD=hunter2\nusing AKIAIOSFODNN7EXAMPLE\nposting with xoxb-1234-5678-abcdef\nmigrate: password=hunter2 rejected";
    let result = command("AWS-RunShellScript", RunStatus::Failed, &[("i-1", RunStatus::Failed, stderr)]);
    let gw = FakeAws::default().with_command_states(vec![result]).gateways();
    let c = run("run AWS-RunShellScript on tag:Environment=staging");
    let outcome = c.act(&ctx(), &gw).await.unwrap();

    let Progress::Failed(text) = c.check(&ctx(), &gw, &outcome).await.unwrap() else { panic!() };

    assert!(text.contains("Output of `i-1`"), "{text}");
    assert!(text.contains("+ export PASSWORD=[redacted]\nusing [redacted]\nposting with [redacted]"), "{text}");
    assert!(text.contains("migrate: password=[redacted] rejected"), "{text}");
    assert!(!text.contains("hunter2") && !text.contains("AKIAIOSFODNN7EXAMPLE") && !text.contains("xoxb-"), "{text}");
}

#[tokio::test]
async fn a_command_that_reached_no_instance_is_a_failure() {
    let empty = command("AWS-RunShellScript", RunStatus::Success, &[]);
    let gw = FakeAws::default().with_command_states(vec![empty]).gateways();
    let c = run("run AWS-RunShellScript on tag:Environment=stagin");
    let outcome = c.act(&ctx(), &gw).await.unwrap();
    let progress = c.check(&ctx(), &gw, &outcome).await.unwrap();
    assert_eq!(
        progress,
        Progress::Failed("`AWS-RunShellScript` reached no instance: nothing matched its targets.".into())
    );
}

#[test]
fn a_report_lists_many_instances_briefly_and_keeps_output_within_bounds() {
    let many: Vec<(String, RunStatus, String)> =
        (0..30).map(|n| (format!("i-{n:08x}"), RunStatus::Success, "line\n".repeat(500))).collect();
    let refs: Vec<(&str, RunStatus, &str)> = many.iter().map(|(i, s, o)| (i.as_str(), s.clone(), o.as_str())).collect();
    let text = report(&command("Doc", RunStatus::Success, &refs));
    assert!(text.contains("• … and 10 more"), "{text}");
    assert_eq!(text.matches("Output of").count(), 3);
    let output: usize = text.split("```").skip(1).step_by(2).map(|o| o.chars().count()).sum();
    assert!(output <= OUTPUT_MAX + 10, "{output}");
}

/// The reasons a run in progress makes it unsafe now (what `--force` goes past).
async fn busy_reasons(aws: FakeAws, text: &str) -> Vec<String> {
    match run(text).plan(&ctx(), &aws.gateways()).await.unwrap().verdict {
        Verdict::Unsafe(reasons) => reasons,
        other => panic!("{text}: {other:?}"),
    }
}

/// The reasons it cannot be done as asked (never forced past).
async fn refusal(aws: FakeAws, text: &str) -> Vec<String> {
    match run(text).plan(&ctx(), &aws.gateways()).await.unwrap().verdict {
        Verdict::Invalid(reasons) => reasons,
        other => panic!("{text}: {other:?}"),
    }
}

#[tokio::test]
async fn a_tag_that_matches_no_managed_instance_is_refused_saying_what_was_looked_for() {
    let reasons = refusal(
        FakeAws::default().with_ssm_catalog(),
        "run AWS-RunShellScript on tag:Environment=stagin commands=uptime",
    )
    .await;
    assert_eq!(reasons, ["no SSM-managed instance matches: looked for instances tagged `Environment=stagin`"]);
}

#[tokio::test]
async fn listed_instances_ssm_does_not_manage_or_that_are_offline_are_refused() {
    let aws = FakeAws::default().with_ssm_catalog().with_instance("i-0dead000000000001", "ConnectionLost", &[]);
    let reasons = refusal(
        aws,
        "run AWS-RunShellScript on i-0abc123def4567890,i-0dead000000000001,i-0feed000000000001 commands=uptime",
    )
    .await;
    assert_eq!(
        reasons,
        [
            "SSM does not manage `i-0feed000000000001` — no such instance, or its SSM agent or instance profile is missing",
            "not online in SSM: `i-0dead000000000001` (ConnectionLost)",
        ]
    );
}

#[tokio::test]
async fn a_tag_warns_about_offline_instances_and_refuses_when_none_is_online() {
    let web = [("Role", "web")];
    let some = FakeAws::default()
        .with_ssm_catalog()
        .with_instance("i-0web0000000000001", "Online", &web)
        .with_instance("i-0web0000000000002", "Inactive", &web);
    let plan =
        run("run AWS-RunShellScript on tag:Role=web commands=uptime").plan(&ctx(), &some.gateways()).await.unwrap();
    assert_eq!(plan.verdict, Verdict::Ready);
    assert_eq!(
        plan.lines[2..],
        [
            "Resolves to 2 instances (`i-0web0000000000001`, `i-0web0000000000002`)",
            ":warning: not online in SSM, so the command will not reach them: `i-0web0000000000002` (Inactive)",
        ]
    );

    let none = FakeAws::default().with_ssm_catalog().with_instance("i-0web0000000000002", "Inactive", &web);
    let reasons = refusal(none, "run AWS-RunShellScript on tag:Role=web commands=uptime").await;
    assert!(
        reasons[0].starts_with("none of the instances matching instances tagged `Role=web` is online"),
        "{reasons:?}"
    );
}

#[tokio::test]
async fn the_document_must_exist_take_the_parameters_given_and_get_the_required_ones() {
    let aws = || FakeAws::default().with_ssm_catalog();
    let reasons = refusal(aws(), "run AWS-RunShellScript on tag:Environment=staging command=uptime").await;
    assert_eq!(
        reasons,
        [
            "`AWS-RunShellScript` has no parameter `command` — did you mean `commands`?",
            "`AWS-RunShellScript` needs `commands` (no default value): add `Name=value` for each",
        ]
    );
    let reasons = refusal(aws(), "run Shop-FlushCache on tag:Environment=staging").await;
    assert_eq!(reasons, ["`Shop-FlushCache` is an Automation document, not a Command one"]);
    let reasons = refusal(aws(), "run AWS-RunShelScript on tag:Environment=staging commands=uptime").await;
    assert!(reasons[0].starts_with("there is no SSM document `AWS-RunShelScript`"), "{reasons:?}");
}

#[tokio::test]
async fn a_command_of_the_same_document_still_running_on_a_shared_instance_refuses_the_run() {
    let busy = |instances: &[&str], tag: Option<&str>| {
        let aws = FakeAws::default().with_ssm_catalog();
        aws.ssm.running_commands.lock().unwrap().push(crate::ports::RunningCommand {
            id: "cmd-theirs".into(),
            instances: instances.iter().map(|i| (*i).to_owned()).collect(),
            tag: tag.map(|t| Targets::parse(t).unwrap()),
        });
        aws
    };
    let by_id = busy_reasons(
        busy(&["i-0abc123def4567891"], None),
        "run AWS-RunShellScript on tag:Environment=staging commands=uptime",
    )
    .await;
    assert_eq!(
        by_id,
        ["command `cmd-theirs` of `AWS-RunShellScript` is still running on `i-0abc123def4567891` — \
          wait for it to finish, or cancel it in SSM"]
    );
    let by_tag = busy_reasons(
        busy(&[], Some("tag:Environment=staging")),
        "run AWS-RunShellScript on i-0abc123def4567890 commands=uptime",
    )
    .await;
    assert!(by_tag[0].contains("still running on `i-0abc123def4567890`"), "{by_tag:?}");

    let elsewhere = run("run AWS-RunShellScript on i-0abc123def4567890 commands=uptime");
    let plan = elsewhere.plan(&ctx(), &busy(&["i-0other00000000001"], None).gateways()).await.unwrap();
    assert_eq!(plan.verdict, Verdict::Ready);
}

#[tokio::test]
async fn a_run_in_progress_with_a_document_that_does_not_fit_cannot_be_done_and_names_both() {
    let aws = FakeAws::default().with_ssm_catalog();
    aws.ssm.running_commands.lock().unwrap().push(crate::ports::RunningCommand {
        id: "cmd-theirs".into(),
        instances: vec!["i-0abc123def4567890".into()],
        tag: None,
    });
    let reasons = refusal(aws, "run AWS-RunShellScript on i-0abc123def4567890 command=uptime").await;
    assert!(reasons[0].contains("has no parameter `command`"), "{reasons:?}");
    assert!(reasons.last().unwrap().contains("`cmd-theirs`"), "the run in progress is named too: {reasons:?}");
}
