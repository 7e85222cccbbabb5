//! The stable diagnosis category ids (DESIGN §2). Scenarios, playbooks and users'
//! tooling depend on these strings: never rename one.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! categories {
    ($($variant:ident = $id:literal : $meaning:literal,)*) => {
        /// A diagnosis category: what went wrong, at the level a playbook can fix.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Category {
            $(#[doc = $meaning] $variant,)*
        }

        impl Category {
            /// Every category, `none` first.
            pub const ALL: &'static [Category] = &[$(Category::$variant,)*];

            /// The stable id (`proxy.server_error`).
            pub fn id(self) -> &'static str {
                match self { $(Category::$variant => $id,)* }
            }

            /// One line saying what the category means.
            pub fn meaning(self) -> &'static str {
                match self { $(Category::$variant => $meaning,)* }
            }

            /// The category with this id.
            pub fn from_id(id: &str) -> Option<Category> {
                match id { $($id => Some(Category::$variant),)* _ => None }
            }
        }
    };
}

categories! {
    None = "none": "no failure: go succeeded",
    DnsNxdomain = "dns.nxdomain": "a host name does not resolve (no such host)",
    DnsFailure = "dns.failure": "the resolver is unreachable, failed (SERVFAIL) or timed out",
    NetRefused = "net.refused": "connection refused",
    NetTimeout = "net.timeout": "dial, TLS handshake or client timeout",
    NetReset = "net.reset": "connection reset, unexpected EOF or HTTP/2 stream error",
    NetUnreachable = "net.unreachable": "no route to the host: network is unreachable or no route to host",
    TlsUnknownAuthority = "tls.unknown_authority": "certificate signed by an unknown authority",
    TlsExpired = "tls.expired": "certificate expired or not yet valid",
    TlsHostname = "tls.hostname": "certificate valid for other names, or without SAN",
    HttpProxyFailure = "http_proxy.failure": "the HTTPS_PROXY / HTTP_PROXY forward proxy failed (proxyconnect, 407)",
    ProxyNotFound = "proxy.not_found": "a 404/410 ended the GOPROXY list",
    ProxyServerError = "proxy.server_error": "a GOPROXY entry answered 5xx or 429 Too Many Requests (and ',' did not fall through)",
    ProxyAuth = "proxy.auth": "a GOPROXY entry answered 401/403",
    ProxyOff = "proxy.off": "module lookup disabled by GOPROXY=off",
    ProxyBadResponse = "proxy.bad_response": "a proxy served a malformed .info, .mod or .zip (or an HTML page: a captive portal)",
    SumdbMismatch = "sumdb.mismatch": "checksum mismatch (SECURITY ERROR)",
    SumdbPrivateLeak = "sumdb.private_leak": "a private module path was sent to a public checksum database",
    SumdbUnreachable = "sumdb.unreachable": "the checksum database is unreachable or misconfigured",
    VcsAuth = "vcs.auth": "git asked for credentials",
    VcsNotFound = "vcs.not_found": "repository or revision not found in direct mode",
    VcsMeta = "vcs.meta": "the ?go-get=1 page has no (or a wrong) go-import meta tag",
    VcsDisallowed = "vcs.disallowed": "GOVCS forbids the version control tool the module needs",
    ModulePathMismatch = "module.path_mismatch": "the module declares a different path than it was required as",
    ModuleInvalidVersion = "module.invalid_version": "unknown revision, +incompatible or major-version suffix problem",
    ModuleGoMod = "module.go_mod": "the work module's own go.mod or go.work is broken, too new for this go, or needs go mod tidy",
    ModuleGoSumMissing = "module.go_sum_missing": "the work module's go.sum lacks an entry go needs (go mod tidy adds it)",
    CacheLockStuck = "cache.lock_stuck": "go is blocked on a module-cache lock held by another live process",
    CachePermission = "cache.permission": "go's caches and GOPATH (module cache, build cache, work dir) are not writable, full, or without locks",
    CacheCorrupt = "cache.corrupt": "corrupt or partial files in the module cache",
    ToolchainDownload = "toolchain.download": "the GOTOOLCHAIN switch failed",
    Hang = "hang": "the deadline passed with no progress and no other cause",
    Unknown = "unknown": "nothing matched: the evidence is shown as is",
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for Category {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

impl<'de> Deserialize<'de> for Category {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let id = String::deserialize(d)?;
        Category::from_id(&id)
            .ok_or_else(|| serde::de::Error::custom(format_args!("unknown diagnosis category `{id}`")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for &c in Category::ALL {
            assert!(seen.insert(c.id()), "duplicate id {}", c.id());
            assert_eq!(Category::from_id(c.id()), Some(c));
        }
        assert_eq!(Category::ALL.len(), 33);
    }
}
