//! [`Wiring`]: what the application is built from besides settings — the AWS
//! gateways, whose identity changes run under, the policy, the clock, the
//! SQS client and the metrics everything counts into — and the one way the command runner is built from it
//! ([`Wiring::ops`]), for `serve`, `console`, `demo` and the tests alike.

use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use opsbot_commands::change::identity::Identity;
use opsbot_commands::change::lifecycle::replica_id;
use opsbot_commands::hooks::ParamHook;
use opsbot_commands::ports::DeclaredParams;
use opsbot_commands::ports::chat::Chat;
use opsbot_commands::ports::{Accounts, Clock, Gateways, StoppedTasks, system_clock};
use opsbot_commands::{LivePolicy, Ops, default_policy};

use crate::aws::{AwsAccounts, AwsObjects, AwsTags, client};
use crate::declared::DeclaredSources;
use crate::metrics::Metrics;
use crate::metrics::aws::AwsCalls;
use crate::notify::build_log::BuildLogs;
use crate::notify::tags::ReadTags;
use crate::notify::why_reads::AccountReads;
use crate::settings::{SHORTEST_SESSION, Settings};
use crate::store::Storage;

/// How often waiting changes are checked for expiry.
pub const SWEEP_EVERY: Duration = Duration::from_secs(30);

/// What the application is built from besides settings.
pub struct Wiring {
    pub aws: Gateways,
    /// Whose AWS identity changes run under; `None`: the bot's (`aws`).
    pub identity: Option<Arc<dyn Identity>>,
    /// The accounts and regions commands may name (`aws.accounts`,
    /// `--region`); `None`: the bot's own account and region only.
    pub accounts: Option<Arc<dyn Accounts>>,
    /// Where notification routes read resources' tags (`match: { tags: … }`);
    /// `None`: no route tests tags.
    pub tags: Option<Arc<dyn ReadTags>>,
    /// The policy in force; `serve` replaces it on reload (see `crate::reload`).
    pub policy: LivePolicy,
    pub clock: Clock,
    pub sweep_every: Duration,
    /// The SQS client notifications are polled with (`notifications.sqs_queues`).
    pub sqs: Option<aws_sdk_sqs::Client>,
    /// The DynamoDB client the store uses (`store.dynamodb`).
    pub dynamodb: Option<aws_sdk_dynamodb::Client>,
    /// This process's name on the leases it holds in the store (running
    /// changes, channels it sends to); tests run two replicas in one process.
    pub replica: String,
    /// What `/metrics` shows; the SDK clients made by [`Wiring::from_sdk`]
    /// count their calls into it.
    pub metrics: Arc<Metrics>,
    /// Where notifications read a failed build's log; `None`: they show the
    /// action's error only.
    pub builds: Option<Arc<dyn BuildLogs>>,
    /// Where notifications read a failed ECS deployment's stopped tasks;
    /// `None`: they show ECS's reason only.
    pub stopped_tasks: Option<Arc<dyn StoppedTasks>>,
    /// Where notifications from the accounts of `aws.accounts` read why
    /// they failed; `None`: through `builds`, `stopped_tasks` and
    /// `aws.automations`, whatever the account.
    pub account_reads: Option<Arc<dyn AccountReads>>,
}

impl Wiring {
    /// `aws` with the built-in policy (reads for everyone, no changes), the
    /// system clock and a sweep every [`SWEEP_EVERY`].
    pub fn new(aws: Gateways) -> Self {
        Wiring {
            aws,
            identity: None,
            accounts: None,
            tags: None,
            policy: Arc::new(default_policy()).into(),
            clock: system_clock(),
            sweep_every: SWEEP_EVERY,
            sqs: None,
            dynamodb: None,
            replica: replica_id(),
            metrics: Arc::default(),
            builds: None,
            stopped_tasks: None,
            account_reads: None,
        }
    }

    /// The production wiring from the bot's AWS configuration: its gateways,
    /// changes run as `aws.assume_role` when configured, under the configured policy.
    /// The SQS and DynamoDB clients are made only when the settings use them:
    /// making one runs code that would otherwise stay out of memory.
    /// Every client counts its calls into the wiring's metrics.
    pub fn from_sdk(settings: &Settings, sdk: &SdkConfig) -> Self {
        let metrics = Arc::new(Metrics::default());
        let calls = AwsCalls(metrics.clone());
        let mut wiring = Wiring { metrics, ..Wiring::new(crate::aws::gateways(sdk, &calls)) }.with_settings(settings);
        wiring.builds = Some(crate::aws::build_logs(sdk, &calls));
        // The commands' own reader: one ECS client less to keep in memory.
        wiring.stopped_tasks = Some(wiring.aws.stopped_tasks.clone());
        if !settings.notifications.sqs_queues.is_empty() {
            wiring.sqs = Some(client!(aws_sdk_sqs, sdk, calls));
        }
        if matches!(settings.store, crate::settings::StoreChoice::DynamoDb { .. }) {
            wiring.dynamodb = Some(client!(aws_sdk_dynamodb, sdk, calls));
        }
        let home = settings
            .assume_role
            .as_ref()
            .map(|role| Arc::new(crate::aws::AssumeRole::new(sdk, &role.role_arn, role.duration, calls.clone())));
        let duration = settings.assume_role.as_ref().map_or(SHORTEST_SESSION, |role| role.duration);
        let accounts =
            Arc::new(AwsAccounts::new(sdk, settings.accounts.clone(), duration, home.clone(), calls.clone()));
        if settings.notifications.routes_by_tags() {
            wiring.tags = Some(Arc::new(AwsTags::new(accounts.clone(), calls.clone())));
        }
        wiring.account_reads = Some(accounts.clone());
        let in_s3 = |e: &crate::settings::DeclaredEnv| matches!(e.from, crate::settings::DeclaredFrom::S3 { .. });
        if settings.declared_params.iter().any(in_s3) {
            // Made only when an environment is in S3, like the SQS and DynamoDB clients.
            let declared = DeclaredSources::new(settings.declared_params.clone())
                .with_s3(AwsObjects::new(client!(aws_sdk_s3, sdk, calls)));
            wiring = wiring.with_declared(Arc::new(declared));
        }
        let wiring = wiring.with_accounts(accounts);
        match home {
            Some(identity) => wiring.with_identity(identity),
            None => wiring,
        }
    }

    /// The configured policy and declared parameters (`params.environments`).
    pub fn with_settings(self, settings: &Settings) -> Self {
        self.with_declared(Arc::new(DeclaredSources::new(settings.declared_params.clone())))
            .with_policy(settings.live_policy())
    }

    /// `params diff` and `params apply` read declared parameters from `declared`.
    pub fn with_declared(mut self, declared: Arc<dyn DeclaredParams>) -> Self {
        self.aws.declared = declared;
        self
    }

    /// Commands may name the accounts and regions of `accounts`.
    pub fn with_accounts(self, accounts: Arc<dyn Accounts>) -> Self {
        Wiring { accounts: Some(accounts), ..self }
    }

    /// Changes run under `identity` (reads keep `aws`).
    pub fn with_identity(self, identity: Arc<dyn Identity>) -> Self {
        Wiring { identity: Some(identity), ..self }
    }

    pub fn with_policy(self, policy: impl Into<LivePolicy>) -> Self {
        Wiring { policy: policy.into(), ..self }
    }

    pub fn with_clock(self, clock: Clock, sweep_every: Duration) -> Self {
        Wiring { clock, sweep_every, ..self }
    }

    /// The command runner on these gateways, identity, policy and clock,
    /// recording in `store`, writing to `chat`, running `hooks` after
    /// parameter changes.
    pub fn ops(&self, store: Arc<dyn Storage>, chat: Arc<dyn Chat>, hooks: Vec<ParamHook>) -> Ops {
        let ops = Ops::new(self.aws.clone(), self.policy.clone(), store, chat)
            .with_observer(self.metrics.clone())
            .with_param_hooks(hooks)
            .with_clock(self.clock.clone())
            .with_replica(&self.replica);
        let ops = match &self.accounts {
            Some(accounts) => ops.with_accounts(accounts.clone()),
            None => ops,
        };
        match &self.identity {
            Some(identity) => ops.with_identity(identity.clone()),
            None => ops,
        }
    }
}
