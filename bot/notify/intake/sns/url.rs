//! Which URLs taken from an SNS message the bot may fetch: the signing
//! certificate at `SigningCertURL` and the `SubscribeURL` it GETs to confirm
//! a subscription.
//!
//! # Decisions
//! - The URL is parsed, not matched by prefix: scheme `https`, no userinfo,
//!   no port but 443, and the host exactly `sns.<region>.<suffix>`, where the
//!   region has the shape of its partition and the suffix is that
//!   partition's DNS suffix. The partitions and their region shapes are the
//!   `regionRegex` / `dnsSuffix` of the AWS SDKs' partitions.json
//!   (smithy-lang/smithy-rs `aws/sdk/.../partitions.json`, also shipped in
//!   `aws-sdk-*/src/endpoint_lib/partition.rs`):
//!   `aws` `^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$` on `amazonaws.com`,
//!   `aws-us-gov` `^us-gov-\w+-\d+$` on `amazonaws.com`,
//!   `aws-cn` `^cn-\w+-\d+$` on `amazonaws.com.cn`.
//!   So `sns.s3.amazonaws.com`, `sns.evil-1.amazonaws.com` or
//!   `sns.cn-north-1.amazonaws.com` are refused. The ISO partitions
//!   (`us-iso-*` on c2s.ic.gov, ...) are not admitted by default; an operator
//!   there sets `cert_url_allow`.
//! - The host must be written as SNS writes it (lower case, no trailing dot):
//!   SNS never sends anything else, and one spelling is one less lookalike.
//! - `notifications.sns.cert_url_allow` replaces the host rule with a regex
//!   (for emulators and air-gapped partitions); the parsed checks that do
//!   not depend on the host (no userinfo; a certificate is a `.pem` path
//!   without a query) still apply.

use axum::http::Uri;
use regex::Regex;

/// A partition's region prefixes and DNS suffix.
struct Partition {
    prefixes: &'static [&'static str],
    suffix: &'static str,
}

/// Where SNS serves certificates and subscriptions by default (see the module docs).
const PARTITIONS: &[Partition] = &[
    Partition { prefixes: &["us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx"], suffix: "amazonaws.com" },
    Partition { prefixes: &["us-gov"], suffix: "amazonaws.com" },
    Partition { prefixes: &["cn"], suffix: "amazonaws.com.cn" },
];

/// What the default rule is, in words (for refusals).
pub const SNS_HOSTS: &str = "https://sns.<region>.amazonaws.com (or .amazonaws.com.cn in China), port 443";

/// Which URLs from a message the bot may fetch.
#[derive(Debug, Clone)]
pub enum UrlAllow {
    /// The default: HTTPS to an SNS host of a real region (see the module docs).
    SnsHosts,
    /// `notifications.sns.cert_url_allow`: URLs matching this regex.
    Pattern(Regex),
}

impl UrlAllow {
    /// The rule, as the refusal tells it.
    pub fn describe(&self) -> &str {
        match self {
            UrlAllow::SnsHosts => SNS_HOSTS,
            UrlAllow::Pattern(pattern) => pattern.as_str(),
        }
    }

    /// A URL the bot may GET (a `SubscribeURL`).
    pub fn permits(&self, url: &str) -> bool {
        let Ok(uri) = url.parse::<Uri>() else { return false };
        let no_userinfo = uri.authority().is_some_and(|a| !a.as_str().contains('@'));
        no_userinfo
            && match self {
                UrlAllow::SnsHosts => is_sns_https(&uri),
                UrlAllow::Pattern(pattern) => pattern.is_match(url),
            }
    }

    /// A URL the bot may fetch a signing certificate from: allowed, a `.pem`
    /// path, no query.
    pub fn permits_cert(&self, url: &str) -> bool {
        self.permits(url) && url.parse::<Uri>().is_ok_and(|uri| uri.query().is_none() && uri.path().ends_with(".pem"))
    }
}

/// `https://sns.<region>.<suffix>[:443]/…` for a partition of [`PARTITIONS`].
fn is_sns_https(uri: &Uri) -> bool {
    let (Some(scheme), Some(host)) = (uri.scheme_str(), uri.host()) else { return false };
    if scheme != "https" || !matches!(uri.port_u16(), None | Some(443)) {
        return false;
    }
    let Some(rest) = host.strip_prefix("sns.") else { return false };
    PARTITIONS.iter().any(|p| {
        let region = rest.strip_suffix(p.suffix).and_then(|r| r.strip_suffix('.'));
        region.is_some_and(|region| p.prefixes.iter().any(|prefix| is_region_of(region, prefix)))
    })
}

/// `<prefix>-<direction>-<n>`: a lower-case word and a number after the
/// partition's prefix (`eu-central-2`, `ap-southeast-5`, `us-gov-west-1`).
fn is_region_of(region: &str, prefix: &str) -> bool {
    let Some(rest) = region.strip_prefix(prefix).and_then(|r| r.strip_prefix('-')) else { return false };
    let Some((direction, number)) = rest.split_once('-') else { return false };
    !direction.is_empty()
        && direction.bytes().all(|b| b.is_ascii_lowercase())
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEM: &str = "/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem";

    #[test]
    fn the_default_admits_sns_hosts_of_every_region_shape_and_partition() {
        for host in [
            "sns.us-east-1.amazonaws.com",
            "sns.eu-central-2.amazonaws.com",
            "sns.ap-southeast-5.amazonaws.com",
            "sns.il-central-1.amazonaws.com",
            "sns.mx-central-1.amazonaws.com",
            "sns.us-gov-west-1.amazonaws.com",
            "sns.cn-north-1.amazonaws.com.cn",
            "sns.cn-northwest-1.amazonaws.com.cn",
            "sns.us-east-1.amazonaws.com:443",
        ] {
            assert!(UrlAllow::SnsHosts.permits_cert(&format!("https://{host}{PEM}")), "{host}");
        }
    }

    #[test]
    fn the_default_refuses_other_hosts_that_look_like_sns() {
        for host in [
            "sns.s3.amazonaws.com",
            "sns.evil-1.amazonaws.com",
            "sns.us-east.amazonaws.com",
            "sns.us-east-x.amazonaws.com",
            "sns.us-1.amazonaws.com",
            "sns.xx-east-1.amazonaws.com",
            "sns.us-isob-east-1.amazonaws.com",
            "sns.cn-north-1.amazonaws.com",
            "sns.us-east-1.amazonaws.com.cn",
            "sns.us-east-1.amazonaws.com.evil.com",
            "sns.us-east-1.amazonaws.com.",
            "evil.sns.us-east-1.amazonaws.com",
            "SNS.US-EAST-1.AMAZONAWS.COM",
            "sns.us-east-1.amazonaws.com@evil.com",
            "user@sns.us-east-1.amazonaws.com",
            "sns.us-east-1.amazonaws.com:8443",
            "sqs.us-east-1.amazonaws.com",
        ] {
            assert!(!UrlAllow::SnsHosts.permits_cert(&format!("https://{host}{PEM}")), "{host}");
        }
    }

    #[test]
    fn the_default_refuses_plain_http_queries_and_paths_that_are_not_pem() {
        for url in [
            "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem",
            "https://evil.example/sns.us-east-1.amazonaws.com/x.pem",
            "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.txt",
            "https://sns.us-east-1.amazonaws.com/x.pem?redirect=https://evil.example/x.pem",
            "sns.us-east-1.amazonaws.com/x.pem",
            "not a url",
        ] {
            assert!(!UrlAllow::SnsHosts.permits_cert(url), "{url}");
        }
    }

    #[test]
    fn a_subscribe_url_needs_the_host_rule_but_not_a_pem_path() {
        let allow = UrlAllow::SnsHosts;
        assert!(allow.permits("https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=t"));
        assert!(!allow.permits("https://attacker.example/?Action=ConfirmSubscription&Token=t"));
        assert!(!allow.permits("https://sns.s3.amazonaws.com/?Action=ConfirmSubscription&Token=t"));
    }

    #[test]
    fn a_configured_pattern_replaces_the_host_rule_but_keeps_the_parsed_checks() {
        let allow = UrlAllow::Pattern(Regex::new(r"^http://127\.0\.0\.1:\d+/").unwrap());
        assert!(allow.permits_cert("http://127.0.0.1:4566/SimpleNotificationService-test.pem"));
        assert!(!allow.permits_cert("https://sns.us-east-1.amazonaws.com/x.pem"), "only the pattern applies");
        assert!(!allow.permits_cert("http://127.0.0.1:4566/x.pem?y=1"));
        assert!(!allow.permits_cert("http://127.0.0.1:4566/x.txt"));
        let userinfo = UrlAllow::Pattern(Regex::new(r"^http://127\.0\.0\.1").unwrap());
        assert!(!userinfo.permits_cert("http://127.0.0.1@evil.example/x.pem"));
    }
}
