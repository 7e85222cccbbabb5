//! `modchaos repro`: a diagnosed log turned into a scenario file that reproduces it — the
//! hosts named as in the log (but a public proxy that would have to serve a private
//! module: `recipes::next_entry`), the failing module and version (made up on the spot: only
//! the path and version matter), the fault that produces the diagnosed failure, the
//! environment the log shows, the expected diagnosis, and the recovery its playbook
//! offers. The support engineer runs it, fixes the playbook if needed, and keeps it as a
//! regression test.

use std::sync::LazyLock;

use regex::Regex;

use crate::diagnose::rules::is_major_suffix;
pub(crate) use crate::diagnose::rules::url_host;
use crate::diagnose::{Category, Diagnosis, diagnose};
use crate::evidence::Evidence;
use crate::fixture::escape::{module_in_proxy_path, unescape};

/// Why a log cannot be turned into a scenario.
#[derive(Debug, thiserror::Error)]
pub enum ReproError {
    /// The diagnosis found no failure to reproduce.
    #[error("nothing to reproduce: the log shows no failure modchaos recognises ({0}: {1})")]
    NotAFailure(Category, String),
    /// The category has no recipe.
    #[error("modchaos cannot reproduce {0} failures yet")]
    Unsupported(Category),
    /// The category has a recipe, but not for the way this log met it: a scenario would
    /// reproduce another failure (and prove a recovery that does not fit this one).
    #[error("modchaos cannot reproduce this {0} failure: {1}")]
    Unreproducible(Category, String),
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
    let mut draft = Draft::new(&diagnosis, origin, &facts);
    recipes::apply(&mut draft, &diagnosis, &facts)?;
    if facts.version_made_up {
        draft.note(&format!("The log names no version of {}: {} is made up.", facts.module, facts.version));
    }
    draft.keep_log_settings(&facts, !evidence.env.is_empty());
    // Masked consistently (every credential the same `xxxxx`), the scenario still holds
    // together: a proxy's password and the URL that carries it stay equal.
    Ok(Repro { yaml: crate::redact::text(&draft.render()), diagnosis })
}

/// What the log says that a world needs: the module, the URL that failed, the hosts.
#[derive(Debug, Clone)]
pub(crate) struct LogFacts {
    /// The failing module version.
    pub(crate) module: String,
    pub(crate) version: String,
    /// The log names the module but no version of it: `version` is made up.
    pub(crate) version_made_up: bool,
    /// The URL whose fetch failed, when the log names one.
    pub(crate) url: Option<String>,
    /// The host of that URL (or of the first proxy), as a declared host name.
    pub(crate) host: String,
    /// The module proxy GOPROXY names first (as a declared host name), or a made-up one.
    pub(crate) proxy_host: String,
    /// URL paths module proxies are mounted under, by declared host name (an
    /// Artifactory's `/artifactory/api/go/go-remote`), from GOPROXY and the failing URL.
    pub(crate) prefixes: Vec<(String, String)>,
    /// The configuration the log shows.
    pub(crate) env: Vec<(String, String)>,
    /// All of go's error text.
    pub(crate) errors: String,
}

impl LogFacts {
    fn read(evidence: &Evidence) -> LogFacts {
        static MODULE: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"([a-z0-9][A-Za-z0-9._~-]*\.[A-Za-z0-9._~/!-]*?)@(v[0-9][A-Za-z0-9.+-]*?)[:/ ]")
                .expect("compiles")
        });
        static URL_MODULE: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"https?://[^/\s]+(/[^@\s]*?)/@v/(v[^/\s]+?)\.(?:info|mod|zip)").expect("compiles")
        });
        static URL: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r#"(?:Get|read|reading|Head) "?(https?://[^"\s]+?)"?(?:: |$)"#).expect("compiles")
        });
        let mut errors: String = evidence.errors().iter().map(|e| format!("{}\n", e.text)).collect();
        // go's error went to stdout's `-json` records, which a paste of stderr leaves out:
        // the `-x` trace's fetches that failed for good say what it was about, in the
        // words go would have used (`reading URL: 500 …`).
        if errors.trim().is_empty() {
            let facts = crate::diagnose::facts::Facts::new(evidence);
            for fetch in facts.failed_fetches() {
                errors.push_str(&crate::diagnose::traced::as_go_prints_it(fetch));
                errors.push('\n');
            }
        }
        let record = evidence.records.iter().find(|r| r.error.is_some());
        // The failing module is the one go's error is about (`M@v: …`); the others a stack
        // names (`X@v requires`, `updating to`) only led to it. An extraction's temporary
        // directory (`M@v.tmp-123/…`) names its module with a suffix no version has.
        // A checksum database's lookup URL (`https://sum.golang.org/lookup/M@v`) names its
        // module after `/lookup/`.
        let named = || {
            MODULE.captures_iter(&errors).filter(|c| !c[2].contains(".tmp-")).map(|c| {
                let path = c[1].rsplit_once("/lookup/").map_or(&c[1], |(_, module)| module);
                (path.to_string(), c[2].to_string(), c[0].ends_with(':'))
            })
        };
        let module = record
            .map(|r| (r.path.clone(), r.version.clone()))
            .filter(|(p, v)| !p.is_empty() && !v.is_empty())
            .or_else(|| named().find(|(_, _, ends_error)| *ends_error).map(|(p, v, _)| (p, v)))
            .or_else(|| named().next().map(|(p, v, _)| (p, v)))
            .or_else(|| {
                URL_MODULE
                    .captures(&errors)
                    .and_then(|c| Some((unescape(&module_in_proxy_path(&c[1])?).ok()?, unescape(&c[2]).ok()?)))
            })
            .filter(|(p, _)| p.contains('.') && !p.starts_with("golang.org/toolchain"))
            .map(|(p, v)| (p, v, false))
            // A log naming the module without a version keeps its path, at a version made
            // up to fit its major version suffix.
            .or_else(|| unversioned_module(&errors).map(|p| (p.clone(), made_up_version(&p), true)))
            .unwrap_or_else(|| ("corp.example/lib".into(), "v1.0.0".into(), false));
        let (module, version, version_made_up) = module;
        // go < 1.13 named a failed list fetch `unexpected status (URL): 500 …`.
        static STATUS_URL: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"unexpected status \((https?://[^)\s]+)\)").expect("compiles"));
        let url = URL
            .captures_iter(&errors)
            .chain(STATUS_URL.captures_iter(&errors))
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
        let prefixes = proxy_prefixes(&env, url.as_deref(), &module);
        LogFacts { module, version, version_made_up, url, host, proxy_host, prefixes, env, errors }
    }

    /// `path@version`.
    pub(crate) fn id(&self) -> String {
        format!("{}@{}", self.module, self.version)
    }

    /// The file go was fetching (`zip`, `info`, `mod`, `list`, `latest`), from the failing
    /// URL.
    pub(crate) fn file(&self) -> &str {
        match self.url.as_deref() {
            Some(u) if u.ends_with(".zip") => "zip",
            Some(u) if u.ends_with(".mod") => "mod",
            Some(u) if u.ends_with(".info") => "info",
            Some(u) if u.ends_with("/@v/list") => "list",
            Some(u) if u.ends_with("/@latest") => "latest",
            _ => "info",
        }
    }

    /// Module versions the errors name (`path@version`), the failing one first, each once,
    /// at most `most`, as many owners as there are before a second module of one owner.
    pub(crate) fn failing_ids(&self, most: usize) -> Vec<String> {
        static ID: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"(?:^|[\s\x22])([a-z0-9][A-Za-z0-9._~-]*\.[A-Za-z0-9._~/!-]*?@v[0-9][A-Za-z0-9.+-]*?)[:/ ]")
                .expect("compiles")
        });
        let named: Vec<String> = ID
            .captures_iter(&self.errors)
            .map(|c| c[1].to_string())
            .filter(|id| !id.starts_with("golang.org/toolchain"))
            .collect();
        // Owners first (host and first path element: what tells a proxy's failure from
        // one owner's missing modules), then the rest.
        let owner = |id: &str| id.split('/').take(2).collect::<Vec<_>>().join("/");
        let mut ids = vec![self.id()];
        for id in &named {
            if ids.len() < most && !ids.iter().any(|kept| owner(kept) == owner(id)) {
                ids.push(id.clone());
            }
        }
        for id in named {
            if ids.len() < most && !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    }
}

/// The URL path each module proxy is mounted under, by declared host name: a GOPROXY
/// entry's path, and what comes before the module's (escaped) path in the failing URL
/// (`https://art.corp.example/artifactory/api/go/go-remote/corp.example/lib/@v/v1.0.0.zip`).
/// Without it a reproduction would serve the module at another URL than the customer's.
fn proxy_prefixes(env: &[(String, String)], url: Option<&str>, module: &str) -> Vec<(String, String)> {
    let path_of = |url: &str| {
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        rest.find('/').map_or(String::new(), |i| rest[i..].split(['?', '#']).next().unwrap_or("").to_string())
    };
    let mut prefixes: Vec<(String, String)> = Vec::new();
    let mut add = |url: &str, prefix: &str| {
        let prefix = prefix.trim_end_matches('/');
        let host = declared_name(url_host(url));
        if !prefix.is_empty() && !prefixes.iter().any(|(h, _)| *h == host) {
            prefixes.push((host, prefix.to_string()));
        }
    };
    if let Some(url) = url {
        let path = path_of(url);
        let escaped = format!("/{}", crate::fixture::escape::escape(module));
        let before = path.find("/@v/").or_else(|| path.find("/@latest")).map(|i| &path[..i]);
        if let Some(prefix) = before.and_then(|b| b.strip_suffix(escaped.as_str())) {
            add(url, prefix);
        }
    }
    for entry in env_value(env, "GOPROXY").unwrap_or_default().split([',', '|']) {
        if entry.contains("://") {
            add(entry, &path_of(entry));
        }
    }
    prefixes
}

/// The module a log names without a version: `module M: …`, `unrecognized import path
/// "M"`, a go-import page's URL (`https://M?go-get=1`), a version list's URL
/// (`…/M/@v/list`). Without it the reproduction would fail for a made-up module.
fn unversioned_module(errors: &str) -> Option<String> {
    static NAMED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r#"(?:\bmodule ([a-z0-9][^\s:"]*): |unrecognized import path "([^"\s]+)"|https?://([^?\s"]+)\?go-get=1"#,
            r#"|https?://[^/\s"]+/([^@\s"]+?)/@(?:v/list|latest)\b)"#
        ))
        .expect("compiles")
    });
    NAMED.captures_iter(errors).find_map(|c| {
        let named = c.get(1).or(c.get(2)).or(c.get(3)).or(c.get(4))?.as_str();
        // A proxy mounted under a path: the module starts at the first element with a dot.
        let named = if c.get(4).is_some() { module_in_proxy_path(named)? } else { named.to_string() };
        let path = unescape(&named).ok()?;
        valid_module_path(&path).then_some(path)
    })
}

/// Whether `path` can be a module's: a host with a dot first (`go.uber.org`), then
/// elements that are no `.`, `..` or empty (a log's `"..."` is an elision, not a path).
fn valid_module_path(path: &str) -> bool {
    static PATH: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)+(?:/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*$").expect("compiles")
    });
    PATH.is_match(path) && !path.starts_with("golang.org/toolchain")
}

/// A version of `module` go accepts for its path: `vN.0.0` for a major version suffix
/// (`/v2`, gopkg.in's `.v2`), else v1.0.0.
fn made_up_version(module: &str) -> String {
    let last = module.rsplit('/').next().unwrap_or(module);
    let gopkg_major = module.starts_with("gopkg.in/").then(|| last.rsplit_once(".v").map(|(_, n)| n)).flatten();
    let major = gopkg_major.or_else(|| last.strip_prefix('v').filter(|_| is_major_suffix(last)));
    match major.and_then(|n| n.parse::<u32>().ok()) {
        Some(0) => "v0.1.0".into(),
        Some(n) => format!("v{n}.0.0"),
        None => "v1.0.0".into(),
    }
}

pub(crate) fn env_value<'a>(env: &'a [(String, String)], var: &str) -> Option<&'a str> {
    env.iter().rev().find(|(k, _)| k == var).map(|(_, v)| v.as_str())
}

/// A host name a scenario may declare: the log's, without port, lower case — a dotless
/// one too (`my-corporate-proxy`: scenarios take any DNS name, and the sealed world's
/// resolver answers it); addresses and `localhost` become a made-up name.
pub(crate) fn declared_name(host: &str) -> String {
    let name = host.split(':').next().unwrap_or(host).trim_end_matches('.').to_ascii_lowercase();
    let valid = crate::scenario::validate::valid_host_name(&name)
        && name.parse::<std::net::IpAddr>().is_err()
        && name != "localhost"
        && name.bytes().any(|b| b.is_ascii_lowercase());
    if valid { name } else { "proxy.repro.example".into() }
}

mod draft;
mod recipes;

/// The module path's first element, as GOPRIVATE/GONOSUMDB patterns name it.
pub(crate) fn private_pattern(module: &str) -> String {
    crate::diagnose::rules::sumdb::private_pattern(module)
}

pub use draft::Draft;

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

    /// The scenario `repro` writes for `log`, loaded (it must load).
    fn scenario_of(log: &str) -> (String, crate::scenario::Scenario) {
        let repro = repro(log, "a log").unwrap();
        let ctx = crate::scenario::LoadContext::new(None);
        let scenario = crate::scenario::parse(std::path::Path::new("repro.yaml"), repro.yaml.clone(), &ctx)
            .unwrap_or_else(|e| panic!("{e}\n{}", repro.yaml));
        (repro.yaml, scenario)
    }

    #[test]
    fn a_proxy_mounted_under_a_path_keeps_it() {
        // Artifactory's Go repositories live under a path; the failing URL says which.
        let (yaml, scenario) = scenario_of(
            "go: corp.example/Lib@v1.0.0: reading https://art.corp.example/artifactory/api/go/go-remote/corp.example/!lib/@v/v1.0.0.zip: 502 Bad Gateway\n",
        );
        assert!(yaml.contains("prefix: /artifactory/api/go/go-remote"), "{yaml}");
        assert!(yaml.contains("GOPROXY: https://art.corp.example/artifactory/api/go/go-remote"), "{yaml}");
        assert!(scenario.hosts.iter().any(|h| h.name == "art.corp.example"), "{yaml}");
        // GOPROXY's entry says it too, and a proxy at the root keeps none.
        let (yaml, _) = scenario_of(
            "GOPROXY=https://nexus.corp.example/repository/go-proxy/\n\
             go: corp.example/lib@v1.0.0: reading https://nexus.corp.example/repository/go-proxy/corp.example/lib/@v/v1.0.0.info: 500 Internal Server Error\n",
        );
        assert!(yaml.contains("prefix: /repository/go-proxy\n"), "{yaml}");
        let (yaml, _) = scenario_of(
            "go: corp.example/lib@v1.0.0: reading https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info: 500 Internal Server Error\n",
        );
        assert!(!yaml.contains("prefix:"), "{yaml}");
    }

    #[test]
    fn the_failing_module_is_the_one_gos_error_is_about() {
        // A requires chain names the modules that led to the failing one first.
        let (yaml, _) = scenario_of(
            "go get: github.com/acme/tool/v2@v2.3.5 updating to\n\tgithub.com/acme/tool/v2@v2.4.2 requires\n\
             \tgithub.com/gone/helper@v1.2.0: invalid version: git fetch -f origin refs/heads/*:refs/heads/* in /x: exit status 128:\n\
             \tfatal: could not read Username for 'https://github.com': terminal prompts disabled\n",
        );
        assert!(yaml.contains("github.com/gone/helper@v1.2.0"), "{yaml}");
        assert!(!yaml.contains("module: github.com/acme/tool"), "{yaml}");
        // An extraction's temporary directory is no version.
        let (yaml, _) = scenario_of(
            "unzip /root/go/pkg/mod/cache/download/corp.example/big/@v/v1.0.0.zip: write /root/go/pkg/mod/corp.example/big@v1.0.0.tmp-959764322/a.c: read-only file system\n",
        );
        assert!(!yaml.contains("- module: corp.example/big@v1.0.0.tmp"), "{yaml}");
        // A checksum database's lookup URL names the module after `/lookup/`.
        let (yaml, _) = scenario_of(
            "verifying git.internal/team/mod@v0.0.0-20191114092859-171bbba0dc23/go.mod: \
             git.internal/team/mod@v0.0.0-20191114092859-171bbba0dc23/go.mod: reading \
             https://sum.golang.org/lookup/git.internal/team/mod@v0.0.0-20191114092859-171bbba0dc23: 410 Gone\n",
        );
        assert!(yaml.contains("- module: git.internal/team/mod@v0.0.0-20191114092859-171bbba0dc23"), "{yaml}");
        assert!(!yaml.contains("lookup/"), "{yaml}");
        // A v2 module keeps its major version suffix.
        assert_eq!(recipes_repository_root("github.com/acme/tool/v2"), "github.com/acme/tool/v2");
        assert_eq!(recipes_repository_root("github.com/acme/tool/sub"), "github.com/acme/tool");
    }

    fn recipes_repository_root(module: &str) -> String {
        recipes::repository_root(module)
    }

    #[test]
    fn an_unknown_revision_comes_from_a_proxy_quoting_it() {
        // No proxy in the log: go's default one answers as it does for a missing tag.
        let (yaml, scenario) = scenario_of(
            "go: github.com/o/r@v1.1.1: reading github.com/o/r/go.mod at revision v1.1.1: unknown revision v1.1.1\n",
        );
        assert!(scenario.hosts.iter().any(|h| h.name == "proxy.golang.org"), "{yaml}");
        assert!(yaml.contains("status: 404") && yaml.contains("invalid version: unknown revision v1.1.1"), "{yaml}");
        let (yaml, _) = scenario_of(
            "go: corp.example/lib@v0.1.1-0.20200617173005-5c65c840f086: invalid pseudo-version: preceding tag (v0.1.0) not found\n",
        );
        assert!(yaml.contains("invalid pseudo-version: preceding tag (v0.1.0) not found"), "{yaml}");
    }

    #[test]
    fn private_modules_of_the_log_still_go_through_the_scenarios_proxy() {
        let (yaml, scenario) = scenario_of(
            "GOPROXY=direct\nGOPRIVATE=git.corp.example\n\
             go: git.corp.example/tool@v2.0.0+incompatible: invalid version: module contains a go.mod file, so module path must match major version (\"git.corp.example/tool/v2\")\n",
        );
        let env = |k: &str| scenario.env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(env("GOPRIVATE").as_deref(), Some("git.corp.example"), "{yaml}");
        assert_eq!(env("GONOPROXY").as_deref(), Some("none"), "GOPRIVATE alone would bypass the proxy\n{yaml}");
    }

    #[test]
    fn a_failed_version_list_is_asked_for_by_a_query() {
        let (yaml, scenario) = scenario_of(
            "GOPROXY=https://athens.corp.example\n\
             go get github.com/o/r@v1: unexpected status (https://athens.corp.example/github.com/o/r/@v/list): 500 Internal Server Error\n",
        );
        assert!(yaml.contains("path: \"*/@v/list\""), "{yaml}");
        assert_eq!(scenario.run[0].args.last().map(String::as_str), Some("github.com/o/r@latest"), "{yaml}");
    }

    #[test]
    fn every_recipe_asks_for_a_failed_list_by_a_query() {
        // A reset on the list: the net.reset recipe, not only the proxy's status.
        let (yaml, scenario) = scenario_of(
            "go: loading module retractions for github.com/o/r/proto@v0.70.2: read \"https://proxy.golang.org/github.com/o/r/proto/@v/list\": stream error: stream ID 5; INTERNAL_ERROR\n",
        );
        assert!(yaml.contains("*/@v/list"), "{yaml}");
        assert_eq!(scenario.run[0].args.last().map(String::as_str), Some("github.com/o/r/proto@latest"), "{yaml}");
    }

    #[test]
    fn a_trace_alone_names_the_module_and_url_go_failed_on() {
        // `go mod download -json -x` put its error on stdout; the paste holds the trace.
        let (yaml, scenario) = scenario_of(
            "GOPROXY=https://athens.corp.example\n\
             # get https://athens.corp.example/github.com/o/r/@v/v1.2.0.info\n\
             # get https://athens.corp.example/github.com/o/r/@v/v1.2.0.info: 500 Internal Server Error (0.004s)\n",
        );
        assert!(yaml.contains("module: github.com/o/r@v1.2.0"), "{yaml}");
        assert!(yaml.contains("athens.corp.example"), "{yaml}");
        assert!(!yaml.contains("corp.example/lib"), "{yaml}");
        assert_eq!(scenario.run[0].args.last().map(String::as_str), Some("github.com/o/r@v1.2.0"), "{yaml}");
    }

    #[test]
    fn a_version_query_that_matches_nothing_asks_for_that_query_where_go_looks() {
        // A package below a GitHub repository: the repository exists, the version not.
        let (yaml, scenario) =
            scenario_of("go: github.com/o/r/cmd/tool@v0.3: no matching versions for query \"v0.3\"\n");
        assert!(yaml.contains("module: github.com/o/r@v1.0.0"), "{yaml}");
        assert_eq!(scenario.run[0].args.last().map(String::as_str), Some("github.com/o/r/cmd/tool@v0.3"), "{yaml}");
        // A go.mod line that names no module: the made-up module, at the query.
        let (_, scenario) =
            scenario_of("go: errors parsing go.mod:\ngo.mod:9:2: no matching versions for query \"v0.2\"\n");
        let asked = scenario.run[0].args.last().cloned().unwrap_or_default();
        assert!(asked.ends_with("@v0.2"), "{asked}");
    }

    #[test]
    fn an_invalid_version_behind_a_private_proxy_is_reproduced_by_a_public_one() {
        let (yaml, scenario) = scenario_of(
            "go: github.com/o/r@v1.1.1: Get \"https://goproxy.corp.example/github.com/o/r/@v/v1.1.1.info\": x\n\
             go: github.com/o/r@v1.1.1: invalid version: unknown revision v1.1.1\n",
        );
        assert!(scenario.hosts.iter().any(|h| h.name == "proxy.golang.org"), "{yaml}");
        assert!(!scenario.hosts.iter().any(|h| h.name == "goproxy.corp.example"), "{yaml}");
    }

    #[test]
    fn failing_ids_take_every_owner_first() {
        let log = "GOPROXY=https://proxy.golang.org\n\
            go: github.com/a/w@v1.0.0: reading https://proxy.golang.org/github.com/a/w/@v/v1.0.0.zip: 404 Not Found\n\
            go: github.com/a/x@v1.0.0: reading https://proxy.golang.org/github.com/a/x/@v/v1.0.0.zip: 404 Not Found\n\
            go: github.com/a/y@v1.0.0: reading https://proxy.golang.org/github.com/a/y/@v/v1.0.0.zip: 404 Not Found\n\
            go: github.com/b/y@v1.0.0: reading https://proxy.golang.org/github.com/b/y/@v/v1.0.0.zip: 404 Not Found\n\
            go: golang.org/x/sys@v0.1.0: reading https://proxy.golang.org/golang.org/x/sys/@v/v0.1.0.zip: 404 Not Found\n";
        let facts = LogFacts::read(&read_evidence(log));
        let ids = facts.failing_ids(4);
        assert_eq!(ids[..3], ["github.com/a/w@v1.0.0", "github.com/b/y@v1.0.0", "golang.org/x/sys@v0.1.0"], "{ids:?}");
        assert_eq!(ids.len(), 4);
    }

    #[test]
    fn a_repository_is_reproduced_at_its_root_and_a_release() {
        let (yaml, scenario) = scenario_of(
            "go: github.com/o/r/api@v0.0.0-20190703205954-e5008c1038bd: git fetch -f origin in /x: exit status 128:\n\
             \tfatal: could not read Username for 'https://github.com': terminal prompts disabled\n",
        );
        assert_eq!(scenario.run[0].args.last().map(String::as_str), Some("github.com/o/r@v1.0.0"), "{yaml}");
    }

    #[test]
    fn gosumdb_off_refusing_a_toolchain_is_reproduced_as_a_switch() {
        let (yaml, scenario) = scenario_of(
            "GOSUMDB=off\ngo: downloading go1.23.4 (linux/amd64)\ngo: golang.org/toolchain@v0.0.1-go1.23.4.linux-amd64: \
             verifying module: checksum database disabled by GOSUMDB=off\n",
        );
        assert_eq!(scenario.expect.diagnosis, Some(Category::SumdbUnreachable), "{yaml}");
        for wanted in
            ["toolchain: go1.99.0", "GOSUMDB: \"off\"", "GOTOOLCHAIN: auto", "playbook: set-gosumdb", "go: version"]
        {
            assert!(yaml.contains(wanted), "{wanted}: {yaml}");
        }
        assert!(!yaml.contains("corp.example/lib"), "no made-up module: {yaml}");
    }

    /// The value the scenario gives `var`.
    fn env_of<'a>(scenario: &'a crate::scenario::Scenario, var: &str) -> Option<&'a str> {
        scenario.env.iter().find(|(k, _)| k == var).map(|(_, v)| v.as_str())
    }

    #[test]
    fn regression_a_failed_switch_is_reproduced_as_a_switch_go_tries() {
        // The scenario wrote go.mod's `go 1.99` under the harness's GOTOOLCHAIN=local: go
        // failed with `requires go >= 1.99 (…; GOTOOLCHAIN=local)` without trying a
        // download, and passed only because the category matched.
        let log =
            "go: downloading go1.99.0 (linux/amd64)\ngo: download go1.99.0 for linux/amd64: toolchain not available\n";
        let (yaml, scenario) = scenario_of(log);
        assert_eq!(env_of(&scenario, "GOTOOLCHAIN"), Some("go1.99.0"), "{yaml}");
        let error = scenario.expect.error.as_ref().map(|e| e.as_str().to_string()).unwrap_or_default();
        assert!(
            regex::Regex::new(&error)
                .unwrap()
                .is_match("go: download go1.99.0 for linux/amd64: toolchain not available"),
            "{yaml}"
        );
        assert_eq!(scenario.run[0].args, ["version"], "{yaml}");
        // No module is made up, and the description does not say one is.
        assert!(scenario.modules.is_empty() && !yaml.contains("corp.example/lib"), "{yaml}");
        assert!(yaml.contains("no module is made up"), "{yaml}");
        // go's default proxy serves every published toolchain: no such release, no recovery.
        assert!(scenario.hosts.iter().any(|h| h.name == "proxy.golang.org") && scenario.recover.is_none(), "{yaml}");
        assert!(yaml.contains("No recovery: proxy.golang.org serves every published toolchain"), "{yaml}");
        // A company proxy without golang.org/toolchain: a mirror that has it recovers.
        let (yaml, scenario) = scenario_of(&format!("GOPROXY=https://athens.corp.example,direct\n{log}"));
        assert!(yaml.contains("golang.org/toolchain/**") && yaml.contains("status: 404"), "{yaml}");
        assert!(yaml.contains("toolchain: go1.99.0") && yaml.contains("playbook: use-mirror"), "{yaml}");
        assert_eq!(env_of(&scenario, "GOPROXY"), Some("https://athens.corp.example"), "{yaml}");
        assert!(scenario.hosts.iter().any(|h| matches!(h.kind, crate::scenario::HostKind::Sumdb(_))), "{yaml}");
        // A language version (go 1.21 asked for it as a toolchain): its release recovers.
        let (yaml, scenario) = scenario_of(
            "go: downloading go1.22 (linux/amd64)\ngo: download go1.22 for linux/amd64: toolchain not available\n",
        );
        assert_eq!(env_of(&scenario, "GOTOOLCHAIN"), Some("go1.22"), "{yaml}");
        assert!(yaml.contains("toolchain: go1.22.0") && yaml.contains("playbook: pin-toolchain"), "{yaml}");
        assert!(yaml.contains("is a language version but not a toolchain version"), "{yaml}");
        // An error status for the toolchain's download, at the host the log names.
        let (yaml, _) = scenario_of(
            "go: download go1.99.0: golang.org/toolchain@v0.0.1-go1.99.0.linux-amd64: reading \
             https://goproxy.corp.example/golang.org/toolchain/@v/v0.0.1-go1.99.0.linux-amd64.zip: 502 Bad Gateway\n",
        );
        assert!(yaml.contains("goproxy.corp.example:") && yaml.contains("status: 502"), "{yaml}");
        // GOTOOLCHAIN=local in the log: the harness's own, and no module needed either.
        let (yaml, scenario) = scenario_of("go: go.mod requires go >= 1.23.1 (running go 1.22.5; GOTOOLCHAIN=local)\n");
        assert_eq!(env_of(&scenario, "GOTOOLCHAIN"), None, "{yaml}");
        assert!(
            yaml.contains("go 1.99") && scenario.modules.is_empty() && !yaml.contains("corp.example/lib"),
            "{yaml}"
        );
        // A switch that failed on the network: no scenario of another failure.
        let dial = "go: download go1.99.0: golang.org/toolchain@v0.0.1-go1.99.0.linux-amd64: Get \
                    \"https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go1.99.0.linux-amd64.zip\": dial tcp \
                    1.2.3.4:443: i/o timeout\n";
        assert!(matches!(repro(dial, "log"), Err(ReproError::Unreproducible(Category::ToolchainDownload, _))));
    }

    #[test]
    fn a_goproxy_list_keeps_the_logs_next_entry_unless_it_would_prove_too_much() {
        let log = |module: &str, next: &str| {
            format!(
                "GOPROXY=https://proxy.corp.example,{next}\ngo: {module}@v1.0.0: reading \
                 https://proxy.corp.example/{module}/@v/v1.0.0.info: 500 Internal Server Error\n"
            )
        };
        // A company mirror keeps its name and its path.
        let (yaml, scenario) = scenario_of(&log("corp.example/lib", "https://nexus.corp.example/repository/go"));
        assert_eq!(
            env_of(&scenario, "GOPROXY"),
            Some("https://proxy.corp.example,https://nexus.corp.example/repository/go"),
            "{yaml}"
        );
        assert!(!yaml.contains("mirror.repro.example"), "{yaml}");
        // The public proxy, for a public module, too.
        let (yaml, scenario) = scenario_of(&log("github.com/x/y", "https://proxy.golang.org"));
        assert_eq!(env_of(&scenario, "GOPROXY"), Some("https://proxy.corp.example,https://proxy.golang.org"), "{yaml}");
        // For a private module the real one could not serve it: a stand-in, and why.
        let (yaml, scenario) = scenario_of(&log("corp.example/lib", "https://proxy.golang.org"));
        assert_eq!(
            env_of(&scenario, "GOPROXY"),
            Some("https://proxy.corp.example,https://mirror.repro.example"),
            "{yaml}"
        );
        assert!(yaml.contains("proxy.golang.org, is played by mirror.repro.example"), "{yaml}");
    }

    #[test]
    fn no_scenario_that_would_prove_another_failure_or_a_wrong_fix() {
        // git over ssh: the fakes speak https, so a scenario would reproduce a prompt.
        let ssh = "go: git.corp.example/lib@v1.0.0: invalid version: git ls-remote -q origin in /tmp/x: exit status \
                   128:\n\tgit@git.corp.example: Permission denied (publickey).\n\tfatal: Could not read from remote \
                   repository.\n";
        assert!(matches!(repro(ssh, "log"), Err(ReproError::Unreproducible(Category::VcsAuth, _))));
        // An unreachable database for a public module: the failure, and no GONOSUMDB
        // recovery (its checksums must be checked); for a private path, GONOSUMDB.
        let unreachable = |module: &str| {
            format!(
                "verifying {module}@v1.0.0/go.mod: {module}@v1.0.0/go.mod: Get \
                 \"https://sum.golang.org/lookup/{module}@v1.0.0\": dial tcp 142.251.1.1:443: i/o timeout\n"
            )
        };
        let public = repro(&unreachable("github.com/x/y"), "log").unwrap().yaml;
        assert!(!public.contains("recover:") && public.contains("No recovery"), "{public}");
        let private = repro(&unreachable("corp.example.com/lib"), "log").unwrap().yaml;
        assert!(private.contains("playbook: private-modules-nosumdb"), "{private}");
    }

    /// The kind of declared host `name`.
    fn kind_of<'a>(scenario: &'a crate::scenario::Scenario, name: &str) -> Option<&'a crate::scenario::HostKind> {
        scenario.hosts.iter().find(|h| h.name == name).map(|h| &h.kind)
    }

    #[test]
    fn a_dial_timeout_meets_a_black_hole_and_other_timeouts_a_stalled_handshake() {
        use crate::scenario::HostKind;
        let (yaml, scenario) = scenario_of(
            "go: github.com/x/y@v1.2.3: Get \"https://proxy.golang.org/github.com/x/y/@v/v1.2.3.mod\": dial tcp \
             172.217.160.81:443: i/o timeout\n",
        );
        assert!(matches!(kind_of(&scenario, "proxy.golang.org"), Some(HostKind::Blackhole)), "{yaml}");
        assert!(!yaml.contains("tcp:"), "{yaml}");
        // go's dialer gives up after 30 s: the run waits longer.
        assert!(yaml.contains("timeout: 50s"), "{yaml}");
        for handshake in [
            "go: github.com/x/y@v1.2.3: Get \"https://proxy.golang.org/github.com/x/y/@v/v1.2.3.mod\": net/http: TLS handshake timeout\n",
            "go: github.com/x/y@v1.2.3: Get \"https://proxy.golang.org/github.com/x/y/@v/v1.2.3.mod\": dial tcp: lookup proxy.golang.org: i/o timeout\n",
        ] {
            let (yaml, scenario) = scenario_of(handshake);
            assert!(!matches!(kind_of(&scenario, "proxy.golang.org"), Some(HostKind::Blackhole)), "{yaml}");
        }
    }

    #[test]
    fn a_go_mod_mismatch_is_reproduced_as_a_go_mod_mismatch() {
        // The empty file's hash, and no download in the log: the cache's go.mod was emptied.
        let (yaml, scenario) = scenario_of(
            "verifying github.com/taosdata/driver-go/v2@v2.0.1-0.20211018081904-0a2a3ef6c829/go.mod: checksum mismatch\n\
             \tdownloaded: h1:G7mAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY=\n\
             \tgo.sum:     h1:8ZS4tZHVqtw4Dr4z2s5Ozf9kD4WgFqCqlMdBd3WbMhA=\n",
        );
        assert_eq!(scenario.expect.diagnosis, Some(Category::CacheCorrupt), "{yaml}");
        assert!(yaml.contains("empty_go_mod:") && !yaml.contains("corrupt_zip"), "{yaml}");
        assert!(
            yaml.contains("github.com/taosdata/driver-go/v2 v2.0.1-0.20211018081904-0a2a3ef6c829/go.mod h1:"),
            "{yaml}"
        );
        // Another go.mod than go.sum's: the proxy serves a variant whose go.mod differs.
        let (yaml, _) = scenario_of(
            "verifying corp.example/lib@v1.0.0/go.mod: checksum mismatch\n\
             \tdownloaded: h1:AAAAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY=\n\
             \tgo.sum:     h1:8ZS4tZHVqtw4Dr4z2s5Ozf9kD4WgFqCqlMdBd3WbMhA=\n\nSECURITY ERROR\n",
        );
        assert!(yaml.contains("declares: corp.example/lib-retagged"), "{yaml}");
        // A zip's mismatch keeps the go.mod.
        let (yaml, _) = scenario_of(
            "verifying corp.example/lib@v1.0.0: checksum mismatch\n\
             \tdownloaded: h1:AAAAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY=\n\
             \tsum.golang.org: h1:8ZS4tZHVqtw4Dr4z2s5Ozf9kD4WgFqCqlMdBd3WbMhA=\n\nSECURITY ERROR\n",
        );
        assert!(yaml.contains("variant: tampered") && !yaml.contains("declares:"), "{yaml}");
    }

    #[test]
    fn the_logs_names_are_kept() {
        // A module without a version keeps its path, at a version its major suffix allows.
        let (yaml, scenario) = scenario_of(
            "https_proxy=http://my-corporate-proxy:8080\n\
             package gopkg.in/yaml.v2: unrecognized import path \"gopkg.in/yaml.v2\" (https fetch: Get \
             https://gopkg.in/yaml.v2?go-get=1: x509: certificate signed by unknown authority)\n",
        );
        assert!(yaml.contains("gopkg.in/yaml.v2@v2.0.0") && !yaml.contains("corp.example/lib"), "{yaml}");
        assert!(yaml.contains("The log names no version of gopkg.in/yaml.v2"), "{yaml}");
        // A dotless host name is a host name.
        assert!(yaml.contains("HTTPS_PROXY: http://my-corporate-proxy:8080"), "{yaml}");
        assert!(scenario.hosts.iter().any(|h| h.name == "my-corporate-proxy"), "{yaml}");
        let (yaml, scenario) = scenario_of(
            "go: github.com/o/r/cmd imports\n\tgo.uber.org/zap: module go.uber.org/zap: Get \
             \"https://proxy.golang.org/go.uber.org/zap/@v/list\": read tcp 10.0.0.1:1->1.2.3.4:443: connection reset by peer\n",
        );
        assert_eq!(scenario.run[0].args.last().map(String::as_str), Some("go.uber.org/zap@latest"), "{yaml}");
        // An elided path is none.
        let (yaml, _) = scenario_of("go: unrecognized import path \"...\": 401 Unauthorized\n");
        assert!(!yaml.contains("module: ...@"), "{yaml}");
        assert!(!valid_module_path("...") && valid_module_path("gopkg.in/yaml.v2"));
        assert_eq!(made_up_version("github.com/o/r/v3"), "v3.0.0");
        assert_eq!(made_up_version("gopkg.in/check.v1"), "v1.0.0");
        assert_eq!(declared_name("localhost:3000"), "proxy.repro.example");
        assert_eq!(declared_name("athens:3000"), "athens");
    }

    #[test]
    fn the_fault_is_chosen_for_the_words_go_said() {
        // A directory another user owns is no read-only mount; a build cache is no module cache.
        let (yaml, _) = scenario_of(
            "go: corp.example/lib@v1.0.0: mkdir /go/pkg/mod/cache/download/corp.example: permission denied\n",
        );
        assert!(yaml.contains("root_owned:") && !yaml.contains("read_only"), "{yaml}");
        let (yaml, scenario) =
            scenario_of("failed to initialize build cache at /.cache/go-build: mkdir /.cache: permission denied\n");
        assert!(yaml.contains("- build_cache") && yaml.contains("go: build ./..."), "{yaml}");
        assert!(scenario.modules.is_empty() && !yaml.contains("name: \"repro: cache.permission ("), "{yaml}");
        assert!(yaml.contains("runs where modchaos runs as root"), "{yaml}");
        // A full disk under the build cache is no directory another user owns.
        let (yaml, _) = scenario_of(
            "failed to initialize build cache at /root/.cache/go-build: mkdir /root/.cache/go-build/00: no space left on device\n",
        );
        assert!(!yaml.contains("build_cache") && yaml.contains("disk_full"), "{yaml}");
        // A name a recipe gave stays when no module is made up.
        let (yaml, _) = scenario_of("go: download go1.99.0 for linux/amd64: toolchain not available\n");
        assert!(yaml.contains("(a switch to go1.99.0)"), "{yaml}");
        let (yaml, _) = scenario_of("go: corp.example/lib@v1.0.0: mkdir /go/pkg/mod/cache: read-only file system\n");
        assert!(yaml.contains("read_only:"), "{yaml}");
        // An HTML page where go wanted JSON is served as one; an empty body as one.
        let (yaml, _) = scenario_of(
            "go: corp.example/lib@v1.0.0: invalid response from proxy \"https://proxy.corp.example\": invalid \
             character '<' looking for beginning of value\n",
        );
        assert!(yaml.contains("<!DOCTYPE html>") && yaml.contains("text/html"), "{yaml}");
        // A reset after the headers is `connection reset by peer`; before any answer, on a
        // connection's first request, go meets the end of the stream (`unexpected EOF`).
        let (yaml, _) = scenario_of(
            "go: corp.example/lib@v1.0.0: read \"https://proxy.corp.example/corp.example/lib/@v/v1.0.0.zip\": read tcp \
             10.0.0.1:5->10.0.0.2:443: read: connection reset by peer\n",
        );
        assert!(yaml.contains("after_bytes: 0") && yaml.contains("\"*.zip\""), "{yaml}");
        let (yaml, _) = scenario_of(
            "go: corp.example/lib@v1.0.0: Get \"https://proxy.corp.example/corp.example/lib/@v/v1.0.0.mod\": unexpected EOF\n",
        );
        assert!(yaml.contains("\"*.info\"") && !yaml.contains("after_bytes"), "{yaml}");
        // A body cut short is cut in the zip.
        let (yaml, _) = scenario_of(
            "go: corp.example/lib@v1.0.0: read \"https://proxy.corp.example/corp.example/lib/@v/v1.0.0.zip\": unexpected EOF\n",
        );
        assert!(yaml.contains("after_bytes: 100") && yaml.contains("\"*.zip\""), "{yaml}");
        // The revision a proxy could not find is the log's (a pseudo-version's commit).
        let (yaml, _) = scenario_of(
            "go: github.com/o/r@v0.0.0-20190417202808-8b16b4848295: invalid version: unknown revision 8b16b4848295\n",
        );
        assert!(yaml.contains("unknown revision 8b16b4848295"), "{yaml}");
    }

    #[test]
    fn a_certificate_for_other_names_is_valid_for_the_logs_names() {
        let (yaml, scenario) = scenario_of(
            "go: github.com/x/y@v1.2.3: Get \"https://proxy.golang.org/github.com/x/y/@v/v1.2.3.info\": tls: failed to \
             verify certificate: x509: certificate is valid for sinkhole.corp.amazon.com, *.blocked.example, -bad-.x, \
             not proxy.golang.org\n",
        );
        assert_eq!(scenario.expect.diagnosis, Some(Category::TlsHostname), "{yaml}");
        assert!(yaml.contains("names:\n      - sinkhole.corp.amazon.com\n      - \"*.blocked.example\"\n"), "{yaml}");
        assert!(!yaml.contains("- -bad-.x"), "{yaml}");
    }

    #[test]
    fn a_goproxy_list_without_entries_is_no_off() {
        let (yaml, scenario) =
            scenario_of("go: corp.example/lib@v1.0.0: GOPROXY list is not the empty string, but contains no entries\n");
        assert_eq!(scenario.expect.diagnosis, Some(Category::ProxyOff), "{yaml}");
        assert!(yaml.contains("GOPROXY: \",\""), "{yaml}");
    }

    #[test]
    fn a_checksum_database_fails_its_lookups_as_the_log_says() {
        let log = |tail: &str| {
            format!(
                "GOSUMDB='sumdb.corp.example+e7115ce6+AYhCzOKpuPP+KCRwP5+K8Zhr+NP+ZIm1R11wCV1efIRO'\n\
                 go: corp.example/lib@v1.0.0: verifying go.mod: corp.example/lib@v1.0.0/go.mod: {tail}\n"
            )
        };
        let (yaml, scenario) = scenario_of(&log(
            "reading https://sumdb.corp.example/lookup/corp.example/lib@v1.0.0: 500 Internal Server Error\n\
             \tserver response: internal error: database unavailable",
        ));
        assert_eq!(scenario.expect.diagnosis, Some(Category::SumdbUnreachable), "{yaml}");
        assert!(yaml.contains("GOSUMDB: sumdb.corp.example"), "{yaml}");
        assert!(yaml.contains("/lookup/**") && yaml.contains("status: 500"), "{yaml}");
        assert!(yaml.contains("database unavailable"), "{yaml}");
        let (yaml, scenario) = scenario_of(&log(
            "Get \"https://sumdb.corp.example/lookup/corp.example/lib@v1.0.0\": dial tcp 10.1.1.1:443: connect: \
             connection refused",
        ));
        assert!(matches!(kind_of(&scenario, "sumdb.corp.example"), Some(crate::scenario::HostKind::Closed)), "{yaml}");
        // A closed host is no database the world gives go a key for: the log's key stays.
        assert!(yaml.contains("GOSUMDB: sumdb.corp.example+e7115ce6+"), "{yaml}");
        let (yaml, _) = scenario_of(&log(
            "Get \"https://sumdb.corp.example/lookup/corp.example/lib@v1.0.0\": dial tcp: lookup sumdb.corp.example \
             on 10.0.0.2:53: no such host",
        ));
        assert!(yaml.contains("nxdomain"), "{yaml}");
    }

    #[test]
    fn a_database_and_a_proxy_named_alike_in_the_log_are_two_hosts() {
        // Both addresses become the made-up name; a relay's lookup URL names the proxy.
        let (yaml, scenario) = scenario_of(
            "GOPROXY='http://10.0.0.5:8081'\n\
             go: corp.example/lib@v1.0.0: verifying module: corp.example/lib@v1.0.0: reading \
             http://10.0.0.6:8081/sumdb/sum.golang.org/lookup/corp.example/lib@v1.0.0: 410 Gone\n\
             \tserver response: not found: create zip: malformed file path \"a*\": invalid char '*'\n",
        );
        assert_eq!(scenario.expect.diagnosis, Some(Category::ModuleInvalidVersion), "{yaml}");
        assert!(yaml.contains("goproxy.repro.example") && yaml.contains("sumdb:"), "{yaml}");
    }

    #[test]
    fn a_tag_missing_from_a_repository_that_is_there_is_untagged() {
        let (yaml, scenario) = scenario_of(
            "GOPROXY='direct'\nGOPRIVATE='git.corp.example'\n\
             go: git.corp.example/lib@v1.2.3: reading git.corp.example/lib/go.mod at revision v1.2.3: unknown revision v1.2.3\n",
        );
        assert_eq!(scenario.expect.diagnosis, Some(Category::VcsNotFound), "{yaml}");
        assert!(yaml.contains("untagged:\n      - git.corp.example/lib@v1.2.3"), "{yaml}");
    }

    #[test]
    fn no_failure_no_scenario() {
        assert!(matches!(repro("go: downloading x v1\n", "log"), Err(ReproError::NotAFailure(..))));
        assert_eq!(declared_name("127.0.0.1:8080"), "proxy.repro.example");
        assert_eq!(declared_name("Proxy.Corp.Example:443"), "proxy.corp.example");
    }
    #[test]
    fn a_resolver_that_is_down_is_taken_down_and_offers_no_recovery() {
        use crate::scenario::model::ResolverDown;
        let refused = "go: github.com/acme/tool@v1.0.0: Get \"https://proxy.golang.org/github.com/acme/tool/@v/v1.0.0.info\": \
                       dial tcp: lookup proxy.golang.org on 127.0.0.53:53: read udp 127.0.0.1:50591->127.0.0.53:53: read: \
                       connection refused\n";
        let (yaml, scenario) = scenario_of(refused);
        assert_eq!(scenario.resolver.down, Some(ResolverDown::Refused), "{yaml}");
        assert!(scenario.recover.is_none() && yaml.contains("No recovery"), "{yaml}");
        assert!(scenario.hosts.iter().all(|h| h.dns.is_empty()), "{yaml}");
        let (yaml, scenario) = scenario_of(
            "go: github.com/acme/tool@v1.0.0: Get \"https://proxy.golang.org/github.com/acme/tool/@v/v1.0.0.info\": dial \
             tcp: lookup proxy.golang.org on [::1]:53: dial udp [::1]:53: connect: network is unreachable\n",
        );
        assert_eq!(scenario.resolver.down, Some(ResolverDown::Unreachable), "{yaml}");
        // A resolver that answers, if badly, is faulted for the name, and a mirror recovers.
        let (yaml, scenario) = scenario_of(
            "go: corp.example/lib@v1.0.0: Get \"https://goproxy.corp.example/corp.example/lib/@v/v1.0.0.info\": dial tcp: \
             lookup goproxy.corp.example on 10.0.0.2:53: lame referral\n",
        );
        assert_eq!(scenario.resolver.down, None, "{yaml}");
        assert!(yaml.contains("lame_referral: {}") && scenario.recover.is_some(), "{yaml}");
    }

    #[test]
    fn a_body_that_ended_early_is_a_connection_closed_not_reset() {
        let (yaml, _) = scenario_of(
            "go: github.com/gabriel-vasile/mimetype@v1.4.3: read \"https://proxy.golang.org/github.com/gabriel-vasile/mimetype/@v/v1.4.3.zip\": unexpected EOF\n",
        );
        assert!(yaml.contains("close:") && yaml.contains("after_bytes: 100") && !yaml.contains("reset:"), "{yaml}");
    }

    #[test]
    fn redirects_without_end_lead_back_to_the_file_itself() {
        let (yaml, _) = scenario_of(
            "go: corp.example/Lib@v1.0.0: Get \"https://proxy.corp.example/corp.example/!lib/@v/v1.0.0.info\": stopped after 10 redirects\n",
        );
        assert!(yaml.contains("status: 301"), "{yaml}");
        assert!(yaml.contains("Location: https://proxy.corp.example/corp.example/!lib/@v/v1.0.0.info"), "{yaml}");
    }

    #[test]
    fn a_body_marked_gzip_that_is_not_is_served_long_enough_to_be_read_as_such() {
        let (yaml, _) = scenario_of(
            "go: corp.example/lib@v1.0.0: read \"https://gzip.corp.example/corp.example/lib/@v/v1.0.0.info\": gzip: invalid header\n",
        );
        assert!(yaml.contains("Content-Encoding: gzip") && yaml.contains("not gzip"), "{yaml}");
    }

    #[test]
    fn a_plain_http_goproxy_meets_its_forward_proxy_as_http_proxy() {
        let (yaml, scenario) = scenario_of(
            "GOPROXY=http://proxy.corp.example\nHTTP_PROXY=http://gw.corp.example:3128\n\
             go: corp.example/lib@v1.0.0: reading http://proxy.corp.example/corp.example/lib/@v/v1.0.0.zip: 407 Proxy \
             Authentication Required\n",
        );
        assert!(
            yaml.contains("GOPROXY: http://proxy.corp.example")
                && yaml.contains("HTTP_PROXY: http://gw.corp.example:3128"),
            "{yaml}"
        );
        assert!(!yaml.contains("HTTPS_PROXY"), "{yaml}");
        assert!(scenario.hosts.iter().any(|h| h.name == "gw.corp.example"), "{yaml}");
        // An https GOPROXY goes through HTTPS_PROXY, with a CONNECT.
        let (yaml, _) = scenario_of(
            "GOPROXY=https://proxy.corp.example\nHTTPS_PROXY=http://gw.corp.example:3128\n\
             go: corp.example/lib@v1.0.0: Get \"https://proxy.corp.example/corp.example/lib/@v/v1.0.0.zip\": Proxy \
             Authentication Required\n",
        );
        assert!(
            yaml.contains("GOPROXY: https://proxy.corp.example")
                && yaml.contains("HTTPS_PROXY: http://gw.corp.example:3128"),
            "{yaml}"
        );
    }

    #[test]
    fn a_certificate_valid_for_no_name_is_one_for_the_address_only() {
        let (yaml, scenario) = scenario_of(
            "go: github.com/qiniu/goc@v1.3.6: Get \"https://proxy.golang.org/github.com/qiniu/goc/@v/v1.3.6.info\": tls: \
             failed to verify certificate: x509: certificate is not valid for any names, but wanted to match \
             proxy.golang.org\n",
        );
        assert!(yaml.contains("certificate: ip_only"), "{yaml}");
        assert_eq!(
            scenario.network,
            crate::scenario::NetworkNeed::Sealed("the scenario says `network: sealed`".into())
        );
        let (yaml, _) = scenario_of(
            "go: corp.example/lib@v1.0.0: Get \"https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info\": tls: failed \
             to verify certificate: x509: certificate relies on legacy Common Name field, use SANs instead\n",
        );
        assert!(yaml.contains("certificate: no_san"), "{yaml}");
    }

    #[test]
    fn a_refused_go_get_page_or_git_request_is_refused_where_the_log_says() {
        let (yaml, scenario) = scenario_of(
            "go: git.corp.example/team/lib@v1.2.0: unrecognized import path \"git.corp.example/team/lib\": reading \
             https://git.corp.example/team/lib?go-get=1: 401 Unauthorized\n",
        );
        let git = scenario.hosts.iter().find(|h| h.name == "git.corp.example").expect("the git host");
        let crate::scenario::HostKind::Git(spec) = &git.kind else { panic!("{yaml}") };
        assert!(spec.auth.is_some() && spec.auth_pages, "{yaml}");
        assert!(git.faults.is_empty(), "{yaml}");
        let (yaml, scenario) = scenario_of(
            "go: git.corp.example/team/lib@v1.2.0: invalid version: git ls-remote -q origin in /x: exit status 128:\n\
             \tfatal: unable to access 'https://git.corp.example/team/lib/': The requested URL returned error: 403\n",
        );
        let git = scenario.hosts.iter().find(|h| h.name == "git.corp.example").expect("the git host");
        let crate::scenario::HostKind::Git(spec) = &git.kind else { panic!("{yaml}") };
        assert!(!spec.auth_pages, "{yaml}");
        assert!(
            yaml.contains("path: \"*/info/refs\"") && yaml.contains("first: 1") && yaml.contains("status: 403"),
            "{yaml}"
        );
    }
}
