//! `opsbot`: a table of contents (CONVENTIONS #2). Everything else lives in
//! the library so the tests build the very same application.

use std::process::ExitCode;

use clap::Parser;
use opsbot::app::{self, Wiring};
use opsbot::cli::{self, Cli, Command, StoreCommand};
use opsbot::settings::Settings;
use opsbot::{aws, config_cli, console, iam, policy_cli, probe_cli, store_cli, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // The demo's stdout is the whole show: a "not found" it answers is not a
    // warning for anyone, so only errors reach stderr there.
    telemetry::init(match cli.command {
        Command::Serve { .. } => "info",
        Command::Demo(_) => "error",
        _ => "warn",
    });
    // Before settings load: `policy lint` must report a broken file, not fail on it.
    // Likewise: `config check` reports every problem, never stops at the first.
    let answered = match &cli.command {
        Command::Policy(command) => Some(policy_cli::run(command, cli.config.as_deref())),
        Command::Config(command) => Some(config_cli::run(command, cli.config.as_deref())),
        _ => None,
    };
    if let Some((answer, code)) = answered {
        cli::print_answer(&answer);
        return code;
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
            let (store, hooks) = (app::open_store(&settings, &wiring).await?, settings.on_param_change.clone());
            console::start(&wiring, store, hooks, who.user(), None).await?
        }
        Command::Demo(who) => console::demo::start(who.user()).await?,
        Command::IamPolicy { format, role, store_init, account } => {
            let options = iam::Options { principal: role, store_init, account };
            let (policy, warning) = iam::print(&settings()?, options, format)?;
            if let Some(warning) = warning {
                eprintln!("{warning}");
            }
            cli::print_answer(&policy)
        }
        Command::Store(StoreCommand::Init) => {
            cli::print_answer(&store_cli::init(&settings()?, &aws::load_sdk_config().await).await?)
        }
        Command::Probe(probe) => {
            cli::print_answer(&probe_cli::run(&probe.url(|| Ok(settings()?.listen))?, probe.timeout).await?)
        }
        Command::Policy(_) | Command::Config(_) => unreachable!("answered before settings load"),
    }
    Ok(())
}
