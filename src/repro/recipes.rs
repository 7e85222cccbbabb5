//! One recipe per diagnosis category: the world that makes go fail the way the log shows
//! (most often: the failing host as a module proxy with the right fault, a working
//! mirror standing by), and the recovery the category's playbook offers.

use std::sync::LazyLock;

use regex::Regex;

use super::draft::{Draft, at, fault_on, inline_module, respond};
use super::{LogFacts, ReproError, declared_name, env_value, private_pattern, url_host};
use crate::diagnose::rules::{is_major_suffix, is_public_proxy};
use crate::diagnose::{Category, Diagnosis};
use crate::scenario::at::At;
use crate::scenario::raw::*;
use crate::scenario::validate::{certificate_name_covers, is_certificate_name};

/// The mirror a recovery switches to.
const MIRROR: &str = "mirror.repro.example";

/// What a recipe works from.
struct Log<'a> {
    diagnosis: &'a Diagnosis,
    facts: &'a LogFacts,
}

impl Log<'_> {
    fn errors(&self) -> &str {
        &self.facts.errors
    }

    fn says(&self, text: &str) -> bool {
        self.facts.errors.contains(text)
    }

    /// go's error text and the lines the diagnosis quotes: a verdict from the liberal
    /// reading of a log rests on lines go's own output did not hold (one without go's
    /// prefix).
    fn said(&self) -> String {
        let quoted = self.diagnosis.evidence.iter().map(|l| l.text.as_str()).collect::<Vec<_>>().join("\n");
        format!("{}\n{quoted}", self.errors())
    }

    /// git's failure is ssh's: a refused key or an unknown host key.
    fn over_ssh(&self) -> bool {
        crate::diagnose::rules::vcs::refused_over_ssh(self.facts.errors.as_str())
    }

    /// The HTTP status go reported last.
    fn status(&self) -> Option<u16> {
        static STATUS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?:: |\()([1-5][0-9]{2})\b").expect("compiles"));
        STATUS.captures_iter(self.errors()).filter_map(|c| c[1].parse::<u16>().ok()).last()
    }

    /// The text after `server response:`.
    fn server_response(&self) -> Option<String> {
        static BODY: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"server response: ([^\n]+)").expect("compiles"));
        BODY.captures(self.errors()).map(|c| c[1].trim().to_string())
    }

    /// A glob for the file go was fetching (`*.zip`, `*/@v/list`). A failed `@latest`
    /// faults the list: go asks for the list first and for `@latest` only when the list
    /// is empty.
    fn file_glob(&self) -> String {
        match self.facts.file() {
            "list" | "latest" => "*/@v/list".to_string(),
            ext => format!("*.{ext}"),
        }
    }

    /// The GOPROXY the log shows is a `,` list.
    fn comma_list(&self) -> bool {
        env_value(&self.facts.env, "GOPROXY").is_some_and(|p| p.contains(','))
    }

    /// go's dialer gave up connecting (`dial tcp 1.2.3.4:443: i/o timeout`; not a lookup's
    /// `dial tcp: lookup …`, nor a handshake's or a read's timeout).
    fn dial_timed_out(&self) -> bool {
        static DIAL: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"dial tcp [^\s:][^\s]*: i/o timeout").expect("compiles"));
        DIAL.is_match(self.errors())
    }

    /// The forward proxy the log configures, if any.
    fn http_proxy(&self, vars: &[&str]) -> Option<&str> {
        vars.iter().find_map(|v| env_value(&self.facts.env, v))
    }
}

/// Fills `draft` for the diagnosed category.
pub(super) fn apply(draft: &mut Draft, diagnosis: &Diagnosis, facts: &LogFacts) -> Result<(), ReproError> {
    let log = Log { diagnosis, facts };
    match diagnosis.category {
        Category::ProxyNotFound | Category::ProxyServerError | Category::ProxyAuth => proxy_status(draft, &log),
        Category::ProxyOff => proxy_off(draft, &log),
        Category::ProxyBadResponse => proxy_bad_response(draft, &log),
        Category::NetRefused => net_refused(draft, &log),
        Category::NetReset => net_reset(draft, &log),
        Category::NetTimeout => net_timeout(draft, &log),
        Category::Hang => hang(draft, &log),
        Category::TlsUnknownAuthority | Category::TlsExpired | Category::TlsHostname => tls(draft, &log),
        Category::HttpProxyFailure => http_proxy(draft, &log),
        Category::DnsNxdomain | Category::DnsFailure => dns(draft, &log),
        Category::SumdbMismatch => sumdb_mismatch(draft, &log)?,
        Category::SumdbPrivateLeak | Category::SumdbUnreachable => sumdb_lookup(draft, &log),
        Category::VcsAuth if log.over_ssh() => {
            return Err(ReproError::Unreproducible(
                Category::VcsAuth,
                "git failed over ssh (a refused key, an unknown host key), and modchaos's git hosts speak https \
                 only: a scenario would reproduce an https credential prompt instead"
                    .into(),
            ));
        }
        Category::VcsAuth | Category::VcsNotFound | Category::VcsMeta => vcs(draft, &log),
        Category::ModulePathMismatch => path_mismatch(draft, &log),
        Category::ModuleInvalidVersion => invalid_version(draft, &log),
        Category::CacheLockStuck => lock_stuck(draft, &log),
        Category::CachePermission => cache_permission(draft, &log),
        Category::CacheCorrupt => cache_corrupt(draft, &log)?,
        Category::ToolchainDownload => toolchain(draft, &log)?,
        other => return Err(ReproError::Unsupported(other)),
    }
    // A failed version list (or `@latest`) is asked for by a query: go fetches a fixed
    // version's .info, .mod and .zip only, so a run of the log's version would never
    // meet the fault on the list. The run asks for `@latest` of a module with a release
    // (the log's `@v1` is itself a query, not a version).
    let downloads_the_logged_version =
        draft.scenario.run.modules.as_ref().is_some_and(|m| m.len() == 1 && m[0].value == facts.id());
    if matches!(facts.file(), "list" | "latest") && downloads_the_logged_version {
        let release =
            if facts.version.matches('.').count() >= 2 { release_of(&facts.version) } else { "v1.0.0".into() };
        draft.modules(vec![inline_module(&format!("{}@{release}", facts.module))]);
        // The recipe's deadline stays (a black hole needs go's 30 s dial timeout and more).
        let timeout = draft.scenario.run.timeout.as_ref().map_or("30s".to_string(), |t| t.value.clone());
        draft.download(&format!("{}@latest", facts.module), &timeout);
    }
    Ok(())
}

/// The failing host as a module proxy with `faults`, GOPROXY naming it, and a mirror that
/// works standing by for the recovery.
fn proxy_world(draft: &mut Draft, log: &Log, faults: Vec<At<RawFault>>) -> String {
    let host = log.facts.host.clone();
    draft.goproxy(&host).faults = faults;
    draft.goproxy(MIRROR);
    draft.set("GOPROXY", &draft.proxy_url(&host));
    host
}

/// The module proxy behind the failing one in a GOPROXY list the scenario keeps as the
/// log's (the `,` trap, whose recovery falls through to it): the log's next entry, under
/// its own name, standing in for [`MIRROR`] — unless the log has none, names the failing
/// host again, or names a public proxy while the module is not public: the real public
/// proxy cannot fetch a private module, so a fake one serving it would prove a recovery
/// the log's world does not have; the mirror keeps its made-up name then, and the
/// scenario says why.
fn next_entry(draft: &mut Draft, log: &Log, failing: &str) -> String {
    let f = log.facts;
    let entries: Vec<&str> =
        env_value(&f.env, "GOPROXY").unwrap_or_default().split([',', '|']).map(str::trim).collect();
    let after = entries.iter().position(|e| declared_name(url_host(e)) == failing).and_then(|i| entries.get(i + 1));
    let Some(next) = after.filter(|e| e.contains("://") || e.contains('.')).map(|e| declared_name(url_host(e))) else {
        return MIRROR.to_string();
    };
    if next == failing || next == MIRROR {
        return MIRROR.to_string();
    }
    if is_public_proxy(&next) && !crate::diagnose::rules::public_module(&f.module) {
        draft.note(&format!(
            "The log's next GOPROXY entry, {next}, is played by {MIRROR}: a public proxy cannot fetch the private \
             module {}, so the recovery proves only that falling through to a proxy that has it works.",
            f.module
        ));
        return MIRROR.to_string();
    }
    draft.remove_host(MIRROR);
    draft.goproxy(&next);
    next
}

/// Recovery through the mirror.
fn use_mirror(draft: &mut Draft) {
    draft.playbook("use-mirror", &[("mirror", &format!("https://{MIRROR}"))]);
}

fn proxy_status(draft: &mut Draft, log: &Log) {
    let default = match log.diagnosis.category {
        Category::ProxyNotFound => 404,
        Category::ProxyAuth => 403,
        _ => 500,
    };
    let status = log.status().unwrap_or(default);
    let fault = fault_on(&log.file_glob(), respond(status, log.server_response(), &[]));
    let host = proxy_world(draft, log, vec![fault]);
    // A proxy failing itself is told by its 404s for several unrelated owners: all of
    // them are asked for again (up to four).
    if log.diagnosis.category == Category::ProxyServerError && matches!(status, 404 | 410) {
        let ids = log.facts.failing_ids(4);
        draft.modules(ids.iter().map(|id| inline_module(id)).collect());
        draft.scenario.run.modules = Some(ids.into_iter().map(at).collect());
    }
    // The ',' trap: the log's own list, with a mirror behind the failing entry.
    let trap = log.comma_list() && log.diagnosis.playbooks.iter().any(|p| p == "pipe-separated-goproxy");
    if trap {
        let next = next_entry(draft, log, &host);
        draft.set("GOPROXY", &format!("{},{}", draft.proxy_url(&host), draft.proxy_url(&next)));
        draft.playbook("pipe-separated-goproxy", &[]);
    } else if log.diagnosis.category == Category::ProxyNotFound {
        draft.playbook("add-mirror", &[("mirror", &format!("https://{MIRROR}"))]);
    } else {
        use_mirror(draft);
    }
}

fn proxy_off(draft: &mut Draft, log: &Log) {
    let host = log.facts.host.clone();
    draft.goproxy(&host);
    // A list of separators only (`,`) is no `off` to go: it says the list has no entries.
    let value = if log.says("contains no entries") { "," } else { "off" };
    draft.set("GOPROXY", value);
    draft.playbook("enable-goproxy", &[("proxy", &draft.proxy_url(&host))]);
}

/// A proxy's answer go could not use, as the log tells it: an `.info` it could not parse,
/// redirects without end (`stopped after 10 redirects`), a body marked gzip that is not
/// (`gzip: invalid header`), else a zip cut short.
fn proxy_bad_response(draft: &mut Draft, log: &Log) {
    let answer = |status: u16, body: &str, headers: &[(&str, &str)]| {
        fault_on(&log.file_glob(), respond(status, Some(body.to_string()), headers))
    };
    let fault = match unreadable_info(log) {
        Some(body) => fault_on("*.info", RawFault { replace_body: Some(at(body)), ..Default::default() }),
        // A Location naming the file's own URL leads back to it.
        None if log.says("redirects") && log.says("stopped after") => {
            let f = log.facts;
            let file = if matches!(f.file(), "list" | "latest") {
                "list".to_string()
            } else {
                format!("{}.{}", f.version, f.file())
            };
            let url = format!("{}/{}/@v/{file}", draft.proxy_url(&f.host), crate::fixture::escape::escape(&f.module));
            answer(301, "", &[("Location", &url)])
        }
        // At least gzip's 10 header bytes, or go reads `unexpected EOF` first.
        None if log.says("gzip: invalid header") => {
            answer(200, "{\"Version\": \"plain JSON, not gzip\"}\n", &[("Content-Encoding", "gzip")])
        }
        None => {
            fault_on("*.zip", RawFault { truncate: Some(at(RawTruncate { after_bytes: 100 })), ..Default::default() })
        }
    };
    proxy_world(draft, log, vec![fault]);
    use_mirror(draft);
}

/// The `.info` body go could not read, as the log tells it: a page where JSON belongs
/// (`invalid character '<' looking for beginning of value`), nothing (`unexpected end of
/// JSON input`), another version's (`proxy returned info for version v1.1.0 instead of
/// requested version`), or other text that is no JSON. `None`: the log's failure is not
/// the `.info`'s.
fn unreadable_info(log: &Log) -> Option<RawReplaceBody> {
    static FIRST: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"invalid character '(.)' looking for beginning of value").expect("compiles"));
    static OTHER: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"proxy returned info for version (v[0-9][^\s]*) instead of requested version").expect("compiles")
    });
    let body = |body: &str, content_type: Option<&str>| {
        Some(RawReplaceBody { body: body.to_string(), content_type: content_type.map(str::to_string) })
    };
    if let Some(c) = OTHER.captures(log.errors()) {
        let version = c[1].to_string();
        return body(&format!("{{\"Version\":\"{version}\",\"Time\":\"2024-01-01T00:00:00Z\"}}\n"), None);
    }
    if log.says("unexpected end of JSON input") {
        return body("", None);
    }
    match FIRST.captures(log.errors()).map(|c| c[1].to_string()) {
        Some(first) if first == "<" => body("<!DOCTYPE html>\n<html><body>Sign in</body></html>\n", Some("text/html")),
        Some(first) => body(&format!("{first} is no JSON\n"), Some("text/plain")),
        None if log.says("invalid character") || log.says("instead of requested version") => body("{not json", None),
        None => None,
    }
}

fn net_refused(draft: &mut Draft, log: &Log) {
    let host = log.facts.host.clone();
    draft.host(&host).closed = Some(at(RawEmpty {}));
    draft.goproxy(MIRROR);
    if log.comma_list() {
        let next = next_entry(draft, log, &host);
        draft.set("GOPROXY", &format!("{},{}", draft.proxy_url(&host), draft.proxy_url(&next)));
        draft.playbook("pipe-separated-goproxy", &[]);
    } else {
        draft.set("GOPROXY", &draft.proxy_url(&host));
        use_mirror(draft);
    }
}

/// A connection cut as go reported it: an HTTP/2 stream reset (`stream error`), the
/// connection gone before any answer on the first request of a connection (`Get URL:
/// unexpected EOF`: a reset before the response, which go meets as the end of the
/// stream), a body that ended early (`read URL: unexpected EOF`: the connection closed
/// mid-body), or a reset after the headers (`read: connection reset by peer`).
fn net_reset(draft: &mut Draft, log: &Log) {
    static GET_EOF: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"Get "?https?://[^\s"]+"?: unexpected EOF"#).expect("compiles"));
    let reset = |glob: &str, after_bytes: Option<u64>| {
        fault_on(glob, RawFault { reset: Some(at(RawReset { after_bytes })), ..Default::default() })
    };
    let fault = if log.says("stream error") {
        let reset = RawStreamReset { after_bytes: Some(0), goaway: Some(true) };
        fault_on(&log.file_glob(), RawFault { stream_reset: Some(at(reset)), ..Default::default() })
    } else if GET_EOF.is_match(log.errors()) && !log.says("connection reset") {
        // The first request of a connection: the list for a query, else the `.info`.
        let glob = if log.file_glob().ends_with("/list") { log.file_glob() } else { "*.info".to_string() };
        reset(&glob, None)
    } else if log.says("unexpected EOF") {
        // A body cut short: a zip whose connection is closed (a FIN, not a reset) after
        // its first bytes.
        fault_on("*.zip", RawFault { close: Some(at(RawReset { after_bytes: Some(100) })), ..Default::default() })
    } else {
        reset(&log.file_glob(), Some(0))
    };
    proxy_world(draft, log, vec![fault]);
    use_mirror(draft);
}

/// A dial that timed out (`dial tcp 1.2.3.4:443: i/o timeout`) is reproduced by a host
/// that never takes a connection (`blackhole`: go's dialer gives up after 30 s); any
/// other timeout (a TLS handshake's, a read's) by a TLS handshake that never ends.
fn net_timeout(draft: &mut Draft, log: &Log) {
    if log.dial_timed_out() {
        let host = log.facts.host.clone();
        draft.host(&host).blackhole = Some(at(RawEmpty {}));
        draft.goproxy(MIRROR);
        draft.set("GOPROXY", &draft.proxy_url(&host));
        draft.download(&log.facts.id(), "50s");
        use_mirror(draft);
        return;
    }
    let host = proxy_world(draft, log, Vec::new());
    let timeout = RawToxicTimeout { timeout: at(RawQuantity::Number(0)) };
    draft.host(&host).tcp = vec![at(RawToxic { timeout: Some(at(timeout)), ..Default::default() })];
    draft.download(&log.facts.id(), "40s");
    use_mirror(draft);
}

fn hang(draft: &mut Draft, log: &Log) {
    let fault = fault_on(&log.file_glob(), RawFault { hang: Some(at(RawEmpty {})), ..Default::default() });
    proxy_world(draft, log, vec![fault]);
    draft.download(&log.facts.id(), "5s");
    draft.exit(RawExit::Timeout);
    use_mirror(draft);
}

fn tls(draft: &mut Draft, log: &Log) {
    let category = log.diagnosis.category;
    let proxy = log.http_proxy(&["HTTPS_PROXY", "https_proxy"]).map(url_host);
    if let (Category::TlsUnknownAuthority, Some(proxy)) = (category, proxy) {
        // A TLS-inspecting corporate proxy re-signs everything with its CA.
        let name = declared_name(proxy);
        let port = proxy.rsplit_once(':').map_or("3128", |(_, p)| p);
        let host = log.facts.host.clone();
        draft.goproxy(&host);
        draft.host(&name).forward_proxy = Some(at(RawForwardProxy { intercept: Some(true), ..Default::default() }));
        draft.set("GOPROXY", &draft.proxy_url(&host));
        draft.set("HTTPS_PROXY", &format!("http://{name}:{port}"));
        draft.playbook("trust-ca", &[("ca", "corporate")]);
        return;
    }
    use crate::fault::tls::CertFault;
    let certificate = match category {
        Category::TlsUnknownAuthority if log.says("self-signed") => CertFault::SelfSigned,
        Category::TlsUnknownAuthority => CertFault::Untrusted,
        Category::TlsExpired if log.says("is before") => CertFault::NotYetValid,
        Category::TlsExpired => CertFault::Expired,
        _ if log.says("legacy Common Name") => CertFault::NoSan,
        _ if log.says("not valid for any names") => CertFault::IpOnly,
        _ => CertFault::WrongHost,
    };
    let host = proxy_world(draft, log, Vec::new());
    let names = if certificate == CertFault::WrongHost { names_the_certificate_had(log, &host) } else { Vec::new() };
    draft.host(&host).tls = Some(RawTls { certificate: Some(at(certificate)), names });
    if certificate == CertFault::Untrusted {
        draft.playbook("trust-ca", &[("ca", "private")]);
    } else {
        use_mirror(draft);
    }
}

/// The names the log's wrong certificate was valid for (`x509: certificate is valid for
/// a.example, *.b.example, not host`), as DNS names a certificate can carry, none of them
/// covering `host` (the scenario's name for the host go refused).
fn names_the_certificate_had(log: &Log, host: &str) -> Vec<At<String>> {
    static VALID_FOR: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"certificate is valid for ([^\n]+?), not ").expect("compiles"));
    let Some(c) = VALID_FOR.captures(log.errors()) else { return Vec::new() };
    c[1].split(", ")
        .map(|name| name.trim().to_ascii_lowercase())
        .filter(|name| is_certificate_name(name) && !certificate_name_covers(name, host))
        .map(at)
        .collect()
}

fn http_proxy(draft: &mut Draft, log: &Log) {
    // A plain-http GOPROXY goes through HTTP_PROXY, as a forwarded GET the proxy answers
    // itself (`reading http://…: 407 Proxy Authentication Required`), not a CONNECT.
    let plain = env_value(&log.facts.env, "GOPROXY").is_some_and(|p| p.starts_with("http://"))
        && log.http_proxy(&["HTTP_PROXY", "http_proxy"]).is_some();
    let vars: &[&str] =
        if plain { &["HTTP_PROXY", "http_proxy"] } else { &["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"] };
    let proxy_url = log.http_proxy(vars).unwrap_or("http://proxy.corp.example:3128");
    let authority = url_host(proxy_url);
    let name = declared_name(authority);
    let port = authority.rsplit_once(':').map_or("3128", |(_, p)| p).to_string();
    let target = if log.facts.host == name { "goproxy.repro.example".to_string() } else { log.facts.host.clone() };
    draft.goproxy(&target);
    if plain {
        let url = draft.proxy_url(&target).replacen("https://", "http://", 1);
        draft.set("GOPROXY", &url);
        draft.set("HTTP_PROXY", &format!("http://{name}:{port}"));
    } else {
        draft.set("GOPROXY", &draft.proxy_url(&target));
        draft.set("HTTPS_PROXY", &format!("http://{name}:{port}"));
    }
    let forward = |settings: RawForwardProxy| Some(at(settings));
    if log.says("proxyconnect") {
        draft.host(&name).closed = Some(at(RawEmpty {}));
        draft.playbook("unset-http-proxy", &[]);
    } else if log.says("Proxy Authentication Required") {
        let auth = RawBasicAuth { user: "ci-bot".into(), password: "s3cret".into() };
        draft.host(&name).forward_proxy = forward(RawForwardProxy { auth: Some(auth), ..Default::default() });
        draft.playbook("http-proxy-credentials", &[("proxy", &format!("http://ci-bot:s3cret@{name}:{port}"))]);
    } else if log.says("EOF") {
        let drop = RawForwardProxy { connect: Some(crate::vocab::ConnectMode::Drop), ..Default::default() };
        draft.host(&name).forward_proxy = forward(drop);
        draft.playbook("unset-http-proxy", &[]);
    } else {
        let refuse = RawForwardProxy { connect: Some(crate::vocab::ConnectMode::Refuse), ..Default::default() };
        draft.host(&name).forward_proxy = forward(refuse);
        draft.playbook("bypass-http-proxy", &[("hosts", &target)]);
    }
}

/// A name that failed to resolve, as the log tells it: NXDOMAIN; a resolver that is down
/// (`lookup H on S: … connection refused`, `network is unreachable`), which every name
/// meets alike, so no playbook recovers; a resolver that does not recurse (`lame
/// referral`); one that never answers; or one that fails (SERVFAIL).
fn dns(draft: &mut Draft, log: &Log) {
    if let Some(down) = resolver_down(log).filter(|_| log.diagnosis.category == Category::DnsFailure) {
        let host = log.facts.host.clone();
        draft.goproxy(&host);
        draft.set("GOPROXY", &draft.proxy_url(&host));
        draft.scenario.resolver = Some(RawResolver { down: Some(at(down)), ..Default::default() });
        draft.note(
            "No recovery: while the resolver is down every name fails alike, so the cure is outside go (start the \
             resolver, fix resolv.conf, or fetch modules before the network is taken away).",
        );
        return;
    }
    let fault = if log.diagnosis.category == Category::DnsNxdomain {
        RawDnsFault { nxdomain: Some(at(RawEmpty {})), ..Default::default() }
    } else if log.says("lame referral") {
        RawDnsFault { lame_referral: Some(at(RawEmpty {})), ..Default::default() }
    } else if log.says("i/o timeout") {
        draft.scenario.resolver =
            Some(RawResolver { timeout: Some(at("1s".into())), attempts: Some(at(1)), down: None });
        RawDnsFault { timeout: Some(at(RawEmpty {})), ..Default::default() }
    } else {
        RawDnsFault { servfail: Some(at(RawEmpty {})), ..Default::default() }
    };
    let host = proxy_world(draft, log, Vec::new());
    draft.host(&host).dns = vec![at(fault)];
    use_mirror(draft);
}

/// How the log's resolver was down: go could not reach the server resolv.conf names
/// (`lookup H on 127.0.0.53:53: read udp …: read: connection refused`, `dial udp
/// [::1]:53: connect: network is unreachable`), in the words for which the diagnosis
/// (`rules::dns::failure`) offers no playbook.
fn resolver_down(log: &Log) -> Option<crate::scenario::model::ResolverDown> {
    use crate::scenario::model::ResolverDown;
    static DOWN: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(r"lookup \S+ on \S+: [^\n]*?(", crate::diagnose::rules::dns::unreachable_resolver!(), ")"))
            .expect("compiles")
    });
    let caps = DOWN.captures(log.errors())?;
    // A route refused or a firewall's denial end the same way: no answer can come.
    Some(if &caps[1] == "connection refused" { ResolverDown::Refused } else { ResolverDown::Unreachable })
}

/// A module made up on the spot in another variant (a re-tagged or tampered copy); with
/// `go_mod`, its go.mod differs too (it declares another path), so that go's mismatch is
/// the go.mod's (`verifying M@V/go.mod: checksum mismatch`), which go checks first.
fn variant_of(id: &str, variant: &str, go_mod: bool) -> RawModuleSource {
    let path = id.split('@').next().unwrap_or(id);
    RawModuleSource::Inline(RawInlineModule {
        module: Some(at(id.to_string())),
        toolchain: None,
        declares: go_mod.then(|| format!("{path}-{variant}")),
        variant: Some(variant.to_string()),
    })
}

/// Module proxy `host` serving `module` instead of the scenario's own (its mount path
/// kept).
fn serve(draft: &mut Draft, host: &str, module: RawModuleSource) {
    if let Some(goproxy) = draft.goproxy(host).goproxy.as_mut() {
        goproxy.value.fixtures = Some(vec![at(module)]);
    }
}

/// The log's mismatch is a go.mod's (`verifying M@V/go.mod: checksum mismatch`, older go's
/// `M@V: verifying go.mod: checksum mismatch`), not a zip's.
fn go_mod_mismatch(log: &Log) -> bool {
    log.says("/go.mod: checksum mismatch") || log.says("verifying go.mod: checksum mismatch")
}

/// A work module requiring the log's version, go.sum recording its original hashes (the
/// zip's and the go.mod's), and `go mod download` of it: go compares what it gets with
/// go.sum, as in the log.
fn go_sum_of_original(draft: &mut Draft, log: &Log) -> Result<(), ReproError> {
    let f = log.facts;
    let original = crate::fixture::synth::synthesize(&f.module, &f.version, &Default::default())
        .map_err(|_| ReproError::Unsupported(log.diagnosis.category))?;
    draft.file("go.mod", format!("module repro.example/app\n\ngo 1.21\n\nrequire {} {}\n", f.module, f.version));
    draft.file(
        "go.sum",
        format!(
            "{} {} {}\n{} {}/go.mod {}\n",
            f.module,
            f.version,
            original.sum,
            f.module,
            f.version,
            original.go_mod_sum.unwrap_or_default()
        ),
    );
    draft.go("mod download -json -x");
    Ok(())
}

fn sumdb_mismatch(draft: &mut Draft, log: &Log) -> Result<(), ReproError> {
    let f = log.facts;
    let go_sum_side = log.says("go.sum:") || log.says("earlier download recorded in go.sum");
    let go_mod = go_mod_mismatch(log);
    if go_sum_side {
        // go.sum remembers the original; the proxy now serves another variant.
        let host = f.host.clone();
        let variant = variant_of(&f.id(), "retagged", go_mod);
        serve(draft, &host, variant);
        draft.goproxy(MIRROR);
        draft.set("GOPROXY", &draft.proxy_url(&host));
        go_sum_of_original(draft, log)?;
    } else {
        let db = database_name(f, "sum.repro.example");
        let proxy = proxy_beside(&db, f);
        serve(draft, &proxy, variant_of(&f.id(), "tampered", go_mod));
        draft.goproxy(MIRROR);
        draft.host(&db).sumdb = Some(at(RawSumdb::default()));
        draft.set("GOPROXY", &draft.proxy_url(&proxy));
        draft.set("GOSUMDB", &db);
    }
    use_mirror(draft);
    Ok(())
}

fn sumdb_lookup(draft: &mut Draft, log: &Log) {
    if log.says(crate::diagnose::rules::sumdb::GOSUMDB_OFF_REFUSED) {
        return toolchain_without_sumdb(draft, log);
    }
    let f = log.facts;
    let db = database_name(f, "sum.golang.org");
    let mut gosumdb = db.clone();
    let proxy = proxy_beside(&db, f);
    draft.goproxy(&proxy);
    draft.set("GOPROXY", &draft.proxy_url(&proxy));
    if log.diagnosis.category == Category::SumdbPrivateLeak {
        let public = RawSumdb { modules: Some(vec![at("golang.org/**".into())]), ..Default::default() };
        draft.host(&db).sumdb = Some(at(public));
        if let Some(fault) = lookup_answer(log) {
            draft.host(&db).faults = vec![fault];
        }
    } else {
        // A database that is no `sumdb` host gets no key from the world: go needs the
        // log's (`name+hash+key`, when the name is kept), unless it knows the name itself.
        let keyed = env_value(&f.env, "GOSUMDB")
            .filter(|v| !v.contains(' ') && v.split('+').next() == Some(db.as_str()) && v.contains('+'));
        let refused = log.says("connection refused");
        let unnamed = !refused && log.says("no such host");
        let dropped = !refused && !unnamed && log.dial_timed_out();
        if let Some(keyed) = keyed.filter(|_| refused || dropped) {
            gosumdb = keyed.to_string();
        }
        let host = draft.host(&db);
        if refused {
            host.closed = Some(at(RawEmpty {}));
        } else if unnamed {
            host.sumdb = Some(at(RawSumdb::default()));
            host.dns = vec![at(RawDnsFault { nxdomain: Some(at(RawEmpty {})), ..Default::default() })];
        } else if dropped {
            host.blackhole = Some(at(RawEmpty {}));
            draft.download(&f.id(), "50s");
        } else {
            let fault = lookup_answer(log).unwrap_or_else(|| {
                let after_bytes = log.says("connection reset").then_some(0);
                at(RawFault { reset: Some(at(RawReset { after_bytes })), ..Default::default() })
            });
            host.sumdb = Some(at(RawSumdb::default()));
            host.faults = vec![fault];
        }
    }
    draft.set("GOSUMDB", &gosumdb);
    // A public module's checksums must be checked: its fix is a route to the database (a
    // firewall opened, GOSUMDB through a proxy that serves it), which a world of fakes
    // cannot offer beside the broken one; GONOSUMDB would only switch the check off.
    if log.diagnosis.category == Category::SumdbUnreachable && crate::diagnose::rules::public_module(&f.module) {
        draft.note(&format!(
            "No recovery: {} is public, so the fix is a route to the checksum database (the firewall opened, or \
             GOSUMDB naming a mirror), never GONOSUMDB.",
            f.module
        ));
        return;
    }
    draft.playbook("private-modules-nosumdb", &[("pattern", &private_pattern(&f.module))]);
}

/// The checksum database the log's GOSUMDB names, as a declared host name (`default`
/// without one). GOSUMDB is `name`, `name+hash+key` or `name+hash+key url`: the name
/// comes first.
fn database_name(f: &LogFacts, default: &str) -> String {
    env_value(&f.env, "GOSUMDB")
        .filter(|v| !v.contains(' ') && *v != "off")
        .map(|v| v.split('+').next().unwrap_or(v))
        .map(url_host)
        .map(declared_name)
        .unwrap_or_else(|| default.to_string())
}

/// The module proxy beside checksum database `db`: the log's, unless the log's names
/// make them one host (a relay's lookup URL, two addresses that both became the made-up
/// name), which cannot be both.
fn proxy_beside(db: &str, f: &LogFacts) -> String {
    [f.proxy_host.as_str(), "proxy.repro.example", "goproxy.repro.example"]
        .into_iter()
        .find(|name| *name != db)
        .expect("two different names")
        .to_string()
}

/// The checksum database's answer to a lookup, when the log shows its status (`reading
/// https://sum.golang.org/lookup/…: 404 Not Found`) and the world's database would
/// answer otherwise (it says 410 Gone about a module it does not know, and 200 about one
/// it knows): that status, with the log's `server response:` text.
fn lookup_answer(log: &Log) -> Option<At<RawFault>> {
    static LOOKUP: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"/lookup/\S+: ([1-5][0-9]{2})\b").expect("compiles"));
    let status = LOOKUP.captures(log.errors()).and_then(|c| c[1].parse::<u16>().ok())?;
    if status == 410 && log.diagnosis.category == Category::SumdbPrivateLeak && log.server_response().is_none() {
        return None;
    }
    Some(fault_on("/lookup/**", respond(status, log.server_response(), &[])))
}

fn vcs(draft: &mut Draft, log: &Log) {
    let f = log.facts;
    let root = declared_name(f.module.split('/').next().unwrap_or(&f.module));
    // The module as its repository's root, at a release: what fails is reaching the
    // repository, and a fake host can make neither a subdirectory of a repository nor a
    // pseudo-version's commit (its hash), which the recovery's rerun would need.
    let id = format!("{}@{}", repository_root(&f.module), release_of(&f.version));
    let git = match log.diagnosis.category {
        // The repository is there; the version's tag is not (`unknown revision v1.2.3`).
        Category::VcsNotFound if log.says("unknown revision") => {
            RawGit { untagged: vec![at(id.clone())], ..Default::default() }
        }
        Category::VcsAuth => RawGit {
            auth: Some(RawBasicAuth { user: "ci-bot".into(), password: "s3cret".into() }),
            auth_pages: page_refused(log).then(|| at(true)),
            ..Default::default()
        },
        // go reads no go-import page for a host it knows (github.com, bitbucket.org) or a
        // path naming its repository (an element ending in `.git`): there the repository
        // itself is missing.
        Category::VcsNotFound if known_layout(&f.module) || names_its_repository(&f.module) => {
            RawGit { modules: Some(vec![at("none.invalid/**".into())]), ..Default::default() }
        }
        Category::VcsNotFound => RawGit { meta: Some(crate::scenario::GitMeta::MissingRepo), ..Default::default() },
        _ if log.says("did not match") => {
            RawGit { meta: Some(crate::scenario::GitMeta::WrongPrefix), ..Default::default() }
        }
        _ if log.says("no go-import meta tags") => {
            RawGit { meta: Some(crate::scenario::GitMeta::NoTag), ..Default::default() }
        }
        _ => RawGit { modules: Some(vec![at("none.invalid/**".into())]), ..Default::default() },
    };
    draft.host(&root).git = Some(at(git));
    if log.diagnosis.category == Category::VcsAuth
        && let Some(fault) = refusal(log)
    {
        draft.host(&root).faults = vec![fault];
    }
    if log.diagnosis.category == Category::VcsAuth && log.says("?go-get=1: 403") {
        draft.note("The log's page answered 403 Forbidden; the scenario's login answers 401 Unauthorized.");
    }
    draft.modules(vec![inline_module(&id)]);
    draft.download(&id, "30s");
    draft.goproxy("goproxy.repro.example");
    draft.set("GOPROXY", "direct");
    // A repository missing from a public code host is one the user took for public: no
    // GOPRIVATE then (which would say they know it is private), only no checksum
    // database (the sealed world has none to ask).
    if log.diagnosis.category == Category::VcsNotFound && known_layout(&f.module) {
        draft.set("GOSUMDB", "off");
    } else {
        draft.set("GOPRIVATE", &private_pattern(&f.module));
    }
    if log.diagnosis.category == Category::VcsAuth {
        draft.playbook("git-credentials", &[("host", &root), ("login", "ci-bot"), ("password", "s3cret")]);
    } else {
        draft.playbook("private-modules-via-proxy", &[("proxy", "https://goproxy.repro.example")]);
    }
}

/// git's own refusal the log quotes (`The requested URL returned error: 403`, a login
/// without access), made once only, so that the recovery's credentials get in: a host
/// that wants a login otherwise makes git prompt instead. (git says `returned error:
/// 401` only when the credentials it sent were refused, which no fault here makes.)
fn refusal(log: &Log) -> Option<At<RawFault>> {
    static GIT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"The requested URL returned error: 403\b").expect("compiles"));
    if !GIT.is_match(log.errors()) {
        return None;
    }
    let when = RawWhen { path: Some(at("*/info/refs".to_string())), first: Some(at(1)), ..Default::default() };
    Some(at(RawFault { when: Some(at(when)), ..respond(403, None, &[]) }))
}

/// go's own `?go-get=1` request was refused (`reading https://…?go-get=1: 401
/// Unauthorized`, or 403): the host's pages are behind its login too.
fn page_refused(log: &Log) -> bool {
    static PAGE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\?go-get=1: 40[13]\b").expect("compiles"));
    PAGE.is_match(log.errors())
}

/// Whether go knows the module's host layout without asking it (`github.com/o/r`; its
/// static list in cmd/go/internal/vcs has no gitlab.com, whose pages go reads).
fn known_layout(module: &str) -> bool {
    matches!(module.split('/').next(), Some("github.com" | "bitbucket.org"))
}

/// Whether the module path names its repository itself (`host/team/lib.git/sub`): go
/// then asks git without reading a page.
fn names_its_repository(module: &str) -> bool {
    module.split('/').skip(1).any(|element| element.ends_with(".git"))
}

/// The repository a module lives in, where the host's layout says so (`github.com/o/r`
/// for `github.com/o/r/sub`); the module path itself elsewhere.
pub(super) fn repository_root(module: &str) -> String {
    let parts: Vec<&str> = module.split('/').collect();
    match parts.as_slice() {
        // A major version's suffix stays: `o/r/v2` is the module a v2 release belongs to.
        [host, owner, repo, major] if known_layout(host) && is_major_suffix(major) => module.to_string(),
        [host, owner, repo, _, ..] if known_layout(host) => {
            format!("{host}/{owner}/{repo}")
        }
        _ => module.to_string(),
    }
}

/// `version`, or `v1.0.0` for a pseudo-version (`v0.0.0-20190703205954-e5008c1038bd`),
/// which names a commit no fake repository has.
fn release_of(version: &str) -> String {
    static PSEUDO: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"[.-][0-9]{14}-[0-9a-f]{12}(?:\+incompatible)?$").expect("compiles"));
    if PSEUDO.is_match(version) { "v1.0.0".to_string() } else { version.to_string() }
}

fn path_mismatch(draft: &mut Draft, log: &Log) {
    static DECLARED: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"declares its path as: (\S+)").expect("compiles"));
    let f = log.facts;
    let declared = DECLARED.captures(log.errors()).map_or("corp.example/oldname".to_string(), |c| c[1].to_string());
    draft.modules(vec![RawModuleSource::Inline(RawInlineModule {
        module: Some(at(f.id())),
        toolchain: None,
        declares: Some(declared),
        variant: None,
    })]);
    let host = f.host.clone();
    draft.goproxy(&host);
    draft.set("GOPROXY", &draft.proxy_url(&host));
    draft.go(&format!("get {}", f.id()));
}

fn invalid_version(draft: &mut Draft, log: &Log) {
    let f = log.facts;
    // An empty version list, unless go gave the reason first (`invalid version: …`, then
    // `no matching versions for query "v4"` as its echo).
    if log.says("no matching versions") && !log.says("invalid version:") {
        let root = declared_name(f.module.split('/').next().unwrap_or(&f.module));
        // A repository that exists, without the version asked for: at the path go looks
        // it up at (GitHub's owner/repository for a package below it, as `go install
        // github.com/o/r/cmd/x@v0.8` asks), or go would be told the repository is missing.
        draft.modules(vec![inline_module(&format!("{}@v1.0.0", repository_root(&f.module)))]);
        draft.host(&root).git = Some(at(RawGit::default()));
        draft.set("GOPROXY", "direct");
        draft.set("GOPRIVATE", &private_pattern(&f.module));
        // The query the log quotes (`v0.1` of a go.mod line that names no module here).
        static QUERY: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r#"no matching versions for query "(v[0-9][^"\s]*)""#).expect("compiles"));
        if let Some(query) = QUERY.captures(log.errors()).map(|c| c[1].to_string())
            && query != f.version
        {
            draft.download(&format!("{}@{query}", f.module), "30s");
        }
        return;
    }
    // The checksum database could not fetch the version to hash it, and said why (`410
    // Gone` / `server response: not found: create zip: malformed file path …`): its
    // lookup answers so, in front of a proxy that serves the version.
    if f.url.as_deref().is_some_and(|u| u.contains("/lookup/"))
        && let Some(fault) = lookup_answer(log)
    {
        let db = f.url.as_deref().map(url_host).map(declared_name).unwrap_or_else(|| "sum.golang.org".into());
        let proxy = proxy_beside(&db, f);
        draft.goproxy(&proxy);
        draft.set("GOPROXY", &draft.proxy_url(&proxy));
        let host = draft.host(&db);
        host.sumdb = Some(at(RawSumdb::default()));
        host.faults = vec![fault];
        draft.set("GOSUMDB", &db);
        return;
    }
    // go judges a version (its tag, pseudo-version, +incompatible) where it reads the
    // repository: in direct mode (a log showing that was diagnosed vcs.not_found), or in
    // the proxy, which answers 404 or 410 quoting what it found. That answer is
    // reproduced: the log's own when it quotes one, else proxy.golang.org's words, from
    // go's default proxy when the log names none.
    let body = log.server_response().unwrap_or_else(|| format!("not found: {}: {}", f.id(), invalid_reason(log)));
    let status = log.status().filter(|s| matches!(s, 404 | 410)).unwrap_or(404);
    let fault = fault_on(&log.file_glob(), respond(status, Some(body), &[]));
    // Only a public proxy's 404 quoting the origin reads as an invalid version (a
    // private one's reads as a module it cannot see): the log's proxy when it is one.
    let public = f.url.as_deref().map(url_host).map(declared_name).filter(|h| is_public_proxy(h));
    let host = public.unwrap_or_else(|| "proxy.golang.org".to_string());
    draft.goproxy(&host).faults = vec![fault];
    draft.set("GOPROXY", &draft.proxy_url(&host));
}

/// Why the version is invalid, in the words a proxy quotes (`invalid version: unknown
/// revision v1.2.3`, `invalid pseudo-version: preceding tag (v0.1.0) not found`).
fn invalid_reason(log: &Log) -> String {
    let f = log.facts;
    static REVISION: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"unknown revision ([^\s:]+)").expect("compiles"));
    if let Some(c) = REVISION.captures(log.errors()) {
        return format!("invalid version: unknown revision {}", &c[1]);
    }
    let errors = log.errors();
    let from = ["invalid pseudo-version: ", "invalid version: "].iter().find_map(|w| errors.find(w));
    match from {
        Some(at) => errors[at..].lines().next().unwrap_or_default().trim().to_string(),
        None => format!("invalid version: unknown revision {}", f.version),
    }
}

/// A proxy that works, GOPROXY naming it.
fn working_proxy(draft: &mut Draft, log: &Log) {
    let host = log.facts.host.clone();
    draft.goproxy(&host);
    draft.set("GOPROXY", &draft.proxy_url(&host));
}

fn lock_stuck(draft: &mut Draft, log: &Log) {
    working_proxy(draft, log);
    let id = log.facts.id();
    draft.cache(&[], RawCacheFault::LockHeld(RawLockHeld { module: at(id.clone()), hold: None }));
    draft.download(&id, "3s");
    draft.exit(RawExit::Timeout);
    draft.playbook("kill-lock-holder", &[]);
}

/// A cache go cannot write, in the log's own words: a full disk (`no space left on
/// device`), a read-only mount (`read-only file system`), or a directory another user
/// owns (`permission denied`: the build cache when go said it could not initialize it,
/// the module cache otherwise). A directory owned by root needs modchaos to run as root;
/// elsewhere the scenario is skipped with that reason.
fn cache_permission(draft: &mut Draft, log: &Log) {
    working_proxy(draft, log);
    if log.says("failed to initialize build cache") && log.says("permission denied") {
        build_cache_owned_by_root(draft);
        draft.note(NEEDS_ROOT);
        return;
    }
    let fault = if log.says("no space left") {
        RawCacheFault::DiskFull(RawDiskFull { size: at(RawQuantity::Text("4KiB".into())) })
    } else if log.says("permission denied") && !log.says("read-only file system") {
        draft.note(NEEDS_ROOT);
        RawCacheFault::RootOwned(RawRootOwned { scope: Some(crate::fault::cache::OwnerScope::Cache) })
    } else {
        RawCacheFault::ReadOnly(RawReadOnly { scope: Some(crate::fault::cache::ReadOnlyScope::Cache) })
    };
    draft.cache(&[], fault);
    draft.playbook("move-module-cache", &[]);
}

/// What a scenario with a root-owned directory says of where it runs.
const NEEDS_ROOT: &str = "The directory go cannot write belongs to root, as in the log's \
                          container: the scenario runs where modchaos runs as root, and is skipped, saying so, elsewhere.";

/// go could not initialize its build cache (`failed to initialize build cache at …:
/// permission denied`): GOCACHE belongs to root, and a build (which needs the cache,
/// where `go mod download` does not) fails before compiling. The work module needs no
/// dependency, so the recovery's rerun has nothing to verify.
fn build_cache_owned_by_root(draft: &mut Draft) {
    draft.scenario.sandbox = Some(RawSandbox { root_owned: vec![at(RawSandboxDir::BuildCache)], ..Default::default() });
    draft.file("go.mod", "module example.com/app\n\ngo 1.21\n".into());
    draft.file("main.go", "package main\n\nfunc main() {}\n".into());
    draft.go("build ./...");
    draft.no_module_made_up("the build fails before it needs any module", None);
    draft.modules(Vec::new());
    draft.playbook("move-build-cache", &[]);
    let recover = draft.scenario.recover.as_mut().expect("just set");
    recover.expect = Some(RawExpect { exit: Some(at(RawExit::Success)), verified: Some(false), ..Default::default() });
}

fn cache_corrupt(draft: &mut Draft, log: &Log) -> Result<(), ReproError> {
    use crate::fault::cache::Corruption;
    working_proxy(draft, log);
    let id = log.facts.id();
    // The cache's go.mod differs from go.sum's record (go fetched nothing): emptied, as
    // the empty file's hash such logs show says. (A zip's mismatch stays a damaged zip:
    // other bits in the cache read as a re-tagged version unless go mod verify found them.)
    if go_mod_mismatch(log) {
        go_sum_of_original(draft, log)?;
        draft.cache(&[&id], RawCacheFault::EmptyGoMod(RawVersionRef { module: at(id.clone()) }));
        draft.playbook("clean-module-cache", &[]);
        return Ok(());
    }
    let how = if log.says("checksum error") { Corruption::Checksum } else { Corruption::Truncate };
    draft.cache(&[&id], RawCacheFault::CorruptZip(RawCorruptZip { module: at(id.clone()), how: Some(how) }));
    draft.playbook("clean-module-cache", &[]);
    Ok(())
}

/// GOSUMDB=off refusing a toolchain switch: a work module asking for a newer go, a proxy
/// serving that toolchain and a checksum database that knows it, GOTOOLCHAIN=auto and
/// GOSUMDB=off; naming the database again recovers. (The release is a made-up newer one
/// the fake proxy serves, as for any switch.)
fn toolchain_without_sumdb(draft: &mut Draft, log: &Log) {
    const RELEASE: &str = "go1.99.0";
    const DATABASE: &str = "sum.golang.example";
    draft.scenario.min_go = Some(at("1.21".to_string()));
    draft.scenario.name = at(format!("repro: {} (a switch to {RELEASE})", log.diagnosis.category));
    // What the draft says of the made-up module is said of the release instead.
    if let Some(about) = draft.scenario.about.as_mut()
        && let Some(at_tail) = about.find(" Generated by modchaos repro;")
    {
        about.truncate(at_tail);
        about.push_str(&format!(
            " Generated by modchaos repro; the release {RELEASE} is made up (any release newer than this go refuses \
             the same way)."
        ));
    }
    working_proxy(draft, log);
    draft.host(DATABASE).sumdb = Some(at(RawSumdb::default()));
    draft.modules(vec![RawModuleSource::Inline(RawInlineModule {
        module: None,
        toolchain: Some(at(RELEASE.to_string())),
        declares: None,
        variant: None,
    })]);
    draft.file("go.mod", format!("module repro.example/app\n\ngo {}\n", RELEASE.trim_start_matches("go")));
    draft.set("GOTOOLCHAIN", "auto");
    draft.set("GOSUMDB", "off");
    draft.go("version");
    draft.playbook("set-gosumdb", &[("value", DATABASE)]);
    // The rerun downloads the toolchain and runs it: no module to verify.
    if let Some(recover) = draft.scenario.recover.as_mut() {
        recover.expect = Some(RawExpect {
            exit: Some(at(RawExit::Success)),
            verified: Some(false),
            stdout: Some(at(format!("go version {RELEASE} "))),
            ..Default::default()
        });
    }
}

/// A toolchain switch that failed, or one go was not allowed to make. Scenarios run go
/// with GOTOOLCHAIN=local, which is the log's own story only where go says so
/// (`requires go >= X (running go Y; GOTOOLCHAIN=local)`); anywhere else go tried the
/// switch, and the scenario lets it ([`toolchain_switch`]). A switch that failed on the
/// network or on a broken download is left to the user: a scenario would show another
/// failure.
fn toolchain(draft: &mut Draft, log: &Log) -> Result<(), ReproError> {
    static NOT_AVAILABLE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"go: download (go\d[^\s:]*) for \S+: toolchain not available").expect("compiles"));
    static LANGUAGE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"invalid toolchain: (go\d+\.\d+) is a language version but not a toolchain version")
            .expect("compiles")
    });
    static STATUS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"go: download (go\d[^\s:]*)(?: for \S+)?: golang\.org/toolchain@\S+: reading (https?://\S+): ([1-5]\d\d)\b")
            .expect("compiles")
    });
    let said = log.said();
    let errors = said.as_str();
    if let Some(c) = NOT_AVAILABLE.captures(errors).or_else(|| LANGUAGE.captures(errors)) {
        let release = c[1].to_string();
        let failure = if language_version(&release) { Failure::LanguageVersion } else { Failure::NotAvailable };
        toolchain_switch(draft, log, &release, failure);
        return Ok(());
    }
    if let Some(c) = STATUS.captures(errors) {
        let status = c[3].parse().unwrap_or(500);
        toolchain_switch(draft, log, &c[1], Failure::Status(status, declared_name(url_host(&c[2]))));
        return Ok(());
    }
    if errors.contains("; GOTOOLCHAIN=local)") {
        local_toolchain(draft, log);
        return Ok(());
    }
    Err(ReproError::Unreproducible(
        Category::ToolchainDownload,
        "go's switch failed in a way repro does not reproduce (it reproduces a toolchain the proxy lacks, an error \
         status for its download, a language version, and GOTOOLCHAIN=local), so a scenario would show another \
         failure; write the fault by hand (scenarios/toolchain/ has one per way a switch fails)"
            .into(),
    ))
}

/// Why go could not switch, as a scenario makes it fail.
enum Failure {
    /// The proxy go asked has no such toolchain (404): `toolchain not available`.
    NotAvailable,
    /// A language version (`go1.22`) where a release (`go1.22.0`) is needed: no proxy has
    /// it, and today's go says why (`… is a language version but not a toolchain version`)
    /// where go 1.21 said `toolchain not available`.
    LanguageVersion,
    /// This host answered the toolchain's download with this status.
    Status(u16, String),
}

/// `goX.Y` with Y ≥ 21: a language version, which names no toolchain (releases from go
/// 1.21 on are `goX.Y.Z`; older ones were named `go1.20`, but golang.org/toolchain starts
/// at go1.21.0).
fn language_version(release: &str) -> bool {
    crate::gobin::parse_release(release).is_some_and(|(major, minor)| (major, minor) >= (1, 21))
        && release.trim_start_matches("go").split('.').count() == 2
        && release.bytes().skip(2).all(|b| b.is_ascii_digit() || b == b'.')
}

/// The checksum database a toolchain is verified against (always: go.sum and GONOSUMDB
/// do not apply to toolchains), made up as the shipped toolchain scenarios make it.
const TOOLCHAIN_DATABASE: &str = "sum.golang.example";

/// A switch go tried and could not make: GOTOOLCHAIN names the release the log's go
/// switched to (in the log a go.mod `go` or `toolchain` line most likely asked for it:
/// naming it here makes go try it whatever go runs the scenario, older or newer), and
/// the module proxy of the log's GOPROXY (go's default, proxy.golang.org, without one)
/// fails it as the log says. The recovery fits the cause: a release for a language
/// version, a mirror that has the toolchain for a proxy without golang.org/toolchain;
/// none where proxy.golang.org, which serves every published toolchain, lacks it (no
/// such release exists for that platform).
fn toolchain_switch(draft: &mut Draft, log: &Log, release: &str, failure: Failure) {
    let f = log.facts;
    let proxy = match &failure {
        Failure::Status(_, host) => host.clone(),
        _ => env_value(&f.env, "GOPROXY")
            .and_then(|p| p.split([',', '|']).next())
            .filter(|p| p.contains("://") || p.contains('.'))
            .map_or_else(|| "proxy.golang.org".to_string(), |p| declared_name(url_host(p))),
    };
    draft.scenario.min_go = Some(at("1.21".to_string()));
    draft.scenario.name = at(format!("repro: {} (a switch to {release})", log.diagnosis.category));
    draft.scenario.modules.clear();
    draft.scenario.files.0.clear();
    draft.goproxy(&proxy);
    draft.set("GOPROXY", &draft.proxy_url(&proxy));
    draft.set("GOTOOLCHAIN", release);
    draft.go("version");
    let escaped = regex::escape(release);
    let (error, made_up) = match &failure {
        Failure::LanguageVersion => {
            // go 1.21 asked for the language version as a toolchain; today's go explains.
            let served = format!("{release}.0");
            draft.modules(vec![toolchain_module(&served)]);
            draft.host(TOOLCHAIN_DATABASE).sumdb = Some(at(RawSumdb::default()));
            draft.playbook("pin-toolchain", &[("toolchain", &served)]);
            switched_to(draft, &served);
            let error = format!(
                "download {escaped} for \\S+: toolchain not available|{escaped} is a language version but not a \
                 toolchain version"
            );
            (
                error,
                format!("the proxy serves {served}, the release that language version means, as a stand-in toolchain"),
            )
        }
        Failure::NotAvailable if crate::diagnose::rules::is_public_proxy(&proxy) => {
            draft.note(&format!(
                "No recovery: {proxy} serves every published toolchain, so {release} does not exist for that \
                 platform; pin one that does (GOTOOLCHAIN, or go.mod's toolchain line) or install that go."
            ));
            (format!("download {escaped} for \\S+: toolchain not available"), String::new())
        }
        Failure::NotAvailable | Failure::Status(..) => {
            let (status, body) = match failure {
                Failure::Status(status, _) => (status, None),
                _ => (404, Some("not found: golang.org/toolchain is not mirrored here".to_string())),
            };
            draft.goproxy(&proxy).faults = vec![fault_on("golang.org/toolchain/**", respond(status, body, &[]))];
            draft.goproxy(MIRROR);
            draft.modules(vec![toolchain_module(release)]);
            draft.host(TOOLCHAIN_DATABASE).sumdb = Some(at(RawSumdb::default()));
            use_mirror(draft);
            switched_to(draft, release);
            let error = if status == 404 {
                format!("download {escaped} for \\S+: toolchain not available")
            } else {
                format!("download {escaped}(?: for \\S+)?: golang\\.org/toolchain@\\S+: reading \\S+: {status}\\b")
            };
            (error, format!("the mirror's {release} is a stand-in toolchain whose go only reports its version"))
        }
    };
    draft.scenario.expect.error = Some(at(error));
    draft.no_module_made_up("the switch comes first", (!made_up.is_empty()).then_some(made_up.as_str()));
}

/// `{toolchain: release}`: the toolchain module of this machine's platform, whose `go`
/// reports that release.
fn toolchain_module(release: &str) -> RawModuleSource {
    RawModuleSource::Inline(RawInlineModule {
        module: None,
        toolchain: Some(at(release.to_string())),
        declares: None,
        variant: None,
    })
}

/// The recovery's rerun runs the toolchain it switched to: `go version` says so, and
/// there is no module to verify.
fn switched_to(draft: &mut Draft, release: &str) {
    if let Some(recover) = draft.scenario.recover.as_mut() {
        recover.expect = Some(RawExpect {
            exit: Some(at(RawExit::Success)),
            verified: Some(false),
            stdout: Some(at(format!("go version {} ", regex::escape(release)))),
            ..Default::default()
        });
    }
}

/// `requires go >= X (running go Y; GOTOOLCHAIN=local)`: a go.mod asking for a newer go,
/// and the harness's own GOTOOLCHAIN=local forbidding the switch, as the log's did. Where
/// the work module's go.mod asked (the log names no module), any go command that reads
/// it fails so: `go mod download` of nothing, no module made up.
fn local_toolchain(draft: &mut Draft, log: &Log) {
    static WANTED: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"go(?:\.mod requires go >= | download go)(1\.\d+)").expect("compiles"));
    let said = log.said();
    let wanted = WANTED.captures(&said).map_or("1.99".to_string(), |c| c[1].to_string());
    let wanted =
        if crate::gobin::parse_release(&wanted).is_some_and(|r| r.1 < 99) { "1.99".to_string() } else { wanted };
    working_proxy(draft, log);
    draft.file("go.mod", format!("module repro.example/app\n\ngo {wanted}\n"));
    if said.contains("go.mod requires go >= ") {
        draft.scenario.modules.clear();
        draft.scenario.name = at(format!("repro: {} (go.mod needs go {wanted})", log.diagnosis.category));
        draft.go("mod download");
        draft.no_module_made_up("go stops at the work module's go line", None);
        let escaped = regex::escape(&wanted);
        draft.scenario.expect.error =
            Some(at(format!("go\\.mod requires go >= {escaped} \\(running go \\S+; GOTOOLCHAIN=local\\)")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_whose_pages_go_skips() {
        assert!(known_layout("github.com/o/r/sub") && known_layout("bitbucket.org/o/r"));
        assert!(!known_layout("gitlab.com/grp/sub/repo"), "go reads gitlab.com's go-get page");
        assert!(
            names_its_repository("daemon.corp.example/nope.git") && names_its_repository("h.example/t/lib.git/sub")
        );
        assert!(!names_its_repository("acme.github.io/lib") && !names_its_repository("g.gitlab.io/x"));
        assert_eq!(repository_root("github.com/o/r/api"), "github.com/o/r");
        assert_eq!(repository_root("gitlab.com/grp/sub/repo"), "gitlab.com/grp/sub/repo");
        assert_eq!(release_of("v0.0.0-20190703205954-e5008c1038bd"), "v1.0.0");
        assert_eq!(release_of("v1.2.3"), "v1.2.3");
    }
}
