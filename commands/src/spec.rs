//! Command specs and the grammar shared by every command: each command file
//! declares one [`Spec`]; help, usage errors and "did you mean" are generated
//! from the specs and never written twice (CONVENTIONS #5).

use crate::error::UsageError;

/// What a command is, for people: generated help and errors come from here.
#[derive(Debug, PartialEq, Eq)]
pub struct Spec {
    /// The words that select the command, e.g. `"param get"`.
    pub name: &'static str,
    /// Arguments after the name, e.g. `"NAME"`; empty when none.
    pub args: &'static str,
    pub summary: &'static str,
    /// A full example command line (without `/ops`).
    pub example: &'static str,
    /// Whether the command changes anything (policy and confirmation care).
    pub changes: bool,
    /// A short form people type instead of the whole name (`ack`).
    pub alias: Option<&'static str>,
}

impl Spec {
    pub fn usage(&self) -> String {
        if self.args.is_empty() { self.name.to_owned() } else { format!("{} {}", self.name, self.args) }
    }

    pub fn words(&self) -> impl Iterator<Item = &'static str> {
        self.name.split(' ')
    }
}

/// Splits command text into words. Double, single and Slack's typographic
/// quotes group words (`param get "/a b"` is two words after `param get`).
pub fn tokenize(text: &str) -> Result<Vec<String>, UsageError> {
    let mut words = Vec::new();
    let mut current: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q || (q == '“' && c == '”') || (q == '‘' && c == '’') => quote = None,
            (Some(_), c) => current.get_or_insert_with(String::new).push(c),
            (None, '"' | '\'' | '“' | '‘') => {
                quote = Some(c);
                current.get_or_insert_with(String::new);
            }
            (None, c) if c.is_whitespace() => words.extend(current.take()),
            (None, c) => current.get_or_insert_with(String::new).push(c),
        }
    }
    if quote.is_some() {
        return Err(UsageError::new("a quote is not closed: add the closing quote and try again"));
    }
    words.extend(current);
    Ok(words)
}

/// The canonical form of a command line: its words, single-spaced, quoted
/// where needed. Two texts meaning the same command have the same canonical
/// form, which is what a change's parameter hash is taken over.
pub fn canonical(text: &str) -> Result<String, UsageError> {
    Ok(tokenize(text)?.iter().map(|w| quoted(w)).collect::<Vec<_>>().join(" "))
}

/// A word as [`tokenize`] reads it back: bare when it can be, otherwise in
/// quote runs (`"` runs may hold `'`, `'` runs may hold `"`).
pub fn quoted(word: &str) -> String {
    let plain = |c: char| !c.is_whitespace() && !"\"'“”‘’".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        return word.to_owned();
    }
    let mut out = String::new();
    let mut open: Option<char> = None;
    for c in word.chars() {
        let need = match c {
            '"' => '\'',
            '\'' => '"',
            _ => open.unwrap_or('"'),
        };
        if open != Some(need) {
            out.extend(open);
            out.push(need);
            open = Some(need);
        }
        out.push(c);
    }
    let close = open.unwrap_or('"');
    if open.is_none() {
        out.push(close);
    }
    out.push(close);
    out
}

/// The spec among `specs` whose name matches the most leading words (`param
/// get` beats a hypothetical `param`), or whose alias is the first word, with
/// the number of words it used.
pub fn lookup(specs: &[&'static Spec], words: &[String]) -> Option<(&'static Spec, usize)> {
    let first = words.first()?;
    if let Some(spec) = specs.iter().find(|s| s.alias.is_some_and(|a| a.eq_ignore_ascii_case(first))) {
        return Some((spec, 1));
    }
    specs
        .iter()
        .filter_map(|spec| {
            let n = spec.words().count();
            let matches = words.len() >= n && spec.words().zip(words).all(|(want, got)| want.eq_ignore_ascii_case(got));
            matches.then_some((*spec, n))
        })
        .max_by_key(|(_, n)| *n)
}

/// Names among `specs` close to what was typed, for "did you mean".
pub fn did_you_mean(specs: &[&'static Spec], words: &[String]) -> Vec<String> {
    let first = words.first().map(String::as_str).unwrap_or_default();
    // Each name is held against as many typed words as it has, so that
    // `pipline storefront-web` is closest to `pipeline`, not `pipeline start`.
    let typed = |name: &str| words.iter().take(name.split(' ').count()).map(String::as_str).collect::<Vec<_>>();
    let mut scored: Vec<(f64, &str)> = specs
        .iter()
        .map(|s| s.name)
        .map(|name| (typed(name).join(" "), name))
        .filter(|(typed, name)| !suggest(typed, [*name]).is_empty())
        .map(|(typed, name)| (strsim::jaro_winkler(&typed.to_lowercase(), name), name))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut out: Vec<String> = scored.into_iter().map(|(_, name)| name.to_owned()).collect();
    // A known first word with a wrong second one: offer that family (`param x`).
    if out.is_empty() {
        let family = specs.iter().map(|s| s.name).filter(|n| n.split(' ').next() == Some(first));
        out.extend(family.map(str::to_owned));
    }
    out.truncate(3);
    out
}

/// Names close to `typed`, best first (for "did you mean").
pub fn suggest<'a>(typed: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let typed = typed.to_lowercase();
    let mut scored: Vec<(f64, &str)> = candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&typed, c), c))
        .filter(|(score, c)| *score >= 0.8 || strsim::damerau_levenshtein(&typed, c) <= 2)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut out: Vec<String> = Vec::new();
    for (_, c) in scored {
        if !out.iter().any(|o| o == c) {
            out.push(c.to_owned());
        }
    }
    out.truncate(3);
    out
}

/// Checks the number of arguments against a spec: `min..=max`.
pub fn expect_args(spec: &Spec, args: &[String], min: usize, max: usize) -> Result<(), UsageError> {
    if args.len() < min {
        let missing = spec.args.split(' ').nth(args.len()).unwrap_or("an argument");
        return Err(UsageError::new(format!("`{}` needs {missing}", spec.name)).with_usage(spec.usage()));
    }
    if args.len() > max {
        let extra = args[max..].join(" ");
        return Err(UsageError::new(format!("`{}` does not take `{extra}`", spec.name)).with_usage(spec.usage()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_on_spaces_and_quotes_group_them() {
        assert_eq!(tokenize("  param   get \"/a b\" 'c d' “e f”").unwrap(), ["param", "get", "/a b", "c d", "e f"]);
        assert_eq!(tokenize("x \"\"").unwrap(), ["x", ""]);
    }

    #[test]
    fn the_canonical_form_reparses_to_the_same_words() {
        for text in [
            "scale  prod/api   6",
            "param set /a \"two words\"",
            "x 'say \"hi\"'",
            "e \"\"",
            "q \"it's\"'\"'",
            "t “a b”",
        ] {
            let canon = canonical(text).unwrap();
            assert_eq!(tokenize(&canon).unwrap(), tokenize(text).unwrap(), "{text} → {canon}");
            assert_eq!(canonical(&canon).unwrap(), canon, "stable");
        }
    }

    #[test]
    fn an_unclosed_quote_is_a_usage_error() {
        assert!(tokenize("param get \"/a").unwrap_err().to_string().contains("quote"));
    }

    #[test]
    fn close_misspellings_get_suggestions_and_nonsense_gets_none() {
        assert_eq!(suggest("pipline", ["pipeline", "pipelines", "params"]), ["pipeline", "pipelines"]);
        assert!(suggest("zzzz", ["pipeline", "alarms"]).is_empty());
    }
}
