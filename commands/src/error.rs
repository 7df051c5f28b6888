//! The two ways a command fails, kept apart because they reach people differently:
//! [`UsageError`] is the user's to fix (shown with usage and "did you mean"),
//! [`GatewayError`] comes from AWS through a port. Both become a reply in exactly
//! one place, [`crate::error_reply`].

use std::error::Error as StdError;

/// The command text could not be understood. The message says what was wrong
/// and what to write instead; `usage` is filled from the command's spec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct UsageError {
    pub message: String,
    /// Usage line(s) of the command concerned, from its spec.
    pub usage: Option<String>,
    /// Close matches for an unknown command or word.
    pub suggestions: Vec<String>,
}

impl UsageError {
    pub fn new(message: impl Into<String>) -> Self {
        UsageError { message: message.into(), usage: None, suggestions: Vec::new() }
    }

    /// `raw` is not a valid `what`; `hint` says what a valid one looks like.
    pub fn invalid(what: &str, raw: &str, hint: &str) -> Self {
        let shown: String = raw.chars().take(60).collect();
        Self::new(format!("`{shown}` is not a valid {what}: use {hint}"))
    }

    pub fn with_usage(mut self, usage: impl Into<String>) -> Self {
        self.usage.get_or_insert_with(|| usage.into());
        self
    }
}

/// What can go wrong behind a port. Gateways map SDK errors into these; the
/// message of `NotFound` / `AccessDenied` is safe to show, `Other` keeps its
/// cause for the log only.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("{what} was not found")]
    NotFound { what: String },
    #[error("AWS denied access: {message}")]
    AccessDenied { message: String },
    #[error("AWS is throttling requests")]
    Throttled,
    #[error("AWS could not be reached: {message}")]
    Unavailable { message: String },
    /// What a change pinned when it was planned (a pipeline execution, a
    /// parameter version) is not what AWS shows now; `what` says what it
    /// found instead, safe to show. Nothing was changed.
    #[error("{what}")]
    Moved { what: String },
    /// What a port read from outside AWS (a declared-parameters file) is
    /// broken; `what` says where (file:line:column) and what, safe to show.
    #[error("{what}")]
    Invalid { what: String },
    #[error("{context}")]
    Other {
        context: String,
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
}

impl GatewayError {
    pub fn not_found(what: impl Into<String>) -> Self {
        GatewayError::NotFound { what: what.into() }
    }

    pub fn moved(what: impl Into<String>) -> Self {
        GatewayError::Moved { what: what.into() }
    }

    pub fn invalid(what: impl Into<String>) -> Self {
        GatewayError::Invalid { what: what.into() }
    }

    pub fn other(context: impl Into<String>, source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        GatewayError::Other { context: context.into(), source: source.into() }
    }
}

pub type GatewayResult<T> = Result<T, GatewayError>;
