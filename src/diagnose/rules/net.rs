//! Transport failures between go and a host: refused connections, no route to it,
//! timeouts (go printed an error: dial, TLS handshake, response headers), resets and
//! premature ends of responses — in go's Linux and macOS words, its Windows words
//! (`connectex: …`, `wsarecv: …`), git's (curl's `Failed to connect to … port …`) and ssh's
//! (`ssh: connect to host … port 22: …`, when git fetches over ssh).

use std::sync::LazyLock;

use regex::Regex;

use super::proxy::comma_trap;
use super::{found, subject, url_host, well_known};
use crate::diagnose::facts::Facts;
use crate::diagnose::{Category, Confidence, Diagnosis};

static URL_IN_ERROR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:Get|read|Head) "?(https?://[^"\s]+?)"?: |unable to access '([^']+)'"#).expect("compiles")
});

/// The URL an error names, in go's (quoted or, before go 1.14, unquoted) or git's words.
fn url_in(text: &str) -> Option<String> {
    URL_IN_ERROR.captures(text).and_then(|c| c.get(1).or(c.get(2))).map(|m| m.as_str().to_string())
}

/// `connect: connection refused` (go ≤ 1.9: `getsockopt: connection refused`).
pub fn refused(f: &Facts) -> Option<Diagnosis> {
    static REFUSED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"dial tcp (\S+): (?:connect|getsockopt): connection refused",
            r"|dial tcp (\S+): connectex: No connection could be made because the target machine actively refused it",
            r"|Failed to connect to (\S+) port \d+[^:\n]*: (?:Connection refused|Couldn't connect to server)",
            // ssh's words (git over ssh): `ssh: connect to host H port 22: Connection refused`.
            r"|ssh: connect to host (\S+) port \d+: Connection refused",
        ))
        .expect("compiles")
    });
    let (error, caps) = f.matching(&REFUSED).last()?;
    let url = url_in(&error.text);
    let address =
        caps.get(1).or(caps.get(2)).or(caps.get(3)).or(caps.get(4)).map_or("the server", |m| m.as_str()).to_string();
    let target = url.as_deref().map_or_else(|| address.clone(), |u| url_host(u).to_string());
    let (trap, _) = url.as_deref().map_or((false, None), |u| comma_trap(f, u));
    let mut evidence = vec![error.line()];
    evidence.extend(f.env_line("GOPROXY"));
    let summary = format!(
        "nothing accepts connections at {target}{}{}",
        subject(&error.text).map(|s| format!(" (go needed {s})")).unwrap_or_default(),
        if trap { "; with ',' go does not try the next GOPROXY entry after a connection error" } else { "" }
    );
    let playbooks: &[&str] = if trap { &["pipe-separated-goproxy", "use-mirror"] } else { &["use-mirror"] };
    // curl's CURLE_COULDNT_CONNECT text says only that the connection failed: refused, or
    // (on Windows, after its ~21 s connect timeout) timed out. The time it waited is the
    // best hint; neither reading is sure.
    static COULD_NOT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"port \d+(?: after (\d+) ms)?: Couldn't connect to server").expect("compiles"));
    if let Some(c) = COULD_NOT.captures(&error.text) {
        let waited = c.get(1).and_then(|m| m.as_str().parse::<u64>().ok()).unwrap_or(0);
        let (category, other, why) = if waited >= 5000 {
            (Category::NetTimeout, Category::NetRefused, "nothing answered for seconds: a firewall dropping packets")
        } else {
            (Category::NetRefused, Category::NetTimeout, "the connection may have timed out instead")
        };
        let summary = format!(
            "curl (for git) could not connect to {target}{}: it does not say whether the connection was refused or \
             timed out",
            if waited > 0 { format!(" after {waited} ms") } else { String::new() }
        );
        return Some(found(category, Confidence::Low, summary, evidence, playbooks).or(other, Confidence::Low, why));
    }
    // A name everyone knows that led to this machine (127.0.0.1, 0.0.0.0, ::1): a hosts
    // file entry or a DNS filter sent go here, and nothing listens.
    let loopback = ["127.", "0.0.0.0:", "[::1]:", "[::]:"].iter().any(|p| address.starts_with(p));
    if loopback && well_known(&target) {
        let summary = format!(
            "{target} resolved to this machine ({address}), where nothing listens: a hosts file entry, a DNS filter \
             or an ad blocker points the name here; check /etc/hosts (Windows: drivers\\etc\\hosts) and the resolver"
        );
        return Some(found(Category::NetRefused, Confidence::Low, summary, evidence, playbooks).or(
            Category::DnsFailure,
            Confidence::Low,
            "the resolver (or the hosts file) gives a wrong address for the name",
        ));
    }
    Some(found(Category::NetRefused, Confidence::High, summary, evidence, playbooks))
}

/// No route to the host: the address is on a network this machine cannot reach (`connect:
/// network is unreachable`, `no route to host`: a missing route, a VPN that is down, an
/// IPv6 address without IPv6).
pub fn unreachable(f: &Facts) -> Option<Diagnosis> {
    static UNREACHABLE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"(?:dial tcp (\S+): )?(?:connect|connectex|getsockopt): (network is unreachable|no route to host",
            r"|A socket operation was attempted to an unreachable (?:network|host)\.?|cannot assign requested address)",
            r"|Failed to connect to (\S+) port \d+[^:\n]*: (No route to host|Network is unreachable)",
            r"|ssh: connect to host (\S+) port \d+: (No route to host|Network is unreachable)",
        ))
        .expect("compiles")
    });
    if let Some(blocked) = blocked(f) {
        return Some(blocked);
    }
    let (error, caps) = f.matching(&UNREACHABLE).last()?;
    let url = url_in(&error.text);
    let address = caps.get(1).or(caps.get(3)).or(caps.get(5)).map(|m| m.as_str().to_string());
    let why = caps.get(2).or(caps.get(4)).or(caps.get(6)).map_or("no route", |m| m.as_str()).to_string();
    let target = url.as_deref().map(|u| url_host(u).to_string()).or(address.clone()).unwrap_or("the server".into());
    let (trap, _) = url.as_deref().map_or((false, None), |u| comma_trap(f, u));
    let mut evidence = vec![error.line()];
    evidence.extend(f.env_line("GOPROXY"));
    let at = address.filter(|a| !target.contains(a.as_str())).map(|a| format!(" ({a})")).unwrap_or_default();
    let summary = format!(
        "this machine has no route to {target}{at}: {why}{} — the address is on a network it is not connected to (a \
         VPN or corporate network that is down, a firewall rejecting, an IPv6 address without IPv6)",
        subject(&error.text).map(|s| format!(" (go needed {s})")).unwrap_or_default()
    );
    let playbooks: &[&str] = if trap { &["pipe-separated-goproxy", "use-mirror"] } else { &["use-mirror"] };
    Some(found(Category::NetUnreachable, Confidence::High, summary, evidence, playbooks))
}

/// A connection this machine's own policy refused before a packet left: `connect:
/// permission denied` (EACCES: a security module such as SELinux or AppArmor, a sandbox,
/// a firewall rule matched on the sending process) or `connect: operation not permitted`
/// (EPERM: an nftables/iptables OUTPUT rule dropping it). The host may be up; this machine
/// may not talk to it. Medium: the policy is not in the log.
fn blocked(f: &Facts) -> Option<Diagnosis> {
    static BLOCKED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"dial tcp (\S+): connect: (permission denied|operation not permitted)").expect("compiles")
    });
    let (error, caps) = f.matching(&BLOCKED).last()?;
    let url = url_in(&error.text);
    let target = url.as_deref().map_or_else(|| caps[1].to_string(), |u| url_host(u).to_string());
    let mut evidence = vec![error.line()];
    evidence.extend(f.env_line("GOPROXY"));
    let summary = format!(
        "this machine's own policy refused the connection to {target} ({}){}: a firewall rule for outgoing traffic, \
         a security module (SELinux, AppArmor) or a sandbox — the host may be up, this machine may not reach it",
        &caps[2],
        subject(&error.text).map(|s| format!(" (go needed {s})")).unwrap_or_default()
    );
    Some(found(Category::NetUnreachable, Confidence::Medium, summary, evidence, &["use-mirror"]))
}

/// Connection resets, unexpected EOFs and HTTP/2 stream errors.
pub fn reset(f: &Facts) -> Option<Diagnosis> {
    static RESET: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"(?i:connection reset by peer)|unexpected EOF|stream error(?:: stream ID \d+)?|server sent GOAWAY|: EOF$|: EOF\n",
            r"|broken pipe|forcibly closed by the remote host|connection was aborted|http2: client connection lost",
            r"|RPC failed; curl (?:18|56|92)|transfer closed with outstanding read data remaining",
            r"|SSL_read: Connection was reset|Connection was reset, errno|SSL_ERROR_SYSCALL",
            r"|gnutls_handshake\(\) failed: (?:The TLS connection was non-properly terminated|Error in the pull function)",
            // GnuTLS's words for a read the peer cut (-110: terminated without close_notify;
            // -54: the pull function's error, a reset underneath).
            r"|GnuTLS recv error \(-(?:110|54)\)",
            r"|SSL_connect: Connection was reset",
            r"|fatal: the remote end hung up unexpectedly|fatal: early EOF",
            r"|tls: bad record MAC|http2: client connection force closed",
            // go's HTTP/2 client retiring a connection the server shut down (`http2:
            // Transport received Server's graceful shutdown GOAWAY`), and a read on a
            // connection closed under it.
            r"|graceful shutdown GOAWAY|use of closed network connection",
            // curl's (git's) words: the server closed without answering (curl 52), an
            // HTTP/2 stream the server reset (curl 92, 16).
            r"|Empty reply from server|HTTP/2 stream \d+ was (?:not closed cleanly|reset)|Error in the HTTP2 framing layer",
            // ssh's (git over ssh): the server closed the connection before its banner.
            r"|kex_exchange_identification: Connection closed by remote host",
        ))
        .expect("compiles")
    });
    let (error, _) = f.matching(&RESET).last()?;
    let url = url_in(&error.text);
    let target = url.as_deref().map_or("the server".to_string(), |u| url_host(u).to_string());
    let (trap, _) = url.as_deref().map_or((false, None), |u| comma_trap(f, u));
    let mut evidence = vec![error.line()];
    evidence.extend(f.notable_requests());
    evidence.extend(f.env_line("GOPROXY"));
    let playbooks: &[&str] = if trap { &["pipe-separated-goproxy", "retry"] } else { &["retry", "use-mirror"] };
    let fetching = subject(&error.text).map(|s| format!(" while fetching {s}")).unwrap_or_default();
    let summary = if error.text.contains("stream error") {
        format!("{target} reset the HTTP/2 stream mid-response{fetching} (RST_STREAM; CI systems often retry on this)")
    } else {
        format!("the connection to {target} broke mid-exchange{fetching}")
    };
    // An end of data or a broken pipe with no connection in view (a file go read, a pipe
    // it wrote to) is not the network's: the words are read, but not trusted.
    if !on_a_connection(&error.text) {
        // go unzipping a zip from its module cache that ends early: a truncated file.
        static UNZIP: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"unzip \S+\.zip: ").expect("compiles"));
        if UNZIP.is_match(&error.text) {
            let summary = format!(
                "a zip go unzipped{} ends early: a truncated file in the module cache (a full disk, a cache restore \
                 cut short); clean the module cache and download again",
                subject(&error.text).map(|s| format!(" ({s})")).unwrap_or_default()
            );
            return Some(
                found(Category::CacheCorrupt, Confidence::Low, summary, evidence, &["clean-module-cache"]).or(
                    Category::NetReset,
                    Confidence::Low,
                    "the download that wrote it may have been cut short",
                ),
            );
        }
        let summary = format!("{summary} — but the error names no connection, so it may be a file or a pipe");
        return Some(found(Category::NetReset, Confidence::Low, summary, evidence, playbooks).or(
            Category::CacheCorrupt,
            Confidence::Low,
            "a truncated file in the module cache ends in the same words",
        ));
    }
    // A body that ended early (`read "…": unexpected EOF`, after the status line came):
    // the connection cut mid-transfer, or a body that ends before its own encoding does (a
    // gzip stream cut short by the proxy, a short chunk) — go's words are the same, and
    // only the server's side (the request log) tells them apart.
    static BODY_CUT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"read "?https?:/[^\s"]*"?: unexpected EOF"#).expect("compiles"));
    if BODY_CUT.is_match(&error.text) && f.evidence.requests.is_empty() {
        return Some(found(Category::NetReset, Confidence::Low, summary, evidence, playbooks).or(
            Category::ProxyBadResponse,
            Confidence::Low,
            "the proxy may have sent a body that ends before its own encoding does (a gzip stream or a chunk cut short)",
        ));
    }
    Some(found(Category::NetReset, Confidence::High, summary, evidence, playbooks))
}

/// Whether an error is about a network connection: it names a URL or a TCP connection, or
/// it is git's, curl's or ssh's account of one. `unexpected EOF`, `: EOF` and `broken pipe`
/// are also what reading a truncated file or writing to a closed pipe says.
fn on_a_connection(text: &str) -> bool {
    static CONNECTION: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"https?://|(?:read|write|dial) tcp|tcp \S+->|tls: |http2: |HTTP/2 stream|stream error|GOAWAY|proxyconnect",
            // The tools' own prefixes, not bare words: a module path may hold `ssh`, `curl`
            // or `http2` (golang.org/x/crypto/ssh@v0.17.0: read …zip: unexpected EOF).
            r"|wsarecv|wsasend|forcibly closed|fatal: |RPC failed|curl: \(\d+\)|SSL_|SSL routines|gnutls",
            r"|ssh: |ssh_|kex_|Empty reply",
        ))
        .expect("compiles")
    });
    CONNECTION.is_match(text)
}

/// A timeout go reported itself (as opposed to a hang the harness had to kill): the dial
/// gave up (~30 s), the TLS handshake did (10 s), or a deadline in the client expired.
pub fn timeout(f: &Facts) -> Option<Diagnosis> {
    static TIMEOUT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"(dial tcp (\S+): (?:connect: |connectex: |getsockopt: )?(?:i/o timeout|connection timed out|operation timed out",
            r"|A connection attempt failed because the connected party did not properly respond[^\n]*))",
            r"|(net/http: TLS handshake timeout)",
            r"|(Client\.Timeout exceeded|timeout awaiting response headers|context deadline exceeded",
            r"|request canceled while waiting for connection)",
            r"|((?:read|write) tcp \S+->(\S+): (?:(?:read|write): )?(?:i/o timeout|connection timed out|operation timed out",
            r"|wsarecv: A connection attempt failed[^\n]*))",
            r"|(Failed to connect to \S+ port \d+[^:\n]*: (?:Connection timed out|Operation timed out|Timed out)|Operation timed out after \d+",
            // curl's connect timeout (curl 28) as git prints it.
            r"|Connection timed out after \d+ milliseconds",
            r"|ssh: connect to host \S+ port \d+: (?:Connection timed out|Operation timed out))",
        ))
        .expect("compiles")
    });
    let (error, caps) = f.matching(&TIMEOUT).last()?;
    let url = url_in(&error.text);
    let target = url.as_deref().map_or_else(
        || caps.get(2).or(caps.get(6)).map_or("the server".to_string(), |m| m.as_str().to_string()),
        |u| url_host(u).to_string(),
    );
    let stage = if caps.get(1).is_some() || caps.get(7).is_some() {
        "connecting (nothing answered the SYN: a firewall dropping packets, or a host that is down)"
    } else if caps.get(3).is_some() {
        "in the TLS handshake (the server accepted the connection but never finished TLS)"
    } else if caps.get(5).is_some() {
        "reading or writing on an open connection"
    } else {
        "waiting for the response"
    };
    let (trap, _) = url.as_deref().map_or((false, None), |u| comma_trap(f, u));
    let mut evidence = vec![error.line()];
    evidence.extend(f.notable_requests());
    evidence.extend(f.env_line("GOPROXY"));
    let fetching = subject(&error.text).map(|s| format!(" while fetching {s}")).unwrap_or_default();
    let summary = format!("go timed out {stage} with {target}{fetching}");
    let playbooks: &[&str] = if trap { &["pipe-separated-goproxy", "use-mirror"] } else { &["use-mirror", "retry"] };
    // A deadline with no request in view (`context deadline exceeded` alone) may be any
    // deadline in go or in the tool that ran it, and net/http's `request canceled while
    // waiting for connection` without a client timeout is a request its caller cancelled.
    let cancelled =
        error.text.contains("request canceled while waiting for connection") && !error.text.contains("Client.Timeout");
    if (url.is_none() && error.text.contains("context deadline exceeded")) || cancelled {
        return Some(found(Category::NetTimeout, Confidence::Low, summary, evidence, playbooks).or(
            Category::Hang,
            Confidence::Low,
            "the deadline may be the one a tool or CI step put on go",
        ));
    }
    Some(found(Category::NetTimeout, Confidence::High, summary, evidence, playbooks))
}
