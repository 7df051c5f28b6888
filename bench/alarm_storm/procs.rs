//! What the storm costs each process: peak resident memory (sampled every
//! 100 ms) and CPU time (user + system, from /proc/PID/stat), so a run can
//! say whether the replicas, the emulator or the load generator was the
//! limit. CPU time is counted in clock ticks of 1/100 s (`CLK_TCK` on Linux).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::measured::Rss;

/// CPU seconds (user + system) `pid` has used so far; 0 when it is gone.
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the `(comm)`: state is the 3rd field, utime the 14th, stime the 15th.
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks = |i: usize| fields.get(i - 3).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    (ticks(14) + ticks(15)) as f64 / 100.0
}

/// Each process's highest VmRSS sample, in the order of the pids.
pub type Peaks = Arc<Mutex<Vec<Rss>>>;

/// Samples every pid every 100 ms, keeping each one's highest VmRSS, until aborted.
pub fn sample_peaks(pids: Vec<u32>) -> (Peaks, tokio::task::JoinHandle<()>) {
    let peaks: Peaks = Arc::new(Mutex::new(pids.iter().map(|&p| Rss::of(p)).collect()));
    let shared = peaks.clone();
    let task = tokio::spawn(async move {
        loop {
            for (i, &pid) in pids.iter().enumerate() {
                let now = Rss::of(pid);
                let mut most = shared.lock().unwrap();
                if now.vm > most[i].vm {
                    most[i] = now;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    (peaks, task)
}

/// CPU seconds of each named process at one moment.
#[derive(Debug, Clone)]
pub struct CpuMark(Vec<f64>);

impl CpuMark {
    pub fn take(pids: &[u32]) -> CpuMark {
        CpuMark(pids.iter().map(|&p| cpu_seconds(p)).collect())
    }

    /// Per process: CPU seconds used since `earlier` and that as a share of
    /// one core over `wall`, e.g. `41.2 s (69% of a core)`.
    pub fn since(&self, earlier: &CpuMark, wall: Duration) -> Vec<String> {
        self.0
            .iter()
            .zip(&earlier.0)
            .map(|(now, then)| {
                let used = now - then;
                format!("{used:.1} s ({:.0}% of a core)", 100.0 * used / wall.as_secs_f64().max(0.001))
            })
            .collect()
    }
}

/// The 1-, 5- and 15-minute load averages, as /proc/loadavg says them.
pub fn loadavg() -> String {
    let l = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    l.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}
