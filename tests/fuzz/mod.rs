//! Fuzzing on the stable toolchain (docs/fuzzing.md): each target is a
//! `#[test]` that replays its committed corpus, then mutates it for a time
//! budget, `OPSBOT_FUZZ_SECS` seconds (3 by default, so `cargo test` stays
//! quick; `scripts/fuzz.sh SECONDS` runs the long run).
//!
//! No coverage instrumentation exists on stable, so the loop is guided by
//! outcomes instead: an input whose outcome (error kind, parsed variant) has
//! not been seen joins the working corpus, and later mutations start from
//! it. Each target checks invariants beyond "no panic" where cheap.
//!
//! An input that panics or breaks an invariant is written to
//! `tests/fuzz/corpus/<target>/crash-<hash>` and fails the test; committed,
//! it is replayed first on every run from then on (a regression case).

use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod commands;
mod mutate;
mod notifications;
mod policy;
mod slack;

pub use mutate::{Rng, Shape};

/// A fuzz target: where its seeds are, how its inputs are built, and the
/// check it runs on each input.
pub struct Target {
    /// Also the corpus directory's name.
    pub name: &'static str,
    /// Directories (relative to the repository) whose files are seeds too:
    /// the recorded fixtures, read in place.
    pub seed_dirs: &'static [&'static str],
    pub shape: Shape,
    /// Words the target's parser gives meaning to, for insertions.
    pub dictionary: &'static [&'static str],
    /// Runs the parser on one input; `Err` is a broken invariant. `Ok` is a
    /// short description of the outcome, which guides the search.
    pub check: fn(&[u8]) -> Result<String, String>,
}

/// The working corpus stops growing here; new finds then replace old ones.
const MAX_CORPUS: usize = 4096;

fn budget() -> Duration {
    let secs = std::env::var("OPSBOT_FUZZ_SECS").ok().and_then(|s| s.parse::<f64>().ok()).unwrap_or(3.0);
    Duration::from_secs_f64(secs.max(0.0))
}

fn seed() -> u64 {
    let given = std::env::var("OPSBOT_FUZZ_SEED").ok().and_then(|s| {
        let s = s.trim_start_matches("0x");
        u64::from_str_radix(s, 16).ok()
    });
    given.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
    })
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn corpus_dir(target: &str) -> PathBuf {
    repo().join("tests/fuzz/corpus").join(target)
}

/// Every file under `dir` (one level of sub-directories too), sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(
                std::fs::read_dir(&path).into_iter().flatten().flatten().map(|e| e.path()).filter(|p| p.is_file()),
            );
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn seeds(target: &Target) -> Vec<Vec<u8>> {
    let mut dirs = vec![corpus_dir(target.name)];
    dirs.extend(target.seed_dirs.iter().map(|d| repo().join(d)));
    let seeds: Vec<Vec<u8>> = dirs.iter().flat_map(|d| files(d)).filter_map(|p| std::fs::read(p).ok()).collect();
    assert!(!seeds.is_empty(), "fuzz target {} has no seeds (looked in {dirs:?})", target.name);
    seeds
}

/// Runs `check` once; a panic becomes an `Err` with its message.
fn execute(target: &Target, input: &[u8]) -> Result<String, String> {
    match catch_unwind(AssertUnwindSafe(|| (target.check)(input))) {
        Ok(outcome) => outcome,
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "a panic without a message".into());
            Err(format!("panicked: {message}"))
        }
    }
}

/// Writes a failing input where the next run replays it, and fails.
fn crash(target: &Target, input: &[u8], why: &str) -> ! {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    input.hash(&mut hasher);
    let path = corpus_dir(target.name).join(format!("crash-{:016x}", hasher.finish()));
    std::fs::create_dir_all(path.parent().expect("a corpus directory")).expect("the corpus directory is writable");
    std::fs::write(&path, input).expect("the crash file is writable");
    let shown = String::from_utf8_lossy(&input[..input.len().min(400)]).into_owned();
    panic!("fuzz target {}: {why}\ninput written to {} (first bytes: {shown:?})", target.name, path.display());
}

/// Replays the seeds, then mutates for the time budget; prints what it did.
pub fn run(target: &Target) {
    let started = Instant::now();
    let seed = seed();
    eprintln!("fuzz {}: seed {seed:x} (OPSBOT_FUZZ_SEED={seed:x} replays this run)", target.name);
    // Parsers log what they refuse; thousands of inputs a second must not.
    let _quiet = tracing::subscriber::set_default(tracing::subscriber::NoSubscriber::default());
    let mut corpus = seeds(target);
    let seeds = corpus.len();
    let mut outcomes = HashSet::new();
    for input in &corpus {
        match execute(target, input) {
            Ok(outcome) => outcomes.insert(outcome),
            Err(why) => crash(target, input, &why),
        };
    }
    let mut rng = Rng::new(seed);
    let mut executions = seeds as u64;
    let budget = budget();
    while started.elapsed() < budget {
        // The clock is read once per batch: it costs more than some parsers.
        for _ in 0..64 {
            let base = &corpus[rng.below(corpus.len())];
            let input = mutate::mutate(&mut rng, base, &corpus, target.dictionary, target.shape);
            executions += 1;
            match execute(target, &input) {
                Ok(outcome) => {
                    if outcomes.insert(outcome) {
                        keep(&mut rng, &mut corpus, seeds, input);
                    }
                }
                Err(why) => crash(target, &input, &why),
            }
        }
    }
    // The line docs/fuzzing.md records for the long run.
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "fuzz {}: {executions} executions in {secs:.0} s ({:.0}/s), {seeds} seeds, {} outcomes, corpus {}, 0 panics",
        target.name,
        executions as f64 / secs.max(1e-9),
        outcomes.len(),
        corpus.len(),
    );
}

/// A new find joins the corpus; when full, it replaces a find (never a seed).
fn keep(rng: &mut Rng, corpus: &mut Vec<Vec<u8>>, seeds: usize, input: Vec<u8>) {
    if corpus.len() < MAX_CORPUS.max(seeds + 1) {
        corpus.push(input);
    } else {
        let at = seeds + rng.below(corpus.len() - seeds);
        corpus[at] = input;
    }
}

/// An outcome made coarse: text in backticks, quotes and digits left out,
/// so that "unknown command `x`" and "… `y`" are one outcome, not two.
pub fn coarse(text: &str) -> String {
    let mut inside = false;
    let kept = text.chars().filter(|&c| {
        inside ^= c == '`';
        !inside && c != '`' && !c.is_ascii_digit()
    });
    kept.take(120).collect()
}
