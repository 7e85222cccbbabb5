//! Module cache failures: go blocked on a version's `.lock` that another live process
//! holds (go prints nothing: only the cache and the process table show it), a cache go
//! cannot write (permissions, a read-only mount, a full disk, no locks), and corrupt or
//! half-written files in it.

use std::sync::LazyLock;

use regex::Regex;

use super::{found, subject};
use crate::diagnose::facts::Facts;
use crate::diagnose::{Category, Confidence, Diagnosis, EvidenceLine, Source};

/// go killed while another process held a lock in the module cache; or, from a log
/// alone, go killed after every request it made was answered and without an error: it
/// was waiting for something that is not the network, most likely a lock.
pub fn lock_stuck(f: &Facts) -> Option<Diagnosis> {
    if !f.killed {
        return None;
    }
    let Some(cache) = f.evidence.cache.as_ref() else {
        return waited_after_requests(f);
    };
    // go holds a version's lock itself while it downloads the zip: a hang on the network
    // then shows go as the holder. Only a lock held by another process blocks go: one
    // whose holder is not go (when go's pid is known), or that go is seen waiting for.
    let go = f.evidence.pid.map(|p| p as i32);
    let blocks_go = |l: &&crate::modcache::inspect::HeldLock| match go {
        Some(go) => l.holders.iter().any(|h| h.pid != go),
        None => !l.holders.is_empty() && !l.waiters.is_empty(),
    };
    let Some(held) = cache.locks.iter().find(blocks_go) else {
        return waited_after_requests(f);
    };
    let describe = |p: &crate::modcache::inspect::LockProcess| {
        let command = p.argv.as_ref().map_or_else(|| "command line unknown".to_string(), |a| a.join(" "));
        format!("pid {} ({command})", p.pid)
    };
    let holders: Vec<String> = held.holders.iter().filter(|h| Some(h.pid) != go).map(describe).collect();
    let mut evidence = vec![EvidenceLine {
        source: Source::Exit,
        text: format!(
            "still running after {:.1} s without printing an error: killed at the deadline",
            f.evidence.duration_ms.unwrap_or_default() / 1000.0
        ),
    }];
    evidence.extend(cache_lines(f, |line| line.starts_with("lock held")));
    let waiting = if held.waiters.is_empty() {
        String::new()
    } else {
        format!(" (waiting: {})", held.waiters.iter().map(describe).collect::<Vec<_>>().join(", "))
    };
    let summary = format!(
        "go is blocked on the module cache lock {}, held by {}{waiting}: another go command (a stuck CI job, an \
         editor's gopls) is downloading the same version, or died holding it; go waits forever without a word",
        held.path,
        holders.join(", ")
    );
    Some(found(Category::CacheLockStuck, Confidence::High, summary, evidence, &["kill-lock-holder"]))
}

/// The log-only reading of a stuck lock: killed, every traced request answered, no error.
fn waited_after_requests(f: &Facts) -> Option<Diagnosis> {
    let trace = &f.evidence.trace;
    if trace.is_empty() || trace.iter().any(|g| g.result.is_none()) || !f.errors.is_empty() {
        return None;
    }
    let last = trace.last().map(|g| format!("# get {}: {}", g.url, g.result.as_deref().unwrap_or_default()));
    let mut evidence: Vec<EvidenceLine> = f
        .evidence
        .killed
        .iter()
        .map(|l| EvidenceLine { source: Source::Exit, text: format!("the run was killed: {l}") })
        .collect();
    evidence.extend(last.map(|text| EvidenceLine { source: Source::Trace, text }));
    let summary = "go was killed after every request it made had been answered, without printing an error: it was \
                   waiting for something other than the network, most likely a module cache lock held by another go \
                   process (run `modchaos doctor` on the machine to see the holder)"
        .to_string();
    let diagnosis = found(Category::CacheLockStuck, Confidence::Medium, summary, evidence, &["kill-lock-holder"]);
    Some(diagnosis.or(
        Category::Hang,
        Confidence::Low,
        "go may also have been slow at something the log does not show (compiling, a git command)",
    ))
}

/// go could not write the module cache.
pub fn permission(f: &Facts) -> Option<Diagnosis> {
    static DENIED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"(?:mkdir|open|write|rename|remove|unlinkat|chmod|lstat|stat) (\S+?): ",
            r"(permission denied|read-only file system|no space left on device|disk quota exceeded|no locks available)",
        ))
        .expect("compiles")
    });
    let modcache = f.env("GOMODCACHE");
    let (error, caps) = f
        .matching(&DENIED)
        .filter(|(_, caps)| {
            let path = &caps[1];
            modcache.is_some_and(|m| path.starts_with(m)) || path.contains("/pkg/mod/") || path.contains("/pkg/mod:")
        })
        .last()?;
    let path = caps[1].to_string();
    let why = caps[2].to_string();
    let mut evidence = vec![error.line()];
    evidence.extend(
        f.errors
            .iter()
            .filter(|e| e.text.contains("writing stat cache") || e.text.contains("writing go.mod cache"))
            .map(|e| e.line()),
    );
    evidence.extend(cache_lines(f, |line| {
        line.starts_with("filesystem") || line.starts_with("not writable") || line.starts_with("module cache")
    }));
    let what = subject(&error.text).map(|s| format!(" while fetching {s}")).unwrap_or_default();
    let (summary, playbooks): (String, &[&str]) = match why.as_str() {
        "no space left on device" | "disk quota exceeded" => (
            format!(
                "the module cache's filesystem is full ({why} writing {path}{what}): free space (go clean -modcache) \
                 or move GOMODCACHE to a bigger disk"
            ),
            &["move-module-cache", "clean-module-cache"],
        ),
        "no locks available" => (
            format!(
                "the module cache's filesystem does not support file locks ({why} on {path}): NFS without lockd, \
                 some FUSE mounts; move GOMODCACHE to a local disk"
            ),
            &["move-module-cache"],
        ),
        _ => (
            format!(
                "go cannot write the module cache ({why}: {path}{what}): it belongs to another user (a cache \
                 created by root in a container), or lives on a read-only mount; fix the ownership or point \
                 GOMODCACHE elsewhere"
            ),
            &["move-module-cache"],
        ),
    };
    Some(found(Category::CachePermission, Confidence::High, summary, evidence, playbooks))
}

/// The cache's inspection lines that `keep` selects, as evidence.
fn cache_lines(f: &Facts, keep: impl Fn(&str) -> bool) -> Vec<EvidenceLine> {
    f.evidence
        .cache
        .as_ref()
        .map(|c| {
            c.lines().into_iter().filter(|l| keep(l)).map(|text| EvidenceLine { source: Source::Cache, text }).collect()
        })
        .unwrap_or_default()
}
