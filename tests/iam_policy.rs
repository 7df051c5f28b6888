//! `opsbot iam-policy` seen from outside: the policy covers every AWS call
//! the code makes (a list derived from the sources, not retyped), grants no
//! call the code never makes beyond the known companions, never names an
//! action with a wildcard, and the README shows what it prints.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use regex::Regex;
use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `opsbot iam-policy ARGS` as an operator runs it: its stdout, parsed.
pub fn iam_policy(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_opsbot"))
        .arg("iam-policy")
        .args(args)
        .env_remove("OPSBOT_STORE")
        .env_remove("OPSBOT_CONFIG")
        .output()
        .expect("opsbot runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "opsbot iam-policy {args:?} failed: {stderr}");
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// Every `Action` of a policy document.
pub fn actions(document: &Value) -> BTreeSet<String> {
    let statements = document["Statement"].as_array().expect("a Statement list");
    statements
        .iter()
        .flat_map(|s| s["Action"].as_array().expect("Action is a list").iter())
        .map(|a| a.as_str().expect("an action is a string").to_owned())
        .collect()
}

/// The operations of each SDK crate the bot depends on (`src/operation/<op>/`
/// in the crate's source), keyed by the crate's service name (`ecs`, `sqs`…),
/// which is also the service's IAM prefix for all but CloudWatch Logs (`logs`).
fn sdk_operations() -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline"])
        .current_dir(repo())
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let metadata: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut operations = BTreeMap::new();
    for package in metadata["packages"].as_array().unwrap() {
        let Some(service) = package["name"].as_str().unwrap().strip_prefix("aws-sdk-") else { continue };
        let manifest = PathBuf::from(package["manifest_path"].as_str().unwrap());
        let dir = manifest.parent().unwrap().join("src/operation");
        let names = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        operations.insert(service.to_owned(), names);
    }
    assert!(operations.len() >= 7, "the SDK crates: {:?}", operations.keys());
    operations
}

/// The non-test Rust sources under `dir`, recursively.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let path = entry.path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            sources(&path, out);
        } else if name.ends_with(".rs") && !name.ends_with("_tests.rs") && name != "tests.rs" {
            out.push(path);
        }
    }
}

/// The file without its inline `mod tests` (mocked SDK calls are no calls).
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    match text.find("#[cfg(test)]\nmod tests {") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// The SDK crates a module names, with those of the modules above it (the
/// store's submodules use the client type their parent imports).
fn crates_named(path: &Path, root: &Path) -> BTreeSet<String> {
    let named = Regex::new(r"aws_sdk_([a-z0-9]+)").unwrap(); // digits too: `aws_sdk_s3`
    let mut found = BTreeSet::new();
    let mut at = Some(path.to_path_buf());
    while let Some(file) = at {
        if !file.starts_with(root) {
            break;
        }
        for candidate in [file.clone(), file.with_extension("rs"), file.join("mod.rs")] {
            if let Ok(text) = std::fs::read_to_string(&candidate).map(|_| code_of(&candidate)) {
                found.extend(named.captures_iter(&text).map(|c| c[1].to_owned()));
            }
        }
        at = file.parent().map(Path::to_path_buf);
    }
    found
}

/// Every `(service, operation)` the bot's code calls: a no-argument method
/// call named like an operation of an SDK crate the module (or a parent)
/// names — how every fluent SDK call starts (`client.describe_services()`).
fn sdk_calls() -> BTreeSet<(String, String)> {
    let operations = sdk_operations();
    let root = repo().join("bot");
    let mut files = Vec::new();
    sources(&root, &mut files);
    let call = Regex::new(r"\.([a-z][a-z0-9_]*)\(\)").unwrap();
    let mut calls = BTreeSet::new();
    for file in files {
        let crates = crates_named(&file, &root);
        if crates.is_empty() {
            continue;
        }
        let code = code_of(&file);
        for name in call.captures_iter(&code).map(|c| c[1].to_owned()) {
            let owners: Vec<&String> =
                crates.iter().filter(|c| operations.get(*c).is_some_and(|ops| ops.contains(&name))).collect();
            match owners.as_slice() {
                [] => {}
                [service] => {
                    calls.insert(((*service).clone(), name));
                }
                many => panic!("{}: `.{name}()` is an operation of {many:?}: which one?", file.display()),
            }
        }
    }
    calls
}

/// The IAM actions an SDK operation needs: `ecs:DescribeServices` for
/// `describe_services`, except where IAM names the permission otherwise.
fn iam_actions(service: &str, operation: &str) -> Vec<String> {
    // The one crate whose name is not its IAM prefix.
    let service = if service == "cloudwatchlogs" { "logs" } else { service };
    let named = |actions: &[&str]| actions.iter().map(|a| format!("{service}:{a}")).collect();
    match (service, operation) {
        // No permission of its own: each part needs its action.
        ("dynamodb", "transact_write_items") => named(&["PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem"]),
        ("sqs", "delete_message_batch") => named(&["DeleteMessage"]),
        ("sqs", "send_message_batch") => named(&["SendMessage"]),
        ("sqs", "change_message_visibility_batch") => named(&["ChangeMessageVisibility"]),
        _ => {
            let pascal: String = operation.split('_').map(|w| w[..1].to_ascii_uppercase() + &w[1..]).collect();
            vec![format!("{service}:{pascal}")]
        }
    }
}

/// A config that enables everything: the DynamoDB store, a queue, a route by
/// tags, a role to assume, declared parameters (one in S3), and every command allowed to everyone. The queue is written as in
/// deploy/config.yaml, for CloudFormation to fill in.
pub fn everything(dir: &Path) -> PathBuf {
    let commands: Vec<&str> = opsbot_commands::cmd::ENTRIES.iter().map(|e| e.spec.name).collect();
    let yaml = format!(
        "store:\n  dynamodb: {{ table: opsbot }}\nnotifications:\n  default_channel: C0OPS\n  sqs_queues: [\"https://sqs.${{AWS::Region}}.amazonaws.com/${{AWS::AccountId}}/opsbot-events\"]\n  routes: [{{ match: {{ tags: {{ team: payments }} }}, channel: C0PAY }}]\naws:\n  assume_role: {{ role_arn: \"arn:aws:iam::111122223333:role/opsbot-changes\" }}\nparams:\n  environments:\n    prod: {{ prefix: /shop/prod/, file: params/prod.yaml }}\n    qa: {{ prefix: /shop/qa/, url: \"s3://shop-config/params/qa.yaml\" }}\npolicies:\n  roles:\n    all: {{ everyone: true }}\n  rules:\n    - allow: {commands:?}\n      to: all\n"
    );
    let path = dir.join("everything.yaml");
    std::fs::write(&path, yaml).unwrap();
    path
}

/// What the policy grants beyond the calls the code makes, and why: they
/// ride along with a call (passing a role, tagging while registering, a
/// SecureString's key, the source identity on AssumeRole).
const COMPANIONS: &[&str] =
    &["ecs:TagResource", "iam:PassRole", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "sts:SetSourceIdentity"];

#[test]
fn every_sdk_call_in_the_code_is_granted_and_nothing_else_is() {
    let calls = sdk_calls();
    let called: BTreeSet<String> = calls.iter().flat_map(|(s, op)| iam_actions(s, op)).collect();
    // The scan must see the calls it is meant to see, or it proves nothing.
    for known in
        ["ecs:UpdateService", "dynamodb:ConditionCheckItem", "sqs:ReceiveMessage", "sts:AssumeRole", "ssm:SendCommand"]
    {
        assert!(called.contains(known), "the source scan missed {known}: {calls:?}");
    }
    let dir = tempfile::tempdir().unwrap();
    let config = everything(dir.path());
    let config = config.to_str().unwrap();
    let mut granted = actions(&iam_policy(&["--config", config, "--store-init"]));
    granted.extend(actions(&iam_policy(&["--config", config, "--role", "changes"])));
    let missing: Vec<&String> = called.difference(&granted).collect();
    assert!(missing.is_empty(), "the code calls {missing:?}, which iam-policy never grants: teach bot/iam about it");
    let unused: Vec<&String> = granted.difference(&called).filter(|a| !COMPANIONS.contains(&a.as_str())).collect();
    assert!(unused.is_empty(), "iam-policy grants {unused:?}, which no code calls: least privilege says drop it");
    assert!(granted.iter().all(|a| !a.contains('*')), "an action with a wildcard: {granted:?}");
}

/// The README's example config: its Policies and Notifications examples on
/// the DynamoDB store.
fn readme_example(dir: &Path) -> PathBuf {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let block_after = |heading: &str| {
        let section = &readme[readme.find(heading).unwrap_or_else(|| panic!("README has {heading}"))..];
        let start = section.find("```yaml\n").unwrap() + "```yaml\n".len();
        section[start..start + section[start..].find("```").unwrap()].to_owned()
    };
    let yaml = format!(
        "store:\n  dynamodb: {{ table: opsbot }}\n{}{}",
        block_after("\n## Policies\n"),
        block_after("\n## Notifications\n")
    );
    let path = dir.join("opsbot.yaml");
    std::fs::write(&path, yaml).unwrap();
    path
}

#[test]
fn the_readme_shows_what_iam_policy_prints_for_its_example_config() {
    let dir = tempfile::tempdir().unwrap();
    let config = readme_example(dir.path());
    let printed = iam_policy(&["--config", config.to_str().unwrap()]);
    assert!(actions(&printed).iter().all(|a| !a.contains('*')), "{printed:#}");
    assert_eq!(printed["Version"], "2012-10-17");
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let section = &readme[readme.find("\n## IAM\n").expect("README has an IAM section")..];
    let start = section.find("```json\n").expect("the IAM section shows the output") + "```json\n".len();
    let shown: Value = serde_json::from_str(&section[start..start + section[start..].find("```").unwrap()])
        .expect("the README's example output is JSON");
    assert_eq!(
        shown, printed,
        "README's IAM example is stale: paste `opsbot iam-policy` output for the example config"
    );
}

#[test]
fn the_changes_role_without_one_or_a_broken_config_is_refused_with_why() {
    let dir = tempfile::tempdir().unwrap();
    let run = |yaml: &str, args: &[&str]| {
        let path = dir.path().join("opsbot.yaml");
        std::fs::write(&path, yaml).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_opsbot"))
            .args(["iam-policy", "--config", path.to_str().unwrap()])
            .args(args)
            .env_remove("OPSBOT_STORE")
            .output()
            .unwrap();
        assert!(!out.status.success(), "refused");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = run("store:\n  path: x.db\n", &["--role", "changes"]);
    assert!(err.contains("no `aws.assume_role`") && err.contains("leave out `--role`"), "{err}");
    let err = run("store:\n  dynamodb: { tabel: opsbot }\n", &[]);
    assert!(err.contains("opsbot.yaml:2:") && err.contains("tabel"), "a policy for a config serve would refuse: {err}");
}

#[test]
fn a_reader_that_stops_early_ends_the_printout_quietly_not_with_a_panic() {
    // `opsbot iam-policy | head -3`: head exits before opsbot writes.
    let mut child = Command::new(env!("CARGO_BIN_EXE_opsbot"))
        .args(["iam-policy", "--config"])
        .arg(repo().join("deploy/config.yaml"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the opsbot binary runs");
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
}
