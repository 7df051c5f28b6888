//! `params PATH`: every parameter under a path, sorted by name, with type and
//! a one-line preview of its value (SecureStrings masked) — "what config does
//! prod have?". Long listings are capped; the note names sub-paths to narrow to.

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::command::{Body, CommandDef, Reach, Read};
use crate::context::Context;
use crate::error::{GatewayResult, UsageError};
use crate::mrkdwn;
use crate::mrkdwn::Mrkdwn;
use crate::ports::{Parameter, Params as ParamsPort};
use crate::reply::Reply;
use crate::spec::{Spec, expect_args};
use crate::text::{count, truncate};
use crate::values::ParamPath;

use super::param_get::preview;

pub const SPEC: Spec = Spec {
    name: "params",
    args: "PATH",
    summary: "Every parameter under a path, recursively (SecureStrings are masked)",
    example: "params /shop/prod",
    changes: false,
    alias: None,
};

/// At most this many parameters are listed, each value cut to `PREVIEW_MAX`.
const SHOWN: usize = 50;
const PREVIEW_MAX: usize = 80;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    pub path: ParamPath,
}

impl CommandDef for Params {
    const SPEC: &'static Spec = &SPEC;

    fn parse(args: &[String]) -> Result<Self, UsageError> {
        expect_args(&SPEC, args, 1, 1)?;
        Ok(Params { path: ParamPath::parse(&args[0])? })
    }

    fn policy_args(&self) -> Vec<(&'static str, String)> {
        vec![("name", self.path.to_string())]
    }

    fn body(&self) -> Body<'_> {
        Body::Read(self)
    }
}

#[async_trait]
impl Read for Params {
    async fn read(&self, ctx: &Context, reach: &Reach<'_>) -> GatewayResult<Reply> {
        self.run(ctx, reach.aws.params.as_ref()).await
    }
}

impl Params {
    pub async fn run(&self, _ctx: &Context, params: &dyn ParamsPort) -> GatewayResult<Reply> {
        let mut list = params.by_path(&self.path).await?;
        let path = self.path.as_str();
        if list.is_empty() {
            let text = mrkdwn!("No parameters under `{}`.", path);
            return Ok(Reply::in_channel(text.plain()).section(text));
        }
        list.sort_by(|a, b| a.name.cmp(&b.name));
        let summary = mrkdwn!("{} under `{}`", count(list.len(), "parameter"), path);
        let mut footer = vec![summary.clone()];
        footer.extend((list.len() > SHOWN).then(|| self.narrow(&list)));
        let title = format!("Parameters under {}", truncate(self.path.as_str(), 100));
        Ok(Reply::in_channel(summary.plain().replace('`', ""))
            .header(title)
            .lines(list.iter().take(SHOWN).map(line))
            .context(footer))
    }

    /// `Showing the first 50 of 73 — narrow the path: `params /shop/prod/api` (31), …`.
    fn narrow(&self, list: &[Parameter]) -> Mrkdwn {
        let head = mrkdwn!("Showing the first {} of {}", SHOWN, list.len());
        let subs: Vec<Mrkdwn> =
            subpaths(self.path.as_str(), list).iter().map(|(p, n)| mrkdwn!("`params {}` ({})", p, n)).collect();
        if subs.is_empty() {
            mrkdwn!("{} — narrow the path to see the rest", head)
        } else {
            mrkdwn!("{} — narrow the path: {}", head, Mrkdwn::join(subs, ", "))
        }
    }
}

/// `• `/shop/prod/db-host` _String_ `db.internal``.
fn line(p: &Parameter) -> Mrkdwn {
    mrkdwn!("• `{}` _{}_ {}", truncate(&p.name, 150), p.kind.label(), preview(&p.kind, &p.value, PREVIEW_MAX))
}

/// The biggest folders right below `path`, with how many parameters each holds.
fn subpaths(path: &str, list: &[Parameter]) -> Vec<(String, usize)> {
    let base = path.trim_end_matches('/');
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for p in list {
        let rest = p.name.strip_prefix(base).and_then(|r| r.strip_prefix('/'));
        if let Some((dir, _)) = rest.and_then(|r| r.split_once('/')) {
            *counts.entry(format!("{base}/{dir}")).or_default() += 1;
        }
    }
    let mut out: Vec<(String, usize)> = counts.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out.truncate(3);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::ParamKind::{SecureString, String as Plain, StringList};
    use crate::testing::{FakeAws, ctx};

    async fn list(aws: &FakeAws, path: &str) -> Reply {
        Params { path: ParamPath::parse(path).unwrap() }.run(&ctx(), aws).await.unwrap()
    }

    fn shop() -> FakeAws {
        FakeAws::default()
            .with_param("/shop/prod/db-pass", SecureString, "hunter2")
            .with_param("/shop/prod/db-host", Plain, "db.internal")
            .with_param("/shop/prod/api/hosts", StringList, "a.internal,b.internal")
            .with_param("/shop/dev/db-host", Plain, "localhost")
    }

    #[tokio::test]
    async fn parameters_are_listed_by_name_with_type_and_value() {
        let reply = list(&shop(), "/shop/prod").await;
        let text = reply.text();
        let want = "Parameters under /shop/prod\n\
                    • `/shop/prod/api/hosts` _StringList_ `a.internal,b.internal`\n\
                    • `/shop/prod/db-host` _String_ `db.internal`\n\
                    • `/shop/prod/db-pass` _SecureString_ ••••••";
        assert!(text.starts_with(want), "{text}");
        assert!(text.ends_with("3 parameters under `/shop/prod`"), "{text}");
        assert!(!text.contains("localhost"), "{text}");
        assert_eq!(reply.visibility, crate::reply::Visibility::InChannel);
    }

    #[tokio::test]
    async fn secure_strings_are_never_shown() {
        let reply = list(&shop(), "/shop").await;
        assert!(!format!("{reply:?}").contains("hunter2"), "{reply:?}");
    }

    #[tokio::test]
    async fn long_values_are_cut() {
        let aws = FakeAws::default().with_param("/big/cert", Plain, &"A".repeat(500));
        let text = list(&aws, "/big").await.text();
        let value = text.lines().nth(1).unwrap().rsplit(' ').next().unwrap();
        assert_eq!(value.chars().count(), PREVIEW_MAX + 2, "{value}");
        assert!(value.ends_with("A…`"), "{value}");
    }

    #[tokio::test]
    async fn more_than_fifty_are_capped_with_a_way_to_narrow() {
        let aws = (0..73).fold(shop(), |aws, i| {
            let folder = if i < 40 { "api" } else { "web" };
            aws.with_param(&format!("/shop/prod/{folder}/p{i:02}"), Plain, "v")
        });
        let text = list(&aws, "/shop/prod").await.text();
        assert_eq!(text.matches("\n• ").count(), SHOWN, "{text}");
        let hint =
            "Showing the first 50 of 76 — narrow the path: `params /shop/prod/api` (41), `params /shop/prod/web` (33)";
        assert!(text.contains(hint), "{text}");
        assert!(text.contains("76 parameters under `/shop/prod`"), "{text}");
    }

    #[tokio::test]
    async fn an_empty_path_says_so() {
        assert_eq!(list(&shop(), "/shop/staging").await.text(), "No parameters under `/shop/staging`.");
    }
}
