//! Several replicas of `opsbot serve` on one DynamoDB table (issue 11), as
//! an operator runs them: two real `opsbot serve --transport http` child
//! processes, A and B, with the same config file (`store.dynamodb.table` on
//! moto, a policy that allows changes), the same signing secret and the same
//! fake Slack, AWS on the emulators. Slack may deliver a request, or its
//! retry, to either replica; whatever replica gets what, a user sees each
//! answer once and each change run once:
//! - a slash command retried on the other replica is answered once;
//! - a change planned on A and confirmed on B runs once;
//! - a change asked for on A and approved on B runs once;
//! - a change running on A when A gets SIGTERM is handed over: A exits
//!   within its grace, B follows the change on and reports its end once.
//!
//! What a user sees is read from the fake Slack (response_url posts, channel
//! messages) and from `/ops audit`; what AWS saw, from moto.

mod rollout;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aws_sdk_ssm::types::ParameterType;
use serde_json::Value;

use crate::support::binary::{Serve, ServeProcess};
use crate::support::bot::{CHANNEL, SIGNING_SECRET, USER, text_of};
use crate::support::buttons::button;
use crate::support::emulators::{emulators, unique};
use crate::support::fake_slack::FakeSlack;
use crate::support::signing::sign;

const LEAD: &str = "U0LEAD";

/// Everyone may set parameters under `/replicas-open-`; under
/// `/replicas-approved-` a lead must approve; everyone may scale.
const POLICY: &str = "
policies:
  roles:
    devs: { everyone: true }
    leads: { users: [U0LEAD] }
  rules:
    - allow: [audit, params, \"param get\", service]
      to: devs
    - allow: [\"param set\"]
      to: devs
      where: { name: '^/replicas-open-' }
    - allow: [\"param set\"]
      to: devs
      where: { name: '^/replicas-approved-' }
      approval: { by: leads, ttl: 30m }
    - allow: [scale]
      to: devs
";

/// Two replicas on one fresh table, and the fake Slack both talk to.
struct Replicas {
    slack: FakeSlack,
    /// Taken out to be stopped.
    a: Option<ServeProcess>,
    b: ServeProcess,
    _dir: tempfile::TempDir,
}

/// A fresh table and a config file naming it, with [`POLICY`] and a 5 s grace.
async fn config() -> (tempfile::TempDir, PathBuf) {
    let table = unique("opsbot-replicas");
    let dynamodb = aws_sdk_dynamodb::Client::new(&emulators().await.sdk_config().await);
    opsbot::store::dynamodb::table::create(&dynamodb, &table).await.expect("the table is created on moto");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("opsbot.yaml");
    let yaml = format!("store:\n  dynamodb: {{ table: {table} }}\nserver:\n  shutdown_grace: 5s\n{POLICY}");
    std::fs::write(&file, yaml).unwrap();
    (dir, file)
}

/// `opsbot serve --transport http --config FILE`, AWS on the emulators
/// (plus `env`), named `name` on the leases it holds.
async fn replica(slack: &FakeSlack, file: &Path, name: &str, env: &[(&str, String)]) -> ServeProcess {
    Serve::new(slack, "http", Path::new("unused.db"))
        .env_remove("OPSBOT_STORE")
        .envs(emulators().await.env())
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("SLACK_SIGNING_SECRET", SIGNING_SECRET)
        .env("HOSTNAME", name)
        .config(file.to_path_buf())
        .listening()
        .await
}

async fn replicas() -> Replicas {
    let (dir, file) = config().await;
    let slack = FakeSlack::start().await;
    let a = replica(&slack, &file, "replica-a", &[]).await;
    let b = replica(&slack, &file, "replica-b", &[]).await;
    Replicas { slack, a: Some(a), b, _dir: dir }
}

/// A slash command as Slack sends it: the form body and its signature headers.
struct Slash {
    body: String,
    ts: String,
    signature: String,
    response_url: String,
}

/// A failing test shows what each replica warned of, last lines first cut:
/// the cause of a race lost under load is in the replicas' logs, not the test's.
impl Drop for Replicas {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        let replicas = [("A", self.a.as_ref()), ("B", Some(&self.b))];
        for (name, replica) in replicas.into_iter().filter_map(|(n, r)| r.map(|r| (n, r))) {
            let said = replica.stderr_so_far();
            let warned: Vec<&str> = said.lines().filter(|l| l.contains("WARN") || l.contains("ERROR")).collect();
            let last: Vec<String> =
                warned[warned.len().saturating_sub(15)..].iter().map(|l| l.chars().take(240).collect()).collect();
            eprintln!("replica {name} warned ({} in all, the last {}):\n{}", warned.len(), last.len(), last.join("\n"));
        }
    }
}

impl Replicas {
    fn a(&self) -> &ServeProcess {
        self.a.as_ref().expect("A is running")
    }

    fn slash(&self, user: &str, text: &str) -> Slash {
        let response_url = self.slack.response_url();
        let body = self.slack.slash_command_form(text, user, "dev", CHANNEL, "ops", &response_url);
        let ts = chrono::Utc::now().timestamp().to_string();
        let signature = sign(SIGNING_SECRET, &ts, &body);
        Slash { body, ts, signature, response_url }
    }

    /// `user` types `/ops text` and Slack delivers it to `to`; the answer at its response_url.
    async fn ask(&self, to: &ServeProcess, user: &str, text: &str) -> Value {
        let slash = self.slash(user, text);
        assert_eq!(deliver_slash(to, &slash, None).await, 200);
        self.slack.next_response(&slash.response_url).await
    }

    /// `user` presses `label` on `message` (a channel message has a `ts`; a
    /// plan at a response_url has none): the payload Slack sends.
    fn press(&self, user: &str, message: &Value, label: &str) -> Value {
        let (ts, ephemeral) = match message["ts"].as_str() {
            Some(ts) => (ts.to_owned(), false),
            None => ("1700000000.999999".to_owned(), true),
        };
        self.slack.block_actions(user, CHANNEL, &ts, ephemeral, &button(message, label))
    }

    /// Waits (wall clock, up to `within`) for a channel message saying `needle`.
    async fn wait_for_text(&self, needle: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            if let Some(found) = self.slack.messages(CHANNEL).into_iter().find(|m| text_of(m).contains(needle)) {
                return found;
            }
            assert!(Instant::now() < deadline, "no message says {needle:?}: {:#?}", self.slack.messages(CHANNEL));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Slack writes (posts and edits) that said `needle`.
    fn writes_saying(&self, needle: &str) -> usize {
        let writes =
            self.slack.calls().into_iter().filter(|c| c.method == "chat.postMessage" || c.method == "chat.update");
        writes.filter(|c| text_of(&c.body).contains(needle)).count()
    }

    /// The audit log as `/ops audit` shows it (asked on B).
    async fn audit(&self) -> String {
        text_of(&self.ask(&self.b, USER, "audit").await)
    }
}

/// POSTs a slash command to `to`, as a retry when `retry` is set; the HTTP status.
async fn deliver_slash(to: &ServeProcess, slash: &Slash, retry: Option<&str>) -> u16 {
    let mut headers = vec![("x-slack-request-timestamp", slash.ts.as_str()), ("x-slack-signature", &slash.signature)];
    if let Some(n) = retry {
        headers.extend([("x-slack-retry-num", n), ("x-slack-retry-reason", "http_timeout")]);
    }
    let form = "application/x-www-form-urlencoded";
    to.post("/slack/commands", form, slash.body.clone().into_bytes(), &headers).await.status
}

/// Delivers a button press to `to`, signed now (a retry when `retry` is set); the HTTP status.
async fn deliver_press(to: &ServeProcess, payload: &Value, retry: Option<&str>) -> u16 {
    let body = serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap().into_bytes();
    let ts = chrono::Utc::now().timestamp().to_string();
    let signature = crate::support::signing::sign_bytes(SIGNING_SECRET, &ts, &body);
    let mut headers = vec![("x-slack-request-timestamp", ts.as_str()), ("x-slack-signature", &signature)];
    if let Some(n) = retry {
        headers.extend([("x-slack-retry-num", n), ("x-slack-retry-reason", "http_timeout")]);
    }
    to.post("/slack/interactions", "application/x-www-form-urlencoded", body, &headers).await.status
}

/// A parameter on moto with one version, `value`; its name.
async fn parameter(prefix: &str, value: &str) -> (String, aws_sdk_ssm::Client) {
    let ssm = aws_sdk_ssm::Client::new(&emulators().await.sdk_config().await);
    let name = format!("/{}/feature", unique(prefix));
    ssm.put_parameter().name(&name).r#type(ParameterType::String).value(value).send().await.unwrap();
    (name, ssm)
}

/// Every version of `name` moto keeps: (version, value).
async fn versions(ssm: &aws_sdk_ssm::Client, name: &str) -> Vec<(i64, String)> {
    let history = ssm.get_parameter_history().name(name).send().await.unwrap();
    history.parameters().iter().map(|p| (p.version(), p.value().unwrap_or_default().to_owned())).collect()
}

#[tokio::test]
async fn a_slash_command_retried_on_the_other_replica_is_answered_once() {
    let _turn = crate::support::one_fleet_at_a_time().await;
    let r = replicas().await;
    let (name, ssm) = parameter("replicas-open", "off").await;
    let slash = r.slash(USER, &format!("param set {name} on"));

    assert_eq!(deliver_slash(r.a(), &slash, None).await, 200);
    assert_eq!(deliver_slash(&r.b, &slash, Some("1")).await, 200, "the retry is acknowledged");

    let plan = r.slack.next_response(&slash.response_url).await;
    assert!(text_of(&plan).contains("`off` → `on`"), "{}", text_of(&plan));
    tokio::time::sleep(Duration::from_secs(2)).await; // time for a second answer, if one were coming
    assert_eq!(r.slack.responses_to(&slash.response_url), 1, "one answer for the command and its retry");
    let audit = r.audit().await;
    assert_eq!(audit.matches("*requested*").count(), 1, "one request recorded: {audit}");
    assert_eq!(versions(&ssm, &name).await, [(1, "off".into())], "nothing ran before confirmation");
}

#[tokio::test]
async fn a_change_planned_on_one_replica_and_confirmed_on_the_other_runs_once() {
    let _turn = crate::support::one_fleet_at_a_time().await;
    let r = replicas().await;
    let (name, ssm) = parameter("replicas-open", "off").await;
    let plan = r.ask(r.a(), USER, &format!("param set {name} on")).await;

    let confirm = r.press(USER, &plan, "Confirm");
    assert_eq!(deliver_press(&r.b, &confirm, None).await, 200);
    assert_eq!(deliver_press(r.a(), &confirm, Some("1")).await, 200, "Slack's retry, on the other replica");

    let confirmed = r.slack.next_response(confirm["response_url"].as_str().unwrap()).await;
    assert!(text_of(&confirmed).contains("Confirmed"), "{}", text_of(&confirmed));
    let done = r.wait_for_text(":white_check_mark:", Duration::from_secs(30)).await;
    assert!(text_of(&done).contains("Version 2 is live."), "{}", text_of(&done));
    tokio::time::sleep(Duration::from_secs(2)).await; // time for a second run, if one were coming
    assert_eq!(versions(&ssm, &name).await, [(1, "off".into()), (2, "on".into())], "one write to AWS");
    assert_eq!(r.writes_saying(":white_check_mark:"), 1, "the end is shown once");
    assert_eq!(r.slack.messages(CHANNEL).len(), 1, "progress and end are one message");
    assert_eq!(r.slack.responses_to(confirm["response_url"].as_str().unwrap()), 1);
    let audit = r.audit().await;
    assert_eq!(audit.matches("*executed*").count(), 1, "{audit}");
}

#[tokio::test]
async fn a_change_asked_for_on_one_replica_and_approved_on_the_other_runs_once() {
    let _turn = crate::support::one_fleet_at_a_time().await;
    let r = replicas().await;
    let (name, ssm) = parameter("replicas-approved", "off").await;
    let plan = r.ask(r.a(), USER, &format!("param set {name} on")).await;
    assert!(text_of(&plan).contains("a member of *leads* must approve"), "{}", text_of(&plan));
    let confirm = r.press(USER, &plan, "Confirm");
    assert_eq!(deliver_press(r.a(), &confirm, None).await, 200);
    let waiting = r.slack.next_response(confirm["response_url"].as_str().unwrap()).await;
    assert!(text_of(&waiting).contains("waits for approval by *leads*"), "{}", text_of(&waiting));
    let request = r.wait_for_text("Approval by leads", Duration::from_secs(60)).await;

    let approve = r.press(LEAD, &request, "Approve");
    let double = r.press(LEAD, &request, "Approve");
    assert_eq!(deliver_press(&r.b, &approve, None).await, 200);
    assert_eq!(deliver_press(r.a(), &approve, Some("1")).await, 200, "Slack's retry, on the other replica");
    assert_eq!(deliver_press(r.a(), &double, None).await, 200, "a double click, on the other replica");

    // The two presses race on two replicas: either may be the one that approves.
    let (first, second) = (approve["response_url"].as_str().unwrap(), double["response_url"].as_str().unwrap());
    let answers = [text_of(&r.slack.next_response(first).await), text_of(&r.slack.next_response(second).await)];
    assert_eq!(answers.iter().filter(|a| a.contains("Approved")).count(), 1, "one approval: {answers:#?}");
    assert_eq!(answers.iter().filter(|a| a.contains("already")).count(), 1, "the other is told: {answers:#?}");
    let done = r.wait_for_text(":white_check_mark:", Duration::from_secs(30)).await;
    assert!(text_of(&done).contains(&format!("approved by <@{LEAD}>")), "{}", text_of(&done));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(versions(&ssm, &name).await, [(1, "off".into()), (2, "on".into())], "one write to AWS");
    assert_eq!(r.writes_saying(":white_check_mark:"), 1, "the end is shown once");
    assert_eq!((r.slack.responses_to(first), r.slack.responses_to(second)), (1, 1), "the retry is not answered");
    let audit = r.audit().await;
    assert_eq!(audit.matches("*approved*").count(), 1, "{audit}");
    assert_eq!(audit.matches("*executed*").count(), 1, "{audit}");
}

/// A cluster on moto with service `api` at 0 tasks (so its one deployment is
/// COMPLETED), on a fresh task definition; `CLUSTER/api`.
async fn idle_service() -> String {
    use aws_sdk_ecs::types as ecs;
    let ecs = aws_sdk_ecs::Client::new(&emulators().await.sdk_config().await);
    let (cluster, family) = (unique("replicas"), unique("api"));
    ecs.create_cluster().cluster_name(&cluster).send().await.unwrap();
    let app = ecs::ContainerDefinition::builder().name("api").image("r.io/shop/api:1").memory(256).build();
    let register = ecs.register_task_definition().family(&family).container_definitions(app);
    register.network_mode(ecs::NetworkMode::Bridge).send().await.unwrap();
    let create = ecs.create_service().cluster(&cluster).service_name("api").task_definition(format!("{family}:1"));
    create.desired_count(0).launch_type(ecs::LaunchType::Ec2).send().await.unwrap();
    format!("{cluster}/api")
}

/// Issue 11's hand-over, end to end. moto starts a scaled service's tasks at
/// once, so the scale-up is slowed by [`rollout::SlowRollout`] (ECS behind a
/// proxy that shows the tasks pending until released). B's sweeper looks
/// for handed-over changes every 30 s (`SWEEP_EVERY`; no setting changes it
/// in the binary), so this test waits up to that long.
#[tokio::test]
async fn a_replica_stopped_mid_change_hands_it_over_and_the_other_reports_its_end_once() {
    let _turn = crate::support::one_fleet_at_a_time().await;
    let rollout = rollout::SlowRollout::start(emulators().await.moto_url()).await;
    let service = idle_service().await;
    let (dir, file) = config().await;
    let slack = FakeSlack::start().await;
    let ecs = [("AWS_ENDPOINT_URL_ECS", rollout.url.clone())];
    let b = replica(&slack, &file, "replica-b", &ecs).await;
    let a_env = [ecs[0].clone(), ("RUST_LOG", "info".to_owned())];
    let a = replica(&slack, &file, "replica-a", &a_env).await;
    let mut r = Replicas { slack, a: Some(a), b, _dir: dir };

    let plan = r.ask(r.a(), USER, &format!("scale {service} 2")).await;
    assert!(text_of(&plan).contains("desired count *0 → 2*"), "{}", text_of(&plan));
    let confirm = r.press(USER, &plan, "Confirm");
    assert_eq!(deliver_press(r.a(), &confirm, None).await, 200);
    r.wait_for_text("0/2 running, 2 pending", Duration::from_secs(60)).await; // A follows it

    let a = r.a.take().expect("A is running");
    let stopping = Instant::now();
    a.terminate();
    let (status, log) = a.exit().await;
    let stopped_in = stopping.elapsed();
    assert!(status.success(), "A exits 0 on SIGTERM: {status}\n{log}");
    assert!(stopped_in < Duration::from_secs(5 + 5), "A stops within its 5 s grace: {stopped_in:?}\n{log}");
    assert!(log.contains("change handed over"), "A says it handed the change over:\n{log}");
    assert_eq!(r.writes_saying(":white_check_mark:") + r.writes_saying(":x:"), 0, "A did not end it");

    // B takes it over on a sweep and looks at the service: still rolling out.
    let looked = rollout.describes();
    let deadline = Instant::now() + Duration::from_secs(60);
    while rollout.describes() == looked {
        assert!(Instant::now() < deadline, "B never followed the handed-over change on");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    rollout.release(); // the tasks start; B's next check (10 s on) sees them

    let done = r.wait_for_text(":white_check_mark:", Duration::from_secs(30)).await;
    let text = text_of(&done);
    assert!(text.contains("2/2 running, 0 pending — done") && text.contains(&service), "{text}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(r.writes_saying(":white_check_mark:"), 1, "the end is shown once");
    assert_eq!(r.writes_saying(":x:"), 0, "never reported failed");
    assert_eq!(r.slack.messages(CHANNEL).len(), 1, "progress and end are one message");
    let audit = r.audit().await;
    assert_eq!(audit.matches("*executed*").count(), 1, "{audit}");
    assert_eq!(audit.matches("*failed*").count(), 0, "{audit}");
}
