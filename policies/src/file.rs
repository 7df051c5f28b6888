//! The policy file as written: serde types mirroring the YAML contract, with
//! `Spanned` positions kept so later checks can point at `file:line:column`.
//!
//! Only shape is checked here (unknown keys are rejected by
//! `deny_unknown_fields`); meaning — roles, commands, regexes, times — is
//! checked by `compile`. The key names are a user-facing contract: `roles`
//! (`users`, `groups`, `everyone`), `rules` (`allow`/`deny`, `to`, `where`,
//! `channels`, `approval: { by, ttl }`, `reason`), `freeze` (`name`, `from`,
//! `to`, `weekly`, `commands`, `reason`) and `file`.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// The main config file: only `policies` matters here; every other key
/// (slack, server, store, ...) belongs to someone else and is ignored.
#[derive(Debug, Deserialize)]
pub(crate) struct ConfigFile {
    #[serde(default)]
    pub policies: Option<Spanned<RawPolicies>>,
}

/// `policies:` — either inline `roles`/`rules`/`freeze`, or `file:` naming a
/// separate file whose top level is that same mapping.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPolicies {
    pub file: Option<Spanned<String>>,
    pub roles: Option<Entries<RawRole>>,
    pub rules: Option<Vec<Spanned<RawRule>>>,
    pub freeze: Option<Vec<Spanned<RawFreeze>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRole {
    pub users: Option<Vec<Spanned<String>>>,
    pub groups: Option<Vec<Spanned<String>>>,
    pub everyone: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    pub allow: Option<Names>,
    pub deny: Option<Names>,
    pub to: Option<Names>,
    #[serde(rename = "where")]
    pub where_: Option<Entries<Spanned<String>>>,
    pub channels: Option<Vec<Spanned<String>>>,
    pub approval: Option<Spanned<RawApproval>>,
    /// `force: true`: this allow also lets `--force` requests through,
    /// freezes and the change's safety checks notwithstanding.
    pub force: Option<Spanned<bool>>,
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawApproval {
    pub by: Option<Spanned<String>>,
    pub ttl: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFreeze {
    pub name: Option<String>,
    pub from: Option<Spanned<String>>,
    pub to: Option<Spanned<String>>,
    pub weekly: Option<Vec<Spanned<String>>>,
    pub commands: Option<Names>,
    pub reason: Option<String>,
}

/// A name or a list of names (`to: devs` or `to: [devs, oncall]`), each with
/// its position.
#[derive(Debug)]
pub(crate) struct Names(pub Vec<Spanned<String>>);

impl<'de> Deserialize<'de> for Names {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let outer = Spanned::<OneOrMany>::deserialize(deserializer)?;
        Ok(Names(match outer.value {
            OneOrMany::One(name) => vec![Spanned::new(name, outer.referenced, outer.defined)],
            OneOrMany::Many(names) => names,
        }))
    }
}

enum OneOrMany {
    One(String),
    Many(Vec<Spanned<String>>),
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OneOrManyVisitor;
        impl<'de> Visitor<'de> for OneOrManyVisitor {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a name or a list of names")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(v.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let mut names = Vec::new();
                while let Some(name) = seq.next_element()? {
                    names.push(name);
                }
                Ok(OneOrMany::Many(names))
            }
        }
        deserializer.deserialize_any(OneOrManyVisitor)
    }
}

/// A mapping kept in file order with each key's position (`roles`, `where`).
#[derive(Debug)]
pub(crate) struct Entries<V>(pub Vec<(Spanned<String>, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Entries<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for EntriesVisitor<V> {
            type Value = Entries<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries<V>, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(EntriesVisitor(PhantomData))
    }
}
