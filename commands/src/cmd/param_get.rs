//! `param get NAME`: one Parameter Store value with its type, version and
//! last change — "what is prod's DB host right now?".
//!
//! This file also owns how any parameter value is shown ([`full`], [`preview`]),
//! for `params` and `param history` too. Invariant: a SecureString never
//! shows a value — not even if a gateway wrongly returned one in clear —
//! and no value of any kind goes into a reply's fallback text.

use async_trait::async_trait;

use crate::command::{Body, CommandDef, Reach, Read};
use crate::context::Context;
use crate::error::{GatewayResult, UsageError};
use crate::mrkdwn;
use crate::mrkdwn::Mrkdwn;
use crate::ports::{ParamKind, ParamValue, Params as ParamsPort};
use crate::reply::Reply;
use crate::spec::{Spec, expect_args};
use crate::text::{one_line, when};
use crate::values::ParamName;

pub const SPEC: Spec = Spec {
    name: "param get",
    args: "NAME",
    summary: "A Parameter Store value, its type, version and last change (SecureStrings are masked)",
    example: "param get /shop/prod/db-host",
    changes: false,
    alias: None,
};

/// What stands in for a value that must not be shown.
pub const MASK: &str = "••••••";
/// How much escaped text of one value `param get` shows (a section holds 3000).
const VALUE_MAX: usize = 2000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamGet {
    pub name: ParamName,
}

impl CommandDef for ParamGet {
    const SPEC: &'static Spec = &SPEC;

    fn parse(args: &[String]) -> Result<Self, UsageError> {
        expect_args(&SPEC, args, 1, 1)?;
        Ok(ParamGet { name: ParamName::parse(&args[0])? })
    }

    fn policy_args(&self) -> Vec<(&'static str, String)> {
        vec![("name", self.name.to_string())]
    }

    fn body(&self) -> Body<'_> {
        Body::Read(self)
    }
}

#[async_trait]
impl Read for ParamGet {
    async fn read(&self, ctx: &Context, reach: &Reach<'_>) -> GatewayResult<Reply> {
        self.run(ctx, reach.aws.params.as_ref()).await
    }
}

impl ParamGet {
    /// A parameter that does not exist comes back as the port's `NotFound`.
    pub async fn run(&self, ctx: &Context, params: &dyn ParamsPort) -> GatewayResult<Reply> {
        let p = params.get(&self.name).await?;
        let mut fields = vec![mrkdwn!("*Type*\n{}", p.kind.label()), mrkdwn!("*Version*\n{}", p.version)];
        fields.extend(p.last_modified.map(|t| mrkdwn!("*Last modified*\n{}", when(ctx.now, t))));
        Ok(Reply::in_channel(format!("{}: {}, version {}", p.name, p.kind.label(), p.version))
            .fields(mrkdwn!("`{}`", p.name), fields)
            .section(mrkdwn!("*Value*\n{}", full(&p.kind, &p.value)))
            .context(vec![mrkdwn!("`param history {}` for earlier versions and who changed them", p.name)]))
    }
}

/// The value when it may be shown; `None` for every SecureString, whatever
/// the gateway returned, and for values the gateway did not return.
fn visible<'a>(kind: &ParamKind, value: &'a ParamValue) -> Option<&'a str> {
    match (kind, value) {
        (ParamKind::SecureString, _) | (_, ParamValue::Masked) => None,
        (_, ParamValue::Plain(v)) => Some(v),
    }
}

fn hidden(kind: &ParamKind) -> Mrkdwn {
    match kind {
        ParamKind::SecureString => mrkdwn!("{} (SecureString, hidden)", MASK),
        _ => mrkdwn!("{} (value not available)", MASK),
    }
}

/// The whole value (up to [`VALUE_MAX`]): a code span, or a code block when it
/// spans lines or holds backticks.
pub fn full(kind: &ParamKind, value: &ParamValue) -> Mrkdwn {
    let Some(raw) = visible(kind, value) else { return hidden(kind) };
    if raw.is_empty() {
        return mrkdwn!("_(empty)_");
    }
    let (shown, cut) = escaped_within(raw, VALUE_MAX);
    let note = if cut { mrkdwn!("\n_(cut: the value has {} characters)_", raw.chars().count()) } else { Mrkdwn::new() };
    if raw.contains(['\n', '`']) {
        mrkdwn!("```\n{}\n```{}", shown.replace("```", "ˋˋˋ"), note)
    } else {
        mrkdwn!("`{}`{}", shown, note)
    }
}

/// A value in a list: one line, cut to `max` characters, in a code span; or [`MASK`].
pub fn preview(kind: &ParamKind, value: &ParamValue, max: usize) -> Mrkdwn {
    match visible(kind, value) {
        None => Mrkdwn::text(MASK),
        Some("") => mrkdwn!("_(empty)_"),
        Some(raw) => mrkdwn!("`{}`", crate::text::truncate(&one_line(raw), max).replace('`', "ˋ")),
    }
}

/// The longest start of `raw` whose escaped form fits in `max` bytes, and
/// whether anything was cut.
fn escaped_within(raw: &str, max: usize) -> (&str, bool) {
    let mut escaped = 0;
    for (at, c) in raw.char_indices() {
        escaped += Mrkdwn::text(c.encode_utf8(&mut [0; 4])).len();
        if escaped > max {
            return (&raw[..at], true);
        }
    }
    (raw, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::GatewayError;
    use crate::ports::ParamVersion;
    use crate::testing::{FakeAws, ctx, param_version};

    async fn get(aws: &FakeAws, name: &str) -> Reply {
        ParamGet { name: ParamName::parse(name).unwrap() }.run(&ctx(), aws).await.unwrap()
    }

    #[tokio::test]
    async fn a_value_is_shown_with_type_version_and_last_change() {
        let aws = FakeAws::default().with_param("/shop/prod/db-host", ParamKind::String, "db.internal");
        let reply = get(&aws, "/shop/prod/db-host").await;
        let text = reply.text();
        assert_eq!(reply.visibility, crate::reply::Visibility::InChannel);
        assert!(text.starts_with("`/shop/prod/db-host`\n*Type*\nString\n*Version*\n1\n"), "{text}");
        assert!(text.contains("*Last modified*\n2026-11-22 11:00 UTC (1h ago)"), "{text}");
        assert!(text.contains("*Value*\n`db.internal`"), "{text}");
        assert!(text.contains("`param history /shop/prod/db-host`"), "{text}");
    }

    #[tokio::test]
    async fn secure_strings_are_never_shown() {
        let aws = FakeAws::default().with_param("/shop/prod/db-pass", ParamKind::SecureString, "hunter2");
        let reply = get(&aws, "/shop/prod/db-pass").await;
        assert!(reply.text().contains("*Value*\n•••••• (SecureString, hidden)"), "{}", reply.text());
        assert!(!format!("{reply:?}").contains("hunter2"));
        assert_eq!(reply.fallback, "/shop/prod/db-pass: SecureString, version 1");
    }

    #[tokio::test]
    async fn a_secure_string_a_gateway_returned_in_clear_is_still_masked() {
        let leaky = ParamVersion {
            value: ParamValue::Plain("hunter2".into()),
            ..param_version(4, ParamKind::SecureString, "", 60)
        };
        let aws = FakeAws::default().with_param_versions("/shop/prod/db-pass", vec![leaky]);
        let reply = get(&aws, "/shop/prod/db-pass").await;
        assert!(!format!("{reply:?}").contains("hunter2"), "{reply:?}");
        assert!(reply.text().contains("•••••• (SecureString, hidden)"));
    }

    #[tokio::test]
    async fn plain_values_stay_out_of_the_fallback_text() {
        let aws = FakeAws::default().with_param("/shop/prod/flag", ParamKind::String, "on-ZZZ");
        assert!(!get(&aws, "/shop/prod/flag").await.fallback.contains("on-ZZZ"));
    }

    #[test]
    fn values_with_lines_or_backticks_go_in_a_code_block_and_are_escaped() {
        let show = |v: &str| full(&ParamKind::String, &ParamValue::Plain(v.into()));
        assert_eq!(show("a\nb <!here>"), "```\na\nb &lt;!here&gt;\n```");
        assert_eq!(show("x`y"), "```\nx`y\n```");
        assert_eq!(show(""), "_(empty)_");
        assert_eq!(full(&ParamKind::String, &ParamValue::Masked), "•••••• (value not available)");
    }

    #[test]
    fn huge_values_are_cut_to_fit_a_slack_section_even_when_escaping_grows_them() {
        let text = full(&ParamKind::String, &ParamValue::Plain("&".repeat(4096))).as_str().to_owned();
        assert!(text.len() < VALUE_MAX + 100 && text.ends_with("_(cut: the value has 4096 characters)_"), "{text}");
        assert!(!text.contains("&amp&"), "no entity is cut in half");
    }

    #[test]
    fn previews_are_one_line_cut_and_masked_for_secrets() {
        let plain = ParamValue::Plain(format!("a\nb {}", "c".repeat(100)));
        let shown = preview(&ParamKind::StringList, &plain, 20);
        assert_eq!(shown, "`a b ccccccccccccccc…`");
        assert_eq!(preview(&ParamKind::SecureString, &ParamValue::Plain("hunter2".into()), 20), MASK);
    }

    #[tokio::test]
    async fn an_unknown_parameter_is_reported_as_not_found() {
        let err = ParamGet { name: ParamName::parse("/nope").unwrap() }.run(&ctx(), &FakeAws::default()).await;
        assert!(matches!(err, Err(GatewayError::NotFound { .. })), "{err:?}");
    }
}
