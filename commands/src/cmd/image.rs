//! Container images as ECS task definitions name them —
//! `[REGISTRY[:PORT]/]REPOSITORY[:TAG][@DIGEST]` — and the image tags `deploy`
//! takes. Only what the ECS change commands need: split off the tag, swap it,
//! show an image short.
//!
//! A digest pins an image more tightly than any tag, so swapping the tag of a
//! digest-pinned image drops the digest: the new tag is what was asked for.

use crate::error::UsageError;

/// The longest tag a registry accepts.
const TAG_MAX: usize = 128;

/// `REGISTRY/REPOSITORY` without tag or digest.
pub fn repository(image: &str) -> &str {
    let name = image.split('@').next().unwrap_or(image);
    // A `:` before the last `/` belongs to a registry port, not a tag.
    let start = name.rfind('/').map_or(0, |slash| slash + 1);
    match name[start..].rfind(':') {
        Some(colon) => &name[..start + colon],
        None => name,
    }
}

/// The tag, if the image names one.
pub fn tag(image: &str) -> Option<&str> {
    let name = image.split('@').next().unwrap_or(image);
    let rest = name.strip_prefix(repository(image))?;
    rest.strip_prefix(':')
}

/// `image` with its tag set to `tag` (and any digest dropped).
pub fn with_tag(image: &str, tag: &str) -> String {
    format!("{}:{tag}", repository(image))
}

/// The image without its registry and path: `api:1.42.0`.
pub fn short(image: &str) -> &str {
    let name = image.split('@').next().unwrap_or(image);
    let start = name.rfind('/').map_or(0, |slash| slash + 1);
    &image[start..]
}

/// The last path segment of the repository: `api` for `…/shop/api:1.2`.
pub fn name(image: &str) -> &str {
    let repository = repository(image);
    repository.rsplit('/').next().unwrap_or(repository)
}

/// What `deploy` was given instead of a revision: `TAG`, or `NAME:TAG` where
/// NAME is the image's repository name (checked against the service later).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagArg {
    pub name: Option<String>,
    pub tag: String,
}

impl TagArg {
    pub fn parse(raw: &str) -> Result<Self, UsageError> {
        let hint = "an image tag like `1.42.0`, or NAME:TAG like `api:1.42.0`";
        let (name, tag) = match raw.rsplit_once(':') {
            Some((name, tag)) => (Some(name), tag),
            None => (None, raw),
        };
        let name_ok =
            name.is_none_or(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)));
        if !name_ok || !valid_tag(tag) {
            return Err(UsageError::invalid("image tag", raw, hint));
        }
        Ok(TagArg { name: name.map(str::to_owned), tag: tag.to_owned() })
    }
}

impl std::fmt::Display for TagArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{name}:{}", self.tag),
            None => f.write_str(&self.tag),
        }
    }
}

/// Docker's tag grammar: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn valid_tag(tag: &str) -> bool {
    let mut chars = tag.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    first_ok && tag.len() <= TAG_MAX && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_is_told_apart_from_a_registry_port_and_a_digest() {
        let ecr = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/api:1.41.3";
        assert_eq!(repository(ecr), "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/api");
        assert_eq!((tag(ecr), short(ecr), name(ecr)), (Some("1.41.3"), "api:1.41.3", "api"));
        assert_eq!(repository("localhost:5000/api"), "localhost:5000/api");
        assert_eq!(tag("localhost:5000/api"), None);
        assert_eq!(repository("nginx@sha256:abc"), "nginx");
        assert_eq!(with_tag("r.io/app:1@sha256:abc", "2"), "r.io/app:2");
        assert_eq!(with_tag("nginx", "1.27"), "nginx:1.27");
    }

    #[test]
    fn deploy_takes_a_tag_or_name_and_tag() {
        assert_eq!(TagArg::parse("1.42.0").unwrap(), TagArg { name: None, tag: "1.42.0".into() });
        let named = TagArg::parse("api:1.42.0").unwrap();
        assert_eq!((named.name.as_deref(), named.tag.as_str()), (Some("api"), "1.42.0"));
        assert_eq!(named.to_string(), "api:1.42.0");
        for bad in ["", ".hidden", "a b", "r.io/api:1", "api:", ":1", &"x".repeat(129)] {
            assert!(TagArg::parse(bad).unwrap_err().to_string().contains("image tag"), "{bad}");
        }
    }
}
