//! `opsbot`: a table of contents (CONVENTIONS #2). Everything else lives in
//! the library so the tests build the very same application.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use opsbot::app::{self, Transport, Wiring};
use opsbot::console;
use opsbot::settings::Settings;
use opsbot::{aws, policy_cli, telemetry};

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
    Console(console::Who),
    /// The console against a simulated AWS account: no credentials, no network.
    Demo(console::Who),
    /// Ask or check the policy without Slack or AWS.
    #[command(subcommand)]
    Policy(policy_cli::PolicyCommand),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(if matches!(cli.command, Command::Serve { .. }) { "info" } else { "warn" });
    // Before settings load: `policy lint` must report a broken file, not fail on it.
    if let Command::Policy(command) = &cli.command {
        return policy_cli::run(command, cli.config.as_deref());
    }
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("opsbot: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = || Settings::load(cli.config.as_deref(), |k| std::env::var(k).ok());
    match cli.command {
        Command::Serve { transport, listen } => {
            let mut settings = settings()?;
            settings.listen = listen.unwrap_or(settings.listen);
            app::check(&settings, transport)?;
            let wiring = Wiring::from_sdk(&settings, &aws::load_sdk_config().await);
            app::start_with(&settings, transport, wiring).await?.run_until(telemetry::shutdown_signal()).await?
        }
        Command::Console(who) => {
            let settings = settings()?;
            let wiring = Wiring::from_sdk(&settings, &aws::load_sdk_config().await);
            let (store, hooks) = (app::open_store(&settings)?, settings.on_param_change.clone());
            console::start(&wiring, store, hooks, who.user(), None).await?
        }
        Command::Demo(who) => console::demo::start(who.user()).await?,
        Command::Policy(_) => unreachable!("answered before settings load"),
    }
    Ok(())
}
