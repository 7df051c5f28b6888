//! `where: { arg: regex }` conditions: one named argument and its pattern,
//! compiled once at load, used as written (no implicit anchoring).
//!
//! A `where` on an argument the request does not carry does not match. When
//! an argument appears several times, an allow needs every value to match and
//! a deny needs any one to — the reading that errs on the side of refusing.

use regex::Regex;

#[derive(Debug, Clone)]
pub(crate) struct Condition {
    pub arg: &'static str,
    pub pattern: Regex,
}

impl Condition {
    pub fn new(arg: &'static str, pattern: Regex) -> Self {
        Condition { arg, pattern }
    }

    /// Whether the request's value(s) of `self.arg` match: any one for a deny,
    /// all (and at least one) for an allow.
    pub fn holds(&self, args: &[(&str, String)], deny: bool) -> bool {
        let mut values = args.iter().filter(|(name, _)| *name == self.arg).map(|(_, v)| self.pattern.is_match(v));
        if deny {
            return values.any(|m| m);
        }
        let mut seen = false;
        values.all(|m| {
            seen = true;
            m
        }) && seen
    }
}
