//! [`Mrkdwn`]: Slack markup that is safe by construction.
//!
//! Slack reads `<…>` in message text as a control sequence: `<!here>` and
//! `<!channel>` ping, `<@U1>` mentions, `<https://evil|review>` shows a link
//! whose label lies about its target. So text from a user or from AWS (command
//! arguments, commit messages, alarm reasons, stage and parameter names) must
//! reach Slack with `&`, `<` and `>` escaped, and our own markup must not be.
//!
//! A [`Mrkdwn`] can only be made in ways that keep that apart:
//! - [`mrkdwn!`](crate::mrkdwn!) formats a literal template we wrote; every
//!   argument goes through [`ToMrkdwn`], which escapes anything shown with
//!   `Display` (strings, typed values, numbers) and takes a [`Mrkdwn`] as is.
//!   Inline captures (`{name}`) are refused at compile time, since they would
//!   bypass the escaping.
//! - [`Mrkdwn::text`] escapes raw text; [`Mrkdwn::link`], [`Mrkdwn::user`],
//!   [`Mrkdwn::subteam`] and [`Mrkdwn::here`] make the few control sequences
//!   opsbot means to send.
//!
//! There is no `From<String>` and no `Display`: escaping happens once, in
//! [`esc`], and text that is already markup cannot be escaped twice by accident.

use std::fmt;

/// A piece of Slack mrkdwn in which every `<…>` and entity was put there by
/// opsbot, never by the text it shows. It (de)serialises as its markup so
/// opsbot's own store can keep a message's parts (e.g. an alert's mention);
/// nothing from outside is ever read as one.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Mrkdwn(String);

impl Mrkdwn {
    /// Empty markup.
    pub fn new() -> Self {
        Mrkdwn(String::new())
    }

    /// Raw text shown as it is: `&`, `<` and `>` escaped.
    pub fn text(raw: &str) -> Self {
        Mrkdwn(esc(raw))
    }

    /// `<url|label>` for an http(s) URL; `None` for anything else, so the caller
    /// decides what to show instead. The URL cannot end the link early (`|`, `>`)
    /// and the label is escaped.
    pub fn link(url: Option<&str>, label: impl ToMrkdwn) -> Option<Self> {
        let url = url.filter(|u| u.starts_with("https://") || u.starts_with("http://"))?;
        Some(Mrkdwn(format!("<{}|{}>", esc(url).replace('|', "%7C"), label.to_mrkdwn().0)))
    }

    /// `<@U…>`: a mention of one person, for ids shaped like a Slack user id
    /// (`U`/`W` then capitals and digits); anything else is shown as text.
    pub fn user(id: &str) -> Self {
        if id.len() >= 2 && id.starts_with(['U', 'W']) && slack_id(id) {
            Mrkdwn(format!("<@{id}>"))
        } else {
            Mrkdwn::text(id)
        }
    }

    /// `<!subteam^S…>`: a mention of a user group; a malformed id is shown as text.
    pub fn subteam(id: &str) -> Self {
        if slack_id(id) { Mrkdwn(format!("<!subteam^{id}>")) } else { Mrkdwn::text(id) }
    }

    /// `<!here>`: pings everyone active in the channel. Only for a role that
    /// is everyone (see `change::messages::mention`).
    pub fn here() -> Self {
        Mrkdwn("<!here>".into())
    }

    /// Appends `more` (escaped unless it is already [`Mrkdwn`]).
    pub fn push(&mut self, more: impl ToMrkdwn) {
        self.0.push_str(&more.to_mrkdwn().0);
    }

    /// The parts joined by `sep`, a separator we wrote.
    pub fn join(parts: impl IntoIterator<Item = Mrkdwn>, sep: &'static str) -> Self {
        Mrkdwn(parts.into_iter().map(|p| p.0).collect::<Vec<_>>().join(sep))
    }

    /// The text as a reader sees it, entities undone: for a plain fallback
    /// (which the Slack renderer escapes again).
    pub fn plain(&self) -> String {
        unesc(&self.0)
    }

    /// The markup, for a renderer to hand to Slack or turn into terminal text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Length in bytes, as [`str::len`].
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Plumbing of [`mrkdwn!`](crate::mrkdwn!): its template is checked and its
    /// arguments are wrapped in [`Escaped`] before they get here.
    #[doc(hidden)]
    pub fn __from_template(args: fmt::Arguments<'_>) -> Self {
        Mrkdwn(fmt::format(args))
    }
}

/// Compares the markup, as a test or renderer reads it.
impl PartialEq<str> for Mrkdwn {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Mrkdwn {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

// TRANSITIONAL: lets call sites be converted a few files per commit; removed
// once every one builds its text with `mrkdwn!`.
impl From<String> for Mrkdwn {
    fn from(trusted: String) -> Self {
        Mrkdwn(trusted)
    }
}
impl From<&str> for Mrkdwn {
    fn from(trusted: &str) -> Self {
        Mrkdwn(trusted.to_owned())
    }
}

/// Escapes text for mrkdwn: `&`, `<` and `>` per Slack's rules. The one place
/// this is done; the Slack renderer also uses it for the plain fallback `text`.
pub fn esc(raw: &str) -> String {
    raw.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Undoes [`esc`] (and Slack's own escaping of message text).
pub fn unesc(text: &str) -> String {
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

fn slack_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 32 && id.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// A value that can be shown in mrkdwn. Everything `Display` is escaped;
/// [`Mrkdwn`] is taken as it is.
pub trait ToMrkdwn {
    fn to_mrkdwn(&self) -> Mrkdwn;
}

impl<T: fmt::Display + ?Sized> ToMrkdwn for T {
    fn to_mrkdwn(&self) -> Mrkdwn {
        Mrkdwn::text(&self.to_string())
    }
}

impl ToMrkdwn for Mrkdwn {
    fn to_mrkdwn(&self) -> Mrkdwn {
        self.clone()
    }
}

impl ToMrkdwn for &Mrkdwn {
    fn to_mrkdwn(&self) -> Mrkdwn {
        (*self).clone()
    }
}

/// An argument of [`mrkdwn!`](crate::mrkdwn!), shown escaped (honouring width
/// and alignment, so `{:<12}` still pads).
#[doc(hidden)]
pub struct Escaped<'a, T: ToMrkdwn + ?Sized>(pub &'a T);

impl<T: ToMrkdwn + ?Sized> fmt::Display for Escaped<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.0.to_mrkdwn().as_str())
    }
}

/// Refuses a [`mrkdwn!`](crate::mrkdwn!) template with a named or numbered
/// placeholder (`{name}`, `{0}`): only `{}` and `{:spec}` take an argument
/// that is escaped. Runs at compile time.
#[doc(hidden)]
pub const fn check_template(template: &str) {
    let bytes = template.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'{' {
            if i + 1 < bytes.len() && bytes[i + 1] == b'{' {
                i += 2;
                continue;
            }
            if i + 1 >= bytes.len() || (bytes[i + 1] != b'}' && bytes[i + 1] != b':') {
                panic!("mrkdwn! takes `{{}}` placeholders only: pass values as arguments so they are escaped");
            }
        }
        i += 1;
    }
}

/// Formats Slack mrkdwn from a literal template: the template's own markup
/// stays, every argument is escaped unless it is already [`Mrkdwn`].
///
/// ```
/// use opsbot_commands::{mrkdwn, mrkdwn::Mrkdwn};
/// let name = "<!channel>";
/// assert_eq!(mrkdwn!("*{}* is {}", name, 3).as_str(), "*&lt;!channel&gt;* is 3");
/// ```
#[macro_export]
macro_rules! mrkdwn {
    ($template:literal $(, $arg:expr)* $(,)?) => {{
        const _: () = $crate::mrkdwn::check_template($template);
        $crate::mrkdwn::Mrkdwn::__from_template(format_args!($template $(, $crate::mrkdwn::Escaped(&$arg))*))
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: [&str; 4] = ["<!here>", "<!channel>", "<@U123>", "<https://evil|review>"];

    #[test]
    fn text_from_outside_cannot_ping_mention_or_link() {
        for raw in HOSTILE {
            let shown = mrkdwn!("*{}* said {}", raw, raw.to_owned());
            assert!(!shown.as_str().contains('<') && !shown.as_str().contains('>'), "{raw} → {shown:?}");
            assert_eq!(Mrkdwn::text(raw).as_str(), esc(raw));
        }
        assert_eq!(mrkdwn!("{}", "<!channel> & <@U1>").as_str(), "&lt;!channel&gt; &amp; &lt;@U1&gt;");
    }

    #[test]
    fn markup_is_escaped_once_however_often_it_is_composed() {
        let name = mrkdwn!("`{}`", "a&b");
        let line = mrkdwn!("{} and {}", name, &name);
        let mut more = Mrkdwn::join([line, Mrkdwn::text("c&d")], " · ");
        more.push(&name);
        assert_eq!(more.as_str(), "`a&amp;b` and `a&amp;b` · c&amp;d`a&amp;b`");
    }

    #[test]
    fn numbers_and_padding_come_out_as_written() {
        assert_eq!(mrkdwn!("{} of {:>3}|{:<4}|", 2, 10u64, "a<").as_str(), "2 of  10|a&lt;|");
        assert_eq!(mrkdwn!("{{literal}}").as_str(), "{literal}");
    }

    #[test]
    fn templates_with_named_placeholders_are_refused() {
        let refused = std::panic::catch_unwind(|| check_template("*{name}*"));
        assert!(refused.is_err());
        let numbered = std::panic::catch_unwind(|| check_template("{0}"));
        assert!(numbered.is_err());
        check_template("{} {:>5} {{x}}");
    }

    #[test]
    fn links_are_made_only_for_web_urls_and_cannot_break_out() {
        let link = Mrkdwn::link(Some("https://x.io/a?b=1&c|d>"), "a<b").unwrap();
        assert_eq!(link.as_str(), "<https://x.io/a?b=1&amp;c%7Cd&gt;|a&lt;b>");
        assert_eq!(Mrkdwn::link(Some("javascript:alert(1)"), "id"), None);
        assert_eq!(Mrkdwn::link(None, "id"), None);
    }

    #[test]
    fn deliberate_mentions_are_mentions_and_malformed_ids_are_text() {
        assert_eq!(Mrkdwn::user("U012AB3CD").as_str(), "<@U012AB3CD>");
        assert_eq!(Mrkdwn::subteam("S0ONCALL").as_str(), "<!subteam^S0ONCALL>");
        assert_eq!(Mrkdwn::here().as_str(), "<!here>");
        assert_eq!(Mrkdwn::user("U1> <!channel").as_str(), "U1&gt; &lt;!channel");
        assert_eq!(Mrkdwn::subteam("S1>|x").as_str(), "S1&gt;|x");
    }

    #[test]
    fn escaping_round_trips() {
        assert_eq!(unesc(&esc("a &lt; <b> & c")), "a &lt; <b> & c");
    }
}
