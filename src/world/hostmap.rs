//! The one place that knows where declared hosts listen. In open mode it maps names to
//! 127.0.0.1 ports: it rewrites the URLs in the environment given to go, and rewrites
//! go's output back, so that scenarios and their expectations speak only of
//! `https://proxy.corp.example`. In sealed mode hosts listen on their real names and
//! ports (a fake resolver answers 127.0.0.N), so nothing is rewritten but the checksum
//! database's key.

use std::net::SocketAddr;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::urlref;

/// A declared host and where it listens in this run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappedHost {
    /// Declared name.
    pub name: String,
    /// What it is (`goproxy`, `closed`).
    pub kind: String,
    /// Loopback address; it answers both http and https there (in sealed mode: port 443,
    /// and also 80 and `ports`).
    pub addr: SocketAddr,
    /// Further ports it listens on in sealed mode.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<u16>,
    /// For a checksum database: what GOSUMDB must say for go to use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sumdb: Option<SumdbKey>,
}

/// How go is pointed at a fake checksum database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SumdbKey {
    /// The database name.
    pub name: String,
    /// Its verifier key (`name+hash+key`).
    pub verifier_key: String,
    /// Give go only the key, so it asks the proxies first.
    pub via_proxy: bool,
}

/// The mapping for one world.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HostMap {
    /// Every declared host.
    pub hosts: Vec<MappedHost>,
    /// The guard proxy that refuses and records any attempt to leave the sandbox (open
    /// mode only: in sealed mode nothing else resolves).
    pub guard: Option<SocketAddr>,
    /// Sealed mode: hosts listen on their names, URLs stay as written.
    #[serde(default)]
    pub sealed: bool,
}

impl HostMap {
    /// The host declared as `name`.
    pub fn get(&self, name: &str) -> Option<&MappedHost> {
        self.hosts.iter().find(|h| h.name == name)
    }

    /// `value` of variable `var` with every declared host replaced by its address. The
    /// scheme stays as written: the fakes answer http and https on the same port, with
    /// certificates valid for the name and for the address.
    pub fn to_go(&self, var: &str, value: &str) -> String {
        // GOSUMDB naming a fake database becomes its verifier key (and URL): go only
        // trusts a database whose key it is given.
        if var == "GOSUMDB" {
            let named = value.trim();
            if let Some((host, key)) = self
                .hosts
                .iter()
                .find_map(|h| h.sumdb.as_ref().filter(|k| k.name == named || h.name == named).map(|k| (h, k)))
            {
                let url = if self.sealed { host.name.clone() } else { host.addr.to_string() };
                return if key.via_proxy {
                    key.verifier_key.clone()
                } else {
                    format!("{} https://{url}", key.verifier_key)
                };
            }
        }
        if self.sealed {
            return value.to_string();
        }
        let mut out = value.to_string();
        let mut refs = urlref::find(var, value);
        refs.sort_by_key(|r| std::cmp::Reverse(r.authority.start));
        for r in refs {
            let Some(host) = self.get(&r.host) else { continue };
            out.replace_range(r.authority.clone(), &host.addr.to_string());
            if r.scheme_range.is_none() {
                out.insert_str(r.authority.start, &format!("{}://", r.scheme));
            }
        }
        out
    }

    /// `text` (go's output) with every `scheme://<address>` of a declared host written
    /// back as the scenario names it.
    pub fn from_go(&self, text: &str) -> String {
        if self.sealed {
            return text.to_string();
        }
        static LOOPBACK_URL: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"(https?)://(127\.0\.0\.1:[0-9]+)").expect("loopback url pattern compiles"));
        LOOPBACK_URL
            .replace_all(text, |caps: &regex::Captures<'_>| {
                match self.hosts.iter().find(|h| h.addr.to_string() == caps[2]) {
                    Some(host) => format!("{}://{}", &caps[1], host.name),
                    None => caps[0].to_string(),
                }
            })
            .into_owned()
    }

    /// The `.netrc` machine names under which go looks up credentials for a declared
    /// host: go >= 1.24 matches the URL's host *with* its port when the URL names one
    /// (`proxy.corp.example:8443`, `127.0.0.1:41234`), older versions the bare name.
    pub fn netrc_machines(&self, name: &str) -> Vec<String> {
        match self.get(name) {
            Some(h) if !self.sealed => vec![h.addr.to_string(), h.addr.ip().to_string()],
            Some(h) => std::iter::once(name.to_string()).chain(h.ports.iter().map(|p| format!("{name}:{p}"))).collect(),
            None => vec![name.to_string()],
        }
    }

    /// "proxy.corp.example → 127.0.0.1:41234 (goproxy)" lines for reports.
    pub fn describe(&self) -> Vec<String> {
        self.hosts
            .iter()
            .map(|h| {
                if self.sealed && h.kind == "closed" {
                    format!("{} → {} (closed: nothing listens)", h.name, h.addr.ip())
                } else if self.sealed {
                    let ports: Vec<String> = [80, 443].iter().chain(&h.ports).map(|p| format!(":{p}")).collect();
                    format!("{} → {} {} ({})", h.name, h.addr.ip(), ports.join(" "), h.kind)
                } else {
                    format!("{} → {} ({})", h.name, h.addr, h.kind)
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> HostMap {
        let host = |name: &str, addr: &str| MappedHost {
            name: name.into(),
            kind: "goproxy".into(),
            addr: addr.parse().unwrap(),
            ports: Vec::new(),
            sumdb: None,
        };
        HostMap {
            hosts: vec![host("proxy.corp.example", "127.0.0.1:4012"), host("mirror.corp.example", "127.0.0.1:40123")],
            guard: None,
            sealed: false,
        }
    }

    #[test]
    fn rewrites_declared_hosts_both_ways() {
        let m = map();
        let go = m.to_go("GOPROXY", "https://proxy.corp.example/sub,mirror.corp.example|direct");
        assert_eq!(go, "https://127.0.0.1:4012/sub,https://127.0.0.1:40123|direct");
        assert_eq!(m.to_go("HTTP_PROXY", "http://proxy.corp.example:3128"), "http://127.0.0.1:4012");
        let back = m.from_go("reading https://127.0.0.1:40123/x/@v/list: 404\nreading http://127.0.0.1:4012/y: 500");
        assert_eq!(
            back,
            "reading https://mirror.corp.example/x/@v/list: 404\nreading http://proxy.corp.example/y: 500"
        );
    }

    #[test]
    fn gosumdb_naming_a_fake_database_gets_its_key() {
        let mut m = map();
        m.hosts.push(MappedHost {
            name: "sumdb.corp.example".into(),
            kind: "sumdb".into(),
            addr: "127.0.0.1:5000".parse().unwrap(),
            ports: Vec::new(),
            sumdb: Some(SumdbKey {
                name: "sum.golang.org".into(),
                verifier_key: "sum.golang.org+01234567+AQ".into(),
                via_proxy: false,
            }),
        });
        assert_eq!(m.to_go("GOSUMDB", "sum.golang.org"), "sum.golang.org+01234567+AQ https://127.0.0.1:5000");
        assert_eq!(m.to_go("GOSUMDB", "sumdb.corp.example"), "sum.golang.org+01234567+AQ https://127.0.0.1:5000");
        assert_eq!(m.to_go("GOSUMDB", "off"), "off");
        m.hosts[2].sumdb.as_mut().unwrap().via_proxy = true;
        assert_eq!(m.to_go("GOSUMDB", "sum.golang.org"), "sum.golang.org+01234567+AQ");
    }

    #[test]
    fn leaves_everything_else_alone() {
        let m = map();
        assert_eq!(m.to_go("GOPROXY", "off"), "off");
        assert_eq!(m.to_go("GONOSUMDB", "corp.example"), "corp.example");
        assert_eq!(
            m.from_go("dial tcp 127.0.0.1:9: connect: connection refused"),
            "dial tcp 127.0.0.1:9: connect: connection refused"
        );
    }
}
