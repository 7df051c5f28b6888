//! The `notifications` section: what it accepts, its defaults, and the
//! start-up errors that point at the mistake.

use std::time::Duration;

use super::super::{Settings, SettingsError};

fn load(yaml: &str) -> Result<Settings, SettingsError> {
    Settings::from_test_yaml(yaml)
}

fn error(yaml: &str) -> String {
    load(yaml).unwrap_err().to_string()
}

const ROLES: &str = "policies:\n  roles:\n    oncall: { groups: [S0ONCALL] }\n  rules: []\n";

#[test]
fn the_issue_example_loads_with_routes_in_order() {
    let yaml = format!(
        "{ROLES}notifications:
  default_channel: C0OPS
  sqs_queues: [http://127.0.0.1:5055/123456789012/opsbot]
  routes:
    - {{ match: {{ kind: alarm, name: \"^shop-\" }}, channel: C0SHOPALERTS, mention: oncall }}
    - {{ match: {{ kind: pipeline, name: \"^storefront-\" }}, channel: C0DEPLOYS }}
    - {{ match: {{ kind: pipeline, account: \"111122223333\", region: eu-west-1 }}, channel: C0EU }}
  alarms: {{ escalate_after: 15m, flapping: {{ transitions: 5, within: 20m }} }}
  build_log_lines: 40
"
    );
    let n = load(&yaml).unwrap().notifications;
    assert_eq!(n.default_channel.unwrap().as_str(), "C0OPS");
    let channels: Vec<&str> = n.routes.iter().map(|r| r.channel.as_str()).collect();
    assert_eq!(channels, ["C0SHOPALERTS", "C0DEPLOYS", "C0EU"]);
    assert_eq!(n.routes[0].mention.as_deref(), Some("oncall"));
    assert!(n.routes[1].name.as_ref().unwrap().is_match("storefront-web"));
    assert_eq!(n.routes[2].account.as_deref(), Some("111122223333"));
    assert_eq!(n.alarms.escalate_after, Duration::from_secs(900));
    assert_eq!((n.alarms.flapping_transitions, n.alarms.flapping_within), (5, Duration::from_secs(1200)));
    assert!(!n.skip_sns_signatures);
    assert_eq!(n.build_log_lines, 40);
}

#[test]
fn a_build_log_of_no_lines_or_hundreds_is_refused_with_the_range() {
    let err = error("notifications:\n  build_log_lines: 0\n");
    assert!(
        err.contains("opsbot.yaml:2:20: notifications.build_log_lines: 0 is out of range — write 1 to 100"),
        "{err}"
    );
    assert_eq!(Settings::load(None, |_| None).unwrap().notifications.build_log_lines, 20);
}

#[test]
fn without_the_section_nothing_is_polled_and_alarms_use_the_defaults() {
    let n = Settings::load(None, |_| None).unwrap().notifications;
    assert!(n.sqs_queues.is_empty() && n.sns_topics.is_empty() && n.routes.is_empty());
    assert_eq!(n.alarms.escalate_after, Duration::from_secs(600));
    assert!(n.cert_url_allow.permits_cert("https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem"));
    assert!(!n.cert_url_allow.permits_cert("https://sns.eu-west-1.amazonaws.com.evil.example/x.pem"));
    assert!(!n.cert_url_allow.permits_cert("https://sns.s3.amazonaws.com/x.pem"));
    assert!(!n.cert_url_allow.permits_cert("http://sns.eu-west-1.amazonaws.com/x.pem"));
}

#[test]
fn a_source_without_a_default_channel_is_refused_because_nothing_may_be_dropped() {
    let err = error("notifications:\n  sqs_queues: [https://sqs.eu-west-1.amazonaws.com/111122223333/q]\n");
    assert!(err.contains("need `default_channel:`"), "{err}");
}

#[test]
fn an_unknown_kind_names_the_kinds_there_are() {
    let err = error("notifications:\n  routes:\n    - { match: { kind: alarms }, channel: C1 }\n");
    assert!(err.contains("opsbot.yaml:3:") && err.contains("unknown kind `alarms`"), "{err}");
    assert!(err.contains("pipeline, alarm, ecs, parameter, automation, other"), "{err}");
}

#[test]
fn a_bad_regex_a_short_account_and_a_bad_duration_point_at_their_place() {
    let err = error("notifications:\n  routes:\n    - { match: { name: \"^(shop\" }, channel: C1 }\n");
    assert!(err.contains("opsbot.yaml:3:") && err.contains("not a valid regex"), "{err}");
    let err = error("notifications:\n  routes:\n    - { match: { account: \"1234\" }, channel: C1 }\n");
    assert!(err.contains("12 digits"), "{err}");
    let err = error("notifications:\n  alarms: { escalate_after: ten minutes }\n");
    assert!(err.contains("opsbot.yaml:2:") && err.contains("not a duration"), "{err}");
}

#[test]
fn a_misspelt_key_is_refused_not_ignored() {
    let err = error("notifications:\n  default_chanel: C0OPS\n");
    assert!(err.contains("opsbot.yaml:2:") && err.contains("default_chanel"), "{err}");
}

#[test]
fn a_mention_of_a_role_the_policy_lacks_stops_start_up() {
    let yaml = format!(
        "{ROLES}notifications:\n  routes:\n    - {{ match: {{ kind: alarm }}, channel: C1, mention: oncal }}\n"
    );
    let err = error(&yaml);
    assert!(err.contains("mentions `oncal`, which is not a role"), "{err}");
}

#[test]
fn queue_urls_and_topic_arns_must_look_like_them() {
    let err = error("notifications:\n  default_channel: C1\n  sqs_queues: [opsbot-events]\n");
    assert!(err.contains("not a queue URL"), "{err}");
    let err = error("notifications:\n  default_channel: C1\n  sns: { topics: [opsbot] }\n");
    assert!(err.contains("not a topic ARN"), "{err}");
}

#[test]
fn the_age_an_sns_message_may_have_defaults_to_an_hour_and_can_be_set() {
    let n = Settings::load(None, |_| None).unwrap().notifications;
    assert_eq!((n.sns_fresh.max_age, n.sns_fresh.max_skew), (Duration::from_secs(3600), Duration::from_secs(300)));
    let n = load("notifications:\n  sns: { max_age: 30m, max_clock_skew: 1m }\n").unwrap().notifications;
    assert_eq!((n.sns_fresh.max_age, n.sns_fresh.max_skew), (Duration::from_secs(1800), Duration::from_secs(60)));
}

#[test]
fn an_sns_max_age_longer_than_the_dedup_window_stops_start_up() {
    let err = error("notifications:\n  sns: { max_age: 8d }\n");
    assert!(err.contains("notifications.sns.max_age (192h)") && err.contains("dedup"), "{err}");
    let err = error("notifications:\n  sns: { max_clock_skew: soon }\n");
    assert!(err.contains("opsbot.yaml:2:") && err.contains("max_clock_skew"), "{err}");
}

#[test]
fn every_broken_route_is_reported_with_its_place() {
    let yaml = "notifications:\n  routes:\n    - { match: { kind: alarn }, channel: C0OPS }\n    - { match: { kind: alarm }, channel: C0OPS }\n    - { match: { name: \"(\" }, channel: C0OPS }\n";
    let err = error(yaml);
    assert!(err.contains("opsbot.yaml:3:") && err.contains("opsbot.yaml:5:"), "{err}");
    assert_eq!(err.lines().count(), 2, "the good route is not a problem: {err}");
}

const ACCOUNTS: &str = "aws:\n  accounts:\n    prod: { role_arn: \"arn:aws:iam::111122223333:role/opsbot\" }\n";

#[test]
fn a_route_may_name_an_account_of_aws_accounts_and_matches_its_id() {
    let yaml =
        format!("{ACCOUNTS}notifications:\n  routes:\n    - {{ match: {{ account: prod }}, channel: C0PROD }}\n");
    let n = load(&yaml).unwrap().notifications;
    assert_eq!(n.routes[0].account.as_deref(), Some("111122223333"));
    assert_eq!(n.accounts.get("111122223333").map(String::as_str), Some("prod"), "messages name it");
}

#[test]
fn a_route_naming_an_account_that_is_not_configured_stops_start_up_with_the_close_one() {
    let yaml =
        format!("{ACCOUNTS}notifications:\n  routes:\n    - {{ match: {{ account: prdo }}, channel: C0PROD }}\n");
    let err = error(&yaml);
    assert!(err.contains("opsbot.yaml:6") && err.contains("account `prdo`"), "{err}");
    assert!(err.contains("did you mean `prod`?"), "{err}");
}

#[test]
fn a_route_may_test_the_resources_tags() {
    let yaml = "notifications:\n  routes:\n    - { match: { kind: ecs, tags: { team: payments, tier: \"1\" } }, channel: C0PAY }\n";
    let n = load(yaml).unwrap().notifications;
    assert_eq!(n.routes[0].tags.get("team").map(String::as_str), Some("payments"));
    assert_eq!(n.routes[0].tags.len(), 2);
    assert!(n.routes_by_tags());
    assert!(!load("store:\n  path: x.db\n").unwrap().notifications.routes_by_tags(), "no tags read without one");
}
