//! HTTP Basic credentials: what a scenario asks a module proxy, git host or forward
//! proxy to require, and what those fakes check.

/// HTTP Basic credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasicAuth {
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
}

impl BasicAuth {
    /// Whether an `Authorization` (or `Proxy-Authorization`) header value carries these
    /// credentials: `Basic <base64 of user:password>`, the scheme in any case.
    pub fn accepts(&self, value: Option<&http::HeaderValue>) -> bool {
        use base64::Engine as _;
        let expected = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", self.user, self.password));
        value
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().split_once(' '))
            .is_some_and(|(scheme, token)| scheme.eq_ignore_ascii_case("basic") && token.trim() == expected)
    }
}
