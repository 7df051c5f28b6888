//! The opsbot process a benchmark measures: which binary (and whether it has
//! the start-up layout build.rs links the release binary with), and its
//! resident memory.
//!
//! `OPSBOT_BIN` names it; without it, the one `cargo bench` built. The
//! start-up order (bench/layout/startup.order) names functions as the release
//! profile mangles them, so only `cargo build --release` output gets it: the
//! bench profile's symbols carry other hashes. `cargo bench` also rebuilds
//! target/release/opsbot with its own profile, so measure what ships from a
//! copy: `cargo build --release && cp target/release/opsbot /tmp/opsbot-release`,
//! then `OPSBOT_BIN=/tmp/opsbot-release cargo bench --bench NAME`.

/// The binary to start, and a line saying what it is.
pub fn binary() -> String {
    let binary = std::env::var("OPSBOT_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_opsbot").to_string());
    println!("measuring {binary}; start-up layout: {}", layout_coverage(&binary));
    binary
}

/// How many functions of the start-up order `binary` has: all of them when
/// build.rs could place them; few when the file is stale (new dependency
/// versions or toolchain: run bench/layout/record.sh) or the binary is not a
/// release build.
fn layout_coverage(binary: &str) -> String {
    let order = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/bench/layout/startup.order"));
    let Ok(out) = std::process::Command::new("nm").arg(binary).output() else { return "unknown (no nm)".into() };
    let symbols = String::from_utf8_lossy(&out.stdout);
    let symbols: std::collections::HashSet<&str> = symbols.lines().filter_map(|l| l.split(' ').nth(2)).collect();
    let order = order.unwrap_or_default();
    let wanted: Vec<&str> = order.lines().collect();
    let found = wanted.iter().filter(|name| symbols.contains(*name)).count();
    format!("{found} of the {} functions of bench/layout/startup.order", wanted.len())
}

/// Resident memory from /proc/PID/status, in KiB: VmRSS and its parts, RssAnon
/// (what the process allocated) and RssFile (mapped files: mostly its code).
#[derive(Debug, Clone, Copy, Default)]
pub struct Rss {
    pub vm: u64,
    pub anon: u64,
    pub file: u64,
}

impl Rss {
    pub fn of(pid: u32) -> Rss {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let kib = |key: &str| {
            status.lines().find_map(|l| l.strip_prefix(key)?.trim().trim_end_matches(" kB").parse().ok()).unwrap_or(0)
        };
        Rss { vm: kib("VmRSS:"), anon: kib("RssAnon:"), file: kib("RssFile:") }
    }

    pub fn show(&self) -> String {
        let mb = |k: u64| k as f64 / 1024.0;
        format!("{:.1} MB (anon {:.1}, file {:.1})", mb(self.vm), mb(self.anon), mb(self.file))
    }
}
