//! A small Prometheus registry: counter and histogram families with fixed
//! label names, rendered in the text exposition format (version 0.0.4,
//! <https://prometheus.io/docs/instrumenting/exposition_formats/>).
//!
//! Hand-written rather than a client crate because opsbot needs two metric
//! types, no registry of registries and no exemplars, and every series here is
//! a handful of atomics' worth of memory: the whole registry starts empty (no
//! allocation until a series is first touched) and stays small, which keeps
//! idle memory low. Series are kept in a short vector per family and found by
//! a linear scan: label values are closed sets (command names, Slack methods,
//! AWS operations), so a family holds tens of series, not thousands.

use std::fmt::Write;
use std::sync::Mutex;

/// Label values of one series, in the family's label-name order.
type Labels = Vec<Box<str>>;

/// A counter or histogram family: a name, help text, label names, and the
/// series touched so far.
pub struct Family<V> {
    name: &'static str,
    help: &'static str,
    labels: &'static [&'static str],
    series: Mutex<Vec<(Labels, V)>>,
}

impl<V> Family<V> {
    const fn with(name: &'static str, help: &'static str, labels: &'static [&'static str]) -> Self {
        Family { name, help, labels, series: Mutex::new(Vec::new()) }
    }

    /// Runs `f` on the series with these label `values` (made on first use).
    fn touch(&self, values: &[&str], make: impl FnOnce() -> V, f: impl FnOnce(&mut V)) {
        debug_assert_eq!(values.len(), self.labels.len(), "{}: one value per label", self.name);
        let mut series = self.series.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let at = series.iter().position(|(labels, _)| labels.iter().map(|l| &**l).eq(values.iter().copied()));
        let at = at.unwrap_or_else(|| {
            series.push((values.iter().map(|v| Box::from(*v)).collect(), make()));
            series.len() - 1
        });
        f(&mut series[at].1);
    }

    /// The series sorted by their label values, so a scrape reads the same
    /// whatever order they were first touched in.
    fn sorted(&self) -> Vec<(Labels, V)>
    where
        V: Clone,
    {
        let mut series = self.series.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        series.sort_by(|a, b| a.0.cmp(&b.0));
        series
    }

    fn header(&self, out: &mut String, kind: &str) {
        let _ = writeln!(out, "# HELP {} {}", self.name, self.help);
        let _ = writeln!(out, "# TYPE {} {kind}", self.name);
    }
}

/// Counts that only go up.
pub type Counter = Family<u64>;

impl Counter {
    pub const fn new(name: &'static str, help: &'static str, labels: &'static [&'static str]) -> Self {
        Family::with(name, help, labels)
    }

    pub fn inc(&self, values: &[&str]) {
        self.touch(values, || 0, |count| *count += 1);
    }

    /// The current count of one series (0 when never touched).
    pub fn get(&self, values: &[&str]) -> u64 {
        let series = self.series.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        series.iter().find(|(labels, _)| labels.iter().map(|l| &**l).eq(values.iter().copied())).map_or(0, |s| s.1)
    }

    /// Its `# HELP`, `# TYPE` and one line per series; just the header when
    /// no series was touched yet (the family still shows it exists).
    pub fn render(&self, out: &mut String) {
        self.header(out, "counter");
        for (values, count) in self.sorted() {
            let _ = writeln!(out, "{}{} {count}", self.name, label_set(self.labels, &values, None));
        }
    }
}

/// Observations counted into cumulative buckets, with their sum.
pub type Histogram = Family<Buckets>;

#[derive(Clone)]
pub struct Buckets {
    bounds: &'static [f64],
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    pub const fn new(name: &'static str, help: &'static str, labels: &'static [&'static str]) -> Self {
        Family::with(name, help, labels)
    }

    /// Counts `value` into every bucket whose upper bound it does not exceed.
    pub fn observe(&self, bounds: &'static [f64], values: &[&str], value: f64) {
        let make = || Buckets { bounds, counts: vec![0; bounds.len()], sum: 0.0, count: 0 };
        self.touch(values, make, |b| {
            for (bound, count) in b.bounds.iter().zip(b.counts.iter_mut()) {
                if value <= *bound {
                    *count += 1;
                }
            }
            b.sum += value;
            b.count += 1;
        });
    }

    /// `_bucket` lines (cumulative, ending with `le="+Inf"`), `_sum` and `_count` per series.
    pub fn render(&self, out: &mut String) {
        self.header(out, "histogram");
        for (values, b) in self.sorted() {
            let labels = |le: Option<&str>| label_set(self.labels, &values, le);
            for (bound, count) in b.bounds.iter().zip(&b.counts) {
                let _ = writeln!(out, "{}_bucket{} {count}", self.name, labels(Some(&bound.to_string())));
            }
            let _ = writeln!(out, "{}_bucket{} {}", self.name, labels(Some("+Inf")), b.count);
            let _ = writeln!(out, "{}_sum{} {}", self.name, labels(None), b.sum);
            let _ = writeln!(out, "{}_count{} {}", self.name, labels(None), b.count);
        }
    }
}

/// A gauge read at scrape time: one line, no labels.
pub fn gauge(out: &mut String, name: &str, help: &str, value: f64) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
    let _ = writeln!(out, "{name} {value}");
}

/// `{name="value",…}` with values escaped as the format requires (`\`, `"`
/// and newlines); empty when there are no labels.
fn label_set(names: &[&str], values: &[Box<str>], le: Option<&str>) -> String {
    let pairs = names.iter().zip(values.iter().map(|v| &**v)).chain(le.map(|le| (&"le", le)));
    let inner: Vec<String> = pairs.map(|(name, value)| format!("{name}=\"{}\"", escaped(value))).collect();
    if inner.is_empty() { String::new() } else { format!("{{{}}}", inner.join(",")) }
}

fn escaped(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counter_renders_its_header_and_one_sorted_line_per_series() {
        static CALLS: Counter = Counter::new("opsbot_test_total", "Test calls.", &["method", "result"]);
        CALLS.inc(&["chat.update", "ok"]);
        CALLS.inc(&["chat.postMessage", "ok"]);
        CALLS.inc(&["chat.postMessage", "ok"]);
        let mut out = String::new();
        CALLS.render(&mut out);
        assert_eq!(
            out,
            "# HELP opsbot_test_total Test calls.\n# TYPE opsbot_test_total counter\n\
             opsbot_test_total{method=\"chat.postMessage\",result=\"ok\"} 2\n\
             opsbot_test_total{method=\"chat.update\",result=\"ok\"} 1\n"
        );
        assert_eq!(CALLS.get(&["chat.update", "ok"]), 1);
        assert_eq!(CALLS.get(&["views.open", "ok"]), 0);
    }

    #[test]
    fn a_histogram_has_cumulative_buckets_ending_in_inf_then_sum_and_count() {
        let lag = Histogram::new("opsbot_test_seconds", "Test lag.", &[]);
        for value in [0.25, 0.5, 7.0] {
            lag.observe(&[0.25, 1.0], &[], value);
        }
        let mut out = String::new();
        lag.render(&mut out);
        let lines: Vec<&str> = out.lines().skip(2).collect();
        assert_eq!(
            lines,
            [
                "opsbot_test_seconds_bucket{le=\"0.25\"} 1",
                "opsbot_test_seconds_bucket{le=\"1\"} 2",
                "opsbot_test_seconds_bucket{le=\"+Inf\"} 3",
                "opsbot_test_seconds_sum 7.75",
                "opsbot_test_seconds_count 3",
            ]
        );
    }

    #[test]
    fn label_values_are_escaped_so_a_strange_value_cannot_break_the_format() {
        let odd = Counter::new("opsbot_test_total", "x", &["what"]);
        odd.inc(&["a\"b\\c\nd"]);
        let mut out = String::new();
        odd.render(&mut out);
        assert!(out.contains("opsbot_test_total{what=\"a\\\"b\\\\c\\nd\"} 1"), "{out}");
    }
}
