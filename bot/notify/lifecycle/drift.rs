//! An environment's parameter drift as one living message (`params.drift_check`):
//! posted when Parameter Store first differs from the declared parameters,
//! edited as the differences change, marked resolved when they are gone.
//! Pure: the caller ([`crate::notify::drift_check`]) stores the record and
//! sends the effects.
//!
//! # Decisions
//! - One message per episode (drift appears → drift gone); the next episode
//!   gets a new message (key `drift:<env>:<episode start>`), like alarms.
//! - The drift is known by what the message shows (the diff's lines): a
//!   check that would show the same writes nothing, so a parameter written
//!   again with the same value (a new version, the same drift) is not news.
//! - Each change of the drift also gets a line in the thread, so the history
//!   of an episode stays readable after the message moved on.

use chrono::{DateTime, Utc};
use opsbot_commands::cmd::drift::Drift;
use opsbot_commands::mrkdwn;
use opsbot_commands::reply::{Mrkdwn, Reply};
use opsbot_commands::text::duration;

use super::alarm::Effect;

/// What opsbot keeps per environment (its latest episode).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DriftRecord {
    pub env: String,
    /// `prod (/shop/prod/, from params/prod.yaml)`.
    pub title: String,
    /// `1 missing, 2 changed`.
    pub summary: String,
    /// The diff's lines, as `params diff` shows them.
    pub lines: Vec<Mrkdwn>,
    /// When this episode began; names its message.
    pub episode: DateTime<Utc>,
    /// When the drift was last seen to change.
    pub changed: DateTime<Utc>,
    pub resolved: Option<DateTime<Utc>>,
}

impl super::Lifecycle for DriftRecord {
    fn message_key(&self) -> String {
        format!("drift:{}:{}", self.env, self.episode.timestamp_millis())
    }
}

impl DriftRecord {
    pub fn is_open(&self) -> bool {
        self.resolved.is_none()
    }
}

/// What one check decided: the record to keep (`None`: nothing to keep or
/// change) and what to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub record: Option<DriftRecord>,
    pub effects: Vec<Effect>,
}

/// Applies what a check found (`drift` of `env`) to the record kept so far.
pub fn apply(kept: Option<DriftRecord>, env: &str, drift: &Drift, now: DateTime<Utc>) -> Step {
    let open = kept.filter(DriftRecord::is_open);
    match (open, drift.is_empty()) {
        (None, true) => Step { record: None, effects: vec![] },
        (None, false) => Step { record: Some(seen(env, drift, now, now)), effects: vec![Effect::Post] },
        (Some(record), false) if record.lines == drift.lines() => Step { record: None, effects: vec![] },
        (Some(record), false) => {
            let line = mrkdwn!(":arrows_counterclockwise: The drift changed: {}.", drift.summary());
            let record = seen(env, drift, record.episode, now);
            Step { record: Some(record), effects: vec![Effect::Update, Effect::Thread(line)] }
        }
        (Some(mut record), true) => {
            record.resolved = Some(now);
            let line = mrkdwn!(":white_check_mark: No drift any more, after {}.", duration(record.episode, now));
            Step { record: Some(record), effects: vec![Effect::Update, Effect::Thread(line)] }
        }
    }
}

fn seen(env: &str, drift: &Drift, episode: DateTime<Utc>, now: DateTime<Utc>) -> DriftRecord {
    DriftRecord {
        env: env.to_owned(),
        title: drift.title(),
        summary: drift.summary(),
        lines: drift.lines(),
        episode,
        changed: now,
        resolved: None,
    }
}

/// The message showing `record`.
pub fn render(record: &DriftRecord) -> Reply {
    if let Some(resolved) = record.resolved {
        let lasted = duration(record.episode, resolved);
        return Reply::in_channel(format!("Resolved: the parameters of {} match again", record.env))
            .section(mrkdwn!(
                ":white_check_mark: The parameters of *{}* match what is declared again — resolved after {}.",
                record.title,
                lasted
            ))
            .context(vec![mrkdwn!("{}", resolved.format("%Y-%m-%d %H:%M UTC"))]);
    }
    Reply::in_channel(format!("Parameter drift in {}: {}", record.env, record.summary))
        .section(mrkdwn!(":warning: Parameter Store has drifted from the declared parameters of *{}*", record.title))
        .lines(record.lines.clone())
        .context(vec![mrkdwn!(
            "{} · since {} · `params apply {}` writes the missing and changed ones",
            record.summary,
            record.episode.format("%Y-%m-%d %H:%M UTC"),
            record.env
        )])
}

#[cfg(test)]
mod tests {
    use opsbot_commands::ports::{Declared, DeclaredParam, DeclaredValue, Fingerprint, LiveParam, ParamKind};
    use opsbot_commands::values::{ParamName, ParamPath};

    use super::super::Lifecycle;
    use super::*;

    fn drift(live_value: &str) -> Drift {
        let name = ParamName::parse("/shop/prod/db-host").unwrap();
        let declared = Declared {
            env: "prod".into(),
            prefix: ParamPath::parse("/shop/prod/").unwrap(),
            source: "params/prod.yaml".into(),
            params: vec![DeclaredParam {
                name,
                kind: ParamKind::String,
                value: DeclaredValue::Plain("db.internal".into()),
                description: None,
                tags: None,
            }],
        };
        let live = LiveParam {
            name: "/shop/prod/db-host".into(),
            kind: ParamKind::String,
            value: Fingerprint::Plain(live_value.into()),
            description: None,
            version: 3,
        };
        Drift::between(declared, vec![live], &Default::default())
    }

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + minutes * 60, 0).unwrap()
    }

    #[test]
    fn drift_posts_once_updates_when_it_changes_and_resolves_when_gone() {
        let first = apply(None, "prod", &drift("db-old"), at(0));
        assert_eq!(first.effects, [Effect::Post]);
        let record = first.record.unwrap();
        assert!(render(&record).text().contains("value `db-old` → `db.internal`"), "{}", render(&record).text());

        let same = apply(Some(record.clone()), "prod", &drift("db-old"), at(60));
        assert_eq!(same, Step { record: None, effects: vec![] }, "the same drift writes nothing");

        let changed = apply(Some(record), "prod", &drift("db-older"), at(61));
        assert_eq!(changed.effects[0], Effect::Update);
        let record = changed.record.unwrap();
        assert_eq!((record.episode, record.changed), (at(0), at(61)));

        let gone = apply(Some(record), "prod", &drift("db.internal"), at(120));
        let record = gone.record.unwrap();
        assert_eq!(record.resolved, Some(at(120)));
        assert!(
            matches!(&gone.effects[1], Effect::Thread(line) if line.as_str().contains("No drift any more, after 2h")),
            "{:?}",
            gone.effects
        );
        assert!(
            render(&record).text().contains("match what is declared again — resolved after 2h"),
            "{}",
            render(&record).text()
        );
    }

    #[test]
    fn drift_after_a_resolved_episode_is_a_new_message() {
        let mut old = apply(None, "prod", &drift("db-old"), at(0)).record.unwrap();
        old.resolved = Some(at(10));
        let again = apply(Some(old.clone()), "prod", &drift("db-old"), at(30));
        assert_eq!(again.effects, [Effect::Post]);
        assert_ne!(again.record.unwrap().message_key(), old.message_key());
        assert_eq!(apply(Some(old), "prod", &drift("db.internal"), at(40)).effects, []);
    }
}
