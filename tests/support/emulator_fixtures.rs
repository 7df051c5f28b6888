//! The bodies the emulators really delivered, kept as fixtures in
//! `tests/fixtures/notifications/emulators/` for the parser's tests, and kept
//! honest: every run compares what the emulator delivers now with the stored
//! fixture's *shape* (its JSON field paths, looking inside JSON carried in
//! strings, such as an SNS envelope's `Message`). Values — ids, times, the
//! unique resource names — differ from run to run and are not compared.
//!
//! `RECORD_EMULATOR_FIXTURES=1 cargo test --test tests notify_sqs` rewrites
//! them byte for byte as delivered (after an emulator upgrade, say); the
//! README there says which emulator produced which file.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;

/// Checks `body` against the fixture `name`, or records it when asked to.
pub fn check_or_record(name: &str, body: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/notifications/emulators").join(name);
    if std::env::var_os("RECORD_EMULATOR_FIXTURES").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, body).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        return;
    }
    let stored = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; record it with RECORD_EMULATOR_FIXTURES=1", path.display()));
    let (now, then) = (shape(body), shape(&stored));
    assert_eq!(
        now,
        then,
        "the emulator now delivers another shape than {} (left: now, right: stored); \
         re-record with RECORD_EMULATOR_FIXTURES=1 and run the parser's tests on it",
        path.display()
    );
}

/// Every field path of a JSON document (`a.b`, `list[].c`, `Message{}.x` for
/// JSON inside a string); empty for a body that is not JSON.
pub fn shape(body: &str) -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    if let Ok(value) = serde_json::from_str::<Value>(body) {
        walk(&value, "", &mut paths);
    }
    paths
}

fn walk(value: &Value, at: &str, paths: &mut BTreeSet<String>) {
    match value {
        Value::Object(fields) => {
            for (key, field) in fields {
                let path = if at.is_empty() { key.clone() } else { format!("{at}.{key}") };
                paths.insert(path.clone());
                walk(field, &path, paths);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| walk(item, &format!("{at}[]"), paths)),
        Value::String(text) if text.starts_with('{') => {
            if let Ok(inner) = serde_json::from_str::<Value>(text) {
                walk(&inner, &format!("{at}{{}}"), paths);
            }
        }
        _ => {}
    }
}
