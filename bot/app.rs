//! Builds the running application from settings and gateways, so `main` and
//! the end-to-end tests start exactly the same thing.
//!
//! `serve` = the HTTP listener (always: `/healthz`, `/readyz`, and `/metrics`
//! unless `server.metrics_listen` gives it a listener of its own; Slack
//! routes in the HTTP transport; `POST /sns` with SNS topics configured) + the Socket Mode
//! connection (in the socket transport) + the expiry [`sweeper`] + the
//! store [`pruner`] + the policy [`reload`]er (with a config file) + the
//! notifications (SQS pollers, handler, outbox sender; see
//! `notify::wiring`).
//!
//! Stopping ([`Running::stop`], on SIGTERM) goes in three steps, so a replica
//! leaves nothing half done and hands its work to the others at once:
//! 1. intake ends: `/readyz` answers 503, the Socket Mode connections close,
//!    SQS polling stops (what it did not take stays in the queue);
//! 2. for up to `server.shutdown_grace`, answers in flight finish and changes
//!    in their AWS call complete it; changes being followed are handed over
//!    at once (their leases released);
//! 3. everything else stops: the HTTP listener, the notification handler,
//!    and the outbox sender, which lets its sends in flight finish and gives
//!    its channels up.
//!
//! [`Wiring`] is what the application is built from besides settings: the AWS
//! gateways, whose identity changes run under, the policy and the clock.
//! `main` takes its defaults; tests swap in a policy that allows changes and a
//! clock they can move.
//!
//! A serving task that ends by itself (Slack refused the app token, a task
//! panicked) stops the others and is what [`Running::run_until`] returns, so
//! `main` exits non-zero with the cause (see [`tasks`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use opsbot_commands::Ops;
use opsbot_commands::ports::{Clock, Gateways};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{error, info};

use crate::http::probes::{Probes, metrics_routes};
use crate::http::{SlackHttp, router};
use crate::settings::{Settings, SettingsError, StoreChoice};
use crate::slack::SlackBot;
use crate::slack::chat::SlackChat;
use crate::slack::outbox::{Outbox, Pacing};
use crate::slack::web::SlackWeb;
use crate::store::{Retention, Storage};
use opsbot_commands::ports::store::StoreError;

mod error;
pub mod reload;
mod tasks;
mod wiring;

pub use error::AppError;
use tasks::Tasks;
pub use wiring::{SWEEP_EVERY, Wiring};

/// How often what is finished is pruned from the store (`store.retention`).
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Transport {
    /// Slack Socket Mode: outbound WebSocket, no public endpoint.
    Socket,
    /// Slack's Events API, slash commands and interactivity over HTTP.
    Http,
}

/// Every `every` until `stop`: expires overdue changes, so approval
/// requests say "expired" and lose their buttons even if nobody clicks them
/// again, and takes over running changes whose replica stopped or died
/// (their lease lapsed). The first tick is at once: what the previous run
/// handed over is followed on at start.
pub async fn sweeper(ops: Arc<Ops>, clock: Clock, every: Duration, stop: CancellationToken) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = ticks.tick() => {
                ops.expire_overdue(clock()).await;
                ops.recover().await;
            }
        }
    }
}

/// Prunes the store by `retention` at start and every [`PRUNE_EVERY`] until `stop`.
pub async fn pruner(store: Arc<dyn Storage>, retention: Retention, clock: Clock, stop: CancellationToken) {
    let mut ticks = tokio::time::interval(PRUNE_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = ticks.tick() => match store.prune(clock(), &retention).await {
                Ok(pruned) if pruned.total() > 0 => info!(?pruned, "pruned what the store no longer needs"),
                Ok(_) => {}
                Err(err) => error!(error = %err, "cannot prune the store; trying again in an hour"),
            },
        }
    }
}

/// The configured store: the SQLite file, or the DynamoDB table (refused
/// when missing or shaped otherwise) through `wiring`'s client.
pub async fn open_store(settings: &Settings, wiring: &Wiring) -> Result<Arc<dyn Storage>, StoreError> {
    match &settings.store {
        StoreChoice::Sqlite(path) => crate::store::open(path.as_deref()),
        StoreChoice::DynamoDb { table } => {
            let client = wiring.dynamodb.clone().ok_or_else(|| {
                StoreError(format!("store.dynamodb.table is {table}, but this app was built without AWS configuration"))
            })?;
            let store = crate::store::dynamodb::DynamoStore::open(client, table).await?;
            Ok(Arc::new(store.with_retention(&settings.retention).with_replica(&wiring.replica)))
        }
    }
}

/// A started bot: where it listens and how to stop it.
pub struct Running {
    pub addr: SocketAddr,
    /// Where `/metrics` listens when `server.metrics_listen` is set.
    pub metrics_addr: Option<SocketAddr>,
    /// Cancelled first when stopping: no new work is taken.
    intake: CancellationToken,
    stop: CancellationToken,
    grace: Duration,
    bot: Arc<SlackBot>,
    tasks: Tasks,
}

/// Fails with what to set when `transport` lacks a token or secret; run it
/// before anything slow (loading AWS credentials) so mistakes show at once.
pub fn check(settings: &Settings, transport: Transport) -> Result<(), SettingsError> {
    settings.require_bot_token()?;
    match transport {
        Transport::Http => settings.require_signing_secrets().map(drop),
        Transport::Socket => settings.require_app_token().map(drop),
    }
}

/// Checks settings for `transport`, binds the listener and starts serving
/// under the configured policy (the built-in one when none is configured).
pub async fn start(settings: &Settings, transport: Transport, aws: Gateways) -> Result<Running, AppError> {
    start_with(settings, transport, Wiring::new(aws).with_settings(settings)).await
}

/// [`start`] with everything besides settings chosen by the caller.
pub async fn start_with(settings: &Settings, transport: Transport, wiring: Wiring) -> Result<Running, AppError> {
    check(settings, transport)?;
    let bot_token = settings.require_bot_token()?;
    let http_slack = match transport {
        Transport::Http => Some(settings.require_signing_secrets()?.to_vec()),
        Transport::Socket => None,
    };
    let app_token = match transport {
        Transport::Socket => Some(settings.require_app_token()?.clone()),
        Transport::Http => None,
    };
    let web = Arc::new(SlackWeb::new(&settings.slack_api_url, bot_token, wiring.metrics.clone())?);
    let store = open_store(settings, &wiring).await?;
    let (intake, stop) = (CancellationToken::new(), CancellationToken::new());
    let (outbox, sender) =
        Outbox::new(store.clone(), web.clone(), wiring.clock.clone(), Pacing::default(), &wiring.replica);
    let chat = Arc::new(SlackChat::new(outbox.clone(), web.clone()));
    let parts = crate::notify::wiring::Parts {
        settings: &settings.notifications,
        store: store.clone(),
        outbox: outbox.clone(),
        policy: wiring.policy.clone(),
        pipelines: wiring.aws.pipelines.clone(),
        tags: wiring.tags.clone(),
        builds: wiring.builds.clone(),
        stopped_tasks: wiring.stopped_tasks.clone(),
        automations: Some(wiring.aws.automations.clone()),
        account_reads: wiring.account_reads.clone(),
        sqs: wiring.sqs.clone(),
        clock: wiring.clock.clone(),
        sweep_every: wiring.sweep_every,
        metrics: wiring.metrics.clone(),
    };
    let notifications = crate::notify::wiring::start(parts, &intake, &stop)?;
    let mut ops = wiring.ops(store.clone(), chat, settings.on_param_change.clone());
    let mut tasks = Tasks::default();
    tasks.push("outbox sender", until_stopped(tokio::spawn(sender.run(stop.clone()))));
    let sns = match notifications {
        Some(started) => {
            ops = ops.with_alerts(started.notifications);
            for task in started.tasks {
                tasks.push("notifications", until_stopped(task));
            }
            started.sns
        }
        None => None,
    };
    let ops = Arc::new(ops);
    let bot = SlackBot::new(ops.clone(), web, store.clone(), wiring.clock.clone());

    // Socket Mode connections up, for /readyz and /metrics; none over HTTP.
    let socket = app_token.as_ref().map(|_| crate::slack::socket::Connections::default());
    let probes =
        Probes::new(wiring.metrics.clone(), intake.clone(), store.clone(), socket.clone(), wiring.clock.clone());
    let slack = http_slack.map(|signing_secrets| SlackHttp { bot: bot.clone(), signing_secrets });
    let mut app = router(slack, sns, settings.max_body_bytes, probes.clone());
    let metrics_addr = match settings.metrics_listen {
        Some(at) => Some(serve(&mut tasks, "metrics listener", at, metrics_routes(probes), &stop).await?),
        None => {
            app = app.merge(metrics_routes(probes));
            None
        }
    };
    let addr = serve(&mut tasks, "HTTP server", settings.listen, app, &stop).await?;
    let sweep = sweeper(ops, wiring.clock.clone(), wiring.sweep_every, stop.clone());
    tasks.push(
        "expiry sweeper",
        tokio::spawn(async move {
            sweep.await;
            Ok(())
        }),
    );
    if let Some(reloader) = reload::Reloader::new(settings, wiring.policy.clone()) {
        let poll = wiring.sweep_every.min(reload::POLICY_POLL);
        tasks.push(
            "policy reloader",
            until_stopped(tokio::spawn(reload::watch(Arc::new(reloader), poll, stop.clone()))),
        );
    }
    if let Some(check) = &settings.drift_check {
        let drift = crate::notify::drift_check::DriftCheck {
            aws: wiring.aws.clone(),
            store: store.clone(),
            outbox: outbox.clone(),
            channel: check.channel.clone(),
        };
        let run = drift.run(check.every, wiring.clock.clone(), stop.clone());
        tasks.push("parameter drift check", until_stopped(tokio::spawn(run)));
    }
    let prune = pruner(store.clone(), settings.retention.clone(), wiring.clock, stop.clone());
    tasks.push("store pruner", until_stopped(tokio::spawn(prune)));
    if let (Some(app_token), Some(up)) = (app_token, socket) {
        let (bot, intake, count) = (bot.clone(), intake.clone(), settings.socket_connections);
        let socket = async move {
            crate::slack::socket::run_many(bot, app_token, count, up, intake).await.map_err(AppError::AppToken)
        };
        tasks.push("Socket Mode connections", tokio::spawn(socket));
    }
    info!(%addr, ?metrics_addr, ?transport, policy = %wiring.policy.version(), "opsbot is serving");
    Ok(Running { addr, metrics_addr, intake, stop, grace: settings.shutdown_grace, bot, tasks })
}

/// Binds `at` and serves `routes` there until `stop`, as the task `name`;
/// the address bound (port 0 becomes the port given).
async fn serve(
    tasks: &mut Tasks,
    name: &'static str,
    at: SocketAddr,
    routes: axum::Router,
    stop: &CancellationToken,
) -> Result<SocketAddr, AppError> {
    let listen_error = |source| AppError::Listen { addr: at, source };
    let listener = tokio::net::TcpListener::bind(at).await.map_err(listen_error)?;
    let addr = listener.local_addr().map_err(listen_error)?;
    let stop = stop.clone();
    let server = axum::serve(listener, routes).with_graceful_shutdown(async move { stop.cancelled().await });
    tasks.push(name, tokio::spawn(async move { server.await.map_err(AppError::Serve) }));
    Ok(addr)
}

/// A task that only ends when stopped, as a serving task; its panic is the app's.
fn until_stopped(task: JoinHandle<()>) -> JoinHandle<Result<(), AppError>> {
    tokio::spawn(async move {
        match task.await {
            Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
            _ => Ok(()),
        }
    })
}

impl Running {
    /// Stops in the three steps of the module doc; the first error any part
    /// ended with.
    pub async fn stop(self) -> Result<(), AppError> {
        info!(grace_ms = self.grace.as_millis() as u64, "stopping: no new work; finishing what is in flight");
        self.intake.cancel();
        self.bot.drain(self.grace).await;
        self.stop.cancel();
        self.tasks.join().await
    }

    /// Resolves when `signal` fires, or when any part stops by itself (for
    /// example, Slack refused the app token): then stops the rest and returns
    /// why that part stopped.
    pub async fn run_until(mut self, signal: impl std::future::Future<Output = ()>) -> Result<(), AppError> {
        let ended = tokio::select! {
            () = signal => return self.stop().await,
            ended = self.tasks.first_to_end() => ended,
        };
        error!(error = %ended, "a serving task ended; stopping the rest");
        if let Err(err) = self.stop().await {
            error!(error = %err, "another serving task failed while stopping");
        }
        Err(ended)
    }
}
