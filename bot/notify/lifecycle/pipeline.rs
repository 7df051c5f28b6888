//! A pipeline execution's life as one living message: posted when the first
//! event of the execution arrives, edited as stages move, with the detail in
//! its thread. Pure: the caller stores the run and sends the effects.
//!
//! # Decisions
//! - One message per execution id (key `pipeline:<execution id>`).
//! - Stages are shown in the order their first event arrived — the order
//!   they ran, since stages of one execution run one after another.
//! - Thread lines for what people follow: a stage starting, succeeding or
//!   failing, a failed action with its error, the execution's end. Action
//!   starts and successes only edit the message (they would be noise).
//! - Events can arrive out of order and twice: a stage keeps the newest
//!   status by event time, and an execution that ended never goes back.
//! - A failed CodeBuild action's log is shown in the thread once per build
//!   (`explained`; the notifier reads it, see `notify::build_log`).
//! - A failed execution offers "Retry stage", which runs `pipeline retry
//!   NAME STAGE --execution ID` as whoever presses it — the policy decides
//!   who may, and only that execution is retried.

use chrono::{DateTime, Utc};

use crate::notify::event::ExecutionState as State;
use opsbot_commands::click::Press;
use opsbot_commands::mrkdwn;
use opsbot_commands::reply::{Button, ButtonStyle, Mrkdwn, Reply};
use opsbot_commands::text::{ago, duration, one_line, truncate};

fn icon(state: &State) -> &'static str {
    match state {
        State::Started | State::Resumed => ":arrows_counterclockwise:",
        State::Succeeded => ":white_check_mark:",
        State::Failed => ":x:",
        State::Stopping | State::Stopped | State::Abandoned => ":black_square_for_stop:",
        State::Canceled | State::Superseded => ":fast_forward:",
        State::Unknown(_) => ":grey_question:",
    }
}

fn words(state: &State) -> String {
    match state {
        State::Started | State::Resumed => "in progress".into(),
        State::Succeeded => "succeeded".into(),
        State::Failed => "failed".into(),
        State::Stopping => "stopping".into(),
        State::Stopped => "stopped".into(),
        State::Canceled => "cancelled".into(),
        State::Superseded => "superseded by a newer execution".into(),
        State::Abandoned => "abandoned".into(),
        State::Unknown(text) => text.to_lowercase(),
    }
}

/// One event of an execution, as the caller read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event<'a> {
    pub pipeline: &'a str,
    pub execution: &'a str,
    pub at: DateTime<Utc>,
    pub what: What<'a>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum What<'a> {
    Execution {
        state: State,
        trigger: Option<&'a str>,
    },
    Stage {
        stage: &'a str,
        state: State,
    },
    /// `build`: the CodeBuild build a CodeBuild action ran (its external execution id).
    Action {
        stage: &'a str,
        action: &'a str,
        state: State,
        error: Option<&'a str>,
        build: Option<&'a str>,
    },
}

/// The run opsbot keeps per execution.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RunRecord {
    pub pipeline: String,
    pub execution: String,
    pub state: Option<State>,
    pub trigger: Option<String>,
    pub started: DateTime<Utc>,
    pub changed: DateTime<Utc>,
    pub stages: Vec<StageRecord>,
    /// The failed action and its error, when one failed.
    pub failure: Option<Failure>,
    /// The builds whose log the thread already shows: a repeated or late
    /// failure event must not post it again. (Absent in records kept before.)
    #[serde(default)]
    pub explained: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StageRecord {
    pub name: String,
    pub state: State,
    pub changed: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Failure {
    pub stage: String,
    pub action: String,
    pub error: Option<String>,
}

/// What an event asks of the channel (as for alarms).
pub use super::alarm::Effect;

impl super::Lifecycle for RunRecord {
    fn message_key(&self) -> String {
        format!("pipeline:{}", self.execution)
    }
}

/// Applies `event` to the run kept so far; returns the run and the effects.
pub fn apply(kept: Option<RunRecord>, event: &Event<'_>) -> (RunRecord, Vec<Effect>) {
    let mut effects = Vec::new();
    let mut run = kept.unwrap_or_else(|| {
        effects.push(Effect::Post);
        RunRecord {
            pipeline: event.pipeline.to_owned(),
            execution: event.execution.to_owned(),
            state: None,
            trigger: None,
            started: event.at,
            changed: event.at,
            stages: Vec::new(),
            failure: None,
            explained: Vec::new(),
        }
    });
    if run.state.as_ref().is_some_and(State::ended) && !matches!(event.what, What::Action { .. }) {
        return (run, effects);
    }
    run.started = run.started.min(event.at);
    run.changed = run.changed.max(event.at);
    let line = match &event.what {
        What::Execution { state, trigger } => execution(&mut run, state, *trigger),
        What::Stage { stage, state } => stage_change(&mut run, stage, state, event.at),
        What::Action { stage, action, state, error, .. } => action_change(&mut run, stage, action, state, *error),
    };
    let posted = effects.contains(&Effect::Post);
    if !posted {
        effects.push(Effect::Update);
    }
    effects.extend(line.map(Effect::Thread));
    (run, effects)
}

fn execution(run: &mut RunRecord, state: &State, trigger: Option<&str>) -> Option<Mrkdwn> {
    if let Some(trigger) = trigger {
        run.trigger = Some(trigger.to_owned());
    }
    if run.state.as_ref() == Some(state) {
        return None;
    }
    run.state = Some(state.clone());
    let took = if state.ended() { format!(" in {}", duration(run.started, run.changed)) } else { String::new() };
    Some(mrkdwn!("{} Execution {}{}", icon(state), words(state), took))
}

fn stage_change(run: &mut RunRecord, stage: &str, state: &State, at: DateTime<Utc>) -> Option<Mrkdwn> {
    if run.state.is_none() {
        run.state = Some(State::Started);
    }
    match run.stages.iter_mut().find(|s| s.name == stage) {
        Some(kept) if kept.changed > at || kept.state == *state => return None,
        Some(kept) => (kept.state, kept.changed) = (state.clone(), at),
        None => run.stages.push(StageRecord { name: stage.to_owned(), state: state.clone(), changed: at }),
    }
    Some(mrkdwn!("{} Stage *{}* {}", icon(state), stage, words(state)))
}

fn action_change(run: &mut RunRecord, stage: &str, action: &str, state: &State, error: Option<&str>) -> Option<Mrkdwn> {
    if *state != State::Failed {
        return None;
    }
    run.failure = Some(Failure { stage: stage.to_owned(), action: action.to_owned(), error: error.map(str::to_owned) });
    let error = error.map(|e| mrkdwn!(": {}", truncate(&one_line(e), 500))).unwrap_or_default();
    Some(mrkdwn!(":x: Action *{}/{}* failed{}", stage, action, error))
}

impl RunRecord {
    /// Whether build `id`'s log is still to be shown; from now on it counts as shown.
    pub fn explain_once(&mut self, id: &str) -> bool {
        if self.explained.iter().any(|e| e == id) {
            return false;
        }
        self.explained.push(id.to_owned());
        true
    }
}

/// How the execution's message reads now.
pub fn render(run: &RunRecord, now: DateTime<Utc>) -> Reply {
    let state = run.state.clone().unwrap_or(State::Started);
    let id = run.execution.get(..8).unwrap_or(&run.execution);
    let when = if state.ended() {
        format!("after {}", duration(run.started, run.changed))
    } else {
        format!("started {}", ago(now, run.started))
    };
    let trigger = run.trigger.as_deref().map(|t| mrkdwn!(", triggered by {}", t)).unwrap_or_default();
    let mut reply = Reply::in_channel(format!("{} {}: {}", run.pipeline, id, words(&state))).section(mrkdwn!(
        "{} *{}* — execution `{}` {} ({}{})",
        icon(&state),
        run.pipeline,
        id,
        words(&state),
        when,
        trigger
    ));
    if !run.stages.is_empty() {
        let stages = run.stages.iter().map(|s| mrkdwn!("{} {}", icon(&s.state), s.name));
        reply = reply.section(Mrkdwn::join(stages, "   "));
    }
    if let Some(failure) = run.failure.as_ref().filter(|_| state == State::Failed) {
        let error = failure.error.as_deref().map(|e| mrkdwn!("\n{}", truncate(&one_line(e), 500))).unwrap_or_default();
        reply = reply.section(mrkdwn!(":x: Failed at *{}/{}*{}", failure.stage, failure.action, error));
        // Pinned to this execution: a newer run failing at the same stage is
        // not what this message shows, so pressing here must not retry it.
        let retry =
            Press::Run(format!("pipeline retry {} {} --execution {}", run.pipeline, failure.stage, run.execution));
        reply = reply.buttons(vec![Button { label: "Retry stage".into(), press: retry, style: ButtonStyle::Primary }]);
    }
    reply.context(vec![mrkdwn!("execution `{}`", run.execution)])
}

#[cfg(test)]
#[path = "pipeline_tests.rs"]
mod tests;
