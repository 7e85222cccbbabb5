//! One redaction for every output (terminal, JSON journal, JUnit, `diagnose`, `repro`,
//! `doctor`, validation problems): credentials become `xxxxx`, as go itself writes a
//! URL's password. What is masked:
//!
//! - the user info of URLs: `https://user:PASSWORD@host` keeps the user, a token alone
//!   (`https://TOKEN@github.com`, in a git credential URL or an `insteadOf`) is masked
//!   whole; `ssh://git@host` is left alone (ssh keys are never in URLs);
//! - the same in proxy settings without a scheme (`HTTPS_PROXY=user:PASSWORD@proxy:3128`);
//! - the values of `Authorization` and `Proxy-Authorization` (a GOAUTH command's output,
//!   a header in a log), keeping the scheme word (`Basic xxxxx`);
//! - `.netrc` passwords (`machine h login l password P`) and `password:`, `token=`,
//!   `secret:`, `api_key=`-style settings, in YAML, shell or log form;
//! - well-known token formats (GitHub `ghp_…`, `github_pat_…`, GitLab `glpat-…`);
//! - in JSON, the values of keys that name a secret (`"password"`, `"Authorization"`);
//! - every secret a [`Redactor`] is told of (a scenario's declared passwords), wherever
//!   it shows, whatever surrounds it.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::{Captures, Regex};

/// What a secret is replaced by (go's own mask for URL passwords).
pub const MASK: &str = "xxxxx";

/// Shorter secrets are masked only where a pattern finds them: masking every `pw` in a
/// report would garble it.
pub const MIN_KNOWN_SECRET: usize = 4;

/// Masks secrets: the patterns above, and the exact secrets it was told of.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Secrets masked wherever they appear, longest first.
    known: Vec<String>,
}

impl Redactor {
    /// A redactor that also masks each of `secrets` (at least [`MIN_KNOWN_SECRET`] long)
    /// wherever it appears.
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Redactor {
        let mut known: Vec<String> = secrets.into_iter().filter(|s| s.chars().count() >= MIN_KNOWN_SECRET).collect();
        known.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        known.dedup();
        Redactor { known }
    }

    /// `text` with every secret masked.
    pub fn text(&self, text: &str) -> String {
        let mut out = patterns(text).into_owned();
        for secret in &self.known {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MASK);
            }
        }
        out
    }

    /// Masks every secret in `value`: each string, and the values of keys naming a
    /// secret.
    pub fn json(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) => {
                let masked = self.text(s);
                if masked != *s {
                    *s = masked;
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.json(v)),
            serde_json::Value::Object(map) => {
                for (key, v) in map.iter_mut() {
                    match (secret_key(key), v.as_str()) {
                        (Some(KeyKind::Header), Some(s)) => *v = serde_json::Value::String(mask_header_value(s)),
                        (Some(KeyKind::Secret), Some(s)) if !s.is_empty() && s != MASK => {
                            *v = serde_json::Value::String(MASK.into())
                        }
                        _ => self.json(v),
                    }
                }
            }
            _ => {}
        }
    }
}

/// `text` with every secret the patterns find masked.
pub fn text(text: &str) -> String {
    patterns(text).into_owned()
}

/// `value` with every secret the patterns and JSON keys find masked.
pub fn json(value: &mut serde_json::Value) {
    Redactor::default().json(value)
}

/// The secrets in the URLs of `value`: each password of a user info, or a user info
/// that is a token alone. For telling a [`Redactor`] what a configuration holds.
pub fn url_secrets(value: &str) -> Vec<String> {
    USERINFO
        .captures_iter(value)
        .filter_map(|c| {
            let info = &c[2];
            match info.split_once(':') {
                Some((_, password)) => Some(password.to_string()),
                None if !keeps_user_alone(&c[1]) => Some(info.to_string()),
                None => None,
            }
        })
        .filter(|s| !s.is_empty() && s != MASK)
        .collect()
}

/// `scheme://` followed by user info and `@`.
static USERINFO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)(?-u:\b)([a-z][a-z0-9+.-]{0,15}://)([^\s/?#@"'<>`]+)@"#).expect("userinfo pattern compiles")
});

/// Whether a user alone in a URL of this scheme is a name, not a token (`ssh://git@…`).
fn keeps_user_alone(scheme: &str) -> bool {
    let scheme = scheme.trim_end_matches("://").to_ascii_lowercase();
    scheme == "ssh" || scheme.ends_with("+ssh") || scheme == "git"
}

fn patterns(text: &str) -> Cow<'_, str> {
    static PROXY_SETTING: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?i)(?-u:\b)((?:https?|all|ftp)_proxy["']?\s*[=:]\s*["']?)([^\s:@/"']+):([^\s@/"']+)@"#)
            .expect("proxy setting pattern compiles")
    });
    // `user:password@host` without a scheme (proxy values, prose quoting them); the host
    // must look like a domain or an IPv4 address, so `module@v1.2.3` is not taken for one,
    // and the password holds no backslash, so a Windows path into the module cache
    // (`C:\Users\dev\go\pkg\mod\…\aws-sdk-go@v1.44.100.tmp-1`) is not one either.
    static BARE_USERINFO: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?i)(?-u:\b)([a-z0-9._~%!$&*+;=-]+):([^\s@/\\:"'<>`]+)@([a-z0-9][a-z0-9.-]*\.[a-z]{2,}(?-u:\b)|[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?-u:\b))"#)
            .expect("bare userinfo pattern compiles")
    });
    static HEADER: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?i)(?-u:\b)((?:proxy-)?authorization["']?\s*[:=]\s*["']?)((?:basic|bearer|token|digest|negotiate|ntlm|aws4-hmac-sha256)\s+)?([^\s"',]+)"#)
            .expect("header pattern compiles")
    });
    static NETRC_PASSWORD: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?i)(?-u:\b)(login\s+\S+\s+password\s+)(\S+)").expect("netrc pattern compiles"));
    static SETTING: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?i)(?-u:\b)((?:[a-z0-9]+[_-])?(?:password|passwd|token|secret|api[_-]?key)["']?\s*[:=]\s*["']?)([^\s"',}\]]+)"#)
            .expect("setting pattern compiles")
    });
    static TOKEN: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?-u:\b)(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{20,})")
            .expect("token pattern compiles")
    });
    let mut out = Cow::Borrowed(text);
    let mut apply = |re: &Regex, f: &dyn Fn(&Captures<'_>) -> String| {
        if re.is_match(&out) {
            out = Cow::Owned(re.replace_all(&out, |c: &Captures<'_>| f(c)).into_owned());
        }
    };
    apply(&USERINFO, &|c| match c[2].split_once(':') {
        Some((user, _)) => format!("{}{user}:{MASK}@", &c[1]),
        None if keeps_user_alone(&c[1]) || &c[2] == MASK => c[0].to_string(),
        None => format!("{}{MASK}@", &c[1]),
    });
    apply(&PROXY_SETTING, &|c| format!("{}{}:{MASK}@", &c[1], &c[2]));
    apply(&BARE_USERINFO, &|c| match &c[2] {
        MASK => c[0].to_string(),
        _ => format!("{}:{MASK}@{}", &c[1], &c[3]),
    });
    apply(&HEADER, &|c| format!("{}{}{MASK}", &c[1], c.get(2).map_or("", |m| m.as_str())));
    apply(&NETRC_PASSWORD, &|c| masked_value(c));
    apply(&SETTING, &|c| masked_value(c));
    apply(&TOKEN, &|_| MASK.to_string());
    out
}

/// A `key: value` match with the value masked, unless it is no secret: a playbook's
/// `${parameter}`, or already masked.
fn masked_value(c: &Captures<'_>) -> String {
    let value = &c[2];
    if value.starts_with("${") || value == MASK || value.starts_with(MASK) {
        return c[0].to_string();
    }
    format!("{}{MASK}", &c[1])
}

/// What a JSON key says its value is.
enum KeyKind {
    /// An HTTP header value with its scheme word.
    Header,
    /// A secret as a whole.
    Secret,
}

fn secret_key(key: &str) -> Option<KeyKind> {
    let key = key.to_ascii_lowercase().replace('-', "_");
    match key.as_str() {
        "authorization" | "proxy_authorization" => Some(KeyKind::Header),
        "password" | "passwd" | "token" | "secret" | "api_key" | "apikey" | "access_token" | "client_secret" => {
            Some(KeyKind::Secret)
        }
        _ => None,
    }
}

/// A header value (`Basic dXNlcjpwYXNz`) with the credential masked.
fn mask_header_value(value: &str) -> String {
    match value.trim().split_once(char::is_whitespace) {
        Some((scheme, _)) => format!("{scheme} {MASK}"),
        None if value.is_empty() => String::new(),
        None => MASK.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_user_info_keeps_the_user_and_masks_the_password() {
        assert_eq!(
            text("GOPROXY=https://alice:s3cr3t@proxy.corp.example/go,https://mirror.example|direct"),
            "GOPROXY=https://alice:xxxxx@proxy.corp.example/go,https://mirror.example|direct"
        );
        assert_eq!(text("http://bob:p%40ss@10.0.0.1:3128"), "http://bob:xxxxx@10.0.0.1:3128");
        assert_eq!(text("https://ghx-token-abc@github.com/o/r"), "https://xxxxx@github.com/o/r");
        assert_eq!(
            text("url.https://x-access-token:abcdef@github.com/.insteadOf https://github.com/"),
            "url.https://x-access-token:xxxxx@github.com/.insteadOf https://github.com/"
        );
        assert_eq!(text("ssh://git@github.com/o/r git@github.com:o/r"), "ssh://git@github.com/o/r git@github.com:o/r");
        assert_eq!(text("-mod=mod -modcacherw"), "-mod=mod -modcacherw");
    }

    #[test]
    fn proxy_settings_headers_netrc_and_tokens() {
        assert_eq!(text("HTTPS_PROXY=ci:hunter22@fw.corp:3128"), "HTTPS_PROXY=ci:xxxxx@fw.corp:3128");
        assert_eq!(
            text("the proxy ci:hunter22@fw.corp.example:3128 wants"),
            "the proxy ci:xxxxx@fw.corp.example:3128 wants"
        );
        assert_eq!(text("via bob:pw1@10.0.0.1:80"), "via bob:xxxxx@10.0.0.1:80");
        assert_eq!(text("go get corp.example/lib@v1.2.3 at 10:00:02"), "go get corp.example/lib@v1.2.3 at 10:00:02");
        let windows = r"rename C:\Users\dev\go\pkg\mod\github.com\aws\aws-sdk-go@v1.44.100.tmp-12345 C:\x";
        assert_eq!(text(windows), windows, "a Windows path into the module cache is no credential");
        assert_eq!(text("https_proxy: 'ci:hunter22@fw.corp:3128'"), "https_proxy: 'ci:xxxxx@fw.corp:3128'");
        assert_eq!(text("Authorization: Basic Y2k6aHVudGVyMg=="), "Authorization: Basic xxxxx");
        assert_eq!(text("Proxy-Authorization: Bearer abc.def"), "Proxy-Authorization: Bearer xxxxx");
        assert_eq!(
            text("machine proxy.corp.example login ci password hunter22"),
            "machine proxy.corp.example login ci password xxxxx"
        );
        assert_eq!(text("{user: ci, password: hunter22}"), "{user: ci, password: xxxxx}");
        assert_eq!(text("password: \"${password}\""), "password: \"${password}\"");
        assert_eq!(text("GITHUB_TOKEN=abc123 api_key: zzz"), "GITHUB_TOKEN=xxxxx api_key: xxxxx");
        let pat = format!("ghp_{}", "a".repeat(36));
        assert_eq!(text(&format!("token {pat} used")), "token xxxxx used");
        assert_eq!(text("tests pass; the token expired"), "tests pass; the token expired");
        assert_eq!(text("the .netrc has no password for it"), "the .netrc has no password for it");
    }

    #[test]
    fn known_secrets_are_masked_anywhere_and_json_keys_too() {
        let r = Redactor::new(["s3cret-val".to_string(), "pw".to_string()]);
        assert_eq!(r.text("auth ci/s3cret-val; pw stays"), "auth ci/xxxxx; pw stays");
        let mut v = serde_json::json!({
            "env": ["HTTPS_PROXY=http://u:p4ss@proxy:3128"],
            "auth": {"user": "ci", "password": "hunter22"},
            "headers": {"Authorization": "Bearer abc"},
            "note": "s3cret-val",
        });
        r.json(&mut v);
        assert_eq!(
            v,
            serde_json::json!({
                "env": ["HTTPS_PROXY=http://u:xxxxx@proxy:3128"],
                "auth": {"user": "ci", "password": "xxxxx"},
                "headers": {"Authorization": "Bearer xxxxx"},
                "note": "xxxxx",
            })
        );
        assert_eq!(url_secrets("https://a:b1@x,https://tok@y,ssh://git@z"), ["b1", "tok"]);
    }
}
