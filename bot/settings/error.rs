//! [`SettingsError`]: why the settings could not be loaded. Its own module so
//! that every section (`aws`, `hooks`, `notifications`, `store`) can return it
//! without importing the module that reads them all.

use std::path::PathBuf;

use opsbot_policies::PolicyError;

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}:{line}:{column}: {message}")]
    Invalid { path: PathBuf, line: u64, column: u64, message: String },
    #[error("{0}")]
    Missing(String),
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// More than one of the above, in the order found (one per line).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Several(Vec<SettingsError>),
}

impl SettingsError {
    /// `problems` as one error: itself when there is one (never called empty).
    pub fn all(mut problems: Vec<SettingsError>) -> SettingsError {
        match problems.len() {
            1 => problems.remove(0),
            _ => SettingsError::Several(problems),
        }
    }

    /// Where the problem is (`file`, line, column), for ordering reports.
    fn place(&self) -> Option<(String, u64, u64)> {
        match self {
            SettingsError::Invalid { path, line, column, .. } => Some((path.display().to_string(), *line, *column)),
            SettingsError::Policy(e) => Some((e.file.clone(), e.line, e.column)),
            _ => None,
        }
    }

    /// `problems` in file order (those without a place last), as one error:
    /// itself when there is one (never called empty).
    pub fn all_in_order(mut problems: Vec<SettingsError>) -> SettingsError {
        problems.sort_by_cached_key(|p| {
            let place = p.place();
            (place.is_none(), place)
        });
        Self::all(problems)
    }

    /// Each problem on its own.
    pub fn into_problems(self) -> Vec<SettingsError> {
        match self {
            SettingsError::Several(problems) => problems,
            one => vec![one],
        }
    }
}
