//! Policy reload without a restart: on SIGHUP, and when the config file (or
//! the policy file it names) changes on disk, `serve` reads the policy again
//! and puts it in force for every decision from then on.
//!
//! # Decisions
//! - Only the policy reloads. Every other setting (Slack, server, store,
//!   notifications, hooks, AWS) was built into running parts at start-up;
//!   when those changed, the reload says so in a warning and they take
//!   effect at the next restart.
//! - A policy that does not load (or drops a role a notification route
//!   mentions) is not put in force: the one running stays, and the log names
//!   every problem with `file:line:column`.
//! - A file is "changed" when its modification time or length differs from
//!   the last look; it is looked at every [`POLICY_POLL`] — a `stat` per
//!   file, no watcher crate and no thread. An editor saving twice gives one
//!   reload and one "unchanged".
//! - Changes awaiting confirmation or approval are judged again by the
//!   policy in force when they run (`Changes::no_longer_allowed`), so a
//!   reload that removes a rule also stops what was pending under it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use opsbot_commands::{LivePolicy, PolicyVersion};
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::settings::{Settings, SettingsError, load_policy, settings_besides_policy};

/// How often the policy's files are looked at for changes.
pub const POLICY_POLL: Duration = Duration::from_secs(5);

/// What a reload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reloaded {
    /// A different policy is now in force.
    Replaced { version: PolicyVersion, previous: PolicyVersion },
    /// The files say what the policy in force says.
    Unchanged(PolicyVersion),
}

/// Reads the policy of one config file into one [`LivePolicy`].
pub struct Reloader {
    config: PathBuf,
    live: LivePolicy,
    /// The settings `serve` started with: route mentions are checked against
    /// a new policy, and the rest tells whether a restart is due.
    started: Settings,
    started_rest: Option<String>,
    /// Each file the policy comes from, as last seen.
    seen: Mutex<Vec<(PathBuf, Option<Stamp>)>>,
}

impl Reloader {
    /// Reloads the policy of `settings.config_file` into `live`; `None`
    /// without a config file (the built-in policy has nothing to re-read).
    pub fn new(settings: &Settings, live: LivePolicy) -> Option<Self> {
        let config = settings.config_file.clone()?;
        let started_rest = std::fs::read_to_string(&config).ok().and_then(|t| settings_besides_policy(&t));
        let files = std::iter::once(config.clone()).chain(settings.policy_files.iter().cloned());
        let seen = Mutex::new(files.map(|f| (f.clone(), look(&f))).collect());
        Some(Reloader { config, live, started: settings.clone(), started_rest, seen })
    }

    /// Reads the policy again and, if it loads, puts it in force. On error
    /// the policy in force stays; the error names each problem's place.
    pub fn reload(&self) -> Result<Reloaded, SettingsError> {
        let read = std::fs::read_to_string(&self.config);
        let text = read.map_err(|source| SettingsError::Read { path: self.config.clone(), source })?;
        let loaded = load_policy(&self.config, &text);
        if let Ok(loaded) = &loaded {
            self.remember(&loaded.files);
        }
        let loaded = loaded.map_err(|p| SettingsError::all(p.into_iter().map(SettingsError::Policy).collect()))?;
        let policy = loaded.policy.unwrap_or_else(|| Arc::new(opsbot_commands::default_policy()));
        self.started.check_mentions(&policy)?;
        if settings_besides_policy(&text) != self.started_rest {
            warn!(
                config = %self.config.display(),
                "settings besides `policies` changed in the config file; only the policy reloads — they take \
                 effect at the next restart"
            );
        }
        let previous = self.live.version();
        if loaded.version.id == previous.id {
            return Ok(Reloaded::Unchanged(previous));
        }
        self.live.replace(policy, loaded.version.clone());
        Ok(Reloaded::Replaced { version: loaded.version, previous })
    }

    /// [`Reloader::reload`], with its outcome in the log.
    pub fn reload_and_log(&self, why: &str) {
        match self.reload() {
            Ok(Reloaded::Replaced { version, previous }) => {
                info!(%why, %previous, "policy reloaded: {version}");
            }
            Ok(Reloaded::Unchanged(version)) => info!(%why, "policy unchanged: {version}"),
            Err(err) => {
                let keeping = self.live.version();
                error!(%why, "policy reload failed, keeping {keeping}:\n{err}");
            }
        }
    }

    /// Whether a file the policy comes from changed since the last look
    /// (which this records, so one change is reported once).
    pub fn files_changed(&self) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let mut changed = false;
        for (file, last) in seen.iter_mut() {
            let now = look(file);
            if now != *last {
                (*last, changed) = (now, true);
            }
        }
        changed
    }

    /// Watches the config file and `files` (what the policy came from this time).
    fn remember(&self, files: &[PathBuf]) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let wanted: Vec<PathBuf> = std::iter::once(self.config.clone()).chain(files.iter().cloned()).collect();
        seen.retain(|(f, _)| wanted.contains(f));
        for file in wanted {
            match seen.iter_mut().find(|(f, _)| *f == file) {
                Some(entry) => entry.1 = look(&file),
                None => seen.push((file.clone(), look(&file))),
            }
        }
    }
}

/// SIGHUP, where the platform has it; elsewhere only file changes reload.
struct Hangups(#[cfg(unix)] Option<tokio::signal::unix::Signal>);

impl Hangups {
    fn new() -> Self {
        #[cfg(unix)]
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
            Ok(signal) => Hangups(Some(signal)),
            Err(err) => {
                warn!(error = %err, "cannot listen for SIGHUP; the policy still reloads when its file changes");
                Hangups(None)
            }
        }
        #[cfg(not(unix))]
        Hangups()
    }

    /// The next SIGHUP (never, without one).
    async fn next(&mut self) {
        #[cfg(unix)]
        if let Some(signal) = &mut self.0
            && signal.recv().await.is_some()
        {
            return;
        }
        std::future::pending().await
    }
}

/// A file's modification time and length: it changed when these did.
type Stamp = (SystemTime, u64);

/// `file`'s [`Stamp`] (`None`: cannot be read now).
fn look(file: &Path) -> Option<Stamp> {
    let meta = std::fs::metadata(file).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// Until `stop`: reloads on SIGHUP, and when a file changed (looked at
/// every `poll`).
pub async fn watch(reloader: Arc<Reloader>, poll: Duration, stop: CancellationToken) {
    let mut hangups = Hangups::new();
    let mut ticks = tokio::time::interval(poll);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            () = hangups.next() => {
                // The signal is the operator's word: reload even if the files look the same.
                reloader.files_changed();
                reloader.reload_and_log("SIGHUP");
            }
            _ = ticks.tick() => if reloader.files_changed() {
                reloader.reload_and_log("file changed");
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEVS_SCALE: &str =
        "policies:\n  roles: { devs: { everyone: true } }\n  rules:\n    - { allow: [scale], to: devs }\n";
    const DEVS_SCALE_AND_RESTART: &str =
        "policies:\n  roles: { devs: { everyone: true } }\n  rules:\n    - { allow: [scale, restart], to: devs }\n";

    fn allows(live: &LivePolicy, command: &str) -> bool {
        crate::settings::tests::allows(&live.current(), command)
    }

    /// A reloader over a config file holding `yaml`, and the policy it loads into.
    fn started(yaml: &str) -> (tempfile::TempDir, PathBuf, Reloader, LivePolicy) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("opsbot.yaml");
        std::fs::write(&path, yaml).unwrap();
        let settings = Settings::load(Some(&path), |_| None).unwrap();
        let live = settings.live_policy();
        let reloader = Reloader::new(&settings, live.clone()).expect("a config file");
        (dir, path, reloader, live)
    }

    #[test]
    fn a_changed_policy_is_put_in_force_with_a_new_version() {
        let (_dir, path, reloader, live) = started(DEVS_SCALE);
        let before = live.version();
        assert!(!allows(&live, "restart"));
        std::fs::write(&path, DEVS_SCALE_AND_RESTART).unwrap();
        let Reloaded::Replaced { version, previous } = reloader.reload().unwrap() else { panic!("not replaced") };
        assert_eq!(previous, before);
        assert_ne!(version.id, before.id);
        assert_eq!(live.version(), version);
        assert!(allows(&live, "restart"), "the next decision uses the new policy");
        assert_eq!(reloader.reload().unwrap(), Reloaded::Unchanged(version), "nothing new: nothing replaced");
    }

    #[test]
    fn a_broken_policy_keeps_the_running_one_and_names_every_problem_with_its_place() {
        let (_dir, path, reloader, live) = started(DEVS_SCALE);
        let before = live.version();
        let broken = "policies:\n  roles: { devs: { everyone: true } }\n  rules:\n    - { allow: [scael], to: devs }\n    - { allow: [restart], to: dvs }\n";
        std::fs::write(&path, broken).unwrap();
        let err = reloader.reload().unwrap_err().to_string();
        let shown = path.display();
        assert!(err.contains(&format!("{shown}:4:17: unknown command `scael`")), "{err}");
        assert!(
            err.contains(&format!("{shown}:5:31: unknown role `dvs`")) && err.contains("did you mean `devs`"),
            "{err}"
        );
        assert_eq!(live.version(), before);
        assert!(allows(&live, "scale") && !allows(&live, "restart"), "the old policy still judges");
    }

    #[test]
    fn a_policy_without_a_role_a_route_mentions_is_refused() {
        let routed = format!(
            "{DEVS_SCALE}notifications:\n  default_channel: C0OPS\n  routes:\n    - {{ match: {{ kind: alarm }}, channel: C0OPS, mention: devs }}\n"
        );
        let (_dir, path, reloader, live) = started(&routed);
        std::fs::write(&path, routed.replace("devs", "leads")).unwrap();
        let err = reloader.reload().unwrap_err().to_string();
        assert!(err.contains("mentions `devs`"), "{err}");
        assert!(allows(&live, "scale"));
    }

    #[test]
    fn an_edit_of_the_config_or_the_policy_file_it_names_is_seen_once() {
        let dir = tempfile::tempdir().unwrap();
        let (config, policy) = (dir.path().join("opsbot.yaml"), dir.path().join("policy.yaml"));
        std::fs::write(&config, "policies: { file: policy.yaml }\n").unwrap();
        std::fs::write(&policy, "roles: { devs: { everyone: true } }\nrules: []\n").unwrap();
        let settings = Settings::load(Some(&config), |_| None).unwrap();
        let reloader = Reloader::new(&settings, settings.live_policy()).unwrap();
        assert!(!reloader.files_changed());
        std::fs::write(&policy, "roles: { devs: { everyone: true } }\nrules: [{ allow: [scale], to: devs }]\n")
            .unwrap();
        assert!(reloader.files_changed(), "the named policy file is watched");
        assert!(!reloader.files_changed(), "one change, reported once");
        assert!(matches!(reloader.reload(), Ok(Reloaded::Replaced { .. })));
        std::fs::write(&config, "policies: { file: policy.yaml }   # reviewed\n").unwrap();
        assert!(reloader.files_changed(), "the config file is watched");
    }
}
