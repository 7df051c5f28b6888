//! ARNs for the resources a config names, with the partition, region and
//! account left as placeholders where the config does not say them: plain
//! JSON shows `aws` and `*`, CloudFormation fills them in (`Fn::Sub`).
//!
//! A region or account written as `${AWS::Region}` / `${AWS::AccountId}` (as
//! in a config that a CloudFormation template substitutes, deploy/config.yaml)
//! is a placeholder too.

/// One ARN: `arn:<partition>:<service>:<region>:<account>:<resource>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Arn {
    /// `None`: the partition the policy is used in.
    pub partition: Option<String>,
    pub service: String,
    /// `None`: any region (JSON) or the stack's (CloudFormation).
    pub region: Option<String>,
    /// `None`: any account (JSON) or the stack's (CloudFormation).
    pub account: Option<String>,
    pub resource: String,
}

impl Arn {
    /// An ARN in the policy's own partition, region and account.
    pub fn new(service: &str, resource: String) -> Arn {
        Arn { partition: None, service: service.into(), region: None, account: None, resource }
    }

    /// An ARN as written in the config (already checked by the settings).
    pub fn literal(text: &str) -> Arn {
        let mut parts = text.splitn(6, ':').skip(1).map(str::to_owned);
        let mut next = || parts.next().unwrap_or_default();
        let (partition, service, region, account, resource) = (next(), next(), next(), next(), next());
        Arn { partition: Some(partition), service, region: known(region), account: known(account), resource }
    }

    /// The ARN with `partition`, `region` and `account` for the placeholders.
    pub fn render(&self, partition: &str, region: &str, account: &str) -> String {
        format!(
            "arn:{}:{}:{}:{}:{}",
            self.partition.as_deref().unwrap_or(partition),
            self.service,
            self.region.as_deref().unwrap_or(region),
            self.account.as_deref().unwrap_or(account),
            self.resource
        )
    }
}

/// The ARN of S3 object `key` in `bucket` (S3 ARNs name no region or account).
pub fn s3_object(bucket: &str, key: &str) -> Arn {
    let none = Some(String::new());
    Arn {
        partition: None,
        service: "s3".into(),
        region: none.clone(),
        account: none,
        resource: format!("{bucket}/{key}"),
    }
}

/// A region or account as written (empty for IAM's global ARNs), or `None`
/// for a placeholder.
fn known(segment: String) -> Option<String> {
    (!segment.starts_with("${")).then_some(segment)
}

/// The ARN of the queue at `url` (`https://sqs.<region>.amazonaws.com/<account>/<name>`,
/// the legacy `<region>.queue.amazonaws.com`, or an emulator's host, whose
/// region is then left open).
pub fn queue_arn(url: &str) -> Option<Arn> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let mut parts = rest.split('/');
    let host = parts.next().unwrap_or_default();
    let (account, name) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let region = host
        .strip_prefix("sqs.")
        .and_then(|h| h.split_once(".amazonaws.com").map(|(r, _)| r))
        .or_else(|| host.split_once(".queue.amazonaws.com").map(|(r, _)| r))
        .map(str::to_owned);
    if account.is_empty() || name.is_empty() {
        // Not a queue URL SQS would answer: no ARN to narrow to.
        return None;
    }
    Some(Arn {
        partition: None,
        service: "sqs".into(),
        region: region.and_then(known),
        account: known(account.into()),
        resource: name.into(),
    })
}

/// The text every string matching `pattern` starts with, if the pattern is
/// anchored with `^` and has no top-level alternative: `^/shop/staging/` →
/// `/shop/staging/`, `^prod/(web|api)$` → `prod/`, `^/a/b?` → `/a/`.
/// `None` for anything else (`prod`, `^a|^b`, `(?i)^x`): the caller then
/// cannot narrow.
pub fn literal_prefix(pattern: &str) -> Option<String> {
    let body = pattern.strip_prefix('^')?;
    if has_top_level_alternation(body) {
        return None;
    }
    let mut prefix = String::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        let literal = match c {
            '\\' => match chars.next() {
                Some(escaped) if !escaped.is_ascii_alphanumeric() => escaped,
                _ => break,
            },
            '.' | '[' | '(' | ')' | '$' | '^' | '|' => break,
            '*' | '?' | '{' | '+' => break,
            c => c,
        };
        // A character that may be absent (`?`, `*`, `{0,…}`) is no part of the prefix.
        if matches!(chars.peek(), Some('*' | '?' | '{')) {
            break;
        }
        prefix.push(literal);
    }
    Some(prefix)
}

/// Whether `body` has a `|` outside groups and classes.
fn has_top_level_alternation(body: &str) -> bool {
    let (mut depth, mut in_class, mut escaped) = (0usize, false, false);
    for c in body.chars() {
        match (escaped, in_class, c) {
            (true, _, _) => escaped = false,
            (false, _, '\\') => escaped = true,
            (false, true, ']') => in_class = false,
            (false, true, _) => {}
            (false, false, '[') => in_class = true,
            (false, false, '(') => depth += 1,
            (false, false, ')') => depth = depth.saturating_sub(1),
            (false, false, '|') if depth == 0 => return true,
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_anchored_pattern_gives_the_text_every_match_starts_with() {
        assert_eq!(literal_prefix("^/shop/staging/").as_deref(), Some("/shop/staging/"));
        assert_eq!(literal_prefix("^prod/(web|api)$").as_deref(), Some("prod/"));
        assert_eq!(literal_prefix("^/a/b?").as_deref(), Some("/a/"), "b may be absent");
        assert_eq!(literal_prefix("^/a/b+").as_deref(), Some("/a/b"), "at least one b");
        assert_eq!(literal_prefix(r"^shop\.prod-").as_deref(), Some("shop.prod-"));
        assert_eq!(literal_prefix(r"^staging\d").as_deref(), Some("staging"));
        assert_eq!(literal_prefix("^.*").as_deref(), Some(""), "anchored but open: all of the kind");
    }

    #[test]
    fn an_unanchored_or_alternative_pattern_cannot_be_narrowed() {
        assert_eq!(literal_prefix("prod/"), None);
        assert_eq!(literal_prefix("^a/|^b/"), None);
        assert_eq!(literal_prefix("^a/|b/"), None);
        assert_eq!(literal_prefix("(?i)^prod/"), None);
        assert_eq!(literal_prefix("^[|]x").as_deref(), Some(""), "a `|` in a class is no alternative");
    }

    #[test]
    fn a_queue_url_becomes_its_arn_with_region_and_account() {
        let arn = |url| queue_arn(url).map_or("*".to_owned(), |arn| arn.render("aws", "*", "*"));
        assert_eq!(
            arn("https://sqs.eu-west-1.amazonaws.com/111122223333/opsbot"),
            "arn:aws:sqs:eu-west-1:111122223333:opsbot"
        );
        assert_eq!(arn("https://us-east-2.queue.amazonaws.com/111122223333/q"), "arn:aws:sqs:us-east-2:111122223333:q");
        assert_eq!(arn("http://127.0.0.1:5055/000000000000/events"), "arn:aws:sqs:*:000000000000:events");
        assert_eq!(
            arn("https://sqs.${AWS::Region}.amazonaws.com/${AWS::AccountId}/opsbot-events"),
            "arn:aws:sqs:*:*:opsbot-events",
            "CloudFormation placeholders stay placeholders"
        );
    }

    #[test]
    fn a_role_arn_keeps_its_partition_and_account() {
        let arn = Arn::literal("arn:aws-us-gov:iam::123456789012:role/ops/changes");
        assert_eq!(arn.render("aws", "*", "*"), "arn:aws-us-gov:iam::123456789012:role/ops/changes");
    }
}
