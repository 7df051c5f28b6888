//! deploy/opsbot.yaml: valid for CloudFormation (cfn-lint, which also knows
//! every IAM action's name), rendered from deploy/config.yaml by
//! deploy/render.sh, and its task role exactly what `opsbot iam-policy`
//! prints for that config — with the table and queue that config names.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::iam_policy::{everything, iam_policy};
use super::support::venv;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn template() -> String {
    std::fs::read_to_string(repo().join("deploy/opsbot.yaml")).unwrap()
}

/// `deploy/render.sh CONFIG` with the opsbot under test.
fn render(config: &Path) -> String {
    let out = Command::new("sh")
        .arg(repo().join("deploy/render.sh"))
        .arg(config)
        .env("OPSBOT", env!("CARGO_BIN_EXE_opsbot"))
        .env_remove("OPSBOT_STORE")
        .output()
        .expect("sh runs");
    assert!(out.status.success(), "render.sh failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// cfn-lint's findings on `template`, or `None` when it has none.
fn lint(template: &Path) -> Option<String> {
    let cfn_lint = venv().join("bin/cfn-lint");
    assert!(cfn_lint.exists(), "no cfn-lint in {}: run scripts/emulators.sh (or set OPSBOT_VENV)", venv().display());
    let out = Command::new(cfn_lint).arg(template).output().expect("cfn-lint runs");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (!out.status.success()).then_some(said)
}

/// The lines between a `# BEGIN <marker>` and the next `# END opsbot` line.
fn block(text: &str, marker: &str) -> String {
    let start = text.find(&format!("# BEGIN {marker}")).unwrap_or_else(|| panic!("no `# BEGIN {marker}`"));
    let body = &text[start..];
    let body = &body[body.find('\n').unwrap() + 1..];
    let end = body.find("# END opsbot").unwrap();
    body[..body[..end].rfind('\n').unwrap_or(0)].to_owned()
}

#[test]
fn the_template_passes_cfn_lint() {
    if let Some(findings) = lint(&repo().join("deploy/opsbot.yaml")) {
        panic!("cfn-lint deploy/opsbot.yaml:\n{findings}");
    }
}

#[test]
fn the_template_is_rendered_from_deploy_config_yaml() {
    let rendered = render(&repo().join("deploy/config.yaml"));
    assert!(
        rendered == template(),
        "deploy/opsbot.yaml is stale: run `OPSBOT=target/debug/opsbot deploy/render.sh deploy/config.yaml > /tmp/t && mv /tmp/t deploy/opsbot.yaml`"
    );
}

#[test]
fn a_config_on_sqlite_is_refused_for_the_replicated_stack() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("opsbot.yaml");
    std::fs::write(&config, "store:\n  path: opsbot.db\n").unwrap();
    let out = Command::new("sh")
        .arg(repo().join("deploy/render.sh"))
        .arg(&config)
        .env("OPSBOT", env!("CARGO_BIN_EXE_opsbot"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("share one table"), "{stderr}");
}

#[test]
fn the_task_role_is_what_iam_policy_prints_for_the_deployed_config() {
    let text = template();
    let policy = block(&text, "opsbot iam-policy");
    let in_template: Value =
        serde_json::from_str(policy.trim_start().strip_prefix("- ").expect("one item of Policies")).unwrap();
    let config = repo().join("deploy/config.yaml");
    let generated = iam_policy(&["--config", config.to_str().unwrap(), "--format", "cloudformation"]);
    assert_eq!(in_template, generated);
    // The resources it names are the ones the stack creates.
    let config_text = std::fs::read_to_string(&config).unwrap();
    let embedded = block(&text, "opsbot config");
    let unindented: Vec<&str> = embedded.lines().map(|l| l.strip_prefix("                ").unwrap_or(l)).collect();
    assert_eq!(unindented.join("\n").trim_end(), config_text.trim_end(), "the container gets deploy/config.yaml");
    assert!(
        block(&text, "opsbot names").contains("Names: { Table: opsbot, Queue: opsbot-events }")
            && config_text.contains("dynamodb: { table: opsbot }")
            && config_text.contains("/opsbot-events\"]"),
        "the stack creates the table and queue the config names"
    );
    let gsi = opsbot::store::dynamodb::table::GSI1;
    let ttl = opsbot::store::dynamodb::table::TTL_ATTRIBUTE;
    assert!(text.contains(&format!("IndexName: {gsi}")), "the index `store init` creates");
    assert!(text.contains(&format!("TimeToLiveSpecification: {{ AttributeName: {ttl}, Enabled: true }}")), "TTL");
}

#[test]
fn every_action_iam_policy_can_print_is_one_aws_knows() {
    let dir = tempfile::tempdir().unwrap();
    // The stack ships one file: the declared parameters come from S3 there.
    let yaml = std::fs::read_to_string(everything(dir.path()))
        .unwrap()
        .replace("file: params/prod.yaml", "url: \"s3://shop-config/params/prod.yaml\"");
    let with_role = dir.path().join("role.yaml");
    std::fs::write(&with_role, &yaml).unwrap();
    let without_role = dir.path().join("no-role.yaml");
    let no_role: String =
        yaml.lines().filter(|l| !l.starts_with("aws:") && !l.contains("assume_role")).collect::<Vec<_>>().join("\n");
    std::fs::write(&without_role, no_role).unwrap();
    for config in [with_role, without_role] {
        let rendered = dir.path().join("rendered.yaml");
        std::fs::write(&rendered, render(&config)).unwrap();
        if let Some(findings) = lint(&rendered) {
            panic!("cfn-lint on the template rendered for {}:\n{findings}", config.display());
        }
    }
}

/// The first lines of an AWS CLI stand-in: it logs its arguments to
/// $FAKE_LOG, the content of each `file://` argument to $FAKE_LOG.secrets and
/// the template it is given to $FAKE_LOG.template.
const RECORDING_AWS: &str = r#"echo "$*" >> "$FAKE_LOG"
for a in "$@"; do case $a in file://*) cat "${a#file://}" >> "$FAKE_LOG.secrets"; echo >> "$FAKE_LOG.secrets" ;; esac; done
prev=; for a in "$@"; do [ "$prev" = --template-file ] && cp "$a" "$FAKE_LOG.template"; prev=$a; done
"#;

/// A stand-in for a command: a shell script in `dir` named `name`.
fn stand_in(dir: &Path, name: &str, script: &str) {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{script}")).unwrap();
    Command::new("chmod").arg("+x").arg(&path).status().unwrap();
}

/// `deploy/deploy.sh --stack ops --config deploy/config.yaml`, with the
/// stand-ins in `fake` (then `more`) first on a PATH of the system's tools,
/// logging to `log`, in eu-west-1, no token in its environment; the caller
/// adds the rest.
fn deploy_sh(fake: &Path, more: Option<&Path>, log: &Path) -> Command {
    let path = match more {
        Some(more) => format!("{}:{}:/usr/bin:/bin", fake.display(), more.display()),
        None => format!("{}:/usr/bin:/bin", fake.display()),
    };
    let mut sh = Command::new("sh");
    sh.arg(repo().join("deploy/deploy.sh"))
        .args(["--stack", "ops", "--config"])
        .arg(repo().join("deploy/config.yaml"))
        .env("PATH", path)
        .env("FAKE_LOG", log)
        .env("AWS_REGION", "eu-west-1")
        .env_remove("OPSBOT")
        .env_remove("OPSBOT_STORE")
        .env_remove("SLACK_BOT_TOKEN")
        .env_remove("SLACK_APP_TOKEN");
    sh
}

/// The template the stand-in AWS CLI logging to `log` was given, after
/// checking that its `cloudformation deploy` line carries each of `expected`.
fn deployed_with(log: &Path, expected: &[&str]) -> String {
    let calls = std::fs::read_to_string(log).unwrap();
    let deploy = calls.lines().find(|l| l.starts_with("cloudformation deploy")).expect("a deploy");
    for expected in expected {
        assert!(deploy.contains(expected), "`{expected}` not in: {deploy}");
    }
    std::fs::read_to_string(format!("{}.template", log.display())).unwrap()
}

#[test]
fn deploy_sh_deploys_the_rendered_template_with_every_parameter() {
    let dir = tempfile::tempdir().unwrap();
    stand_in(dir.path(), "aws", RECORDING_AWS);
    let log = dir.path().join("aws.log");
    // opsbot itself on the PATH, as for a user who built it.
    let bin = Path::new(env!("CARGO_BIN_EXE_opsbot")).parent().unwrap().to_owned();
    let out = deploy_sh(dir.path(), Some(&bin), &log)
        .args(["--image", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/opsbot:1.0.0", "--vpc", "vpc-0abc"])
        .args(["--subnets", "subnet-0a,subnet-0b", "--public-ip"])
        .args(["--bot-token", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:bot-AbCdEf"])
        .args(["--app-token", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app-GhIjKl"])
        .args(["--", "--tags", "team=ops"])
        .output()
        .expect("sh runs");
    assert!(out.status.success(), "deploy.sh failed: {}", String::from_utf8_lossy(&out.stderr));
    let calls = std::fs::read_to_string(&log).unwrap();
    let asked = |of: &str| calls.lines().any(|l| l.starts_with(of));
    assert!(!asked("secretsmanager") && !asked("ecr "), "given ARNs and an image: {calls}");
    let deployed = deployed_with(
        &log,
        &[
            "cloudformation deploy --stack-name ops --template-file",
            "--capabilities CAPABILITY_IAM",
            "Image=123456789012.dkr.ecr.eu-west-1.amazonaws.com/opsbot:1.0.0 CpuArchitecture=X86_64 VpcId=vpc-0abc Subnets=subnet-0a,subnet-0b",
            "SlackBotTokenSecret=arn:aws:secretsmanager:eu-west-1:123456789012:secret:bot-AbCdEf",
            "AlarmTopicArn= AssignPublicIp=ENABLED DesiredCount=2 --tags team=ops",
        ],
    );
    assert!(deployed == template(), "deploy.sh deploys the template rendered for its --config");
    let missing = Command::new("sh").arg(repo().join("deploy/deploy.sh")).args(["--stack", "x"]).output().unwrap();
    assert!(!missing.status.success() && String::from_utf8_lossy(&missing.stderr).contains("--config is required"));
}

#[test]
fn deploy_sh_alone_builds_and_pushes_the_image_stores_the_tokens_and_deploys() {
    let dir = tempfile::tempdir().unwrap();
    // The AWS CLI: an account without the secrets, the repository or the image yet.
    let answers = r#"case "$1 $2" in
  "sts get-caller-identity") echo 123456789012 ;;
  "secretsmanager describe-secret" | "ecr describe-repositories" | "ecr describe-images") exit 254 ;;
  "secretsmanager create-secret") echo "arn:aws:secretsmanager:eu-west-1:123456789012:secret:$4-AbCdEf" ;;
  "ecr get-login-password") echo password ;;
esac
"#;
    stand_in(dir.path(), "aws", &format!("{RECORDING_AWS}{answers}"));
    // docker: `run` is the image's opsbot (the one under test), its /config the mounted directory.
    stand_in(
        dir.path(),
        "docker",
        r#"echo "docker $*" >> "$FAKE_LOG"
case $1 in
  login) cat > /dev/null ;;
  image) echo arm64 ;;
  run) mount=; while [ "$1" != --entrypoint ]; do [ "$1" = -v ] && mount=${2%%:*}; shift; done; shift 3
       args=; for a in "$@"; do args="$args '$(echo "$a" | sed "s|^/config/|$mount/|")'"; done
       eval "exec '$REAL_OPSBOT' $args" ;;
esac
"#,
    );
    let log = dir.path().join("calls.log");
    // No opsbot on this PATH: the template is rendered with the image's.
    let out = deploy_sh(dir.path(), None, &log)
        .args(["--vpc", "vpc-0abc", "--subnets", "subnet-0a,subnet-0b"])
        .env("REAL_OPSBOT", env!("CARGO_BIN_EXE_opsbot"))
        .env("SLACK_BOT_TOKEN", "xoxb-bot-secret")
        .env("SLACK_APP_TOKEN", "xapp-app-secret")
        .output()
        .expect("sh runs");
    assert!(out.status.success(), "deploy.sh failed: {}", String::from_utf8_lossy(&out.stderr));
    let calls = std::fs::read_to_string(&log).unwrap();
    assert!(
        !calls.contains("xoxb-bot-secret") && !calls.contains("xapp-app-secret"),
        "a token on a command line: {calls}"
    );
    let secrets = std::fs::read_to_string(dir.path().join("calls.log.secrets")).unwrap();
    assert_eq!(secrets, "xoxb-bot-secret\nxapp-app-secret\n", "each token stored from a file");
    let image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ops:";
    let order = [
        "secretsmanager create-secret --name ops/slack-bot-token",
        "secretsmanager create-secret --name ops/slack-app-token",
        "ecr create-repository --repository-name ops",
        &format!("docker build -t {image}"),
        "docker login --username AWS --password-stdin 123456789012.dkr.ecr.eu-west-1.amazonaws.com",
        &format!("docker push {image}"),
        "docker run --rm --network none",
        "cloudformation deploy --stack-name ops",
    ];
    let mut at = 0;
    for step in order {
        let found = calls[at..].find(step).unwrap_or_else(|| panic!("`{step}` missing or out of order in:\n{calls}"));
        at += found + step.len();
    }
    let deployed = deployed_with(
        &log,
        &[
            "CpuArchitecture=ARM64",
            "SlackBotTokenSecret=arn:aws:secretsmanager:eu-west-1:123456789012:secret:ops/slack-bot-token-AbCdEf",
            "SlackAppTokenSecret=arn:aws:secretsmanager:eu-west-1:123456789012:secret:ops/slack-app-token-AbCdEf",
        ],
    );
    assert!(deployed == template(), "the template rendered by the image's opsbot is the checked-in one");
}

#[test]
fn deploy_sh_refuses_a_wrong_token_before_touching_the_account() {
    let dir = tempfile::tempdir().unwrap();
    stand_in(dir.path(), "aws", RECORDING_AWS);
    let log = dir.path().join("calls.log");
    let run = |bot: Option<&str>| {
        let mut sh = deploy_sh(dir.path(), None, &log);
        sh.args(["--vpc", "vpc-0abc", "--subnets", "subnet-0a"]).env("SLACK_APP_TOKEN", "xapp-app");
        if let Some(bot) = bot {
            sh.env("SLACK_BOT_TOKEN", bot);
        }
        sh.output().unwrap()
    };
    let out = run(Some("xapp-swapped"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("SLACK_BOT_TOKEN does not start with xoxb-"), "{stderr}");
    assert!(!log.exists(), "nothing asked of AWS");
    let out = run(None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("give --bot-token ARN, or set SLACK_BOT_TOKEN"), "{stderr}");
}

#[test]
fn render_sh_names_the_table_and_queue_the_config_names_and_refuses_what_the_stack_cannot_ship() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("opsbot.yaml");
    let base = std::fs::read_to_string(repo().join("deploy/config.yaml")).unwrap();
    let renamed = base.replace("table: opsbot", "table: ops-state").replace("/opsbot-events\"", "/ops-events\"");
    std::fs::write(&config, &renamed).unwrap();
    let rendered = render(&config);
    assert!(
        rendered.contains("Names: { Table: ops-state, Queue: ops-events }"),
        "{}",
        block(&rendered, "opsbot names")
    );
    let refused = |yaml: &str| {
        std::fs::write(&config, yaml).unwrap();
        let out = Command::new("sh")
            .arg(repo().join("deploy/render.sh"))
            .arg(&config)
            .env("OPSBOT", env!("CARGO_BIN_EXE_opsbot"))
            .output()
            .unwrap();
        assert!(!out.status.success(), "rendered: {yaml}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let elsewhere = renamed.replace("${AWS::AccountId}/ops-events", "111122223333/ops-events");
    assert!(refused(&elsewhere).contains("must read the queue the stack creates"));
    let policy_file = format!("{}\npolicies: {{ file: policy.yaml }}\n", renamed.split("policies:").next().unwrap());
    std::fs::write(dir.path().join("policy.yaml"), "roles: {}\nrules: []\n").unwrap();
    let said = refused(&policy_file);
    assert!(said.contains("names other files") && said.contains("file: policy.yaml"), "{said}");
    // A role policy over IAM's 10,240 characters would fail the stack after the image was pushed.
    let many: String = (0..260)
        .map(|i| format!("    - {{ allow: [scale], to: devs, where: {{ service: \"^team-{i:03}-cluster/\" }} }}\n"))
        .collect();
    let said = refused(&format!("{renamed}{many}"));
    assert!(said.contains("over the 10240 IAM allows for a role's inline policies"), "{said}");
}

#[test]
fn ecs_checks_each_task_with_the_probe_the_image_declares() {
    // ECS ignores a Dockerfile's HEALTHCHECK: the task definition repeats it.
    let dockerfile = std::fs::read_to_string(repo().join("Dockerfile")).unwrap();
    let declared = dockerfile.split("\nHEALTHCHECK ").nth(1).expect("a HEALTHCHECK instruction");
    let declared: Vec<String> =
        serde_json::from_str(&declared[declared.find("CMD [").unwrap() + 4..declared.find(']').unwrap() + 1]).unwrap();
    let text = template();
    let line = text.lines().skip_while(|l| !l.contains("HealthCheck:")).nth(1).unwrap();
    let command = line.trim().strip_prefix("Command: [CMD, ").unwrap().strip_suffix(']').unwrap();
    assert_eq!(command.split(", ").collect::<Vec<_>>(), declared);
}
