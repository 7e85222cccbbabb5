//! The rules, one file per category family, tried in order: the first that recognises
//! the evidence decides. Each rule is a plain function over [`Facts`].

pub mod cache;
pub mod config;
pub mod dns;
pub mod guard;
pub mod http_proxy;
pub mod module;
pub mod net;
pub mod outcome;
pub mod proxy;
pub mod sumdb;
pub mod tls;
pub mod toolchain;
pub mod vcs;

use std::sync::LazyLock;

use regex::Regex;

use super::facts::Facts;
use super::{Category, Confidence, Diagnosis, EvidenceLine};

/// A rule: recognises one kind of failure, or passes.
pub type Rule = fn(&Facts) -> Option<Diagnosis>;

/// Every rule, most specific first.
pub const RULES: &[(&str, Rule)] = &[
    ("go mod tidy -diff", module::not_tidy),
    ("success", outcome::success),
    ("open mode's guard", guard::refused),
    ("the command line go refused", config::usage),
    ("module.invalid_version required by go.mod", module::required_major_without_suffix),
    ("module.go_mod", module::go_mod),
    ("module.go_sum_missing", module::go_sum_missing),
    ("cache.permission", cache::permission),
    ("cache.corrupt files", cache::corrupt_files),
    ("cache vcs clone", cache::vcs_clone),
    ("sumdb.mismatch", sumdb::mismatch),
    ("GOSUMDB=off refusing a toolchain", sumdb::toolchain_unverifiable),
    ("toolchain.download", toolchain::download),
    ("checksum database", sumdb::database),
    ("proxy.off", proxy::off),
    ("GOAUTH", proxy::goauth),
    ("vcs.disallowed", vcs::disallowed),
    ("vcs.auth", vcs::auth),
    ("vcs.meta: tool not installed", vcs::other_tool_silent),
    ("vcs.not_found", vcs::not_found),
    ("vcs.meta", vcs::meta),
    ("code host API (go ≤ 1.12)", vcs::host_api),
    ("module.path_mismatch", module::path_mismatch),
    ("http_proxy.failure", http_proxy::failure),
    ("proxy status", proxy::status),
    ("file:// proxy", proxy::file_not_found),
    ("bad content", proxy::bad_content),
    ("proxy not TLS", proxy::not_tls),
    ("dns.nxdomain", dns::nxdomain),
    ("dns.failure", dns::failure),
    ("tls", tls::certificate),
    ("net.refused", net::refused),
    ("net.unreachable", net::unreachable),
    ("net.timeout", net::timeout),
    ("net.reset", net::reset),
    ("unreadable remote", vcs::unreadable_remote),
    ("go-import page status (go ≤ 1.12)", vcs::old_meta_status),
    ("module.invalid_version", module::invalid_version),
    ("git not installed", vcs::git_missing),
    ("configuration go refused", config::unusable),
    ("cache.permission warned", cache::permission_warned),
    ("cache.lock_stuck", cache::lock_stuck),
    ("hang", outcome::hang),
    ("crash", outcome::crash),
    ("test failed", outcome::test_failed),
];

/// Code hosts that answer a missing repository as they answer a private one, and whose
/// names exist for everyone.
/// (Gitee and Gitea-run Codeberg, too: they ask an anonymous client for credentials for a
/// repository it may not see, whether it exists or not.)
pub const PUBLIC_CODE_HOSTS: [&str; 5] = ["github.com", "gitlab.com", "bitbucket.org", "gitee.com", "codeberg.org"];

/// Names every resolver on the internet knows: go's own services, the public proxies and
/// code hosts.
const WELL_KNOWN_NAMES: [&str; 14] = [
    "sum.golang.org",
    "golang.org",
    "go.dev",
    "dl.google.com",
    "go.googlesource.com",
    "gopkg.in",
    "google.golang.org",
    "storage.googleapis.com",
    "codeload.github.com",
    "api.github.com",
    "gitee.com",
    "codeberg.org",
    "git.sr.ht",
    "dev.azure.com",
];

/// A name every resolver on the internet knows.
pub fn well_known(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let name = name.as_str();
    is_public_proxy(name) || PUBLIC_CODE_HOSTS.contains(&name) || WELL_KNOWN_NAMES.contains(&name)
}

/// Whether a module path is one everyone can fetch, as far as its host says for certain:
/// a public code host's, or a well-known name's (golang.org/x, gopkg.in). Any other host
/// may be a company's.
pub fn public_module(path: &str) -> bool {
    well_known(path.split('/').next().unwrap_or_default())
}

/// Whose a module or package is, as far as its path says for certain: its host, and on a
/// public code host its owner too (a module path may be host/path of any depth elsewhere).
pub fn owner_of(path: &str) -> String {
    let mut elements = path.trim_end_matches(".test").split('/');
    let host = elements.next().unwrap_or_default();
    match elements.next() {
        Some(owner) if PUBLIC_CODE_HOSTS.contains(&host) => format!("{host}/{owner}"),
        _ => host.to_string(),
    }
}

/// Module proxies anyone uses: they need no credentials and fetch public modules from
/// their origins on demand.
pub const PUBLIC_PROXIES: [&str; 8] = [
    "proxy.golang.org",
    "goproxy.io",
    "goproxy.cn",
    "proxy.golang.com.cn",
    "mirrors.aliyun.com",
    "goproxy.baidu.com",
    "mirrors.tencent.com",
    "gocenter.io",
];

/// Whether a path element is a module path's major-version suffix: `v2`, `v3`, … (not
/// `v0`, `v1` or a leading zero, which go refuses as one). The rules and `repro` read
/// import paths by it.
pub fn is_major_suffix(element: &str) -> bool {
    element.strip_prefix('v').filter(|n| !n.starts_with('0')).is_some_and(|n| n.parse::<u32>().is_ok_and(|n| n >= 2))
}

/// Whether a URL (or a bare host) names one of the [`PUBLIC_PROXIES`], however a log
/// spells it: any case, with a port (`proxy.golang.org:443`), credentials or a trailing
/// dot. Every rule that treats a public proxy's answer apart asks this one question.
pub fn is_public_proxy(url_or_host: &str) -> bool {
    let host = url_host(url_or_host);
    let name =
        host.rsplit_once(':').filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit())).map_or(host, |(n, _)| n);
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    PUBLIC_PROXIES.contains(&name.as_str())
}

/// Builds a diagnosis.
pub fn found(
    category: Category,
    confidence: Confidence,
    summary: String,
    evidence: Vec<EvidenceLine>,
    playbooks: &[&str],
) -> Diagnosis {
    let mut lines: Vec<EvidenceLine> = Vec::new();
    for line in evidence {
        if !lines.contains(&line) {
            lines.push(line);
        }
    }
    Diagnosis {
        category,
        confidence,
        summary,
        evidence: lines,
        playbooks: playbooks.iter().map(|p| p.to_string()).collect(),
        alternatives: Vec::new(),
        context: Vec::new(),
    }
}

/// The module a go error is about: `M@V:` at its start, or `module M:`.
pub fn subject(text: &str) -> Option<String> {
    static SUBJECT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^(?:go: )?(?:module (\S+?)|(\S+@\S+?)):").expect("subject pattern compiles"));
    let caps = SUBJECT.captures(text.trim_start())?;
    caps.get(1).or(caps.get(2)).map(|m| m.as_str().to_string())
}

/// The host (and port) of a URL, without scheme, path or user info: prose and evidence
/// name a server by it, and a proxy URL's `user:password@` must never reach them.
pub fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    authority.rsplit_once('@').map_or(authority, |(_, host)| host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_and_host() {
        assert_eq!(subject("go: corp.example/lib@v1.0.0: reading x").as_deref(), Some("corp.example/lib@v1.0.0"));
        for public in
            ["proxy.golang.org", "https://proxy.golang.org/x/@v/list", "https://Proxy.Golang.org:443/x", "goproxy.cn."]
        {
            assert!(is_public_proxy(public), "{public}");
        }
        for own in ["https://proxy.corp.example/x", "127.0.0.1:8081", "https://proxy.golang.org.corp.example/x"] {
            assert!(!is_public_proxy(own), "{own}");
        }
        assert_eq!(subject("corp.example/lib@v1.0.0: reading x").as_deref(), Some("corp.example/lib@v1.0.0"));
        assert_eq!(subject("go: module corp.example/lib: reading x").as_deref(), Some("corp.example/lib"));
        assert_eq!(subject("zip: not a valid zip file"), None);
        assert_eq!(url_host("https://proxy.corp.example/a/@v/list"), "proxy.corp.example");
        assert_eq!(url_host("http://alice:s3cret@squid.corp.example:3128"), "squid.corp.example:3128");
    }
}
