//! SSM in the sandbox beyond Parameter Store: managed instances with tags,
//! the runbooks and command documents it knows, and the Automation
//! executions and Run Command commands started in it.
//!
//! # Decisions
//! - Progress is a function of time: an execution or command stores when it
//!   started (`tokio::time::Instant`) and how long each step or instance
//!   takes, and every look derives its status from the time elapsed since.
//!   Tests pause tokio's clock and advance it; the demo just waits.
//! - The documents are a small fixed catalog ([`automation_steps`],
//!   [`command_output`]): AWS-owned ones every account has, and the demo
//!   shop's own. Anything else is not found, as in AWS.
//! - Failures are deterministic: the runbook `Shop-MigrateLegacy` fails at its
//!   second step, and a shell command containing `exit 1` or `false` fails on
//!   every instance.

use std::collections::BTreeMap;
use std::time::Duration;

use opsbot_commands::ports::{Document, DocumentKind, DocumentParameter, Time};
use opsbot_commands::values::ssm::DocParams;
use tokio::time::Instant;

/// A managed instance: its Name tag and every tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimInstance {
    pub name: String,
    pub tags: BTreeMap<String, String>,
}

/// One step of a runbook: name, action, how long it runs, why it fails (if it does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimStep {
    pub name: &'static str,
    pub action: &'static str,
    pub takes: Duration,
    pub fails: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimAutomation {
    pub document: String,
    pub steps: Vec<SimStep>,
    pub started: Instant,
    pub started_at: Time,
    pub by: String,
    /// As started: what tells two executions' targets apart.
    pub parameters: DocParams,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimInvocation {
    pub instance: String,
    pub takes: Duration,
    pub output: String,
    pub fails: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimCommand {
    pub document: String,
    pub started: Instant,
    pub invocations: Vec<SimInvocation>,
}

/// The SSM state of the account.
#[derive(Debug, Clone)]
pub struct SimSsm {
    /// When the account was created: `Account::now` happened then.
    pub epoch: Instant,
    pub instances: BTreeMap<String, SimInstance>,
    pub automations: BTreeMap<String, SimAutomation>,
    pub commands: BTreeMap<String, SimCommand>,
    next_id: u64,
}

impl Default for SimSsm {
    fn default() -> Self {
        SimSsm {
            epoch: Instant::now(),
            instances: BTreeMap::new(),
            automations: BTreeMap::new(),
            commands: BTreeMap::new(),
            next_id: 1,
        }
    }
}

impl SimSsm {
    /// The account's present: `account_now` plus the time since creation.
    pub fn now(&self, account_now: Time) -> Time {
        account_now + chrono::Duration::from_std(self.epoch.elapsed()).unwrap_or_default()
    }

    /// A fresh id shaped like SSM's (36 characters).
    pub fn next_id(&mut self) -> String {
        let n = self.next_id;
        self.next_id += 1;
        format!("5a1d{n:04x}-0000-4000-8000-{n:012x}")
    }

    /// Instances whose tag `key` has one of `values`, sorted by id.
    pub fn tagged(&self, key: &str, values: &[String]) -> Vec<String> {
        let hit = |i: &SimInstance| i.tags.get(key).is_some_and(|v| values.contains(v));
        self.instances.iter().filter(|(_, i)| hit(i)).map(|(id, _)| id.clone()).collect()
    }
}

fn step(name: &'static str, action: &'static str, secs: u64) -> SimStep {
    SimStep { name, action, takes: Duration::from_secs(secs), fails: None }
}

/// The steps of a runbook the sandbox knows; `None` for any other document.
pub fn automation_steps(document: &str) -> Option<Vec<SimStep>> {
    Some(match document {
        "AWS-RestartEC2Instance" => {
            vec![
                step("stopInstances", "aws:changeInstanceState", 4),
                step("startInstances", "aws:changeInstanceState", 6),
            ]
        }
        "Shop-FlushCache" => vec![
            step("drainTraffic", "aws:executeAwsApi", 3),
            step("flushRedis", "aws:runCommand", 5),
            step("restoreTraffic", "aws:executeAwsApi", 3),
        ],
        "Shop-MigrateLegacy" => vec![
            step("snapshotDatabase", "aws:executeAwsApi", 4),
            SimStep {
                fails: Some(
                    "Step fails when it is executing aws:runCommand: table `orders` is locked by another session",
                ),
                ..step("migrateSchema", "aws:runCommand", 5)
            },
            step("verify", "aws:assertAwsResourceProperty", 2),
        ],
        _ => return None,
    })
}

/// A document of the catalog as `DescribeDocument` tells it: its kind and
/// `(parameter, required)` as AWS declares them for the AWS-owned ones.
pub fn document(name: &str) -> Option<Document> {
    let (kind, parameters): (DocumentKind, &[(&str, bool)]) = match name {
        "AWS-RunShellScript" => {
            (DocumentKind::Command, &[("commands", true), ("workingDirectory", false), ("executionTimeout", false)])
        }
        "Shop-ReloadConfig" => (DocumentKind::Command, &[]),
        "AWS-RunPatchBaseline" => (DocumentKind::Command, &[("Operation", false), ("RebootOption", false)]),
        "AWS-RestartEC2Instance" => {
            (DocumentKind::Automation, &[("InstanceId", true), ("AutomationAssumeRole", false)])
        }
        "Shop-FlushCache" => (DocumentKind::Automation, &[("Tier", false)]),
        "Shop-MigrateLegacy" => (DocumentKind::Automation, &[]),
        _ => return None,
    };
    let parameters =
        parameters.iter().map(|(name, required)| DocumentParameter { name: (*name).to_owned(), required: *required });
    Some(Document { kind, parameters: parameters.collect() })
}

/// Whether the sandbox knows the command document `document`.
pub fn knows_command(document: &str) -> bool {
    self::document(document).is_some_and(|d| d.kind == DocumentKind::Command)
}

/// What a command document prints on an instance, and whether it fails;
/// `None` for documents the sandbox does not know.
pub fn command_output(
    document: &str,
    parameters: &[(String, Vec<String>)],
    instance: &SimInstance,
) -> Option<(String, bool)> {
    let values =
        |key: &str| parameters.iter().filter(|(k, _)| k == key).flat_map(|(_, v)| v.clone()).collect::<Vec<_>>();
    match document {
        "AWS-RunShellScript" => {
            let commands = values("commands");
            let fails = commands.iter().any(|c| c.contains("exit 1") || c.split_whitespace().any(|w| w == "false"));
            let mut out: Vec<String> = commands.iter().map(|c| format!("$ {c}\n{}", shell(c, instance))).collect();
            if fails {
                out.push("failed to run commands: exit status 1".into());
            }
            Some((out.join("\n"), fails))
        }
        "Shop-ReloadConfig" => {
            let env = instance.tags.get("Environment").map_or("unknown", String::as_str);
            Some((
                format!("Reloaded /etc/shop/config.json from Parameter Store /shop/{env}/\nshop.service: reloaded"),
                false,
            ))
        }
        "AWS-RunPatchBaseline" => {
            Some(("Scan found 0 missing patches.\nInstalled: 412, Missing: 0, Failed: 0".into(), false))
        }
        _ => None,
    }
}

fn shell(command: &str, instance: &SimInstance) -> String {
    match command.split_whitespace().next().unwrap_or_default() {
        "uptime" => " 09:30:01 up 12 days,  3:04,  0 users,  load average: 0.08, 0.03, 0.01".into(),
        "hostname" => instance.name.clone(),
        "df" => "Filesystem      Size  Used Avail Use% Mounted on\n/dev/nvme0n1p1   30G   11G   19G  37% /".into(),
        "systemctl" => String::new(),
        _ => "(simulated)".into(),
    }
}

/// The demo's `on_param_change`: a change under `/shop/staging/` reloads the
/// shop's configuration on the staging instances.
pub fn demo_hooks() -> Vec<opsbot_commands::hooks::ParamHook> {
    use opsbot_commands::values::ssm::{DocParams, DocumentName, Targets};
    let document = DocumentName::parse("Shop-ReloadConfig").expect("a valid name");
    let targets = Targets::parse("tag:Environment=staging").expect("valid targets");
    let hook = opsbot_commands::hooks::ParamHook::new("/shop/staging/", document, targets, DocParams::default());
    vec![hook.expect("a valid prefix")]
}

/// The demo's declared parameters: prod as its repository declares it
/// (`seed/declared-prod.yaml`), the API pool size drifted. The password is
/// declared `from: env:SHOP_PROD_DB_PASSWORD`, which the demo answers with
/// the sandbox's current one, so only the pool size differs.
pub fn demo_declared() -> crate::declared::DeclaredSources {
    use crate::settings::{DeclaredEnv, DeclaredFrom};
    let prefix = opsbot_commands::values::ParamPath::parse("/shop/prod/").expect("a valid prefix");
    let text = include_str!("seed/declared-prod.yaml");
    let from = DeclaredFrom::Builtin { shown: "params/prod.yaml", text };
    let env = DeclaredEnv { name: "prod".into(), prefix, from };
    let password = |name: &str| (name == "SHOP_PROD_DB_PASSWORD").then(|| "pR0d-7f#Kq9!vLx2-Zw8".to_owned());
    crate::declared::DeclaredSources::with_env(vec![env], std::sync::Arc::new(password))
}

/// The demo's managed instances: web and worker hosts in staging and prod.
pub fn seed(ssm: &mut SimSsm) {
    let hosts = [
        ("i-0a1b2c3d4e5f60011", "shop-staging-web-1", "staging", "web"),
        ("i-0a1b2c3d4e5f60012", "shop-staging-worker-1", "staging", "worker"),
        ("i-0a1b2c3d4e5f60021", "shop-prod-web-1", "prod", "web"),
        ("i-0a1b2c3d4e5f60022", "shop-prod-web-2", "prod", "web"),
        ("i-0a1b2c3d4e5f60023", "shop-prod-worker-1", "prod", "worker"),
    ];
    for (id, name, env, role) in hosts {
        let tags = [("Name", name), ("Environment", env), ("Role", role)];
        let tags = tags.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        ssm.instances.insert(id.into(), SimInstance { name: name.into(), tags });
    }
}
