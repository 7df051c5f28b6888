//! The compiled policy: roles, rules in file order, freeze windows, and an
//! index from command name to the rules and freezes that name it.
//!
//! Invariants, established once at load (`compile`) so evaluation is cheap
//! and cannot fail: every role index points into `roles`, every regex is
//! compiled, every command name is one the caller said exists, and each
//! index list keeps file order (the first matching allow decides).

use std::collections::HashMap;
use std::time::Duration;

use crate::condition::Condition;
use crate::decision::RuleRef;
use crate::freeze::Freeze;

/// Who may run what, where, and with whose approval. Build it with
/// [`Policy::from_config_yaml`], [`Policy::from_yaml`] or [`Policy::builtin`];
/// judge requests with [`Policy::evaluate`].
#[derive(Debug, Clone)]
pub struct Policy {
    pub(crate) roles: Vec<Role>,
    pub(crate) rules: Vec<Rule>,
    pub(crate) freezes: Vec<Freeze>,
    pub(crate) index: HashMap<Box<str>, CommandIndex>,
    /// True for [`Policy::builtin`]: the default-deny sentence then says how
    /// to allow changes.
    pub(crate) builtin: bool,
}

/// Rules and freezes naming one command, as indexes in file order.
#[derive(Debug, Clone, Default)]
pub(crate) struct CommandIndex {
    pub denies: Vec<usize>,
    pub allows: Vec<usize>,
    pub freezes: Vec<usize>,
}

/// A named set of people: Slack user ids, user-group ids, or everyone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub(crate) name: String,
    pub(crate) users: Vec<String>,
    pub(crate) groups: Vec<String>,
    pub(crate) everyone: bool,
}

impl Role {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Slack user ids listed in the role (for mentions).
    pub fn users(&self) -> &[String] {
        &self.users
    }

    /// Slack user-group ids listed in the role (for mentions).
    pub fn groups(&self) -> &[String] {
        &self.groups
    }

    /// Whether the role is `everyone: true`.
    pub fn everyone(&self) -> bool {
        self.everyone
    }

    /// Whether `user`, a member of the user groups `groups`, holds this role.
    pub fn includes(&self, user: &str, groups: &[String]) -> bool {
        self.everyone || self.users.iter().any(|u| u == user) || groups.iter().any(|g| self.groups.contains(g))
    }
}

/// One compiled rule.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub effect: Effect,
    /// Role indexes; empty means everyone (a `deny` without `to`).
    pub to: Vec<usize>,
    /// Channel ids; empty means any channel.
    pub channels: Vec<String>,
    pub conditions: Vec<Condition>,
    /// Allows `--force` requests (past freezes and safety checks).
    pub force: bool,
    pub reason: Option<String>,
    /// `None` only for the built-in policy.
    pub at: Option<RuleRef>,
    /// What the rule says after the command name, for reasons:
    /// `" by devs where service matches ^staging/ in channel C0DEPLOYS"`.
    pub summary: String,
}

#[derive(Debug, Clone)]
pub(crate) enum Effect {
    Allow(Option<Approval>),
    Deny,
}

#[derive(Debug, Clone)]
pub(crate) struct Approval {
    pub role: usize,
    pub ttl: Duration,
}

impl Policy {
    /// The safe built-in policy used when the config has no `policies:`: the
    /// given (read-only) commands for everyone, nothing else for anyone.
    pub fn builtin<'a>(read_commands: impl IntoIterator<Item = &'a str>) -> Self {
        let everyone = Role { name: "everyone".into(), users: vec![], groups: vec![], everyone: true };
        let rule = Rule {
            effect: Effect::Allow(None),
            to: vec![0],
            channels: vec![],
            conditions: vec![],
            force: false,
            reason: None,
            at: None,
            summary: String::new(),
        };
        let index = read_commands
            .into_iter()
            .map(|c| (Box::from(c), CommandIndex { allows: vec![0], ..CommandIndex::default() }))
            .collect();
        Policy { roles: vec![everyone], rules: vec![rule], freezes: vec![], index, builtin: true }
    }

    /// The same as [`Policy::builtin`] (its earlier name).
    pub fn reads_for_everyone<'a>(read_commands: impl IntoIterator<Item = &'a str>) -> Self {
        Self::builtin(read_commands)
    }

    /// Whether `user` (member of `groups`) holds `role` and so may approve a
    /// request that needs it. Unknown roles hold no one.
    ///
    /// This does not know who asked: the caller must also refuse an approval
    /// by the requester themself — a second person is the point.
    pub fn may_approve(&self, role: &str, user: &str, groups: &[String]) -> bool {
        self.role(role).is_some_and(|r| r.includes(user, groups))
    }

    /// The role named `name`, e.g. to mention its users and groups.
    pub fn role(&self, name: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.name == name)
    }

    /// Every role, in file order.
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    /// How many rules the policy has (the built-in policy has one).
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }
}
