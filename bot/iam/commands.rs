//! What each command calls in AWS, as IAM actions: the reads (any resource:
//! the built-in policy lets everyone read everything) and a change's own
//! actions, which the policy's `where` on one argument can narrow.
//!
//! Derived from the gateways in `bot/aws/` (which port method makes which
//! SDK call) and the commands' use of the ports (`commands/src/cmd/`); the
//! iam-policy test scans those sources for SDK calls and fails on one no
//! command or store statement grants.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::arn::{Arn, literal_prefix};
use super::document::Resource;

/// A command's needs.
#[derive(Debug, Clone, Copy)]
pub struct Needs {
    /// `(Sid, actions)` on any resource.
    pub reads: &'static [(&'static str, &'static [&'static str])],
    /// The change's own actions, on what [`Needs::narrow`] allows.
    pub change: &'static [&'static str],
    pub narrow: Narrow,
    /// Roles a new task definition revision carries are passed to ECS, and
    /// its tags copied (`deploy`).
    pub task_definitions: bool,
    /// Writes (and for a rollback, reads decrypted) SecureString values.
    pub secure_strings: Kms,
    /// Runbooks may take an `AutomationAssumeRole` (`automation run`).
    pub automation_roles: bool,
}

/// What a command does with SecureString keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kms {
    None,
    /// Reads SecureStrings decrypted to compare them by hash (`params diff`).
    Decrypt,
    Encrypt,
    EncryptAndDecrypt,
}

/// Which policy argument bounds a change's target, and the ARN it maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Narrow {
    /// Not narrowed (the target is not in the policy's arguments, or AWS
    /// cannot scope the action).
    Not,
    /// `pipeline`: `arn:…:codepipeline:…:<pipeline>` (stages and actions below it).
    Pipeline,
    /// `service` (`CLUSTER/NAME`): `arn:…:ecs:…:service/<cluster>/<name>`.
    EcsService,
    /// `name`: `arn:…:ssm:…:parameter/<name without its leading />`.
    Parameter,
}

impl Narrow {
    /// The policy argument this narrows by.
    pub fn argument(self) -> Option<&'static str> {
        match self {
            Narrow::Not => None,
            Narrow::Pipeline => Some("pipeline"),
            Narrow::EcsService => Some("service"),
            Narrow::Parameter => Some("name"),
        }
    }

    /// The resources allowed for `patterns` (the policy's bounds on the
    /// argument, `None` if unbounded).
    pub fn resources(self, patterns: Option<&[&str]>) -> BTreeSet<Resource> {
        let prefixes: Option<Vec<String>> = patterns.and_then(|p| p.iter().map(|p| literal_prefix(p)).collect());
        let (service, kind) = match self {
            Narrow::Not => return BTreeSet::from([Resource::Any]),
            Narrow::Pipeline => ("codepipeline", ""),
            Narrow::EcsService => ("ecs", "service/"),
            Narrow::Parameter => ("ssm", "parameter/"),
        };
        let Some(prefixes) = prefixes else { return BTreeSet::from([Resource::Any]) };
        prefixes
            .iter()
            .map(|prefix| {
                let prefix = if self == Narrow::Parameter { prefix.trim_start_matches('/') } else { prefix };
                Resource::Arn(Arn::new(service, format!("{kind}{prefix}*")))
            })
            .collect()
    }
}

impl Needs {
    /// The statements a change brings besides its own actions: `(Sid,
    /// actions, condition)`, each on any resource (the roles and keys
    /// involved are the account's, not the config's).
    pub fn extras(&self) -> Vec<(&'static str, &'static [&'static str], Option<Value>)> {
        let mut extras = Vec::new();
        if self.task_definitions {
            let passed = json!({"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}});
            extras.push(("PassTaskRolesToEcs", &["iam:PassRole"][..], Some(passed)));
            // Only while registering: tags cannot be changed on anything else.
            let tagging = json!({"StringEquals": {"ecs:CreateAction": "RegisterTaskDefinition"}});
            extras.push(("TagNewTaskDefinitions", &["ecs:TagResource"][..], Some(tagging)));
        }
        let via_ssm = || Some(json!({"StringLike": {"kms:ViaService": "ssm.*.amazonaws.com"}}));
        match self.secure_strings {
            Kms::None => {}
            Kms::Decrypt => extras.push(("SecureStringKeys", &["kms:Decrypt"][..], via_ssm())),
            Kms::Encrypt => extras.push(("SecureStringKeys", &["kms:Encrypt", "kms:GenerateDataKey"][..], via_ssm())),
            Kms::EncryptAndDecrypt => {
                extras.push(("SecureStringKeys", &["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"][..], via_ssm()))
            }
        }
        if self.automation_roles {
            let passed = json!({"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}});
            extras.push(("PassAutomationRoles", &["iam:PassRole"][..], Some(passed)));
        }
        extras
    }
}

const READ: Needs = Needs {
    reads: &[],
    change: &[],
    narrow: Narrow::Not,
    task_definitions: false,
    secure_strings: Kms::None,
    automation_roles: false,
};

const PIPELINE_STATE: (&str, &[&str]) = (
    "ReadPipelines",
    &[
        "codepipeline:GetPipeline",
        "codepipeline:GetPipelineExecution",
        "codepipeline:GetPipelineState",
        "codepipeline:ListPipelineExecutions",
    ],
);
const SERVICE_DETAIL: (&str, &[&str]) = ("ReadEcsServices", &["ecs:DescribeServices", "ecs:DescribeTaskDefinition"]);
const ALARMS: (&str, &[&str]) = ("ReadAlarms", &["cloudwatch:DescribeAlarms"]);
/// Why a followed rollout that failed stopped its tasks (`bot/aws/ecs_stopped.rs`).
const STOPPED_TASKS: (&str, &[&str]) = ("ReadEcsServices", &["ecs:DescribeTasks", "ecs:ListTasks"]);
/// What `params diff` compares: values (SecureStrings decrypted), descriptions
/// under a prefix, and the tags of the parameters that declare theirs.
const LIVE_PARAMS: (&str, &[&str]) =
    ("ReadParameters", &["ssm:DescribeParameters", "ssm:GetParametersByPath", "ssm:ListTagsForResource"]);
const PARAM_SETTINGS: (&str, &[&str]) = ("ReadParameters", &["ssm:DescribeParameters", "ssm:GetParameter"]);
const AUTOMATIONS: (&str, &[&str]) = ("ReadAutomations", &["ssm:GetAutomationExecution"]);
const COMMAND_RUNS: (&str, &[&str]) = ("ReadRunCommands", &["ssm:ListCommandInvocations", "ssm:ListCommands"]);
/// Preflight of `run` and `automation run`: the document and its parameters.
const DOCUMENTS: (&str, &[&str]) = ("ReadDocuments", &["ssm:DescribeDocument"]);

/// A pipeline change: its state (and following the run it starts), then `action`.
const fn pipeline_change(action: &'static [&'static str]) -> Needs {
    Needs { reads: &[PIPELINE_STATE], change: action, narrow: Narrow::Pipeline, ..READ }
}

/// An ECS rollout (`restart`, `rollback`, `deploy`): refused while an alarm
/// on the service fires, then `UpdateService`, followed to its end — a
/// failed one with why its tasks stopped.
const ROLLOUT: Needs = Needs {
    reads: &[SERVICE_DETAIL, ALARMS, STOPPED_TASKS],
    change: &["ecs:UpdateService"],
    narrow: Narrow::EcsService,
    ..READ
};

/// What the command named `name` needs; `None` for a command this table
/// does not know yet (a test fails on it).
pub fn needs(name: &str) -> Option<Needs> {
    Some(match name {
        "pipelines" => Needs {
            reads: &[(
                "ReadPipelines",
                &[
                    "codepipeline:GetPipelineExecution",
                    "codepipeline:ListPipelineExecutions",
                    "codepipeline:ListPipelines",
                ],
            )],
            ..READ
        },
        "pipeline" => Needs { reads: &[PIPELINE_STATE], ..READ },
        "pipeline start" => pipeline_change(&["codepipeline:StartPipelineExecution"]),
        "pipeline retry" => pipeline_change(&["codepipeline:RetryStageExecution"]),
        "pipeline stop" => pipeline_change(&["codepipeline:StopPipelineExecution"]),
        "pipeline approve" | "pipeline reject" => pipeline_change(&["codepipeline:PutApprovalResult"]),
        "services" => Needs {
            reads: &[("ReadEcsServices", &["ecs:DescribeServices", "ecs:ListClusters", "ecs:ListServices"])],
            ..READ
        },
        "service" => Needs { reads: &[SERVICE_DETAIL], ..READ },
        "alarms" => Needs { reads: &[ALARMS], ..READ },
        "alerts" | "alert ack" | "audit" | "whoami" | "help" => READ,
        "param get" => Needs { reads: &[("ReadParameters", &["ssm:GetParameter"])], ..READ },
        "params" => Needs { reads: &[("ReadParameters", &["ssm:GetParametersByPath"])], ..READ },
        "params diff" => Needs { reads: &[LIVE_PARAMS], secure_strings: Kms::Decrypt, ..READ },
        // Judged per parameter by the `param set` rules, so the write is not
        // narrowed here: the policy's `where: env` names no parameter.
        "params apply" => Needs {
            reads: &[LIVE_PARAMS, PARAM_SETTINGS],
            change: &["ssm:AddTagsToResource", "ssm:PutParameter", "ssm:RemoveTagsFromResource"],
            secure_strings: Kms::EncryptAndDecrypt,
            ..READ
        },
        "param history" => Needs { reads: &[("ReadParameters", &["ssm:GetParameterHistory"])], ..READ },
        "scale" => {
            Needs { reads: &[SERVICE_DETAIL], change: &["ecs:UpdateService"], narrow: Narrow::EcsService, ..READ }
        }
        "restart" | "rollback" => ROLLOUT,
        "deploy" => Needs {
            reads: &[
                SERVICE_DETAIL,
                ALARMS,
                STOPPED_TASKS,
                ("RegisterTaskDefinitions", &["ecs:RegisterTaskDefinition"]),
            ],
            task_definitions: true,
            ..ROLLOUT
        },
        "param set" => Needs {
            reads: &[PARAM_SETTINGS],
            change: &["ssm:PutParameter"],
            narrow: Narrow::Parameter,
            secure_strings: Kms::Encrypt,
            ..READ
        },
        "param rollback" => Needs {
            reads: &[PARAM_SETTINGS, ("ReadParameters", &["ssm:GetParameterHistory"])],
            change: &["ssm:PutParameter"],
            narrow: Narrow::Parameter,
            secure_strings: Kms::EncryptAndDecrypt,
            ..READ
        },
        "automation run" => Needs {
            reads: &[AUTOMATIONS, DOCUMENTS, ("ReadAutomations", &["ssm:DescribeAutomationExecutions"])],
            change: &["ssm:StartAutomationExecution"],
            automation_roles: true,
            ..READ
        },
        "automation status" => Needs { reads: &[AUTOMATIONS], ..READ },
        "run" => Needs {
            reads: &[COMMAND_RUNS, DOCUMENTS, ("ReadManagedInstances", &["ssm:DescribeInstanceInformation"])],
            change: &["ssm:SendCommand"],
            ..READ
        },
        _ => return None,
    })
}
