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

use std::path::Path;

use opsbot_commands::cmd::ENTRIES;
use opsbot_policies::Policy;

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
