//! Routing: which channel a notification goes to, and whom it mentions.
//! The first route whose every test holds wins; otherwise the default
//! channel. A test a route does not make (no `kind:`, say) holds for all; a
//! test on something the notification does not say (an account moto left
//! out, tags that could not be read) does not hold.

use opsbot_commands::Mrkdwn;
use opsbot_commands::values::ChannelId;
use opsbot_policies::Policy;

use crate::notify::event::Kind;
use crate::notify::tags::Tags;
use crate::settings::{NotificationSettings, Route};

/// Where one notification goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub channel: ChannelId,
    /// Slack mention markup for the route's role (empty for none).
    pub mention: Mrkdwn,
    /// `file:line` of the route that matched; `None` for the default channel.
    pub route: Option<String>,
}

/// What routes look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct About<'a> {
    pub kind: Kind,
    pub name: &'a str,
    pub account: Option<&'a str>,
    pub region: Option<&'a str>,
    /// The resource's tags; `None` when not read (no route needs them) or unreadable.
    pub tags: Option<&'a Tags>,
}

/// The target for `about`; `None` only when nothing matches and no default
/// channel is set (settings refuse that whenever notifications can arrive).
pub fn target(settings: &NotificationSettings, policy: &Policy, about: About<'_>) -> Option<Target> {
    match settings.routes.iter().find(|r| matches(r, about)) {
        Some(route) => Some(Target {
            channel: route.channel.clone(),
            mention: route.mention.as_deref().map(|role| opsbot_commands::mention(policy, role)).unwrap_or_default(),
            route: Some(route.at.clone()),
        }),
        None => settings.default_channel.clone().map(|channel| Target { channel, mention: Mrkdwn::new(), route: None }),
    }
}

fn matches(route: &Route, about: About<'_>) -> bool {
    let same = |want: &Option<String>, got: Option<&str>| want.as_deref().is_none_or(|w| Some(w) == got);
    route.kind.is_none_or(|k| k == about.kind)
        && route.name.as_ref().is_none_or(|re| re.is_match(about.name))
        && same(&route.account, about.account)
        && same(&route.region, about.region)
        && (route.tags.is_empty()
            || about.tags.is_some_and(|tags| route.tags.iter().all(|(k, v)| tags.get(k) == Some(v))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Settings;

    fn settings() -> (NotificationSettings, Policy) {
        let yaml = "policies:
  roles:
    oncall: { groups: [S0ONCALL] }
  rules: []
notifications:
  default_channel: C0OPS
  routes:
    - { match: { kind: alarm, name: \"^shop-\" }, channel: C0SHOPALERTS, mention: oncall }
    - { match: { kind: pipeline, name: \"^storefront-\" }, channel: C0DEPLOYS }
    - { match: { kind: pipeline, account: \"111122223333\", region: eu-west-1 }, channel: C0EU }
    - { match: { tags: { team: payments, tier: \"1\" } }, channel: C0PAYMENTS }
";
        let s = Settings::from_test_yaml(yaml).unwrap();
        (s.notifications.clone(), (*s.policy()).clone())
    }

    fn channel(about: About<'_>) -> String {
        let (settings, policy) = settings();
        target(&settings, &policy, about).unwrap().channel.as_str().to_owned()
    }

    fn about<'a>(kind: &str, name: &'a str) -> About<'a> {
        let kind = Kind::parse(kind).unwrap();
        About { kind, name, account: Some("111122223333"), region: Some("eu-west-1"), tags: None }
    }

    #[test]
    fn the_first_matching_route_wins_then_the_default() {
        assert_eq!(channel(about("alarm", "shop-5xx")), "C0SHOPALERTS");
        assert_eq!(channel(about("pipeline", "storefront-web")), "C0DEPLOYS", "before the account route");
        assert_eq!(channel(about("pipeline", "payments")), "C0EU");
        assert_eq!(channel(about("alarm", "payments-latency")), "C0OPS");
        assert_eq!(channel(about("other", "aws.health")), "C0OPS");
    }

    #[test]
    fn a_route_on_the_account_does_not_match_what_does_not_say_its_account() {
        let unknown =
            About { kind: Kind::Pipeline, name: "payments", account: None, region: Some("eu-west-1"), tags: None };
        assert_eq!(channel(unknown), "C0OPS");
    }

    #[test]
    fn a_route_on_tags_matches_a_resource_carrying_every_one_and_nothing_else() {
        let tags = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Tags>();
        let tagged = tags(&[("team", "payments"), ("tier", "1"), ("env", "prod")]);
        let on =
            |tags: Option<&Tags>| channel(About { kind: Kind::Ecs, name: "api", account: None, region: None, tags });
        assert_eq!(on(Some(&tagged)), "C0PAYMENTS");
        assert_eq!(on(Some(&tags(&[("team", "payments")]))), "C0OPS", "every tag must match");
        assert_eq!(on(Some(&tags(&[("team", "search"), ("tier", "1")]))), "C0OPS");
        assert_eq!(on(None), "C0OPS", "tags not read: the other routes decide");
    }

    #[test]
    fn a_route_mentions_its_role_as_slack_markup() {
        let (settings, policy) = settings();
        let target = target(&settings, &policy, about("alarm", "shop-5xx")).unwrap();
        assert_eq!(target.mention, "<!subteam^S0ONCALL>");
        assert!(target.route.unwrap().ends_with("opsbot.yaml:8"));
    }
}
