use super::*;

fn lines(raw: &[&str]) -> Vec<String> {
    raw.iter().map(|l| l.to_string()).collect()
}

fn failed_log() -> BuildLog {
    BuildLog {
        id: "storefront-web:8f2c".into(),
        project: "storefront-web".into(),
        stream: Some(LogStream {
            group: "/aws/codebuild/storefront-web".into(),
            name: "8f2c".into(),
            link: Some(log_stream_console_url("eu-west-1", "/aws/codebuild/storefront-web", "8f2c")),
        }),
        failed_phase: Some("BUILD".into()),
        phase_message: Some("Error while executing command: npm test. Reason: exit status 1".into()),
        build_link: Some(build_console_url("eu-west-1", "storefront-web", "storefront-web:8f2c")),
        lines: lines(&["> npm test", "FAIL src/cart.test.ts", "  Expected: 3", "  Received: 2", ""]),
        sensitive: vec![],
    }
}

#[test]
fn lines_lose_colour_codes_are_cut_and_only_the_newest_that_fit_are_kept() {
    let long = "x".repeat(500);
    let shown = shown_lines(&lines(&["\x1b[31mFAIL\x1b[0m cart", &long]), &[], 2600);
    assert_eq!(shown[0], "FAIL cart");
    assert_eq!(shown[1].chars().count(), LINE_MAX);
    assert!(shown[1].ends_with('…'));
    let many: Vec<String> = (0..100).map(|i| format!("{i:03} {}", "y".repeat(150))).collect();
    let shown = shown_lines(&many, &[], 2600);
    assert!(shown.iter().map(|l| l.len() + 1).sum::<usize>() <= 2600);
    assert!(shown.last().unwrap().starts_with("099"), "the newest line is kept");
}

#[test]
fn a_long_log_full_of_markup_still_fits_one_slack_section_with_its_heading() {
    let many: Vec<String> = (0..100).map(|i| format!("{i:03} <{}>", "&".repeat(190))).collect();
    let log = BuildLog { lines: many, phase_message: Some("x".repeat(400)), ..failed_log() };
    let text = explain("Build", &log);
    assert!(text.as_str().chars().count() <= 3000, "{} characters", text.as_str().chars().count());
    assert!(text.as_str().ends_with("&gt;\n```"), "the block is closed: {}", text.as_str());
    assert!(text.as_str().contains("099 &lt;"), "the newest line is kept");
}

#[test]
fn the_thread_reply_names_the_failed_phase_links_build_and_stream_and_quotes_the_lines() {
    let text = explain("Build", &failed_log());
    let text = text.as_str();
    assert!(text.starts_with(":page_facing_up: *Build* build <https://eu-west-1.console.aws.amazon.com/codesuite/codebuild/projects/storefront-web/build/storefront-web%3A8f2c/?region=eu-west-1|storefront-web:8f2c> in phase BUILD: Error while executing command: npm test."), "{text}");
    assert!(text.contains("Last 4 lines of its log (<https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Faws$252Fcodebuild$252Fstorefront-web/log-events/8f2c|/aws/codebuild/storefront-web/8f2c>)"), "{text}");
    assert!(text.ends_with("```\n&gt; npm test\nFAIL src/cart.test.ts\n  Expected: 3\n  Received: 2\n```"), "{text}");
}

#[test]
fn log_lines_cannot_close_the_code_block_or_ping_the_channel() {
    let log = BuildLog { lines: lines(&["```", "<!channel> done"]), ..failed_log() };
    let text = explain("Build", &log);
    assert!(text.as_str().ends_with("```\n'''\n&lt;!channel&gt; done\n```"), "{}", text.as_str());
}

#[test]
fn a_build_without_a_log_stream_says_so_instead_of_an_empty_block() {
    let log = BuildLog { stream: None, lines: vec![], ..failed_log() };
    assert!(explain("Build", &log).as_str().ends_with("The build wrote no CloudWatch Logs stream."));
}

#[test]
fn an_unreadable_log_says_why_and_what_permission_to_grant() {
    let denied = GatewayError::AccessDenied { message: "not authorized to perform: logs:GetLogEvents".into() };
    let text = unreadable("Build", "storefront-web:8f2c", &denied);
    assert_eq!(
        text.as_str(),
        ":warning: *Build* build `storefront-web:8f2c`: couldn't read the build log: access denied (not authorized \
         to perform: logs:GetLogEvents): grant the bot codebuild:BatchGetBuilds and logs:GetLogEvents (see `opsbot \
         iam-policy`)"
    );
}
