//! Every rule on real go output (go 1.26.8, captured from runs against the fakes; host
//! names as the harness rewrites them).

use super::*;
use crate::evidence::{Evidence, parse_json_records, parse_trace};
use crate::vocab::Exit;

fn evidence(command: &str, exit: Exit, stdout: &str, stderr: &str, env: &[(&str, &str)]) -> Evidence {
    Evidence {
        command: Some(command.to_string()),
        exit: Some(exit),
        duration_ms: Some(12.0),
        pid: None,
        stderr: stderr.to_string(),
        stdout: stdout.to_string(),
        records: parse_json_records(stdout),
        trace: parse_trace(stderr),
        requests: Vec::new(),
        dns: Vec::new(),
        cache: None,
        go_env: None,
        go_version: None,
        env_changes: Vec::new(),
        env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        hosts: None,
        ..Default::default()
    }
}

const FAILED: Exit = Exit::Code { code: 1 };
const DOWNLOAD: &str = "go mod download -json -x corp.example/lib@v1.0.0";

fn json_error(error: &str) -> String {
    format!(
        "{{\n\t\"Path\": \"corp.example/lib\",\n\t\"Version\": \"v1.0.0\",\n\t\"Error\": {}\n}}\n",
        serde_json::to_string(error).unwrap()
    )
}

fn check(e: &Evidence, category: Category, summary_has: &str, playbook: Option<&str>) -> Diagnosis {
    let d = diagnose(e);
    assert_eq!(d.category, category, "{d:#?}");
    assert!(d.summary.contains(summary_has), "summary {:?} lacks {summary_has:?}", d.summary);
    if let Some(p) = playbook {
        assert!(d.playbooks.iter().any(|x| x == p), "{:?} lacks {p}", d.playbooks);
    }
    for p in &d.playbooks {
        assert!(
            crate::scenario::playbook::BUILTIN.iter().any(|(n, _)| n == p),
            "suggested playbook {p} does not exist"
        );
    }
    d
}

#[test]
fn success_is_not_a_failure() {
    let stdout = "{\n\t\"Path\": \"corp.example/lib\",\n\t\"Version\": \"v1.0.0\",\n\t\"Sum\": \"h1:x\"\n}\n";
    check(
        &evidence(
            DOWNLOAD,
            Exit::Code { code: 0 },
            stdout,
            "# get https://p/x\n# get https://p/x: 200 OK (0.001s)\n",
            &[],
        ),
        Category::None,
        "succeeded",
        None,
    );
}

#[test]
fn a_500_behind_a_comma_names_the_trap() {
    let stdout = json_error(
        "corp.example/lib@v1.0.0: reading https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info: 500 Internal Server Error\n\tserver response: upstream exploded",
    );
    let stderr = "# get https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info\n# get https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info: 500 Internal Server Error (0.001s)\n";
    let e = evidence(
        DOWNLOAD,
        FAILED,
        &stdout,
        stderr,
        &[("GOPROXY", "https://proxy.corp.example,https://mirror.corp.example")],
    );
    let d = check(
        &e,
        Category::ProxyServerError,
        "with ',', which falls through only on 404/410",
        Some("pipe-separated-goproxy"),
    );
    assert_eq!(d.confidence, Confidence::High);
    assert!(
        d.evidence.iter().any(|l| l.source == Source::Json && l.text.contains("server response: upstream exploded"))
    );
    assert!(d.evidence.iter().any(|l| l.source == Source::Env));
    // The same 500 with '|' (or alone) is not the trap.
    let e = evidence(
        DOWNLOAD,
        FAILED,
        &stdout,
        stderr,
        &[("GOPROXY", "https://proxy.corp.example|https://mirror.corp.example")],
    );
    let d = check(&e, Category::ProxyServerError, "answered 500 Internal Server Error", Some("use-mirror"));
    assert!(!d.summary.contains("','"));
}

#[test]
fn a_plain_stderr_log_without_json_is_enough() {
    let stderr = "go: corp.example/lib@v1.0.0: reading https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info: 503 Service Unavailable\n\tserver response: warming up\n";
    check(&Evidence::from_log(stderr), Category::ProxyServerError, "503 Service Unavailable", Some("retry"));
}

#[test]
fn not_found_at_the_end_of_the_list() {
    let stdout = json_error(
        "corp.example/lib@v1.0.0: reading https://mirror.corp.example/corp.example/lib/@v/v1.0.0.info: 404 Not Found\n\tserver response: not found: corp.example/lib@v1.0.0: unknown revision v1.0.0",
    );
    check(
        &evidence(DOWNLOAD, FAILED, &stdout, "", &[]),
        Category::ProxyNotFound,
        "mirror.corp.example answered 404 Not Found",
        Some("add-mirror"),
    );
    let gone = json_error(
        "corp.example/lib@v1.0.0: reading https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info: 410 Gone\n\tserver response: gone",
    );
    check(&evidence(DOWNLOAD, FAILED, &gone, "", &[]), Category::ProxyNotFound, "410 Gone", None);
}

#[test]
fn a_404_names_later_goproxy_entries_only_when_there_are_some() {
    let stdout = json_error(
        "corp.example/lib@v1.0.0: reading https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info: 404 Not Found",
    );
    let summary = |env: &[(&str, &str)]| {
        check(&evidence(DOWNLOAD, FAILED, &stdout, "", env), Category::ProxyNotFound, "404 Not Found", None).summary
    };
    let one = summary(&[("GOPROXY", "https://proxy.corp.example")]);
    assert!(!one.contains("later GOPROXY entry"), "{one}");
    assert!(one.contains("GOPROXY names no other proxy"), "{one}");
    let two = summary(&[("GOPROXY", "https://proxy.corp.example,https://mirror.corp.example")]);
    assert!(two.contains("no later GOPROXY entry could serve it"), "{two}");
    let unknown = summary(&[]);
    assert!(!unknown.contains("later GOPROXY") && !unknown.contains("no other proxy"), "{unknown}");
}

#[test]
fn old_go_wording_for_statuses() {
    // go before 1.13: `unexpected status (URL): 410 Gone`.
    let log = "go: finding corp.example/lib v1.0.0\ngo: corp.example/lib@v1.0.0: unexpected status (https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info): 410 Gone\n";
    check(&Evidence::from_log(log), Category::ProxyNotFound, "410 Gone", None);
}

#[test]
fn auth_statuses() {
    let stdout = json_error(
        "corp.example/lib@v1.0.0: reading https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info: 403 Forbidden\n\tserver response: forbidden by policy",
    );
    check(
        &evidence(DOWNLOAD, FAILED, &stdout, "", &[]),
        Category::ProxyAuth,
        "403 Forbidden",
        Some("goproxy-credentials"),
    );
    let stdout = json_error(
        "corp.example/lib@v1.0.0: reading https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info: 401 Unauthorized\n\tserver response: 401 Unauthorized: this proxy needs credentials",
    );
    check(&evidence(DOWNLOAD, FAILED, &stdout, "", &[]), Category::ProxyAuth, "401 Unauthorized", None);
}

#[test]
fn goproxy_off() {
    let stdout = json_error("corp.example/lib@v1.0.0: module lookup disabled by GOPROXY=off");
    check(
        &evidence(DOWNLOAD, FAILED, &stdout, "", &[("GOPROXY", "off")]),
        Category::ProxyOff,
        "GOPROXY=off",
        Some("enable-goproxy"),
    );
}

#[test]
fn malformed_info_and_zips() {
    let stdout = json_error(
        "corp.example/lib@v1.0.0: invalid response from proxy \"https://proxy.corp.example\": invalid character 'v' looking for beginning of value",
    );
    check(
        &evidence(DOWNLOAD, FAILED, &stdout, "", &[]),
        Category::ProxyBadResponse,
        "https://proxy.corp.example served a malformed answer",
        Some("use-mirror"),
    );
    let trace = "# get https://proxy.corp.example/corp.example/lib/@v/v1.0.0.zip\n# get https://proxy.corp.example/corp.example/lib/@v/v1.0.0.zip: 200 OK (0.002s)\n";
    let d = check(
        &evidence(DOWNLOAD, FAILED, &json_error("zip: not a valid zip file"), trace, &[]),
        Category::ProxyBadResponse,
        "from proxy.corp.example",
        None,
    );
    assert_eq!(d.confidence, Confidence::High);
    let corrupt =
        json_error("zip for corp.example/lib@v1.0.0 has unexpected file corp.examp\u{fffd}e/lib@v1.0.0/LIC\u{fffd}NSE");
    check(
        &evidence(DOWNLOAD, FAILED, &corrupt, trace, &[]),
        Category::ProxyBadResponse,
        "not a valid module zip",
        None,
    );
}

#[test]
fn a_broken_zip_go_did_not_download_is_the_cache() {
    // go 1.26, -x on, the zip already in the module cache (cut to 100 bytes): no `# get`.
    let stderr = "go: zip: not a valid zip file\n";
    let e = evidence("go mod download -x rsc.io/quote@v1.5.2", FAILED, "", stderr, &[]);
    check(&e, Category::CacheCorrupt, "module cache", Some("clean-module-cache"));
    // Without -x nothing tells the two apart: a proxy, as a guess.
    let d = check(&Evidence::from_log(stderr), Category::ProxyBadResponse, "run with -x", None);
    assert_eq!(d.confidence, Confidence::Low);
}

#[test]
fn refused_and_reset_connections() {
    let refused = json_error(
        "corp.example/lib@v1.0.0: Get \"https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info\": dial tcp 127.0.0.1:39551: connect: connection refused",
    );
    let d = check(
        &evidence(
            DOWNLOAD,
            FAILED,
            &refused,
            "",
            &[("GOPROXY", "https://proxy.corp.example,https://mirror.corp.example")],
        ),
        Category::NetRefused,
        "nothing accepts connections at proxy.corp.example",
        Some("pipe-separated-goproxy"),
    );
    assert!(d.summary.contains("with ','"));
    let reset = json_error(
        "corp.example/lib@v1.0.0: read \"https://proxy.corp.example/corp.example/lib/@v/v1.0.0.zip\": read tcp 127.0.0.1:58524->127.0.0.1:38043: read: connection reset by peer",
    );
    check(&evidence(DOWNLOAD, FAILED, &reset, "", &[]), Category::NetReset, "broke mid-exchange", Some("retry"));
    let before = json_error(
        "corp.example/lib@v1.0.0: Get \"https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info\": read tcp 127.0.0.1:48886->127.0.0.1:41187: read: connection reset by peer",
    );
    check(&evidence(DOWNLOAD, FAILED, &before, "", &[]), Category::NetReset, "proxy.corp.example", None);
}

#[test]
fn a_hang_names_the_request_in_flight() {
    let stderr = "# get https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info\n# get https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info: 200 OK (0.001s)\n# get https://proxy.corp.example/corp.example/lib/@v/v1.0.0.zip\n";
    let d = check(
        &evidence(DOWNLOAD, Exit::Timeout, "", stderr, &[]),
        Category::Hang,
        "GET https://proxy.corp.example/corp.example/lib/@v/v1.0.0.zip",
        Some("use-mirror"),
    );
    assert_eq!(d.confidence, Confidence::High);
    let d = check(&evidence("go mod download", Exit::Timeout, "", "", &[]), Category::Hang, "no progress", None);
    assert_eq!(d.confidence, Confidence::Low, "without a trace a hang is a guess");
    assert_eq!(d.alternatives.first().map(|a| a.category), Some(Category::CacheLockStuck));
}

#[test]
fn unrecognised_failures_are_unknown_not_guessed() {
    let d = check(
        &Evidence::from_log(
            "go: downloading corp.example/lib v1.0.0\n# example.com/app\n./main.go:10:18: undefined: lib.Goodbye\n",
        ),
        Category::Unknown,
        "matches no known failure",
        None,
    );
    assert_eq!(d.confidence, Confidence::Low);
    assert!(d.playbooks.is_empty());
    let d = check(&evidence(DOWNLOAD, FAILED, "", "", &[]), Category::Unknown, "without an error message", None);
    assert!(d.evidence.is_empty());
}

#[test]
fn certificate_failures_by_family() {
    let get = |tail: &str| {
        json_error(&format!(
            "corp.example/lib@v1.0.0: Get \"https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info\": {tail}"
        ))
    };
    let cases = [
        (
            "tls: failed to verify certificate: x509: certificate signed by unknown authority",
            Category::TlsUnknownAuthority,
            "does not trust the issuer of proxy.corp.example",
        ),
        // before go 1.20, without the `tls: failed to verify certificate:` prefix
        ("x509: certificate signed by unknown authority", Category::TlsUnknownAuthority, "a private CA"),
        (
            "tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time 2026-11-23T20:30:58Z is after 2026-11-22T20:30:58Z",
            Category::TlsExpired,
            "expired at 2026-11-22T20:30:58Z",
        ),
        (
            "tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time 2026-11-23T20:30:58Z is before 2026-11-24T20:30:58Z",
            Category::TlsExpired,
            "clock",
        ),
        (
            "tls: failed to verify certificate: x509: certificate is valid for www.other.example, not proxy.corp.example",
            Category::TlsHostname,
            "valid for www.other.example, not proxy.corp.example",
        ),
        (
            "tls: failed to verify certificate: x509: cannot validate certificate for 127.0.0.1 because it doesn't contain any IP SANs",
            Category::TlsHostname,
            "names no IP address",
        ),
        (
            "tls: failed to verify certificate: x509: certificate relies on legacy Common Name field, use SANs instead",
            Category::TlsHostname,
            "Common Name",
        ),
    ];
    for (tail, category, summary) in cases {
        check(&evidence(DOWNLOAD, FAILED, &get(tail), "", &[]), category, summary, None);
    }
    let d = check(
        &evidence(
            DOWNLOAD,
            FAILED,
            &get("tls: failed to verify certificate: x509: certificate signed by unknown authority"),
            "",
            &[("HTTPS_PROXY", "http://squid.corp.example:3128")],
        ),
        Category::TlsUnknownAuthority,
        "TLS-inspecting proxy http://squid.corp.example:3128",
        Some("trust-ca"),
    );
    assert!(d.evidence.iter().any(|l| l.text == "HTTPS_PROXY=http://squid.corp.example:3128"));
}

#[test]
fn an_http2_stream_reset_is_a_reset() {
    let stdout = json_error(
        "corp.example/lib@v1.0.0: read \"https://proxy.corp.example/corp.example/lib/@v/v1.0.0.zip\": stream error: stream ID 5; INTERNAL_ERROR; received from peer",
    );
    check(&evidence(DOWNLOAD, FAILED, &stdout, "", &[]), Category::NetReset, "reset the HTTP/2 stream", Some("retry"));
    let eof = json_error(
        "corp.example/lib@v1.0.0: read \"http://proxy.corp.example/corp.example/lib/@v/v1.0.0.zip\": unexpected EOF",
    );
    check(&evidence(DOWNLOAD, FAILED, &eof, "", &[]), Category::NetReset, "broke mid-exchange", None);
}

#[test]
fn checksum_mismatches_name_the_side_that_disagrees() {
    let stderr = "verifying corp.example/lib@v1.2.0: checksum mismatch\n\tdownloaded: h1:gbrv/aOrt8Hf1yuh1DUzmoKF1DgVeVCws0lCYYU0ZeQ=\n\tgo.sum:     h1:osRskwPNNIIwQV2UmwH0FLg9nJ7FgsQeJFgmjkJctjE=\n\nSECURITY ERROR\nThis download does NOT match an earlier download recorded in go.sum.\nThe bits may have been replaced on the origin server, or an attacker may\nhave intercepted the download attempt.\n\nFor more information, see 'go help module-auth'.\n";
    let d = check(
        &evidence("go mod download -json -x", FAILED, "", stderr, &[]),
        Category::SumdbMismatch,
        "differs from go.sum",
        Some("use-mirror"),
    );
    assert!(d.evidence.iter().any(|l| l.text == "SECURITY ERROR"));
    assert!(
        !d.summary.contains("GOSUMDB=off")
            || d.summary.contains("never GOSUMDB=off")
            || d.summary.contains("or turn GOSUMDB off")
    );
    let db = json_error(
        "corp.example/lib@v1.0.0: verifying module: checksum mismatch\n\tdownloaded: h1:8vIPjCmL93qen0cB2kEN3QZhWq0bmPmcnhfa8p2GFw4=\n\tsum.corp.example: h1:8/guZEVOYfoUVLD/iOmqvVG5OtofcUr/xJuytvYZo2Q=",
    );
    check(
        &evidence(DOWNLOAD, FAILED, &db, "", &[]),
        Category::SumdbMismatch,
        "checksum database sum.corp.example recorded",
        Some("use-mirror"),
    );
}

#[test]
fn checksum_database_lookups_that_fail() {
    let leak = json_error(
        "corp.example/lib@v1.0.0: verifying go.mod: corp.example/lib@v1.0.0/go.mod: reading https://sum.golang.org/lookup/corp.example/lib@v1.0.0: 404 Not Found\n\tserver response: not found: corp.example/lib@v1.0.0: unrecognized import path \"corp.example/lib\": https fetch: Get \"https://corp.example/lib?go-get=1\": dial tcp: lookup corp.example: no such host",
    );
    check(
        &evidence(DOWNLOAD, FAILED, &leak, "", &[("GOSUMDB", "sum.golang.org")]),
        Category::SumdbPrivateLeak,
        "add corp.example to GONOSUMDB",
        Some("private-modules-nosumdb"),
    );
    let gone = json_error(
        "github.com/acme/secret@v1.0.0: verifying module: github.com/acme/secret@v1.0.0: reading https://sum.golang.org/lookup/github.com/acme/secret@v1.0.0: 410 Gone",
    );
    check(
        &evidence(DOWNLOAD, FAILED, &gone, "", &[]),
        Category::SumdbPrivateLeak,
        "add github.com/acme to GONOSUMDB",
        None,
    );
    let reset = json_error(
        "corp.example/lib@v1.0.0: verifying go.mod: corp.example/lib@v1.0.0/go.mod: Get \"https://sum.corp.example/lookup/corp.example/lib@v1.0.0\": read tcp 127.0.0.1:49542->127.0.0.1:37817: read: connection reset by peer",
    );
    check(
        &evidence(DOWNLOAD, FAILED, &reset, "", &[]),
        Category::SumdbUnreachable,
        "cannot reach the checksum database sum.corp.example",
        Some("private-modules-nosumdb"),
    );
    let config = json_error("corp.example/lib@v1.0.0: verifying go.mod: invalid GOSUMDB: invalid verifier hash");
    check(
        &evidence(DOWNLOAD, FAILED, &config, "", &[]),
        Category::SumdbUnreachable,
        "GOSUMDB is misconfigured",
        Some("set-gosumdb"),
    );
    let busy = json_error(
        "corp.example/lib@v1.0.0: verifying module: corp.example/lib@v1.0.0: reading https://sum.corp.example/tile/8/0/000.p/3: 503 Service Unavailable",
    );
    check(&evidence(DOWNLOAD, FAILED, &busy, "", &[]), Category::SumdbUnreachable, "answered 503", None);
}

#[test]
fn a_proxy_urls_password_never_reaches_the_prose() {
    let secret_proxy = [("HTTPS_PROXY", "http://alice:s3cret-pw@gw.corp.example:3128")];
    let tunnel = evidence(
        DOWNLOAD,
        FAILED,
        "",
        "go: corp.example/lib@v1.0.0: Get \"https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info\": Proxy Authentication Required\n",
        &secret_proxy,
    );
    let d = check(&tunnel, Category::HttpProxyFailure, "gw.corp.example:3128", None);
    assert!(!d.summary.contains("s3cret-pw") && !d.summary.contains("alice"), "{}", d.summary);
    let inspected = evidence(
        DOWNLOAD,
        FAILED,
        &json_error(
            "corp.example/lib@v1.0.0: Get \"https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info\": tls: failed to verify certificate: x509: certificate signed by unknown authority",
        ),
        "",
        &secret_proxy,
    );
    let d = check(&inspected, Category::TlsUnknownAuthority, "gw.corp.example:3128", None);
    assert!(!d.summary.contains("s3cret-pw"), "{}", d.summary);
}

/// go's output, its environment, the verdict it reads as, and another category it names.
type AmbiguousCase = (&'static str, &'static [(&'static str, &'static str)], Category, Category);

/// A verdict resting on evidence with several known causes is capped at low confidence and
/// names the other causes; the same words with evidence that settles them stay sure.
#[test]
fn evidence_with_several_causes_is_low_confidence_and_names_the_others() {
    let cases: &[AmbiguousCase] = &[
        (
            "go: github.com/acme/tool@v1.0.0: reading github.com/acme/tool/go.mod at revision v1.0.0: git ls-remote -q \
             origin in /m: exit status 128:\n\tfatal: could not read Username for 'https://github.com': terminal \
             prompts disabled",
            &[],
            Category::VcsAuth,
            Category::VcsNotFound,
        ),
        (
            "go: git.corp.example/lib@v1.0.0: invalid version: git ls-remote -q origin in /m: exit status 128:\n\t\
             fatal: repository 'https://git.corp.example/lib/' not found",
            &[],
            Category::VcsNotFound,
            Category::VcsAuth,
        ),
        (
            "go: github.com/acme/tool@v1.0.0: Get \"https://proxy.golang.org/github.com/acme/tool/@v/v1.0.0.mod\": \
             dial tcp: lookup proxy.golang.org on 172.17.0.1:53: no such host",
            &[],
            Category::DnsNxdomain,
            Category::DnsFailure,
        ),
        (
            "go: corp.example/lib@v1.0.0: reading https://athens.corp.example/corp.example/lib/@v/v1.0.0.info: 404 Not \
             Found",
            &[("GOPROXY", "https://athens.corp.example")],
            Category::ProxyNotFound,
            Category::ProxyServerError,
        ),
        (
            "verifying github.com/acme/tool@v1.0.0: checksum mismatch\n\tdownloaded: h1:aaaa=\n\tgo.sum:     h1:bbbb=",
            &[],
            Category::SumdbMismatch,
            Category::CacheCorrupt,
        ),
        (
            "go: go.mod requires go >= 1.99.0 (running go 1.26.8; GOTOOLCHAIN=local)",
            &[],
            Category::ToolchainDownload,
            Category::ModuleGoMod,
        ),
        (
            "go: github.com/acme/tool@v1.0.0: Get \"https://proxy.golang.org/github.com/acme/tool/@v/v1.0.0.info\": \
             dial tcp: i/o timeout",
            &[],
            Category::DnsFailure,
            Category::NetTimeout,
        ),
        (
            "go: corp.example/lib@v1.0.0: unexpected status (https://goproxy.corp.example/corp.example/lib/@v/v1.0.0.mod): \
             400 Bad Request",
            &[],
            Category::ProxyServerError,
            Category::ProxyBadResponse,
        ),
    ];
    for (stderr, env, category, other) in cases {
        let d = diagnose(&evidence("go build ./...", FAILED, "", stderr, env));
        assert_eq!(d.category, *category, "{stderr}\n{d:#?}");
        assert_eq!(d.confidence, Confidence::Low, "{stderr}\n{d:#?}");
        assert!(d.alternatives.iter().any(|a| a.category == *other), "{stderr}: {other} missing\n{d:#?}");
        assert!(d.alternatives.iter().all(|a| a.confidence <= d.confidence), "{d:#?}");
    }
    // What settles the same words: a fresh download shows the mismatch is the origin's
    // bits, and a name nobody else knows may well not exist.
    let downloaded = "go: downloading github.com/acme/tool v1.0.0\nverifying github.com/acme/tool@v1.0.0: checksum \
                      mismatch\n\tdownloaded: h1:aaaa=\n\tgo.sum:     h1:bbbb=";
    let d = diagnose(&evidence("go build ./...", FAILED, "", downloaded, &[]));
    assert_eq!((d.category, d.confidence), (Category::SumdbMismatch, Confidence::High), "{d:#?}");
    let typo = "go: corp.example/lib@v1.0.0: Get \"https://prxy.corp.example/corp.example/lib/@v/v1.0.0.mod\": dial \
                tcp: lookup prxy.corp.example on 10.0.0.2:53: no such host";
    let d = diagnose(&evidence("go build ./...", FAILED, "", typo, &[]));
    assert_eq!((d.category, d.confidence), (Category::DnsNxdomain, Confidence::High), "{d:#?}");
}

/// A public proxy answering "not found" for the modules of several unrelated owners is
/// failing itself; one module's 404 stays a not-found.
#[test]
fn a_public_proxy_missing_many_unrelated_public_modules_is_failing() {
    let line = |m: &str| {
        format!(
            "go: {m}@v1.0.0: reading https://goproxy.cn/{m}/@v/v1.0.0.zip: 404 Not Found\n\tserver response: not found\n"
        )
    };
    let several: String = ["github.com/a/x", "github.com/b/y", "golang.org/x/text"].iter().map(|m| line(m)).collect();
    let d = diagnose(&evidence("go mod download", FAILED, "", &several, &[]));
    assert_eq!((d.category, d.confidence), (Category::ProxyServerError, Confidence::Low), "{d:#?}");
    assert!(d.alternatives.iter().any(|a| a.category == Category::ProxyNotFound), "{d:#?}");
    let one = line("github.com/a/x");
    let d = diagnose(&evidence("go mod download", FAILED, "", &one, &[]));
    assert_eq!((d.category, d.confidence), (Category::ProxyNotFound, Confidence::Low), "{d:#?}");
}

/// git's and curl's own words for network and proxy failures, as go quotes them after
/// `exit status 128:`, are read as what they say rather than as a missing version.
#[test]
fn git_and_curl_words_for_network_failures_are_read() {
    let git = "go: github.com/x/y@v1.0.0: invalid version: git ls-remote -q origin in /m: exit status 128:\n\t";
    let cases = [
        (
            "fatal: unable to access 'https://github.com/x/y/': Failed to connect to github.com port 443 after 21000 ms: Timed out",
            Category::NetTimeout,
        ),
        (
            "fatal: unable to access 'https://github.com/x/y/': OpenSSL SSL_read: Connection was reset, errno 10054",
            Category::NetReset,
        ),
        (
            "fatal: unable to access 'https://github.com/x/y/': gnutls_handshake() failed: The TLS connection was non-properly terminated.",
            Category::NetReset,
        ),
        (
            "fatal: unable to access 'https://github.com/x/y/': Received HTTP code 407 from proxy after CONNECT",
            Category::HttpProxyFailure,
        ),
        ("Host key verification failed.\n\tfatal: Could not read from remote repository.", Category::VcsAuth),
    ];
    for (words, category) in cases {
        let stderr = format!("{git}{words}");
        let d = diagnose(&evidence("go mod download", FAILED, "", &stderr, &[]));
        assert_eq!(d.category, category, "{words}\n{d:#?}");
    }
    for broken in ["local error: tls: bad record MAC", "http2: client connection force closed via ClientConn.Close"] {
        let stderr = format!(
            "go: github.com/x/y@v1.0.0: Get \"https://proxy.golang.org/github.com/x/y/@v/v1.0.0.zip\": {broken}"
        );
        let d = diagnose(&evidence("go mod download", FAILED, "", &stderr, &[]));
        assert_eq!(d.category, Category::NetReset, "{broken}\n{d:#?}");
    }
    let hung_up = format!("{git}fatal: the remote end hung up unexpectedly");
    let d = diagnose(&evidence("go mod download", FAILED, "", &hung_up, &[]));
    assert_eq!((d.category, d.confidence), (Category::NetReset, Confidence::Low), "{d:#?}");
    let unassignable = "go: github.com/x/y@v1.0.0: Get \"https://proxy.golang.org/github.com/x/y/@v/v1.0.0.mod\": dial tcp \
                        [2607:f8b0::1]:443: connect: cannot assign requested address";
    let d = diagnose(&evidence("go mod download", FAILED, "", unassignable, &[]));
    assert_eq!(d.category, Category::NetUnreachable, "{d:#?}");
}

/// go's wrappers that say less than they seem to: `invalid version: git …` wraps any git
/// failure, `unknown revision` in direct mode is both a missing revision and a missing
/// version, and a private proxy's 5xx quoting its git's prompt is its missing credentials.
#[test]
fn wrappers_that_say_less_than_they_seem_are_low_confidence() {
    let cases: &[AmbiguousCase] = &[
        (
            "go: github.com/x/y@v1.0.0: invalid version: git ls-remote -q origin in /m: exit status 128:\n\tfatal: \
             unable to access 'https://github.com/x/y/': The requested URL returned error: 500",
            &[],
            Category::ModuleInvalidVersion,
            Category::VcsNotFound,
        ),
        (
            "go: github.com/x/y@v1.0.0: reading github.com/x/y/go.mod at revision v1.0.0: unknown revision v1.0.0",
            &[("GOPROXY", "direct")],
            Category::VcsNotFound,
            Category::ModuleInvalidVersion,
        ),
        (
            "go: github.com/x/y@v1.0.0: reading https://athens.corp.example/github.com/x/y/@v/v1.0.0.info: 500 Internal \
             Server Error\n\tserver response: fatal: could not read Username for 'https://github.com': terminal \
             prompts disabled",
            &[],
            Category::ProxyServerError,
            Category::VcsAuth,
        ),
    ];
    for (stderr, env, category, other) in cases {
        let d = diagnose(&evidence("go build ./...", FAILED, "", stderr, env));
        assert_eq!((d.category, d.confidence), (*category, Confidence::Low), "{stderr}\n{d:#?}");
        assert!(d.alternatives.iter().any(|a| a.category == *other), "{stderr}: {other} missing\n{d:#?}");
    }
    let socks = "go: github.com/x/y@v1.0.0: Get \"https://proxy.golang.org/github.com/x/y/@v/v1.0.0.mod\": socks connect \
                 tcp 127.0.0.1:1080->proxy.golang.org:443: dial tcp 127.0.0.1:1080: connect: connection refused";
    let d = diagnose(&evidence("go build ./...", FAILED, "", socks, &[]));
    assert_eq!(d.category, Category::HttpProxyFailure, "{d:#?}");
}

/// go's import stacks (`X tested by` / `X imports`, then the failing package on a tab line)
/// and a paste that wrapped `M@v: M@v:` before `invalid version:` still carry the error.
#[test]
fn import_stacks_and_wrapped_invalid_versions_are_read() {
    let stack = "pkg tested by\n\tpkg.test imports\n\tx.example/dep imports\n\tvanity.example/lib: cannot find module \
                 providing package vanity.example/lib: unrecognized import path \"vanity.example/lib\": https fetch: \
                 Get \"https://vanity.example/lib?go-get=1\": dial tcp: lookup vanity.example on 127.0.0.1:53: no such host";
    let d = diagnose(&evidence("go mod tidy", FAILED, "", stack, &[]));
    assert_eq!(d.category, Category::DnsNxdomain, "{d:#?}");
    let wrapped = "go: x.example/tool@v2.0.0-beta1: x.example/tool@v2.0.0-beta1:\ninvalid version: go.mod has post-v2 \
                   module path \"x.example/tool/v2\" at revision v2.0.0-beta1";
    let d = diagnose(&evidence("go install x.example/tool@v2.0.0-beta1", FAILED, "", wrapped, &[]));
    assert_eq!(d.category, Category::ModuleInvalidVersion, "{d:#?}");
    let malformed = "go: x.example/m@v0.0.0-20240101000000-0a1cf4775e8b: invalid version: go.mod has malformed module \
                     path \"x.example/m/v1\" at revision 0a1cf4775e8b";
    let d = diagnose(&evidence("go get x.example/m@0a1cf4775e8b", FAILED, "", malformed, &[]));
    assert_eq!(d.category, Category::ModuleInvalidVersion, "{d:#?}");
}

/// A resolver that cannot be reached fails every name: no playbook that points go at
/// another name (a mirror) or reruns it is offered; one that answers badly gets both.
#[test]
fn an_unreachable_resolver_gets_no_playbook_a_failing_one_does() {
    let refused = "go: corp.example/lib@v1.0.0: Get \"https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info\": \
                   dial tcp: lookup proxy.corp.example on 127.0.0.53:53: read udp 127.0.0.1:40001->127.0.0.53:53: \
                   read: connection refused";
    let d = check(
        &evidence(DOWNLOAD, FAILED, "", refused, &[]),
        Category::DnsFailure,
        "every name fails alike, so the cure is outside go (start",
        None,
    );
    assert!(d.playbooks.is_empty(), "{:?}", d.playbooks);
    let no_route = "go: corp.example/lib@v1.0.0: Get \"https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info\": \
                    dial tcp: lookup proxy.corp.example on [2001:db8::53]:53: dial udp [2001:db8::53]:53: connect: \
                    network is unreachable";
    let d = check(&evidence(DOWNLOAD, FAILED, "", no_route, &[]), Category::DnsFailure, "is not reachable", None);
    assert!(d.playbooks.is_empty(), "{:?}", d.playbooks);
    let servfail = "go: corp.example/lib@v1.0.0: Get \"https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info\": \
                    dial tcp: lookup proxy.corp.example on 127.0.0.1:53: server misbehaving";
    check(
        &evidence(DOWNLOAD, FAILED, "", servfail, &[]),
        Category::DnsFailure,
        "the resolver is not",
        Some("use-mirror"),
    );
}
