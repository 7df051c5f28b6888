//! The policy `opsbot demo` runs under, written in the same YAML format as
//! `policies:` in a config file, so the demo shows the real thing:
//!
//! - everyone may run every read command;
//! - developers may scale staging services after confirming their own plan;
//! - every other change (prod included) also needs a lead — `U0LEAD1` or
//!   `U0LEAD2` — to approve within 30 minutes, and never the requester;
//! - only leads decide a pipeline's manual approvals (the notification's
//!   Approve / Reject buttons): for them that decision is the second look.
//!
//! To try it: `scale staging/api 3`, then press its Confirm number; then
//! `scale prod/web 8`, Confirm, `:as U0LEAD1`, and press Approve.
//!
//! The command lists come from the command table, so a new command is in the
//! demo the day it exists.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use opsbot_commands::cmd::ENTRIES;
use opsbot_policies::Policy;

use opsbot_commands::ports::store::StoreError;

use super::{ConsoleUser, Screen, Session};
use crate::app::Wiring;
use crate::sandbox::Sandbox;
use crate::sandbox::account::{ACCOUNT_ID, REGION};

/// `opsbot demo` on stdin and stdout: [`session`] on a fresh account.
pub async fn start(who: ConsoleUser) -> anyhow::Result<()> {
    if std::io::stdin().is_terminal() {
        eprintln!("Demo: a simulated AWS account ({ACCOUNT_ID}, {REGION}); nothing here reaches AWS.");
    }
    let session = session(Screen::new(std::io::stdout()))?;
    session.ops.recover().await;
    Ok(super::run_stdio(&session, who).await?)
}

/// The demo's session printing on `screen`: a simulated account
/// ([`Sandbox::demo`]) under [`policy`] with the demo's `on_param_change`,
/// keeping nothing (an in-memory store), telling the notification story of
/// [`crate::sandbox::story::demo_story`].
pub fn session(screen: Arc<Screen>) -> Result<Session, StoreError> {
    let now = chrono::Utc::now();
    let sandbox = Arc::new(Sandbox::demo(now));
    let wiring = Wiring::new(sandbox.clone().gateways())
        .with_declared(Arc::new(crate::sandbox::ssm::demo_declared()))
        .with_policy(Arc::new(policy()));
    // The account is named as `aws.accounts` would name it.
    let accounts = Arc::new(crate::sandbox::accounts::DemoAccounts::new(wiring.aws.clone()));
    let mut wiring = wiring.with_accounts(accounts);
    // The story's failed build shows its log, as `serve` would read it from CloudWatch Logs.
    wiring.builds = Some(sandbox.clone());
    let story = crate::sandbox::story::demo_story(now - chrono::Duration::minutes(6), sandbox.clone());
    let store = crate::store::open(None)?;
    Ok(Session::new(&wiring, store, crate::sandbox::ssm::demo_hooks(), screen, Some(story)))
}

/// The demo's leads.
pub const LEADS: [&str; 2] = ["U0LEAD1", "U0LEAD2"];

/// The demo policy as YAML text.
pub fn policy_yaml() -> String {
    const DECISIONS: [&str; 2] = ["pipeline approve", "pipeline reject"];
    let names = |changes: bool| -> String {
        let names: Vec<String> = ENTRIES
            .iter()
            .filter(|e| e.spec.changes == changes && !DECISIONS.contains(&e.spec.name))
            .map(|e| format!("{:?}", e.spec.name))
            .collect();
        names.join(", ")
    };
    format!(
        "roles:\n  devs: {{ everyone: true }}\n  leads: {{ users: [{leads}] }}\nrules:\n  \
         - allow: [{reads}]\n    to: devs\n  \
         - allow: [scale]\n    to: devs\n    where: {{ service: '^staging/' }}\n  \
         - allow: [{changes}]\n    to: devs\n    approval: {{ by: leads, ttl: 30m }}\n  \
         - allow: [\"pipeline approve\", \"pipeline reject\"]\n    to: leads\n",
        leads = LEADS.join(", "),
        reads = names(false),
        changes = names(true),
    )
}

/// The demo policy, compiled.
pub fn policy() -> Policy {
    let known: Vec<&str> = ENTRIES.iter().map(|e| e.spec.name).collect();
    Policy::from_yaml(&policy_yaml(), Path::new("demo-policy.yaml"), &known).expect("the demo policy compiles")
}

#[cfg(test)]
mod tests {
    use opsbot_policies::{Decision, Request};

    use super::*;

    fn ask(command: &str, service: &str) -> Decision {
        let args = [("service", service.to_owned())];
        let request = Request {
            command,
            user: "U0CONSOLE",
            groups: &[],
            channel: "console",
            args: &args,
            at: chrono::Utc::now(),
            force: false,
        };
        policy().evaluate(&request)
    }

    #[test]
    fn the_demo_lets_developers_scale_staging_and_needs_a_lead_for_prod() {
        assert!(ask("scale", "staging/api").is_allowed());
        assert_eq!(ask("scale", "prod/web").approvers(), Some("leads"));
        assert!(ask("services", "").is_allowed());
        assert!(policy().may_approve("leads", "U0LEAD1", &[]));
        assert!(!policy().may_approve("leads", "U0CONSOLE", &[]));
    }
}
