//! The whole path, as in production: Slack → opsbot → AWS → Slack. The real
//! binary is started with nothing but environment variables (the AWS SDK finds
//! the emulators through `AWS_ENDPOINT_URL[_CLOUDWATCH]`), a slash command is
//! signed by Slack's own SDK, and the answer is read at its response_url.

use std::process::Stdio;
use std::time::{Duration, Instant};

use aws_sdk_ssm::types::ParameterType;
use opsbot::app::Transport;

use crate::support::bot::{CHANNEL, SIGNING_SECRET, USER, spawn_bot_with, text_of};
use crate::support::emulators::{emulators, unique};
use crate::support::fake_slack::FakeSlack;
use crate::support::signing::sign_with_slack_sdk;

/// `opsbot serve --transport http` as a child process; killed on drop.
struct ServeProcess {
    child: tokio::process::Child,
    base: String,
}

async fn serve_binary(slack: &FakeSlack, store: &std::path::Path) -> ServeProcess {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_opsbot"))
        .args(["serve", "--transport", "http", "--listen", &format!("127.0.0.1:{port}")])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(emulators().await.env())
        .env("SLACK_BOT_TOKEN", slack.bot_token())
        .env("SLACK_SIGNING_SECRET", SIGNING_SECRET)
        .env("OPSBOT_SLACK_API_URL", slack.api_url())
        .env("OPSBOT_STORE", store)
        .env("RUST_LOG", if std::env::var_os("TEST_LOG").is_some() { "info" } else { "warn" })
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the opsbot binary starts");
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "opsbot serve did not listen within 20 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    ServeProcess { child, base }
}

async fn post_slash(base: &str, body: &str, ts: &str, sig: &str) -> u16 {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    let req = axum::http::Request::post(format!("{base}/slack/commands"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-slack-request-timestamp", ts)
        .header("x-slack-signature", sig)
        .body(http_body_util::Full::new(axum::body::Bytes::from(body.to_owned())))
        .unwrap();
    client.request(req).await.expect("bot answers").status().as_u16()
}

#[tokio::test]
async fn a_slash_command_signed_by_slack_gets_parameters_from_aws_at_its_response_url() {
    let emu = emulators().await;
    let ssm = aws_sdk_ssm::Client::new(&emu.sdk_config().await);
    let root = format!("/{}", unique("e2e"));
    for (name, kind, value) in [
        ("db-host", ParameterType::String, "db.e2e.internal"),
        ("db-password", ParameterType::SecureString, "s3cret-e2e-value"),
    ] {
        ssm.put_parameter().name(format!("{root}/{name}")).r#type(kind).value(value).send().await.unwrap();
    }
    let slack = FakeSlack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let bot = serve_binary(&slack, &dir.path().join("opsbot.db")).await;

    let url = slack.response_url();
    let body = slack.slash_command_form(&format!("params {root}"), USER, "dev", CHANNEL, "ops", &url);
    let ts = chrono::Utc::now().timestamp().to_string();
    let sig = sign_with_slack_sdk(SIGNING_SECRET, &ts, &body);
    assert_eq!(post_slash(&bot.base, &body, &ts, &sig).await, 200);

    let answer = slack.next_response(&url).await;
    let text = text_of(&answer);
    assert_eq!(answer["response_type"], "in_channel");
    assert!(text.contains(&format!("{root}/db-host")) && text.contains("db.e2e.internal"), "{text}");
    assert!(text.contains("SecureString") && !text.contains("s3cret-e2e-value"), "secret leaked or missing: {text}");
    drop(bot.child);
}

#[tokio::test]
async fn a_mention_asking_for_alarms_is_answered_from_cloudwatch() {
    let emu = emulators().await;
    let sdk = emu.sdk_config().await;
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let name = unique("e2e-5xx");
    cw.put_metric_alarm()
        .alarm_name(&name)
        .namespace("AWS/ApplicationELB")
        .metric_name("HTTPCode_Target_5XX_Count")
        .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(10.0)
        .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanOrEqualToThreshold)
        .send()
        .await
        .unwrap();
    cw.set_alarm_state()
        .alarm_name(&name)
        .state_value(aws_sdk_cloudwatch::types::StateValue::Alarm)
        .state_reason("Threshold Crossed: 27 errors")
        .send()
        .await
        .unwrap();
    let bot = spawn_bot_with(Transport::Socket, opsbot::aws::gateways(&sdk, &Default::default()), |_| {}).await;
    let event =
        bot.slack.app_mention_event("Ev0CW1", USER, CHANNEL, &format!("<@U0BOT> alarms {name}"), "1700000200.000100");
    let id = bot.slack.send_envelope("events_api", event).await;
    bot.slack.next_ack(&id).await;
    let posted = bot.slack.next_call("chat.postMessage").await;
    let text = text_of(&posted.body);
    assert!(text.contains(&name) && text.contains("Threshold Crossed: 27 errors"), "{text}");
}
