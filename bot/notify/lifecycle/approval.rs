//! A manual approval as one living message: what waits, until when, what
//! to review, Approve / Reject buttons — and, once decided, the decision with
//! who made it and when, and no buttons. Pure: the caller stores the record
//! and sends the effects.
//!
//! # Decisions
//! - The buttons (Approve; Approve with comment…; Reject…, which ask for the
//!   comment in a Slack modal) run `pipeline approve|reject NAME STAGE/ACTION
//!   [comment]` as whoever presses them: the policy decides who may (e.g. leads only), the command
//!   reads the token fresh from GetPipelineState and puts the presser's name
//!   into PutApprovalResult's summary — one path for typed and pressed
//!   decisions.
//! - One message per approval however it is announced: CodePipeline's SNS
//!   approval notification (token, expiry, review links, custom data) and the
//!   EventBridge action event (an Approval action STARTED) for the same
//!   pipeline, stage and action fill the same undecided record.
//! - The decision comes from the action's next event (SUCCEEDED: approved;
//!   FAILED: rejected or expired, told apart by the expiry time) with the
//!   summary CodePipeline kept, which names the Slack user for decisions made
//!   through opsbot; decisions made elsewhere show as such.

use chrono::{DateTime, Utc};
use opsbot_commands::click::Press;
use opsbot_commands::mrkdwn;
use opsbot_commands::reply::{Button, ButtonStyle, Mrkdwn, Reply};
use opsbot_commands::text::{ago, one_line, truncate, when};

use super::alarm::Effect;

/// An approval opsbot shows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ApprovalRecord {
    pub pipeline: String,
    pub stage: String,
    pub action: String,
    /// When opsbot first heard of it; names its message.
    pub seen: DateTime<Utc>,
    pub expires: Option<DateTime<Utc>>,
    pub review: Option<String>,
    pub console: Option<String>,
    pub custom: Option<String>,
    pub decided: Option<Decided>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Decided {
    pub outcome: Outcome,
    pub at: DateTime<Utc>,
    /// The summary CodePipeline kept with the decision.
    pub summary: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Outcome {
    Approved,
    Rejected,
    Expired,
}

/// An approval as announced (either source; what it did not say is `None`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Waiting<'a> {
    pub pipeline: &'a str,
    pub stage: &'a str,
    pub action: &'a str,
    pub expires: Option<DateTime<Utc>>,
    pub review: Option<&'a str>,
    pub console: Option<&'a str>,
    pub custom: Option<&'a str>,
}

impl super::Lifecycle for ApprovalRecord {
    fn message_key(&self) -> String {
        format!("approval:{}:{}:{}:{}", self.pipeline, self.stage, self.action, self.seen.timestamp_millis())
    }
}

impl ApprovalRecord {
    /// Whether this undecided record is the approval `pipeline`/`stage`/`action`.
    pub fn is_waiting_at(&self, pipeline: &str, stage: &str, action: &str) -> bool {
        self.decided.is_none() && self.pipeline == pipeline && self.stage == stage && self.action == action
    }
}

/// An announcement of a waiting approval, merged into the undecided record
/// for the same place if there is one.
pub fn announce(
    kept: Option<ApprovalRecord>,
    waiting: &Waiting<'_>,
    now: DateTime<Utc>,
) -> (ApprovalRecord, Vec<Effect>) {
    let fill = |old: &mut Option<String>, new: Option<&str>| {
        if old.is_none() {
            *old = new.map(str::to_owned);
        }
    };
    match kept.filter(|k| k.is_waiting_at(waiting.pipeline, waiting.stage, waiting.action)) {
        Some(mut record) => {
            let before = record.clone();
            record.expires = record.expires.or(waiting.expires);
            fill(&mut record.review, waiting.review);
            fill(&mut record.console, waiting.console);
            fill(&mut record.custom, waiting.custom);
            let effects = if record == before { vec![] } else { vec![Effect::Update] };
            (record, effects)
        }
        None => {
            let record = ApprovalRecord {
                pipeline: waiting.pipeline.to_owned(),
                stage: waiting.stage.to_owned(),
                action: waiting.action.to_owned(),
                seen: now,
                expires: waiting.expires,
                review: waiting.review.map(str::to_owned),
                console: waiting.console.map(str::to_owned),
                custom: waiting.custom.map(str::to_owned),
                decided: None,
            };
            (record, vec![Effect::Post])
        }
    }
}

/// The approval action ended: `approved` (SUCCEEDED) or not (FAILED).
pub fn decide(record: &mut ApprovalRecord, approved: bool, at: DateTime<Utc>, summary: Option<&str>) -> Vec<Effect> {
    if record.decided.is_some() {
        return vec![];
    }
    let outcome = match (approved, record.expires) {
        (true, _) => Outcome::Approved,
        (false, Some(expires)) if at >= expires => Outcome::Expired,
        (false, _) => Outcome::Rejected,
    };
    let summary = summary.map(|s| truncate(&one_line(s), 512)).filter(|s| !s.is_empty());
    record.decided = Some(Decided { outcome, at, summary });
    let line = decision_line(record.decided.as_ref().expect("just decided"));
    vec![Effect::Update, Effect::Thread(line)]
}

fn decision_line(decided: &Decided) -> Mrkdwn {
    let (icon, words) = outcome_words(decided.outcome);
    let summary = match &decided.summary {
        Some(summary) => mrkdwn!(" — “{}”", summary),
        None if decided.outcome == Outcome::Expired => Mrkdwn::new(),
        None => mrkdwn!(" (decided outside opsbot: the AWS console or CLI)"),
    };
    mrkdwn!("{} {} at {}{}", icon, words, decided.at.format("%H:%M UTC"), summary)
}

fn outcome_words(outcome: Outcome) -> (&'static str, &'static str) {
    match outcome {
        Outcome::Approved => (":white_check_mark:", "Approved"),
        Outcome::Rejected => (":no_entry:", "Rejected"),
        Outcome::Expired => (":hourglass:", "Expired without a decision"),
    }
}

/// How the approval's message reads now.
pub fn render(record: &ApprovalRecord, now: DateTime<Utc>) -> Reply {
    let place = mrkdwn!("*{}/{}*", record.stage, record.action);
    let pipeline = &record.pipeline;
    let mut reply = Reply::in_channel(format!("Approval: {} {}/{}", record.pipeline, record.stage, record.action));
    let heading = match &record.decided {
        Some(decided) => mrkdwn!("*{}*: manual approval at {}\n{}", pipeline, place, decision_line(decided)),
        None => {
            let expiry = record.expires.map(|e| mrkdwn!(" — expires {}", when(now, e))).unwrap_or_default();
            mrkdwn!(":raising_hand: *{}* waits for approval at {}{}", pipeline, place, expiry)
        }
    };
    reply = reply.section(heading);
    let mut details = Vec::new();
    if let Some(review) = Mrkdwn::link(record.review.as_deref(), "what to review") {
        details.push(mrkdwn!("Review: {}", review));
    }
    if let Some(custom) = record.custom.as_deref().filter(|c| !c.is_empty()) {
        details.push(mrkdwn!("> {}", truncate(&one_line(custom), 500)));
    }
    if let Some(console) = Mrkdwn::link(record.console.as_deref(), "open in the console") {
        details.push(console);
    }
    if !details.is_empty() {
        reply = reply.section(Mrkdwn::join(details, "\n"));
    }
    if record.decided.is_none() {
        let at = format!("{} {}/{}", record.pipeline, record.stage, record.action);
        let (approve, reject) = (format!("pipeline approve {at}"), format!("pipeline reject {at}"));
        reply = reply.buttons(vec![
            Button { label: "Approve".into(), press: Press::Run(approve.clone()), style: ButtonStyle::Primary },
            Button { label: "Approve with comment…".into(), press: Press::Ask(approve), style: ButtonStyle::Default },
            Button { label: "Reject…".into(), press: Press::Ask(reject), style: ButtonStyle::Danger },
        ]);
    }
    let mut small = vec![mrkdwn!("announced {}", ago(now, record.seen))];
    if record.decided.is_none() {
        small.push(mrkdwn!(
            "to add a comment: `/ops pipeline approve {} {}/{} your comment`",
            record.pipeline,
            record.stage,
            record.action
        ));
    }
    reply.context(small)
}

#[cfg(test)]
#[path = "approval_tests.rs"]
mod tests;
