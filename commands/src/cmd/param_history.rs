//! `param history NAME`: versions of a parameter, newest first — "who changed
//! this, and when?". Writers are shown by IAM user or role session name,
//! never by full ARN (it carries the account id); SecureStrings stay masked.

use async_trait::async_trait;

use crate::command::{Body, CommandDef, Reach, Read};
use crate::context::Context;
use crate::error::{GatewayResult, UsageError};
use crate::mrkdwn;
use crate::mrkdwn::Mrkdwn;
use crate::ports::{ParamVersion, Params as ParamsPort, Time};
use crate::reply::Reply;
use crate::spec::{Spec, expect_args};
use crate::text::{count, truncate, when};
use crate::values::ParamName;

use super::param_get::preview;

pub const SPEC: Spec = Spec {
    name: "param history",
    args: "NAME",
    summary: "Versions of a parameter: when, who changed it, labels (SecureStrings are masked)",
    example: "param history /shop/prod/db-host",
    changes: false,
    alias: None,
};

/// At most this many of the newest versions are listed.
const SHOWN: usize = 20;
const PREVIEW_MAX: usize = 80;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamHistory {
    pub name: ParamName,
}

impl CommandDef for ParamHistory {
    const SPEC: &'static Spec = &SPEC;

    fn parse(args: &[String]) -> Result<Self, UsageError> {
        expect_args(&SPEC, args, 1, 1)?;
        Ok(ParamHistory { name: ParamName::parse(&args[0])? })
    }

    fn policy_args(&self) -> Vec<(&'static str, String)> {
        vec![("name", self.name.to_string())]
    }

    fn body(&self) -> Body<'_> {
        Body::Read(self)
    }
}

#[async_trait]
impl Read for ParamHistory {
    async fn read(&self, ctx: &Context, reach: &Reach<'_>) -> GatewayResult<Reply> {
        self.run(ctx, reach.aws.params.as_ref()).await
    }
}

impl ParamHistory {
    /// A parameter that does not exist comes back as the port's `NotFound`.
    pub async fn run(&self, ctx: &Context, params: &dyn ParamsPort) -> GatewayResult<Reply> {
        let mut versions = params.history(&self.name).await?;
        versions.sort_by_key(|v| std::cmp::Reverse(v.version));
        let name = self.name.as_str();
        let summary = mrkdwn!("`{}`: {}", name, count(versions.len(), "version"));
        let mut footer = vec![summary.clone()];
        if versions.len() > SHOWN {
            footer.push(mrkdwn!("Showing the {} newest of {} versions", SHOWN, versions.len()));
        }
        footer.push(mrkdwn!("`param get {}` for the current value", name));
        Ok(Reply::in_channel(summary.plain().replace('`', ""))
            .header(format!("History of {}", truncate(self.name.as_str(), 100)))
            .lines(versions.iter().take(SHOWN).map(|v| line(ctx.now, v)))
            .context(footer))
    }
}

/// `• *v3* · 2026-11-22 11:00 UTC (1h ago) · by *alice* · `prod` · `value`` and
/// the description below.
fn line(now: Time, v: &ParamVersion) -> Mrkdwn {
    let mut parts = vec![mrkdwn!("• *v{}*", v.version)];
    parts.extend(v.modified.map(|t| Mrkdwn::text(&when(now, t))));
    parts.extend(v.modified_by.as_deref().map(|by| mrkdwn!("by *{}*", who(by))));
    if !v.labels.is_empty() {
        let labels = v.labels.iter().map(|l| mrkdwn!("`{}`", l));
        parts.push(mrkdwn!("labels {}", Mrkdwn::join(labels, ", ")));
    }
    parts.push(preview(&v.kind, &v.value, PREVIEW_MAX));
    let description = v.description.as_deref().map(|d| mrkdwn!("\n    _{}_", truncate(d, 150)));
    mrkdwn!("{}{}", Mrkdwn::join(parts, " · "), description.unwrap_or_default())
}

/// Who wrote a version, without the account id an ARN carries:
/// `arn:aws:iam::123456789012:user/ci/deployer` → `deployer`,
/// `arn:aws:sts::123456789012:assumed-role/Admin/alice` → `alice`,
/// `arn:aws:iam::123456789012:root` → `root`. Other text is kept, cut to 40 characters.
pub fn who(raw: &str) -> String {
    if !raw.starts_with("arn:") {
        return truncate(raw, 40);
    }
    let tail = if raw.contains('/') { raw.rsplit('/').next() } else { raw.rsplit(':').next() };
    match tail.map(str::trim) {
        Some(name) if !name.is_empty() => truncate(name, 64),
        _ => "someone".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::GatewayError;
    use crate::ports::{ParamKind, ParamValue};
    use crate::testing::{FakeAws, ctx, param_version};

    async fn history(aws: &FakeAws, name: &str) -> Reply {
        ParamHistory { name: ParamName::parse(name).unwrap() }.run(&ctx(), aws).await.unwrap()
    }

    fn db_host() -> FakeAws {
        let mut v1 = param_version(1, ParamKind::String, "old.internal", 86_400 * 3);
        v1.modified_by = Some("arn:aws:iam::123456789012:user/ci/deployer".into());
        let mut v2 = param_version(2, ParamKind::String, "db.internal", 3600);
        v2.modified_by = Some("arn:aws:sts::123456789012:assumed-role/Admin/alice".into());
        v2.labels = vec!["prod".into(), "stable".into()];
        v2.description = Some("Moved to the new cluster".into());
        FakeAws::default().with_param_versions("/shop/prod/db-host", vec![v1, v2])
    }

    #[tokio::test]
    async fn versions_are_listed_newest_first_with_who_when_labels_and_value() {
        let reply = history(&db_host(), "/shop/prod/db-host").await;
        let text = reply.text();
        let v2 = "• *v2* · 2026-11-22 11:00 UTC (1h ago) · by *alice* · labels `prod`, `stable` · `db.internal`\n    \
                  _Moved to the new cluster_";
        assert!(text.contains(v2), "{text}");
        assert!(text.contains("• *v1* · 2026-11-19 12:00 UTC (3d ago) · by *deployer* · `old.internal`"), "{text}");
        assert!(text.find("*v2*").unwrap() < text.find("*v1*").unwrap(), "{text}");
        assert_eq!(reply.fallback, "/shop/prod/db-host: 2 versions");
        assert_eq!(reply.visibility, crate::reply::Visibility::InChannel);
    }

    #[tokio::test]
    async fn full_arns_stay_out_of_the_channel() {
        let text = history(&db_host(), "/shop/prod/db-host").await.text();
        assert!(!text.contains("arn:") && !text.contains("123456789012"), "{text}");
    }

    #[test]
    fn writers_are_shortened_to_their_user_or_role_name() {
        assert_eq!(who("arn:aws:iam::123456789012:user/ci/deployer"), "deployer");
        assert_eq!(who("arn:aws:sts::123456789012:assumed-role/Admin/alice@example.com"), "alice@example.com");
        assert_eq!(who("arn:aws:iam::123456789012:root"), "root");
        assert_eq!(who("arn:aws:iam::123456789012:user/"), "someone");
        assert_eq!(who("bob"), "bob");
    }

    #[tokio::test]
    async fn secure_strings_are_never_shown() {
        let leaky = ParamVersion {
            value: ParamValue::Plain("hunter2-old".into()),
            ..param_version(1, ParamKind::SecureString, "", 7200)
        };
        let versions = vec![leaky, param_version(2, ParamKind::SecureString, "hunter2", 60)];
        let aws = FakeAws::default().with_param_versions("/shop/prod/db-pass", versions);
        let reply = history(&aws, "/shop/prod/db-pass").await;
        assert!(!format!("{reply:?}").contains("hunter2"), "{reply:?}");
        assert_eq!(reply.text().matches("••••••").count(), 2, "{}", reply.text());
    }

    #[tokio::test]
    async fn only_the_twenty_newest_versions_are_shown_with_a_note() {
        let versions = (1..=35).map(|v| param_version(v, ParamKind::String, &format!("value-{v}"), 60)).collect();
        let text = history(&FakeAws::default().with_param_versions("/p", versions), "/p").await.text();
        assert!(text.contains("*v35*") && text.contains("*v16*") && !text.contains("*v15*"), "{text}");
        assert!(text.contains("Showing the 20 newest of 35 versions"), "{text}");
    }

    #[tokio::test]
    async fn an_unknown_parameter_is_reported_as_not_found() {
        let err = ParamHistory { name: ParamName::parse("/nope").unwrap() }.run(&ctx(), &FakeAws::default()).await;
        assert!(matches!(err, Err(GatewayError::NotFound { .. })), "{err:?}");
    }
}
