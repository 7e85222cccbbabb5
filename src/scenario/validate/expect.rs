//! `expect:` (and a recovery's `expect:`): exit, diagnosis, output patterns, request and
//! DNS query counts, duration, integrity.

use crate::scenario::at::Pos;
use crate::scenario::checker::Checker;
use crate::scenario::diag::suggest;
use crate::scenario::model::*;
use crate::scenario::raw::*;
use crate::vocab::{Category, ExitExpectation, PathGlob};

pub(super) fn expectation(
    raw: &RawExpect,
    hosts: &[String],
    checker: &mut Checker,
    recovery: Option<()>,
) -> Expectation {
    let mut e = Expectation {
        exit: raw.exit.as_ref().map(|x| match x.value {
            RawExit::Success => ExitExpectation::Success,
            RawExit::Failure => ExitExpectation::Failure,
            RawExit::Timeout => ExitExpectation::Timeout,
        }),
        ..Default::default()
    };
    if recovery.is_some() && e.exit.is_none() {
        e.exit = Some(ExitExpectation::Success);
    }
    if let Some(d) = &raw.diagnosis {
        match Category::from_id(d) {
            Some(c) => e.diagnosis = Some(c),
            None => checker.problem(
                d.pos,
                format!("unknown diagnosis category `{}`", d.value),
                Some(suggest(d, Category::ALL.iter().map(|c| c.id()), "categories")),
            ),
        }
    }
    e.error = raw.error.as_ref().and_then(|r| checker.regex(r));
    e.stderr = raw.stderr.as_ref().and_then(|r| checker.regex(r));
    e.stdout = raw.stdout.as_ref().and_then(|r| checker.regex(r));
    for r in &raw.requests {
        if !hosts.iter().any(|h| *h == r.host.value) {
            checker.problem(
                r.host.pos,
                format!("host `{}` is not declared", r.host.value),
                Some(suggest(&r.host, hosts.iter().map(String::as_str), "hosts")),
            );
        }
        let path = r.path.as_ref().and_then(|p| checker.glob(p, "expect.requests[].path"));
        let (at_least, at_most) = count_bounds(r.pos, r.count, r.at_least, r.at_most, checker);
        e.requests.push(RequestExpectation {
            host: r.host.value.clone(),
            path,
            method: r.method.as_ref().map(|m| m.to_ascii_uppercase()),
            status: r.status,
            at_least,
            at_most,
        });
    }
    for q in &raw.dns {
        let (at_least, at_most) = count_bounds(q.pos, q.count, q.at_least, q.at_most, checker);
        let rcode = q.rcode.as_ref().map(|r| {
            const RCODES: &[&str] = &["NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED", "FORMERR", "NOTIMP", "none"];
            let value = if r.eq_ignore_ascii_case("none") { "none".to_string() } else { r.to_ascii_uppercase() };
            if !RCODES.contains(&value.as_str()) {
                checker.problem(
                    r.pos,
                    format!("unknown DNS answer code `{}`", r.value),
                    Some(suggest(&value, RCODES.iter().copied(), "codes")),
                );
            }
            value
        });
        // A plain name that no host, URL or module of the file names is most likely a typo:
        // its expectation would count queries that never come (`count: 0` passing on them).
        let named_elsewhere = checker.source.matches(q.name.as_str()).count() > 1;
        if !q.name.contains(['*', '?', '['])
            && !hosts.iter().any(|h| h.eq_ignore_ascii_case(&q.name))
            && !named_elsewhere
            && !GO_DEFAULT_NAMES.contains(&q.name.as_str())
        {
            checker.warning(
                q.name.pos,
                format!("`{}` is named nowhere else in the file: no host, URL or module has it", q.name.value),
                Some(suggest(&q.name, hosts.iter().map(String::as_str), "hosts")),
            );
        }
        match PathGlob::name(&q.name) {
            Ok(name) => e.dns.push(DnsExpectation {
                name,
                qtype: q.qtype.as_ref().map(|t| t.to_ascii_uppercase()),
                rcode,
                at_least,
                at_most,
            }),
            Err(why) => checker.problem(q.name.pos, why.to_string(), None),
        }
    }
    if let Some(bounds) = &raw.duration {
        e.duration_at_least = bounds.at_least.as_ref().and_then(|d| checker.duration(d));
        e.duration_at_most = bounds.at_most.as_ref().and_then(|d| checker.duration(d));
    }
    e.verified = raw.verified.unwrap_or(recovery.is_some() && e.exit == Some(ExitExpectation::Success));
    if raw.verified == Some(true) && e.exit != Some(ExitExpectation::Success) {
        checker.problem(
            raw.exit.as_ref().map(|x| x.pos).unwrap_or_default(),
            "`verified: true` needs `exit: success`",
            Some("verification checks what a successful download left in the module cache".into()),
        );
    }
    e
}

/// Names go looks up without a scenario naming them: its default proxy and database.
const GO_DEFAULT_NAMES: &[&str] = &["proxy.golang.org", "sum.golang.org"];

/// `count` / `at_least` / `at_most` as inclusive bounds (default: at least one).
pub(super) fn count_bounds(
    pos: Pos,
    count: Option<u64>,
    at_least: Option<u64>,
    at_most: Option<u64>,
    checker: &mut Checker,
) -> (u64, Option<u64>) {
    let (least, most) = match (count, at_least, at_most) {
        (Some(c), None, None) => (c, Some(c)),
        (Some(_), _, _) => {
            checker.problem(pos, "`count` cannot be combined with `at_least` / `at_most`", None);
            (0, None)
        }
        (None, least, most) => (least.unwrap_or(if most.is_some() { 0 } else { 1 }), most),
    };
    if let Some(m) = most
        && m < least
    {
        checker.problem(pos, format!("at_most {m} is less than at_least {least}"), None);
    }
    (least, most)
}
