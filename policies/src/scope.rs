//! What a policy could ever allow, asked without a request: for tools that
//! size permissions to the policy (`opsbot iam-policy` grants a change
//! command's AWS actions only if some rule can allow it, and narrows them to
//! what the rules' `where` conditions let through).
//!
//! Both answers err on the side of allowing more: "could be allowed" ignores
//! roles, channels and freezes (any of them may change tomorrow without a
//! redeploy of the permissions), and only a deny for everyone, in every
//! channel, without conditions, rules a command out.

use crate::policy::{Effect, Policy};

impl Policy {
    /// Whether some request for `command` could be allowed (outright or with
    /// an approval): an allow rule names it and no unconditional deny for
    /// everyone, everywhere, does.
    pub fn may_allow(&self, command: &str) -> bool {
        let Some(index) = self.index.get(command) else { return false };
        let denied_outright = index.denies.iter().map(|&i| &self.rules[i]).any(|rule| {
            matches!(rule.effect, Effect::Deny)
                && rule.to.is_empty()
                && rule.channels.is_empty()
                && rule.conditions.is_empty()
        });
        !index.allows.is_empty() && !denied_outright
    }

    /// The regexes (as written) that every allow rule of `command` holds the
    /// argument `arg` to, or `None` when some allow rule leaves `arg` free (or
    /// none allows `command`). An allowed request's `arg` matches one of them.
    pub fn allowed_patterns(&self, command: &str, arg: &str) -> Option<Vec<&str>> {
        let index = self.index.get(command)?;
        if index.allows.is_empty() {
            return None;
        }
        let mut patterns = Vec::new();
        for rule in index.allows.iter().map(|&i| &self.rules[i]) {
            // Several conditions on one argument must all hold; any one of them bounds it.
            let pattern = rule.conditions.iter().find(|c| c.arg == arg)?;
            patterns.push(pattern.pattern.as_str());
        }
        patterns.sort_unstable();
        patterns.dedup();
        Some(patterns)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::Policy;

    const COMMANDS: &[&str] = &["scale", "deploy", "param set", "services"];

    fn policy(rules: &str) -> Policy {
        let yaml = format!("roles:\n  devs: {{ users: [U1] }}\nrules:\n{rules}");
        Policy::from_yaml(&yaml, Path::new("p.yaml"), COMMANDS).unwrap()
    }

    #[test]
    fn a_command_no_rule_allows_or_everyone_is_denied_can_never_run() {
        let p = policy("  - allow: [scale]\n    to: devs\n  - deny: [deploy]\n  - allow: [deploy]\n    to: devs\n");
        assert!(p.may_allow("scale"));
        assert!(!p.may_allow("deploy"), "denied for everyone, everywhere");
        assert!(!p.may_allow("param set"), "no rule names it");
        let p = policy("  - deny: [deploy]\n    where: { service: \"^prod/\" }\n  - allow: [deploy]\n    to: devs\n");
        assert!(p.may_allow("deploy"), "a conditional deny leaves the rest allowed");
    }

    #[test]
    fn patterns_bound_an_argument_only_if_every_allow_rule_does() {
        let p = policy(
            "  - allow: [param set]\n    to: devs\n    where: { name: \"^/shop/staging/\" }\n  - allow: [param set]\n    to: devs\n    where: { name: \"^/shop/dev/\" }\n  - allow: [scale]\n    to: devs\n    where: { service: \"^staging/\" }\n  - allow: [scale]\n    to: devs\n",
        );
        assert_eq!(p.allowed_patterns("param set", "name"), Some(vec!["^/shop/dev/", "^/shop/staging/"]));
        assert_eq!(p.allowed_patterns("scale", "service"), None, "the second rule allows any service");
        assert_eq!(p.allowed_patterns("param set", "value"), None, "no rule bounds the value");
        assert_eq!(p.allowed_patterns("deploy", "service"), None, "nothing allows deploy");
    }
}
