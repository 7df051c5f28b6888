//! Reads a `/metrics` answer with the Prometheus project's own Python parser
//! (`prometheus_client.parser`, pinned in the test venv), so the tests check
//! what a real scraper understands, not what our renderer meant to write.

use std::collections::BTreeMap;

use serde::Deserialize;

/// One sample as the parser read it.
#[derive(Debug, Clone, Deserialize)]
pub struct Sample {
    /// The family (`opsbot_commands` for `opsbot_commands_total`: the parser
    /// drops a counter's `_total`), its type, and the sample's own name.
    pub family: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Every sample of one scrape.
#[derive(Debug)]
pub struct Scrape(pub Vec<Sample>);

const PARSE: &str = "import sys, json\n\
from prometheus_client.parser import text_string_to_metric_families as families\n\
print(json.dumps([{'family': f.name, 'type': f.type, 'name': s.name, 'labels': s.labels, 'value': s.value}\n\
    for f in families(sys.stdin.read()) for s in f.samples]))";

/// Parses `text`; panics with the parser's error if it is not valid.
pub fn parse(text: &str) -> Scrape {
    use std::io::Write;
    let python = super::venv().join("bin/python");
    let mut child = std::process::Command::new(&python)
        .args(["-c", PARSE])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e} (run scripts/emulators.sh)", python.display()));
    child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("the text is written");
    let out = child.wait_with_output().expect("the parser ends");
    assert!(
        out.status.success(),
        "Prometheus' parser refused the scrape: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    Scrape(serde_json::from_slice(&out.stdout).expect("the parser's JSON"))
}

impl Scrape {
    /// The value of the sample `name` whose labels include `labels`; `None`
    /// when there is none (panics when several match: say more labels).
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let found: Vec<&Sample> = self.matching(name, labels).collect();
        assert!(found.len() <= 1, "several samples of {name} match {labels:?}: {found:#?}");
        found.first().map(|s| s.value)
    }

    /// The sum over every sample `name` whose labels include `labels` (0 when none).
    pub fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.matching(name, labels).map(|s| s.value).sum()
    }

    /// The type the family of sample `name` was declared with.
    pub fn kind(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|s| s.name == name).map(|s| s.kind.as_str())
    }

    fn matching<'a>(&'a self, name: &'a str, labels: &'a [(&str, &str)]) -> impl Iterator<Item = &'a Sample> {
        self.0.iter().filter(move |s| {
            s.name == name && labels.iter().all(|(k, v)| s.labels.get(*k).is_some_and(|have| have == v))
        })
    }
}
