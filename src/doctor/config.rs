//! The configuration that decides how go downloads, as the user's go sees it: `go env
//! -json` (environment, `go env -w` file and GOROOT/go.env combined), what differs from
//! the defaults (`go env -changed`, go >= 1.23), the variables go reads that `go env`
//! does not show (forward proxies, trust, `.netrc`, git), and where the module cache is.
//! Credentials in URLs are masked before anything is shown or serialised.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The `go env` settings a download depends on, shown even when they have their default.
pub const GO_SETTINGS: &[&str] = &[
    "GOPROXY",
    "GONOPROXY",
    "GOPRIVATE",
    "GOSUMDB",
    "GONOSUMDB",
    "GOINSECURE",
    "GOAUTH",
    "GOVCS",
    "GOFLAGS",
    "GOTOOLCHAIN",
    "GOMODCACHE",
    "GOENV",
    "GOMOD",
    "GOWORK",
];

/// Variables go (or git under it) reads that `go env` does not report.
pub const PROCESS_VARS: &[&str] = &[
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NETRC",
    "GODEBUG",
    "GIT_TERMINAL_PROMPT",
    "GIT_SSH_COMMAND",
    "GIT_ASKPASS",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_NOSYSTEM",
    "GIT_SSL_CAINFO",
    "GIT_SSL_NO_VERIFY",
    "HOME",
];

/// One setting in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setting {
    /// The variable.
    pub name: String,
    /// Its value (credentials masked).
    pub value: String,
    /// `go env` (effective, as go resolved it) or `environment` (this process's).
    pub source: SettingSource,
    /// `go env -changed` lists it: it differs from go's default.
    pub changed: bool,
}

/// Where a setting's value was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingSource {
    /// `go env -json`.
    GoEnv,
    /// The environment go was started with.
    Environment,
}

/// `value` with its secrets masked (`crate::redact`): a URL password shows as `xxxxx`, as go's own
/// `url.Redacted` writes it (`https://user:xxxxx@host`).
pub fn redact(value: &str) -> String {
    crate::redact::text(value)
}

/// `go env -json` printed something else than a JSON object.
#[derive(Debug, thiserror::Error)]
#[error("go env -json printed no JSON object: {0}")]
pub struct NotGoEnv(#[from] serde_json::Error);

/// Parses `go env -json` output: an object of strings (anything else kept as its JSON).
pub fn parse_go_env(stdout: &str) -> Result<BTreeMap<String, String>, NotGoEnv> {
    let map: BTreeMap<String, serde_json::Value> = serde_json::from_str(stdout.trim())?;
    Ok(map
        .into_iter()
        .map(|(k, v)| {
            let value = match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            (k, redact(&value))
        })
        .collect())
}

/// The relevant variables of `env` (the environment go was started with), masked:
/// every `GO…` and `GIT_…` variable and [`PROCESS_VARS`]. Empty ones are left out: go
/// treats them as unset (`GOPROXY=` means the default, which `go env` reports), and the
/// diagnosis prefers these values to `go env`'s.
pub fn relevant_env(env: &BTreeMap<String, String>) -> Vec<(String, String)> {
    env.iter()
        .filter(|(k, v)| {
            !v.is_empty() && (k.starts_with("GO") || k.starts_with("GIT_") || PROCESS_VARS.contains(&k.as_str()))
        })
        .map(|(k, v)| (k.clone(), redact(v)))
        .collect()
}

/// The settings to show: [`GO_SETTINGS`] and every changed one from `go env`, then the
/// [`PROCESS_VARS`] that are set.
pub fn settings(
    go_env: Option<&BTreeMap<String, String>>,
    changed: Option<&BTreeMap<String, String>>,
    env: &[(String, String)],
) -> Vec<Setting> {
    let is_changed = |name: &str| changed.is_some_and(|c| c.contains_key(name));
    let mut out = Vec::new();
    if let Some(go_env) = go_env {
        let mut names: Vec<&str> = GO_SETTINGS.to_vec();
        for name in changed.into_iter().flat_map(|c| c.keys()) {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
        for name in names {
            if let Some(value) = go_env.get(name) {
                out.push(Setting {
                    name: name.to_string(),
                    value: value.clone(),
                    source: SettingSource::GoEnv,
                    changed: is_changed(name),
                });
            }
        }
    }
    for (name, value) in env {
        let shown = out.iter().any(|s| s.name == *name);
        if !shown && (PROCESS_VARS.contains(&name.as_str()) || go_env.is_none()) {
            out.push(Setting {
                name: name.clone(),
                value: value.clone(),
                source: SettingSource::Environment,
                changed: is_changed(name),
            });
        }
    }
    out
}

/// The module cache go uses: `GOMODCACHE` from `go env`, else as go derives it from the
/// environment (`GOMODCACHE`, the first `GOPATH` entry + `/pkg/mod`, `$HOME/go/pkg/mod`).
pub fn module_cache(go_env: Option<&BTreeMap<String, String>>, env: &BTreeMap<String, String>) -> Option<PathBuf> {
    let set = |map: &BTreeMap<String, String>, key: &str| map.get(key).filter(|v| !v.is_empty()).cloned();
    if let Some(dir) = go_env.and_then(|g| set(g, "GOMODCACHE")) {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = set(env, "GOMODCACHE") {
        return Some(PathBuf::from(dir));
    }
    if let Some(gopath) = set(env, "GOPATH") {
        let first = std::env::split_paths(&gopath).next()?;
        return Some(first.join("pkg/mod"));
    }
    set(env, "HOME").map(|home| Path::new(&home).join("go/pkg/mod"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_masked_as_go_does() {
        assert_eq!(
            redact("https://alice:s3cr3t@proxy.corp.example/go,https://mirror.example|direct"),
            "https://alice:xxxxx@proxy.corp.example/go,https://mirror.example|direct"
        );
        assert_eq!(redact("http://bob:p%40ss@10.0.0.1:3128"), "http://bob:xxxxx@10.0.0.1:3128");
        // A user without password, and text without URLs, stay as they are.
        assert_eq!(redact("https://token@proxy.example"), "https://xxxxx@proxy.example");
        assert_eq!(redact("-mod=mod -modcacherw"), "-mod=mod -modcacherw");
    }

    #[test]
    fn go_env_json_is_read_and_masked() {
        let env = parse_go_env("{\n\t\"GOPROXY\": \"https://u:p@x.example\",\n\t\"CGO_ENABLED\": \"0\"\n}\n").unwrap();
        assert_eq!(env["GOPROXY"], "https://u:xxxxx@x.example");
        assert_eq!(env["CGO_ENABLED"], "0");
        assert!(parse_go_env("go: unknown flag").is_err());
    }

    #[test]
    fn settings_list_the_download_ones_and_the_changed_ones() {
        let go_env: BTreeMap<String, String> = [("GOPROXY", "https://p.example"), ("GOFLAGS", ""), ("CC", "clang")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let changed: BTreeMap<String, String> = [("CC".to_string(), "clang".to_string())].into();
        let env = vec![("HTTPS_PROXY".to_string(), "http://proxy:3128".to_string()), ("GOPROXY".into(), "x".into())];
        let shown = settings(Some(&go_env), Some(&changed), &env);
        let names: Vec<(&str, bool)> = shown.iter().map(|s| (s.name.as_str(), s.changed)).collect();
        assert_eq!(names, [("GOPROXY", false), ("GOFLAGS", false), ("CC", true), ("HTTPS_PROXY", false)]);
        assert_eq!(shown[0].value, "https://p.example", "go env's effective value wins");
        // Without go env, the environment's GO variables are all there is.
        let shown = settings(None, None, &env);
        assert_eq!(shown.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["HTTPS_PROXY", "GOPROXY"]);
    }

    #[test]
    fn only_set_variables_go_reads_are_relevant() {
        let env: BTreeMap<String, String> = [
            ("GOPROXY", ""),
            ("GOFLAGS", "-mod=mod"),
            ("HTTPS_PROXY", "http://u:p@fw:3128"),
            ("GIT_SSH_COMMAND", "ssh -v"),
            ("EDITOR", "vi"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let names: Vec<(String, String)> = relevant_env(&env);
        let expected =
            [("GIT_SSH_COMMAND", "ssh -v"), ("GOFLAGS", "-mod=mod"), ("HTTPS_PROXY", "http://u:xxxxx@fw:3128")];
        assert_eq!(names, expected.map(|(k, v)| (k.to_string(), v.to_string())));
    }

    #[test]
    fn the_module_cache_is_found_as_go_finds_it() {
        let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        let env = map(&[("HOME", "/home/u"), ("GOPATH", "/gp1:/gp2")]);
        assert_eq!(module_cache(None, &env), Some(PathBuf::from("/gp1/pkg/mod")));
        assert_eq!(module_cache(None, &map(&[("HOME", "/home/u")])), Some(PathBuf::from("/home/u/go/pkg/mod")));
        let go_env = map(&[("GOMODCACHE", "/cache")]);
        assert_eq!(module_cache(Some(&go_env), &env), Some(PathBuf::from("/cache")));
        assert_eq!(module_cache(None, &BTreeMap::new()), None);
    }
}
