//! The mutator: a tiny deterministic PRNG and structure-aware edits of an
//! input — byte flips, splicing, dictionary tokens, deep nesting, huge
//! numbers, invalid UTF-8, and edits of the JSON value, form field or YAML
//! line inside it. Deterministic from the seed, so a run can be replayed
//! (`OPSBOT_FUZZ_SEED`).

use serde_json::Value;

/// How a target's input is built, so mutations can keep most of it valid
/// (a random byte flip rarely gets past a JSON parser; a changed field does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A command line.
    Text,
    /// A YAML document.
    Yaml,
    /// A JSON document, possibly with JSON inside its strings (SNS `Message`).
    Json,
    /// An `application/x-www-form-urlencoded` body, possibly with a JSON field.
    Form,
}

/// xorshift64*: small, fast, and good enough to pick edits.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Inputs never grow past this: big enough for deep nesting and 10 kB
/// command lines, small enough to keep thousands of executions a second.
pub const MAX_LEN: usize = 256 * 1024;

/// Bytes that are not UTF-8: a lone continuation byte, a truncated sequence,
/// an encoded surrogate, an overlong encoding, a code point past U+10FFFF.
const INVALID_UTF8: &[&[u8]] = &[b"\x80", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80", b"\xff\xfe"];

const HUGE_NUMBERS: &[&str] = &[
    "18446744073709551616",
    "-9223372036854775809",
    "1e999999",
    "-0",
    "0.000000000000000000000000000000000000000000001",
    "99999999999999999999999999999999999999999999999999999999999",
    "NaN",
    "0x7fffffff",
];

/// Tokens every parser here treats specially somewhere.
const COMMON_TOKENS: &[&str] = &[
    "\"",
    "'",
    "“",
    "”",
    "‘",
    "’",
    "\\",
    "\\u0000",
    "\\ud800",
    "\u{0}",
    "\u{feff}",
    "\u{202e}",
    "\u{1f600}",
    "é",
    "\n",
    "\r\n",
    "\t",
    " ",
    "<",
    ">",
    "&",
    "&amp;",
    "&lt;",
    "<!here>",
    "<@U0ABC>",
    "<https://evil|x>",
    "%",
    "%00",
    "%ff",
    "+",
    "=",
    "&",
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "null",
    "true",
    "-",
    "#",
    "*",
    "&a",
    "!!str",
    "~",
    "|",
    ">-",
    "---",
    "...",
];

/// One to four edits of `input`, using `others` (the corpus) for splicing
/// and `dictionary` (the target's own words) for insertions.
pub fn mutate(rng: &mut Rng, input: &[u8], others: &[Vec<u8>], dictionary: &[&str], shape: Shape) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        out = edit(rng, out, others, dictionary, shape);
        if out.len() > MAX_LEN {
            out.truncate(MAX_LEN);
        }
    }
    out
}

fn edit(rng: &mut Rng, mut out: Vec<u8>, others: &[Vec<u8>], dictionary: &[&str], shape: Shape) -> Vec<u8> {
    match rng.below(14) {
        0 | 1 => structured(rng, out, dictionary, shape),
        2 => flip_bit(rng, out),
        3 => {
            let at = rng.below(out.len() + 1);
            out.insert(at, *rng.pick(b"\0\xff\x80\"\\{}[]:,\n <>&%=+-'#"));
            out
        }
        4 => delete_range(rng, out),
        5 => duplicate_range(rng, out),
        6 => {
            let token = if rng.chance(2) { *rng.pick(dictionary) } else { *rng.pick(COMMON_TOKENS) };
            insert(rng, out, token.as_bytes())
        }
        7 => splice(rng, out, others),
        8 => {
            out.truncate(rng.below(out.len() + 1));
            out
        }
        9 => nest(rng, out, shape),
        10 => huge_number(rng, out),
        11 => {
            let bytes = *rng.pick(INVALID_UTF8);
            insert(rng, out, bytes)
        }
        12 => repeat_token(rng, out, dictionary),
        _ => {
            // A random run of bytes, from anywhere in the byte range.
            let run: Vec<u8> = (0..1 + rng.below(16)).map(|_| rng.next() as u8).collect();
            insert(rng, out, &run)
        }
    }
}

fn flip_bit(rng: &mut Rng, mut out: Vec<u8>) -> Vec<u8> {
    if !out.is_empty() {
        let at = rng.below(out.len());
        out[at] ^= 1 << rng.below(8);
    }
    out
}

fn insert(rng: &mut Rng, mut out: Vec<u8>, bytes: &[u8]) -> Vec<u8> {
    let at = rng.below(out.len() + 1);
    out.splice(at..at, bytes.iter().copied());
    out
}

fn range(rng: &mut Rng, len: usize) -> std::ops::Range<usize> {
    let start = rng.below(len + 1);
    let end = start + rng.below((len - start).min(64) + 1);
    start..end
}

fn delete_range(rng: &mut Rng, mut out: Vec<u8>) -> Vec<u8> {
    let range = range(rng, out.len());
    out.drain(range);
    out
}

fn duplicate_range(rng: &mut Rng, out: Vec<u8>) -> Vec<u8> {
    let copy = out[range(rng, out.len())].to_vec();
    insert(rng, out, &copy)
}

/// This input's head with another corpus entry's tail.
fn splice(rng: &mut Rng, mut out: Vec<u8>, others: &[Vec<u8>]) -> Vec<u8> {
    if others.is_empty() {
        return out;
    }
    let other = rng.pick(others);
    out.truncate(rng.below(out.len() + 1));
    out.extend_from_slice(&other[rng.below(other.len() + 1)..]);
    out
}

/// A token repeated many times: 10 kB command lines, long keys, many quotes.
fn repeat_token(rng: &mut Rng, out: Vec<u8>, dictionary: &[&str]) -> Vec<u8> {
    let token = if rng.chance(2) { *rng.pick(dictionary) } else { *rng.pick(COMMON_TOKENS) };
    let times = 1 + rng.below(4000);
    insert(rng, out, token.repeat(times).as_bytes())
}

/// Deep nesting in the input's own syntax, around it or inside it.
fn nest(rng: &mut Rng, out: Vec<u8>, shape: Shape) -> Vec<u8> {
    let deepest = if rng.chance(4) { 20_000 } else { 200 };
    let depth = 1 + rng.below(deepest);
    let (open, close): (&str, &str) = match (shape, rng.below(3)) {
        (Shape::Yaml, 0) => ("- ", ""),
        (Shape::Yaml, 1) => ("{a: ", "}"),
        (Shape::Text, _) => ("\"'", "'\""),
        (_, 0) => ("{\"a\":", "}"),
        _ => ("[", "]"),
    };
    let mut nested = open.repeat(depth).into_bytes();
    if rng.chance(2) {
        nested.extend_from_slice(&out);
    }
    if rng.chance(4) {
        return nested; // unclosed
    }
    nested.extend_from_slice(close.repeat(depth).as_bytes());
    if rng.chance(2) { nested } else { insert(rng, out, &nested) }
}

/// A number in the input (or a new one) replaced by one at or past a limit.
fn huge_number(rng: &mut Rng, mut out: Vec<u8>) -> Vec<u8> {
    let huge = rng.pick(HUGE_NUMBERS).as_bytes();
    let digits: Vec<usize> = (0..out.len()).filter(|&i| out[i].is_ascii_digit()).collect();
    if digits.is_empty() {
        return insert(rng, out, huge);
    }
    let start = *rng.pick(&digits);
    let end = (start..out.len()).find(|&i| !out[i].is_ascii_digit()).unwrap_or(out.len());
    out.splice(start..end, huge.iter().copied());
    out
}

/// An edit that keeps the input's syntax: a JSON node, a form field, a YAML line.
fn structured(rng: &mut Rng, out: Vec<u8>, dictionary: &[&str], shape: Shape) -> Vec<u8> {
    match shape {
        Shape::Json => match serde_json::from_slice::<Value>(&out) {
            Ok(mut value) => {
                mutate_value(rng, &mut value, dictionary, 0);
                serde_json::to_vec(&value).unwrap_or(out)
            }
            Err(_) => out,
        },
        Shape::Form => mutate_form(rng, out, dictionary),
        Shape::Yaml => mutate_lines(rng, out, dictionary),
        Shape::Text => {
            let text = String::from_utf8_lossy(&out).into_owned();
            let mut words: Vec<&str> = text.split(' ').collect();
            let word = *rng.pick(dictionary);
            let (len, at, other) = (words.len(), rng.below(words.len() + 1), rng.below(words.len()));
            match rng.below(3) {
                0 if len > 0 => words[at.min(len - 1)] = word,
                1 if len > 0 => words.swap(at.min(len - 1), other),
                _ => words.insert(at, word),
            }
            words.join(" ").into_bytes()
        }
    }
}

/// One node of a JSON value replaced, removed, retyped, or (for a string
/// holding JSON) mutated inside.
pub fn mutate_value(rng: &mut Rng, value: &mut Value, dictionary: &[&str], depth: usize) {
    let descend = depth < 12 && rng.below(3) != 0;
    match value {
        Value::Object(map) if descend && !map.is_empty() => {
            let key = map.keys().nth(rng.below(map.len())).cloned().unwrap_or_default();
            match rng.below(6) {
                0 => {
                    map.remove(&key);
                }
                1 => {
                    map.insert((*rng.pick(dictionary)).to_owned(), random_value(rng, dictionary));
                }
                _ => mutate_value(rng, map.get_mut(&key).expect("a key of this map"), dictionary, depth + 1),
            }
        }
        Value::Array(items) if descend && !items.is_empty() => {
            let at = rng.below(items.len());
            match rng.below(5) {
                0 => {
                    items.remove(at);
                }
                1 => items.push(items[at].clone()),
                _ => mutate_value(rng, &mut items[at], dictionary, depth + 1),
            }
        }
        Value::String(text) if descend => {
            if let Ok(mut inner) = serde_json::from_str::<Value>(text)
                && inner.is_object()
            {
                mutate_value(rng, &mut inner, dictionary, depth + 1);
                *text = inner.to_string();
            } else {
                *text = mutate_string(rng, text, dictionary);
            }
        }
        _ => *value = random_value(rng, dictionary),
    }
}

fn mutate_string(rng: &mut Rng, text: &str, dictionary: &[&str]) -> String {
    let bytes = mutate(rng, text.as_bytes(), &[], dictionary, Shape::Text);
    String::from_utf8_lossy(&bytes).into_owned()
}

fn random_value(rng: &mut Rng, dictionary: &[&str]) -> Value {
    match rng.below(9) {
        0 => Value::Null,
        1 => Value::Bool(rng.chance(2)),
        2 => serde_json::json!(rng.next() as i64),
        3 => serde_json::json!(f64::from_bits(rng.next()).clamp(-1e300, 1e300)),
        4 => Value::String((*rng.pick(dictionary)).to_owned()),
        5 => Value::String((*rng.pick(COMMON_TOKENS)).repeat(1 + rng.below(3000))),
        6 => Value::Array(vec![Value::String((*rng.pick(dictionary)).to_owned())]),
        7 => serde_json::json!({ *rng.pick(dictionary): *rng.pick(dictionary) }),
        _ => Value::String(String::new()),
    }
}

/// One field of a form body changed (its value, or the JSON inside it),
/// dropped, duplicated or added.
fn mutate_form(rng: &mut Rng, out: Vec<u8>, dictionary: &[&str]) -> Vec<u8> {
    let Ok(mut pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&out) else { return out };
    if pairs.is_empty() || rng.chance(6) {
        pairs.push(((*rng.pick(dictionary)).to_owned(), (*rng.pick(dictionary)).to_owned()));
    } else {
        let at = rng.below(pairs.len());
        match rng.below(6) {
            0 => {
                pairs.remove(at);
            }
            1 => pairs.push(pairs[at].clone()),
            _ => match serde_json::from_str::<Value>(&pairs[at].1) {
                Ok(mut value) if value.is_object() => {
                    mutate_value(rng, &mut value, dictionary, 0);
                    pairs[at].1 = value.to_string();
                }
                _ => pairs[at].1 = mutate_string(rng, &pairs[at].1, dictionary),
            },
        }
    }
    serde_urlencoded::to_string(&pairs).map(String::into_bytes).unwrap_or(out)
}

/// One line of a YAML document changed: its value, its indentation, a
/// dictionary word put in, or the line doubled or dropped.
fn mutate_lines(rng: &mut Rng, out: Vec<u8>, dictionary: &[&str]) -> Vec<u8> {
    let text = String::from_utf8_lossy(&out).into_owned();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    if lines.is_empty() {
        return (*rng.pick(dictionary)).as_bytes().to_vec();
    }
    let at = rng.below(lines.len());
    match rng.below(5) {
        0 => {
            lines.remove(at);
        }
        1 => lines.insert(at, lines[at].clone()),
        2 => lines[at] = format!("{}{}", " ".repeat(rng.below(9)), lines[at].trim_start()),
        3 => {
            let value = rng.pick(dictionary);
            lines[at] = match lines[at].split_once(": ") {
                Some((key, _)) => format!("{key}: {value}"),
                None => format!("{}{value}", lines[at]),
            };
        }
        _ => lines.insert(at, format!("{}{}:", " ".repeat(rng.below(9)), rng.pick(dictionary))),
    }
    lines.join("\n").into_bytes()
}
