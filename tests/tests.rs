//! End-to-end tests: one binary (see CONVENTIONS.md #11). Each module is a
//! feature seen from outside: real Slack protocol through `support::fake_slack`,
//! real AWS SDK clients against moto / ministack through `support::emulators`.
mod aws_emulators;
mod bad_input;
mod config_check;
mod demo;
mod deploy_template;
mod ecs_changes;
mod fuzz;
mod iam_policy;
mod identity;
mod layout;
mod metrics;
mod notify_e2e;
mod notify_replicas;
mod notify_restart;
mod notify_sns;
mod notify_sqs;
mod notify_why_e2e;
mod outage;
mod outbox;
mod pipeline_changes;
mod policy_reload;
mod replicas;
mod slack_aws;
mod slack_changes;
mod slack_http;
mod slack_markup;
mod slack_replicas;
mod slack_socket;
mod ssm_changes;
mod store;
mod store_down;
mod store_dynamodb;
mod store_init;
mod support;
