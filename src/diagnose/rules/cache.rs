//! Module cache failures: go blocked on a version's `.lock` that another live process
//! holds (go prints nothing: only the cache and the process table show it), a cache go
//! cannot write (permissions, a read-only mount, a full disk, no locks), and corrupt or
//! half-written files in it.

use std::sync::LazyLock;

use regex::Regex;

use super::{found, subject};
use crate::diagnose::facts::{Facts, Started};
use crate::diagnose::{Category, Confidence, Diagnosis, ErrorText, EvidenceLine, Source};

/// go killed while another process held a lock in the module cache; or, from a log
/// alone, go killed after every request it made was answered and without an error: it
/// was waiting for something that is not the network, most likely a lock.
pub fn lock_stuck(f: &Facts) -> Option<Diagnosis> {
    // go's own stack, dumped while it waited, shows it blocked in a file lock.
    if let Some(frame) = &f.evidence.lock_wait
        && f.errors.is_empty()
    {
        let evidence = vec![EvidenceLine { source: Source::Stderr, text: frame.clone() }];
        let summary = "go's goroutine dump shows it blocked taking a file lock in its module cache (cmd/go's \
                       lockedfile): another process holds that lock (a stuck go command, an editor's gopls, a job \
                       sharing the cache)"
            .to_string();
        return Some(found(Category::CacheLockStuck, Confidence::High, summary, evidence, &["kill-lock-holder"]));
    }
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

/// The log-only reading of a stuck lock: killed without an error after go took a lock
/// (`# lock PATH` last in its trace), or after every traced request was answered and no
/// git command was left running.
fn waited_after_requests(f: &Facts) -> Option<Diagnosis> {
    if !f.errors.is_empty() {
        return None;
    }
    if let Some(Started::Lock(path)) = f.last_started() {
        let mut evidence = killed_lines(f);
        evidence.push(EvidenceLine { source: Source::Trace, text: format!("# lock {path} (the last thing go did)") });
        let summary = format!(
            "go was killed while waiting for the module cache lock {path}: the last thing its trace shows is taking \
             that lock, so another process held it (a stuck go command, an editor's gopls, a CI job sharing the cache)"
        );
        let diagnosis = found(Category::CacheLockStuck, Confidence::High, summary, evidence, &["kill-lock-holder"]);
        return Some(diagnosis.or(Category::Hang, Confidence::Low, "go may also have been slow after taking it"));
    }
    let trace = &f.evidence.trace;
    // `-x` prints every request go makes: a command that fetches modules, killed with
    // nothing printed at all, never reached the network (another go had fetched the
    // `.info` and `.mod` and holds the zip's lock while it waits itself).
    let fetches_with_trace = f.evidence.command.as_deref().is_some_and(|c| {
        let words: Vec<&str> = c.split_whitespace().collect();
        words.contains(&"-x")
            && words.windows(2).any(|w| matches!(w, ["mod", "download" | "tidy" | "graph"] | ["go", "get"]))
    });
    if trace.is_empty()
        && fetches_with_trace
        && f.evidence.stderr.trim().is_empty()
        && f.evidence.stdout.trim().is_empty()
    {
        let mut evidence = killed_lines(f);
        evidence.extend(
            f.evidence.command.as_ref().map(|c| EvidenceLine {
                source: Source::Exit,
                text: format!("{c} printed nothing before it was killed"),
            }),
        );
        let summary = "go was run with -x, which prints every request it makes, and was killed having printed \
                       nothing: it never reached the network; most likely it waited for a module cache lock another \
                       go process held (one stalled on the same download); run `modchaos doctor` on the machine to \
                       see the holder"
            .to_string();
        let diagnosis = found(Category::CacheLockStuck, Confidence::Low, summary, evidence, &["kill-lock-holder"]);
        return Some(diagnosis.or(Category::Hang, Confidence::Low, "go may have been slow before its first request"));
    }
    if trace.is_empty()
        || trace.iter().any(|g| g.result.is_none())
        || matches!(f.last_started(), Some(Started::Git { .. }))
    {
        return None;
    }
    let last = trace.last().map(|g| format!("# get {}: {}", g.url, g.result.as_deref().unwrap_or_default()));
    let mut evidence = killed_lines(f);
    evidence.extend(last.map(|text| EvidenceLine { source: Source::Trace, text }));
    // go's trace says `200 OK` for a zip when its headers arrive; the body comes after.
    // Killed then, go may as well have been waiting for a body that stalled — unless go
    // went on: `go: found M in …` (it read the zip) or `go: downloading` the next version
    // (whose lock it takes first), when the wait came after, for a lock or for anything
    // the log does not show.
    let zip_last = trace.last().is_some_and(|g| g.url.ends_with(".zip") && g.status() == Some(200));
    let went_on = f
        .evidence
        .stderr
        .lines()
        .rev()
        .take_while(|l| !l.trim_start().starts_with("# get "))
        .find(|l| ["go: found ", "go: downloading ", "go: extracting "].iter().any(|p| l.starts_with(p)));
    if let Some(line) = went_on.filter(|_| zip_last) {
        let mut evidence = evidence;
        evidence.push(EvidenceLine { source: Source::Stderr, text: line.to_string() });
        let summary = "go was killed without an error after its last request was answered and it had gone on (it \
                       read the zip, or moved to the next module): it was waiting for something other than the \
                       network, most likely a module cache lock another process held (go.sum's, or the next \
                       version's); run `modchaos doctor` on the machine to see the holder"
            .to_string();
        let diagnosis = found(Category::CacheLockStuck, Confidence::Low, summary, evidence, &["kill-lock-holder"]);
        return Some(diagnosis.or(
            Category::Hang,
            Confidence::Low,
            "go may have been slow at something the log does not show",
        ));
    }
    if zip_last {
        let summary = "go was killed without an error after the last request its trace shows, a module zip, was \
                       answered: the trace says `200 OK` when the headers arrive, so the zip's body may have \
                       stalled (a hang on the network), or go went on to wait for a module cache lock held by \
                       another process"
            .to_string();
        let diagnosis = found(Category::Hang, Confidence::Low, summary, evidence, &["use-mirror"]);
        return Some(diagnosis.or(
            Category::CacheLockStuck,
            Confidence::Low,
            "another process may hold a module cache lock go waited for (run `modchaos doctor` on the machine)",
        ));
    }
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

/// How the log or the user says the run was killed, as evidence.
fn killed_lines(f: &Facts) -> Vec<EvidenceLine> {
    let text = match (&f.evidence.killed, f.evidence.exit, f.evidence.duration_ms) {
        (Some(line), _, _) => format!("the run was killed: {line}"),
        (None, Some(exit), Some(ms)) => format!("killed ({}) after {:.1} s", exit.describe(), ms / 1000.0),
        (None, Some(exit), None) => format!("killed ({})", exit.describe()),
        (None, None, _) => return Vec::new(),
    };
    vec![EvidenceLine { source: Source::Exit, text }]
}

/// go denied its own configuration files, the workspace's go.work or the work module's
/// go.mod or go.sum, as the user it runs as: the same ownership problem as an unwritable cache (a
/// checkout, a workspace or a GOWORK directory made by root, used by an unprivileged user).
fn work_files_denied(f: &Facts) -> Option<Diagnosis> {
    static DENIED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:open|write|rename|create) (\S*go\.(?:work|mod|sum)): (permission denied|Access is denied)")
            .expect("compiles")
    });
    let (error, caps) = f.matching_own(&DENIED).last()?;
    let mut evidence = vec![error.line()];
    evidence.extend(f.env_line("GOWORK"));
    let summary = format!(
        "go cannot open {} ({}) as the user it runs as: the file, or a directory above it, belongs to another user (a \
         checkout or workspace made by root, used by an unprivileged user); fix its ownership or permissions, or run \
         go as its owner",
        &caps[1], &caps[2]
    );
    Some(found(Category::CachePermission, Confidence::Medium, summary, evidence, &[]))
}

/// Where a program go could not start lives, among go's own places.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExecPlace {
    /// Its work directory (TMPDIR's `go-build123/`).
    WorkDir,
    /// Its build cache (GOCACHE).
    BuildCache,
    /// Its module cache (GOMODCACHE).
    ModuleCache,
}

/// go could not write its caches or GOPATH: the module cache, the build cache (GOCACHE),
/// its work directory (TMPDIR), or could not even locate them (HOME unset). Paths of the
/// work module's own files (go.mod, go.sum, sources) are not go's caches.
pub fn permission(f: &Facts) -> Option<Diagnosis> {
    static DENIED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            // (An absolute path may hold spaces: `C:/Users/John Smith/go/pkg/mod/…`.)
            r"(?:rename \S+ |(?:mkdir|open|write|rename|remove|unlinkat|unlink|chmod|lstat|stat|symlink|link|create|RLock|Lock|fork/exec) )((?:[A-Za-z]:)?/[^:\n]*?|\S+?): ",
            r"(permission denied|read-only file system|no space left on device|disk quota exceeded|no locks available",
            r"|Access is denied|There is not enough space on the disk",
            r"|The process cannot access the file because it is being used by another process",
            // A filesystem without file locks as lockedfile meets it (ENOSYS, ENOTSUP from
            // flock or fcntl: some network, FUSE and virtual-machine shares).
            // (Windows: ERROR_INVALID_FUNCTION from LockFileEx on a \\wsl$ or network share.)
            r"|function not implemented|operation not supported|Incorrect function\.?)",
        ))
        .expect("compiles")
    });
    static SETUP: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"build cache is required, but could not be located[^\n]*|build cache is disabled by GOCACHE=off[^\n]*",
            r"|module cache not found: neither GOMODCACHE nor GOPATH is set|(?:GOPATH|GOMODCACHE) entry is relative[^\n]*",
            r"|failed to initialize build cache at \S+[^\n]*|could not create module cache: [^\n]*",
            r"|creating work dir: [^\n]*|cannot find go env config: [^\n]*|writing go env config: [^\n]*",
            r"|failed to create cache directory:? [^\n]*",
            // GOPATH-mode go get with neither GOPATH nor HOME set.
            r"|cannot download, \$GOPATH not set[^\n]*",
        ))
        .expect("compiles")
    });
    // With `/` for Windows' `\`, as the error's path is read.
    let caches: Vec<String> = ["GOMODCACHE", "GOCACHE", "GOPATH", "GOTMPDIR"]
        .iter()
        .filter_map(|v| f.env(v))
        .filter(|v| !v.is_empty())
        .map(|v| v.replace('\\', "/"))
        .collect();
    let go_owned = |path: &str| {
        // Inside a cache, every file is go's (a cached module's go.mod too); above one,
        // go was creating the directories that lead to it (GOPATH under a home that does
        // not exist, or is another user's).
        let above = path.trim_end_matches('/');
        let leads_to = |c: &str| !above.is_empty() && c.strip_prefix(above).is_some_and(|rest| rest.starts_with('/'));
        if caches.iter().any(|c| path.starts_with(c.as_str()) || leads_to(c))
            || ["/pkg/mod/", "go-build", "gocache", "modcache"].iter().any(|marker| path.contains(marker))
        {
            return true;
        }
        let own_file = [".go", "/go.mod", "/go.sum", "/go.work"].iter().any(|end| path.ends_with(end))
            || ["go.mod", "go.sum", "go.work"].contains(&path)
            || path.contains("/vendor/");
        !own_file
            && ["/pkg/mod", "/.cache", "gopath", "/cache/", ".lock", "/go/src/", "/go/pkg/", "/go/bin/"]
                .iter()
                .any(|marker| path.contains(marker))
    };
    let unsupported = |why: &str| {
        why == "function not implemented" || why == "operation not supported" || why.starts_with("Incorrect function")
    };
    // A full disk stops go wherever it writes (GOPATH, the work dir, a download).
    let full = |why: &str| {
        why == "no space left on device" || why == "disk quota exceeded" || why.contains("not enough space")
    };
    // go's own words, not a server's (`server response: …: no space left on device` is
    // the proxy's disk).
    let own = |e: &ErrorText| e.text.split("\n\tserver response").next().unwrap_or_default().to_string();
    // Windows paths read like the others.
    // Where a program go could not start lives, when it is one of go's places: its work
    // directory (`go-build123/`), its build cache (go ≥ 1.24 caches `go run`'s and `go
    // tool`'s executables there), its module cache (a toolchain it downloaded).
    let exec_place = |path: &str| {
        let gocache = f.env("GOCACHE").filter(|c| !c.is_empty());
        let gomodcache = f.env("GOMODCACHE").filter(|c| !c.is_empty());
        if gocache.is_some_and(|c| path.starts_with(c))
            || path.contains("/.cache/go-build/")
            || path.contains("/Local/go-build/")
        {
            Some(ExecPlace::BuildCache)
        } else if gomodcache.is_some_and(|c| path.starts_with(c)) || path.contains("/pkg/mod/") {
            Some(ExecPlace::ModuleCache)
        } else if WORK_DIR.is_match(path) {
            Some(ExecPlace::WorkDir)
        } else {
            None
        }
    };
    // Directories go was walking for a package pattern (`pattern ./...: open data:
    // permission denied`, the same path also printed alone) are the user's source tree, a
    // directory another user made inside it, not go's caches.
    static WALKED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?m)^(?:go: )?pattern \S+: (?:open|lstat|stat) (\S+?): (?:permission denied|Access is denied)")
            .expect("compiles")
    });
    let walked: Vec<String> = f
        .errors
        .iter()
        .filter_map(|e| WALKED.captures(&own(e).replace('\\', "/")).map(|c| c[1].trim_end_matches('/').to_string()))
        .filter(|path| {
            let in_cache =
                |var: &str| f.env(var).is_some_and(|c| !c.is_empty() && path.starts_with(&c.replace('\\', "/")));
            !path.contains("/pkg/mod/") && !in_cache("GOMODCACHE") && !in_cache("GOCACHE")
        })
        .collect();
    let denied = f.errors.iter().rev().find_map(|e| {
        let text = own(e).replace('\\', "/");
        let c = DENIED.captures(&text)?;
        if walked.iter().any(|w| c[1].trim_end_matches('/') == w) {
            return None;
        }
        // A program go could not start counts only in go's own places (GOROOT's tools and
        // GOBIN are the installation's, not a cache).
        let ran = if c[0].starts_with("fork/exec ") { Some(exec_place(&c[1])?) } else { None };
        // ENOSYS and ENOTSUP mean missing file locks only from a lock call; from another
        // operation they say something else the filesystem lacks.
        let lock_call = c[0].starts_with("Lock ") || c[0].starts_with("RLock ");
        // A filesystem without locks stops go wherever it locks, the work module's go.mod
        // too.
        let no_locks = lock_call && (unsupported(&c[2]) || &c[2] == "no locks available");
        let kept = (go_owned(&c[1]) || full(&c[2]) || no_locks) && (!unsupported(&c[2]) || lock_call);
        kept.then(|| (e, c[1].to_string(), c[2].to_string(), ran))
    });
    static WORK_DIR: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"/go-build\d+/").expect("compiles"));
    let setup = f.errors.iter().find_map(|e| SETUP.find(&own(e)).map(|m| (e, m.as_str().to_string())));
    // `ran`: the denied operation was starting a program (`fork/exec`) kept there, not
    // writing.
    let (error, path, why, ran) = match (denied, setup) {
        (Some(found), _) => found,
        (None, Some((e, what))) => (e, String::new(), what, None),
        (None, None) => return work_files_denied(f),
    };
    let mut evidence = vec![error.line()];
    evidence.extend(
        f.errors
            .iter()
            .chain(&f.warnings)
            .filter(|e| e.text.contains("writing stat cache") || e.text.contains("writing go.mod cache"))
            .map(|e| e.line()),
    );
    evidence.extend(cache_lines(f, |line| {
        line.starts_with("filesystem") || line.starts_with("not writable") || line.starts_with("module cache")
    }));
    evidence.extend(["HOME", "GOCACHE", "GOMODCACHE", "GOPATH"].iter().filter_map(|v| f.env_line(v)));
    let what = subject(&error.text).map(|s| format!(" while fetching {s}")).unwrap_or_default();
    // go's work directory (`creating work dir: …`), made under GOTMPDIR or TMPDIR.
    let work_dir = error.text.contains("creating work dir");
    let build_cache = !work_dir && path.contains("go-build")
        || path.contains("gocache")
        || why.contains("build cache")
        || error.text.contains("failed to initialize build cache")
        || f.env("GOCACHE").is_some_and(|c| !c.is_empty() && path.starts_with(c));
    // A file another process holds open (an antivirus scanning the fresh download).
    let held = why.contains("being used by another process");
    let (summary, playbooks): (String, &[&str]) = match why.as_str() {
        why if full(why) => (
            format!(
                "the filesystem of {path} is full ({why}{what}): free space (go clean -modcache, go clean -cache) or \
                 move GOMODCACHE / GOCACHE / TMPDIR to a bigger disk"
            ),
            &["move-module-cache", "clean-module-cache"],
        ),
        _ if held => (
            format!(
                "another process holds a file go was moving into its cache ({path}{what}): on Windows most often an \
                 antivirus or a search indexer scanning the fresh download, or another go or gopls; exclude the \
                 module cache from scanning, or run the command again"
            ),
            &["retry"],
        ),
        why if (why == "no locks available" || unsupported(why)) && !go_owned(&path) => (
            format!(
                "the filesystem holding the work module does not support file locks ({why} on {path}): a FUSE mount \
                 (Android's /sdcard), a \\\\wsl$ or network share; work in a directory on a local disk"
            ),
            &[],
        ),
        why if why == "no locks available" || unsupported(why) => (
            format!(
                "the module cache's filesystem does not support file locks ({why} on {path}): NFS without lockd, \
                 some FUSE mounts; move GOMODCACHE to a local disk"
            ),
            &["move-module-cache"],
        ),
        _ if work_dir => (
            format!(
                "go cannot create its work directory ({}): GOTMPDIR, or TMPDIR when it is unset, names a directory \
                 that does not exist, is not writable or is full; point it at one that is",
                error.text.trim().trim_start_matches("go: ")
            ),
            &[],
        ),
        _ if path.is_empty() => (
            format!(
                "go cannot set up its caches ({why}): HOME, GOCACHE or GOPATH is unset, relative, off or not \
                 writable; set GOCACHE and GOMODCACHE to writable absolute paths"
            ),
            &[],
        ),
        // go runs what it built from its work directory, and a toolchain it downloaded from
        // its module cache: a `noexec` mount there stops the run, not the build (on
        // Windows, `Access is denied` is more often an antivirus).
        _ if ran == Some(ExecPlace::WorkDir) => (
            format!(
                "go cannot run a program it built in its work directory ({why}: {path}): TMPDIR is most likely \
                 mounted noexec (a hardened /tmp), or an antivirus blocks it; point GOTMPDIR (or TMPDIR) at a \
                 directory that allows executing"
            ),
            &[],
        ),
        _ if ran == Some(ExecPlace::BuildCache) => (
            format!(
                "go cannot run a program it keeps in its build cache ({why}: {path}; go ≥ 1.24 caches what `go run` \
                 and `go tool` build): GOCACHE is most likely on a noexec mount, or an antivirus blocks it; point \
                 GOCACHE at a directory that allows executing"
            ),
            &[],
        ),
        _ if ran == Some(ExecPlace::ModuleCache) => (
            format!(
                "go cannot run {path} ({why}), which it keeps in its module cache (a toolchain it downloaded): the \
                 cache's filesystem is most likely mounted noexec, or an antivirus blocks it; move GOMODCACHE to a \
                 filesystem that allows executing"
            ),
            &["move-module-cache"],
        ),
        _ if build_cache => (
            format!(
                "go cannot write its build cache ({why}: {path}): GOCACHE (default ~/.cache/go-build) belongs to \
                 another user or is read-only (a container's HOME, a build sandbox); point GOCACHE at a writable \
                 directory"
            ),
            &[],
        ),
        // Windows: a rename of a fresh download refused is most often a scanner holding it
        // (go retries such renames only briefly); elsewhere the cache may be another user's
        // (made from an elevated prompt).
        why if why.starts_with("Access is denied") => (
            format!(
                "Windows refused go's write in the module cache ({why}: {path}{what}): {}; exclude the module cache \
                 from real-time scanning and run the command again, or fix the ownership",
                if error.text.contains("rename ") {
                    "most often an antivirus or a search indexer holding the fresh download while go renamed it into \
                     place, else a cache made from an elevated (administrator) prompt"
                } else {
                    "the cache was made from an elevated (administrator) prompt or belongs to another user, or an \
                     antivirus holds the file"
                }
            ),
            &["retry", "move-module-cache"],
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
    if held {
        // Held for a moment (a scan) or for good (a process that never lets go).
        return Some(found(Category::CachePermission, Confidence::Medium, summary, evidence, playbooks).or(
            Category::CacheLockStuck,
            Confidence::Low,
            "a process that keeps the file open for good blocks go like a held lock",
        ));
    }
    Some(found(Category::CachePermission, Confidence::High, summary, evidence, playbooks))
}

/// go failed with an error no rule explains, after warning that it could not write its
/// cache (`go: writing stat cache: … permission denied`): a cache another user made
/// (root's, in a container) is the likely cause, even when go's last words mislead
/// (`package m: cannot find package` when the shared build cache is root's).
///
/// A log without an exit status and without an error counts too when go warned that it
/// could not store a downloaded go.mod ([`module_cache_unwritable`]): a download that
/// cannot be stored is not extracted either, so go's error most likely went unpasted.
pub fn permission_warned(f: &Facts) -> Option<Diagnosis> {
    let untold = f.exit.is_none() && f.errors.is_empty();
    if f.exit == Some(crate::vocab::ExitExpectation::Success) || untold && module_cache_unwritable(f).is_none() {
        return None;
    }
    let warning = f.warnings.iter().find(|w| {
        ["permission denied", "read-only file system", "no space left on device"].iter().any(|why| w.text.contains(why))
    })?;
    if untold {
        let summary = format!(
            "go warned that it cannot store what it downloads in its module cache ({}), and the log shows no end: a \
             download it cannot store it cannot extract either, so go most likely failed; give this user its own \
             GOMODCACHE (the cache belongs to another user, or is read-only or full)",
            warning.text.trim()
        );
        return Some(found(
            Category::CachePermission,
            Confidence::Low,
            summary,
            vec![warning.line()],
            &["move-module-cache"],
        ));
    }
    let mut evidence = vec![warning.line()];
    evidence.extend(f.errors.iter().take(3).map(|e| e.line()));
    evidence.extend(["HOME", "GOCACHE", "GOMODCACHE"].iter().filter_map(|v| f.env_line(v)));
    let summary = format!(
        "go warned that it cannot write its cache ({}) and then failed with an error no rule explains: most likely the \
         cache belongs to another user (created by root in a container) or is read-only; give this user its own \
         GOCACHE and GOMODCACHE",
        warning.text.trim()
    );
    let diagnosis = found(Category::CachePermission, Confidence::Medium, summary, evidence, &["move-module-cache"]);
    Some(diagnosis.or(Category::Unknown, Confidence::Low, "the failure may have nothing to do with the warning"))
}

/// go's warning that a downloaded go.mod could not be written to the module cache, for a
/// reason that stops later writes too (not a stat cache, which go can do without).
pub fn module_cache_unwritable<'f>(f: &'f Facts) -> Option<&'f ErrorText> {
    f.warnings.iter().find(|w| {
        w.text.contains("writing go.mod cache")
            && ["permission denied", "read-only file system", "no space left on device"]
                .iter()
                .any(|why| w.text.contains(why))
    })
}

/// Files in the module cache that no longer are what go extracted or recorded: `go mod
/// verify`'s `dir has been modified`, `zip has been modified`, `missing ziphash`, a zip
/// it cannot read, an empty or unexpected ziphash, an extracted file gone.
pub fn corrupt_files(f: &Facts) -> Option<Diagnosis> {
    static MODIFIED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"(\S+ v\S+): (dir has been modified|zip has been modified|missing ziphash)",
            r"|verifying (\S+): (unexpected ziphash|missing ziphash)",
            r"|(?:open|stat|lstat) (\S*/pkg/mod/\S+@v[^/\s]+/\S+): (no such file or directory)",
            // `go mod verify` unable to read the cached zip at all.
            r"|(?m:^(\S+ v\d\S*): (zip: [^\n]+))",
        ))
        .expect("compiles")
    });
    let hits: Vec<_> = f.matching(&MODIFIED).collect();
    let (_, caps) = hits.first()?;
    let module =
        caps.get(1).or(caps.get(3)).or(caps.get(5)).or(caps.get(7)).map_or("a module", |m| m.as_str()).to_string();
    let what = caps.get(2).or(caps.get(4)).or(caps.get(6)).or(caps.get(8)).map_or("", |m| m.as_str()).to_string();
    let mut evidence: Vec<EvidenceLine> = hits.iter().map(|(e, _)| e.line()).collect();
    evidence.extend(cache_lines(f, |line| line.contains("ziphash") || line.contains("partial")));
    let confidence = if caps.get(5).is_some() { Confidence::Medium } else { Confidence::High };
    let summary = format!(
        "the module cache's copy of {module} is not what go downloaded ({what}): files were edited, deleted or \
         truncated after extraction (a tool writing into the cache, a broken CI cache restore, a full disk); \
         remove the cache (go clean -modcache) and download again"
    );
    Some(found(Category::CacheCorrupt, confidence, summary, evidence, &["clean-module-cache"]))
}

/// git refusing the module cache's own clone of a repository (`$GOMODCACHE/cache/vcs/…`):
/// it belongs to another user (git's `detected dubious ownership in repository at '%s'`,
/// since git 2.35.2), it is no longer a repository (`not a git repository`), or a git that
/// died left its lock file (`Unable to create '….lock': File exists.`). The network and
/// the host are not involved: the cache is what needs fixing.
pub fn vcs_clone(f: &Facts) -> Option<Diagnosis> {
    static CLONE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"(detected dubious ownership in repository at '[^']*/cache/vcs/[^']*')",
            r"|in (\S*/cache/vcs/\S+): exit status \d+:\s*fatal: (not a git repository[^\n]*)",
            r"|(Unable to create '[^']*/cache/vcs/[^']*\.lock': File exists)",
        ))
        .expect("compiles")
    });
    let (error, caps) = f.matching(&CLONE).last()?;
    let mut evidence = vec![error.line()];
    evidence.extend(["GOMODCACHE", "GOPATH"].iter().filter_map(|v| f.env_line(v)));
    let diagnosis = if let Some(why) = caps.get(1) {
        found(
            Category::CachePermission,
            Confidence::Medium,
            format!(
                "git refuses the module cache's clone of the repository ({}): the cache was made by another user (root \
                 in a container, another CI user); give this user its own GOMODCACHE, or fix the ownership",
                why.as_str()
            ),
            evidence,
            &["move-module-cache"],
        )
    } else if let Some(why) = caps.get(3) {
        found(
            Category::CacheCorrupt,
            Confidence::Medium,
            format!(
                "the module cache's clone {} is broken ({}): remove it (go clean -modcache) and retry",
                &caps[2],
                why.as_str().trim()
            ),
            evidence,
            &["clean-module-cache"],
        )
    } else {
        found(
            Category::CacheCorrupt,
            Confidence::Low,
            format!(
                "a git lock file is left in the module cache's clone ({}): a git that died (a killed job) left it, or \
                 another go command is fetching the same repository; remove the lock file or the clone",
                caps.get(4).map_or("", |m| m.as_str())
            ),
            evidence,
            &["clean-module-cache"],
        )
        .or(
            Category::CacheLockStuck,
            Confidence::Low,
            "another go command may be fetching the same repository now",
        )
    };
    Some(diagnosis)
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
