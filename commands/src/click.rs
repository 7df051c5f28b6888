//! Buttons and what pressing one does, in the form they travel through
//! Slack and back: a [`Click`] moves a change along (bound to the hash of its
//! exact parameters), a [`Press::Run`] runs a command line as whoever pressed
//! it, a [`Press::Ask`] asks them for a comment first.
//!
//! Only values live here, so replies (which carry buttons) and the change
//! lifecycle (which reads clicks) both build on it.

use crate::values::ChangeId;

/// What a button does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClickKind {
    Confirm,
    Cancel,
    Approve,
    Reject,
}

impl ClickKind {
    const ALL: [ClickKind; 4] = [Self::Confirm, Self::Cancel, Self::Approve, Self::Reject];

    fn action_id(self) -> &'static str {
        match self {
            Self::Confirm => "opsbot.confirm",
            Self::Cancel => "opsbot.cancel",
            Self::Approve => "opsbot.approve",
            Self::Reject => "opsbot.reject",
        }
    }
}

/// A button press on a change, bound to the hash of its exact parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Click {
    pub kind: ClickKind,
    pub change: ChangeId,
    pub hash: String,
}

impl Click {
    /// The Slack `action_id` and `value` of this button.
    pub fn to_wire(&self) -> (&'static str, String) {
        (self.kind.action_id(), format!("{}:{}", self.change, self.hash))
    }

    /// Back from Slack's `action_id` and `value`; `None` for anything else.
    pub fn from_wire(action_id: &str, value: &str) -> Option<Click> {
        let kind = ClickKind::ALL.into_iter().find(|k| k.action_id() == action_id)?;
        let (change, hash) = value.rsplit_once(':')?;
        (!change.is_empty() && !hash.is_empty()).then(|| Click {
            kind,
            change: ChangeId(change.to_owned()),
            hash: hash.to_owned(),
        })
    }
}

/// What pressing a button does: move a change along, or run a command line
/// as whoever pressed it (a notification's Ack or Retry stage), judged by the
/// policy like the same line typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Press {
    Change(Click),
    Run(String),
    /// Asks the presser for a comment (a Slack modal), then runs the command
    /// line with the comment appended — e.g. an approval with a reason.
    Ask(String),
}

/// The `action_id` of a button that runs its `value` as a command line.
const RUN_ACTION_ID: &str = "opsbot.run";
/// The `action_id` of a button that asks for a comment first.
const ASK_ACTION_ID: &str = "opsbot.ask";

impl Press {
    /// The Slack `action_id` and `value` of this button.
    pub fn to_wire(&self) -> (&'static str, String) {
        match self {
            Press::Change(click) => click.to_wire(),
            Press::Run(line) => (RUN_ACTION_ID, line.clone()),
            Press::Ask(line) => (ASK_ACTION_ID, line.clone()),
        }
    }

    /// Back from Slack's `action_id` and `value`; `None` for anything else.
    pub fn from_wire(action_id: &str, value: &str) -> Option<Press> {
        let line = || (!value.trim().is_empty()).then(|| value.to_owned());
        match action_id {
            RUN_ACTION_ID => return line().map(Press::Run),
            ASK_ACTION_ID => return line().map(Press::Ask),
            _ => {}
        }
        Click::from_wire(action_id, value).map(Press::Change)
    }

    /// The change click, for buttons that are one.
    pub fn change(&self) -> Option<&Click> {
        match self {
            Press::Change(click) => Some(click),
            Press::Run(_) | Press::Ask(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_click_survives_the_round_trip_through_slack() {
        let click = Click { kind: ClickKind::Approve, change: ChangeId("r-1:x".into()), hash: "ab12".into() };
        let (id, value) = click.to_wire();
        assert_eq!(Click::from_wire(id, &value), Some(click));
    }

    #[test]
    fn a_command_button_survives_the_round_trip_and_needs_a_command() {
        for press in [
            Press::Run("alert ack arn:aws:cloudwatch:eu-west-1:1:alarm:x".into()),
            Press::Ask("pipeline approve web".into()),
        ] {
            let (id, value) = press.to_wire();
            assert_eq!(Press::from_wire(id, &value), Some(press));
        }
        assert_eq!(Press::from_wire("opsbot.run", " "), None);
    }

    #[test]
    fn foreign_or_malformed_buttons_are_not_clicks() {
        assert_eq!(Click::from_wire("someone.else", "r:h"), None);
        assert_eq!(Click::from_wire("opsbot.approve", "no-hash"), None);
        assert_eq!(Click::from_wire("opsbot.approve", ":h"), None);
    }
}
