//! Rules that need a second person: who approves, for how long, and who may.

use std::time::Duration;

use crate::support::{ask, policy};
use opsbot_policies::{Decision, Policy};

const GATED: &str = "
roles:
  devs: { everyone: true }
  leads: { users: [U0LEAD], groups: [S0RELEASE] }
rules:
  - allow: [deploy]
    to: devs
    approval: { by: leads, ttl: 2h }
  - allow: [restart]
    to: devs
    approval: { by: leads }
";

#[test]
fn an_approval_rule_names_the_approvers_and_their_time_limit() {
    let decision = ask("deploy").of(&policy(GATED));
    let Decision::NeedsApproval { approvers, ttl, rule, reason } = decision else { panic!("{decision:?}") };
    assert_eq!(approvers, "leads");
    assert_eq!(ttl, Duration::from_secs(2 * 3600));
    assert_eq!(rule.map(|r| r.to_string()).as_deref(), Some("policies.yaml:6"));
    assert_eq!(
        reason,
        "needs a second person: a member of leads other than you must approve within 2h \
         (rule policies.yaml:6: deploy by devs)"
    );
}

#[test]
fn an_approval_without_ttl_waits_thirty_minutes() {
    let decision = ask("restart").of(&policy(GATED));
    assert_eq!(decision.approvers(), Some("leads"));
    assert!(matches!(decision, Decision::NeedsApproval { ttl, .. } if ttl == opsbot_policies::DEFAULT_TTL));
    assert_eq!(opsbot_policies::DEFAULT_TTL, Duration::from_secs(30 * 60));
}

#[test]
fn a_request_needing_approval_is_not_allowed_yet() {
    let decision = ask("deploy").of(&policy(GATED));
    assert!(!decision.is_allowed());
    assert_eq!(decision.kind(), "approval");
}

#[test]
fn role_members_by_user_or_group_may_approve_and_others_may_not() {
    let gated = policy(GATED);
    assert!(gated.may_approve("leads", "U0LEAD", &[]));
    assert!(gated.may_approve("leads", "U0SOMEONE", &["S0RELEASE".to_string()]));
    assert!(!gated.may_approve("leads", "U0SOMEONE", &["S0OTHER".to_string()]));
    assert!(!gated.may_approve("nobody", "U0LEAD", &[]), "unknown roles hold no one");
}

#[test]
fn a_role_lists_its_users_and_groups_for_mentions() {
    let gated = policy(GATED);
    let leads = gated.role("leads").expect("leads");
    assert_eq!(
        (leads.users(), leads.groups(), leads.everyone()),
        (&["U0LEAD".to_string()][..], &["S0RELEASE".to_string()][..], false)
    );
    let names: Vec<&str> = gated.roles().iter().map(|r| r.name()).collect();
    assert_eq!(names, ["devs", "leads"]);
}

#[test]
fn the_builtin_policy_has_an_everyone_role_and_no_approvers() {
    let builtin = Policy::builtin(["help"]);
    assert!(builtin.role("leads").is_none());
    assert!(!builtin.may_approve("leads", "U0LEAD", &[]));
}
