//! Finding the hosts an environment value refers to. Validation uses it to reject
//! references to undeclared hosts (which would leave the sandbox); the open-mode host
//! map uses it to rewrite declared hosts to their loopback addresses.

mod scan;

use std::ops::Range;

/// A host reference inside a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlRef {
    /// Byte range of the scheme (`https`), `None` when implied.
    pub scheme_range: Option<Range<usize>>,
    /// Byte range of `host[:port]` within the value (user info excluded).
    pub authority: Range<usize>,
    /// `http` or `https` (`https` when implied).
    pub scheme: String,
    /// Host name or address, lower case, without brackets.
    pub host: String,
    /// Explicit port, when it is at most 65535.
    pub port: Option<u16>,
    /// Byte range of the port's digits as written, any number (validation refuses 0 and
    /// numbers above 65535, which `port` cannot hold).
    pub port_range: Option<Range<usize>>,
    /// True for a GOPROXY entry without scheme, which go treats as `https://`.
    pub implicit_scheme: bool,
}

impl UrlRef {
    /// True for loopback addresses and `localhost`, which never leave the machine.
    pub fn is_loopback(&self) -> bool {
        self.host == "localhost" || self.host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }
}

/// Every host reference in the value of variable `var`. GOPROXY entries without a
/// scheme and GOSUMDB names count as https references, as go treats them.
pub fn find(var: &str, value: &str) -> Vec<UrlRef> {
    match var {
        "GOPROXY" => goproxy_refs(value),
        "GOSUMDB" => gosumdb_refs(value),
        _ if crate::vocab::proxyenv::is_proxy_var(var) => proxy_refs(value),
        _ => explicit_urls(value, 0),
    }
}

/// A proxy variable's one URL, with any scheme (`socks5://`), or none: go and curl take
/// `host:port` as `http://host:port`.
fn proxy_refs(value: &str) -> Vec<UrlRef> {
    let Some(m) = scan::proxy_value(value) else { return Vec::new() };
    vec![UrlRef {
        scheme_range: m.scheme.clone(),
        authority: m.host.start..m.end(),
        scheme: m.scheme.clone().map_or("http".to_string(), |s| value[s].to_ascii_lowercase()),
        host: m.host_name(value),
        port: m.port(value),
        port_range: m.port.clone(),
        implicit_scheme: m.scheme.is_none(),
    }]
}

fn explicit_urls(text: &str, base: usize) -> Vec<UrlRef> {
    scan::urls(text)
        .map(|m| {
            let scheme = m.scheme.clone().expect("an explicit URL has a scheme");
            UrlRef {
                scheme_range: Some(base + scheme.start..base + scheme.end),
                authority: base + m.host.start..base + m.end(),
                scheme: text[scheme].to_ascii_lowercase(),
                host: m.host_name(text),
                port: m.port(text),
                port_range: m.port.clone().map(|p| base + p.start..base + p.end),
                implicit_scheme: false,
            }
        })
        .collect()
}

fn goproxy_refs(value: &str) -> Vec<UrlRef> {
    let mut refs = Vec::new();
    let mut start = 0;
    for piece in value.split([',', '|']) {
        let trimmed = piece.trim();
        let offset = start + (piece.len() - piece.trim_start().len());
        start += piece.len() + 1;
        if trimmed.is_empty() || trimmed == "direct" || trimmed == "off" || trimmed.starts_with("file://") {
            continue;
        }
        if trimmed.contains("://") {
            refs.extend(explicit_urls(trimmed, offset));
        } else if let Some(m) = scan::bare_host(trimmed) {
            refs.push(UrlRef {
                scheme_range: None,
                authority: offset + m.host.start..offset + m.end(),
                scheme: "https".into(),
                host: m.host_name(trimmed),
                port: m.port(trimmed),
                port_range: m.port.clone().map(|p| offset + p.start..offset + p.end),
                implicit_scheme: true,
            });
        }
    }
    refs
}

fn gosumdb_refs(value: &str) -> Vec<UrlRef> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed == "off" {
        return Vec::new();
    }
    let urls = explicit_urls(value, 0);
    if !urls.is_empty() {
        return urls;
    }
    // A bare name (optionally with its key): go contacts https://<name>.
    let offset = value.len() - value.trim_start().len();
    let name = trimmed.split(['+', ' ']).next().unwrap_or_default();
    vec![UrlRef {
        scheme_range: None,
        authority: offset..offset + name.len(),
        scheme: "https".into(),
        host: name.to_ascii_lowercase(),
        port: None,
        port_range: None,
        implicit_scheme: true,
    }]
}

/// Splits a GOPROXY value into entries with the separator that follows each (`,`, `|`,
/// or `None` for the last).
pub fn goproxy_entries(value: &str) -> Vec<(String, Option<char>)> {
    let mut entries = Vec::new();
    let mut current = String::new();
    for c in value.chars() {
        if c == ',' || c == '|' {
            entries.push((current.trim().to_string(), Some(c)));
            current.clear();
        } else {
            current.push(c);
        }
    }
    entries.push((current.trim().to_string(), None));
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(var: &str, value: &str) -> Vec<(String, Option<u16>, bool)> {
        find(var, value).into_iter().map(|r| (r.host, r.port, r.implicit_scheme)).collect()
    }

    #[test]
    fn goproxy_lists_with_both_separators() {
        let value = "https://proxy.corp.example/go,mirror.corp.example:8443|direct";
        let refs = find("GOPROXY", value);
        assert_eq!(refs.len(), 2);
        assert_eq!(&value[refs[0].authority.clone()], "proxy.corp.example");
        assert_eq!(&value[refs[0].scheme_range.clone().unwrap()], "https");
        assert_eq!(&value[refs[1].authority.clone()], "mirror.corp.example:8443");
        assert!(refs[1].implicit_scheme);
        assert_eq!(refs[1].port, Some(8443));
        assert!(find("GOPROXY", "off").is_empty());
        assert!(find("GOPROXY", "file:///tmp/x,direct").is_empty());
        // go 1.26 reads `[::1]:9` as https://[::1]:9 (checked with `go mod download -x`).
        assert_eq!(hosts("GOPROXY", "[2606:4700::1111]:443"), [("2606:4700::1111".into(), Some(443), true)]);
    }

    #[test]
    fn gosumdb_names_and_urls() {
        assert_eq!(hosts("GOSUMDB", "sum.golang.org"), [("sum.golang.org".into(), None, true)]);
        assert_eq!(
            hosts("GOSUMDB", "sum.corp.example+abcd+AQ== https://sumdb.corp.example"),
            [("sumdb.corp.example".into(), None, false)]
        );
        assert!(hosts("GOSUMDB", "off").is_empty());
    }

    #[test]
    fn urls_anywhere_in_other_variables() {
        assert_eq!(
            hosts("HTTPS_PROXY", "http://user:pw@corp-proxy.example"),
            [("corp-proxy.example".into(), None, false)]
        );
        assert_eq!(
            hosts("HTTPS_PROXY", "http://corp-proxy.example:3128"),
            [("corp-proxy.example".into(), Some(3128), false)]
        );
        assert!(find("HTTPS_PROXY", "http://127.0.0.1:9")[0].is_loopback());
    }

    #[test]
    fn proxy_variables_name_a_host_with_or_without_a_scheme() {
        // go and curl read `host:port` as http://host:port: it leaves the sandbox all the same.
        assert_eq!(hosts("HTTPS_PROXY", "1.1.1.1:80"), [("1.1.1.1".into(), Some(80), true)]);
        assert_eq!(find("https_proxy", "squid.example:3128")[0].scheme, "http");
        assert_eq!(
            hosts("ALL_PROXY", "socks5://u:p@93.184.216.34:1080"),
            [("93.184.216.34".into(), Some(1080), false)]
        );
        assert_eq!(hosts("HTTP_PROXY", "http://[2606:4700::1111]:80"), [("2606:4700::1111".into(), Some(80), false)]);
        assert!(find("HTTPS_PROXY", "").is_empty());
    }

    #[test]
    fn entries_keep_their_separators() {
        assert_eq!(
            goproxy_entries("a,b|c"),
            [("a".to_string(), Some(',')), ("b".to_string(), Some('|')), ("c".to_string(), None)]
        );
    }
}
