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
}
