//! `modchaos repro`: a diagnosed log turned into a scenario file that reproduces it — the
//! hosts named as in the log, the failing module and version (made up on the spot: only
//! the path and version matter), the fault that produces the diagnosed failure, the
//! environment the log shows, the expected diagnosis, and the recovery its playbook
//! offers. The support engineer runs it, fixes the playbook if needed, and keeps it as a
//! regression test.

use std::fmt::Write as _;
use std::sync::LazyLock;

use regex::Regex;

use crate::diagnose::{Category, Diagnosis, diagnose};
use crate::evidence::Evidence;
use crate::fixture::escape::unescape;

/// Why a log cannot be turned into a scenario.
#[derive(Debug, thiserror::Error)]
pub enum ReproError {
    /// The diagnosis found no failure to reproduce.
    #[error("nothing to reproduce: the log shows no failure modchaos recognises ({0}: {1})")]
    NotAFailure(Category, String),
    /// The category has no recipe.
    #[error("modchaos cannot reproduce {0} failures yet")]
    Unsupported(Category),
}

/// A generated scenario.
#[derive(Debug, Clone)]
pub struct Repro {
    /// The scenario file's text.
    pub yaml: String,
    /// The category the log was diagnosed with (what the scenario expects).
    pub diagnosis: Diagnosis,
}

/// Categories [`repro`] can build a world for.
pub const SUPPORTED: &[Category] = &[
    Category::DnsNxdomain,
    Category::DnsFailure,
    Category::NetRefused,
    Category::NetTimeout,
    Category::NetReset,
    Category::TlsUnknownAuthority,
    Category::TlsExpired,
    Category::TlsHostname,
    Category::HttpProxyFailure,
    Category::ProxyNotFound,
    Category::ProxyServerError,
    Category::ProxyAuth,
    Category::ProxyOff,
    Category::ProxyBadResponse,
    Category::SumdbMismatch,
    Category::SumdbPrivateLeak,
    Category::SumdbUnreachable,
    Category::VcsAuth,
    Category::VcsNotFound,
    Category::VcsMeta,
    Category::ModulePathMismatch,
    Category::ModuleInvalidVersion,
    Category::CacheLockStuck,
    Category::CachePermission,
    Category::CacheCorrupt,
    Category::ToolchainDownload,
    Category::Hang,
];

/// Diagnoses `input` and writes a scenario reproducing it; `origin` names the input in
/// the scenario's description. The input is a log (go's output, a CI log), or the JSON
/// of `modchaos doctor --json` (or of an Evidence), which also carries the exit status
/// and the module cache: a hang or a stuck lock shows only there.
pub fn repro(input: &str, origin: &str) -> Result<Repro, ReproError> {
    repro_evidence(&read_evidence(input), origin)
}

/// The evidence in `input`: a doctor report's or a bare Evidence's JSON, else a log.
pub fn read_evidence(input: &str) -> Evidence {
    let trimmed = input.trim_start();
    if trimmed.starts_with('{') {
        #[derive(serde::Deserialize)]
        struct Report {
            evidence: Evidence,
        }
        if let Ok(report) = serde_json::from_str::<Report>(trimmed) {
            return report.evidence;
        }
        if let Ok(evidence) = serde_json::from_str::<Evidence>(trimmed)
            && (evidence.exit.is_some() || !evidence.stderr.is_empty())
        {
            return evidence;
        }
    }
    Evidence::from_log(input)
}

/// Writes a scenario reproducing what `evidence` shows.
pub fn repro_evidence(evidence: &Evidence, origin: &str) -> Result<Repro, ReproError> {
    let evidence = evidence.clone();
    let diagnosis = diagnose(&evidence);
    if matches!(diagnosis.category, Category::None | Category::Unknown) {
        return Err(ReproError::NotAFailure(diagnosis.category, diagnosis.summary));
    }
    let facts = LogFacts::read(&evidence);
    let mut s = Draft::new(&diagnosis, origin, &facts);
    build(&mut s, &diagnosis, &facts, &evidence)?;
    Ok(Repro { yaml: s.render(), diagnosis })
}

/// What the log says that a world needs: the module, the URL that failed, the hosts.
#[derive(Debug, Clone)]
struct LogFacts {
    /// The failing module version.
    module: String,
    version: String,
    /// The URL whose fetch failed, when the log names one.
    url: Option<String>,
    /// The host of that URL (or of the first proxy), as a declared host name.
    host: String,
    /// The module proxy GOPROXY names first (as a declared host name), or a made-up one.
    proxy_host: String,
    /// The configuration the log shows.
    env: Vec<(String, String)>,
    /// All of go's error text.
    errors: String,
}

impl LogFacts {
    fn read(evidence: &Evidence) -> LogFacts {
        static MODULE: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"([a-z0-9][A-Za-z0-9._~-]*\.[A-Za-z0-9._~/!-]*?)@(v[0-9][A-Za-z0-9.+-]*?)[:/ ]")
                .expect("compiles")
        });
        static URL_MODULE: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"https?://[^/\s]+(?:/[^@\s]*?)?/([a-z0-9][^@\s]*?)/@v/(v[^/\s]+?)\.(?:info|mod|zip)")
                .expect("compiles")
        });
        static URL: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r#"(?:Get|read|reading|Head) "?(https?://[^"\s]+?)"?(?:: |$)"#).expect("compiles")
        });
        let errors: String = evidence.errors().iter().map(|e| format!("{}\n", e.text)).collect();
        let record = evidence.records.iter().find(|r| r.error.is_some());
        let (module, version) = record
            .map(|r| (r.path.clone(), r.version.clone()))
            .filter(|(p, v)| !p.is_empty() && !v.is_empty())
            .or_else(|| MODULE.captures(&errors).map(|c| (c[1].to_string(), c[2].to_string())))
            .or_else(|| URL_MODULE.captures(&errors).and_then(|c| Some((unescape(&c[1]).ok()?, unescape(&c[2]).ok()?))))
            .filter(|(p, _)| p.contains('.') && !p.starts_with("golang.org/toolchain"))
            .unwrap_or_else(|| ("corp.example/lib".into(), "v1.0.0".into()));
        let url = URL
            .captures_iter(&errors)
            .map(|c| c[1].trim_end_matches([':', ',']).to_string())
            .find(|u| !u.contains("?go-get=1") || errors.contains("go-import"))
            .or_else(|| evidence.trace.iter().rev().find(|g| g.result.is_none()).map(|g| g.url.clone()));
        let env = evidence.env.clone();
        let host = url
            .as_deref()
            .map(url_host)
            .or_else(|| env_value(&env, "GOPROXY").and_then(|p| p.split([',', '|']).next()).map(url_host))
            .map(declared_name)
            .unwrap_or_else(|| "proxy.corp.example".into());
        let proxy_host = env_value(&env, "GOPROXY")
            .and_then(|p| p.split([',', '|']).next())
            .filter(|p| p.contains("://") || p.contains('.'))
            .map(|p| declared_name(url_host(p)))
            .unwrap_or_else(|| "proxy.repro.example".into());
        LogFacts { module, version, url, host, proxy_host, env, errors }
    }

    fn id(&self) -> String {
        format!("{}@{}", self.module, self.version)
    }

    /// The file go was fetching (`zip`, `info`, `mod`), from the failing URL.
    fn file(&self) -> &str {
        match self.url.as_deref() {
            Some(u) if u.ends_with(".zip") => "zip",
            Some(u) if u.ends_with(".mod") => "mod",
            Some(u) if u.ends_with(".info") => "info",
            _ => "info",
        }
    }
}

fn env_value<'a>(env: &'a [(String, String)], var: &str) -> Option<&'a str> {
    env.iter().rev().find(|(k, _)| k == var).map(|(_, v)| v.as_str())
}

fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    authority.rsplit_once('@').map_or(authority, |(_, h)| h)
}

/// A host name a scenario may declare: the log's, without port, lower case; addresses
/// and `localhost` become a made-up name.
fn declared_name(host: &str) -> String {
    let name = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
    let valid = name.contains('.')
        && name.parse::<std::net::IpAddr>().is_err()
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    if valid { name } else { "proxy.repro.example".into() }
}

/// The scenario being written.
struct Draft {
    name: String,
    about: String,
    network_sealed: bool,
    modules: Vec<String>,
    resolver: Option<String>,
    hosts: Vec<(String, Vec<String>)>,
    env: Vec<(String, String)>,
    files: Vec<(String, String)>,
    cache: Vec<String>,
    run: Vec<String>,
    expect: Vec<String>,
    recover: Vec<String>,
}

/// A YAML double-quoted scalar (JSON strings are valid YAML).
fn q(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

impl Draft {
    fn new(diagnosis: &Diagnosis, origin: &str, facts: &LogFacts) -> Draft {
        let about = format!(
            "Reproduces {origin}: {}. Generated by modchaos repro; the module {} is made up (only its path and \
             version matter).",
            diagnosis.summary,
            facts.id()
        );
        Draft {
            name: format!("repro: {} ({})", diagnosis.category, facts.id()),
            about,
            network_sealed: true,
            modules: vec![format!("{{module: {}}}", q(&facts.id()))],
            resolver: None,
            hosts: Vec::new(),
            env: Vec::new(),
            files: Vec::new(),
            cache: Vec::new(),
            run: vec![format!("modules: [{}]", q(&facts.id())), "timeout: 30s".into()],
            expect: vec!["exit: failure".into(), format!("diagnosis: {}", diagnosis.category)],
            recover: Vec::new(),
        }
    }

    fn host(&mut self, name: &str, lines: &[&str]) {
        match self.hosts.iter_mut().find(|(n, _)| n == name) {
            Some((_, body)) => body.extend(lines.iter().map(|l| l.to_string())),
            None => self.hosts.push((name.to_string(), lines.iter().map(|l| l.to_string()).collect())),
        }
    }

    fn set(&mut self, var: &str, value: &str) {
        self.env.retain(|(k, _)| k != var);
        self.env.push((var.to_string(), value.to_string()));
    }

    fn playbook(&mut self, name: &str, with: &[(&str, &str)]) {
        self.recover.push(format!("playbook: {name}"));
        if !with.is_empty() {
            let params: Vec<String> = with.iter().map(|(k, v)| format!("{k}: {}", q(v))).collect();
            self.recover.push(format!("with: {{{}}}", params.join(", ")));
        }
    }

    fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "name: {}", q(&self.name));
        let _ = writeln!(out, "about: >");
        for line in wrap(&self.about, 86) {
            let _ = writeln!(out, "  {line}");
        }
        if self.network_sealed {
            let _ = writeln!(out, "network: sealed");
        }
        let _ = writeln!(out, "modules:");
        for m in &self.modules {
            let _ = writeln!(out, "  - {m}");
        }
        if let Some(r) = &self.resolver {
            let _ = writeln!(out, "resolver: {r}");
        }
        if !self.hosts.is_empty() {
            let _ = writeln!(out, "hosts:");
            for (name, body) in &self.hosts {
                let _ = writeln!(out, "  {name}:");
                for line in body {
                    let _ = writeln!(out, "    {line}");
                }
            }
        }
        if !self.env.is_empty() {
            let _ = writeln!(out, "env:");
            for (k, v) in &self.env {
                let _ = writeln!(out, "  {k}: {}", q(v));
            }
        }
        if !self.cache.is_empty() {
            let _ = writeln!(out, "cache:");
            for line in &self.cache {
                let _ = writeln!(out, "  {line}");
            }
        }
        if !self.files.is_empty() {
            let _ = writeln!(out, "files:");
            for (name, content) in &self.files {
                let _ = writeln!(out, "  {name}: {}", q(content));
            }
        }
        let _ = writeln!(out, "run:");
        for line in &self.run {
            let _ = writeln!(out, "  {line}");
        }
        let _ = writeln!(out, "expect:");
        for line in &self.expect {
            let _ = writeln!(out, "  {line}");
        }
        if !self.recover.is_empty() {
            let _ = writeln!(out, "recover:");
            for line in &self.recover {
                let _ = writeln!(out, "  {line}");
            }
        }
        out
    }
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + word.len() + 1 > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The module path's first element, as GOPRIVATE/GONOSUMDB patterns name it.
fn private_pattern(module: &str) -> String {
    crate::diagnose::rules::sumdb::private_pattern(module)
}

/// Fills the draft for the diagnosed category.
fn build(s: &mut Draft, diagnosis: &Diagnosis, f: &LogFacts, evidence: &Evidence) -> Result<(), ReproError> {
    let host = f.host.clone();
    let mirror = "mirror.repro.example";
    let file_glob = format!("\"*.{}\"", f.file());
    let errors = f.errors.as_str();
    // Most recipes: the failing host is a module proxy, GOPROXY names it, a mirror
    // that works stands by for the recovery.
    let proxy_world = |s: &mut Draft, extra: &[&str]| {
        let mut lines = vec!["goproxy: {}"];
        lines.extend_from_slice(extra);
        s.host(&host, &lines);
        s.host(mirror, &["goproxy: {}"]);
        s.set("GOPROXY", &format!("https://{host}"));
    };
    let status = || {
        static STATUS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?:: |\()([1-5][0-9]{2})\b").expect("compiles"));
        STATUS.captures_iter(errors).filter_map(|c| c[1].parse::<u16>().ok()).last()
    };
    let server_response = || {
        static BODY: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"server response: ([^\n]+)").expect("compiles"));
        BODY.captures(errors).map(|c| c[1].trim().to_string()).unwrap_or_default()
    };
    match diagnosis.category {
        Category::ProxyNotFound | Category::ProxyServerError | Category::ProxyAuth => {
            let default = match diagnosis.category {
                Category::ProxyNotFound => 404,
                Category::ProxyAuth => 403,
                _ => 500,
            };
            let code = status().unwrap_or(default);
            let body = server_response();
            let fault = format!(
                "- {{when: {{path: {file_glob}}}, respond: {{status: {code}{}}}}}",
                if body.is_empty() { String::new() } else { format!(", body: {}", q(&body)) }
            );
            proxy_world(s, &["faults:", &format!("  {fault}")]);
            // The ',' trap: the log's own list, with a mirror behind the failing entry.
            let trap = env_value(&f.env, "GOPROXY").is_some_and(|p| p.contains(','))
                && diagnosis.playbooks.iter().any(|p| p == "pipe-separated-goproxy");
            if trap {
                s.set("GOPROXY", &format!("https://{host},https://{mirror}"));
                s.playbook("pipe-separated-goproxy", &[]);
            } else if diagnosis.category == Category::ProxyNotFound {
                s.playbook("add-mirror", &[("mirror", &format!("https://{mirror}"))]);
            } else {
                s.playbook("use-mirror", &[("mirror", &format!("https://{mirror}"))]);
            }
        }
        Category::ProxyOff => {
            s.host(&host, &["goproxy: {}"]);
            s.set("GOPROXY", "off");
            s.playbook("enable-goproxy", &[("proxy", &format!("https://{host}"))]);
        }
        Category::ProxyBadResponse => {
            let fault = if errors.contains("invalid character") || errors.contains("instead of requested version") {
                "- {when: {path: \"*.info\"}, replace_body: {body: \"{not json\"}}".to_string()
            } else {
                "- {when: {path: \"*.zip\"}, truncate: {after_bytes: 100}}".to_string()
            };
            proxy_world(s, &["faults:", &format!("  {fault}")]);
            s.playbook("use-mirror", &[("mirror", &format!("https://{mirror}"))]);
        }
        Category::NetRefused => {
            s.host(&host, &["closed: {}"]);
            s.host(mirror, &["goproxy: {}"]);
            if env_value(&f.env, "GOPROXY").is_some_and(|p| p.contains(',')) {
                s.set("GOPROXY", &format!("https://{host},https://{mirror}"));
                s.playbook("pipe-separated-goproxy", &[]);
            } else {
                s.set("GOPROXY", &format!("https://{host}"));
                s.playbook("use-mirror", &[("mirror", &format!("https://{mirror}"))]);
            }
        }
        Category::NetReset => {
            let fault = if errors.contains("stream error") {
                format!("- {{when: {{path: {file_glob}}}, stream_reset: {{after_bytes: 0, goaway: true}}}}")
            } else if errors.contains("unexpected EOF") {
                "- {when: {path: \"*.zip\"}, reset: {after_bytes: 100}}".to_string()
            } else {
                format!("- {{when: {{path: {file_glob}}}, reset: {{}}}}")
            };
            proxy_world(s, &["faults:", &format!("  {fault}")]);
            s.playbook("use-mirror", &[("mirror", &format!("https://{mirror}"))]);
        }
        Category::NetTimeout => {
            // Every timeout go reports is reproduced as a TLS handshake that never ends
            // (dials time out after ~30 s, a loopback world refuses at once).
            proxy_world(s, &["tcp:", "  - timeout: {timeout: 0}"]);
            s.run = vec![format!("modules: [{}]", q(&f.id())), "timeout: 40s".into()];
            s.playbook("use-mirror", &[("mirror", &format!("https://{mirror}"))]);
        }
        Category::Hang => {
            proxy_world(s, &["faults:", &format!("  - {{when: {{path: {file_glob}}}, hang: {{}}}}")]);
            s.run = vec![format!("modules: [{}]", q(&f.id())), "timeout: 5s".into()];
            s.expect[0] = "exit: timeout".into();
            s.playbook("use-mirror", &[("mirror", &format!("https://{mirror}"))]);
        }
        Category::TlsUnknownAuthority | Category::TlsExpired | Category::TlsHostname => {
            let proxy = ["HTTPS_PROXY", "https_proxy"].iter().find_map(|v| env_value(&f.env, v)).map(url_host);
            if let (Category::TlsUnknownAuthority, Some(proxy)) = (diagnosis.category, proxy) {
                // A TLS-inspecting corporate proxy re-signs everything with its CA.
                let name = declared_name(proxy);
                let port = proxy.rsplit_once(':').map_or("3128", |(_, p)| p);
                s.host(&host, &["goproxy: {}"]);
                s.host(&name, &["forward_proxy: {intercept: true}"]);
                s.set("GOPROXY", &format!("https://{host}"));
                s.set("HTTPS_PROXY", &format!("http://{name}:{port}"));
                s.playbook("trust-ca", &[("ca", "corporate")]);
            } else {
                let certificate = match diagnosis.category {
                    Category::TlsUnknownAuthority if errors.contains("self-signed") => "self_signed",
                    Category::TlsUnknownAuthority => "untrusted",
                    Category::TlsExpired if errors.contains("is before") => "not_yet_valid",
                    Category::TlsExpired => "expired",
                    _ if errors.contains("legacy Common Name") || errors.contains("not valid for any names") => {
                        "no_san"
                    }
                    _ => "wrong_host",
                };
                proxy_world(s, &[&format!("tls: {{certificate: {certificate}}}")]);
                if certificate == "untrusted" {
                    s.playbook("trust-ca", &[("ca", "private")]);
                } else {
                    s.playbook("use-mirror", &[("mirror", &format!("https://{mirror}"))]);
                }
            }
        }
        Category::HttpProxyFailure => {
            let proxy_url = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"]
                .iter()
                .find_map(|v| env_value(&f.env, v))
                .unwrap_or("http://proxy.corp.example:3128");
            let authority = url_host(proxy_url);
            let name = declared_name(authority);
            let port = authority.rsplit_once(':').map_or("3128", |(_, p)| p).to_string();
            let target = if host == name { "goproxy.repro.example".to_string() } else { host.clone() };
            s.host(&target, &["goproxy: {}"]);
            s.set("GOPROXY", &format!("https://{target}"));
            s.set("HTTPS_PROXY", &format!("http://{name}:{port}"));
            if errors.contains("proxyconnect") {
                s.host(&name, &["closed: {}"]);
                s.playbook("unset-http-proxy", &[]);
            } else if errors.contains("Proxy Authentication Required") {
                s.host(&name, &["forward_proxy: {auth: {user: ci-bot, password: s3cret}}"]);
                s.playbook("http-proxy-credentials", &[("proxy", &format!("http://ci-bot:s3cret@{name}:{port}"))]);
            } else if errors.contains("EOF") {
                s.host(&name, &["forward_proxy: {connect: drop}"]);
                s.playbook("unset-http-proxy", &[]);
            } else {
                s.host(&name, &["forward_proxy: {connect: refuse}"]);
                s.playbook("bypass-http-proxy", &[("hosts", &target)]);
            }
        }
        Category::DnsNxdomain | Category::DnsFailure => {
            let fault = if diagnosis.category == Category::DnsNxdomain {
                "nxdomain: {}"
            } else if errors.contains("i/o timeout") {
                s.resolver = Some("{timeout: 1s, attempts: 1}".into());
                "timeout: {}"
            } else {
                "servfail: {}"
            };
            proxy_world(s, &["dns:", &format!("  - {fault}")]);
            s.playbook("use-mirror", &[("mirror", &format!("https://{mirror}"))]);
        }
        Category::SumdbMismatch => {
            let go_sum_side = errors.contains("go.sum:") || errors.contains("earlier download recorded in go.sum");
            if go_sum_side {
                // go.sum remembers the original; the proxy now serves another variant.
                let original = crate::fixture::synth::synthesize(&f.module, &f.version, &Default::default())
                    .map_err(|_| ReproError::Unsupported(diagnosis.category))?;
                s.host(&host, &[&format!("goproxy: {{fixtures: [{{module: {}, variant: retagged}}]}}", q(&f.id()))]);
                s.host(mirror, &["goproxy: {}"]);
                s.set("GOPROXY", &format!("https://{host}"));
                s.files.push((
                    "go.mod".into(),
                    format!("module repro.example/app\n\ngo 1.21\n\nrequire {} {}\n", f.module, f.version),
                ));
                s.files.push((
                    "go.sum".into(),
                    format!(
                        "{} {} {}\n{} {}/go.mod {}\n",
                        f.module,
                        f.version,
                        original.sum,
                        f.module,
                        f.version,
                        original.go_mod_sum.unwrap_or_default()
                    ),
                ));
                s.run = vec!["go: mod download -json -x".into()];
            } else {
                let db =
                    env_value(&f.env, "GOSUMDB").map(url_host).map(declared_name).unwrap_or("sum.repro.example".into());
                let proxy = if f.proxy_host == db { "proxy.repro.example".to_string() } else { f.proxy_host.clone() };
                s.host(&proxy, &[&format!("goproxy: {{fixtures: [{{module: {}, variant: tampered}}]}}", q(&f.id()))]);
                s.host(mirror, &["goproxy: {}"]);
                s.host(&db, &["sumdb: {}"]);
                s.set("GOPROXY", &format!("https://{proxy}"));
                s.set("GOSUMDB", &db);
            }
            s.playbook("use-mirror", &[("mirror", &format!("https://{mirror}"))]);
        }
        Category::SumdbPrivateLeak | Category::SumdbUnreachable => {
            let db = env_value(&f.env, "GOSUMDB")
                .filter(|v| !v.contains(' ') && *v != "off")
                .map(url_host)
                .map(declared_name)
                .unwrap_or("sum.golang.org".into());
            let proxy = if f.proxy_host == db { "proxy.repro.example".to_string() } else { f.proxy_host.clone() };
            s.host(&proxy, &["goproxy: {}"]);
            s.set("GOPROXY", &format!("https://{proxy}"));
            if diagnosis.category == Category::SumdbPrivateLeak {
                s.host(&db, &["sumdb: {modules: [\"golang.org/**\"]}"]);
            } else {
                s.host(&db, &["sumdb: {}", "faults:", "  - reset: {}"]);
            }
            s.set("GOSUMDB", &db);
            s.playbook("private-modules-nosumdb", &[("pattern", &private_pattern(&f.module))]);
        }
        Category::VcsAuth | Category::VcsNotFound | Category::VcsMeta => {
            let root = f.module.split('/').next().unwrap_or(&f.module).to_string();
            let git = match diagnosis.category {
                Category::VcsAuth => "git: {auth: {user: ci-bot, password: s3cret}}".to_string(),
                Category::VcsNotFound => "git: {meta: missing_repo}".to_string(),
                _ if errors.contains("did not match") => "git: {meta: wrong_prefix}".to_string(),
                _ if errors.contains("no go-import meta tags") => "git: {meta: no_tag}".to_string(),
                _ => "git: {modules: [\"none.invalid/**\"]}".to_string(),
            };
            s.host(&declared_name(&root), &[&git]);
            s.host("goproxy.repro.example", &["goproxy: {}"]);
            s.set("GOPROXY", "direct");
            s.set("GOPRIVATE", &private_pattern(&f.module));
            if diagnosis.category == Category::VcsAuth {
                s.playbook(
                    "git-credentials",
                    &[("host", &declared_name(&root)), ("login", "ci-bot"), ("password", "s3cret")],
                );
            } else {
                s.playbook("private-modules-via-proxy", &[("proxy", "https://goproxy.repro.example")]);
            }
        }
        Category::ModulePathMismatch => {
            static DECLARED: LazyLock<Regex> =
                LazyLock::new(|| Regex::new(r"declares its path as: (\S+)").expect("compiles"));
            let declared = DECLARED.captures(errors).map_or("corp.example/oldname".to_string(), |c| c[1].to_string());
            s.modules = vec![format!("{{module: {}, declares: {}}}", q(&f.id()), q(&declared))];
            s.host(&host, &["goproxy: {}"]);
            s.set("GOPROXY", &format!("https://{host}"));
            s.run = vec![format!("go: get {}", f.id())];
        }
        Category::ModuleInvalidVersion => {
            if errors.contains("unknown revision") || errors.contains("no matching versions") {
                let root = f.module.split('/').next().unwrap_or(&f.module).to_string();
                s.modules = vec![format!("{{module: {}}}", q(&format!("{}@v1.0.0", f.module)))];
                s.host(&declared_name(&root), &["git: {}"]);
                s.set("GOPROXY", "direct");
                s.set("GOPRIVATE", &private_pattern(&f.module));
            } else {
                s.host(&host, &["goproxy: {}"]);
                s.set("GOPROXY", &format!("https://{host}"));
            }
        }
        Category::CacheLockStuck => {
            s.host(&host, &["goproxy: {}"]);
            s.set("GOPROXY", &format!("https://{host}"));
            s.cache = vec!["faults:".into(), format!("  - lock_held: {{module: {}}}", q(&f.id()))];
            s.run = vec![format!("modules: [{}]", q(&f.id())), "timeout: 3s".into()];
            s.expect[0] = "exit: timeout".into();
            s.playbook("kill-lock-holder", &[]);
        }
        Category::CachePermission => {
            s.host(&host, &["goproxy: {}"]);
            s.set("GOPROXY", &format!("https://{host}"));
            let fault =
                if errors.contains("no space left") { "disk_full: {size: 4KiB}" } else { "read_only: {scope: cache}" };
            s.cache = vec!["faults:".into(), format!("  - {fault}")];
            s.playbook("move-module-cache", &[]);
        }
        Category::CacheCorrupt => {
            s.host(&host, &["goproxy: {}"]);
            s.set("GOPROXY", &format!("https://{host}"));
            let how = if errors.contains("checksum error") { "checksum" } else { "truncate" };
            s.cache = vec![
                format!("seed: [{}]", q(&f.id())),
                "faults:".into(),
                format!("  - corrupt_zip: {{module: {}, how: {how}}}", q(&f.id())),
            ];
            s.playbook("clean-module-cache", &[]);
        }
        Category::ToolchainDownload => {
            // Scenarios run go with GOTOOLCHAIN=local: a switch is reproduced as one go
            // may not make (a go.mod asking for a newer go).
            static WANTED: LazyLock<Regex> =
                LazyLock::new(|| Regex::new(r"go(?:\.mod requires go >= | download go)(1\.\d+)").expect("compiles"));
            let wanted = WANTED.captures(errors).map_or("1.99".to_string(), |c| c[1].to_string());
            let wanted = if crate::gobin::parse_release(&wanted).is_some_and(|r| r.1 < 99) {
                "1.99".to_string()
            } else {
                wanted
            };
            s.host(&host, &["goproxy: {}"]);
            s.set("GOPROXY", &format!("https://{host}"));
            s.files.push(("go.mod".into(), format!("module repro.example/app\n\ngo {wanted}\n")));
        }
        other => return Err(ReproError::Unsupported(other)),
    }
    // Variables the log shows that the recipe did not set itself (GOFLAGS, GONOSUMDB…),
    // except those that would point go outside the world or are the sandbox's own.
    for (k, v) in &f.env {
        let managed = crate::scenario::validate::MANAGED_ENV.contains(&k.as_str());
        let points_away = v.contains("://") || matches!(k.as_str(), "GOPROXY" | "GOSUMDB" | "GONOPROXY");
        let known = s.env.iter().any(|(var, _)| var == k);
        let relevant = matches!(k.as_str(), "GOFLAGS" | "GONOSUMDB" | "GOPRIVATE" | "GOINSECURE" | "GODEBUG");
        if relevant && !managed && !points_away && !known && !evidence.env.is_empty() {
            s.set(k, v);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_500_log_becomes_a_scenario_that_loads() {
        let log = "GOPROXY=https://proxy.corp.example,https://mirror.corp.example\n\
                   go: corp.example/lib@v1.0.0: reading https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info: \
                   500 Internal Server Error\n\tserver response: upstream exploded\n";
        let repro = repro(log, "a CI log").unwrap();
        assert_eq!(repro.diagnosis.category, Category::ProxyServerError);
        assert!(repro.yaml.contains("status: 500"), "{}", repro.yaml);
        assert!(repro.yaml.contains("pipe-separated-goproxy"), "{}", repro.yaml);
        let ctx = crate::scenario::LoadContext::new(None);
        let scenario = crate::scenario::parse(std::path::Path::new("repro.yaml"), repro.yaml.clone(), &ctx)
            .unwrap_or_else(|e| panic!("{e}\n{}", repro.yaml));
        assert_eq!(scenario.expect.diagnosis, Some(Category::ProxyServerError));
    }

    #[test]
    fn no_failure_no_scenario() {
        assert!(matches!(repro("go: downloading x v1\n", "log"), Err(ReproError::NotAFailure(..))));
        assert_eq!(declared_name("127.0.0.1:8080"), "proxy.repro.example");
        assert_eq!(declared_name("Proxy.Corp.Example:443"), "proxy.corp.example");
    }
}
