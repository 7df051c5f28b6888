//! The command line: `opsbot serve | console | demo | config check | policy … | iam-policy | store init | probe`,
//! parsed by
//! clap. `main` dispatches on it.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::app::Transport;
use crate::{config_cli, console, policy_cli, probe_cli};

#[derive(Parser)]
#[command(version, about = "ChatOps for teams that ship on AWS")]
pub struct Cli {
    /// Config file (YAML). Without one, safe built-in defaults apply.
    #[arg(long, global = true, env = "OPSBOT_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
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
    /// Check the configuration as `serve` would load it, without connecting.
    #[command(subcommand)]
    Config(config_cli::ConfigCommand),
    /// Ask or check the policy without Slack or AWS.
    #[command(subcommand)]
    Policy(policy_cli::PolicyCommand),
    /// Print the least-privilege IAM policy for what the config enables.
    IamPolicy {
        /// `json`: an IAM policy document; `cloudformation`: a role's `Policies` entry.
        #[arg(long, value_enum, default_value = "json")]
        format: crate::iam::Format,
        /// Whose policy: the bot's own role, or the role of `aws.assume_role` changes run as.
        #[arg(long, value_enum, default_value = "task")]
        role: crate::iam::Principal,
        /// The role of this account of `aws.accounts` (what it must allow the bot to read and change there).
        #[arg(long, value_name = "NAME", conflicts_with = "role")]
        account: Option<String>,
        /// Also what `opsbot store init` needs (create the table, turn TTL on).
        #[arg(long)]
        store_init: bool,
    },
    /// Set up the configured store.
    #[command(subcommand)]
    Store(StoreCommand),
    /// GET the running bot's /healthz (or /readyz): exit 0 when it answers
    /// 2xx, 1 otherwise (the container's HEALTHCHECK).
    Probe(probe_cli::Probe),
}

/// `opsbot store …`.
#[derive(Subcommand)]
pub enum StoreCommand {
    /// Create the DynamoDB table of `store.dynamodb` (idempotent: on-demand
    /// billing, TTL on) and say what was done.
    Init,
}

/// Prints a command's answer on stdout. A reader that went away
/// (`opsbot iam-policy | head`) is not an error: it has what it wanted, and
/// `println!` would panic with a backtrace instead.
pub fn print_answer(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(err) = writeln!(out, "{text}").and_then(|()| out.flush())
        && err.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("opsbot: cannot write the answer: {err}");
    }
}
