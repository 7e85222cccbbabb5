//! The scanners behind [`super::find`]: URLs anywhere in a value, a proxy variable's one
//! URL, a GOPROXY entry without a scheme. Written by hand rather than as regexes: the
//! patterns need bounded repetitions (a host has at most 253 characters, user info at
//! most 1,024, so that a value of megabytes stays a linear scan), and the regex crate
//! compiled those into automata in 11–17 ms — paid again by every sealed child, which
//! validates its scenario afresh, and more than half of a sealed world's start.
//!
//! Host names are ASCII (as DNS names are): letters, digits, `.` and `-`.

use std::ops::Range;

/// Most characters of user info (`user:password@`) before the `@`.
const MAX_USERINFO: usize = 1024;
/// Most bytes of a host name.
const MAX_NAME: usize = 253;
/// Most characters between an IPv6 literal's brackets.
const MAX_BRACKETED: usize = 64;
/// Most digits of a port read: more than a port has (five), so that validation sees a
/// six-digit number whole and refuses it, rather than the first five digits of it.
const MAX_PORT_DIGITS: usize = 10;
/// Most characters of a proxy URL's scheme (`socks5h`).
const MAX_SCHEME: usize = 16;

/// One host reference: byte ranges into the scanned text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Match {
    /// The scheme, when written.
    pub scheme: Option<Range<usize>>,
    /// The host, brackets included for an IPv6 literal.
    pub host: Range<usize>,
    /// The port's digits, when written.
    pub port: Option<Range<usize>>,
}

impl Match {
    /// Where `host[:port]` ends.
    pub fn end(&self) -> usize {
        self.port.as_ref().map_or(self.host.end, |p| p.end)
    }

    /// The host in lower case, without brackets.
    pub fn host_name(&self, text: &str) -> String {
        text[self.host.clone()].trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase()
    }

    /// The port, when written and at most 65535.
    pub fn port(&self, text: &str) -> Option<u16> {
        self.port.clone().and_then(|p| text[p].parse().ok())
    }
}

/// Every `http://` or `https://` URL in `text` (any case, starting at a word boundary),
/// left to right, not overlapping.
pub(super) fn urls(text: &str) -> impl Iterator<Item = Match> + '_ {
    let bytes = text.as_bytes();
    let mut from = 0;
    std::iter::from_fn(move || {
        while from < bytes.len() {
            let at = from;
            from += 1;
            let Some(scheme_end) = http_scheme_at(bytes, at) else { continue };
            let Some((host, port)) = authority_at(text, scheme_end + 3) else { continue };
            let found = Match { scheme: Some(at..scheme_end), host, port };
            from = found.end();
            return Some(found);
        }
        None
    })
}

/// A proxy variable's value: `[scheme://][userinfo@]host[:port]` after any leading
/// white space; go and curl read a value without a scheme as `http://`.
pub(super) fn proxy_value(text: &str) -> Option<Match> {
    let start = text.len() - text.trim_start().len();
    let bytes = text.as_bytes();
    let scheme = scheme_at(bytes, start).filter(|s| bytes[s.end..].starts_with(b"://"));
    if let Some(scheme) = scheme
        && let Some((host, port)) = authority_at(text, scheme.end + 3)
    {
        return Some(Match { scheme: Some(scheme), host, port });
    }
    let (host, port) = authority_at(text, start)?;
    Some(Match { scheme: None, host, port })
}

/// A GOPROXY entry without a scheme: `host[:port]`, then `/` or the end (go reads it as
/// `https://host[:port]…`, an IPv6 literal in brackets too).
pub(super) fn bare_host(text: &str) -> Option<Match> {
    let bytes = text.as_bytes();
    let host = host_at(bytes, 0)?;
    let port = port_at(bytes, host.end);
    let end = port.as_ref().map_or(host.end, |p| p.end);
    matches!(bytes.get(end), None | Some(b'/')).then_some(Match { scheme: None, host, port })
}

/// Where `http` or `https` ends when it starts at `at`, at a word boundary, and `://`
/// follows.
fn http_scheme_at(bytes: &[u8], at: usize) -> Option<usize> {
    let word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    if at > 0 && word(&bytes[at - 1]) {
        return None;
    }
    let rest = bytes.get(at..)?;
    if !rest.get(..4)?.eq_ignore_ascii_case(b"http") {
        return None;
    }
    let end = at + 4 + usize::from(rest.get(4).is_some_and(|b| b.eq_ignore_ascii_case(&b's')));
    bytes[end..].starts_with(b"://").then_some(end)
}

/// A URL scheme at `at`: a letter, then letters, digits, `+`, `.` or `-`.
fn scheme_at(bytes: &[u8], at: usize) -> Option<Range<usize>> {
    if !bytes.get(at)?.is_ascii_alphabetic() {
        return None;
    }
    let len = bytes[at..]
        .iter()
        .take(MAX_SCHEME + 1)
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-'))
        .count();
    // A longer run cannot be followed by `://` within the limit.
    (len <= MAX_SCHEME).then_some(at..at + len)
}

/// `[userinfo@]host[:port]` at `at`. As go's `url.Parse` does, user info runs to the
/// last `@` of the authority (`https://a@declared.example@other.example` is
/// other.example); an `@` after which no host can follow gives way to an earlier one,
/// and to no user info at all.
fn authority_at(text: &str, at: usize) -> Option<(Range<usize>, Option<Range<usize>>)> {
    let bytes = text.as_bytes();
    let host = userinfo_ends(text, at)
        .into_iter()
        .rev()
        .find_map(|after| host_at(bytes, after))
        .or_else(|| host_at(bytes, at))?;
    let port = port_at(bytes, host.end);
    Some((host, port))
}

/// Where user info could end when it starts at `at`: after each `@` that follows 1 to
/// 1,024 characters of the authority (which ends at `/`, `?`, `#` or white space).
fn userinfo_ends(text: &str, at: usize) -> Vec<usize> {
    let mut ends = Vec::new();
    for (count, (offset, c)) in text.get(at..).unwrap_or_default().char_indices().enumerate() {
        if count > MAX_USERINFO || matches!(c, '/' | '?' | '#') || c.is_whitespace() {
            break;
        }
        if c == '@' && count > 0 {
            ends.push(at + offset + 1);
        }
    }
    ends
}

/// A host at `at`: `[` up to 64 hex digits, `:` and `.` `]`, or a name of letters,
/// digits, `.` and `-` that starts and ends with a letter or digit (the longest one, up
/// to 253 bytes).
fn host_at(bytes: &[u8], at: usize) -> Option<Range<usize>> {
    let first = *bytes.get(at)?;
    if first == b'[' {
        let inside = bytes[at + 1..]
            .iter()
            .take(MAX_BRACKETED + 1)
            .take_while(|b| b.is_ascii_hexdigit() || matches!(b, b':' | b'.'))
            .count();
        let closed = (1..=MAX_BRACKETED).contains(&inside) && bytes.get(at + 1 + inside) == Some(&b']');
        return closed.then_some(at..at + inside + 2);
    }
    if !first.is_ascii_alphanumeric() {
        return None;
    }
    let run = &bytes[at..];
    let run =
        &run[..run.iter().take(MAX_NAME).take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-')).count()];
    let len = run.iter().rposition(u8::is_ascii_alphanumeric).map_or(1, |last| last + 1);
    Some(at..at + len)
}

/// A port's digits after the `:` at `at` (up to [`MAX_PORT_DIGITS`]; more are left unread).
fn port_at(bytes: &[u8], at: usize) -> Option<Range<usize>> {
    if bytes.get(at) != Some(&b':') {
        return None;
    }
    let digits = bytes[at + 1..].iter().take(MAX_PORT_DIGITS).take_while(|b| b.is_ascii_digit()).count();
    (digits > 0).then_some(at + 1..at + 1 + digits)
}

#[cfg(test)]
mod tests {
    //! The scanners against the regexes they replace (kept here as the reference), on
    //! generated values: same matches, same ranges.

    use super::*;
    use proptest::prelude::*;
    use regex::Regex;

    // The old patterns stopped user info at the first `@` (`[^@/\s]`); go's url.Parse
    // takes the last one of the authority, and so do the scanners.
    const USERINFO: &str = r"(?:[^/?#\s]{1,1024}@)?";
    const HOST_PORT: &str = r"(\[[0-9a-f:.]{1,64}\]|[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?)(?::([0-9]{1,10}))?";

    struct Reference {
        url: Regex,
        proxy: Regex,
        bare: Regex,
    }

    fn reference() -> &'static Reference {
        static REFERENCE: std::sync::LazyLock<Reference> = std::sync::LazyLock::new(|| Reference {
            url: Regex::new(&format!(r"(?i)(?-u:\b)(https?)://{USERINFO}{HOST_PORT}")).unwrap(),
            proxy: Regex::new(&format!(r"(?i)^\s*(?:([a-z][a-z0-9+.-]{{0,15}})://)?{USERINFO}{HOST_PORT}")).unwrap(),
            // The regex this replaced took no IPv6 literal, where go does (`[::1]:9` is
            // `https://[::1]:9` to go 1.26).
            bare: Regex::new(&format!(r"(?i)^{HOST_PORT}(?:/|$)")).unwrap(),
        });
        &REFERENCE
    }

    fn of(c: regex::Captures<'_>, scheme: usize, host: usize, port: usize) -> Match {
        Match {
            scheme: c.get(scheme).map(|m| m.range()),
            host: c.get(host).expect("the host group always matches").range(),
            port: c.get(port).map(|m| m.range()),
        }
    }

    /// Values made of the characters that matter to the grammar, and some that do not
    /// (the Unicode case folds `ſ` and `K`, which the regexes took for `s` and `k`, are
    /// left out on purpose: host names are ASCII).
    fn value() -> impl Strategy<Value = String> {
        let piece = prop::sample::select(vec![
            "http",
            "HTTPS",
            "https",
            "://",
            ":",
            "/",
            "@",
            "[",
            "]",
            "::1",
            "a",
            "Z",
            "0",
            "9",
            "f",
            ".",
            "-",
            "_",
            " ",
            "\t",
            "é",
            ",",
            "|",
            "+",
            "socks5",
            "443",
            "123456",
            "x.example",
            "u:p",
            "?",
            "#",
            "@@",
        ]);
        prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #[test]
        fn urls_match_the_reference_regex(text in value()) {
            let expected: Vec<Match> = reference().url.captures_iter(&text).map(|c| of(c, 1, 2, 3)).collect();
            prop_assert_eq!(urls(&text).collect::<Vec<_>>(), expected);
        }

        #[test]
        fn proxy_values_match_the_reference_regex(text in value()) {
            let expected = reference().proxy.captures(&text).map(|c| of(c, 1, 2, 3));
            prop_assert_eq!(proxy_value(&text), expected);
        }

        #[test]
        fn bare_hosts_match_the_reference_regex(text in value()) {
            let expected = reference().bare.captures(&text).map(|c| Match { scheme: None, ..of(c, 1, 1, 2) });
            prop_assert_eq!(bare_host(&text), expected);
        }
    }

    #[test]
    fn limits_are_the_reference_limits() {
        let long_name = format!("http://{}", "a".repeat(300));
        let m = urls(&long_name).next().unwrap();
        assert_eq!(m.host.len(), MAX_NAME);
        let long_user = format!("http://{}@host", "u".repeat(MAX_USERINFO + 1));
        assert_eq!(urls(&long_user).next().unwrap().host, 7..7 + MAX_NAME, "too long to be user info");
        let user = format!("http://{}@host", "u".repeat(MAX_USERINFO));
        assert_eq!(&user[urls(&user).next().unwrap().host], "host");
        // go's url.Parse: user info runs to the last `@` of the authority.
        let two = "https://a@declared.example@other.example/x";
        assert_eq!(&two[urls(two).next().unwrap().host], "other.example");
        let query = "https://host.example?u@other.example";
        assert_eq!(&query[urls(query).next().unwrap().host], "host.example");
        // A port of six digits is read whole (for validation to refuse); past ten, no port.
        assert_eq!(bare_host("a:123456").unwrap().port, Some(2..8));
        assert_eq!(bare_host("a:12345678901"), None);
        assert_eq!(proxy_value("  socks5h://[::1]:1080").unwrap().port, Some(18..22));
    }

    #[test]
    fn a_megabyte_of_urls() {
        // `https://ahttps://a…`: the first host is `ahttps`; every later `https` follows a
        // letter, so no word boundary starts a URL there.
        assert_eq!(urls(&"https://a".repeat(1 << 17)).count(), 1);
        assert_eq!(urls(&"https://a ".repeat(1 << 17)).count(), 1 << 17);
        // `https://https://…`: every other `https` is the previous URL's host.
        assert_eq!(urls(&"https://".repeat(1 << 17)).count(), 1 << 16);
    }
}
