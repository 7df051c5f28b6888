//! `opsbot`: a table of contents (CONVENTIONS #2). Everything else lives in
//! the library so the tests build the very same application.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use opsbot::app::{self, Transport};
use opsbot::console::chat::ConsoleChat;
use opsbot::console::{self, ConsoleUser, Screen, Session};
use opsbot::sandbox::Sandbox;
use opsbot::sandbox::account::{ACCOUNT_ID, REGION};
use opsbot::settings::Settings;
use opsbot::store::Storage;
use opsbot::{aws, policy_cli, telemetry};
use opsbot_commands::Ops;
use opsbot_commands::change::identity::Identity;
use opsbot_commands::hooks::ParamHook;
use opsbot_commands::ports::Gateways;
use opsbot_commands::values::{ChannelId, SlackUserId};
use opsbot_policies::Policy;

#[derive(Parser)]
#[command(version, about = "ChatOps for teams that ship on AWS")]
struct Cli {
    /// Config file (YAML). Without one, safe built-in defaults apply.
    #[arg(long, global = true, env = "OPSBOT_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Connect to Slack and answer commands.
    Serve {
        #[arg(long, value_enum, default_value = "socket")]
        transport: Transport,
        /// Address for /healthz (and Slack's requests with --transport http).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
    },
    /// Type commands in a terminal against the configured AWS account.
    Console(Who),
    /// The console against a simulated AWS account: no credentials, no network.
    Demo(Who),
    /// Ask or check the policy without Slack or AWS.
    #[command(subcommand)]
    Policy(PolicyCommand),
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// What would the policy decide? Exit 0 allow, 1 deny, 3 approval, 2 bad input.
    Check(policy_cli::CheckArgs),
    /// Validate a config file's policies or a policy file. Exit 0 valid, 2 invalid.
    Lint {
        /// The file (default: --config / OPSBOT_CONFIG).
        file: Option<PathBuf>,
    },
}

/// Who the console user is, for policies and `whoami`.
#[derive(Args)]
struct Who {
    /// Slack user id to act as.
    #[arg(long, value_parser = SlackUserId::parse)]
    user: Option<SlackUserId>,
    /// Channel the commands count as sent in.
    #[arg(long, value_parser = ChannelId::parse)]
    channel: Option<ChannelId>,
    /// Slack user-group id the user counts as a member of (repeatable).
    #[arg(long = "group")]
    groups: Vec<String>,
}

/// The console on `gateways` (changes as `identity`, when set) under `policy`,
/// recording changes in `store`, with the `on_param_change` `hooks`; telling
/// the demo's notification `story`, when given.
async fn console(
    gateways: Gateways,
    identity: Option<Arc<dyn Identity>>,
    policy: Arc<Policy>,
    store: Arc<dyn Storage>,
    who: Who,
    hooks: Vec<ParamHook>,
    story: Option<Vec<Vec<String>>>,
) -> anyhow::Result<()> {
    let mut user = ConsoleUser::local();
    user.id = who.user.unwrap_or(user.id);
    user.channel = who.channel.unwrap_or(user.channel);
    user.groups = who.groups;
    let screen = Screen::new(std::io::stdout());
    let chat = Arc::new(ConsoleChat::new(screen.clone()));
    let pipelines = gateways.pipelines.clone();
    let mut ops = Ops::new(gateways, policy.clone(), store.clone(), chat).with_param_hooks(hooks);
    if let Some(identity) = identity {
        ops = ops.with_identity(identity);
    }
    let mut notices = None;
    if let Some(story) = story {
        let (alerts, told) = console::notices::demo_notices(store.clone(), screen.clone(), policy, pipelines, story);
        ops = ops.with_alerts(alerts);
        notices = Some(told);
    }
    let ops = Arc::new(ops);
    ops.recover().await;
    Ok(console::run_stdio(&Session { ops, store, screen, notices }, user).await?)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(code) => code,
        Err(err) => {
            eprintln!("opsbot: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<std::process::ExitCode> {
    let cli = Cli::parse();
    telemetry::init(if matches!(cli.command, Command::Serve { .. }) { "info" } else { "warn" });
    let config = cli.config.as_deref();
    let settings = || Settings::load(config, |k| std::env::var(k).ok());
    match cli.command {
        // Before settings load: `policy lint` must report a broken file, not fail on it.
        Command::Policy(command) => return Ok(policy(&command, config)),
        Command::Serve { transport, listen } => {
            let mut settings = settings()?;
            settings.listen = listen.unwrap_or(settings.listen);
            app::check(&settings, transport)?;
            let wiring = app::Wiring::from_sdk(&settings, &aws::load_sdk_config().await);
            let running = app::start_with(&settings, transport, wiring).await?;
            running.run_until(telemetry::shutdown_signal()).await?;
        }
        Command::Console(who) => {
            let settings = settings()?;
            let store = app::open_store(&settings)?;
            let policy = settings.policy();
            let hooks = settings.on_param_change.clone();
            let wiring = app::Wiring::from_sdk(&settings, &aws::load_sdk_config().await);
            console(wiring.aws, wiring.identity, policy, store, who, hooks, None).await?
        }
        Command::Demo(who) => {
            if std::io::stdin().is_terminal() {
                eprintln!("Demo: a simulated AWS account ({ACCOUNT_ID}, {REGION}); nothing here reaches AWS.");
            }
            // The demo keeps nothing: its account and its audit log live in memory.
            let store = opsbot::store::open(None)?;
            let sandbox = Arc::new(Sandbox::demo(chrono::Utc::now()));
            let hooks = opsbot::sandbox::ssm::demo_hooks();
            let story = opsbot::sandbox::story::demo_story(chrono::Utc::now() - chrono::Duration::minutes(6));
            console(sandbox.gateways(), None, Arc::new(console::demo::policy()), store, who, hooks, Some(story)).await?
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// `opsbot policy ...`: prints the answer, returns its exit code.
fn policy(command: &PolicyCommand, config: Option<&std::path::Path>) -> std::process::ExitCode {
    let (out, code) = match command {
        PolicyCommand::Lint { file } => match file.as_deref().or(config) {
            Some(file) => policy_cli::lint(file),
            None => ("name the file to check: opsbot policy lint FILE (or --config FILE)".into(), 2),
        },
        PolicyCommand::Check(args) => match Settings::load(config, |k| std::env::var(k).ok()) {
            Ok(settings) => policy_cli::check(&settings.policy(), args),
            Err(err) => (err.to_string(), 2),
        },
    };
    println!("{out}");
    std::process::ExitCode::from(code)
}
