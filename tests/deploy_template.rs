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
    let default_of = |parameter: &str| {
        let at = text.find(&format!("\n  {parameter}:\n")).unwrap_or_else(|| panic!("no parameter {parameter}"));
        let rest = &text[at..];
        let line = rest.lines().find(|l| l.trim_start().starts_with("Default:")).unwrap();
        line.trim_start().trim_start_matches("Default:").trim().to_owned()
    };
    assert!(config_text.contains(&format!("dynamodb: {{ table: {} }}", default_of("TableName"))), "table");
    assert!(config_text.contains(&format!("/{}\"]", default_of("QueueName"))), "queue");
    let gsi = opsbot::store::dynamodb::table::GSI1;
    let ttl = opsbot::store::dynamodb::table::TTL_ATTRIBUTE;
    assert!(text.contains(&format!("IndexName: {gsi}")), "the index `store init` creates");
    assert!(text.contains(&format!("TimeToLiveSpecification: {{ AttributeName: {ttl}, Enabled: true }}")), "TTL");
}

#[test]
fn every_action_iam_policy_can_print_is_one_aws_knows() {
    let dir = tempfile::tempdir().unwrap();
    let with_role = everything(dir.path());
    let yaml = std::fs::read_to_string(&with_role).unwrap();
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

#[test]
fn deploy_sh_deploys_the_rendered_template_with_every_parameter() {
    let dir = tempfile::tempdir().unwrap();
    // A stand-in for the AWS CLI: records its arguments and the template it was given.
    let aws = dir.path().join("aws");
    let script = "#!/bin/sh\necho \"$@\" >> \"$FAKE_AWS_LOG\"\nprev=\nfor a in \"$@\"; do\n  [ \"$prev\" = --template-file ] && cp \"$a\" \"$FAKE_AWS_LOG.template\"\n  prev=$a\ndone\nexit 0\n";
    std::fs::write(&aws, script).unwrap();
    Command::new("chmod").arg("+x").arg(&aws).status().unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_opsbot")).parent().unwrap().to_owned();
    let log = dir.path().join("aws.log");
    let out = Command::new("sh")
        .arg(repo().join("deploy/deploy.sh"))
        .args(["--stack", "opsbot", "--config"])
        .arg(repo().join("deploy/config.yaml"))
        .args(["--image", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/opsbot:1.0.0", "--vpc", "vpc-0abc"])
        .args(["--subnets", "subnet-0a,subnet-0b", "--public-ip"])
        .args(["--bot-token", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:bot-AbCdEf"])
        .args(["--app-token", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app-GhIjKl"])
        .args(["--", "--tags", "team=ops"])
        .env("PATH", format!("{}:{}:{}", dir.path().display(), bin.display(), std::env::var("PATH").unwrap()))
        .env("FAKE_AWS_LOG", &log)
        .env_remove("OPSBOT_STORE")
        .output()
        .expect("sh runs");
    assert!(out.status.success(), "deploy.sh failed: {}", String::from_utf8_lossy(&out.stderr));
    let calls = std::fs::read_to_string(&log).unwrap();
    let deploy = calls.lines().next().unwrap();
    for expected in [
        "cloudformation deploy --stack-name opsbot --template-file",
        "--capabilities CAPABILITY_IAM",
        "Image=123456789012.dkr.ecr.eu-west-1.amazonaws.com/opsbot:1.0.0 VpcId=vpc-0abc Subnets=subnet-0a,subnet-0b",
        "SlackBotTokenSecret=arn:aws:secretsmanager:eu-west-1:123456789012:secret:bot-AbCdEf",
        "AlarmTopicArn= AssignPublicIp=ENABLED DesiredCount=2 --tags team=ops",
    ] {
        assert!(deploy.contains(expected), "`{expected}` not in: {deploy}");
    }
    let deployed = std::fs::read_to_string(dir.path().join("aws.log.template")).unwrap();
    assert!(deployed == template(), "deploy.sh deploys the template rendered for its --config");
    let missing = Command::new("sh").arg(repo().join("deploy/deploy.sh")).args(["--stack", "x"]).output().unwrap();
    assert!(!missing.status.success() && String::from_utf8_lossy(&missing.stderr).contains("--config is required"));
}
