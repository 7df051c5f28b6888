//! Each crate's modules import each other in one direction only: no module
//! imports from a module that imports it. Checked for `commands`,
//! `policies` and the `opsbot` library (`bot/`).
//!
//! [`import_graph`] reads a source tree from its `lib.rs`, follows the `mod x;`
//! declarations and records, per module, which modules it names through
//! `use crate::…`, `use super::…`, `use self::…`, `use child::…` and inline
//! `crate::x::y` / `super::x` paths. [`cycles`] finds the loops. Any crate's
//! source root works, as long as its root is `lib.rs`.
//!
//! # Decisions
//! - A path counts as an import of the deepest module it names
//!   (`crate::ports::store::ChangeId` → `ports::store`), never of the
//!   modules above it: naming a child does not depend on the parent's code.
//! - `mod x;` declares a child; it is not an import. A child's `use
//!   super::…` is one, so a parent that also imports from its child loops.
//! - Test code is left out: `#[cfg(test)]` modules (`mod tests`, `x_tests.rs`),
//!   test support (`#[cfg(any(test, feature = "testing"))]`, `testing/`) and
//!   items may reach anywhere, since nothing ships with them.
//! - Comments, doc links and string literals are not imports.
//! - `#[path = "…"] mod x;` is followed to the file it names.
//! - Known limits: macro expansions are not followed, and inline non-test
//!   `mod x { … }` blocks are read as part of their file.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Module path (`""` for the root, `cmd::deploy`) → the modules it imports,
/// each with the first path that made it an import (for the message).
type Graph = BTreeMap<String, BTreeMap<String, String>>;

/// Reads every (non-test) module reachable from `root/lib.rs`.
fn import_graph(root: &Path) -> Graph {
    let mut files = BTreeMap::new();
    collect(&root.join("lib.rs"), root, String::new(), &mut files);
    let known: BTreeSet<String> = files.keys().cloned().collect();
    let mut graph = Graph::new();
    for (module, code) in &files {
        let children = children_of(module, &known);
        let edges = graph.entry(module.clone()).or_default();
        for path in paths_in(code) {
            let Some(target) = resolve(module, &path, &children, &known) else { continue };
            if target != *module {
                edges.entry(target).or_insert_with(|| path.join("::"));
            }
        }
    }
    graph
}

/// Reads `file` as `module` and, depth first, the non-test children it declares.
fn collect(file: &Path, root: &Path, module: String, files: &mut BTreeMap<String, String>) {
    let source = fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let code = without_tests(&blank_comments_and_strings(&source));
    // `lib.rs` and `mod.rs` keep their children beside them; `x.rs` in `x/`.
    let dir: PathBuf = match file.file_name().and_then(|n| n.to_str()) {
        Some("lib.rs" | "mod.rs") => file.parent().unwrap_or(root).to_path_buf(),
        _ => file.with_extension(""),
    };
    let attributed = path_attributes(&source);
    for child in declared_mods(&code) {
        let beside = file.parent().unwrap_or(root);
        let named = attributed.iter().find(|(name, _)| *name == child).map(|(_, path)| beside.join(path));
        let usual = [dir.join(format!("{child}.rs")), dir.join(&child).join("mod.rs")];
        let path = named.into_iter().chain(usual).find(|p| p.exists());
        let Some(path) = path else { continue };
        let name = if module.is_empty() { child } else { format!("{module}::{child}") };
        collect(&path, root, name, files);
    }
    files.insert(module, code);
}

/// `#[path = "file.rs"] mod name;` declarations: (name, file), the file
/// relative to the declaring file's folder (read from the source as written,
/// before string literals are blanked).
fn path_attributes(source: &str) -> Vec<(String, String)> {
    let declaration = regex::Regex::new(r#"#\[path\s*=\s*"([^"]+)"\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;"#)
        .expect("a valid pattern");
    declaration.captures_iter(source).map(|c| (c[2].to_owned(), c[1].to_owned())).collect()
}

/// The loops in `graph`, each as the modules along it, back to its start.
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    let mut found: Vec<Vec<String>> = Vec::new();
    let mut seen_in_loop = BTreeSet::new();
    for start in graph.keys() {
        if seen_in_loop.contains(start) {
            continue;
        }
        if let Some(path) = shortest_loop(graph, start) {
            seen_in_loop.extend(path.iter().cloned());
            found.push(path);
        }
    }
    found
}

/// The shortest way from `start` back to itself (breadth first), if any.
fn shortest_loop(graph: &Graph, start: &str) -> Option<Vec<String>> {
    let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(at) = queue.pop_front() {
        for next in graph.get(at).into_iter().flat_map(|e| e.keys()) {
            if next == start {
                let mut path = vec![at];
                while let Some(&before) = path.last().and_then(|step| came_from.get(step)) {
                    path.push(before);
                }
                path.reverse();
                path.push(start);
                return Some(path.into_iter().map(str::to_owned).collect());
            }
            if !came_from.contains_key(next.as_str()) {
                came_from.insert(next, at);
                queue.push_back(next);
            }
        }
    }
    None
}

/// Fails naming every loop: each step with the path that makes it.
fn assert_no_cycles(root: &Path) {
    let graph = import_graph(root);
    assert!(graph.len() > 1, "no modules found under {}", root.display());
    let name = |m: &str| if m.is_empty() { "crate".to_owned() } else { m.to_owned() };
    let loops: Vec<String> = cycles(&graph)
        .iter()
        .map(|path| {
            let steps = path.windows(2).map(|w| format!("  {} uses {}", name(&w[0]), graph[&w[0]][&w[1]]));
            format!(
                "{}\n{}",
                path.iter().map(|m| name(m)).collect::<Vec<_>>().join(" → "),
                steps.collect::<Vec<_>>().join("\n")
            )
        })
        .collect();
    assert!(loops.is_empty(), "import cycles under {}:\n{}", root.display(), loops.join("\n"));
}

// ------------------------------------------------------------------ reading

/// `source` with comments, string and char literals replaced by spaces
/// (lines kept), so that what is left is code.
fn blank_comments_and_strings(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    let blank = |out: &mut String, c: char| out.push(if c == '\n' { '\n' } else { ' ' });
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, chars[i]);
                    i += 1;
                }
            }
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !ident_char(chars.get(i.wrapping_sub(1))) {
            // r"…" or r#"…"#
            let hashes = chars[i + 1..].iter().take_while(|&&h| h == '#').count();
            if chars.get(i + 1 + hashes) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            i += 2 + hashes;
            while i < chars.len() {
                if chars[i] == '"' && chars[i + 1..].iter().take(hashes).filter(|&&h| h == '#').count() == hashes {
                    i += 1 + hashes;
                    break;
                }
                blank(&mut out, chars[i]);
                i += 1;
            }
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                if let Some(&c) = chars.get(i) {
                    blank(&mut out, c);
                }
                i += 1;
            }
            i += 1;
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{1F600}'); otherwise a lifetime.
            let end = if next == Some('\\') {
                chars.get(i + 3..).and_then(|tail| tail.iter().position(|&c| c == '\'')).map(|p| i + 3 + p)
            } else {
                (chars.get(i + 2) == Some(&'\'')).then_some(i + 2)
            };
            match end {
                Some(end) => i = end + 1,
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn ident_char(c: Option<&char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || *c == '_')
}

/// Where test-only code starts: `#[cfg(test)]`, and test support compiled for
/// other crates' tests too (`#[cfg(any(test, feature = "testing"))]`, its
/// string blanked like every literal).
const TEST_ONLY: [&str; 2] = ["#[cfg(test)]", "#[cfg(any(test, feature = "];

/// `code` without test-only items (the attribute, further attributes and the
/// item up to its `;` or its closing brace).
fn without_tests(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some((at, marker)) = TEST_ONLY.iter().filter_map(|m| rest.find(m).map(|at| (at, *m))).min() {
        out.push_str(&rest[..at]);
        let item = &rest[at..];
        // Past the attribute's own closing bracket.
        let skip = match marker.ends_with(']') {
            true => marker.len(),
            false => marker.len() + item[marker.len()..].find(']').map_or(0, |i| i + 1),
        };
        let mut depth = 0;
        let mut end = item.len();
        for (i, c) in item.char_indices().skip_while(|(i, _)| *i < skip) {
            match c {
                '[' | '{' | '(' => depth += 1,
                ']' | ')' => depth -= 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    end = i + 1;
                    break;
                }
                _ => {}
            }
        }
        out.extend(item[..end].chars().filter(|&c| c == '\n'));
        rest = &item[end..];
    }
    out.push_str(rest);
    out
}

/// The `mod x;` declarations (not inline `mod x { … }` blocks).
fn declared_mods(code: &str) -> Vec<String> {
    let words = words(code);
    let mut mods = Vec::new();
    for pair in words.windows(3) {
        if pair[0] == "mod" && pair[2] == ";" && pair[1].chars().all(|c| ident_char(Some(&c))) {
            mods.push(pair[1].to_owned());
        }
    }
    mods
}

/// Identifiers and single punctuation characters, in order.
fn words(code: &str) -> Vec<&str> {
    let mut words = Vec::new();
    let mut start = None;
    for (i, c) in code.char_indices() {
        let ident = ident_char(Some(&c));
        match (start, ident) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                words.push(&code[s..i]);
                start = None;
            }
            _ => {}
        }
        if !ident && !c.is_whitespace() {
            words.push(&code[i..i + c.len_utf8()]);
        }
    }
    words.extend(start.map(|s| &code[s..]));
    words
}

/// Every path the code names: the paths of `use` trees (expanded) and inline
/// paths of two segments or more.
fn paths_in(code: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut rest = code;
    let mut inline = String::new();
    while let Some(at) = find_use(rest) {
        inline.push_str(&rest[..at]);
        let tail = &rest[at + "use ".len()..];
        let end = tail.find(';').unwrap_or(tail.len());
        // Spaces only where they separate words (`a::b as c`).
        let tree = words(&tail[..end]).iter().fold(String::new(), |mut tree, word| {
            if ident_char(tree.chars().last().as_ref()) && ident_char(word.chars().next().as_ref()) {
                tree.push(' ');
            }
            tree.push_str(word);
            tree
        });
        expand_tree(&tree, &mut Vec::new(), &mut paths);
        rest = tail.get(end + 1..).unwrap_or("");
    }
    inline.push_str(rest);
    paths.extend(inline_paths(&inline));
    paths
}

/// Where the next `use` statement starts (`use`, `pub use`, `pub(crate) use`).
fn find_use(code: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = code[from..].find("use ").map(|p| p + from) {
        let before = code[..at].chars().next_back();
        if !ident_char(before.as_ref()) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// `a::{b, c::{d, self}}` → `a::b`, `a::c::d`, `a::c`.
fn expand_tree(tree: &str, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let (head, group) = match tree.find('{') {
        Some(open) => (&tree[..open], Some(&tree[open + 1..tree.rfind('}').unwrap_or(tree.len())])),
        None => (tree, None),
    };
    let depth = prefix.len();
    let head = head.split(" as ").next().unwrap_or(head);
    prefix.extend(head.split("::").filter(|s| !s.is_empty() && *s != "*" && *s != "self").map(str::to_owned));
    match group {
        None => out.push(prefix.clone()),
        Some(group) => {
            for part in split_top_level(group) {
                expand_tree(part, prefix, out);
            }
        }
    }
    prefix.truncate(depth);
}

fn split_top_level(group: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&group[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&group[start..]);
    parts.into_iter().filter(|p| !p.is_empty()).collect()
}

/// `crate::a::b`, `super::super::c`, `self::d`, `child::e` (and `std::x`,
/// `Self::y`, which [`resolve`] drops) written in code.
fn inline_paths(code: &str) -> Vec<Vec<String>> {
    let chars: Vec<char> = code.chars().collect();
    let mut paths = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !ident_char(chars.get(i)) || ident_char(chars.get(i.wrapping_sub(1))) {
            i += 1;
            continue;
        }
        let mut segments = Vec::new();
        let mut j = i;
        loop {
            let start = j;
            while ident_char(chars.get(j)) {
                j += 1;
            }
            segments.push(chars[start..j].iter().collect::<String>());
            if chars.get(j) == Some(&':') && chars.get(j + 1) == Some(&':') && ident_char(chars.get(j + 2)) {
                j += 2;
            } else {
                break;
            }
        }
        if segments.len() > 1 {
            paths.push(segments);
        }
        i = j.max(i + 1);
    }
    paths
}

/// The deepest known module `path` names, seen from `module`.
fn resolve(module: &str, path: &[String], children: &BTreeSet<String>, known: &BTreeSet<String>) -> Option<String> {
    let mut at: Vec<&str> = if module.is_empty() { vec![] } else { module.split("::").collect() };
    let mut segments = path.iter().map(String::as_str).peekable();
    match segments.peek().copied() {
        Some("crate") => {
            at.clear();
            segments.next();
        }
        Some("self") => {
            segments.next();
        }
        Some("super") => {
            while segments.peek() == Some(&"super") {
                at.pop();
                segments.next();
            }
        }
        Some(first) if children.contains(first) => {}
        _ => return None,
    }
    let mut deepest = at.join("::");
    for segment in segments {
        at.push(segment);
        let candidate = at.join("::");
        if !known.contains(&candidate) {
            break;
        }
        deepest = candidate;
    }
    Some(deepest)
}

fn children_of(module: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    known
        .iter()
        .filter_map(|m| match module {
            "" => Some(m.as_str()),
            _ => m.strip_prefix(module).and_then(|r| r.strip_prefix("::")),
        })
        .filter(|rest| !rest.is_empty() && !rest.contains("::"))
        .map(str::to_owned)
        .collect()
}

// -------------------------------------------------------------------- tests

fn source(root: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(root)
}

#[test]
fn the_modules_of_the_commands_crate_import_each_other_in_one_direction() {
    assert_no_cycles(&source("commands/src"));
}

#[test]
fn the_modules_of_the_policies_crate_import_each_other_in_one_direction() {
    assert_no_cycles(&source("policies/src"));
}

#[test]
fn the_modules_of_the_bot_import_each_other_in_one_direction() {
    assert_no_cycles(&source("bot"));
}

/// A throwaway source tree: `(relative path, contents)`.
fn tree(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let root = std::env::temp_dir().join(format!("opsbot-layout-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&root);
    for (path, contents) in files {
        let path = root.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, contents).unwrap();
    }
    root
}

#[test]
fn a_loop_through_a_parent_and_its_child_is_named_step_by_step() {
    let root = tree(
        "loop",
        &[
            ("lib.rs", "pub mod cmd;\npub mod ops;\n"),
            ("cmd/mod.rs", "//! uses crate::ops in a comment only\npub mod deploy;\npub struct Context;\n"),
            ("cmd/deploy.rs", "use super::Context;\nfn f() -> crate::ops::Ops { todo!() }\n"),
            ("ops.rs", "use crate::cmd::{deploy, Context};\npub struct Ops;\n"),
        ],
    );
    let graph = import_graph(&root);
    assert_eq!(cycles(&graph), [vec!["cmd::deploy", "ops", "cmd::deploy"]]);
    let err = std::panic::catch_unwind(|| assert_no_cycles(&root)).unwrap_err();
    let message = err.downcast_ref::<String>().unwrap();
    assert!(message.contains("cmd::deploy → ops → cmd::deploy"), "{message}");
    assert!(message.contains("cmd::deploy uses crate::ops::Ops"), "{message}");
    let _ = fs::remove_dir_all(root);
}

#[test]
fn declarations_tests_comments_and_strings_are_not_imports() {
    let root = tree(
        "clean",
        &[
            (
                "lib.rs",
                "pub mod a;\npub mod b;\n#[cfg(test)]\nmod testing;\n#[cfg(any(test, feature = \"testing\"))]\npub mod fakes;\n",
            ),
            ("a.rs", "pub mod child;\n/// [`crate::b::B`]\npub struct A;\nconst S: &str = \"crate::b\";\n"),
            ("a/child.rs", "use super::A;\n#[cfg(test)]\nmod tests {\n    use crate::b::B;\n}\n"),
            (
                "b.rs",
                "use crate::a::{self, child};\npub struct B;\n#[cfg(test)]\n#[path = \"b_tests.rs\"]\nmod tests;\n",
            ),
            ("b_tests.rs", "use crate::testing::x;\n"),
            ("testing.rs", "use crate::b::B;\nuse crate::a::A;\n"),
            ("fakes.rs", "use crate::b::B;\n"),
        ],
    );
    let graph = import_graph(&root);
    let edges = |m: &str| graph[m].keys().cloned().collect::<Vec<_>>();
    assert_eq!(edges(""), Vec::<String>::new(), "mod declarations only");
    assert_eq!(edges("a"), Vec::<String>::new(), "doc links and strings");
    assert_eq!(edges("a::child"), ["a"]);
    assert_eq!(edges("b"), ["a", "a::child"]);
    assert!(!graph.contains_key("testing"), "{graph:?}");
    assert!(!graph.contains_key("fakes"), "test support behind a feature: {graph:?}");
    assert!(cycles(&graph).is_empty());
    let _ = fs::remove_dir_all(root);
}

#[test]
fn a_module_declared_with_a_path_attribute_is_read_from_that_file() {
    let root = tree(
        "path",
        &[
            ("lib.rs", "pub mod ecs;\n"),
            ("ecs.rs", "#[path = \"ecs_rollout.rs\"]\nmod rollout;\npub use rollout::Rollout;\npub struct Service;\n"),
            ("ecs_rollout.rs", "use super::Service;\npub struct Rollout;\n"),
        ],
    );
    let graph = import_graph(&root);
    assert_eq!(cycles(&graph), [vec!["ecs", "ecs::rollout", "ecs"]]);
    let _ = fs::remove_dir_all(root);
}
