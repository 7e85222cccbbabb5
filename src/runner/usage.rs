//! What the process that ran a scenario used: CPU time and peak memory, its own and its
//! children's (go and git, which it waited for). A sealed child runs one scenario, so its
//! figures are that scenario's; the suite learns from them which scenarios mostly wait,
//! and benchmarks print them.

use serde::{Deserialize, Serialize};

/// CPU time and peak resident memory of this process and of its waited-for children.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// User and system CPU time of this process, in milliseconds.
    pub cpu_ms: f64,
    /// Peak resident set size of this process (`VmHWM`), in KiB.
    pub peak_rss_kib: u64,
    /// User and system CPU time of the children it waited for (go, git), in milliseconds.
    pub children_cpu_ms: f64,
    /// Peak resident set size of the largest child it waited for, in KiB.
    pub children_peak_rss_kib: u64,
}

impl Usage {
    /// This process's figures so far; `None` where the system does not tell.
    pub fn of_this_process() -> Option<Usage> {
        let own = rusage(libc::RUSAGE_SELF)?;
        let children = rusage(libc::RUSAGE_CHILDREN)?;
        Some(Usage {
            cpu_ms: cpu_ms(&own),
            // VmHWM is exact; ru_maxrss is the same figure where /proc is missing.
            peak_rss_kib: peak_rss_kib().unwrap_or(u64::try_from(own.ru_maxrss).unwrap_or(0)),
            children_cpu_ms: cpu_ms(&children),
            children_peak_rss_kib: u64::try_from(children.ru_maxrss).unwrap_or(0),
        })
    }

    /// CPU time of the process and its children together, in milliseconds.
    pub fn total_cpu_ms(&self) -> f64 {
        self.cpu_ms + self.children_cpu_ms
    }
}

/// `VmHWM` of this process, in KiB.
pub fn peak_rss_kib() -> Option<u64> {
    peak_rss_kib_of("self")
}

/// `VmHWM` of process `pid` (`"self"` for this one), in KiB, from `/proc/<pid>/status`.
pub fn peak_rss_kib_of(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn rusage(who: libc::c_int) -> Option<libc::rusage> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a whole rusage into the buffer it is given, which is
    // large enough and zero-initialised; the result is read only when it succeeded.
    let done = unsafe { libc::getrusage(who, usage.as_mut_ptr()) };
    // SAFETY: zero-initialised above, filled in by the kernel on success.
    (done == 0).then(|| unsafe { usage.assume_init() })
}

fn cpu_ms(usage: &libc::rusage) -> f64 {
    let ms = |t: libc::timeval| t.tv_sec as f64 * 1000.0 + t.tv_usec as f64 / 1000.0;
    ms(usage.ru_utime) + ms(usage.ru_stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_used_some_memory_and_cpu() {
        let mut spin = 0u64;
        for i in 0..2_000_000u64 {
            spin = spin.wrapping_add(i * i);
        }
        std::hint::black_box(spin);
        let usage = Usage::of_this_process().expect("Linux reports usage");
        assert!(usage.peak_rss_kib > 0, "{usage:?}");
        assert!(usage.cpu_ms >= 0.0 && usage.total_cpu_ms() >= usage.cpu_ms, "{usage:?}");
        assert_eq!(peak_rss_kib_of("0"), None, "pid 0 has no /proc entry");
    }
}
