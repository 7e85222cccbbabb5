//! Module proxy failures: GOPROXY=off, HTTP statuses that end the GOPROXY list, and
//! malformed content (which the `-x` trace tells apart from a corrupt cache).

use std::sync::LazyLock;

use regex::Regex;

use super::{found, is_public_proxy, subject, url_host};
use crate::diagnose::facts::Facts;
use crate::diagnose::{Category, Confidence, Diagnosis, EvidenceLine, Source};
use crate::urlref::goproxy_entries;

/// What the GOPROXY setting says about the proxies after the one that answered "not
/// found": with several entries, none of the later ones could serve the module; with one,
/// there was no other to ask; unknown (a log without the setting, or an empty one, which
/// go replaces by its default), nothing.
fn no_other_entry(f: &Facts) -> &'static str {
    match f.env("GOPROXY").map(|v| goproxy_entries(v).iter().filter(|(e, _)| !e.is_empty()).count()) {
        Some(1) => " and GOPROXY names no other proxy",
        Some(0) | None => "",
        Some(_) => " and no later GOPROXY entry could serve it",
    }
}

/// `module lookup disabled by GOPROXY=off`.
pub fn off(f: &Facts) -> Option<Diagnosis> {
    static OFF: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"module lookup disabled by GOPROXY=off").expect("compiles"));
    let (error, _) = f.matching(&OFF).next()?;
    let mut evidence = vec![error.line()];
    evidence.extend(f.env_line("GOPROXY"));
    Some(found(
        Category::ProxyOff,
        Confidence::High,
        format!(
            "GOPROXY=off forbids every module download{}",
            subject(&error.text).map(|s| format!(" (go needed {s})")).unwrap_or_default()
        ),
        evidence,
        &["enable-goproxy"],
    ))
}

/// GOAUTH that go cannot use: its credentials for module proxies are broken.
pub fn goauth(f: &Facts) -> Option<Diagnosis> {
    static GOAUTH: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"GOAUTH encountered [^\n]*|GOAUTH=\S+ cannot be combined[^\n]*|GOAUTH=git [^\n]*")
            .expect("compiles")
    });
    let (error, caps) = f.matching(&GOAUTH).next()?;
    let mut evidence = vec![error.line()];
    evidence.extend(f.env_line("GOAUTH"));
    Some(found(
        Category::ProxyAuth,
        Confidence::Medium,
        format!("GOAUTH cannot give go credentials ({}): fix GOAUTH (or unset it to use ~/.netrc)", caps[0].trim()),
        evidence,
        &["goproxy-credentials"],
    ))
}

/// `reading URL: 404 Not Found` (and the pre-1.13 `unexpected status (URL): 410 Gone`).
pub fn status(f: &Facts) -> Option<Diagnosis> {
    static STATUS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"(?:reading (\S+)|unexpected status \((\S+)\)|module (\S+/@(?:v/\S+|latest))): ",
            r"([1-5][0-9]{2})\b ?([^\n]*)",
        ))
        .expect("compiles")
    });
    // The last one is the error that ended the GOPROXY list.
    let (error, caps) = f.matching(&STATUS).last()?;
    let url = caps.get(1).or(caps.get(2)).or(caps.get(3)).map_or("", |m| m.as_str()).to_string();
    let code: u16 = caps[4].parse().ok()?;
    let reason = caps[5].trim().to_string();
    // What the server said with it (`server response: …`, a text/plain body).
    let response = server_response(&error.text);
    let host = url_host(&url).to_string();
    let what = subject(&error.text).unwrap_or_else(|| "the module".into());
    let mut evidence = vec![error.line()];
    evidence.extend(f.evidence.trace.iter().filter(|g| g.url == url).map(|g| EvidenceLine {
        source: Source::Trace,
        text: format!("# get {}: {}", g.url, g.result.as_deref().unwrap_or("(no answer)")),
    }));
    evidence.extend(f.env_line("GOPROXY"));
    evidence.extend(f.notable_requests());
    let status = format!("{code} {reason}").trim().to_string();
    // An http:// URL fetched through HTTP_PROXY: the forward proxy answers for the
    // target, and its 403 (a block page) or 407 reads exactly like the module proxy's.
    let forward = ["HTTP_PROXY", "http_proxy"].iter().find_map(|v| f.env(v).filter(|p| !p.is_empty()));
    if let (true, Some(forward), 403 | 407 | 502 | 503 | 504) = (url.starts_with("http://"), forward, code) {
        let seen_by_proxy = f.evidence.requests.iter().any(|r| r.path == url && r.status == Some(code));
        evidence.extend(f.env_line("HTTP_PROXY").or_else(|| f.env_line("http_proxy")));
        return Some(found(
            Category::HttpProxyFailure,
            if seen_by_proxy { Confidence::High } else { Confidence::Medium },
            format!(
                "{status} for {what} most likely came from the forward proxy {} (HTTP_PROXY), which answers http://                  requests in the target's name: a block page or missing proxy credentials, not the module proxy",
                url_host(forward)
            ),
            evidence,
            &["bypass-http-proxy", "http-proxy-credentials"],
        ));
    }
    let diagnosis = match code {
        // A proxy that words its own failure as "not found" (its disk, its upstream).
        404 | 410 if response.as_deref().is_some_and(server_failure) => found(
            Category::ProxyServerError,
            Confidence::Medium,
            format!(
                "{host} answered {status} for {what}, but its answer says the proxy itself failed ({}): retry later, \
                 or use another proxy",
                response.as_deref().unwrap_or_default()
            ),
            evidence,
            &["use-mirror", "retry"],
        )
        .or(Category::ProxyNotFound, Confidence::Low, "the proxy says it does not have the module"),
        // The proxy could not fetch the module itself: a private module asked of a
        // public proxy.
        404 | 410 if response.as_deref().is_some_and(private_to_proxy) => found(
            Category::ProxyNotFound,
            Confidence::High,
            format!(
                "{host} answered {status} for {what}: it could not fetch the module itself ({}), as for a private \
                 module; list its path in GOPRIVATE so go fetches it directly (or from a proxy that can see it)",
                response.as_deref().unwrap_or_default()
            ),
            evidence,
            &["private-modules", "add-mirror"],
        )
        .or(Category::VcsAuth, Confidence::Low, "the module's repository needs credentials the proxy has not"),
        // A public proxy fetches from the origin: its "invalid version" is the origin's
        // answer, the version does not exist.
        404 | 410 if is_public_proxy(&host) && response.as_deref().is_some_and(names_no_such_version) => found(
            Category::ModuleInvalidVersion,
            Confidence::Medium,
            format!(
                "{host} answered {status} for {what}: it fetched the module from its origin and found no such \
                     version ({}): the tag or commit does not exist (not pushed, deleted, or a typo)",
                response.as_deref().unwrap_or_default()
            ),
            evidence,
            &[],
        )
        .or(Category::ProxyNotFound, Confidence::Low, "the proxy cannot serve it"),
        // A public proxy fetches public modules from their origins on demand: when it says
        // "not found" for the modules of several unrelated owners at once, the proxy is
        // failing (a broken node, a bad deployment), not every one of those modules.
        404 | 410 if is_public_proxy(&host) && unrelated_owners_not_found(f, &STATUS, &host) >= 3 => found(
            Category::ProxyServerError,
            Confidence::Low,
            format!(
                "{host} answered {status} for the modules of several unrelated owners ({what} among them): a public \
                     proxy has those, so the proxy itself is failing; retry later or use another proxy"
            ),
            evidence,
            &["use-mirror", "retry"],
        )
        .or(Category::ProxyNotFound, Confidence::Low, "the proxy may really not have them"),
        // A public proxy's bare 404/410 has many causes: a private module, a version that
        // does not exist, a module removed.
        404 | 410 if is_public_proxy(&host) => found(
            Category::ProxyNotFound,
            Confidence::Low,
            format!(
                "{host} answered {status} for {what}{}: a private module (list it in GOPRIVATE), or a version that \
                 does not exist",
                no_other_entry(f)
            ),
            evidence,
            &["private-modules", "add-mirror"],
        )
        .or(Category::ModuleInvalidVersion, Confidence::Low, "the version may not exist anywhere"),
        // One's own proxy may fetch from the origin (Athens, goproxy, Artifactory's Go
        // remotes) or serve only what it holds: its "unknown revision" may be the origin's
        // answer or its own lack.
        404 | 410 if response.as_deref().is_some_and(names_no_such_version) => found(
            Category::ProxyNotFound,
            Confidence::Low,
            format!(
                "{host} answered {status} for {what}{}; its answer ({}) says no such version where it looked: the \
                 proxy lacks the module (add the proxy that has it), or, if it fetches from the origin, the version \
                 does not exist",
                no_other_entry(f),
                response.as_deref().unwrap_or_default()
            ),
            evidence,
            &["add-mirror"],
        )
        .or(Category::ModuleInvalidVersion, Confidence::Low, "the version may not exist at the origin"),
        404 | 410 => found(
            Category::ProxyNotFound,
            Confidence::High,
            format!("{host} answered {status} for {what}{}", no_other_entry(f)),
            evidence,
            &["add-mirror"],
        )
        .or(Category::ModuleInvalidVersion, Confidence::Low, "the version may not exist anywhere"),
        // Over https:// with no forward proxy configured, the answer came through the TLS
        // connection to the GOPROXY host itself (a forward proxy's refusal ends the CONNECT
        // first: `Get …: Proxy Authentication Required`): a web gateway stands where the
        // module proxy should. go sends Proxy-Authorization only to HTTPS_PROXY's proxy, so
        // no credential file helps. A public proxy never sends 407: something intercepts.
        407 if url.starts_with("https://") && !is_public_proxy(&host) && super::http_proxy::configured(f).is_none() => {
            found(
                Category::ProxyAuth,
                Confidence::Medium,
                format!(
                    "{host} answered {status} for {what} through its own TLS connection: the GOPROXY entry is a web \
                 gateway that wants proxy credentials, which go sends only to the proxy HTTPS_PROXY names; set \
                 HTTPS_PROXY to it with the credentials in its URL, or use the module proxy's own address"
                ),
                evidence,
                &[],
            )
            .or(
                Category::HttpProxyFailure,
                Confidence::Low,
                "a TLS-intercepting forward proxy may want credentials",
            )
        }
        // 407 is a forward proxy's status (RFC 9110): a module proxy does not send it, so
        // something between go and the GOPROXY entry answered (an HTTP_PROXY or HTTPS_PROXY
        // that wants credentials, or one intercepting TLS).
        407 => found(
            Category::HttpProxyFailure,
            Confidence::Medium,
            format!(
                "{status} for {what}: a forward proxy answered in {host}'s place and wants credentials; put them in \
                 the proxy URL (http://user:password@host:port), or check that GOPROXY names a module proxy, not a \
                 forward proxy"
            ),
            evidence,
            &["http-proxy-credentials"],
        )
        .or(Category::ProxyAuth, Confidence::Low, "the GOPROXY entry itself may want credentials"),
        // RFC 7725: the server refuses the resource for legal reasons — a repository
        // firewall's policy block (Artifactory, Nexus): a refusal, as a 403 is.
        451 => found(
            Category::ProxyAuth,
            Confidence::Medium,
            format!(
                "{host} refused {what} with {status}: the proxy's policy blocks the module (a repository firewall's \
                 licence or security rule), not missing credentials; ask its owners for an exception, or use an \
                 allowed version"
            ),
            evidence,
            &[],
        )
        .or(Category::ProxyBadResponse, Confidence::Low, "the proxy may be misconfigured"),
        // A public proxy wants no credentials; reached through a forward proxy, a refusal
        // in its name is most likely the forward proxy's (a web gateway's policy).
        401 | 403
            if is_public_proxy(&host)
                && let Some((var, value)) = super::http_proxy::configured(f) =>
        {
            found(
                Category::HttpProxyFailure,
                Confidence::Low,
                format!(
                    "{host} refused {what} with {status}, and go reached it through the forward proxy {var}={value}: a \
                 public proxy wants no credentials, so the forward proxy (a web gateway's policy, its TLS \
                 inspection) most likely answered; ask its owners to allow {host}, or use a mirror it allows"
                ),
                evidence,
                &["use-mirror"],
            )
            .or(Category::ProxyAuth, Confidence::Low, "the module proxy itself may refuse the module")
        }
        // The URL cut out of the paste (`reading ...: 401`): a proxy's path (`/@v/`) and a
        // private host's `?go-get=1` page (direct mode) are refused alike, and only the URL
        // tells whose the refusal was.
        401 | 403 if !url.contains("://") && !url.contains("/@") => found(
            Category::ProxyAuth,
            Confidence::Low,
            format!(
                "{what} was refused with {status}, and the paste cut the URL that says by whom: a GOPROXY entry that \
                 wants credentials (~/.netrc for its host, or GOAUTH), or, in direct mode, the module's own host"
            ),
            evidence,
            &["goproxy-credentials"],
        )
        .or(
            Category::VcsAuth,
            Confidence::Low,
            "the module's own host (its ?go-get=1 page or git) may want them",
        ),
        401 | 403 => found(
            Category::ProxyAuth,
            Confidence::High,
            format!(
                "{host} refused {what} with {status}: go sent no (or wrong) credentials; GOPROXY lists only fall through on 404/410"
            ),
            evidence,
            &["goproxy-credentials", "pipe-separated-goproxy"],
        ),
        429 | 500..=599 => {
            let (trap, next) = comma_trap(f, &url);
            let summary = match (&trap, next) {
                (true, Some(next)) => format!(
                    "{host} answered {status} for {what}; GOPROXY joins it to {next} with ',', which falls through only on 404/410, so go stopped there"
                ),
                _ => format!("{host} answered {status} for {what}"),
            };
            let playbooks: &[&str] = if trap { &["pipe-separated-goproxy", "retry"] } else { &["use-mirror", "retry"] };
            found(Category::ProxyServerError, Confidence::High, summary, evidence, playbooks)
        }
        // The public proxies implement the whole protocol for go's own requests, which are
        // well-formed: another client error from one of them is the proxy failing itself.
        _ if code != 407 && is_public_proxy(&host) => found(
            Category::ProxyServerError,
            Confidence::Low,
            format!(
                "{host} answered {status} for {what}: a public proxy serves every request go makes, so it is failing \
                 itself (a bad deployment, a broken backend); retry later or use another proxy"
            ),
            evidence,
            &["use-mirror", "retry"],
        )
        .or(Category::ProxyBadResponse, Confidence::Low, "the proxy may not implement that request"),
        // A query by branch or commit (`@v/master.info`), which many proxies refuse with a
        // 4xx: the proxy does not resolve such queries, and retrying will not help.
        _ if NON_SEMVER_QUERY.is_match(&url) => found(
            Category::ProxyBadResponse,
            Confidence::Low,
            format!(
                "{host} answered {status} for {what}, a query by branch or commit that this proxy does not resolve; \
                 ask for a version (or a pseudo-version), or fetch the module directly (GOPRIVATE or GONOPROXY)"
            ),
            evidence,
            &[],
        )
        .or(Category::ProxyServerError, Confidence::Low, "the proxy may be failing itself"),
        // go's requests are well-formed: another client error (400, 405, 422…) is the
        // proxy (or a firewall in front of it) failing to serve a valid request.
        _ => found(
            Category::ProxyServerError,
            Confidence::Low,
            format!(
                "{host} answered {status} for {what}: go's module requests are well-formed, so the proxy (or a \
                 firewall in front of it) is failing to serve a valid one; retry later, or use another proxy"
            ),
            evidence,
            &["use-mirror", "retry"],
        ),
    };
    Some(diagnosis)
}

/// A module proxy URL asking for a branch or a commit rather than a version
/// (`…/@v/master.info`): go sends such queries on to the proxy.
static NON_SEMVER_QUERY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"/@v/(?:[^v/]|v[^0-9/])[^/]*\.info$").expect("compiles"));

/// How many unrelated owners (a path's first two elements) have modules `host` answered
/// 404/410 for, among the modules not declared private.
fn unrelated_owners_not_found(f: &Facts, status: &Regex, host: &str) -> usize {
    let private = f.env("GOPRIVATE").or_else(|| f.env("GONOPROXY")).unwrap_or_default();
    let owners: std::collections::BTreeSet<String> = f
        .matching(status)
        .filter(|(_, c)| matches!(&c[4], "404" | "410"))
        .filter(|(_, c)| c.get(1).or(c.get(2)).or(c.get(3)).is_some_and(|u| url_host(u.as_str()) == host))
        .filter_map(|(e, _)| subject(&e.text))
        .map(|s| s.split('@').next().unwrap_or_default().to_string())
        .filter(|m| !super::super::facts::matches_prefix_patterns(private, m))
        .map(|m| m.split('/').take(2).collect::<Vec<_>>().join("/"))
        .collect();
    owners.len()
}

/// The text after `server response:` (one line, or the tab-indented lines after it).
pub fn server_response(text: &str) -> Option<String> {
    let (_, after) = text.split_once("server response:")?;
    let lines: Vec<&str> = after.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    (!lines.is_empty()).then(|| lines.join(" "))
}

/// What a server quotes when its own fetch of a module could not see the repository
/// (its git asked for credentials, its go-get lookup failed, the host said there is no
/// such repository): a module proxy's or a checksum database's answer for a private
/// module.
pub const OWN_FETCH_SAW_NO_REPOSITORY: [&str; 4] =
    ["terminal prompts disabled", "could not read Username", "unrecognized import path", "Repository not found"];

/// A body saying the proxy could not reach the module's repository (its own git or
/// go-get fetch failed, as for a private module).
fn private_to_proxy(body: &str) -> bool {
    OWN_FETCH_SAW_NO_REPOSITORY
        .iter()
        .chain(&["repository not found", "Authentication failed"])
        .any(|w| body.contains(w))
}

/// A body saying the server failed, not that the module is missing.
fn server_failure(body: &str) -> bool {
    static FAILURE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?i)no space left on device|disk quota exceeded|too many open files|internal (?:server )?error|input/output error|database is locked|out of memory",
        )
        .expect("compiles")
    });
    FAILURE.is_match(body)
}

/// Whether the failing URL's GOPROXY entry is followed by `,` and another entry (go did
/// not fall through), and that next entry.
pub fn comma_trap(f: &Facts, failing_url: &str) -> (bool, Option<String>) {
    let Some(goproxy) = f.env("GOPROXY") else {
        return (false, None);
    };
    let entries = goproxy_entries(goproxy);
    let host = url_host(failing_url);
    let Some(i) = entries.iter().position(|(entry, _)| !entry.is_empty() && url_host(entry) == host) else {
        return (false, None);
    };
    match (&entries[i].1, entries.get(i + 1)) {
        (Some(','), Some((next, _))) if next != "off" => (true, Some(next.clone())),
        _ => (false, None),
    }
}

/// A GOPROXY entry that does not speak TLS although its URL says `https://`: go's TLS
/// client reads a plain-HTTP answer (`http: server gave HTTP response to HTTPS client`,
/// or `tls: first record does not look like a TLS handshake` when the first bytes are
/// not `HTTP/`) — the entry should say `http://`, or names the wrong port. Only for a
/// module proxy's own URLs (`/@v/`, `/@latest`): through a forward proxy the same words
/// follow `proxyconnect`, which is `http_proxy.failure`'s.
pub fn not_tls(f: &Facts) -> Option<Diagnosis> {
    static NOT_TLS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r#"Get "?(https://[^"\s]+/(?:@v/|@latest)[^"\s]*)"?: "#,
            r"(http: server gave HTTP response to HTTPS client|tls: first record does not look like a TLS handshake)",
        ))
        .expect("compiles")
    });
    let (error, caps) = f.matching(&NOT_TLS).next()?;
    let host = url_host(&caps[1]).to_string();
    let mut evidence = vec![error.line()];
    evidence.extend(f.env_line("GOPROXY"));
    // The proxy answered nothing malformed: the URL names the wrong scheme or port, a
    // configuration slip as much as a bad answer — low.
    Some(found(
        Category::ProxyBadResponse,
        Confidence::Low,
        format!(
            "{host} does not speak TLS, but go was told to use https:// for it ({}): the GOPROXY entry should say \
             http://, or it names another service's port",
            &caps[2]
        ),
        evidence,
        &["use-mirror"],
    ))
}

/// A proxy's answer that names no such version (`invalid version`, `unknown revision`):
/// what go's module fetcher says when the origin lacks it.
fn names_no_such_version(response: &str) -> bool {
    ["invalid version", "invalid pseudo-version", "unknown revision"].iter().any(|w| response.contains(w))
}

/// A `file://` GOPROXY without the file go asked for: go treats it as a 404, so the
/// directory is not there (not mounted on this runner, a typo) or lacks the module. A
/// checksum lookup in such a directory (`/sumdb/…`) is the checksum database's.
pub fn file_not_found(f: &Facts) -> Option<Diagnosis> {
    static MISSING: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"reading (file://\S+): (?:no such file or directory|not a directory",
            r"|The system cannot find the (?:path|file) specified\.?)",
        ))
        .expect("compiles")
    });
    let (error, caps) = f.matching(&MISSING).find(|(_, caps)| !caps[1].contains("/sumdb/"))?;
    let mut evidence = vec![error.line()];
    evidence.extend(f.env_line("GOPROXY"));
    Some(found(
        Category::ProxyNotFound,
        Confidence::Medium,
        format!(
            "the file:// proxy has no {} for {}: the directory is not there on this machine (not mounted, not \
             copied, a typo in GOPROXY, a part of the path that is a file) or lacks the module",
            caps[1].rsplit('/').next().unwrap_or("file"),
            subject(&error.text).unwrap_or_else(|| "the module".into())
        ),
        evidence,
        &["add-mirror"],
    ))
}

/// Malformed `.info`, `.mod` or `.zip`: from a proxy when the trace shows the fetch,
/// from the module cache when go read it without fetching.
pub fn bad_content(f: &Facts) -> Option<Diagnosis> {
    static PROXY_WORDS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r#"invalid response from proxy "([^"]+)"|proxy returned info for version \S+ instead of requested version"#,
            r"|redirected from secure URL (\S+) to insecure URL (\S+)|stopped after \d+ redirects",
            // go ≤ 1.15 gave the `.info` decoding error bare, after the module@version.
            r"|\S@v\S*: (?:invalid character '[^']+' (?:looking for beginning of value|in literal \w+)|unexpected end of JSON input)",
            // An answer marked gzip-encoded that is not (net/http decodes it for go).
            // (go 1.19 prints such a URL with one slash: `read "https:/host/…"`.)
            r#"|read "?https?:/\S+?"?: gzip: invalid header"#,
            // A body whose chunked framing is broken (net/http's chunked reader).
            r#"|read "?https?:/\S+?"?: (?:invalid byte in chunk length|malformed chunked encoding|header line too long|chunked encoding contains too much non-data|http chunk length too large|empty hex number for chunk length)"#,
        ))
        .expect("compiles")
    });
    static ZIP_WORDS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"zip: not a valid zip file|zip: checksum error|zip: unsupported compression algorithm|flate: corrupt input|zip for \S+ has unexpected file|malformed file path|unexpected end of zip|zip: FileHeader")
            .expect("compiles")
    });
    if let Some((error, caps)) = f.matching(&PROXY_WORDS).next() {
        if let (Some(secure), Some(portal)) = (caps.get(2), caps.get(3)) {
            // On a `?go-get=1` page the redirect is the import path's server's (or what
            // stands in front of it), not a module proxy's.
            if secure.as_str().contains("?go-get=1") {
                let summary = format!(
                    "the import path's ?go-get=1 page redirected to {}, a plain-http URL go will not follow: the \
                     server (or a portal in front of it) sends go to http; serve the page over https, or list the \
                     host in GOINSECURE if plain http is meant",
                    portal.as_str()
                );
                return Some(found(Category::VcsMeta, Confidence::Medium, summary, vec![error.line()], &[]).or(
                    Category::ProxyBadResponse,
                    Confidence::Low,
                    "a captive portal answers every https request with such a redirect",
                ));
            }
            let mut evidence = vec![error.line()];
            evidence.extend(f.env_line("GOPROXY"));
            return Some(found(
                Category::ProxyBadResponse,
                Confidence::High,
                format!(
                    "the proxy's answer was a redirect to {}, a plain-http page (a captive portal or a login page in \
                     front of the network), not the module",
                    portal.as_str()
                ),
                evidence,
                &["use-mirror"],
            ));
        }
        let proxy = caps.get(1).map_or_else(|| "the proxy".to_string(), |m| m.as_str().to_string());
        let mut evidence = vec![error.line()];
        evidence.extend(f.notable_requests());
        return Some(found(
            Category::ProxyBadResponse,
            Confidence::High,
            format!(
                "{proxy} served a malformed answer{}",
                subject(&error.text).map(|s| format!(" for {s}")).unwrap_or_default()
            ),
            evidence,
            &["use-mirror"],
        ));
    }
    // A checksum database lookup answered with something that is not a record (sumdb's
    // tlog.ParseRecord), or data that does not fit the database's signed tree (x/mod's
    // sumdb client: a tile, a record, a proof): go asks a GOPROXY that says it serves the
    // database through it before the database itself, so the answer most likely came
    // through the proxy. (A fork of the tree is the SECURITY ERROR banner: the mismatch
    // rule's.)
    static NOT_A_RECORD: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"verifying \S+: (?:\S+: )?malformed record data|downloaded inconsistent tile",
            r"|cannot authenticate record data in server response|invalid transparency proof",
        ))
        .expect("compiles")
    });
    if let Some((error, _)) = f.matching(&NOT_A_RECORD).next() {
        let mut evidence = vec![error.line()];
        evidence.extend(["GOPROXY", "GOSUMDB"].iter().filter_map(|v| f.env_line(v)));
        // Without a module proxy in GOPROXY, or with GOSUMDB naming the database's URL (or
        // sum.golang.google.cn, which go expands so), go asked the database itself:
        // modfetch's dbDial bypasses proxies then.
        let no_proxy = f
            .env("GOPROXY")
            .is_some_and(|p| p.split([',', '|']).map(str::trim).all(|entry| matches!(entry, "direct" | "off" | "")));
        let own_url =
            f.env("GOSUMDB").is_some_and(|db| db.split_whitespace().count() > 1 || db.trim() == "sum.golang.google.cn");
        if no_proxy || own_url {
            let summary = "the checksum database's answer for the module was not data go can read or check against \
                           its signed tree, and go asked the database itself (GOPROXY has no proxy, or GOSUMDB names \
                           its URL): the database (or what answers at its address) is misbehaving";
            return Some(
                found(Category::SumdbUnreachable, Confidence::Low, summary.into(), evidence, &["set-gosumdb"]).or(
                    Category::CacheCorrupt,
                    Confidence::Low,
                    "the tiles go cached from it may be damaged",
                ),
            );
        }
        return Some(
            found(
                Category::ProxyBadResponse,
                Confidence::Low,
                "the checksum database's answer for the module was not data go can read or check against the \
                 database's signed tree: the proxy that passes the database through (GOPROXY's /sumdb/) or the GOSUMDB \
                 host served something else (a page, stale or cut data)"
                    .into(),
                evidence,
                &["use-mirror"],
            )
            .or(
                Category::SumdbUnreachable,
                Confidence::Low,
                "the checksum database itself may be misbehaving",
            ),
        );
    }
    // A go.mod that is not one (an HTML page cached as it: a captive portal answered the
    // .mod while GOSUMDB was off): the cache's now, unless this run fetched it.
    static NOT_A_GO_MOD: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"parsing go\.mod:\s*missing module (?:line|declaration)").expect("compiles"));
    if let Some((error, _)) = f.matching(&NOT_A_GO_MOD).next() {
        let fetched = f.evidence.trace.iter().any(|g| g.url.ends_with(".mod"));
        let mut evidence = vec![error.line()];
        evidence.extend(f.env_line("GOSUMDB"));
        let diagnosis = if fetched {
            found(
                Category::ProxyBadResponse,
                Confidence::High,
                "the proxy served something that is not a go.mod (an HTML page: a captive portal or login page)".into(),
                evidence,
                &["use-mirror"],
            )
        } else {
            found(
                Category::CacheCorrupt,
                Confidence::Low,
                "the go.mod go read for a dependency has no module line, so it is no go.mod: a page or a cut file \
                 a proxy served, kept in the module cache (go verifies a go.mod only where GOSUMDB checks it): \
                 clean the module cache and remove its go.sum line; if it comes back, the proxy serves it so"
                    .into(),
                evidence,
                &["clean-module-cache"],
            )
            .or(Category::ProxyBadResponse, Confidence::Low, "the proxy may serve it so now")
        };
        return Some(diagnosis);
    }
    // A zip over go's size limits (500 MB unpacked, golang.org/x/mod/zip): the proxy
    // served what no module may be, or the module itself is that large.
    static TOO_LARGE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"downloaded zip file too large|total uncompressed size of module contents too large",
            r"|unzip \S+\.zip: \S+: (?:go\.mod |LICENSE )?file too large",
        ))
        .expect("compiles")
    });
    if let Some((error, _)) = f.matching(&TOO_LARGE).next() {
        let mut evidence = vec![error.line()];
        evidence.extend(f.env_line("GOPROXY"));
        return Some(
            found(
                Category::ProxyBadResponse,
                Confidence::Low,
                format!(
                    "the module zip{} (or a file in it) is larger than go accepts: a proxy serving a zip no module may \
                     be; check what the proxy stores for it",
                    subject(&error.text).map(|s| format!(" of {s}")).unwrap_or_default()
                ),
                evidence,
                &["use-mirror"],
            )
            .or(
                Category::ModuleInvalidVersion,
                Confidence::Low,
                "the module version itself may be that large, and then no proxy can serve it: use another version",
            ),
        );
    }
    // go made the zip itself, from the repository (`create zip:`): no proxy served it, and
    // what broke the zip is the module's (the module rule's).
    if f.errors.iter().any(|e| e.text.contains("create zip: ")) {
        return None;
    }
    let (error, _) = f.matching(&ZIP_WORDS).next()?;
    let zip_fetches: Vec<_> = f.evidence.trace.iter().filter(|g| g.url.ends_with(".zip")).collect();
    // go names the file (`unzip <cache>/….zip: …`) only when it opens a zip it already
    // had; `go: downloading M V` shows it fetched one in this run.
    static UNZIP_CACHED: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"unzip \S*[/\\]cache[/\\]download[/\\]\S+\.zip: ").expect("compiles"));
    let downloaded = f.downloaded_a_module();
    // `verifying M@V: zip: …` is go's check of a module already in its cache (checkMod):
    // the cached ziphash was unreadable, and hashing the cached zip again failed.
    static VERIFY_CACHED: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"verifying (\S+@\S+): zip: ").expect("compiles"));
    if let Some(module) = VERIFY_CACHED.captures(&error.text).map(|c| c[1].to_string()) {
        let summary = format!(
            "go checked {module} already in its module cache, found its ziphash unreadable and the cached zip broken: \
             the cache was damaged after the download (a full disk, an interrupted write, a broken cache restore); \
             clean the module cache and download again"
        );
        return Some(found(
            Category::CacheCorrupt,
            Confidence::Medium,
            summary,
            vec![error.line()],
            &["clean-module-cache"],
        ));
    }
    if UNZIP_CACHED.is_match(&error.text) && zip_fetches.is_empty() && !downloaded {
        let mut evidence = vec![error.line()];
        evidence.extend(f.notable_requests());
        return Some(found(
            Category::CacheCorrupt,
            Confidence::High,
            "go opened a zip already in the module cache and it is broken (go names the cached file, and fetched \
             nothing): the cache was damaged after the download (a full disk, a broken cache restore in CI)"
                .into(),
            evidence,
            &["clean-module-cache"],
        ));
    }
    let mut evidence = vec![error.line()];
    evidence.extend(zip_fetches.iter().map(|g| EvidenceLine {
        source: Source::Trace,
        text: format!("# get {}: {}", g.url, g.result.as_deref().unwrap_or("(no answer)")),
    }));
    evidence.extend(f.notable_requests());
    // With -x on, go prints a `# get` line for every download: no line for the zip means
    // go read it from the module cache.
    let traced = !f.evidence.trace.is_empty()
        || f.evidence.command.as_deref().is_some_and(|c| c.split_whitespace().any(|a| a == "-x"));
    if traced && zip_fetches.is_empty() {
        return Some(found(
            Category::CacheCorrupt,
            Confidence::High,
            "go read a broken zip from the module cache: the -x trace shows no download of it".into(),
            evidence,
            &["clean-module-cache"],
        ));
    }
    let (confidence, from) = match zip_fetches.last() {
        Some(g) => (Confidence::High, url_host(&g.url).to_string()),
        // Without -x a broken zip from the proxy and one broken in the cache read alike.
        None => (Confidence::Low, "a proxy (run with -x to tell a proxy from the cache)".to_string()),
    };
    Some(found(
        Category::ProxyBadResponse,
        confidence,
        format!("the module zip from {from} is not a valid module zip"),
        evidence,
        &["use-mirror"],
    ))
}
