//! `opsbot iam-policy`: the least-privilege IAM policy for exactly what a
//! config enables, as a pure function of [`Settings`] ([`IamPolicy::for_settings`]).
//!
//! # Layout
//! - this file: how settings become statements ([`IamPolicy::for_settings`]);
//! - `document.rs`: the document ([`IamPolicy`], [`Statement`], [`Resource`]),
//!   merging statements, and its two printed forms (plain IAM JSON and a
//!   CloudFormation `Policies` entry);
//! - `commands.rs`: what each command calls in AWS (every command must be
//!   listed: a test walks the command table);
//! - `arn.rs`: ARNs from what the config names (queue URLs, table, roles) and
//!   from the policy's `where` patterns;
//!
//! # Decisions
//! - A command gets permissions only if some policy rule could allow it
//!   ([`opsbot_policies::Policy::may_allow`]); the built-in policy allows
//!   every read and no change, so without `policies:` the bot's role can only
//!   read.
//! - A change's target is narrowed to what every allow rule's `where` pattern
//!   lets through, when each pattern is anchored (`^/shop/staging/` becomes
//!   `parameter/shop/staging/*`). Otherwise the action gets `*`: a regex
//!   cannot be turned into an ARN pattern in general, and a wider grant beats
//!   a change the policy allows failing in AWS.
//! - Statements are grouped by what they are for, each with one resource
//!   scope (`ReadPipelines`, `ChangeParamSet`, `Store`, ...), so merging two
//!   commands' needs never widens an action's resources. Actions are always
//!   named in full; only resources AWS cannot scope (list calls, `DescribeParameters`,
//!   `RegisterTaskDefinition`) are `*`.
//! - With `aws.assume_role`, changes (their re-plan, act and checks) run as
//!   that role: the bot's role keeps the reads and may assume the role
//!   ([`Principal::Task`]); the change actions belong to the role assumed
//!   ([`Principal::Changes`]). Plans are made with the bot's own credentials,
//!   so the reads a change uses are in both.
//! - Declared parameters in S3 (`params.environments.*.url: s3://…`) add
//!   `s3:GetObject` on exactly those objects, to the bot's role: the bot
//!   reads them as itself, whoever a change runs as.
//! - Routes that test tags (`match: { tags: … }`) add the three
//!   `ListTagsForResource` actions, to the bot's role and to each account's.
//! - Notifications add the why-it-failed reads (`ReadWhyItFailed`) to the
//!   bot's role and to each account's: a failure is read in the account it
//!   happened in.
//! - With `aws.accounts`, the bot's role may assume each account's role
//!   (with a source identity, for changes); `--account NAME` prints what
//!   that account's role needs: the reads (the bot reads there as itself)
//!   and the changes (run there for their requester), narrowed as above.
//!   The account's role trusts the bot's role; that trust policy is the
//!   account's to write.

mod arn;
mod commands;
mod document;

use opsbot_commands::cmd::ENTRIES;

pub use arn::Arn;
use commands::{Needs, needs};
pub use document::{IamPolicy, Resource, Statement};

use crate::settings::{DeclaredFrom, Settings, StoreChoice};

/// Whose policy to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Principal {
    /// The role the bot runs as (an ECS task role).
    Task,
    /// The role of `aws.assume_role`, which changes run as.
    Changes,
}

/// What to put in the policy besides what `serve` needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub principal: Principal,
    /// Also what `opsbot store init` needs (create the table, turn TTL on).
    pub store_init: bool,
    /// The role of this account of `aws.accounts` instead of `principal`.
    pub account: Option<String>,
}

/// Why no policy can be printed.
#[derive(Debug, thiserror::Error)]
pub enum IamError {
    #[error(
        "`--role changes` prints the policy of the role changes run as, but the config has no `aws.assume_role` — \
         without it changes run as the bot's own role: leave out `--role`"
    )]
    NoChangesRole,
    #[error("`--account {name}`: no such account in `aws.accounts` — the accounts are: {known}")]
    UnknownAccount { name: String, known: String },
}

/// The commands that do nothing without `params.environments`.
const DECLARED: [&str; 2] = ["params diff", "params apply"];

impl IamPolicy {
    /// The policy `options.principal` needs for what `settings` enable.
    pub fn for_settings(settings: &Settings, options: &Options) -> Result<IamPolicy, IamError> {
        let mut policy = IamPolicy { statements: Vec::new() };
        if let Some(name) = &options.account {
            if settings.accounts.named(name).is_none() {
                let names: Vec<&str> = settings.accounts.accounts.iter().map(|a| a.name.as_str()).collect();
                let known = if names.is_empty() { "none configured".to_owned() } else { names.join(", ") };
                return Err(IamError::UnknownAccount { name: name.clone(), known });
            }
            policy.commands(settings, true, true);
            policy.why_it_failed(settings);
            policy.tag_reads(settings);
            return Ok(policy);
        }
        let changes_elsewhere = settings.assume_role.is_some();
        if options.principal == Principal::Changes && !changes_elsewhere {
            return Err(IamError::NoChangesRole);
        }
        if options.principal == Principal::Task {
            policy.infrastructure(settings, options.store_init);
        }
        let acting = !changes_elsewhere || options.principal == Principal::Changes;
        policy.commands(settings, options.principal == Principal::Task, acting);
        Ok(policy)
    }

    /// What the allowed commands need: their reads (with `reads`; a changes
    /// role gets only the reads of changes, for their re-plans) and, when
    /// `acting`, the changes' own actions.
    fn commands(&mut self, settings: &Settings, reads: bool, acting: bool) {
        let rules = settings.policy();
        for entry in ENTRIES {
            let name = entry.spec.name;
            let needs = needs(name).unwrap_or_else(|| panic!("iam: command `{name}` is missing from iam/commands.rs"));
            if !rules.may_allow(name) || (DECLARED.contains(&name) && settings.declared_params.is_empty()) {
                continue;
            }
            if !reads && !entry.spec.changes {
                continue;
            }
            for (sid, actions) in needs.reads {
                self.add(sid, actions, [Resource::Any], None);
            }
            if !entry.spec.changes {
                // A read's own extras: `params diff` decrypts SecureStrings to hash them.
                for (sid, actions, condition) in needs.extras() {
                    self.add(sid, actions, [Resource::Any], condition);
                }
            }
            if entry.spec.changes && acting {
                self.change(name, &needs, &rules);
            }
        }
        self.merge_changes();
    }

    /// The store, the notification queues and the role changes run as.
    fn infrastructure(&mut self, settings: &Settings, store_init: bool) {
        if let StoreChoice::DynamoDb { table } = &settings.store {
            let table_arn = Arn::new("dynamodb", format!("table/{table}"));
            let index_arn = Arn::new("dynamodb", format!("table/{table}/index/*"));
            self.add("Store", STORE_ACTIONS, [Resource::Arn(table_arn.clone()), Resource::Arn(index_arn)], None);
            if store_init {
                self.add("StoreInit", STORE_INIT_ACTIONS, [Resource::Arn(table_arn)], None);
            }
        }
        let queue = |url: &String| arn::queue_arn(url).map_or(Resource::Any, Resource::Arn);
        let queues: Vec<Resource> = settings.notifications.sqs_queues.iter().map(queue).collect();
        if !queues.is_empty() {
            self.add("NotificationQueue", &["sqs:ReceiveMessage", "sqs:DeleteMessage"], queues, None);
        }
        self.why_it_failed(settings);
        self.tag_reads(settings);
        let objects: Vec<Resource> = settings
            .declared_params
            .iter()
            .filter_map(|env| match &env.from {
                DeclaredFrom::S3 { bucket, key } => Some(Resource::Arn(arn::s3_object(bucket, key))),
                _ => None,
            })
            .collect();
        if !objects.is_empty() {
            self.add("DeclaredParameters", &["s3:GetObject"], objects, None);
        }
        let roles = settings
            .assume_role
            .iter()
            .map(|r| &r.role_arn)
            .chain(settings.accounts.accounts.iter().map(|a| &a.role_arn));
        let roles: Vec<Resource> = roles.map(|arn| Resource::Arn(Arn::literal(arn))).collect();
        if !roles.is_empty() {
            self.add("AssumeRoles", &["sts:AssumeRole", "sts:SetSourceIdentity"], roles, None);
        }
    }

    /// With notifications on, a failed build's thread shows the end of its
    /// log, a failed deployment's why its tasks stopped, a failed automation
    /// its step — read in the account the notification came from, so by the
    /// bot's role and by each account's.
    fn why_it_failed(&mut self, settings: &Settings) {
        if !settings.notifications.sqs_queues.is_empty() || !settings.notifications.sns_topics.is_empty() {
            self.add("ReadWhyItFailed", WHY_IT_FAILED_ACTIONS, [Resource::Any], None);
        }
    }

    /// Routes that test tags read them from whichever resource a
    /// notification is about: any service, alarm or pipeline.
    fn tag_reads(&mut self, settings: &Settings) {
        if settings.notifications.routes_by_tags() {
            self.add("NotificationTags", TAG_ACTIONS, [Resource::Any], None);
        }
    }

    /// A change command's own actions, narrowed by the policy, and its extras.
    fn change(&mut self, name: &str, needs: &Needs, rules: &opsbot_policies::Policy) {
        if !needs.change.is_empty() {
            let patterns = needs.narrow.argument().and_then(|arg| rules.allowed_patterns(name, arg));
            let resources = needs.narrow.resources(patterns.as_deref());
            self.add(&format!("Change{}", camel(name)), needs.change, resources, None);
        }
        for (sid, actions, condition) in needs.extras() {
            self.add(sid, actions, [Resource::Any], condition);
        }
    }
}

/// Reading a failed build (its log stream and phases) and its last log
/// lines, the tasks a failed ECS deployment stopped, and a failed Automation
/// execution's steps.
const WHY_IT_FAILED_ACTIONS: &[&str] = &[
    "codebuild:BatchGetBuilds",
    "ecs:DescribeTasks",
    "ecs:ListTasks",
    "logs:GetLogEvents",
    "ssm:GetAutomationExecution",
];

/// What `serve` does with its DynamoDB table: reads and conditional writes,
/// transactions (whose parts need their own actions: there is no
/// `TransactWriteItems` permission), pruning in batches, the index queried,
/// and the check at start-up that the table has the right shape.
const STORE_ACTIONS: &[&str] = &[
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
];

/// Reading a resource's tags for routing (`bot/aws/tags.rs`).
const TAG_ACTIONS: &[&str] =
    &["cloudwatch:ListTagsForResource", "codepipeline:ListTagsForResource", "ecs:ListTagsForResource"];

/// `opsbot store init`: create the table and turn TTL on (not needed by a
/// stack that creates the table itself).
const STORE_INIT_ACTIONS: &[&str] =
    &["dynamodb:CreateTable", "dynamodb:DescribeTable", "dynamodb:DescribeTimeToLive", "dynamodb:UpdateTimeToLive"];

/// How `opsbot iam-policy` prints the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// An IAM policy document (any region and account).
    Json,
    /// An entry of an `AWS::IAM::Role`'s `Policies`, ARNs in the stack's
    /// partition, region and account.
    Cloudformation,
}

/// What IAM takes in one managed policy, and in all of a role's inline
/// policies together, counted without whitespace.
const MANAGED_POLICY_CHARS: usize = 6_144;
const INLINE_POLICIES_CHARS: usize = 10_240;

/// `opsbot iam-policy`: the policy for `settings`, printed as `format`, and
/// a warning for stderr when IAM's size limits matter for where it can go.
pub fn print(settings: &Settings, options: Options, format: Format) -> Result<(String, Option<String>), IamError> {
    let policy = IamPolicy::for_settings(settings, &options)?;
    let warning = size_warning(policy.to_json().chars().filter(|c| !c.is_whitespace()).count());
    let text = match format {
        Format::Json => policy.to_json(),
        Format::Cloudformation => policy.to_cloudformation(match (&options.account, options.principal) {
            (Some(_), _) => "opsbot-account",
            (None, Principal::Task) => "opsbot-task",
            (None, Principal::Changes) => "opsbot-changes",
        }),
    };
    Ok((text, warning))
}

/// Where a policy of `chars` characters (whitespace aside, as IAM counts) fits.
fn size_warning(chars: usize) -> Option<String> {
    if chars > INLINE_POLICIES_CHARS {
        Some(format!(
            "warning: this policy is {chars} characters (without whitespace), over the {INLINE_POLICIES_CHARS} IAM \
             allows for a role's inline policies, so no one IAM policy can hold it (deploy/render.sh refuses it): split \
             its statements over managed policies of at most {MANAGED_POLICY_CHARS} characters each, or narrow fewer \
             changes by separate patterns"
        ))
    } else if chars > MANAGED_POLICY_CHARS {
        Some(format!(
            "note: this policy is {chars} characters (without whitespace): put it inline on the role (IAM allows \
             {INLINE_POLICIES_CHARS} there), not in a managed policy (at most {MANAGED_POLICY_CHARS})"
        ))
    } else {
        None
    }
}

/// `param set` → `ParamSet`, for Sids.
fn camel(name: &str) -> String {
    name.split(' ')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests;
