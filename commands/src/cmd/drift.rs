//! What `params diff` shows and `params apply` writes: an environment's
//! declared parameters compared with Parameter Store under its prefix.
//!
//! # Decisions
//! - Missing (declared, not live), extra (live under the prefix, not
//!   declared) and changed (value, type, description) are told apart;
//!   a description left out of the file is not managed and never differs.
//! - SecureString values are compared by [`Fingerprint`] and only ever
//!   reported as "value differs".
//! - [`Drift::pin`] hashes everything the drift is made of, both sides, so
//!   `params apply` can bind its approval to exactly the diff it showed.
//! - Tags are their own kind of drift ([`Retagged`]): a parameter whose
//!   value is as declared but whose tags are not is fixed by retagging it,
//!   never by writing a new version. Tags are managed only where a parameter
//!   declares `tags:`, and then exactly: a live tag not declared is drift.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::error::GatewayError;
use crate::error::GatewayResult;
use crate::mrkdwn;
use crate::mrkdwn::Mrkdwn;
use crate::ports::{
    Declared, DeclaredParam, DeclaredParams, DeclaredValue, Fingerprint, Gateways, LiveParam, ParamKind, ParamTags,
    ParamValue,
};
use crate::text::truncate;
use crate::values::ParamName;

use super::param_get::preview;

/// Characters of a value a diff shows.
const SHOWN: usize = 120;

/// One environment's drift.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub declared: Declared,
    /// Declared, not in Parameter Store.
    pub missing: Vec<DeclaredParam>,
    /// In Parameter Store under the prefix, not declared.
    pub extra: Vec<LiveParam>,
    pub changed: Vec<Changed>,
    /// Live, declaring `tags:`, with other tags than declared.
    pub retagged: Vec<Retagged>,
}

/// A live parameter whose tags differ from the ones it declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retagged {
    pub name: ParamName,
    /// Declared, not on the parameter: key → value.
    pub missing: ParamTags,
    /// On the parameter with another value: key → (live, declared).
    pub changed: BTreeMap<String, (String, String)>,
    /// On the parameter, not declared: key → value.
    pub extra: ParamTags,
}

impl Retagged {
    /// What `tags` (declared) and `live` differ by; `None` when they do not.
    fn between(name: &ParamName, tags: &ParamTags, live: &ParamTags) -> Option<Retagged> {
        let missing: ParamTags = tags.iter().filter(|(k, _)| !live.contains_key(*k)).map(pair).collect();
        let changed = tags
            .iter()
            .filter_map(|(k, v)| live.get(k).filter(|old| *old != v).map(|old| (k.clone(), (old.clone(), v.clone()))))
            .collect::<BTreeMap<_, _>>();
        let extra: ParamTags = live.iter().filter(|(k, _)| !tags.contains_key(*k)).map(pair).collect();
        let same = missing.is_empty() && changed.is_empty() && extra.is_empty();
        (!same).then(|| Retagged { name: name.clone(), missing, changed, extra })
    }

    /// The tags to set: the missing ones and the new values of the changed ones.
    pub fn to_set(&self) -> ParamTags {
        let changed = self.changed.iter().map(|(k, (_, new))| (k.clone(), new.clone()));
        self.missing.clone().into_iter().chain(changed).collect()
    }

    /// The tag keys to remove: the extra ones.
    pub fn to_remove(&self) -> Vec<String> {
        self.extra.keys().cloned().collect()
    }

    /// `• `/shop/prod/db-host`: tag team=payments missing; tag owner `a` → `b`; tag old=x extra`.
    pub fn line(&self) -> Mrkdwn {
        let mut what = Vec::new();
        what.extend(self.missing.iter().map(|(k, v)| mrkdwn!("missing `{}`", tag(k, v))));
        what.extend(self.changed.iter().map(|(k, (old, new))| {
            mrkdwn!("`{}` `{}` → `{}`", truncate(k, SHOWN), truncate(old, SHOWN), truncate(new, SHOWN))
        }));
        what.extend(self.extra.iter().map(|(k, v)| mrkdwn!("extra `{}`", tag(k, v))));
        mrkdwn!("• `{}`: {}", self.name.as_str(), Mrkdwn::join(what, "; "))
    }
}

fn pair((k, v): (&String, &String)) -> (String, String) {
    (k.clone(), v.clone())
}

/// `key=value`, each part cut to what a diff shows.
fn tag(key: &str, value: &str) -> String {
    format!("{}={}", truncate(key, SHOWN), truncate(value, SHOWN))
}

/// Tags as one line: `team=payments, tier=1`.
pub fn tags_line(tags: &ParamTags) -> String {
    tags.iter().map(|(k, v)| tag(k, v)).collect::<Vec<_>>().join(", ")
}

/// A declared parameter that is live but differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    pub declared: DeclaredParam,
    pub live: LiveParam,
    pub value: bool,
    pub kind: bool,
    pub description: bool,
}

/// `which` (an environment's name or prefix) loaded and compared now.
pub async fn current(aws: &Gateways, which: &str) -> GatewayResult<Drift> {
    let env = environment(aws.declared.as_ref(), which)?;
    let declared = aws.declared.load(&env).await?;
    let live = aws.params.fingerprints(&declared.prefix).await?;
    // Tags cost one `ListTagsForResource` per parameter (no SSM call lists
    // them in bulk), so they are read only where they are compared: for the
    // live parameters that declare `tags:`. A missing one has none to read.
    let mut tags = BTreeMap::new();
    for param in declared.params.iter().filter(|p| p.tags.is_some()) {
        if live.iter().any(|l| l.name == param.name.as_str()) {
            tags.insert(param.name.to_string(), aws.params.tags(&param.name).await?);
        }
    }
    Ok(Drift::between(declared, live, &tags))
}

/// How a declared value compares.
fn fingerprint(param: &DeclaredParam) -> Fingerprint {
    match &param.value {
        DeclaredValue::Plain(v) => Fingerprint::of(&param.kind, v),
        DeclaredValue::Secret { value, .. } => Fingerprint::of(&ParamKind::SecureString, value.expose()),
    }
}

impl Drift {
    /// `declared` against `live`, and against `tags`, the live tags of the
    /// parameters that declare theirs (by name; one not there has none).
    pub fn between(declared: Declared, live: Vec<LiveParam>, tags: &BTreeMap<String, ParamTags>) -> Drift {
        let mut missing = Vec::new();
        let mut changed = Vec::new();
        let mut retagged = Vec::new();
        for param in &declared.params {
            let Some(now) = live.iter().find(|l| l.name == param.name.as_str()) else {
                missing.push(param.clone());
                continue;
            };
            if let Some(want) = &param.tags {
                let none = ParamTags::new();
                let live_tags = tags.get(param.name.as_str()).unwrap_or(&none);
                retagged.extend(Retagged::between(&param.name, want, live_tags));
            }
            let value = !fingerprint(param).same(&now.value);
            let kind = param.kind != now.kind;
            let description = param.description.as_ref().is_some_and(|d| Some(d) != now.description.as_ref());
            if value || kind || description {
                changed.push(Changed { declared: param.clone(), live: now.clone(), value, kind, description });
            }
        }
        let extra = live.into_iter().filter(|l| !declared.params.iter().any(|p| p.name.as_str() == l.name)).collect();
        Drift { declared, missing, extra, changed, retagged }
    }

    /// No drift at all.
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.extra.is_empty() && self.changed.is_empty() && self.retagged.is_empty()
    }

    /// `prod (/shop/prod/, from params/prod.yaml)`.
    pub fn title(&self) -> String {
        format!("{} ({}, from {})", self.declared.env, self.declared.prefix, self.declared.source)
    }

    /// The counts in one line: `1 missing, 2 changed, 1 with other tags, 1 extra`.
    pub fn summary(&self) -> String {
        let parts = [
            (self.missing.len(), "missing"),
            (self.changed.len(), "changed"),
            (self.retagged.len(), "with other tags"),
            (self.extra.len(), "extra"),
        ];
        let parts: Vec<String> = parts.iter().filter(|(n, _)| *n > 0).map(|(n, what)| format!("{n} {what}")).collect();
        if parts.is_empty() { "no drift".into() } else { parts.join(", ") }
    }

    /// The diff, grouped: missing, changed, tags, extra; one line per parameter.
    pub fn lines(&self) -> Vec<Mrkdwn> {
        let mut lines = Vec::new();
        if !self.missing.is_empty() {
            lines.push(mrkdwn!("*Missing* (declared, not in Parameter Store):"));
            lines.extend(self.missing.iter().map(|p| {
                let tags = p.tags.as_ref().filter(|t| !t.is_empty());
                let tags = tags.map(|t| mrkdwn!(", tags `{}`", tags_line(t))).unwrap_or_default();
                mrkdwn!("• `{}` _{}_ {}{}", p.name.as_str(), p.kind.label(), shown(p), tags)
            }));
        }
        if !self.changed.is_empty() {
            lines.push(mrkdwn!("*Changed*:"));
            lines.extend(self.changed.iter().map(Changed::line));
        }
        if !self.retagged.is_empty() {
            lines.push(mrkdwn!("*Tags* (declared, not as on the parameter):"));
            lines.extend(self.retagged.iter().map(Retagged::line));
        }
        if !self.extra.is_empty() {
            lines
                .push(mrkdwn!("*Extra* (in Parameter Store under `{}`, not declared):", self.declared.prefix.as_str()));
            lines.extend(self.extra.iter().map(|l| mrkdwn!("• `{}` _{}_", l.name, l.kind.label())));
        }
        lines
    }

    /// A short hash of both sides of every difference: equal pins, equal diffs.
    pub fn pin(&self) -> String {
        let mut hash = Sha256::new();
        let side = |f: &Fingerprint| match f {
            Fingerprint::Plain(v) => format!("p:{v}"),
            Fingerprint::Hash(h) => format!("h:{h}"),
        };
        for p in &self.missing {
            hash.update(format!(
                "missing\0{}\0{}\0{}\0{:?}\0{:?}\n",
                p.name,
                p.kind.label(),
                side(&fingerprint(p)),
                p.description,
                p.tags
            ));
        }
        for r in &self.retagged {
            hash.update(format!("tags\0{}\0{:?}\0{:?}\0{:?}\n", r.name, r.missing, r.changed, r.extra));
        }
        for c in &self.changed {
            let (d, l) = (&c.declared, &c.live);
            hash.update(format!(
                "changed\0{}\0{}\0{}\0{:?}\0{}\0{}\0{:?}\0{}\n",
                d.name,
                d.kind.label(),
                side(&fingerprint(d)),
                d.description,
                l.kind.label(),
                side(&l.value),
                l.description,
                l.version
            ));
        }
        for l in &self.extra {
            hash.update(format!("extra\0{}\n", l.name));
        }
        hash.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect()
    }
}

impl Changed {
    /// `• `/shop/prod/db-host`: value `a` → `b`; type String → StringList`.
    pub fn line(&self) -> Mrkdwn {
        let (d, l) = (&self.declared, &self.live);
        let mut what = Vec::new();
        if self.value {
            what.push(match (&d.value, &l.value) {
                (DeclaredValue::Plain(new), Fingerprint::Plain(old)) => mrkdwn!(
                    "value {} → {}",
                    preview(&l.kind, &ParamValue::Plain(old.clone()), SHOWN),
                    preview(&d.kind, &ParamValue::Plain(new.clone()), SHOWN)
                ),
                _ => mrkdwn!("value differs (SecureString, compared by hash)"),
            });
        }
        if self.kind {
            what.push(mrkdwn!("type {} → {}", l.kind.label(), d.kind.label()));
        }
        if self.description {
            let old = l.description.as_deref().unwrap_or("(none)");
            let new = d.description.as_deref().unwrap_or_default();
            what.push(mrkdwn!("description \"{}\" → \"{}\"", truncate(old, SHOWN), truncate(new, SHOWN)));
        }
        mrkdwn!("• `{}`: {}", d.name.as_str(), Mrkdwn::join(what, "; "))
    }
}

/// A declared value as a diff shows it: plain ones previewed, secrets by source only.
fn shown(p: &DeclaredParam) -> Mrkdwn {
    match &p.value {
        DeclaredValue::Plain(v) => preview(&p.kind, &ParamValue::Plain(v.clone()), SHOWN),
        DeclaredValue::Secret { from, .. } => mrkdwn!("(from `{}`)", from),
    }
}

/// The environment `which` names: its name, or its prefix (with or without
/// the trailing `/`). Unknown: what is configured, or how to configure one.
fn environment(source: &dyn DeclaredParams, which: &str) -> GatewayResult<String> {
    let envs = source.environments();
    let bare = |p: &str| p.trim_end_matches('/').to_owned();
    let found = envs.iter().find(|(name, prefix)| name == which || bare(prefix.as_str()) == bare(which));
    if let Some((name, _)) = found {
        return Ok(name.clone());
    }
    let what = if envs.is_empty() {
        format!(
            "declared parameters for `{which}` (none are configured: add `params.environments` to opsbot's config, see the README)"
        )
    } else {
        let names: Vec<String> = envs.iter().map(|(n, p)| format!("`{n}` ({p})")).collect();
        format!("environment `{which}` among the declared ones: {}", names.join(", "))
    };
    Err(GatewayError::not_found(what))
}
