//! Pre-digested evidence for the rules: go's error messages gathered from stderr and
//! from `-json` records (go puts some errors only in one of them), trace fetches, the
//! request log, the configured environment.

use std::sync::LazyLock;

use regex::Regex;

use crate::evidence::log::KILLED_STATUSES;
use crate::evidence::{ErrorText, Evidence, TraceGet, is_warning};
pub use crate::vocab::glob::matches_prefix_patterns;
use crate::vocab::{EvidenceLine, Exit, ExitExpectation, Source};

/// What the rules look at.
pub struct Facts<'a> {
    /// The evidence itself.
    pub evidence: &'a Evidence,
    /// go's error messages, stderr first, then `-json` records (warnings left out).
    pub errors: Vec<ErrorText>,
    /// Messages go prints on success too (deprecations, retractions, a stat cache it
    /// could not write).
    pub warnings: Vec<ErrorText>,
    /// How the run ended, when known.
    pub exit: Option<ExitExpectation>,
    /// The run was killed before go ended it: at the harness's deadline, by a signal, with
    /// exit status 124/137/143, or a CI system's cancellation or timeout message says so.
    pub killed: bool,
}

impl<'a> Facts<'a> {
    /// Digests `evidence`.
    pub fn new(evidence: &'a Evidence) -> Facts<'a> {
        let (warnings, errors): (Vec<ErrorText>, Vec<ErrorText>) =
            evidence.errors().into_iter().partition(|e| is_warning(&e.text));
        // go run under timeout(1) that failed without a word of its own: the timeout
        // ended it (a CI step that retries hides timeout's 124 behind its own status).
        static UNDER_TIMEOUT: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"(?:^|[\s;&|(])timeout(?: -\S+)* \d+\S* (?:\S+=\S+ )*go ").expect("compiles"));
        let timed_out = |code: i32| {
            code != 0 && errors.is_empty() && evidence.command.as_deref().is_some_and(|c| UNDER_TIMEOUT.is_match(c))
        };
        let killed = evidence.killed.is_some()
            || match evidence.exit {
                Some(Exit::Timeout | Exit::Signal { .. }) => true,
                Some(Exit::Code { code }) => KILLED_STATUSES.contains(&code) || timed_out(code),
                None => false,
            };
        Facts { evidence, errors, warnings, exit: evidence.exit.map(Exit::kind), killed }
    }

    /// Whether go fetches `module` straight from its version control host rather than
    /// through a module proxy: `GOPROXY=direct`, or the module matches `GONOPROXY`
    /// (which defaults to `GOPRIVATE`).
    pub fn fetched_directly(&self, module: &str) -> bool {
        if self.env("GOPROXY").is_some_and(|p| p.trim() == "direct") {
            return true;
        }
        let patterns = self.env("GONOPROXY").filter(|p| !p.is_empty()).or_else(|| self.env("GOPRIVATE"));
        patterns.is_some_and(|p| matches_prefix_patterns(p, module))
    }

    /// Whether go says it downloaded a module in this run (`go: downloading M V`; a
    /// toolchain's `go: downloading go1.X` is no module's).
    pub fn downloaded_a_module(&self) -> bool {
        self.evidence.stderr.lines().any(|l| l.starts_with("go: downloading ") && !l.starts_with("go: downloading go"))
    }

    /// What go started last, as its `-x` trace shows: a request, taking a lock, or a git
    /// command (and whether that git command's timing line, which ends it, followed).
    pub fn last_started(&self) -> Option<Started> {
        let mut last = None;
        for line in self.evidence.stderr.lines().map(str::trim) {
            if let Some(rest) = line.strip_prefix("# get ") {
                if !rest.contains(": ") {
                    last = Some(Started::Request(rest.to_string()));
                }
            } else if let Some(path) = line.strip_prefix("# lock ") {
                last = Some(Started::Lock(path.to_string()));
            } else if line.contains("s # cd ") && line.contains("; git ") {
                if let Some(Started::Git { done, .. }) = &mut last {
                    *done = true;
                }
            } else if line.contains("; git ") || line.starts_with("git ") {
                let command = line.split_once("; ").map_or(line, |(_, c)| c).to_string();
                last = Some(Started::Git { command, done: false });
            }
        }
        last
    }

    /// The `-x` trace's requests that never got an answer line.
    pub fn pending(&self) -> Vec<&TraceGet> {
        self.evidence.trace.iter().filter(|g| g.result.is_none()).collect()
    }

    /// The `-x` trace's fetches that failed — an error status (400 or more) or an error
    /// in place of one — and that no later fetch of the same file answered with a 2xx
    /// (go falls through to the next GOPROXY entry, and retries some requests): what
    /// the trace says go could not get. Answers go expects to be "no" are no failure: a
    /// proxy's 404 or 410 to whether it serves a checksum database
    /// (`/sumdb/<name>/supported`), and one to a path prefix go asked about beside the
    /// path that was found ([`prefix_missed`]).
    pub fn failed_fetches(&self) -> Vec<&TraceGet> {
        let trace = &self.evidence.trace;
        trace
            .iter()
            .enumerate()
            .filter(|(_, g)| g.result.is_some() && g.status().is_none_or(|s| s >= 400))
            .filter(|(_, g)| !(g.url.ends_with("/supported") && g.url.contains("/sumdb/")))
            .filter(|(_, g)| !prefix_missed(g, trace))
            .filter(|(i, g)| {
                let file = url_path(&g.url);
                !trace[i + 1..].iter().any(|later| {
                    let other = url_path(&later.url);
                    later.status().is_some_and(|s| (200..300).contains(&s))
                        && other.len() > 1
                        && (other.ends_with(file) || file.ends_with(other))
                })
            })
            .map(|(_, g)| g)
            .collect()
    }

    /// The errors whose text matches `pattern`, in order.
    pub fn matching<'f>(
        &'f self,
        pattern: &'f regex::Regex,
    ) -> impl Iterator<Item = (&'f ErrorText, regex::Captures<'f>)> + 'f {
        self.errors.iter().filter_map(move |e| pattern.captures(&e.text).map(|c| (e, c)))
    }

    /// Like [`Facts::matching`], but only where go speaks for itself: a match inside a
    /// server's answer (`server response: …`, a proxy's account of its own git failing)
    /// is the server's experience, not this machine's.
    pub fn matching_own<'f>(
        &'f self,
        pattern: &'f regex::Regex,
    ) -> impl Iterator<Item = (&'f ErrorText, regex::Captures<'f>)> + 'f {
        self.matching(pattern).filter(|(e, c)| {
            let response = e.text.find("server response:").unwrap_or(e.text.len());
            c.get(0).is_some_and(|m| m.start() < response)
        })
    }

    /// What go saw for `var`: the configured value, else the one `go env -json` reported
    /// (the evidence of a log, or of `modchaos doctor`).
    pub fn env(&self, var: &str) -> Option<&str> {
        self.evidence.env_var(var).or_else(|| self.evidence.go_env.as_ref()?.get(var).map(String::as_str))
    }

    /// `VAR=value` as an evidence line, when set.
    pub fn env_line(&self, var: &str) -> Option<EvidenceLine> {
        self.env(var).map(|v| EvidenceLine { source: Source::Env, text: format!("{var}={v}") })
    }

    /// Request-log lines of requests where a fault fired or no 2xx came back.
    pub fn notable_requests(&self) -> Vec<EvidenceLine> {
        self.evidence
            .requests
            .iter()
            .filter(|r| !r.faults.is_empty() || r.status.is_none_or(|s| s >= 400))
            .map(|r| EvidenceLine { source: Source::Requests, text: r.line() })
            .collect()
    }
}

/// Something go started, in its `-x` trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Started {
    /// A request (`# get URL`).
    Request(String),
    /// Taking a module cache lock (`# lock PATH`, go 1.27).
    Lock(String),
    /// A git command, and whether it ended.
    Git {
        /// The command line.
        command: String,
        /// Its timing line (`0.071s # cd …; git …`) followed.
        done: bool,
    },
}

/// A 404 or 410 for one of the module paths go asks about together — every prefix of
/// the path it resolves (`go get corp.example/lib` asks the proxies about `corp.example`
/// too, and reads a `?go-get=1` page for each) — where a longer or shorter one was found
/// (on any GOPROXY entry: each prefix falls through the list on its own): the miss is
/// how go learns which prefix is the module.
fn prefix_missed(fetch: &TraceGet, trace: &[TraceGet]) -> bool {
    let Some(missed) = fetch.status().filter(|s| matches!(s, 404 | 410)).and(query(&fetch.url)) else {
        return false;
    };
    let within = |a: &str, b: &str| b.strip_prefix(a).is_some_and(|rest| rest.starts_with('/'));
    trace.iter().filter(|g| g.status().is_some_and(|s| (200..300).contains(&s))).filter_map(|g| query(&g.url)).any(
        |found| {
            found.file == missed.file
                && (within(&missed.module, &found.module) || within(&found.module, &missed.module))
        },
    )
}

/// What a module proxy or `?go-get=1` URL asks about.
struct Query<'u> {
    /// The (escaped) module or import path: a proxy URL's from its first element with a
    /// dot (a proxy may be mounted under a path of its own), a `?go-get=1` page's host and
    /// path.
    module: String,
    /// What about it: `@v/v1.0.0.info`, `@v/list`, `@latest`, `?go-get=1`.
    file: &'u str,
}

/// The [`Query`] of a module proxy or `?go-get=1` URL.
fn query(url: &str) -> Option<Query<'_>> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let slash = rest.find('/')?;
    let (host, path) = (&rest[..slash], &rest[slash..]);
    if let Some(at) = path.find("/@v/").or_else(|| path.find("/@latest")) {
        let module = crate::fixture::escape::module_in_proxy_path(&path[..at])?;
        return Some(Query { module, file: &path[at + 1..] });
    }
    let (path, query) = path.split_once('?')?;
    query
        .contains("go-get=1")
        .then(|| Query { module: format!("{host}{}", path.trim_end_matches('/')), file: "?go-get=1" })
}

/// A URL's path and query, without scheme and host: what identifies the file go fetched
/// whichever GOPROXY entry it asked (one mounted under a path has a longer one).
fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find('/').map_or("", |i| &rest[i..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fetch_fails_for_good_unless_another_answered_for_it() {
        let evidence = |trace: &str| Evidence { trace: crate::evidence::parse_trace(trace), ..Default::default() };
        let failed = |trace: &str| {
            let evidence = evidence(trace);
            Facts::new(&evidence).failed_fetches().iter().map(|g| g.url.clone()).collect::<Vec<_>>()
        };
        let get = |url: &str, result: &str| format!("# get {url}\n# get {url}: {result}\n");
        let info = "https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info";
        assert_eq!(failed(&get(info, "500 Internal Server Error (0.002s)")), [info]);
        assert_eq!(failed(&get(info, "Get \"x\": connection reset by peer")), [info]);
        // The next GOPROXY entry (mounted under a path) had it.
        let mirror = "https://mirror.corp.example/go/corp.example/lib/@v/v1.0.0.info";
        assert!(failed(&(get(info, "503 Service Unavailable (0.1s)") + &get(mirror, "200 OK (0.1s)"))).is_empty());
        // A prefix go asked about beside the module, found before or after it.
        let prefix = "https://proxy.corp.example/corp.example/@v/v1.0.0.info";
        let found = get(info, "200 OK (0.1s)");
        assert!(failed(&(get(prefix, "404 Not Found (0.1s)") + &found)).is_empty());
        assert!(failed(&(found.clone() + &get(prefix, "410 Gone (0.1s)"))).is_empty());
        let root = "https://git.corp.example/?go-get=1";
        assert!(
            failed(
                &(get(root, "404 Not Found (0.1s)") + &get("https://git.corp.example/stuck?go-get=1", "200 OK (0.1s)"))
            )
            .is_empty()
        );
        // The prefix falls through the GOPROXY list on its own.
        let elsewhere = "https://mirror.corp.example/go/corp.example/@v/v1.0.0.info";
        assert!(failed(&(get(elsewhere, "404 Not Found (0.1s)") + &found)).is_empty());
        // ... but a 500 for it is a failure, and so is a 404 for another module or version.
        assert_eq!(failed(&(get(prefix, "500 Internal Server Error (0.1s)") + &found)), [prefix]);
        let other = "https://proxy.corp.example/corp.example/util/@v/v1.0.0.info";
        assert_eq!(failed(&(get(other, "404 Not Found (0.1s)") + &found)), [other]);
        let version = "https://proxy.corp.example/corp.example/@v/v1.0.1.info";
        assert_eq!(failed(&(get(version, "404 Not Found (0.1s)") + &found)), [version]);
        // Whether a proxy serves a checksum database is a question.
        assert!(
            failed(&get("https://proxy.corp.example/sumdb/sum.golang.org/supported", "404 Not Found (0.1s)"))
                .is_empty()
        );
    }
}
