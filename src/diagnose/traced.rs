//! go's `-x` trace read for a failure go's own lines do not show. `go mod download -json
//! -x` writes its error into the `-json` records on stdout and only the trace on stderr,
//! so a paste of stderr holds a fetch that failed (`# get URL: 500 Internal Server Error
//! (0.002s)`) and no error line at all. The last fetch that failed for good is read as the
//! error go prints for it (`M@V: reading URL: 500 Internal Server Error`, or the `Get
//! "URL": …` error the trace quotes), by the same rules as go's own lines. The verdict
//! quotes the trace line (never a line go did not print) and is no surer than medium
//! (low where nothing says go failed, with a hang as the other reading): go's error
//! line, which may say more (a server's answer, an earlier failure it reports instead),
//! is missing.

use super::facts::Facts;
use super::rules::RULES;
use super::{Category, Confidence, Diagnosis, EvidenceLine, Source, decide};
use crate::evidence::{ErrorText, Evidence};
use crate::gooutput::TraceGet;
use crate::vocab::ExitExpectation;

/// The verdict the trace's last failed fetch gives, when go printed no error and the run
/// was not killed (a killed run's last request is the hang rule's).
pub(super) fn reading(evidence: &Evidence) -> Option<Diagnosis> {
    let facts = Facts::new(evidence);
    if !facts.errors.is_empty() || facts.killed {
        return None;
    }
    let failed = last_failure(&facts.failed_fetches())?;
    let result = failed.result.as_deref()?;
    let line = as_go_prints_it(failed);
    let quoted = format!("# get {}: {result}", failed.url);
    let mut read = Facts::new(evidence);
    read.errors = vec![ErrorText { source: Source::Trace, text: line.clone() }];
    let mut verdicts = RULES
        .iter()
        .filter_map(|(_, rule)| rule(&read))
        .filter(|d| !matches!(d.category, Category::None | Category::Unknown));
    let first = verdicts.next()?;
    let mut diagnosis = decide(&read, first, verdicts);
    // The trace line itself, where the rule quoted the line made from it.
    let mut lines = vec![EvidenceLine { source: Source::Trace, text: quoted }];
    for l in diagnosis.evidence.drain(..) {
        if l.text != line && !lines.contains(&l) {
            lines.push(l);
        }
    }
    diagnosis.evidence = lines;
    let go_failed = matches!(facts.exit, Some(ExitExpectation::Failure | ExitExpectation::Timeout));
    let cap = if go_failed { Confidence::Medium } else { Confidence::Low };
    diagnosis.confidence = diagnosis.confidence.min(cap);
    for alternative in &mut diagnosis.alternatives {
        alternative.confidence = alternative.confidence.min(cap);
    }
    diagnosis.summary = format!(
        "{} (read from go's -x trace: go's own error line is not in the log{})",
        diagnosis.summary,
        if go_failed { "" } else { ", nor how go ended" }
    );
    // Nothing says go ended: it may have been killed while it went on (a later fetch, a
    // lock), with the log cut there.
    if !go_failed {
        diagnosis = diagnosis.or(
            Category::Hang,
            Confidence::Low,
            "nothing shows go ended: if the run was killed (a CI timeout the log does not show), go was still at work",
        );
    }
    Some(diagnosis)
}

/// The fetch whose failure go reports: the last one, or where go asked about several
/// prefixes of one module path at that version and all failed (`go get` asks about
/// `corp.example` beside `corp.example/lib`), the whole path's, which go's error names.
fn last_failure<'t>(failed: &[&'t TraceGet]) -> Option<&'t TraceGet> {
    let last = *failed.last()?;
    let Some((module, version)) = module_version(&last.url) else { return Some(last) };
    let longer = failed.iter().filter_map(|g| {
        let (path, v) = module_version(&g.url)?;
        let related = path.strip_prefix(module.as_str()).is_some_and(|rest| rest.starts_with('/'));
        (related && v == version).then_some((path.len(), *g))
    });
    Some(longer.max_by_key(|(len, _)| *len).map_or(last, |(_, g)| g))
}

/// The error go prints for a failed fetch: `reading URL: <status>` for an error status,
/// else the error the trace quotes (`Get "URL": dial tcp …`), after the module version
/// the URL asks a module proxy for (`corp.example/lib@v1.0.0: `), as go names it.
pub(crate) fn as_go_prints_it(fetch: &TraceGet) -> String {
    let result = fetch.result.as_deref().unwrap_or_default();
    let error = match fetch.status() {
        // The trace adds how long the fetch took: `500 Internal Server Error (0.002s)`.
        Some(_) => {
            let status = result.rsplit_once(" (").filter(|(_, t)| t.ends_with("s)")).map_or(result, |(s, _)| s);
            format!("reading {}: {status}", fetch.url)
        }
        None => result.to_string(),
    };
    match module_version(&fetch.url) {
        Some((module, version)) => format!("go: {module}@{version}: {error}"),
        None => error,
    }
}

/// The module and version a module proxy URL asks for (`…/corp.example/!lib/@v/v1.0.0.zip`
/// → `corp.example/Lib`, `v1.0.0`): the module path starts at the first path element with a
/// dot, as a proxy mounted under a path (`/artifactory/api/go/…`) has none in its own.
fn module_version(url: &str) -> Option<(String, String)> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = &rest[rest.find('/')?..];
    let (module, file) = path.split_once("/@v/")?;
    let version = ["info", "mod", "zip"].iter().find_map(|ext| file.strip_suffix(&format!(".{ext}")[..]))?;
    let module = crate::fixture::escape::unescape(&crate::fixture::escape::module_in_proxy_path(module)?).ok()?;
    let version = crate::fixture::escape::unescape(version).ok()?;
    Some((module, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fetch(url: &str, result: &str) -> TraceGet {
        TraceGet { url: url.into(), result: Some(result.into()) }
    }

    #[test]
    fn a_failed_fetch_reads_as_gos_error_for_it() {
        let status =
            fetch("https://proxy.corp.example/corp.example/!lib/@v/v1.0.0.info", "500 Internal Server Error (0.002s)");
        assert_eq!(
            as_go_prints_it(&status),
            "go: corp.example/Lib@v1.0.0: reading https://proxy.corp.example/corp.example/!lib/@v/v1.0.0.info: 500 \
             Internal Server Error"
        );
        let error = fetch(
            "https://art.corp.example/api/go/remote/corp.example/lib/@v/v1.0.0.zip",
            "Get \"https://art.corp.example/api/go/remote/corp.example/lib/@v/v1.0.0.zip\": connection reset by peer",
        );
        assert!(as_go_prints_it(&error).starts_with("go: corp.example/lib@v1.0.0: Get \"https://art"));
        // Every prefix go asked about failed: go's error names the whole path.
        let failed = [
            fetch("https://p.example/corp.example/lib/@v/v1.0.0.info", "404 Not Found (0.1s)"),
            fetch("https://p.example/corp.example/@v/v1.0.0.info", "404 Not Found (0.1s)"),
        ];
        let refs: Vec<&TraceGet> = failed.iter().collect();
        assert_eq!(last_failure(&refs), Some(&failed[0]));
        // No module version in a list's URL: the error alone.
        let list = fetch("https://p.example/corp.example/lib/@v/list", "404 Not Found (0.1s)");
        assert_eq!(as_go_prints_it(&list), "reading https://p.example/corp.example/lib/@v/list: 404 Not Found");
    }
}
