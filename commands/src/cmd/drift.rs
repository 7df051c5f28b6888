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

use sha2::{Digest, Sha256};

use crate::error::GatewayError;
use crate::error::GatewayResult;
use crate::mrkdwn;
use crate::mrkdwn::Mrkdwn;
use crate::ports::{
    Declared, DeclaredParam, DeclaredParams, DeclaredValue, Fingerprint, Gateways, LiveParam, ParamKind, ParamValue,
};
use crate::text::truncate;

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
    Ok(Drift::between(declared, live))
}

/// How a declared value compares.
fn fingerprint(param: &DeclaredParam) -> Fingerprint {
    match &param.value {
        DeclaredValue::Plain(v) => Fingerprint::of(&param.kind, v),
        DeclaredValue::Secret { value, .. } => Fingerprint::of(&ParamKind::SecureString, value.expose()),
    }
}

impl Drift {
    pub fn between(declared: Declared, live: Vec<LiveParam>) -> Drift {
        let mut missing = Vec::new();
        let mut changed = Vec::new();
        for param in &declared.params {
            let Some(now) = live.iter().find(|l| l.name == param.name.as_str()) else {
                missing.push(param.clone());
                continue;
            };
            let value = !fingerprint(param).same(&now.value);
            let kind = param.kind != now.kind;
            let description = param.description.as_ref().is_some_and(|d| Some(d) != now.description.as_ref());
            if value || kind || description {
                changed.push(Changed { declared: param.clone(), live: now.clone(), value, kind, description });
            }
        }
        let extra = live.into_iter().filter(|l| !declared.params.iter().any(|p| p.name.as_str() == l.name)).collect();
        Drift { declared, missing, extra, changed }
    }

    /// No drift at all.
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.extra.is_empty() && self.changed.is_empty()
    }

    /// `prod (/shop/prod/, from params/prod.yaml)`.
    pub fn title(&self) -> String {
        format!("{} ({}, from {})", self.declared.env, self.declared.prefix, self.declared.source)
    }

    /// The counts in one line: `1 missing, 2 changed, 1 extra`.
    pub fn summary(&self) -> String {
        let parts = [(self.missing.len(), "missing"), (self.changed.len(), "changed"), (self.extra.len(), "extra")];
        let parts: Vec<String> = parts.iter().filter(|(n, _)| *n > 0).map(|(n, what)| format!("{n} {what}")).collect();
        if parts.is_empty() { "no drift".into() } else { parts.join(", ") }
    }

    /// The diff, grouped: missing, changed, extra; one line per parameter.
    pub fn lines(&self) -> Vec<Mrkdwn> {
        let mut lines = Vec::new();
        if !self.missing.is_empty() {
            lines.push(mrkdwn!("*Missing* (declared, not in Parameter Store):"));
            lines.extend(
                self.missing.iter().map(|p| mrkdwn!("• `{}` _{}_ {}", p.name.as_str(), p.kind.label(), shown(p))),
            );
        }
        if !self.changed.is_empty() {
            lines.push(mrkdwn!("*Changed*:"));
            lines.extend(self.changed.iter().map(Changed::line));
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
                "missing\0{}\0{}\0{}\0{:?}\n",
                p.name,
                p.kind.label(),
                side(&fingerprint(p)),
                p.description
            ));
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
