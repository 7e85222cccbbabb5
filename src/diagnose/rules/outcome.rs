//! Verdicts from how the run ended rather than from what go said: success, and the hang
//! (go killed at the deadline with nothing else to blame).

use super::found;
use crate::diagnose::facts::Facts;
use crate::diagnose::{Category, Confidence, Diagnosis, EvidenceLine, Source};
use crate::vocab::ExitExpectation;

/// Exit status 0 and no failed `-json` record: nothing to diagnose. A log without an
/// exit status counts as a success when go's output shows work done (fetches, records)
/// and no error at all.
pub fn success(f: &Facts) -> Option<Diagnosis> {
    let clean_records = f.evidence.records.iter().all(|r| r.error.is_none());
    if f.exit == Some(ExitExpectation::Success) && clean_records {
        return Some(found(Category::None, Confidence::High, "go succeeded".into(), Vec::new(), &[]));
    }
    // go always prints its errors (on stderr, or in the -json records): none at all, after
    // fetches or records that show it ran, is a success.
    let did_work = !f.evidence.records.is_empty() || !f.evidence.trace.is_empty();
    (f.exit.is_none() && did_work && clean_records && f.errors.is_empty()).then(|| {
        found(
            Category::None,
            Confidence::Medium,
            "go's output shows no failure (the log has no exit status)".into(),
            Vec::new(),
            &[],
        )
    })
}

/// Killed at the deadline: name what go was waiting for.
pub fn hang(f: &Facts) -> Option<Diagnosis> {
    if f.exit != Some(ExitExpectation::Timeout) {
        return None;
    }
    let mut evidence = vec![EvidenceLine {
        source: Source::Exit,
        text: format!(
            "still running after {:.1} s: killed at the deadline",
            f.evidence.duration_ms.unwrap_or_default() / 1000.0
        ),
    }];
    let pending: Vec<_> = f.evidence.trace.iter().filter(|g| g.result.is_none()).collect();
    evidence.extend(pending.iter().map(|g| EvidenceLine {
        source: Source::Trace,
        text: format!("# get {} (no answer before the deadline)", g.url),
    }));
    let unanswered: Vec<_> = f.evidence.requests.iter().filter(|r| r.status.is_none()).collect();
    evidence.extend(unanswered.iter().map(|r| EvidenceLine { source: Source::Requests, text: r.line() }));
    evidence.extend(f.env_line("GOPROXY"));
    let waiting = pending
        .last()
        .map(|g| format!("GET {}", g.url))
        .or_else(|| unanswered.last().map(|r| format!("{} {} on {}", r.method, r.path, r.host)));
    let summary = match waiting {
        Some(what) => format!(
            "go was still waiting for {what} at the deadline: the server accepted the request and never answered (go's HTTP client has no timeout)"
        ),
        None => "go made no progress before the deadline and printed no error".into(),
    };
    Some(found(
        Category::Hang,
        if waiting_known(&pending, &unanswered) { Confidence::High } else { Confidence::Medium },
        summary,
        evidence,
        &["use-mirror"],
    ))
}

fn waiting_known<A, B>(pending: &[A], unanswered: &[B]) -> bool {
    !pending.is_empty() || !unanswered.is_empty()
}
