//! Globs over URL paths and DNS names: how faults pick requests and expectations count
//! them; and go's module path patterns (GOPRIVATE, GONOPROXY, GONOSUMDB), which the
//! diagnosis reads and validation asks which modules go fetches directly.

use globset::{GlobBuilder, GlobMatcher};

/// A glob over URL paths. `*` stays within a segment, `**` crosses segments; a pattern
/// that does not start with `/` may match at any depth (`*.zip` ≡ `**/*.zip`).
#[derive(Debug, Clone)]
pub struct PathGlob {
    pattern: String,
    matcher: GlobMatcher,
}

/// Why a pattern is not a glob.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GlobError {
    /// The glob syntax is wrong (what globset said).
    #[error("{0}")]
    Syntax(String),
    /// A DNS name pattern with a `/`.
    #[error("a DNS name pattern cannot contain '/'")]
    SlashInName,
    /// A DNS name pattern with nothing in it.
    #[error("empty DNS name pattern")]
    EmptyName,
}

impl PathGlob {
    /// Compiles `pattern`; the error explains what is wrong with it.
    pub fn new(pattern: &str) -> Result<PathGlob, GlobError> {
        let effective = if pattern.starts_with('/') || pattern.starts_with("**") {
            pattern.to_string()
        } else {
            format!("**/{pattern}")
        };
        let glob = GlobBuilder::new(&effective)
            .literal_separator(true)
            .build()
            .map_err(|e| GlobError::Syntax(e.kind().to_string()))?;
        Ok(PathGlob { pattern: pattern.to_string(), matcher: glob.compile_matcher() })
    }

    /// A glob over DNS names, for DNS faults. Names have no `/`, so `*` matches any run
    /// of characters, dots included: `*.corp.example` matches `proxy.corp.example` and
    /// `a.b.corp.example` but not `corp.example` itself. Matching ignores case and a
    /// trailing dot (`Proxy.Corp.Example.` is the name `proxy.corp.example`), because
    /// that is how DNS compares names; `**` means `*`; a `/` is refused, since no name
    /// contains one.
    pub fn name(pattern: &str) -> Result<PathGlob, GlobError> {
        if pattern.contains('/') {
            return Err(GlobError::SlashInName);
        }
        let mut effective = pattern.strip_suffix('.').unwrap_or(pattern).to_ascii_lowercase();
        // `**` only means something across `/`; in a name it is a plain `*` (globset
        // would refuse it outside a whole path segment).
        while effective.contains("**") {
            effective = effective.replace("**", "*");
        }
        if effective.is_empty() {
            return Err(GlobError::EmptyName);
        }
        let glob = GlobBuilder::new(&effective)
            .literal_separator(true)
            .case_insensitive(true)
            .build()
            .map_err(|e| GlobError::Syntax(e.kind().to_string()))?;
        Ok(PathGlob { pattern: pattern.to_string(), matcher: glob.compile_matcher() })
    }

    /// True when `path` (the URL path, without query; for DNS, the lower-case name
    /// without trailing dot) matches.
    pub fn matches(&self, path: &str) -> bool {
        self.matcher.is_match(path)
    }

    /// The pattern as written.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// True when the pattern reads like a regular expression written where a glob is
    /// expected (`^/corp\.example/.*$`): it starts with `^`, ends with `$`, holds `\.`,
    /// or a segment that is `.*` (a glob's `v1.*`, a version prefix, is no regex). Such a
    /// glob still compiles but matches almost nothing, so the fault or expectation it
    /// guards silently never applies; validation and the failure story say so.
    pub fn looks_like_regex(&self) -> bool {
        let p = &self.pattern;
        p.starts_with('^')
            || p.ends_with('$')
            || p.contains("\\.")
            || p.split('/').any(|segment| segment == ".*" || segment == ".*$")
    }
}

/// go's `module.MatchPrefixPatterns`: whether a prefix of `path` with as many elements as
/// one of the comma-separated glob `patterns` matches it.
pub fn matches_prefix_patterns(patterns: &str, path: &str) -> bool {
    patterns.split(',').map(str::trim).filter(|p| !p.is_empty()).any(|pattern| {
        let n = pattern.split('/').count();
        let elements: Vec<&str> = path.split('/').collect();
        elements.len() >= n
            && pattern
                .split('/')
                .zip(&elements)
                .all(|(glob, element)| glob_element(glob.as_bytes(), element.as_bytes()))
    })
}

/// `path.Match` for one path element: `*` any run of characters, `?` one.
fn glob_element(glob: &[u8], text: &[u8]) -> bool {
    match (glob.first(), text.first()) {
        (None, None) => true,
        (Some(b'*'), _) => glob_element(&glob[1..], text) || (!text.is_empty() && glob_element(glob, &text[1..])),
        (Some(b'?'), Some(_)) => glob_element(&glob[1..], &text[1..]),
        (Some(g), Some(t)) if g == t => glob_element(&glob[1..], &text[1..]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_patterns_match_path_prefixes() {
        assert!(matches_prefix_patterns("corp.example", "corp.example/lib"));
        assert!(matches_prefix_patterns("github.com/acme/*,x.io", "github.com/acme/tool/v2"));
        assert!(matches_prefix_patterns("*.corp.example", "git.corp.example/lib"));
        assert!(!matches_prefix_patterns("corp.example", "corp.example.com/lib"));
        assert!(!matches_prefix_patterns("github.com/acme", "github.com/other/x"));
        assert!(!matches_prefix_patterns("", "corp.example/lib"));
    }

    #[test]
    fn globs_follow_the_documented_rules() {
        let g = |p: &str, path: &str| PathGlob::new(p).unwrap().matches(path);
        assert!(g("/corp.example/lib/@v/*", "/corp.example/lib/@v/v1.0.0.zip"));
        assert!(!g("/corp.example/*", "/corp.example/lib/@v/list"));
        assert!(g("/corp.example/**", "/corp.example/lib/@v/list"));
        assert!(g("*.zip", "/rsc.io/quote/@v/v1.5.2.zip"));
        assert!(!g("*.zip", "/rsc.io/quote/@v/v1.5.2.info"));
        assert!(g("@v/list", "/rsc.io/quote/@v/list"));
        assert!(PathGlob::new("/a/[").is_err());
    }

    /// The URL-path constructor already works for simple name patterns: names have no
    /// `/`, so the implicit `**/` prefix matches from the start of the name.
    #[test]
    fn path_globs_match_plain_names() {
        let g = |p: &str, name: &str| PathGlob::new(p).unwrap().matches(name);
        assert!(g("*.corp.example", "proxy.corp.example"));
        assert!(g("*.corp.example", "a.b.corp.example"));
        assert!(!g("*.corp.example", "corp.example"));
        assert!(!g("*.corp.example", "corp.example.evil"));
        assert!(g("proxy.corp.example", "proxy.corp.example"));
        assert!(!g("proxy.corp.example", "xproxy.corp.example"));
        // What it gets wrong for names, and why `PathGlob::name` exists:
        assert!(!g("Proxy.Corp.Example", "proxy.corp.example"), "case matters for paths");
        assert!(!g("proxy.corp.example.", "proxy.corp.example"), "a trailing dot is kept");
        assert!(g("**.corp.example", "a.b.corp.example"), "globset reads a leading `**` as `*`");
    }

    #[test]
    fn regex_lookalikes_are_told_from_globs() {
        let regexy = |p: &str| PathGlob::new(p).unwrap().looks_like_regex();
        assert!(regexy("^/corp\\.example/.*$"));
        assert!(regexy("^/corp.example/**"));
        assert!(regexy("/corp.example/lib/@v/list$"));
        assert!(regexy("/corp.example/.*"));
        assert!(regexy("/corp\\.example/**"));
        assert!(!regexy("/corp.example/lib/@v/*"));
        assert!(!regexy("/corp.example/**"));
        assert!(!regexy("*.zip"));
        assert!(!regexy("*/@v/v1.*"), "a version prefix is a glob's");
        assert!(!regexy("/{a,b}.example/[!x]*"));
    }

    #[test]
    fn name_globs_match_names_as_dns_compares_them() {
        let g = |p: &str, name: &str| PathGlob::name(p).unwrap().matches(name);
        assert!(g("*.corp.example", "proxy.corp.example"));
        assert!(g("*.corp.example", "a.b.corp.example"), "`*` crosses dots");
        assert!(!g("*.corp.example", "corp.example"), "the apex is not a subdomain");
        assert!(!g("*.corp.example", "proxy.corp.example.evil"));
        assert!(!g("*.corp.example", "proxycorp.example"));
        assert!(g("*corp.example", "corp.example"));
        assert!(g("proxy.corp.example", "proxy.corp.example"));
        assert!(!g("proxy.corp.example", "xproxy.corp.example"));
        assert!(!g("proxy.corp.example", "proxy.corp.example.org"));
        assert!(g("Proxy.Corp.Example.", "proxy.corp.example"), "case and trailing dot ignored");
        assert!(g("PROXY.corp.example", "proxy.CORP.example"));
        assert!(g("{proxy,mirror}.corp.example", "mirror.corp.example"));
        assert!(!g("{proxy,mirror}.corp.example", "sum.corp.example"));
        assert!(g("proxy?.corp.example", "proxy2.corp.example"));
        assert!(g("**.corp.example", "a.b.corp.example"), "`**` is just `*` in a name");
        assert!(g("*", "anything.at.all"));
        assert!(PathGlob::name("a/b.example").is_err());
        assert!(PathGlob::name("[a.example").is_err());
        assert!(PathGlob::name(".").is_err());
        assert_eq!(PathGlob::name("Proxy.Corp.Example.").unwrap().pattern(), "Proxy.Corp.Example.");
    }
}
