//! Typed values parsed at the edge (CONVENTIONS #6): after parsing, no raw
//! string from Slack travels further. Each `parse` says what was wrong and
//! what a valid value looks like.
//!
//! # Parts
//! - Slack and AWS names: [`SlackUserId`], [`ChannelId`], [`ServiceRef`],
//!   [`PipelineName`], [`ParamName`], ... and [`ChangeId`], a change's id.
//! - [`ssm`]: the arguments of the SSM commands (documents, targets,
//!   document parameters).

use std::fmt;

use crate::error::UsageError;

pub mod ssm;

macro_rules! string_value {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        // Serde is for our own store only; values from outside go through `parse`.
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

fn check(what: &str, raw: &str, max: usize, allowed: impl Fn(char) -> bool, hint: &str) -> Result<String, UsageError> {
    if raw.is_empty() || raw.len() > max || !raw.chars().all(allowed) {
        return Err(UsageError::invalid(what, raw, hint));
    }
    Ok(raw.to_owned())
}

string_value!(
    /// A CodePipeline pipeline name: `[A-Za-z0-9.@_-]{1,100}`.
    PipelineName
);
impl PipelineName {
    pub fn parse(raw: &str) -> Result<Self, UsageError> {
        check(
            "pipeline name",
            raw,
            100,
            |c| c.is_ascii_alphanumeric() || ".@_-".contains(c),
            "letters, digits and . @ _ - (up to 100), e.g. `storefront-prod`",
        )
        .map(Self)
    }
}

string_value!(
    /// An ECS cluster name: `[A-Za-z0-9_-]{1,255}`.
    ClusterName
);
impl ClusterName {
    pub fn parse(raw: &str) -> Result<Self, UsageError> {
        check(
            "cluster name",
            raw,
            255,
            |c| c.is_ascii_alphanumeric() || "_-".contains(c),
            "letters, digits, _ and - (up to 255), e.g. `prod`",
        )
        .map(Self)
    }
}

/// An ECS service named as `CLUSTER/NAME`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServiceRef {
    pub cluster: ClusterName,
    pub service: String,
}

impl ServiceRef {
    pub fn parse(raw: &str) -> Result<Self, UsageError> {
        let hint = "CLUSTER/NAME, e.g. `prod/api`";
        let (cluster, service) = raw.split_once('/').ok_or_else(|| UsageError::invalid("service", raw, hint))?;
        let cluster = ClusterName::parse(cluster).map_err(|_| UsageError::invalid("service", raw, hint))?;
        let service = check("service", service, 255, |c| c.is_ascii_alphanumeric() || "_-".contains(c), hint)
            .map_err(|_| UsageError::invalid("service", raw, hint))?;
        Ok(ServiceRef { cluster, service })
    }
}

impl fmt::Display for ServiceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.cluster, self.service)
    }
}

fn param_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_.-/".contains(c)
}

string_value!(
    /// An SSM parameter name: `/a/b/c` or a plain `name` (letters, digits, `_.-/`).
    ParamName
);
impl ParamName {
    pub fn parse(raw: &str) -> Result<Self, UsageError> {
        let hint = "a name like `/shop/prod/db-host` (letters, digits and _ . - /)";
        let name = check("parameter name", raw, 2048, param_char, hint)?;
        if name.ends_with('/') || name.contains("//") || name.to_ascii_lowercase().starts_with("aws") {
            return Err(UsageError::invalid("parameter name", raw, hint));
        }
        Ok(Self(name))
    }
}

string_value!(
    /// A Parameter Store path: starts with `/`, e.g. `/shop/prod`.
    ParamPath
);
impl ParamPath {
    pub fn parse(raw: &str) -> Result<Self, UsageError> {
        let hint = "a path starting with `/`, e.g. `/shop/prod`";
        let path = check("parameter path", raw, 2048, param_char, hint)?;
        if !path.starts_with('/') || path.contains("//") {
            return Err(UsageError::invalid("parameter path", raw, hint));
        }
        Ok(Self(path))
    }
}

string_value!(
    /// A CloudWatch alarm-name prefix (any printable text up to 255 characters).
    AlarmPrefix
);
impl AlarmPrefix {
    pub fn parse(raw: &str) -> Result<Self, UsageError> {
        check("alarm prefix", raw, 255, |c| !c.is_control(), "up to 255 printable characters").map(Self)
    }
}

string_value!(
    /// A Slack user id (`U…` or `W…`).
    SlackUserId
);
impl SlackUserId {
    pub fn parse(raw: &str) -> Result<Self, UsageError> {
        let ok = raw.len() >= 2 && raw.starts_with(['U', 'W']);
        check("Slack user id", raw, 32, |c| c.is_ascii_uppercase() || c.is_ascii_digit(), "like `U012AB3CD`")
            .ok()
            .filter(|_| ok)
            .map(Self)
            .ok_or_else(|| UsageError::invalid("Slack user id", raw, "like `U012AB3CD`"))
    }
}

string_value!(
    /// A Slack conversation id (`C…`, `G…` or `D…`), or a console channel name.
    ChannelId
);
impl ChannelId {
    pub fn parse(raw: &str) -> Result<Self, UsageError> {
        check("channel", raw, 80, |c| c.is_ascii_alphanumeric() || "_-".contains(c), "a channel id like `C012AB3CD`")
            .map(Self)
    }
}

/// A change's id: the request id of the command that asked for it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChangeId(pub String);

impl fmt::Display for ChangeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_refs_need_a_cluster_and_a_service() {
        let svc = ServiceRef::parse("prod/api").unwrap();
        assert_eq!((svc.cluster.as_str(), svc.service.as_str()), ("prod", "api"));
        for bad in ["prod", "/api", "prod/", "prod/api/x", "pr od/api"] {
            let err = ServiceRef::parse(bad).unwrap_err().to_string();
            assert!(err.contains("CLUSTER/NAME"), "{bad}: {err}");
        }
    }

    #[test]
    fn parameter_names_reject_reserved_and_malformed_names() {
        assert!(ParamName::parse("/shop/prod/db-host").is_ok());
        assert!(ParamName::parse("plain_name.v2").is_ok());
        for bad in ["", "/shop/", "/a//b", "aws-secret", "/shop/pa ss", "/x?y"] {
            assert!(ParamName::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn parameter_paths_must_start_with_a_slash() {
        assert!(ParamPath::parse("/shop/prod").is_ok());
        assert!(ParamPath::parse("shop/prod").is_err());
    }

    #[test]
    fn pipeline_names_follow_codepipeline_rules() {
        assert!(PipelineName::parse("storefront-prod.v2@x_y").is_ok());
        assert!(PipelineName::parse("store front").is_err());
        assert!(PipelineName::parse(&"a".repeat(101)).is_err());
    }

    #[test]
    fn slack_user_ids_look_like_slack_ids() {
        assert!(SlackUserId::parse("U012AB3CD").is_ok());
        assert!(SlackUserId::parse("W012AB3CD").is_ok());
        assert!(SlackUserId::parse("C012AB3CD").is_err());
        assert!(SlackUserId::parse("u012").is_err());
    }
}
