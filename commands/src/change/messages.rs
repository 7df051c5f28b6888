//! What the life of a change shows: the plan with Confirm / Cancel, the
//! approval request, progress and the end in the channel message, and the
//! notes a click gets back ([`ClickOutcome`]). Rendering only — no store, no
//! chat; [`super::lifecycle`] decides what to show when.
//!
//! Every piece of outside text (command lines, reasons from AWS) goes in
//! through [`Mrkdwn`], so it cannot ping or break the markup.

use opsbot_policies::Policy;

use crate::click::{Click, ClickKind, Press};
use crate::context::Context;
use crate::mrkdwn;
use crate::mrkdwn::Mrkdwn;
use crate::ports::store::{ChangeRecord, ChangeState};
use crate::reply::{Button, ButtonStyle, Reply};
use crate::text::{duration, when};

use super::Plan;

/// What a click changes for the person who clicked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClickOutcome {
    /// Replace the message the button was on (the plan shown to the requester).
    Replace(Reply),
    /// Tell the clicker something (refusals); the message stays as it was.
    Note(Reply),
}

/// How to call a role's members in a message: its Slack user groups and users.
pub fn mention(policy: &Policy, role: &str) -> Mrkdwn {
    let Some(members) = policy.role(role) else { return mrkdwn!("*{}*", role) };
    if members.everyone() {
        return Mrkdwn::here();
    }
    let groups = members.groups().iter().map(|g| Mrkdwn::subteam(g));
    let users = members.users().iter().map(|u| Mrkdwn::user(u));
    let all: Vec<Mrkdwn> = groups.chain(users).collect();
    if all.is_empty() { mrkdwn!("*{}*", role) } else { Mrkdwn::join(all, " ") }
}

/// A note to whoever clicked; the message they clicked on stays.
pub fn note(text: Mrkdwn) -> ClickOutcome {
    ClickOutcome::Note(Reply::ephemeral(text.plain()).section(text))
}

/// The plan shown to the requester, with Confirm / Cancel.
pub fn plan_reply(record: &ChangeRecord, plan: &Plan, ctx: &Context) -> Reply {
    let approval = match &record.approvers {
        Some(role) => {
            mrkdwn!("After you confirm, a member of *{}* must approve (until {}).", role, when(ctx.now, record.expires))
        }
        None => mrkdwn!("Confirm within {} to run it.", duration(ctx.now, record.expires)),
    };
    let (confirm, cancel) = (ClickKind::Confirm, ClickKind::Cancel);
    Reply::ephemeral(format!("Plan: {}", record.shown))
        .section(mrkdwn!("*Plan* — `{}`", record.shown))
        .section(Mrkdwn::from(plan.lines.join("\n")))
        .context(vec![approval, mrkdwn!("request `{}`", record.id)])
        .buttons(vec![
            button("Confirm", confirm, record, ButtonStyle::Primary),
            button("Cancel", cancel, record, ButtonStyle::Default),
        ])
}

/// A plan that was not made: nothing would change.
pub fn nothing_to_do(why: &str) -> Reply {
    Reply::ephemeral(format!("Nothing to do: {why}")).section(mrkdwn!(":zzz: Nothing to do: {}", why))
}

/// A plan that was not made: what the line pins is not what is there now.
pub fn moved(why: &str) -> Reply {
    Reply::ephemeral(format!("Not done: {why}")).section(mrkdwn!(":twisted_rightwards_arrows: Not done: {}", why))
}

/// A plan that was not made: it would be unsafe now.
pub fn unsafe_now(shown: &str, reasons: &[String]) -> Reply {
    let lines = Mrkdwn::join(reasons.iter().map(|r| mrkdwn!("• {}", r)), "\n");
    Reply::ephemeral("Not safe to do this now").section(mrkdwn!(
        ":octagonal_sign: Not now — `{}` would be unsafe:\n{}",
        shown,
        lines
    ))
}

/// A plan that was not made: the change cannot be done as asked (`--force`
/// does not change that).
pub fn cannot(shown: &str, reasons: &[String]) -> Reply {
    let lines = Mrkdwn::join(reasons.iter().map(|r| mrkdwn!("• {}", r)), "\n");
    Reply::ephemeral("This cannot be done as asked").section(mrkdwn!(
        ":no_entry_sign: `{}` cannot be done as asked:\n{}",
        shown,
        lines
    ))
}

/// A plan that was not made: the policy does not allow some of what it touches.
pub fn denied_parts(shown: &str, reasons: &[String]) -> Reply {
    let lines = Mrkdwn::join(reasons.iter().map(|r| mrkdwn!("• {}", r)), "\n");
    Reply::ephemeral(format!("You can't run `{shown}`: the policy does not allow all of it")).section(mrkdwn!(
        ":no_entry: You can't run `{}`: the policy does not allow all of it, so nothing is done:\n{}",
        shown,
        lines
    ))
}

/// The requester confirmed; the change now waits for `role`.
pub fn waiting_for_approval(record: &ChangeRecord, role: &str, ctx: &Context) -> Reply {
    Reply::ephemeral("Waiting for approval").section(mrkdwn!(
        ":hourglass_flowing_sand: `{}` waits for approval by *{}* (until {}).",
        record.shown,
        role,
        when(ctx.now, record.expires)
    ))
}

/// The requester confirmed; the change runs now.
pub fn confirmed() -> Reply {
    Reply::ephemeral("Confirmed")
        .section(mrkdwn!(":white_check_mark: Confirmed — running it now; progress follows in the channel."))
}

/// The requester cancelled.
pub fn cancelled(record: &ChangeRecord) -> Reply {
    Reply::ephemeral("Cancelled").section(mrkdwn!(":wastebasket: Cancelled `{}`.", record.shown))
}

/// The request to `role` (called as `mention`) in the channel, with Approve / Reject.
pub fn approval_request(record: &ChangeRecord, role: &str, mention: Mrkdwn) -> Reply {
    let (approve, reject) = (ClickKind::Approve, ClickKind::Reject);
    Reply::in_channel(format!("Approval needed: {}", record.shown))
        .section(mrkdwn!(
            ":raising_hand: {}: {} asks to run `{}`.",
            mention,
            Mrkdwn::user(record.requester.as_str()),
            record.shown
        ))
        .section(record.plan.join("\n"))
        .context(vec![mrkdwn!(
            "Approval by {} · expires {} · request `{}`",
            role,
            record.expires.format("%H:%M UTC"),
            record.id
        )])
        .buttons(vec![
            button("Approve", approve, record, ButtonStyle::Primary),
            button("Reject", reject, record, ButtonStyle::Danger),
        ])
}

/// The change's channel message while it runs (`done`: for the last time).
pub fn progress_reply(record: &ChangeRecord, status: &str, done: bool) -> Reply {
    let approved = match (&record.approvers, &record.decided_by) {
        (Some(_), Some(by)) => mrkdwn!(" · approved by {}", Mrkdwn::user(by.as_str())),
        _ => Mrkdwn::new(),
    };
    let title = mrkdwn!("{}: `{}`{}", Mrkdwn::user(record.requester.as_str()), record.shown, approved);
    let mut reply = Reply::in_channel(format!("{}: {}", record.shown, status)).section(mrkdwn!(
        "{}\n{}",
        title,
        Mrkdwn::from(status)
    ));
    if !done {
        reply = reply.context(vec![mrkdwn!("request `{}`", record.id)]);
    }
    reply
}

pub fn expired_reply(record: &ChangeRecord) -> Reply {
    let who = record.approvers.as_deref().map(|r| mrkdwn!(" by {}", r)).unwrap_or_default();
    Reply::in_channel(format!("Expired: {}", record.shown)).section(mrkdwn!(
        ":hourglass: `{}` expired: it was not confirmed{} in time. Nothing was done; ask again if it is still needed.",
        record.shown,
        who
    ))
}

pub fn rejected_reply(record: &ChangeRecord, ctx: &Context) -> Reply {
    Reply::in_channel(format!("Rejected: {}", record.shown)).section(mrkdwn!(
        ":no_entry_sign: {} rejected `{}` requested by {}. Nothing was done.",
        Mrkdwn::user(ctx.user.as_str()),
        record.shown,
        Mrkdwn::user(record.requester.as_str())
    ))
}

/// Where a change stands, for "This request is already …".
pub fn state_words(record: &ChangeRecord) -> Mrkdwn {
    let by = record.decided_by.as_ref().map(|u| mrkdwn!(" by {}", Mrkdwn::user(u.as_str()))).unwrap_or_default();
    match record.state {
        ChangeState::Running => mrkdwn!("running"),
        ChangeState::Succeeded => mrkdwn!("done"),
        ChangeState::Failed => mrkdwn!("finished with an error"),
        ChangeState::Cancelled => mrkdwn!("cancelled{}", by),
        ChangeState::Rejected => mrkdwn!("rejected{}", by),
        ChangeState::Expired => mrkdwn!("expired"),
        ChangeState::AwaitingConfirmation | ChangeState::AwaitingApproval => mrkdwn!("waiting"),
    }
}

fn button(label: &str, kind: ClickKind, record: &ChangeRecord, style: ButtonStyle) -> Button {
    let click = Click { kind, change: record.id.clone(), hash: record.hash.clone() };
    Button { label: label.into(), press: Press::Change(click), style }
}
