//! Checksum database failures: a mismatch (go.sum or the database disagree with what was
//! downloaded), a private module path sent to a public database, and a database go
//! cannot reach or is misconfigured to use.

use std::sync::LazyLock;

use regex::Regex;

use super::{found, url_host};
use crate::diagnose::facts::Facts;
use crate::diagnose::{Category, Confidence, Diagnosis};

/// go's SECURITY ERROR banner without the line above it that names the module (a paste
/// that began at the banner): a download that did not match the checksum database.
fn banner_alone(f: &Facts) -> Option<Diagnosis> {
    let banner = f.errors.iter().find(|e| e.text.starts_with("SECURITY ERROR") || e.text.contains("does NOT match"))?;
    Some(found(
        Category::SumdbMismatch,
        Confidence::Medium,
        "a download did not match what the checksum database recorded (go's SECURITY ERROR; the paste left out the \
         line naming the module): the bits were replaced at the origin or on the way; get the original bits, never \
         GOSUMDB=off"
            .into(),
        vec![banner.line()],
        &[],
    ))
}

/// `checksum mismatch`, with the side that disagrees.
pub fn mismatch(f: &Facts) -> Option<Diagnosis> {
    static MISMATCH: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:verifying (\S+?): checksum mismatch|(\S+?): verifying (?:module|go\.mod): checksum mismatch)")
            .expect("compiles")
    });
    static LINES: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"downloaded: (h1:\S+)\n\s*([^:\n]+?):\s+(h1:\S+)").expect("compiles"));
    // The database answered, but its record lacks a line for this module and version
    // (go's `sumdbAbsent` banner): the answer was for something else — a GOSUMDB host or a
    // proxy passing the database through (GOPROXY's /sumdb/) that serves stale or wrong
    // records, or one intercepted on the way. No download was shown to differ.
    static ABSENT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"verifying (\S+?): checksum missing from sumdb response").expect("compiles"));
    if let Some((error, caps)) = f.matching(&ABSENT).next() {
        let mut evidence = vec![error.line()];
        evidence.extend(["GOSUMDB", "GOPROXY"].iter().filter_map(|v| f.env_line(v)));
        let summary = format!(
            "the checksum database's answer for {} has no line for it: the GOSUMDB host, or a proxy that passes the \
             database through (GOPROXY's /sumdb/), serves stale or wrong records, or the lookup was intercepted; \
             point GOSUMDB at a database that serves it whole (never GOSUMDB=off)",
            &caps[1]
        );
        return Some(found(Category::SumdbUnreachable, Confidence::Low, summary, evidence, &[]).or(
            Category::SumdbMismatch,
            Confidence::Low,
            "go's SECURITY ERROR: the download could not be verified",
        ));
    }
    let Some((error, caps)) = f.matching(&MISMATCH).next() else {
        return banner_alone(f);
    };
    let subject = caps.get(1).or(caps.get(2)).map_or("a module", |m| m.as_str()).trim_end_matches(':').to_string();
    let mut evidence = vec![error.line()];
    evidence.extend(
        f.errors
            .iter()
            .filter(|e| e.text.starts_with("SECURITY ERROR") || e.text.contains("does NOT match"))
            .map(|e| e.line()),
    );
    evidence.extend(f.env_line("GOPROXY"));
    let summary = match LINES.captures(&error.text) {
        Some(lines) if lines[2].trim() == "go.sum" => format!(
            "{subject} as downloaded ({}) differs from go.sum ({}): the version was re-tagged upstream or the download was tampered with; get the original bits from a proxy that kept them, do not edit go.sum or turn GOSUMDB off",
            &lines[1], &lines[3]
        ),
        Some(lines) => format!(
            "{subject} as downloaded ({}) differs from what the checksum database {} recorded ({}): this proxy served different bits than everyone else got; use a source of the original bits, never GOSUMDB=off",
            &lines[1],
            lines[2].trim(),
            &lines[3]
        ),
        None => format!("{subject} does not match its recorded checksum (SECURITY ERROR)"),
    };
    // `go mod verify` compares the module cache with go.sum (the go.mod files it loads
    // the module graph from): a mismatch there is the cache's copy changed, more often
    // than go.sum being wrong — when go mod verify is what ran (not `go mod download &&
    // go mod verify`, whose download failed first) and it fetched nothing.
    let verify_ran = f.evidence.command.as_deref().is_some_and(|c| {
        let first = c.split(['&', ';', '|']).next().unwrap_or_default();
        first.contains("mod verify")
    });
    // go fetched a module (or a go.mod) in this run: what it hashed came from the network.
    let fetched = f.evidence.trace.iter().any(|g| g.url.ends_with(".mod")) || f.downloaded_a_module();
    if verify_ran && !fetched {
        let summary = format!(
            "go mod verify found the module cache's copy of {subject} different from go.sum: the cache was changed \
             after the download (or go.sum is wrong); remove the cache and download again"
        );
        let diagnosis = found(Category::CacheCorrupt, Confidence::Medium, summary, evidence, &["clean-module-cache"]);
        return Some(diagnosis.or(Category::SumdbMismatch, Confidence::Low, "go.sum may record other bits"));
    }
    // The h1 of an empty go.mod (dirhash over the one file `go.mod` with no bytes): the
    // go.mod go hashed was empty — a truncated file in the module cache, or a proxy that
    // served an empty body — not bits replaced upstream.
    const EMPTY_GO_MOD: &str = "h1:G7mAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY=";
    if LINES.captures(&error.text).is_some_and(|lines| &lines[1] == EMPTY_GO_MOD) {
        let summary = format!(
            "the go.mod go hashed for {subject} was empty (its hash is an empty file's): {}; clean the module cache \
             and download again, from a proxy that serves the file whole",
            if fetched {
                "the proxy served an empty body, or the file was cut on its way into the module cache"
            } else {
                "the module cache's copy was truncated after the download (a full disk, an interrupted write, a \
                 broken cache restore)"
            }
        );
        let (first, second) = if fetched {
            (Category::ProxyBadResponse, Category::CacheCorrupt)
        } else {
            (Category::CacheCorrupt, Category::ProxyBadResponse)
        };
        let diagnosis = found(first, Confidence::Low, summary, evidence, &["clean-module-cache", "use-mirror"]);
        return Some(
            diagnosis.or(second, Confidence::Low, "where the empty file came from, the log does not show").or(
                Category::SumdbMismatch,
                Confidence::Low,
                "go's words: the bits differ from go.sum's, whatever emptied them",
            ),
        );
    }
    Some(found(Category::SumdbMismatch, Confidence::High, summary, evidence, &["use-mirror"]))
}

/// The module path pattern to declare private: whose the module is ([`super::owner_of`]),
/// the host, or `host/owner` on public code hosts.
pub fn private_pattern(module: &str) -> String {
    super::owner_of(module)
}

/// The fixes for a checksum database go could not use, by the module it looked up
/// (`…/lookup/M@V`): keeping a module that may be private away from the database
/// (GONOSUMDB) first, then another route to the database (GOSUMDB naming a mirror, or a
/// proxy's `/sumdb/`); for a public module only the route — its checksums must be
/// checked — and so too when the request names no module (a tile).
fn database_fixes(url: &str) -> &'static [&'static str] {
    match url.split_once("/lookup/").map(|(_, module)| module.split('@').next().unwrap_or(module)) {
        Some(module) if !super::public_module(module) => &["private-modules-nosumdb", "set-gosumdb"],
        _ => &["set-gosumdb"],
    }
}

/// git's refusal of a transport (`GIT_ALLOW_PROTOCOL`), as a server quotes its own fetch.
static REFUSED_TRANSPORT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"transport '([a-z+]+)' not allowed").expect("compiles"));

/// How many unrelated owners ([`super::owner_of`]: one company's private modules share
/// their host, whatever their groups) have checksum database lookups in the log answered
/// 404 or 410.
fn refused_lookup_owners(f: &Facts) -> usize {
    static LOOKUP: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"/lookup/(\S+?)@\S*?\)?: (?:404|410)\b").expect("compiles"));
    let owners: std::collections::BTreeSet<String> =
        f.errors.iter().flat_map(|e| LOOKUP.captures_iter(&e.text).map(|c| super::owner_of(&c[1]))).collect();
    owners.len()
}

/// What go says when GOSUMDB=off stops it verifying a toolchain it downloads.
pub const GOSUMDB_OFF_REFUSED: &str = "verifying module: checksum database disabled by GOSUMDB=off";

/// GOSUMDB=off refusing a toolchain switch: go verifies every toolchain it downloads with
/// the checksum database, whatever GOSUMDB says (a toolchain has no go.sum line), so the
/// setting to fix is GOSUMDB; the failed switch is the other reading. Runs before the
/// toolchain rule, which reads every failed fetch of golang.org/toolchain.
pub fn toolchain_unverifiable(f: &Facts) -> Option<Diagnosis> {
    let error = f.errors.iter().find(|e| e.text.contains(GOSUMDB_OFF_REFUSED))?;
    let mut evidence = vec![error.line()];
    evidence.extend(f.env_line("GOSUMDB"));
    evidence.extend(f.env_line("GOTOOLCHAIN"));
    Some(
        found(
            Category::SumdbUnreachable,
            Confidence::Medium,
            "GOSUMDB=off, and go verifies every toolchain it downloads with the checksum database (a toolchain has no \
             go.sum line): set GOSUMDB back (sum.golang.org, or a database your network reaches) for the switch, or \
             install that go and run with GOTOOLCHAIN=local"
                .to_string(),
            evidence,
            &["set-gosumdb"],
        )
        .or(
            Category::ToolchainDownload,
            Confidence::Low,
            "the failed step is go switching to another toolchain",
        ),
    )
}

/// Problems talking to the checksum database: its configuration, its answers, its
/// reachability.
pub fn database(f: &Facts) -> Option<Diagnosis> {
    static CONFIG: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"invalid GOSUMDB[^\n]*|missing GOSUMDB|invalid sumdb name[^\n]*",
            r"|reading tree note: [^\n]*|note has no verifiable signatures|malformed note[^\n]*",
        ))
        .expect("compiles")
    });
    static STATUS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:reading |unexpected status \()(https?://\S+?/(?:lookup/(\S+?)|tile/\S+|latest|sumdb/\S+/supported))\)?: ([1-5][0-9]{2})\b ?([^\n]*)").expect("compiles")
    });
    // Any transport failure on a lookup or tile, in go's quoted or older unquoted words;
    // certificate failures are the TLS rule's. Through a module proxy (`<proxy>/sumdb/…`),
    // a connection that was made and then broke (reset, cut short, an HTTP/2 stream error)
    // is the network's: go reaches that proxy for everything else, so a retry is the fix,
    // not another GOSUMDB. (To the database itself, a firewall that resets every
    // connection to it reads the same, and is the database being unreachable.)
    static NETWORK: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r#"(?:Get|read) "?(https?://(?:[^"\s]+?/(?:lookup|tile|latest)|sum\.golang\.(?:org|google\.cn)/)"#,
            r#"[^"\s]*?)"?: ([^\n]+)"#
        ))
        .expect("compiles")
    });
    if let Some((error, caps)) = f.matching(&CONFIG).next() {
        let mut evidence = vec![error.line()];
        evidence.extend(f.env_line("GOSUMDB"));
        return Some(found(
            Category::SumdbUnreachable,
            Confidence::High,
            format!("GOSUMDB is misconfigured ({}): go cannot use any checksum database", &caps[0]),
            evidence,
            &["set-gosumdb"],
        ));
    }
    if let Some((error, caps)) = f.matching(&STATUS).last() {
        let url = caps[1].to_string();
        let code: u16 = caps[3].parse().ok()?;
        let mut evidence = vec![error.line()];
        evidence.extend(f.env_line("GOSUMDB"));
        evidence.extend(f.env_line("GONOSUMDB"));
        evidence.extend(f.env_line("GOPRIVATE"));
        // Only a lookup is about one module; a missing tile is the database's (or a
        // proxy forwarding it) misbehaving.
        if matches!(code, 404 | 410) && caps.get(2).is_some() {
            let module = caps.get(2).map_or("", |m| m.as_str()).split('@').next().unwrap_or_default().to_string();
            let pattern = private_pattern(&module);
            // The database says why it has no record: it could not fetch the module (a
            // private path: a leak), or fetched it and found no such version, or could not
            // make a valid module zip of it.
            let why = super::proxy::server_response(&error.text).unwrap_or_default();
            // Its own fetch asked for credentials or found no repository: the database cannot
            // see the module, however its answer words the version.
            let unseen = super::proxy::OWN_FETCH_SAW_NO_REPOSITORY.iter().any(|w| why.contains(w));
            // The database's git refused the transport the module's go-import page names
            // (`transport 'ssh' not allowed`): the page must name an https repository.
            if let Some(transport) = REFUSED_TRANSPORT.captures(&why) {
                let summary = format!(
                    "the checksum database {} could not fetch {module}: its git refuses the {} transport the module's \
                     go-import page names; the page must point at an https:// repository URL",
                    url_host(&url),
                    &transport[1]
                );
                // A self-hosted repository behind ssh is as often a private module.
                let diagnosis = found(Category::VcsMeta, Confidence::Low, summary, evidence, &[]);
                return Some(diagnosis.or(
                    Category::SumdbPrivateLeak,
                    Confidence::Low,
                    "the module may be private: then list it in GONOSUMDB (or GOPRIVATE)",
                ));
            }
            // Lookups of modules of three unrelated owners all refused: the database (or the
            // proxy forwarding it) is failing, not three private modules leaking at once.
            let owners = refused_lookup_owners(f);
            if !unseen && owners >= 3 {
                let summary = format!(
                    "{} refused the checksum database lookups of {owners} unrelated owners' modules ({code}): the \
                     database, or the proxy forwarding it, is failing, not each module private; check GOSUMDB and the \
                     proxy's /sumdb/ support, or let go ask the database directly",
                    url_host(&url)
                );
                let diagnosis = found(Category::SumdbUnreachable, Confidence::Low, summary, evidence, &["set-gosumdb"]);
                return Some(diagnosis.or(Category::SumdbPrivateLeak, Confidence::Low, "the modules may be private"));
            }
            if !unseen && why.contains("invalid version")
                || why.contains("unknown revision")
                || why.contains("no matching versions")
            {
                let summary = format!(
                    "the checksum database {} fetched {module} and found no such version ({why}): the version does not \
                     exist upstream",
                    url_host(&url)
                );
                let diagnosis = found(Category::ModuleInvalidVersion, Confidence::Medium, summary, evidence, &[]);
                return Some(diagnosis.or(Category::SumdbPrivateLeak, Confidence::Low, "the module may be private"));
            }
            if !unseen
                && (why.contains("zip")
                    || why.contains("module source tree too large")
                    || why.contains("file name collision"))
            {
                let summary = format!(
                    "the checksum database {} cannot make a valid module zip of {module} ({why}): the module's files \
                     break the zip rules (size, case-insensitive name collisions, bad paths); fix them upstream",
                    url_host(&url)
                );
                let diagnosis = found(Category::ModuleInvalidVersion, Confidence::Low, summary, evidence, &[]);
                return Some(diagnosis.or(Category::SumdbPrivateLeak, Confidence::Low, "the module may be private"));
            }
            return Some(found(
                Category::SumdbPrivateLeak,
                Confidence::High,
                format!(
                    "go asked the checksum database {} about {module}, which it does not know ({code}): a private module path leaked to a public database; add {pattern} to GONOSUMDB (or GOPRIVATE)",
                    url_host(&url)
                ),
                evidence,
                &["private-modules", "private-modules-nosumdb"],
            ));
        }
        // A module proxy that forwards the database (`/sumdb/<name>/supported`) failing is
        // the proxy's answer as much as the database's.
        if url.ends_with("/supported") {
            // A public proxy serves everyone's checks: its 5xx is its own failure.
            if code >= 500 && super::is_public_proxy(url_host(&url)) {
                let summary = format!(
                    "the public proxy {} answered {code} {} when go asked it for the checksum database: it is \
                     failing itself; retry later, or let go ask the database directly (GOPROXY=…|direct)",
                    url_host(&url),
                    caps[4].trim()
                );
                let diagnosis =
                    found(Category::ProxyServerError, Confidence::Medium, summary, evidence, &["use-mirror", "retry"]);
                return Some(diagnosis.or(
                    Category::SumdbUnreachable,
                    Confidence::Low,
                    "go cannot verify anything meanwhile",
                ));
            }
            let (other, why) = if code >= 500 {
                (Category::ProxyServerError, "the proxy itself failed")
            } else {
                (Category::ProxyAuth, "the proxy refused the request")
            };
            let summary = format!(
                "go asks its module proxy {} for the checksum database and it answered {code} {}: go cannot verify \
                 anything (with GOPROXY=…|direct it would ask the database directly)",
                url_host(&url),
                caps[4].trim()
            );
            // A 5xx reads as the proxy's own failure as much as the database's: low.
            let confidence = if code >= 500 { Confidence::Low } else { Confidence::Medium };
            let diagnosis = found(
                Category::SumdbUnreachable,
                confidence,
                summary,
                evidence,
                &["pipe-separated-goproxy", "set-gosumdb"],
            );
            return Some(diagnosis.or(other, Confidence::Low, why));
        }
        // A lookup through a module proxy (`<proxy>/sumdb/<name>/lookup/…`) that failed: a
        // public proxy serves everyone's lookups, so its failure is its own; a proxy of
        // one's own more often failed to reach the database behind it.
        if code >= 500 && (url.contains("/sumdb/") || relays_database(&url)) {
            let host = url_host(&url);
            let public = super::is_public_proxy(host);
            let summary = format!(
                "the module proxy {host}, which go asks for the checksum database, answered {code} {} to a lookup{}",
                caps[4].trim(),
                if public {
                    ": a public proxy serves everyone's lookups, so it is failing itself; retry later, or let go ask \
                     the database directly (GOPROXY=…|direct, or another proxy)"
                } else {
                    ": it could not reach the checksum database behind it, or failed itself (the log cannot say \
                     which); check that proxy and its own network, or let go ask the database directly"
                }
            );
            let (first, other, playbooks): (_, _, &[&str]) = if public {
                (Category::ProxyServerError, Category::SumdbUnreachable, &["use-mirror", "retry"])
            } else {
                (Category::SumdbUnreachable, Category::ProxyServerError, &["set-gosumdb", "private-modules-nosumdb"])
            };
            // One's own proxy failing on the database's behalf reads as the proxy's failure
            // too: which one to fix, the log cannot settle.
            let confidence = if public { Confidence::Medium } else { Confidence::Low };
            let diagnosis = found(first, confidence, summary, evidence, playbooks);
            return Some(diagnosis.or(other, Confidence::Low, "the proxy forwards the checksum database"));
        }
        return Some(found(
            Category::SumdbUnreachable,
            Confidence::High,
            format!("the checksum database {} answered {code} {}", url_host(&url), caps[4].trim()),
            evidence,
            database_fixes(&url),
        ));
    }
    let broke = |why: &str| {
        ["connection reset", "forcibly closed", "unexpected EOF", "stream error", "GOAWAY", "broken pipe"]
            .iter()
            .any(|w| why.contains(w))
            || why.trim_end() == "EOF"
    };
    let (error, caps) = f
        .matching(&NETWORK)
        .filter(|(_, c)| !c[2].contains("x509") && !c[2].contains("tls:"))
        .filter(|(_, c)| !(c[1].contains("/sumdb/") && broke(&c[2])))
        .last()?;
    let mut evidence = vec![error.line()];
    evidence.extend(f.env_line("GOSUMDB"));
    let diagnosis = found(
        Category::SumdbUnreachable,
        Confidence::High,
        format!("go cannot reach the checksum database {}: {}", url_host(&caps[1]), caps[2].trim()),
        evidence,
        database_fixes(&caps[1]),
    );
    // The name did not resolve: the resolver is what to fix first.
    Some(if caps[2].contains("lookup ") {
        diagnosis.or(
            Category::DnsFailure,
            Confidence::Low,
            "the resolver failed on the database's name: fix it, and go reaches the database",
        )
    } else {
        diagnosis
    })
}

/// Whether a checksum-database URL is a relay's: its path starts with a database's name
/// (`https://goproxy.corp/sum.golang.org/lookup/…`, GOSUMDB's URL pointed at a proxy's
/// path) on a host of another name, as `<proxy>/sumdb/<name>/` does.
fn relays_database(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let Some((host, path)) = rest.split_once('/') else { return false };
    let first = path.split('/').next().unwrap_or_default();
    first.contains('.') && !first.eq_ignore_ascii_case(host) && path[first.len()..].starts_with("/lookup/")
}
