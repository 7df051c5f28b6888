//! An alarm's life as one living message: what each state change does to
//! the alert opsbot keeps, and how the alert reads. Pure: the caller stores
//! the alert and sends the effects (see `alerts`).
//!
//! # Decisions
//! - One message per episode: from the alarm leaving OK until it is OK again.
//!   A week-old message edited far up the channel helps nobody; the next
//!   episode gets a new message (key `alarm:<arn>:<episode start>`).
//! - Every state change edits the message; each also gets a line in its
//!   thread — until the alarm is flapping (`transitions` changes within
//!   `within`): then one "flapping" line, and further changes only edit the
//!   message, so a flapping alarm is one message, not a stream.
//! - A flapping alarm that reports OK stays open until it has stayed OK for
//!   `within` (the sweep closes it); otherwise OK resolves it at once, with
//!   how long it lasted. An alarm firing again within `within` of resolving
//!   reopens the same message, so flapping is caught across OKs.
//! - Events can arrive out of order (EventBridge and SNS do not promise
//!   order): a state change older than the last one applied changes nothing.
//!   Changes stamped the same instant apply in arrival order (some sources
//!   stamp whole seconds).
//! - ALARM not acknowledged within `escalate_after` mentions the route's
//!   role once more, in the thread; an acknowledgement stops that.

use chrono::{DateTime, Duration, Utc};
use opsbot_commands::click::Press;
use opsbot_commands::mrkdwn;
use opsbot_commands::ports::AlarmState;
use opsbot_commands::ports::alerts::{Ack, Alert, AlertState};
use opsbot_commands::reply::{Button, ButtonStyle, Mrkdwn, Reply};
use opsbot_commands::text::{ago, duration, one_line, truncate};

use crate::notify::event::AlarmChange;
use crate::settings::AlarmSettings;

/// The alert opsbot keeps per alarm (its latest episode).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AlertRecord {
    pub arn: String,
    pub name: String,
    pub state: AlarmState,
    pub reason: String,
    pub description: Option<String>,
    /// When this episode began (the alarm left OK); names its message.
    pub episode: DateTime<Utc>,
    /// Time of the last state change applied.
    pub changed: DateTime<Utc>,
    pub acked: Option<Ack>,
    pub escalated: bool,
    pub flapping: bool,
    /// State changes of this episode within the flapping window, oldest first.
    pub recent: Vec<DateTime<Utc>>,
    /// Set when the episode ended (OK again).
    pub resolved: Option<DateTime<Utc>>,
    /// Who to mention (Slack mention syntax), from the route; empty for none.
    pub mention: Mrkdwn,
}

/// What a state change asks of the channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// A new message for a new episode.
    Post,
    /// The message shows the alert's new state.
    Update,
    /// A line in the message's thread.
    Thread(Mrkdwn),
}

impl super::Lifecycle for AlertRecord {
    fn message_key(&self) -> String {
        format!("alarm:{}:{}", self.arn, self.episode.timestamp_millis())
    }
}

impl AlertRecord {
    pub fn is_open(&self) -> bool {
        self.resolved.is_none()
    }
}

/// Applies `change` to the alert kept so far (`None`: never seen).
pub fn apply(kept: Option<AlertRecord>, change: &AlarmChange, rules: &AlarmSettings, mention: &Mrkdwn) -> Step {
    let Some(mut alert) = kept else {
        return if change.state == AlarmState::Ok { Step::unchanged(None) } else { start(change, mention) };
    };
    if change.at < alert.changed || change.state == alert.state {
        return Step::unchanged(Some(alert));
    }
    let window = Duration::from_std(rules.flapping_within).unwrap_or(Duration::MAX);
    if let Some(resolved) = alert.resolved {
        if change.at - resolved >= window {
            return start(change, mention);
        }
        // Back within the flapping window: the same episode, reopened, so
        // its changes count towards flapping instead of posting anew.
        alert.resolved = None;
    }
    alert.recent.retain(|t| change.at - *t < window);
    alert.recent.push(change.at);
    (alert.state, alert.changed, alert.reason) = (change.state, change.at, change.reason.clone());
    let mut effects = vec![Effect::Update];
    let was_flapping = alert.flapping;
    alert.flapping = was_flapping || alert.recent.len() >= rules.flapping_transitions as usize;
    if alert.flapping && !was_flapping {
        let many = alert.recent.len();
        effects.push(Effect::Thread(mrkdwn!(
            ":ocean: Flapping: {} state changes in {} — further changes only update the message.",
            many,
            opsbot_policies::show_duration(rules.flapping_within)
        )));
    } else if !alert.flapping {
        effects.push(Effect::Thread(transition_line(change)));
    }
    if change.state == AlarmState::Ok && !alert.flapping {
        alert.resolved = Some(change.at);
    }
    Step { alert: Some(alert), effects }
}

/// What [`apply`] decided: the alert to keep and what to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub alert: Option<AlertRecord>,
    pub effects: Vec<Effect>,
}

impl Step {
    fn unchanged(alert: Option<AlertRecord>) -> Self {
        Step { alert, effects: Vec::new() }
    }
}

fn start(change: &AlarmChange, mention: &Mrkdwn) -> Step {
    let alert = AlertRecord {
        arn: change.arn.clone(),
        name: change.name.clone(),
        state: change.state,
        reason: change.reason.clone(),
        description: change.description.clone(),
        episode: change.at,
        changed: change.at,
        acked: None,
        escalated: false,
        flapping: false,
        recent: vec![change.at],
        resolved: None,
        mention: mention.clone(),
    };
    Step { alert: Some(alert), effects: vec![Effect::Post, Effect::Thread(transition_line(change))] }
}

fn transition_line(change: &AlarmChange) -> Mrkdwn {
    let (icon, words) = state_words(&change.state, false);
    let reason = truncate(&one_line(&change.reason), 300);
    mrkdwn!("{} {} at {} — {}", icon, words, change.at.format("%H:%M:%S UTC"), reason)
}

/// A flapping alarm that has stayed OK for the whole window is resolved.
pub fn settle(alert: &mut AlertRecord, now: DateTime<Utc>, rules: &AlarmSettings) -> bool {
    let window = Duration::from_std(rules.flapping_within).unwrap_or(Duration::MAX);
    let calm = alert.is_open() && alert.flapping && alert.state == AlarmState::Ok && now - alert.changed >= window;
    if calm {
        alert.resolved = Some(alert.changed);
    }
    calm
}

/// An ALARM nobody acknowledged in time: escalate once. Returns the thread line.
pub fn escalate(alert: &mut AlertRecord, now: DateTime<Utc>, rules: &AlarmSettings) -> Option<Mrkdwn> {
    let after = Duration::from_std(rules.escalate_after).unwrap_or(Duration::MAX);
    let due = alert.is_open() && alert.state != AlarmState::Ok && alert.acked.is_none() && !alert.escalated;
    if !due || now - alert.episode < after {
        return None;
    }
    alert.escalated = true;
    let who = if alert.mention.is_empty() { mrkdwn!("Anyone on call") } else { alert.mention.clone() };
    Some(mrkdwn!(
        ":rotating_light: {}: *{}* has been firing for {} and nobody has acknowledged it.",
        who,
        alert.name,
        duration(alert.episode, now)
    ))
}

fn state_words(state: &AlarmState, flapping: bool) -> (&'static str, &'static str) {
    match (state, flapping) {
        (_, true) => (":ocean:", "flapping"),
        (AlarmState::Alarm, _) => (":rotating_light:", "ALARM"),
        (AlarmState::InsufficientData, _) => (":grey_question:", "INSUFFICIENT_DATA"),
        (AlarmState::Ok, _) => (":white_check_mark:", "OK"),
    }
}

/// How the alert's message reads now.
pub fn render(alert: &AlertRecord, now: DateTime<Utc>) -> Reply {
    let name = &alert.name;
    let reason = truncate(&one_line(&alert.reason), 500);
    if let Some(resolved) = alert.resolved {
        let lasted = duration(alert.episode, resolved);
        let acked = alert
            .acked
            .as_ref()
            .map(|a| mrkdwn!(" · acknowledged by {}", Mrkdwn::user(a.by.as_str())))
            .unwrap_or_default();
        return Reply::in_channel(format!("Resolved: {} (after {lasted})", alert.name))
            .section(mrkdwn!(":white_check_mark: *{}* is OK again — resolved after {}{}.", name, lasted, acked))
            .context(vec![mrkdwn!("{} · {}", resolved.format("%Y-%m-%d %H:%M UTC"), alert.arn)]);
    }
    let (icon, words) = state_words(&alert.state, alert.flapping);
    let mention = if alert.mention.is_empty() || alert.state != AlarmState::Alarm {
        Mrkdwn::new()
    } else {
        mrkdwn!("{} ", alert.mention)
    };
    let owner = match &alert.acked {
        Some(ack) => mrkdwn!(":eyes: Acknowledged by {} {}", Mrkdwn::user(ack.by.as_str()), ago(now, ack.at)),
        None => mrkdwn!(":bell: Not acknowledged yet"),
    };
    let mut reply = Reply::in_channel(format!("{}: {} is {words}", alert.name, alert.name)).section(mrkdwn!(
        "{}{} *{}* is *{}* since {}\n{}",
        mention,
        icon,
        name,
        words,
        ago(now, alert.episode),
        reason
    ));
    if let Some(description) = alert.description.as_deref().filter(|d| !d.is_empty()) {
        reply = reply.context(vec![mrkdwn!("{}", truncate(description, 300))]);
    }
    reply = reply.section(owner).context(vec![mrkdwn!("{}", alert.arn)]);
    if alert.acked.is_none() {
        let press = Press::Run(format!("alert ack {}", alert.arn));
        reply = reply.buttons(vec![Button { label: "Ack".into(), press, style: ButtonStyle::Primary }]);
    }
    reply
}

/// The alert as the `alerts` and `alert ack` commands see it.
pub fn as_alert(alert: &AlertRecord) -> Alert {
    let state = match (&alert.state, alert.flapping) {
        (_, true) => AlertState::Flapping,
        (AlarmState::InsufficientData, _) => AlertState::InsufficientData,
        _ => AlertState::Alarm,
    };
    Alert {
        arn: alert.arn.clone(),
        name: alert.name.clone(),
        state,
        since: alert.episode,
        reason: alert.reason.clone(),
        acked: alert.acked.clone(),
        escalated: alert.escalated,
    }
}

#[cfg(test)]
#[path = "alarm_tests.rs"]
mod tests;
