//! Verdicts from how the run ended rather than from what go said: success (warnings
//! included), and the hang (go killed — at the deadline, by a CI system's timeout or
//! cancellation, by a signal — with nothing else to blame, or a log that ends in the
//! middle of a request).

use std::sync::LazyLock;

use regex::Regex;

use super::found;
use crate::diagnose::facts::{Facts, Started};
use crate::diagnose::{Category, Confidence, Diagnosis, EvidenceLine, Source};
use crate::vocab::ExitExpectation;

/// No failure. Exit status 0 and no failed `-json` record is a success, warnings or not
/// (deprecated or retracted modules, a stat cache go could not write, a test's own log
/// lines). A log without an exit status is a success only when go printed no error, the
/// run was not killed, no request was left unanswered and none failed for good (its
/// `-x` trace holds the failure where go's error went to stdout's `-json` records, which
/// a paste of stderr leaves out): with medium confidence when go
/// shows it finished (its `-json` records, `all modules verified`, `go test`'s `ok`,
/// `go get`'s `go: added …`), low when go only shows it worked or warned — but never when
/// it warned that it cannot store downloads in its module cache (the cache rules' case).
pub fn success(f: &Facts) -> Option<Diagnosis> {
    let clean_records = f.evidence.records.iter().all(|r| r.error.is_none());
    if f.killed || !clean_records || f.evidence.lock_wait.is_some() || f.evidence.crashed.is_some() {
        return None;
    }
    let warned: Vec<EvidenceLine> = f.warnings.iter().map(|w| w.line()).collect();
    // `-e` (go mod tidy -e, go list -e) makes go go on past errors and exit 0: the errors
    // it printed on the way are still the download's failures.
    let tolerated = f.evidence.command.as_deref().is_some_and(goes_on_past_errors);
    if f.exit == Some(ExitExpectation::Success) && (!tolerated || f.errors.is_empty()) {
        let summary = if warned.is_empty() { "go succeeded" } else { "go succeeded (with warnings)" };
        return Some(found(Category::None, Confidence::High, summary.into(), warned, &[]));
    }
    if f.exit.is_some()
        || !f.errors.is_empty()
        || !f.pending().is_empty()
        || !f.failed_fetches().is_empty()
        || super::cache::module_cache_unwritable(f).is_some()
    {
        return None;
    }
    static FINISHED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?m)^(?:all modules verified|ok  \t|go(?: get)?: (?:added|upgraded|downgraded|removed) |PASS$|go: no module dependencies to download$)")
            .expect("compiles")
    });
    static WORKED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(&format!(
            concat!(
            // go's progress lines, `go version`, -x's WORK line, `go list -m`'s listing, and
            // what `go mod tidy -v` (`unused M`) and `go mod vendor -v` (`## explicit`) print.
            r"(?m)^(?:go: downloading |go: finding |go: found |go: extracting |go version go\d|WORK=\S*go-build|{}$|{}$",
            // go creating go.mod, choosing a toolchain, and tidying requirements; `-x`'s build.
            r"|go: creating new go\.mod: module \S+$|go: upgrading toolchain to go|go: using (?:local toolchain go|go\d\S* toolchain )",
            r"|go: dropping requirement on excluded version |go: skipping download of |go: no dependencies to vendor$",
            r"|mkdir -p \$WORK/b\d+/$)",
            ),
            crate::evidence::LISTING_LINE,
            crate::evidence::TIDY_VENDOR_LINE
        ))
        .expect("compiles")
    });
    let output = format!("{}\n{}", f.evidence.stderr, f.evidence.stdout);
    // `go test ./...` prints no `exit status 1` of its own: its FAIL lines are the failure.
    if TEST_FAILED.is_match(&output) {
        return None;
    }
    let finished = !f.evidence.records.is_empty() || FINISHED.is_match(&output);
    let worked = !f.evidence.trace.is_empty() || !warned.is_empty() || WORKED.is_match(&output);
    let mut evidence = warned;
    evidence.extend(f.evidence.context.iter().map(|c| EvidenceLine { source: Source::Exit, text: c.clone() }));
    if finished {
        Some(found(
            Category::None,
            Confidence::Medium,
            "go's output shows it finished without an error (the log has no exit status)".into(),
            evidence,
            &[],
        ))
    } else if worked {
        // Work without an end: a success, or a run killed silently while it waited.
        let diagnosis = found(
            Category::None,
            Confidence::Low,
            "go printed no error, but nothing shows it finished (the log has no exit status)".into(),
            evidence,
            &[],
        );
        Some(diagnosis.or(
            Category::Hang,
            Confidence::Low,
            "if the run was killed (a CI timeout the log does not show), go was still waiting",
        ))
    } else {
        None
    }
}

/// Killed before go ended (or a log ending in the middle of a request): name what go was
/// waiting for.
pub fn hang(f: &Facts) -> Option<Diagnosis> {
    let pending = f.pending();
    // A -x trace whose last requests have no answer line, and no error after them: the
    // log ends while go waits.
    let cut_short = f.exit.is_none() && f.errors.is_empty() && !pending.is_empty();
    if !f.killed && !cut_short {
        return None;
    }
    let mut evidence = Vec::new();
    match (f.evidence.duration_ms, &f.evidence.killed) {
        (_, Some(line)) => {
            evidence.push(EvidenceLine { source: Source::Exit, text: format!("the run was killed: {line}") })
        }
        (Some(ms), None) if f.killed => evidence.push(EvidenceLine {
            source: Source::Exit,
            text: format!("still running after {:.1} s: killed ({})", ms / 1000.0, exit_words(f)),
        }),
        _ if f.killed => {
            evidence.push(EvidenceLine { source: Source::Exit, text: format!("killed ({})", exit_words(f)) })
        }
        _ => {}
    }
    evidence.extend(
        pending.iter().map(|g| EvidenceLine {
            source: Source::Trace,
            text: format!("# get {} (no answer before the end)", g.url),
        }),
    );
    let unanswered: Vec<_> = f.evidence.requests.iter().filter(|r| r.status.is_none()).collect();
    evidence.extend(unanswered.iter().map(|r| EvidenceLine { source: Source::Requests, text: r.line() }));
    evidence.extend(f.env_line("GOPROXY"));
    let git = match f.last_started() {
        Some(Started::Git { command, done: false }) => Some(command),
        _ => None,
    };
    evidence.extend(git.iter().map(|c| EvidenceLine { source: Source::Trace, text: format!("{c} (never ended)") }));
    let waiting = pending
        .last()
        .map(|g| format!("GET {}", g.url))
        .or_else(|| git.map(|c| format!("`{c}` (git has no timeout either)")))
        .or_else(|| unanswered.last().map(|r| format!("{} {} on {}", r.method, r.path, r.host)));
    let (summary, confidence) = match (&waiting, f.killed) {
        (Some(what), true) => (
            format!(
                "go was still waiting for {what} when it was killed: no answer came (go's HTTP client has no timeout for module downloads)"
            ),
            Confidence::High,
        ),
        (Some(what), false) => (
            format!(
                "the log ends while go waits for {what}: the run was killed (a CI timeout or cancellation) before an answer came (go's HTTP client has no timeout for module downloads)"
            ),
            Confidence::Medium,
        ),
        // Without a trace there is no telling a network wait from a lock or a slow build.
        (None, _) => (
            "go was killed before it ended and printed no error: no progress shows in its output (run with -x to see \
             what it waits for)"
                .into(),
            Confidence::Low,
        ),
    };
    let diagnosis = found(Category::Hang, confidence, summary, evidence, &["use-mirror"]);
    Some(if confidence == Confidence::Low {
        diagnosis.or(Category::CacheLockStuck, Confidence::Low, "go may have been waiting for a module cache lock")
    } else {
        diagnosis
    })
}

/// A line of `go test`'s saying a test or a package failed (`--- FAIL: TestX`, `FAIL\tpkg
/// 0.004s`, the closing `FAIL`).
static TEST_FAILED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^(?:--- FAIL: |FAIL\t\S|FAIL$)").expect("compiles"));

/// `go test` reported a failing test, and nothing else went wrong: the code's failure,
/// not a download's — `unknown`, with the failing lines as evidence (never `none`: a
/// package that passed beside it does not make the run a success).
pub fn test_failed(f: &Facts) -> Option<Diagnosis> {
    // go's own errors beside them are read for what they are (a paste may have broken one).
    if !f.errors.is_empty() {
        return None;
    }
    let output = format!("{}\n{}", f.evidence.stderr, f.evidence.stdout);
    let lines: Vec<EvidenceLine> = output
        .lines()
        .filter(|l| TEST_FAILED.is_match(l) && *l != "FAIL")
        .take(5)
        .map(|l| EvidenceLine { source: Source::Stderr, text: l.to_string() })
        .collect();
    if lines.is_empty() {
        return None;
    }
    let summary = "a test failed (go test's FAIL lines), and nothing shows a download failing: the code's failure, \
                   not one modchaos diagnoses";
    Some(found(Category::Unknown, Confidence::Low, summary.into(), lines, &[]))
}

/// A Go program crashed: a runtime `fatal error:` or a `panic:` with its goroutine
/// trace — go itself (out of memory, a bug) or a program it ran (a test, a generator).
/// Not a download failure and not a success: `unknown`, with the crash as evidence.
pub fn crash(f: &Facts) -> Option<Diagnosis> {
    let line = f.evidence.crashed.clone()?;
    Some(found(
        Category::Unknown,
        Confidence::Low,
        format!(
            "a Go program crashed ({line}): go itself or a program it ran (a test, a code generator); not a module \
             download failure"
        ),
        vec![EvidenceLine { source: Source::Stderr, text: line }],
        &[],
    ))
}

/// How the run's end reads, for the evidence.
fn exit_words(f: &Facts) -> String {
    f.evidence.exit.map_or_else(|| "how is not known".to_string(), |e| e.describe())
}

/// A go command whose `-e` makes it go on past errors and exit 0 (`go list -e`, `go mod
/// tidy -e`, `go mod vendor -e`, `go work vendor -e`): only the go command's own words,
/// before a pipe or another command, and before `--` or `-args`.
fn goes_on_past_errors(command: &str) -> bool {
    let own = command.split(['|', ';', '&', '>']).next().unwrap_or_default();
    let words: Vec<&str> = own.split_whitespace().take_while(|w| *w != "--" && *w != "-args").collect();
    let Some(go) = words.iter().position(|w| *w == "go") else {
        return false;
    };
    let subcommand = &words[go + 1..];
    let tolerant = matches!(subcommand, ["list", ..] | ["mod", "tidy" | "vendor", ..] | ["work", "vendor", ..]);
    tolerant && subcommand.contains(&"-e")
}
