//! The diagnosis rules on go's exact words for what the corpus covers thinly: texts
//! verified with go 1.26/1.27 (network failures without a route, GOVCS, go.mod and go.sum
//! problems, `go mod verify`, an unprivileged user's caches, 429s, captive portals), go's
//! older and Windows wordings, and the context a pasted CI log carries (its end line, a
//! cancellation, a trace cut short). Each is read as a user pastes it
//! (`Evidence::from_log`).

use modchaos::diagnose::{Category, Confidence, Diagnosis, diagnose};
use modchaos::evidence::Evidence;

fn verdict(log: &str) -> Diagnosis {
    diagnose(&Evidence::from_log(log))
}

#[track_caller]
fn expect(log: &str, category: Category) -> Diagnosis {
    let d = verdict(log);
    assert_eq!(d.category, category, "{log}\n{d:#?}");
    d
}

#[test]
fn no_route_to_the_host_is_net_unreachable() {
    for log in [
        "go: corp.example/lib@v1.0.0: Get \"https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info\": dial tcp 10.4.4.9:443: connect: network is unreachable\n",
        "go: corp.example/lib@v1.0.0: Get \"https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info\": dial tcp 10.5.5.9:443: connect: no route to host\n",
        "go: github.com/x/y@v1.2.3: Get \"https://proxy.golang.org/github.com/x/y/@v/v1.2.3.mod\": dial tcp [2607:f8b0:4004:c1b::8d]:443: connectex: A socket operation was attempted to an unreachable network.\n",
    ] {
        let d = expect(log, Category::NetUnreachable);
        assert_eq!(d.confidence, Confidence::High);
    }
    // The resolver being unreachable is a DNS failure, and a proxy's is the proxy's.
    expect(
        "go: m@v1: Get \"https://proxy.golang.org/m/@v/v1.info\": dial tcp: lookup proxy.golang.org on 192.168.0.1:53: dial udp 192.168.0.1:53: connect: no route to host\n",
        Category::DnsFailure,
    );
    expect(
        "go: m@v1: Get \"https://proxy.golang.org/m/@v/v1.info\": proxyconnect tcp: dial tcp 10.0.0.1:3128: connect: no route to host\n",
        Category::HttpProxyFailure,
    );
}

#[test]
fn govcs_refusing_git_is_vcs_disallowed() {
    for log in [
        "go: corp.example/team/lib.git@v1.0.0: GOVCS disallows using git for public corp.example/team/lib.git; see 'go help vcs'\n",
        "go: corp.example/team/plain@v1.0.0: unrecognized import path \"corp.example/team/plain\": GOVCS disallows using git for private corp.example/team/plain; see 'go help vcs'\n",
        "go: corp.example/team/plain@v1.0.0: unrecognized import path \"corp.example/team/plain\": malformed entry in GOVCS (missing colon): \"bogus\"\n",
        // go 1.16's betas: the refusal without "; see 'go help vcs'" (added for golang/go#43596).
        "go get corp.example/team/lib.git/cmd: GOVCS disallows using git for public corp.example/team/lib.git\n",
    ] {
        let d = expect(log, Category::VcsDisallowed);
        // A refusal names the tool and the path; only a malformed GOVCS "cannot be parsed".
        assert_eq!(log.contains("disallows"), !d.summary.contains("cannot be parsed"), "{log}: {}", d.summary);
    }
}

#[test]
fn the_work_modules_go_mod_is_module_go_mod() {
    for log in [
        "go: errors parsing go.mod:\n/src/app/go.mod:5: unknown directive: toolchain\n",
        "go: errors parsing go.mod:\ngo.mod:3: invalid go version '1.21.0': must match format 1.23\n",
        "go: go.mod file not found in current directory or any parent directory; see 'go help modules'\n",
        "go: updates to go.mod needed; to update it:\n\tgo mod tidy\n",
        "go: inconsistent vendoring in /src/app:\n\tgithub.com/x/y@v1.2.0: is explicitly required in go.mod, but not marked as explicit in vendor/modules.txt\n",
        "go: errors parsing go.work:\ngo.work:3: unknown directive: toolhcain\n",
        "go: go.mod file indicates go 1.22, but maximum version supported by tidy is 1.21\n",
        "go: cannot find main module, but found .git/config in /src\n\tto create a module there, run:\n\tgo mod init\n",
    ] {
        expect(log, Category::ModuleGoMod);
    }
    // Too new for a go that may switch toolchains: the switch is what failed.
    expect("go: go.mod requires go >= 1.99.0 (running go 1.26.8; GOTOOLCHAIN=local)\n", Category::ToolchainDownload);
}

#[test]
fn missing_go_sum_entries_are_module_go_sum_missing() {
    for log in [
        "main.go:2:8: missing go.sum entry for module providing package corp.example/lib (imported by m); to add:\n\tgo get m\n",
        "go: corp.example/lib@v1.0.0: missing go.sum entry for go.mod file; to add it:\n\tgo mod download corp.example/lib\n",
        "go: updates to go.sum needed, disabled by -mod=readonly\n",
        "go: writing go.sum: open /src/app/go.sum123.tmp: read-only file system\n",
    ] {
        expect(log, Category::ModuleGoSumMissing);
    }
}

#[test]
fn go_mod_verify_failures_are_cache_corruption() {
    for log in [
        "corp.example/lib v1.0.0: dir has been modified (/home/u/go/pkg/mod/corp.example/lib@v1.0.0)\n",
        "corp.example/lib v1.0.0: zip has been modified (/home/u/go/pkg/mod/cache/download/corp.example/lib/@v/v1.0.0.zip)\ncorp.example/lib v1.0.0: dir has been modified (/home/u/go/pkg/mod/corp.example/lib@v1.0.0)\n",
        "corp.example/lib v1.0.0: missing ziphash: open /home/u/go/pkg/mod/cache/download/corp.example/lib/@v/v1.0.0.ziphash: no such file or directory\n",
        "verifying github.com/libp2p/go-libp2p-secio@v0.0.1: unexpected ziphash: \"\"\n",
    ] {
        let d = expect(log, Category::CacheCorrupt);
        assert!(d.playbooks.iter().any(|p| p == "clean-module-cache"), "{d:#?}");
    }
}

#[test]
fn caches_an_unprivileged_user_cannot_write_are_cache_permission() {
    for log in [
        "failed to initialize build cache at /root/.cache/go-build: mkdir /root/.cache/go-build: permission denied\n",
        "build cache is required, but could not be located: GOCACHE is not defined and neither $XDG_CACHE_HOME nor $HOME are defined\n",
        "go: could not create module cache: mkdir /nonexistent/go: permission denied\n",
        "go: creating work dir: mkdir /tmp/go-build254459876: no space left on device\n",
        "main.go:6:2: open /home/ci/go/pkg/mod/cache/download/corp.example/lib/@v/v1.0.0.lock: permission denied\n",
        "go: module cache not found: neither GOMODCACHE nor GOPATH is set\n",
    ] {
        expect(log, Category::CachePermission);
    }
    // A read-only cache on a command that only reads: a warning, and go succeeded.
    let d = expect(
        "go: writing stat cache: open /root/go/pkg/mod/cache/download/corp.example/lib/@v/v1.0.0.info54118810.tmp: permission denied\nok  \tcorp.example/app\t0.004s\n",
        Category::None,
    );
    assert!(d.confidence >= Confidence::Medium, "{d:#?}");
}

#[test]
fn rate_limits_portals_and_server_bodies() {
    expect(
        "go: corp.example/lib@v1.0.0: reading https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info: 429 Too Many Requests\n\tserver response: rate limited, retry later\n",
        Category::ProxyServerError,
    );
    expect(
        "go: corp.example/lib@v1.0.0: Get \"http://portal.corp.example/login\": redirected from secure URL https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info to insecure URL http://portal.corp.example/login\n",
        Category::ProxyBadResponse,
    );
    expect(
        "go: corp.example/lib@v1.0.0: invalid response from proxy \"https://proxy.corp.example\": invalid character '<' looking for beginning of value\n",
        Category::ProxyBadResponse,
    );
    // What a checksum database's 410 says separates a leak from a version that does not exist.
    let leak = "verifying corp.example/lib@v1.0.0: corp.example/lib@v1.0.0: reading https://sum.golang.org/lookup/corp.example/lib@v1.0.0: 410 Gone\n\tserver response: not found: corp.example/lib@v1.0.0: unrecognized import path \"corp.example/lib\": https fetch: Get \"https://corp.example/lib?go-get=1\": dial tcp: lookup corp.example: no such host\n";
    expect(leak, Category::SumdbPrivateLeak);
    let missing = "verifying github.com/x/y@v1.2.3: github.com/x/y@v1.2.3: reading https://sum.golang.org/lookup/github.com/x/y@v1.2.3: 410 Gone\n\tserver response: not found: github.com/x/y@v1.2.3: invalid version: unknown revision v1.2.3\n";
    let d = expect(missing, Category::ModuleInvalidVersion);
    assert_eq!(d.alternatives.first().map(|a| a.category), Some(Category::SumdbPrivateLeak));
    // A proxy forwarding the checksum database fails: go cannot verify.
    let d = expect(
        "go: corp.example/lib@v1.0.0: verifying go.mod: corp.example/lib@v1.0.0/go.mod: reading https://proxy.corp.example/sumdb/sum.corp.example/supported: 500 Internal Server Error\n\tserver response: proxy broke\n",
        Category::SumdbUnreachable,
    );
    assert_eq!(d.alternatives.first().map(|a| a.category), Some(Category::ProxyServerError));
    assert_eq!(d.confidence, Confidence::Low, "a 5xx reads as the proxy's own failure too");
    // A proxy that says "not found" because its own disk is full.
    expect(
        "go: github.com/x/y@v1.1.6: reading https://goproxy.io/github.com/x/y/@v/v1.1.6.mod: 404 Not Found\n        server response: not found: github.com/x/y@v1.1.6: no space left on device\n",
        Category::ProxyServerError,
    );
}

#[test]
fn older_and_other_platforms_wordings() {
    expect(
        "go get golang.org/x/crypto: unexpected status (https://goproxy.example/golang.org/x/crypto/@v/list): 410 Gone\n",
        Category::ProxyNotFound,
    );
    expect(
        "go: finding github.com/x/y v1.2.3\ngo: github.com/x/y@v1.2.3: Get https://proxy.golang.org/github.com/x/y/@v/v1.2.3.mod: dial tcp 142.251.43.17:443: i/o timeout\n",
        Category::NetTimeout,
    );
    expect(
        "package golang.org/x/net/html: unrecognized import path \"golang.org/x/net/html\" (https fetch: Get https://golang.org/x/net/html?go-get=1: dial tcp 216.239.37.1:443: connectex: A connection attempt failed because the connected party did not properly respond after a period of time, or established connection failed because connected host has failed to respond.)\n",
        Category::NetTimeout,
    );
    expect(
        "go: github.com/x/y@v1.2.3: Get \"http://localhost:3000/github.com/x/y/@v/v1.2.3.info\": read tcp [::1]:52340->[::1]:3000: wsarecv: An existing connection was forcibly closed by the remote host.\n",
        Category::NetReset,
    );
    expect(
        "go: github.com/x/y@v1.2.3: Get \"https://proxy.golang.org/github.com/x/y/@v/v1.2.3.info\": dial tcp 127.0.0.1:8080: connectex: No connection could be made because the target machine actively refused it.\n",
        Category::NetRefused,
    );
    expect(
        "go: github.com/x/y@v1.2.3: Get \"https://proxy.golang.org/github.com/x/y/@v/v1.2.3.info\": dial tcp: lookup proxy.golang.org: getaddrinfow: This is usually a temporary error during hostname resolution and means that the local server did not receive a response from an authoritative server.\n",
        Category::DnsFailure,
    );
    expect(
        "go: github.com/x/y@v1.2.3: Get \"https://proxy.golang.org/github.com/x/y/@v/v1.2.3.info\": dial tcp: lookup proxy.golang.org: getaddrinfow: No such host is known.\n",
        Category::DnsNxdomain,
    );
    expect(
        "package honnef.co/go/tools: unrecognized import path \"honnef.co/go/tools\" (parse https://honnef.co/go/tools?go-get=1: no go-import meta tags ())\n",
        Category::VcsMeta,
    );
    // A ?go-get=1 page behind a login is about credentials, not meta tags.
    expect(
        "go: go.corp.example/platform@v1.2.0: unrecognized import path \"go.corp.example/platform\": reading https://go.corp.example/platform?go-get=1: 401 Unauthorized\n\tserver response: 401 Unauthorized\n",
        Category::VcsAuth,
    );
}

#[test]
fn go_embedded_in_tools_that_run_it() {
    expect(
        "   ⨯ release failed after 3s   error=hook failed: go mod download: exit status 1; output: go: corp.example/lib@v1.0.0: reading https://proxy.corp.example/corp.example/lib/@v/v1.0.0.zip: 410 Gone\n",
        Category::ProxyNotFound,
    );
    expect(
        "level=error msg=\"Running error: context loading failed: failed to load packages: err: exit status 1: stderr: go: downloading go1.22 (linux/amd64)\\ngo: download go1.22 for linux/amd64: toolchain not available\\n\"\n",
        Category::ToolchainDownload,
    );
    expect(
        "Error in fail: failed to fetch com_github_x_y: fetch_repo: github.com/x/y@v0.1.7: Get \"https://proxy.golang.org/github.com/x/y/@v/v0.1.7.info\": dial tcp 142.250.69.209:443: i/o timeout\n",
        Category::NetTimeout,
    );
    expect(
        "Error loading workspace: err: exit status 1: stderr: go: github.com/x/y@v0.2.9: module lookup disabled by GOPROXY=off : packages.Load error\n",
        Category::ProxyOff,
    );
    expect(
        "updater | 2024/05/01 10:00:03 ERROR <job_1> go: github.com/x/y@v1.2.3: reading https://proxy.golang.org/github.com/x/y/@v/v1.2.3.info: 403 Forbidden\n",
        Category::ProxyAuth,
    );
}

#[test]
fn a_killed_run_is_never_a_success() {
    // A trace cut in the middle of a request, with or without the CI's words for it.
    let cut = "# get https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info\n# get https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info: 200 OK (0.003s)\n# get https://proxy.corp.example/corp.example/lib/@v/v1.0.0.zip\n";
    let d = expect(cut, Category::Hang);
    assert_eq!(d.confidence, Confidence::Medium);
    for end in [
        "##[error]The operation was canceled.\n",
        "ERROR: Job failed: execution took longer than 1h0m0s seconds\n",
        "Killed\n",
        "make: *** [Makefile:3: deps] Error 137\n",
        "Build timed out (after 10 minutes). Marking the build as aborted.\n",
    ] {
        let d = expect(&format!("{cut}{end}"), Category::Hang);
        assert_eq!(d.confidence, Confidence::High, "{end}");
        assert!(d.context.iter().any(|c| c.contains("killed")), "{d:#?}");
    }
    // Every request answered, then killed: go waited on something else.
    let answered = "# get https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info\n# get https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info: 200 OK (0.001s)\n";
    let d = expect(&format!("{answered}##[error]The operation was canceled.\n"), Category::CacheLockStuck);
    assert_eq!(d.alternatives.first().map(|a| a.category), Some(Category::Hang));
    // The last thing go did was to take a lock.
    expect(
        "# get https://git.corp.example/lib?go-get=1: 200 OK (0.043s)\n# lock /home/u/go/pkg/mod/cache/vcs/bf63.lock\nsignal: killed\n",
        Category::CacheLockStuck,
    );
    // git never ended.
    expect(
        "# lock /home/u/go/pkg/mod/cache/vcs/e7d6.lock\ncd /home/u/go/pkg/mod/cache/vcs/e7d6; git ls-remote -q --end-of-options https://stuck.corp.example/lib.git\nERROR: Job failed: execution took longer than 1h0m0s seconds\n",
        Category::Hang,
    );
    // Work done without an end: a low-confidence success, a hang as its alternative.
    let d = expect(answered, Category::None);
    assert_eq!(d.confidence, Confidence::Low);
}

#[test]
fn regression_a_trace_whose_error_went_to_stdout_is_read_not_called_a_success() {
    // `go mod download -json -x` puts its error in the JSON on stdout: stderr, pasted
    // alone, holds only the trace. It read as "go succeeded" (no exit status) or as an
    // `unknown` that showed no evidence at all (exit status 1).
    let info = "https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info";
    let log = format!("# get {info}\n# get {info}: 500 Internal Server Error (0.002s)\n");
    let quoted = format!("# get {info}: 500 Internal Server Error (0.002s)");
    let d = expect(&log, Category::ProxyServerError);
    assert_eq!(d.confidence, Confidence::Low, "no exit status: {d:#?}");
    assert_eq!(d.evidence[0].text, quoted, "{d:#?}");
    assert!(d.summary.contains("-x trace") && d.summary.contains("corp.example/lib@v1.0.0"), "{}", d.summary);
    assert!(d.alternatives.iter().any(|a| a.category == Category::Hang), "{d:#?}");
    // Exit status 1: go failed, and the trace says on what — still without go's words.
    let mut evidence = Evidence::from_log(&log);
    evidence.given_exit(modchaos::vocab::Exit::Code { code: 1 }, "--exit-status");
    let d = diagnose(&evidence);
    assert_eq!((d.category, d.confidence), (Category::ProxyServerError, Confidence::Medium), "{d:#?}");
    // The other statuses and errors read as go's error for them would.
    let at_the_end = format!("# get {info}\n# get {info}: 404 Not Found (0.002s)\n");
    expect(&at_the_end, Category::ProxyNotFound);
    let refused =
        format!("# get {info}\n# get {info}: Get \"{info}\": dial tcp 10.0.0.9:443: connect: connection refused\n");
    expect(&refused, Category::NetRefused);
    // A failure the next GOPROXY entry made good, and prefixes go asked about beside the
    // module, are no failure: go succeeded.
    let mirror = "https://mirror.corp.example/corp.example/lib/@v/v1.0.0.info";
    expect(&format!("{log}# get {mirror}\n# get {mirror}: 200 OK (0.001s)\n"), Category::None);
    let prefix = "https://proxy.corp.example/corp.example/@v/v1.0.0.info";
    expect(
        &format!(
            "# get {info}\n# get {prefix}\n# get {info}: 200 OK (0.001s)\n# get {prefix}: 404 Not Found (0.001s)\n"
        ),
        Category::None,
    );
}

#[test]
fn regression_an_unknown_verdict_shows_evidence() {
    // "nothing matched: the evidence is shown as is" showed none where go printed no error.
    let mut evidence =
        Evidence::from_log("go: downloading corp.example/lib v1.0.0\ngo: finding corp.example/util v0.3.0\n");
    evidence.given_exit(modchaos::vocab::Exit::Code { code: 1 }, "--exit-status");
    let d = diagnose(&evidence);
    assert_eq!(d.category, Category::Unknown, "{d:#?}");
    let shown: Vec<&str> = d.evidence.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(shown, ["go: downloading corp.example/lib v1.0.0", "go: finding corp.example/util v0.3.0"], "{d:#?}");
}

#[test]
fn successes_that_warn_are_none() {
    let d = expect(
        "go get: installing executables with 'go get' in module mode is deprecated.\n\tTo adjust and download dependencies of the current module, use 'go get -d'.\n",
        Category::None,
    );
    assert!(!d.evidence.is_empty(), "the warning is quoted: {d:#?}");
    expect(
        "go: module github.com/golang/protobuf is deprecated: Use the \"google.golang.org/protobuf\" module instead.\ngo: added github.com/golang/protobuf v1.5.4\n",
        Category::None,
    );
    expect(
        "go: warning: github.com/x/y@v1.2.0: retracted by module author: broken release\ngo: to switch to the latest unretracted version, run:\n\tgo get github.com/x/y@latest\ngo: added github.com/x/y v1.2.0\n",
        Category::None,
    );
}

#[test]
fn the_exit_status_a_ci_log_prints_is_used() {
    let d = verdict("go: downloading corp.example/lib v1.0.0\n##[error]Process completed with exit code 1.\n");
    assert_eq!(d.category, Category::Unknown, "a failure without a recognised error: {d:#?}");
    assert!(d.context.iter().any(|c| c.starts_with("exit status 1")), "{d:#?}");
}

#[test]
fn what_else_a_log_can_show() {
    // A goroutine dump of a stuck go command, blocked in its lock file.
    expect(
        "go: downloading github.com/acme/widget v1.2.0\nSIGQUIT: quit\nPC=0x46e2a1 m=0 sigcode=0\n\ngoroutine 1 [syscall, 1327 minutes]:\nsyscall.Syscall(0x49, 0x3, 0x2, 0x0)\nsyscall.Flock(0x3, 0x2)\ncmd/go/internal/lockedfile/internal/filelock.lock(...)\n",
        Category::CacheLockStuck,
    );
    // A go.mod that is an HTML page, cached earlier.
    expect("main.go:2:8: corp.example/lib@v1.0.0: parsing go.mod: missing module line\n", Category::CacheCorrupt);
    expect("go: GOAUTH encountered an empty command (GOAUTH=;)\n", Category::ProxyAuth);
    // The misleading error of a build cache root made, after go's warning.
    let d = expect(
        "go: writing stat cache: open /home/ci/go/pkg/mod/cache/download/m/@v/v1.0.0.info1.tmp: permission denied\npackage m: cannot find package\n",
        Category::CachePermission,
    );
    assert_eq!(d.confidence, Confidence::Medium);
    // A failing test whose own log mentions the network is no network failure of go's.
    let d = verdict(
        "--- FAIL: TestDial (0.00s)\n        dial_test.go:12: dial tcp 127.0.0.1:9: connect: connection refused\nFAIL\nFAIL\texample.com/app\t0.003s\n",
    );
    assert!(matches!(d.category, Category::Unknown | Category::None), "{d:#?}");
    assert!(d.confidence < Confidence::Medium, "{d:#?}");
    expect(
        "go: 'go get' is no longer supported outside a module.\n\tTo build and install a command, use 'go install' with a version,\n",
        Category::ModuleGoMod,
    );
    expect(
        "main.go:4:2: cannot find module providing package github.com/acme/widget: import lookup disabled by -mod=vendor\n",
        Category::ModuleGoMod,
    );
    expect(
        "go: github.com/acme/widget@v1.2.0: write /go/src/github.com/acme/widget/widget.go: no space left on device\n",
        Category::CachePermission,
    );
}

#[test]
fn public_proxies_code_hosts_and_renames() {
    // A public proxy's "invalid version" is the origin's answer: the version does not exist.
    expect(
        "go: github.com/acme/widget@v1.2.3: reading https://proxy.golang.org/github.com/acme/widget/@v/v1.2.3.info: 404 Not Found\n\tserver response: not found: github.com/acme/widget@v1.2.3: invalid version: unknown revision v1.2.3\n",
        Category::ModuleInvalidVersion,
    );
    // …unless it says its own git needed credentials: a private module.
    expect(
        "go: github.com/acme/private@v1.2.3: reading https://proxy.golang.org/github.com/acme/private/@v/v1.2.3.info: 410 Gone\n\tserver response: not found: github.com/acme/private@v1.2.3: invalid version: git ls-remote -q origin in /tmp/gopath/pkg/mod/cache/vcs/1: exit status 128:\n\tfatal: could not read Username for 'https://github.com': terminal prompts disabled\n",
        Category::ProxyNotFound,
    );
    // github.com asks for credentials for a repository that does not exist, too.
    let d = expect(
        "go: github.com/acme/tool@v1.0.0: invalid version: git ls-remote -q origin in /home/u/go/pkg/mod/cache/vcs/2: exit status 128:\n\tfatal: could not read Username for 'https://github.com': terminal prompts disabled\n",
        Category::VcsAuth,
    );
    assert_eq!(d.confidence, Confidence::Low);
    // A subpackage of a missing GitHub repository is no meta tag problem.
    let d = verdict(
        "go get github.com/acme/gone/cmd/tool: git ls-remote -q origin in /go/pkg/mod/cache/vcs/3: exit status 128:\n\tremote: Repository not found.\n\tfatal: repository 'https://github.com/acme/gone/' not found\n",
    );
    assert_ne!(d.category, Category::VcsMeta, "{d:#?}");
    expect(
        "go: github.com/Sirupsen/logrus@v1.9.0 used for two different module paths (github.com/Sirupsen/logrus and github.com/sirupsen/logrus)\n",
        Category::ModulePathMismatch,
    );
    expect(
        "go: github.com/acme/widget@v2.0.0: go.mod has non-.../v2 module path \"github.com/acme/widget\" (and .../v2/go.mod does not exist) at revision v2.0.0\n",
        Category::ModuleInvalidVersion,
    );
    expect(
        "go: RLock /nfs/home/ci/go/pkg/mod/cache/download/github.com/acme/widget/@v/list.lock: no locks available\n",
        Category::CachePermission,
    );
    expect("main.go:4:2: package slices is not in GOROOT (/usr/lib/go-1.19/src/slices)\n", Category::ModuleGoMod);
}

#[test]
fn a_connection_refused_by_local_policy_is_net_unreachable_with_medium_confidence() {
    // EACCES (a security module, a sandbox) and EPERM (an OUTPUT firewall rule) from connect(2).
    for log in [
        "go: github.com/x/y@v1.2.3: Get \"https://proxy.golang.org/github.com/x/y/@v/v1.2.3.info\": dial tcp 142.250.1.1:443: connect: permission denied\n",
        "go: github.com/x/y@v1.2.3: Get \"https://proxy.golang.org/github.com/x/y/@v/v1.2.3.info\": dial tcp 142.250.1.1:443: connect: operation not permitted\n",
    ] {
        let d = expect(log, Category::NetUnreachable);
        assert_eq!(d.confidence, Confidence::Medium);
        assert!(d.summary.contains("proxy.golang.org") && d.summary.contains("policy"), "{}", d.summary);
    }
    // The resolver's socket refused is still a DNS failure.
    expect(
        "go: m@v1: Get \"https://proxy.golang.org/m/@v/v1.info\": dial tcp: lookup proxy.golang.org on 10.0.0.2:53: dial udp 10.0.0.2:53: connect: permission denied\n",
        Category::DnsFailure,
    );
}

#[test]
fn a_goproxy_entry_that_does_not_speak_tls_is_a_bad_response_and_a_forward_proxys_is_its_failure() {
    // The first as go 1.26 prints it against `python3 -m http.server` named https://.
    for log in [
        "go: example.com/m@v1.0.0: Get \"https://127.0.0.1:18777/example.com/m/@v/v1.0.0.info\": tls: first record does not look like a TLS handshake\n",
        "go: example.com/m@v1.0.0: Get \"https://athens.corp.example:3000/example.com/m/@v/list\": http: server gave HTTP response to HTTPS client\n",
    ] {
        // Low: a blind labeller read the same text as a configuration slip (out14).
        let d = expect(log, Category::ProxyBadResponse);
        assert_eq!(d.confidence, Confidence::Low);
        assert!(d.summary.contains("http://"), "{}", d.summary);
    }
    expect(
        "go: example.com/m@v1.0.0: Get \"https://proxy.golang.org/example.com/m/@v/v1.0.0.info\": proxyconnect tcp: tls: first record does not look like a TLS handshake\n",
        Category::HttpProxyFailure,
    );
}

#[test]
fn a_crashed_go_is_never_a_success() {
    let dump = "go: downloading github.com/aws/aws-sdk-go v1.44.0\nfatal error: runtime: out of memory\n\nruntime stack:\nruntime.throw({0x9d3c5e?, 0x2000?})\n\t/usr/local/go/src/runtime/panic.go:1047 +0x5d\n\ngoroutine 1 [running]:\n";
    let d = expect(dump, Category::Unknown);
    assert!(d.summary.contains("crashed") && d.evidence[0].text == "fatal error: runtime: out of memory", "{d:#?}");
    // A SIGQUIT dump is a killed run, not a crash.
    let quit =
        "go: downloading example.com/m v1.0.0\nSIGQUIT: quit\nPC=0x47a3c1 m=0 sigcode=0\n\ngoroutine 1 [syscall]:\n";
    assert!(!verdict(quit).summary.contains("crashed"));

    // The real go, out of address space (RLIMIT_AS), as a CI runner with a memory limit
    // meets it.
    let Ok(go) = modchaos::gobin::GoBinary::find(None) else {
        eprintln!("*** SKIPPED: no go toolchain: a real go crash is NOT diagnosed here ***");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    modchaos::fsutil::disable_go_telemetry(&dir.path().join(".config")).unwrap();
    let mut cmd = std::process::Command::new(&go.path);
    cmd.args(["mod", "download", "example.com/m@v1.0.0"])
        .current_dir(dir.path())
        .env_clear()
        .env("HOME", dir.path())
        .env("GOPATH", dir.path().join("gopath"))
        .env("GOCACHE", dir.path().join("gocache"))
        .env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off")
        .env("GOENV", "off");
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            let limit = libc::rlimit { rlim_cur: 120 << 20, rlim_max: 120 << 20 };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
        });
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "go ran within 120 MiB of address space: {stderr}");
    let d = expect(&stderr, Category::Unknown);
    assert!(d.summary.contains("crashed"), "{stderr}\n{d:#?}");
}

#[test]
fn a_toolchain_switch_that_failed_on_the_network_names_that_failure_too() {
    // go downloads golang.org/toolchain through GOPROXY: a quoted network failure or proxy
    // status is the same event as the failed switch (calibrate's WRAPPERS).
    for (log, quoted) in [
        (
            "go: download go1.99.0: golang.org/toolchain@v0.0.1-go1.99.0.linux-amd64: Get \"https://proxy.corp.example/golang.org/toolchain/@v/v0.0.1-go1.99.0.linux-amd64.zip\": dial tcp 10.1.1.1:443: connect: connection refused\n",
            Category::NetRefused,
        ),
        (
            "go: download go1.99.0: golang.org/toolchain@v0.0.1-go1.99.0.linux-amd64: reading https://proxy.corp.example/golang.org/toolchain/@v/v0.0.1-go1.99.0.linux-amd64.zip: 504 Gateway Timeout\n",
            Category::ProxyServerError,
        ),
    ] {
        let d = expect(log, Category::ToolchainDownload);
        assert_eq!(d.confidence, Confidence::Low, "{log}");
        assert!(d.alternatives.iter().any(|a| a.category == quoted), "{log}\n{d:#?}");
    }
    // A toolchain that does not exist, or a proxy that has none, is the switch alone.
    for log in [
        "go: downloading go1.22 (linux/amd64)\ngo: download go1.22 for linux/amd64: toolchain not available\n",
        "go: go@1.99.0: golang.org/toolchain@v0.0.1-go1.99.0.linux-amd64: reading https://proxy.corp.example/golang.org/toolchain/@v/v0.0.1-go1.99.0.linux-amd64.info: 404 Not Found\n",
    ] {
        assert_eq!(expect(log, Category::ToolchainDownload).confidence, Confidence::High, "{log}");
    }
}

#[test]
fn no_such_host_from_a_resolver_that_cannot_know_internal_names_names_the_resolver_too() {
    for log in [
        // Docker's embedded resolver, a public resolver, names only an internal DNS serves.
        "go: git.corp.example/team/lib@v1.0.0: unrecognized import path \"git.corp.example/team/lib\": https fetch: Get \"https://git.corp.example/team/lib?go-get=1\": dial tcp: lookup git.corp.example on 127.0.0.11:53: no such host\n",
        "go: git.corp.example/team/lib@v1.0.0: Get \"https://athens.corp.example/git.corp.example/team/lib/@v/v1.0.0.info\": dial tcp: lookup athens.corp.example on 8.8.8.8:53: no such host\n",
        "go: gitlab.internal/team/lib@v1.0.0: Get \"https://gitlab.internal/team/lib?go-get=1\": dial tcp: lookup gitlab.internal: no such host\n",
        "go: m@v1: Get \"http://athens:3000/m/@v/v1.info\": dial tcp: lookup athens on 10.0.0.2:53: no such host\n",
    ] {
        let d = expect(log, Category::DnsNxdomain);
        assert_eq!(d.confidence, Confidence::Low, "{log}");
        assert_eq!(d.alternatives.first().map(|a| a.category), Some(Category::DnsFailure), "{log}");
    }
    // A public name the company resolver says does not exist: the name is gone.
    let d = expect(
        "go: m@v1: Get \"https://goproxy.onetool.net/m/@v/v1.info\": dial tcp: lookup goproxy.onetool.net on 10.10.0.2:53: no such host\n",
        Category::DnsNxdomain,
    );
    assert_eq!(d.confidence, Confidence::High);
}

#[test]
fn a_certificate_for_other_names_on_a_name_everyone_knows_is_something_in_between() {
    for log in [
        "go: github.com/x/y@v1.2.3: Get \"https://proxy.golang.org/github.com/x/y/@v/v1.2.3.info\": tls: failed to verify certificate: x509: certificate is valid for *.filter.corp.example, filter.corp.example, not proxy.golang.org\n",
        "go get: github.com/qiniu/goc@v1.3.6: Get \"https://proxy.golang.org/github.com/qiniu/goc/@v/v1.3.6.info\": x509: certificate is not valid for any names, but wanted to match proxy.golang.org\n",
    ] {
        let d = expect(log, Category::TlsHostname);
        assert_eq!(d.confidence, Confidence::Low, "{log}");
        assert!(d.alternatives.iter().any(|a| a.category == Category::DnsFailure), "{log}\n{d:#?}");
    }
    // A vanity host served from a code host's pages: the server's own certificate is wrong.
    let d = expect(
        "go get mosn.io/mosn: unrecognized import path \"mosn.io/mosn\" (https fetch: Get https://mosn.io/mosn?go-get=1: x509: certificate is valid for www.github.com, *.github.io, *.githubusercontent.com, *.github.com, github.com, github.io, githubusercontent.com, not mosn.io)\n",
        Category::TlsHostname,
    );
    assert_eq!(d.confidence, Confidence::High);
}

#[test]
fn go_lines_other_tools_indent_or_wrap_are_read() {
    // golangci-lint's typecheck nests go/packages' errors, here wrapped by hand.
    let typecheck = "internal/otel/otel.go:16:2: could not import go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp\n  (.../client.go:29:2: could not import .../internal/retry\n      (.../retry.go:17:2: github.com/cenkalti/backoff/v5@v5.0.3: read\n       \"https://proxy.golang.org/github.com/cenkalti/backoff/v5/@v/v5.0.3.zip\":\n       stream error: stream ID 239; INTERNAL_ERROR; received from peer))) (typecheck)\n";
    expect(typecheck, Category::NetReset);
    // GOPATH-era `go get -v` logged the vanity page's failed fetch.
    let verbose = "Fetching https://go.example.com/tool?go-get=1\nhttps fetch failed: Get https://go.example.com/tool?go-get=1: x509: certificate has expired or is not yet valid\n";
    expect(verbose, Category::TlsExpired);
    // A make recipe's output, indented as a block under other lines.
    let make = "make: Entering directory '/src'\n   go: github.com/x/y@v1.0.0: reading https://proxy.corp.example/github.com/x/y/@v/v1.0.0.zip: 502 Bad Gateway\n   \tserver response: upstream down\nmake: *** [deps] Error 1\n";
    let d = expect(make, Category::ProxyServerError);
    assert!(d.evidence[0].text.contains("upstream down"), "{d:#?}");
}

#[test]
fn glibcs_words_for_a_name_that_does_not_resolve_are_no_such_host() {
    // Older go's cgo resolver printed getaddrinfo's own words for EAI_NONAME and
    // EAI_NODATA; go 1.26's net/cgo_unix.go maps both to `no such host`.
    for log in [
        "go: vbom.ml/util@v0.0.0-20160121211510-db5cfe13f5cc: unrecognized import path \"vbom.ml/util\": https fetch: Get \"https://vbom.ml/util?go-get=1\": dial tcp: lookup vbom.ml: No address associated with hostname\n",
        "go: corp.example/lib@v1.0.0: Get \"https://athens.corp.example/corp.example/lib/@v/v1.0.0.info\": dial tcp: lookup athens.corp.example: Name or service not known\n",
    ] {
        assert_eq!(expect(log, Category::DnsNxdomain).confidence, Confidence::High, "{log}");
    }
    // EAI_AGAIN is the resolver failing.
    expect(
        "go: m@v1: Get \"https://athens.corp.example/m/@v/v1.info\": dial tcp: lookup athens.corp.example: Temporary failure in name resolution\n",
        Category::DnsFailure,
    );
}

#[test]
fn server_misbehaving_for_a_name_not_known_to_exist_names_the_names_own_dns_too() {
    // SERVFAIL from a recursive resolver: it failed itself, or the name's own DNS is broken
    // or gone (an expired domain, a lame delegation); only a name everyone knows settles it.
    let d = expect(
        "go: dario.cat/mergo@v1.0.0: unrecognized import path \"dario.cat/mergo\": https fetch: Get \"https://dario.cat/mergo?go-get=1\": dial tcp: lookup dario.cat on 172.16.12.1:53: server misbehaving\n",
        Category::DnsFailure,
    );
    assert_eq!(d.confidence, Confidence::Low);
    assert_eq!(d.alternatives.first().map(|a| a.category), Some(Category::DnsNxdomain), "{d:#?}");
    for log in [
        "go: m@v1: Get \"https://proxy.golang.org/m/@v/v1.info\": dial tcp: lookup proxy.golang.org on 127.0.0.11:53: server misbehaving\n",
        "go: github.com/x/y@v1.2.3: Get \"https://goproxy.cn/github.com/x/y/@v/v1.2.3.info\": dial tcp: lookup goproxy.cn on 10.0.0.2:53: server misbehaving\n",
    ] {
        assert_eq!(expect(log, Category::DnsFailure).confidence, Confidence::High, "{log}");
    }
}

#[test]
fn a_missing_go_sum_entry_outside_any_module_is_no_go_sum_to_fix() {
    // `go install pkg@version` builds outside any module and reads no go.sum; only go 1.16's
    // development versions said this (golang/go#43278).
    let d = expect(
        "go install example.com/cmd/tool@v1.2.3: example.com/cmd@v1.2.3: missing go.sum entry\n",
        Category::Unknown,
    );
    assert!(d.alternatives.iter().any(|a| a.category == Category::ModuleGoSumMissing), "{d:#?}");
    // The work module's go.sum, in go's words and as pasted with the tab turned to spaces.
    for log in [
        "main.go:3:8: example.com/m@v1.2.3: missing go.sum entry for go.mod file; to add it:\n\tgo mod download example.com/m\n",
        "go: example.com/app@v0.0.0-00010101000000-000000000000 requires\n    github.com/klauspost/compress@v1.12.2: missing go.sum entry; to add it:\n    go mod download github.com/klauspost/compress\n",
        "go install: example.com/app/cmd: example.com/m@v1.2.3: missing go.sum entry\n",
    ] {
        assert_eq!(expect(log, Category::ModuleGoSumMissing).confidence, Confidence::High, "{log}");
    }
}

#[test]
fn a_forge_answering_go_get_without_any_tag_most_likely_showed_its_sign_in_page() {
    for log in [
        "package git.example.com/team/lib: unrecognized import path \"git.example.com/team/lib\" (parse http://git.example.com/team/lib?go-get=1: no go-import meta tags ())\n",
        "go: gitea.corp.example/team/lib@v1.0.0: unrecognized import path \"gitea.corp.example/team/lib\": parse https://gitea.corp.example/team/lib?go-get=1: no go-import meta tags ()\n",
    ] {
        let d = expect(log, Category::VcsAuth);
        assert_eq!(d.confidence, Confidence::Low, "{log}");
        assert_eq!(d.alternatives.first().map(|a| a.category), Some(Category::VcsMeta), "{log}\n{d:#?}");
    }
    // A vanity page without the tag, and a forge's tag for another prefix, are the page's.
    assert_eq!(
        expect(
            "go: example.org/tools/lint@v1.0.0: unrecognized import path \"example.org/tools/lint\": parse https://example.org/tools/lint?go-get=1: no go-import meta tags ()\n",
            Category::VcsMeta
        )
        .confidence,
        Confidence::High
    );
    expect(
        "go: gitlab.corp.example/a/b/c@v1.0.0: unrecognized import path \"gitlab.corp.example/a/b/c\": parse https://gitlab.corp.example/a/b/c?go-get=1: no go-import meta tags (meta tag gitlab.corp.example/a/b did not match import path gitlab.corp.example/a/b/c)\n",
        Category::VcsMeta,
    );
}

#[test]
fn another_client_error_from_a_public_proxy_is_the_proxy_failing() {
    let d = expect(
        "go: github.com/x/y@v1.0.0: unexpected status (https://goproxy.io/github.com/x/y/@v/v1.0.0.mod): 400 Bad Request\n",
        Category::ProxyServerError,
    );
    assert_eq!(d.confidence, Confidence::Low);
    assert!(d.alternatives.iter().any(|a| a.category == Category::ProxyBadResponse), "{d:#?}");
    // A proxy that is not public fails the same way (out12's firewall in front of a proxy
    // refusing an escaped path): the proxy failing first, not implementing it second.
    let d = expect(
        "go: corp.example/lib@v1.0.0: reading https://proxy.corp.example/corp.example/lib/@v/v1.0.0.mod: 400 Bad Request\n",
        Category::ProxyServerError,
    );
    assert_eq!(d.confidence, Confidence::Low);
    assert!(d.alternatives.iter().any(|a| a.category == Category::ProxyBadResponse), "{d:#?}");
    let d = expect(
        "go: github.com/x/y@v1.0.0: reading https://proxy.golang.org/github.com/x/y/@v/v1.0.0.zip: 502 Bad Gateway\n",
        Category::ProxyServerError,
    );
    assert_eq!(d.confidence, Confidence::High);
}

#[test]
fn a_repository_firewalls_451_is_a_refusal() {
    let d = expect(
        "main.go:6:2: corp.example/lib@v1.0.0: reading https://firewall.corp.example/corp.example/lib/@v/v1.0.0.zip: 451 Unavailable For Legal Reasons\n\tserver response: blocked by policy\n",
        Category::ProxyAuth,
    );
    assert_eq!(d.confidence, Confidence::Medium);
    assert!(d.summary.contains("policy"), "{}", d.summary);
}

#[test]
fn gos_own_configuration_files_denied_to_the_user_are_a_permission_problem() {
    for log in [
        "go: reading go.work: open /srv/locked/go.work: permission denied\n",
        "go: updating go.mod: open /src/app/go.mod: permission denied\n",
    ] {
        assert_eq!(expect(log, Category::CachePermission).confidence, Confidence::Medium, "{log}");
    }
    // A source file is the user's code, not go's configuration.
    expect("main.go:1:1: open /src/app/main.go: permission denied\n", Category::Unknown);
}

#[test]
fn git_daemon_and_every_protocol_failing_are_a_missing_repository() {
    // git daemon's words (daemon.c) for a repository it does not have or does not export.
    let d = expect(
        "go: git.corp.example/gd@v1.0.0: invalid version: git ls-remote -q --end-of-options git://daemon.corp.example/missing.git in /tmp/modcache/cache/vcs/f402: exit status 128:\n\tfatal: remote error: access denied or repository not exported: /missing.git\n",
        Category::VcsNotFound,
    );
    assert!(d.confidence <= Confidence::Medium);
    // GOINSECURE lets go try every scheme; without it only the secure ones.
    for (log, secure) in [
        ("go: daemon.corp.example/nope.git@v1.0.0: no protocol found for repository\n", false),
        ("go: corp.example/lib.git@v1.0.0: no secure protocol found for repository\n", true),
    ] {
        let d = expect(log, Category::VcsNotFound);
        assert_eq!(d.confidence, Confidence::Medium, "{log}");
        assert_eq!(d.summary.contains("no secure way"), secure, "{}", d.summary);
    }
}

#[test]
fn a_repository_a_published_module_requires_that_is_now_not_found_was_lost() {
    let required = "go: github.com/acme/engine@v1.4.2 requires\n\tgithub.com/gone/jobq@v1.0.2: reading github.com/gone/jobq/go.mod at revision v1.0.2: git ls-remote -q origin in /home/u/go/pkg/mod/cache/vcs/b703: exit status 128:\n\tremote: Repository not found.\n\tfatal: repository 'https://github.com/gone/jobq/' not found\n";
    let d = expect(required, Category::VcsNotFound);
    assert_eq!(d.confidence, Confidence::Low);
    assert!(d.alternatives.iter().any(|a| a.category == Category::VcsAuth), "{d:#?}");
    // Asked for directly, or by the work module itself: the host's words as they stand,
    // a private repository named; credentials first only where the configuration says the
    // module is private.
    for log in [
        "go: github.com/acme/private@v1.0.0: reading github.com/acme/private/go.mod at revision v1.0.0: git ls-remote -q https://github.com/acme/private in /home/u/go/pkg/mod/cache/vcs/0f4d: exit status 128:\n\tremote: Repository not found.\n\tfatal: repository 'https://github.com/acme/private/' not found\n",
        "go: github.com/acme/app@v0.0.0-00010101000000-000000000000 requires\n\tgithub.com/acme/private@v1.0.0: git ls-remote -q origin in /home/u/go/pkg/mod/cache/vcs/0f4d: exit status 128:\n\tremote: Repository not found.\n\tfatal: repository 'https://github.com/acme/private/' not found\n",
    ] {
        let d = expect(log, Category::VcsNotFound);
        assert_eq!(d.confidence, Confidence::Low, "{log}");
        assert!(d.alternatives.iter().any(|a| a.category == Category::VcsAuth), "{d:#?}");
        let d = expect(&format!("GOPRIVATE=github.com/acme\n{log}"), Category::VcsAuth);
        assert_eq!(d.confidence, Confidence::Low, "{log}");
        assert!(d.alternatives.iter().any(|a| a.category == Category::VcsNotFound), "{d:#?}");
    }
}

#[test]
fn a_public_proxy_quoting_an_invalid_pseudo_version_says_the_version_is_invalid() {
    // proxy.golang.org judges a pseudo-version against the origin, as go does in direct
    // mode, and answers 404/410 quoting modfetch's words.
    let log = "go: github.com/o/r@v0.1.1-0.20200617173005-5c65c840f086: reading https://proxy.golang.org/github.com/o/r/@v/v0.1.1-0.20200617173005-5c65c840f086.info: 404 Not Found\n\tserver response: not found: github.com/o/r@v0.1.1-0.20200617173005-5c65c840f086: invalid pseudo-version: preceding tag (v0.1.0) not found\n";
    assert_eq!(expect(log, Category::ModuleInvalidVersion).confidence, Confidence::Medium);
    // A private proxy's bare "not found" stays a proxy that lacks the module.
    let private = "go: corp.example/lib@v1.0.0: reading https://athens.corp.example/corp.example/lib/@v/v1.0.0.info: 404 Not Found\n\tserver response: not found\n";
    expect(private, Category::ProxyNotFound);
}

// Round diag8: texts from go's, git's, curl's and ssh's own sources, not from corpus cases.

#[test]
fn gits_credential_prompt_without_a_terminal_is_vcs_auth() {
    // git (prompt.c) when it cannot open /dev/tty: "could not read Username for '%s': %s"
    // with strerror(ENXIO).
    let d = expect(
        "go: git.corp.example/team/lib@v1.0.0: git ls-remote -q origin in /root/go/pkg/mod/cache/vcs/abc: exit status 128:\n\tfatal: could not read Username for 'https://git.corp.example': No such device or address\n",
        Category::VcsAuth,
    );
    assert_eq!(d.confidence, Confidence::High);
    // A self-hosted forge prompts for a repository that does not exist, as GitHub does.
    let d = expect(
        "go: gitlab.corp.example/team/lib@v1.0.0: git ls-remote -q origin in /root/go/pkg/mod/cache/vcs/abc: exit status 128:\n\tfatal: could not read Username for 'https://gitlab.corp.example': terminal prompts disabled\n",
        Category::VcsAuth,
    );
    assert_eq!(d.confidence, Confidence::Low);
    assert!(d.alternatives.iter().any(|a| a.category == Category::VcsNotFound));
}

#[test]
fn git_hosts_words_for_a_missing_repository_are_vcs_not_found_at_low_confidence() {
    for git_said in [
        // GitHub over ssh, GitLab over ssh, Azure DevOps, curl's 404.
        "ERROR: Repository not found.\n\tfatal: Could not read from remote repository.",
        "ERROR: The project you were looking for could not be found or you don't have permission to view it.\n\tfatal: Could not read from remote repository.",
        "remote: TF401019: The Git repository with name or identifier lib does not exist or you do not have permissions for the operation you are attempting.\n\tfatal: repository 'https://dev.azure.com/corp/team/_git/lib/' not found",
        "fatal: unable to access 'https://git.corp.example/team/lib/': The requested URL returned error: 404",
    ] {
        let log = format!(
            "go: git.corp.example/team/lib@v1.0.0: git ls-remote -q origin in /root/go/pkg/mod/cache/vcs/abc: exit status 128:\n\t{git_said}\n"
        );
        let d = verdict(&log);
        assert!(matches!(d.category, Category::VcsNotFound | Category::VcsAuth), "{log}\n{d:#?}");
        assert_eq!(d.confidence, Confidence::Low, "{log}");
    }
}

#[test]
fn git_over_ssh_failing_on_the_network_is_read_from_ssh_s_words() {
    let log = |ssh_said: &str| {
        format!(
            "go: git.corp.example/team/lib@v1.0.0: git ls-remote -q origin in /root/go/pkg/mod/cache/vcs/abc: exit status 128:\n\t{ssh_said}\n\tfatal: Could not read from remote repository.\n\n\tPlease make sure you have the correct access rights\n\tand the repository exists.\n"
        )
    };
    // ssh.c's "ssh: connect to host %s port %s: %s" and "Could not resolve hostname %s: %s".
    expect(&log("ssh: connect to host git.corp.example port 22: Connection refused"), Category::NetRefused);
    expect(&log("ssh: connect to host git.corp.example port 22: Connection timed out"), Category::NetTimeout);
    expect(&log("ssh: connect to host git.corp.example port 22: No route to host"), Category::NetUnreachable);
    expect(&log("ssh: Could not resolve hostname git.corp.example: Name or service not known"), Category::DnsNxdomain);
    expect(
        &log("ssh: Could not resolve hostname git.corp.example: nodename nor servname provided, or not known"),
        Category::DnsNxdomain,
    );
    expect(
        &log("ssh: Could not resolve hostname git.corp.example: Temporary failure in name resolution"),
        Category::DnsFailure,
    );
    expect(&log("kex_exchange_identification: read: Connection reset by peer"), Category::NetReset);
    // git's closing words alone: a refused key or a missing repository, not said which.
    let d = expect(
        "go: git.corp.example/team/lib@v1.0.0: git ls-remote -q origin in /root/go/pkg/mod/cache/vcs/abc: exit status 128:\n\tfatal: Could not read from remote repository.\n\n\tPlease make sure you have the correct access rights\n\tand the repository exists.\n",
        Category::VcsAuth,
    );
    assert_eq!(d.confidence, Confidence::Low);
    assert!(d.alternatives.iter().any(|a| a.category == Category::VcsNotFound));
}

#[test]
fn curls_words_in_git_errors_are_read() {
    let log = |curl_said: &str| {
        format!(
            "go: git.corp.example/team/lib@v1.0.0: git ls-remote -q origin in /root/go/pkg/mod/cache/vcs/abc: exit status 128:\n\tfatal: unable to access 'https://git.corp.example/team/lib/': {curl_said}\n"
        )
    };
    for (curl_said, category) in [
        // OpenSSL's verify errors as curl prints them ("SSL certificate problem: %s").
        ("SSL certificate problem: unable to get issuer certificate", Category::TlsUnknownAuthority),
        ("SSL certificate problem: unable to verify the first certificate", Category::TlsUnknownAuthority),
        // curl without a CA bundle.
        (
            "error setting certificate verify locations:  CAfile: /etc/ssl/certs/ca-certificates.crt CApath: none",
            Category::TlsUnknownAuthority,
        ),
        // CURLE_GOT_NOTHING (52), CURLE_RECV_ERROR (56) with ECONNRESET, CURLE_HTTP2_STREAM (92).
        ("Empty reply from server", Category::NetReset),
        ("Recv failure: Connection reset by peer", Category::NetReset),
        ("HTTP/2 stream 1 was not closed cleanly: PROTOCOL_ERROR (err 1)", Category::NetReset),
        // CURLE_COULDNT_RESOLVE_PROXY (5), a CONNECT the proxy closed, a proxy variable curl cannot parse.
        ("Could not resolve proxy: squid.corp.example", Category::HttpProxyFailure),
        ("Proxy CONNECT aborted", Category::HttpProxyFailure),
        ("Unsupported proxy syntax in 'http://:8080'", Category::HttpProxyFailure),
    ] {
        expect(&log(curl_said), category);
    }
    // curl names the proxy, not the target, when the proxy is what refused.
    let with_proxy = format!(
        "HTTPS_PROXY=http://squid.corp.example:3128\n{}",
        log("Failed to connect to squid.corp.example port 3128 after 2 ms: Connection refused")
    );
    expect(&with_proxy, Category::HttpProxyFailure);
    // A git host's 5xx is not a network break: git's hang-up after it stays low.
    let d = verdict(
        "go: git.corp.example/team/lib@v1.0.0: git fetch -f origin refs/heads/*:refs/heads/* refs/tags/*:refs/tags/* in /root/go/pkg/mod/cache/vcs/abc: exit status 128:\n\terror: RPC failed; HTTP 502 curl 22 The requested URL returned error: 502\n\tfatal: the remote end hung up unexpectedly\n",
    );
    assert_eq!(d.confidence, Confidence::Low, "{d:#?}");
}

#[test]
fn gos_certificate_texts_beyond_an_unknown_issuer_are_trust_problems() {
    let log = |x509_said: &str| {
        format!(
            "go: github.com/x/y@v1.2.3: Get \"https://proxy.golang.org/github.com/x/y/@v/v1.2.3.info\": tls: failed to verify certificate: {x509_said}\n"
        )
    };
    // crypto/x509 with no roots at all (a container without ca-certificates).
    let d = expect(&log("x509: failed to load system roots and no roots provided"), Category::TlsUnknownAuthority);
    assert_eq!(d.confidence, Confidence::High);
    // Certificates go rejects for how they are made: read as trust, at low confidence.
    for x509_said in [
        "x509: cannot verify signature: insecure algorithm SHA1-RSA (temporarily override with GODEBUG=x509sha1=1)",
        "x509: certificate specifies an incompatible key usage",
        "x509: certificate is not authorized to sign other certificates",
    ] {
        let d = expect(&log(x509_said), Category::TlsUnknownAuthority);
        assert_eq!(d.confidence, Confidence::Low, "{x509_said}");
    }
}

#[test]
fn resolver_words_of_other_platforms_are_read() {
    // macOS getaddrinfo's EAI_NONAME, as cgo printed it.
    expect(
        "go: m@v1: Get \"https://proxy.corp.example/m/@v/v1.info\": dial tcp: lookup proxy.corp.example: nodename nor servname provided, or not known\n",
        Category::DnsNxdomain,
    );
    // Windows' WSANO_DATA: the name has no address.
    expect(
        "go: m@v1: Get \"https://proxy.corp.example/m/@v/v1.info\": dial tcp: lookup proxy.corp.example: getaddrinfow: The requested name is valid, but no data of the requested type was found.\n",
        Category::DnsNxdomain,
    );
    // golang.org/x/net/dns/dnsmessage could not parse the answer (net's "cannot unmarshal DNS message").
    let d = expect(
        "go: m@v1: Get \"https://proxy.corp.example/m/@v/v1.info\": dial tcp: lookup proxy.corp.example on 10.0.0.1:53: cannot unmarshal DNS message\n",
        Category::DnsFailure,
    );
    assert_eq!(d.confidence, Confidence::Medium);
}

#[test]
fn gos_http_client_words_are_read() {
    // net/http's HTTP/2 transport after a graceful GOAWAY, a read on a closed connection.
    expect(
        "go: m@v1: Get \"https://proxy.golang.org/m/@v/v1.info\": http2: Transport: cannot retry err [http2: Transport received Server's graceful shutdown GOAWAY] after Request.Body was written; define Request.GetBody to avoid this error\n",
        Category::NetReset,
    );
    expect(
        "go: m@v1: Get \"https://proxy.golang.org/m/@v/v1.zip\": read tcp 10.0.0.2:51234->142.250.1.1:443: use of closed network connection\n",
        Category::NetReset,
    );
    // net/http's Client.Timeout, worded before go 1.13.
    expect(
        "go: m@v1: Get https://proxy.golang.org/m/@v/v1.zip: net/http: request canceled while waiting for connection\n",
        Category::NetTimeout,
    );
    // x/net/http/httpproxy: a proxy variable net/http cannot parse.
    expect(
        "go: m@v1: Get \"https://proxy.golang.org/m/@v/v1.info\": invalid proxy address \"http//squid:3128\": parse \"http//squid:3128\": first path segment in URL cannot contain colon\n",
        Category::HttpProxyFailure,
    );
    // A 407 is a forward proxy's status; on an http:// URL a proxy in between may have
    // sent it, on an https:// one it came through the TLS connection to the host named
    // (a forward proxy refuses the CONNECT before: `Get …: Proxy Authentication Required`).
    let d = expect(
        "go: m@v1: reading http://proxy.corp.example/m/@v/v1.info: 407 Proxy Authentication Required\n",
        Category::HttpProxyFailure,
    );
    assert_eq!(d.confidence, Confidence::Medium);
    let d = expect(
        "go: m@v1: reading https://proxy.corp.example/m/@v/v1.info: 407 Proxy Authentication Required\n",
        Category::ProxyAuth,
    );
    assert_eq!(d.confidence, Confidence::Medium);
}

#[test]
fn generic_words_without_a_connection_in_view_are_not_confident() {
    // `unexpected EOF` reading a file, not a connection.
    let d = expect("go: m@v1: read /root/go/pkg/mod/cache/download/m/@v/v1.zip: unexpected EOF\n", Category::NetReset);
    assert_eq!(d.confidence, Confidence::Low);
    // A deadline with no request named.
    let d = expect("go: m@v1: context deadline exceeded\n", Category::NetTimeout);
    assert_eq!(d.confidence, Confidence::Low);
}

#[test]
fn a_cache_on_a_filesystem_without_locks_is_cache_permission() {
    // lockedfile's flock/fcntl failing with ENOSYS or ENOTSUP ("RLock %s: %v").
    for log in [
        "go: RLock /root/go/pkg/mod/cache/download/m/@v/v1.lock: function not implemented\n",
        "go: m@v1: Lock /mnt/nfs/gomod/cache/download/m/@v/v1.lock: operation not supported\n",
    ] {
        let d = expect(log, Category::CachePermission);
        assert!(d.summary.contains("file locks"), "{}", d.summary);
    }
}

#[test]
fn go_import_pages_that_do_not_say_where_the_repository_is_are_vcs_meta() {
    // cmd/go/internal/vcs: "%s and %s disagree about go-import for %s", "multiple meta tags
    // match import path %q", and modfetch's "no go-import meta tag found in %s".
    for log in [
        "go: example.com/m@v1.0.0: unrecognized import path \"example.com/m\": example.com/m and example.com disagree about go-import for example.com/m\n",
        "go: example.com/m@v1.0.0: unrecognized import path \"example.com/m\": parse https://example.com/m?go-get=1: multiple meta tags match import path \"example.com/m\"\n",
        "go: example.com/m@v1.0.0: unrecognized import path \"example.com/m\": fetching example.com/m: no go-import meta tag found in https://example.com/m?go-get=1\n",
    ] {
        expect(log, Category::VcsMeta);
    }
}

#[test]
fn git_refusing_the_module_caches_own_clone_is_the_caches_problem() {
    // git's setup.c ("detected dubious ownership in repository at '%s'", git >= 2.35.2).
    let d = expect(
        "go: git.corp.example/team/lib@v1.0.0: git ls-remote -q origin in /root/go/pkg/mod/cache/vcs/abc: exit status 128:\n\tfatal: detected dubious ownership in repository at '/root/go/pkg/mod/cache/vcs/abc'\n",
        Category::CachePermission,
    );
    assert_eq!(d.confidence, Confidence::Medium);
    expect(
        "go: git.corp.example/team/lib@v1.0.0: invalid version: git fetch -f origin refs/heads/*:refs/heads/* refs/tags/*:refs/tags/* in /root/go/pkg/mod/cache/vcs/abc: exit status 128:\n\tfatal: not a git repository (or any parent up to mount point /)\n",
        Category::CacheCorrupt,
    );
    // git's lockfile.c ("Unable to create '%s.lock': File exists."): a dead git's, or a live one's.
    let d = expect(
        "go: git.corp.example/team/lib@v1.0.0: git fetch -f origin refs/heads/*:refs/heads/* refs/tags/*:refs/tags/* in /root/go/pkg/mod/cache/vcs/abc: exit status 128:\n\tfatal: Unable to create '/root/go/pkg/mod/cache/vcs/abc/shallow.lock': File exists.\n",
        Category::CacheCorrupt,
    );
    assert_eq!(d.confidence, Confidence::Low);
}

#[test]
fn a_major_version_subdirectory_without_go_mod_is_an_invalid_version() {
    // modfetch/coderepo.go: "missing %s/go.mod at revision %s".
    expect(
        "go: github.com/x/y/v2@v2.0.0: missing github.com/x/y/v2/go.mod at revision v2.0.0\n",
        Category::ModuleInvalidVersion,
    );
}

#[test]
fn a_lookup_that_failed_on_the_forward_proxy_names_the_proxy() {
    // net/http's "proxyconnect tcp: …" inside a checksum database lookup: the database and
    // the proxy are the same event, so the database verdict is not confident.
    let d = expect(
        "go: verifying m@v1.0.0: m@v1.0.0: Get \"https://sum.golang.org/lookup/m@v1.0.0\": proxyconnect tcp: dial tcp 10.0.0.1:3128: connect: connection refused\n",
        Category::SumdbUnreachable,
    );
    assert_eq!(d.confidence, Confidence::Low);
    assert!(d.alternatives.iter().any(|a| a.category == Category::HttpProxyFailure), "{d:#?}");
}

#[test]
fn a_go_import_page_answered_with_a_server_error_is_not_confident() {
    // vcs's "reading %s: %v" with the page's 5xx status.
    let d = expect(
        "go: example.com/m@v1.0.0: unrecognized import path \"example.com/m\": reading https://example.com/m?go-get=1: 502 Bad Gateway\n",
        Category::VcsMeta,
    );
    assert_eq!(d.confidence, Confidence::Low);
}

#[test]
fn curls_connection_failures_say_which_host_and_how_sure() {
    let log = |curl_said: &str| {
        format!(
            "go: github.com/x/y@v1.2.3: git ls-remote -q origin in /root/go/pkg/mod/cache/vcs/abc: exit status 128:\n\tfatal: unable to access 'https://github.com/x/y/': {curl_said}\n"
        )
    };
    // curl names the host it connected to: another than the URL's is most likely a forward
    // proxy, but without the proxy setting in view a redirect or insteadOf could be it too.
    let d = expect(
        &log("Failed to connect to 127.0.0.1 port 7890 after 2 ms: Connection refused"),
        Category::HttpProxyFailure,
    );
    assert_eq!(d.confidence, Confidence::Low);
    let with_setting = format!(
        "HTTPS_PROXY=http://127.0.0.1:7890\n{}",
        log("Failed to connect to 127.0.0.1 port 7890 after 2 ms: Connection refused")
    );
    assert_eq!(expect(&with_setting, Category::HttpProxyFailure).confidence, Confidence::Medium);
    expect(&log("Failed to connect to github.com port 443: Connection refused"), Category::NetRefused);
    // CURLE_COULDNT_CONNECT's "Couldn't connect to server" does not say refused or timed out.
    let d = expect(
        &log("Failed to connect to github.com port 443 after 21090 ms: Couldn't connect to server"),
        Category::NetTimeout,
    );
    assert_eq!(d.confidence, Confidence::Low);
    let d = expect(
        &log("Failed to connect to github.com port 443 after 3 ms: Couldn't connect to server"),
        Category::NetRefused,
    );
    assert_eq!(d.confidence, Confidence::Low);
    // GnuTLS's recv failing mid-handshake; schannel's untrusted root (SEC_E_UNTRUSTED_ROOT)
    // and its failed revocation check (CRYPT_E_NO_REVOCATION_CHECK, an inspecting proxy's CA).
    expect(&log("gnutls_handshake() failed: Error in the pull function."), Category::NetReset);
    expect(
        &log(
            "schannel: SEC_E_UNTRUSTED_ROOT (0x80090325) - The certificate chain was issued by an authority that is not trusted.",
        ),
        Category::TlsUnknownAuthority,
    );
    let d = expect(
        &log(
            "schannel: next InitializeSecurityContext failed: Unknown error (0x80092012) - The revocation function was unable to check revocation for the certificate.",
        ),
        Category::TlsUnknownAuthority,
    );
    assert_eq!(d.confidence, Confidence::Low);
}

#[test]
fn go_import_errors_printed_without_gos_prefix_are_read() {
    // vndr and dep vendor with go's own code and print its error without `package X:`.
    let d = expect(
        "    Download dependencies\n    unrecognized import path \"vanity.example/util\" (https fetch: Get https://vanity.example/util?go-get=1: dial tcp: lookup vanity.example on 10.0.0.2:53: no such host)\n",
        Category::DnsNxdomain,
    );
    assert_eq!(d.confidence, Confidence::High);
}

#[test]
fn go_1_12_verbose_go_import_page_status_is_a_low_vcs_meta() {
    // go ≤ 1.12 `go get -v`: the page's status, then a failure that says nothing more.
    let d = expect(
        "Fetching https://vanity.example/lib?go-get=1\n\
         Parsing meta tags from https://vanity.example/lib?go-get=1 (status code 502)\n\
         package vanity.example/lib: unrecognized import path \"vanity.example/lib\"\n",
        Category::VcsMeta,
    );
    assert_eq!(d.confidence, Confidence::Low);
    // A 200 page without a tag says nothing about the status.
    let d = verdict(
        "Parsing meta tags from https://vanity.example/lib?go-get=1 (status code 200)\n\
         package vanity.example/lib: unrecognized import path \"vanity.example/lib\"\n",
    );
    assert_ne!((d.category, d.confidence), (Category::VcsMeta, Confidence::Low), "{d:#?}");
}

#[test]
fn reviewed_misfires_stay_unsure() {
    // A module path holding `ssh` does not make a truncated zip a network reset.
    let d = verdict(
        "go: golang.org/x/crypto/ssh@v0.17.0: read /home/u/go/pkg/mod/cache/download/golang.org/x/crypto/@v/v0.17.0.zip: unexpected EOF\n",
    );
    assert!(d.category != Category::NetReset || d.confidence == Confidence::Low, "{d:#?}");
    // A request the caller cancelled is not surely a timeout.
    let d = expect(
        "go: m@v1: Get \"https://proxy.golang.org/m/@v/v1.info\": net/http: request canceled while waiting for connection\n",
        Category::NetTimeout,
    );
    assert_eq!(d.confidence, Confidence::Low);
    // ENOTSUP from chmod is not a missing lock.
    let d = verdict("go: x@v1: chmod /home/u/go/pkg/mod/cache/download/x/@v/v1.zip: operation not supported\n");
    assert!(!format!("{d:?}").contains("file locks"), "{d:#?}");
    // go ≤ 1.12's page status does not outrank a network failure for another path.
    expect(
        "Parsing meta tags from https://vanity.example/lib?go-get=1 (status code 404)\n\
         package golang.org/x/net: unrecognized import path \"golang.org/x/net\" (https fetch: Get https://golang.org/x/net?go-get=1: dial tcp: lookup golang.org on 10.0.0.1:53: server misbehaving)\n",
        Category::DnsFailure,
    );
}

#[test]
fn bare_error_values_without_go_lines_are_read_as_a_guess() {
    // A paste cut down to the error value: every Go program words its errors so, so the
    // verdict is low and says what it read.
    for (log, category) in [
        (
            "Get \"https://proxy.corp.example/corp.example/lib/@v/v1.0.0.mod\": x509: certificate has expired or is not yet valid\n",
            Category::TlsExpired,
        ),
        (
            "#8 [4/6] RUN go mod download\ndial tcp 10.1.2.3:443: connect: connection refused\nERROR: process \"/bin/sh -c go mod download\" did not complete successfully: exit code: 1\n",
            Category::NetRefused,
        ),
        (
            "open /home/ci/go/pkg/mod/cache/download/corp.example/lib/@v/v1.0.0.lock: read-only file system\n",
            Category::CachePermission,
        ),
        (
            "fatal: could not read Username for 'https://git.corp.example': terminal prompts disabled\nConfirm the import path was entered correctly.\n",
            Category::VcsAuth,
        ),
    ] {
        let d = expect(log, category);
        assert_eq!(d.confidence, Confidence::Low, "{log}");
        assert!(d.context.iter().any(|c| c.contains("bare error values")), "{:?}", d.context);
    }
    // Another Go program's error, with nothing showing go at work, is that program's.
    expect(
        "$ kubectl get pods\nUnable to connect to the server: dial tcp 10.0.0.1:6443: i/o timeout\n",
        Category::Unknown,
    );
    // A verdict that does not rest on the bare values keeps its confidence.
    let mut evidence = Evidence::from_log(
        "$ go mod download\nError response from daemon: Get \"https://registry.corp.example/v2/\": dial tcp 10.0.0.9:443: i/o timeout\n",
    );
    evidence.exit = Some(modchaos::vocab::Exit::Code { code: 0 });
    let d = diagnose(&evidence);
    assert_eq!((d.category, d.confidence), (Category::None, Confidence::High), "{d:#?}");
    // git's own failure, run by a user, is not go's.
    expect(
        "fatal: unable to access 'https://git.corp.example/lib.git/': Could not resolve host: git.corp.example\n",
        Category::Unknown,
    );
    // Where go's own lines are there, the bare values around them are not read.
    let d = expect(
        "dial tcp 10.9.9.9:5000: connect: connection refused\ngo: corp.example/lib@v1.0.0: reading https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info: 404 Not Found\n",
        Category::ProxyNotFound,
    );
    assert!(d.context.iter().all(|c| !c.contains("bare error values")), "{:?}", d.context);
}

#[test]
fn a_go_mod_line_whose_lookup_failed_is_the_lookups_failure() {
    // go looks up a version that is not canonical (a branch, a commit) while loading go.mod.
    expect(
        "go: errors parsing go.mod:\n/src/go.mod:13:2: require corp.example/lib: Get \"https://proxy.corp.example/corp.example/lib/@v/list\": dial tcp: lookup proxy.corp.example on 10.0.0.2:53: read udp 10.0.0.7:41550->10.0.0.2:53: i/o timeout\n",
        Category::DnsFailure,
    );
    // A commit that no longer exists is a version that does not exist...
    expect(
        "go: errors parsing go.mod:\n/src/go.mod:9: replace github.com/acme/lib: version \"0123456789abcdef0123456789abcdef01234567\" invalid: reading https://proxy.golang.org/github.com/acme/lib/@v/0123456789abcdef0123456789abcdef01234567.info: 404 Not Found\n\tserver response: not found: github.com/acme/lib@0123456789abcdef0123456789abcdef01234567: invalid version: unknown revision 0123456789abcdef0123456789abcdef01234567\n",
        Category::ModuleInvalidVersion,
    );
    // ...while a string no revision could have is go.mod's own mistake.
    expect(
        "go: errors parsing go.mod:\n/src/go.mod:5: require corp.example/lib: version \"v1.x\" invalid: reading https://proxy.corp.example/corp.example/lib/@v/v1.x.info: 404 Not Found\n\tserver response: not found: corp.example/lib@v1.x: invalid version: unknown revision v1.x\n",
        Category::ModuleGoMod,
    );
}

#[test]
fn a_checksum_lookup_through_a_proxy_that_fails_names_the_proxy() {
    let through = |host: &str| {
        format!(
            "verifying corp.example/lib@v1.0.0/go.mod: corp.example/lib@v1.0.0/go.mod: reading https://{host}/sumdb/sum.golang.org/lookup/corp.example/lib@v1.0.0: 502 Bad Gateway\n"
        )
    };
    // A public proxy serves everyone's lookups: its 5xx is its own.
    let d = expect(&through("goproxy.cn"), Category::ProxyServerError);
    assert_eq!(d.confidence, Confidence::Medium);
    assert!(d.alternatives.iter().any(|a| a.category == Category::SumdbUnreachable), "{d:#?}");
    // One's own proxy most often could not reach the database behind it; but its 5xx reads
    // as its own failure too (go's own script tests' labellers read it so), so low.
    let d = expect(&through("goproxy.corp.example"), Category::SumdbUnreachable);
    assert_eq!(d.confidence, Confidence::Low);
    assert!(d.alternatives.iter().any(|a| a.category == Category::ProxyServerError), "{d:#?}");
}

#[test]
fn git_credential_managers_refusal_to_prompt_is_vcs_auth() {
    // Windows' git asks Git Credential Manager, which says so when go turns prompts off.
    let wrapped = "go: git.corp.example/team/lib@v1.2.0: reading git.corp.example/team/lib/go.mod at revision v1.2.0: git ls-remote -q origin in C:\\Users\\me\\go\\pkg\\mod\\cache\\vcs\\0123: exit status 128:\n\tfatal: Cannot prompt because user interactivity has been disabled.\n\tfatal: could not read Username for 'https://git.corp.example': terminal prompts disabled\n";
    expect(wrapped, Category::VcsAuth);
    // Only git's lines pasted, indented as a blog shows them: git's refusal alone says it.
    let d = expect(
        "  fatal: Cannot prompt because user interactivity has been disabled.\n      remote: HTTP Basic: Access denied\n      fatal: Authentication failed for 'https://git.corp.example/team/lib.git/'\n",
        Category::VcsAuth,
    );
    assert_eq!(d.confidence, Confidence::Low);
    // The same words from a user's own git, with no sign of go: not read as go's.
    expect(
        "$ git push\nfatal: Authentication failed for 'https://git.corp.example/team/lib.git/'\n",
        Category::Unknown,
    );
}

#[test]
fn a_checksum_lookup_through_a_proxys_path_is_the_proxys_too() {
    // GOSUMDB's URL pointed at a path of a proxy of one's own (`<proxy>/sum.golang.org`):
    // the proxy relays the database, as under `/sumdb/`, so its 5xx is not the database's
    // alone.
    let d = expect(
        "go: corp.example/lib@v1.0.0: verifying go.mod: corp.example/lib@v1.0.0/go.mod: reading https://athens.corp.example/sum.golang.org/lookup/corp.example/lib@v1.0.0: 500 Internal Server Error\n",
        Category::SumdbUnreachable,
    );
    assert_eq!(d.confidence, Confidence::Low);
    assert!(d.alternatives.iter().any(|a| a.category == Category::ProxyServerError), "{d:#?}");
    // The database itself, or a mirror of it under its own name, answering 500: its own.
    let d = expect(
        "go: corp.example/lib@v1.0.0: verifying go.mod: corp.example/lib@v1.0.0/go.mod: reading https://sum.golang.org/lookup/corp.example/lib@v1.0.0: 500 Internal Server Error\n",
        Category::SumdbUnreachable,
    );
    assert_eq!(d.confidence, Confidence::High);
}

#[test]
fn a_require_lines_version_query_that_matches_nothing_is_the_versions() {
    // go reads `v0.1` in a require line as a query (the newest v0.1.x); none matched.
    let d = expect(
        "go: errors parsing go.mod:\n/src/app/go.mod:7:2: no matching versions for query \"v0.3\"\n",
        Category::ModuleInvalidVersion,
    );
    assert_eq!(d.confidence, Confidence::Low);
}

#[test]
fn list_m_e_reports_failures_only_in_its_records() {
    // `go list -m -e -json` exits 0 and puts the failure in the record's Error object.
    let log = "{\n\t\"Path\": \"corp.example/lib\",\n\t\"Version\": \"v1.0.0\",\n\t\"Error\": {\n\t\t\"Err\": \"corp.example/lib@v1.0.0: reading https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info: 502 Bad Gateway\"\n\t}\n}\n";
    let mut evidence = Evidence::from_log(log);
    evidence.exit = Some(modchaos::vocab::Exit::Code { code: 0 });
    assert_eq!(diagnose(&evidence).category, Category::ProxyServerError);
}

#[test]
fn caches_and_work_files_go_cannot_write() {
    for log in [
        "go: updating go.sum: open /home/ci/src/app/go.sum: permission denied\n",
        "go: failed to create cache directory /go/pkg/mod/cache: mkdir /go: permission denied\n",
        "> failed to initialize build cache at /github/home/.cache/go-build: mkdir /github/home/.cache: permission denied\n",
    ] {
        expect(log, Category::CachePermission);
    }
    // A noexec work directory stops what go built from running.
    let d = expect(
        "go: downloading corp.example/lib v1.0.0\nfork/exec /tmp/go-build1234/b001/exe/tool: permission denied\nexit status 1\n",
        Category::CachePermission,
    );
    assert!(d.summary.contains("noexec"), "{}", d.summary);
    // Only warnings that downloads cannot be stored, and no end: go most likely failed.
    let d = expect(
        "go: writing go.mod cache: mkdir /go/pkg/mod/cache/download/corp.example: permission denied\ngo: writing go.mod cache: open /go/pkg/mod/cache/download/corp.example/lib/@v/v1.0.0.mod123.tmp: permission denied\n",
        Category::CachePermission,
    );
    assert_eq!(d.confidence, Confidence::Low);
    // A stat cache go could not write is harmless.
    expect(
        "go: writing stat cache: open /go/pkg/mod/cache/download/x/@v/list: permission denied\ngo: downloading corp.example/lib v1.0.0\n",
        Category::None,
    );
}

#[test]
fn go_import_pages_in_older_and_broken_forms() {
    // go ≤ 1.12 closes its own parenthesis after the words.
    expect(
        "package corp.example/team/lib: unrecognized import path \"corp.example/team/lib\" (parse https://corp.example/team/lib?go-get=1: no go-import meta tags)\n",
        Category::VcsMeta,
    );
    // A page go cannot parse at all.
    expect(
        "go: corp.example/theme: unrecognized import path \"corp.example\": parsing corp.example: XML syntax error on line 1: expected /> in element\n",
        Category::VcsMeta,
    );
    // GOPATH-era `go get`: the failed import, in its own words.
    expect(
        "import \"corp.example/lib\": https fetch: Get https://corp.example/lib?go-get=1: x509: certificate has expired or is not yet valid\npackage corp.example/lib: unrecognized import path \"corp.example/lib\"\n",
        Category::TlsExpired,
    );
}

#[test]
fn pasted_shapes_of_go_lines() {
    // An HTTP/2 stream error as `go list -m -u` words it, without a stream ID, its value on
    // a continuation indented by two spaces after a line ending in a colon.
    expect(
        "go: loading module retractions for corp.example/lib@v1.0.0:\n  read \"https://proxy.corp.example/corp.example/lib/@v/list\": stream error\n",
        Category::NetReset,
    );
    // Time prefixes of tools and BuildKit's seconds without the step number.
    expect(
        "1.425 verifying corp.example/lib@v1.0.0: checksum mismatch\n1.425 \tdownloaded: h1:a=\n1.425 \tgo.sum:     h1:b=\n",
        Category::SumdbMismatch,
    );
    expect(
        "2022/12/22 00:01:12 unrecognized import path \"corp.example/lib\" (https fetch: Get \"https://corp.example/lib?go-get=1\": x509: certificate is valid for other.example, not corp.example)\n",
        Category::TlsHostname,
    );
}

#[test]
fn a_public_mirrors_unknown_tag_may_be_a_fresh_one() {
    // proxy.golang.org and sum.golang.org answer from what they found when they looked: a
    // tag pushed since reads the same as one that never existed.
    let d = expect(
        "go: github.com/acme/tool@v1.4.0: reading https://proxy.golang.org/github.com/acme/tool/@v/v1.4.0.info: 404 Not Found\n\tserver response: not found: github.com/acme/tool@v1.4.0: invalid version: unknown revision v1.4.0\n",
        Category::ModuleInvalidVersion,
    );
    assert_eq!(d.confidence, Confidence::Low);
    assert!(d.alternatives.iter().any(|a| a.category == Category::ProxyNotFound), "{d:#?}");
}

#[test]
fn a_code_hosts_prompt_for_a_path_asked_by_name_or_lost_since() {
    // The path the user asked for by name, nothing private in view: most likely wrong.
    let d = expect(
        "$ go get -u github.com/acme/no-such-repo\ngo: module github.com/acme/no-such-repo: git ls-remote -q origin in /home/u/go/pkg/mod/cache/vcs/0a1b: exit status 128:\n\tfatal: could not read Username for 'https://github.com': terminal prompts disabled\nConfirm the import path was entered correctly.\n",
        Category::VcsNotFound,
    );
    assert_eq!(d.confidence, Confidence::Low);
    assert!(d.alternatives.iter().any(|a| a.category == Category::VcsAuth), "{d:#?}");
    // The same with GOPRIVATE in view: the user knows of private modules.
    expect(
        "GOPRIVATE=github.com/acme\n$ go get -u github.com/acme/no-such-repo\ngo: module github.com/acme/no-such-repo: git ls-remote -q origin in /home/u/go/pkg/mod/cache/vcs/0a1b: exit status 128:\n\tfatal: could not read Username for 'https://github.com': terminal prompts disabled\n",
        Category::VcsAuth,
    );
    // A package of a dependency imports it: its authors could fetch it once.
    expect(
        "go: app imports\n\tgithub.com/acme/lib tested by\n\tgithub.com/acme/lib.test imports\n\tgithub.com/gone/helper: cannot find module providing package github.com/gone/helper: module github.com/gone/helper: git ls-remote -q origin in /home/u/go/pkg/mod/cache/vcs/0a1b: exit status 128:\n\tremote: Repository not found.\n\tfatal: repository 'https://github.com/gone/helper/' not found\n",
        Category::VcsNotFound,
    );
    // The work module's own import of a repository it cannot see: private, most likely.
    expect(
        "go: app imports\n\tgithub.com/acme/internal-api: github.com/acme/internal-api@v0.0.0-20240101000000-0123456789ab: invalid version: git ls-remote -q origin in /home/u/go/pkg/mod/cache/vcs/0a1b: exit status 128:\n\tfatal: could not read Username for 'https://github.com': terminal prompts disabled\n",
        Category::VcsAuth,
    );
}

#[test]
fn older_and_pasted_shapes_of_network_failures() {
    // go ≤ 1.12 through a CONNECT proxy that refused: only the status text, the URL
    // unquoted, inside GOPATH-era go's parenthesis.
    expect(
        "go: corp.example/tools@v0.0.0-20190102054323-c2f93a96b099: unrecognized import path \"corp.example/tools\" (https fetch: Get https://corp.example/tools?go-get=1: Forbidden)\n",
        Category::HttpProxyFailure,
    );
    // A paste that starts inside an import stack, tab-indented.
    expect(
        "\tcorp.example/app@v1.0.0 requires\n\tcorp.example/lib@v1.0.0: reading https://proxy.corp.example/corp.example/lib/@v/v1.0.0.mod: 502 Bad Gateway\n",
        Category::ProxyServerError,
    );
    // A tile read through a module proxy, reset mid-way: the network's, not an
    // unreachable database.
    expect(
        "go: m@v1: verifying go.mod: m@v1/go.mod: Get \"https://goproxy.io/sumdb/sum.golang.org/tile/8/0/x040/747\": read tcp 10.0.0.7:60104->10.9.9.9:443: read: connection reset by peer\n",
        Category::NetReset,
    );
    // The database itself resetting every connection is unreachable.
    expect(
        "go: m@v1: verifying go.mod: m@v1/go.mod: Get \"https://sum.golang.org/lookup/m@v1\": read tcp 10.0.0.7:60104->10.9.9.9:443: read: connection reset by peer\n",
        Category::SumdbUnreachable,
    );
}

#[test]
fn more_shapes_users_paste() {
    // The user pressed Ctrl-C while go ran: killed, never a success.
    expect("Downloading Go modules...\n^C\n", Category::Hang);
    // GOPATH-era go get: git's lines, then the import stack's last line saying git failed.
    expect(
        "Cloning into '/home/u/go/src/corp.example/semver'...\nfatal: unable to access 'https://corp.example/semver/': Failed to connect to corp.example port 443: Network is unreachable\npackage corp.example/app\n\timports corp.example/semver: exit status 128\n",
        Category::NetUnreachable,
    );
    // A lookup's error cut from its head, with none of go's lines.
    let d = expect(
        "proxy.golang.org on 10.5.3.1:53: dial udp 10.5.3.1:53: connect: network is unreachable\n",
        Category::DnsFailure,
    );
    // A resolver out of reach, or no network at all (a build sandbox): both named, low.
    assert_eq!(d.confidence, Confidence::Low);
    assert!(d.alternatives.iter().any(|a| a.category == Category::NetUnreachable), "{d:#?}");
    let d = expect(
        "go: github.com/acme/lib@v1.0.0: Get \"https://proxy.golang.org/github.com/acme/lib/@v/v1.0.0.mod\": dial tcp: lookup proxy.golang.org on [fec0:0:0:ffff::1]:53: dial udp [fec0:0:0:ffff::1]:53: connectex: A socket operation was attempted to an unreachable network.\n",
        Category::NetUnreachable,
    );
    assert_eq!(d.confidence, Confidence::Low, "{d:#?}");
    assert!(d.alternatives.iter().any(|a| a.category == Category::DnsFailure), "{d:#?}");
    // An ssh URL where a module path belongs.
    let d = expect("go: malformed module path \"git@github.com:acme/lib\": invalid char '@'\n", Category::ModuleGoMod);
    assert!(d.summary.contains("not one"), "{}", d.summary);
    // git's lines after go's `exit status 128:`, pasted without their tabs: GitLab sent go
    // to a repository right under the host, a wrong root.
    expect(
        "go get git.corp.example/team/lib: git ls-remote -q https://git.corp.example/team.git in /home/u/go/pkg/mod/cache/vcs/0a1b: exit status 128:\nGitLab: The project you were looking for could not be found.\nfatal: Could not read from remote repository.\n",
        Category::VcsMeta,
    );
}

#[test]
fn bare_error_values_inside_another_tools_words() {
    // Renovate quotes the command's stderr in a JSON string; bazel's fetch_repo puts it
    // after its own words. With none of go's lines, the values are read, low.
    let renovate = " WARN: artifactErrors (repository=corp/app)\n       \"stderr\": \"Get \\\"https://proxy.corp.example/corp.example/lib/@v/v1.0.0.mod\\\": x509: certificate has expired or is not yet valid\\n\"\n";
    let d = expect(renovate, Category::TlsExpired);
    assert_eq!(d.confidence, Confidence::Low);
    let bazel = "Error in fail: failed to fetch com_example_lib: fetch_repo: failed to verify certificate: x509: certificate is valid for sinkhole.corp.example, not proxy.golang.org\n";
    expect(bazel, Category::TlsHostname);
    // A test's own log line is the test's: go's `ok` line says go finished.
    expect(
        "=== RUN   TestDial\n    client_test.go:41: dial tcp 127.0.0.1:9: connect: connection refused (expected)\n--- PASS: TestDial (0.21s)\nPASS\nok  \tgithub.com/acme/client\t0.233s\n",
        Category::None,
    );
}

#[test]
fn readings_stay_where_their_evidence_is() {
    // Found by a review with made-up logs: each reading must not spread past its evidence.
    // Another step's ssh refusal after go's network error is not git's under go.
    expect(
        "go: example.com/app imports\n\tgithub.com/x/y: Get \"https://proxy.golang.org/github.com/x/y/@v/list\": dial tcp 142.250.1.1:443: i/o timeout\nPermission denied (publickey).\n",
        Category::NetTimeout,
    );
    // A GOPATH-style import without a dot, in an import stack: its own wording.
    let d = expect(
        "go: github.com/acme/app imports\n\tmycorp/lib/log: malformed module path \"mycorp/lib/log\": missing dot in first path element\n",
        Category::ModuleGoMod,
    );
    assert!(d.summary.contains("without a dot") && d.confidence == Confidence::Medium, "{d:#?}");
    // A program go cannot start: in its module cache (a toolchain, on Windows, where go
    // starts it rather than exec'ing it), its build cache (go ≥ 1.24 caches `go run`'s and
    // `go tool`'s executables), its work directory — each named; GOROOT's tools and GOBIN
    // are no cache of go's.
    let d = expect(
        "go: downloading go1.22.5 (windows/amd64)\ngo: fork/exec C:\\Users\\u\\go\\pkg\\mod\\golang.org\\toolchain@v0.0.1-go1.22.5.windows-amd64\\bin\\go.exe: Access is denied.\n",
        Category::CachePermission,
    );
    assert!(d.summary.contains("module cache") && !d.summary.contains("TMPDIR"), "{}", d.summary);
    let d = expect(
        "go: downloading corp.example/tool v1.0.0\nfork/exec /home/u/.cache/go-build/3f/3f00-d/stringer: permission denied\n",
        Category::CachePermission,
    );
    assert!(d.summary.contains("build cache") && d.summary.contains("GOCACHE"), "{}", d.summary);
    for log in [
        "go: error obtaining buildID for go tool vet: fork/exec /usr/local/go/pkg/tool/linux_amd64/vet: permission denied\n",
        "go: downloading corp.example/tool v1.0.0\nrunning \"mockgen\": fork/exec /home/u/go/bin/mockgen: permission denied\n",
    ] {
        assert_ne!(verdict(log).category, Category::CachePermission, "{log}");
    }
    // Arguments that are not module paths say `missing dot` too: not an import's wording.
    let d = expect(
        "go: gopls@latest: malformed module path \"gopls\": missing dot in first path element\n",
        Category::ModuleGoMod,
    );
    assert!(d.summary.contains("is not one"), "{}", d.summary);
    // git failing under a go.mod line for a reason of its own is not go.mod's mistake.
    expect(
        "go: errors parsing go.mod:\n/src/go.mod:13:2: require github.com/acme/lib: version \"main\" invalid: git ls-remote -q origin in /go/pkg/mod/cache/vcs/0a: exit status 128:\n\tfatal: unable to access 'https://github.com/acme/lib/': Could not resolve host: github.com\n",
        Category::DnsFailure,
    );
    // go's own wording for a cache directory it cannot create.
    expect("go: failed to create cache directory: mkdir /go: permission denied\n", Category::CachePermission);
    // A version without its `v` is go.mod's own mistake; a proxy's 5xx while resolving a
    // branch is the proxy's; a real go.mod mistake beside a looked-up line stays go.mod's.
    expect(
        "go: errors parsing go.mod:\n/src/go.mod:13:2: require github.com/x/y: version \"1.2.3\" invalid: unknown revision 1.2.3\n",
        Category::ModuleGoMod,
    );
    expect(
        "go: errors parsing go.mod:\n/src/go.mod:13:2: require github.com/x/y: version \"master\" invalid: reading https://goproxy.corp.example/github.com/x/y/@v/master.info: 502 Bad Gateway\n",
        Category::ProxyServerError,
    );
    expect(
        "go: errors parsing go.mod:\n/src/go.mod:9:2: require github.com/x/y: version \"v1.2\" invalid: must be of the form v1.2.3\n/src/go.mod:13:2: require github.com/z/w: version \"1e9e1a2b\" invalid: unknown revision 1e9e1a2b\n",
        Category::ModuleGoMod,
    );
    // The work module's own packages on a host of its own are not a dependency's, and
    // `go get -u ./...` names no module.
    for log in [
        "$ go build ./...\ngo: go.example.com/svc/cmd/server imports\n\tgo.example.com/svc/internal/db imports\n\tgithub.com/acme/private-lib: github.com/acme/private-lib@v0.3.0: invalid version: git ls-remote -q origin in /root/go/pkg/mod/cache/vcs/abc: exit status 128:\n\tfatal: could not read Username for 'https://github.com': terminal prompts disabled\n",
        "$ go get -u ./...\ngo: example.com/app imports\n\tgithub.com/acme/private-lib: github.com/acme/private-lib@v0.3.0: invalid version: git ls-remote -q origin in /root/go/pkg/mod/cache/vcs/abc: exit status 128:\n\tfatal: could not read Username for 'https://github.com': terminal prompts disabled\n",
    ] {
        expect(log, Category::VcsAuth);
    }
    // `package main` in a heredoc is not go's stack, and an earlier command's ^C is not
    // go's end.
    expect(
        "$ cat > main.go <<EOF\npackage main\n$ go mod tidy\ngo: finding module for package github.com/google/uuid\ngo: found github.com/google/uuid in github.com/google/uuid v1.6.0\n$ go test ./...\nok  \texample.com/app\t0.012s\n",
        Category::None,
    );
    expect(
        "$ ping proxy.golang.org\n64 bytes from 142.250.1.1: icmp_seq=1 ttl=117 time=9.81 ms\n^C\n$ go mod download\ngo: downloading github.com/x/y v1.2.3\nall modules verified\n",
        Category::None,
    );
}

#[test]
fn a_missing_requirement_a_foreign_tool_and_a_gzip_lie() {
    // go.mod lacks what an import needs, or the import path is wrong: low.
    let d = expect(
        "main.go:6:2: no required module provides package corp.example/lib; to add it:\n\tgo get corp.example/lib\n",
        Category::ModuleGoMod,
    );
    assert_eq!(d.confidence, Confidence::Low);
    // A package under internal/ is the work module's own, missing: no requirement fixes it.
    expect(
        "main.go:3:8: no required module provides package corp.example/app/internal/gone; to add it:\n\tgo get corp.example/app/internal/gone\n",
        Category::Unknown,
    );
    // A proxy marking plain files gzip-encoded (go 1.19 prints the URL with one slash).
    for log in [
        "go: corp.example/lib@v1.0.0: read \"https://gzip.corp.example/corp.example/lib/@v/v1.0.0.info\": gzip: invalid header\n",
        "go: corp.example/lib@v1.0.0: read \"https:/gzip.corp.example/@v/v1.0.0.info\": gzip: invalid header\n",
    ] {
        expect(log, Category::ProxyBadResponse);
    }
    // A go-import page naming a tool that is not installed.
    let d = expect(
        "go: code.corp.example/hgrepo@v1.0.0: hg init . in /home/u/go/pkg/mod/cache/vcs/51b3: exec: \"hg\": executable file not found in $PATH\n",
        Category::VcsMeta,
    );
    assert_eq!(d.confidence, Confidence::Low);
    // A build phase's tag before go's lines (Cloud Native Buildpacks).
    expect(
        "[builder] go: corp.example/lib@v1.0.0: reading https://proxy.corp.example/corp.example/lib/@v/v1.0.0.info: 500 Internal Server Error\n",
        Category::ProxyServerError,
    );
}

#[test]
fn what_go_get_was_asked_for_and_what_it_needed() {
    // GOPATH-era go get of one repository, failing on another owner's it imports: lost since.
    let d = expect(
        "$ go get -u github.com/acme/tool\n# cd .; git clone https://github.com/gone/helper /go/src/github.com/gone/helper\nCloning into '/go/src/github.com/gone/helper'...\nremote: Repository not found.\nfatal: repository 'https://github.com/gone/helper/' not found\npackage github.com/gone/helper: exit status 128\n",
        Category::VcsNotFound,
    );
    assert_eq!(d.confidence, Confidence::Low);
    // `./...` names no module: the host's words as they stand.
    expect(
        "$ go get -t -u ./...\ngo: github.com/acme/private@v1.0.0: reading github.com/acme/private/go.mod at revision v1.0.0: git ls-remote -q https://github.com/acme/private in /go/pkg/mod/cache/vcs/0a: exit status 128:\n\tremote: Repository not found.\n\tfatal: repository 'https://github.com/acme/private/' not found\n",
        Category::VcsNotFound,
    );
    // An unknown revision read from the repository itself may be the cache's broken clone,
    // a commit's or a tag's (go asks the clone's remote for a tag, and a broken clone's can
    // be wrong).
    let d = expect(
        "go: github.com/acme/tool@v0.0.0-20240101000000-0123456789ab: invalid version: unknown revision 0123456789ab\n",
        Category::ModuleInvalidVersion,
    );
    assert_eq!(d.confidence, Confidence::Low);
    assert!(d.alternatives.iter().any(|a| a.category == Category::CacheCorrupt), "{d:#?}");
    let d = expect(
        "go: github.com/acme/tool@v0.8.6: reading github.com/acme/tool/go.mod at revision v0.8.6: unknown revision v0.8.6\n",
        Category::ModuleInvalidVersion,
    );
    assert_eq!(d.confidence, Confidence::Low);
    // In module mode, go get of one module failing on another owner's: as often the work
    // module's own private requirement (and never when GOPRIVATE is in view).
    for log in [
        "$ go get github.com/stretchr/testify@v1.9.0\ngo: github.com/mycorp/secret-lib@v1.2.3: invalid version: git ls-remote -q origin in /go/pkg/mod/cache/vcs/0a: exit status 128:\n\tfatal: could not read Username for 'https://github.com': terminal prompts disabled\n",
        "GOPRIVATE=github.com/mycorp/*\n$ go get github.com/acme/tool\n# cd .; git clone https://github.com/mycorp/secret-lib /go/src/github.com/mycorp/secret-lib\nCloning into '/go/src/github.com/mycorp/secret-lib'...\nfatal: could not read Username for 'https://github.com': terminal prompts disabled\npackage github.com/mycorp/secret-lib: exit status 128\n",
    ] {
        expect(log, Category::VcsAuth);
    }
}

#[test]
fn a_trace_line_has_no_continuation() {
    // golangci-lint quoting go's indented output: the trace line before it does not swallow it.
    let log = "  level=error msg=\"Running error: context loading failed: err: exit status 1: stderr:             # get https://proxy.golang.org/x/y/@v/list\\n            corp.example/app imports\\n            \\tcorp.example/lib: corp.example/lib@v1.0.0: read \\\"https://proxy.corp.example/corp.example/lib/@v/v1.0.0.zip\\\": connection reset by peer\\n\"\n";
    expect(log, Category::NetReset);
}

#[test]
fn a_second_review_kept_these_in_their_place() {
    // ^C after another command the log echoes stopped that command, not go.
    expect(
        "$ go mod download -x\n# get https://proxy.golang.org/github.com/x/y/@v/list\n# get https://proxy.golang.org/github.com/x/y/@v/list: 200 OK (0.1s)\n$ docker compose up\n^C\n",
        Category::None,
    );
    // A bare value with a Windows module cache path is go's.
    expect(
        "open C:\\Users\\me\\go\\pkg\\mod\\cache\\download\\corp.example\\lib\\@v\\v1.0.0.zip: Access is denied.\n",
        Category::CachePermission,
    );
    // Windows' words for a tool that is not installed, and GOPATH-era go's.
    for log in [
        "go: code.corp.example/hgrepo@v1.0.0: hg init . in C:\\Users\\u\\go\\pkg\\mod\\cache\\vcs\\51b3: exec: \"hg\": executable file not found in %PATH%\n",
        "go: missing Mercurial command. See https://golang.org/s/gogetcmd\npackage code.corp.example/hgrepo: exec: \"hg\": executable file not found in $PATH\n",
    ] {
        expect(log, Category::VcsMeta);
    }
    // A build flag's value is no path go get was asked for.
    let d = verdict(
        "+ go install -ldflags \"-s -w -X main.version=1.4.0\" github.com/acme/tool\n# cd .; git clone https://github.com/gone/helper /go/src/github.com/gone/helper\nremote: Repository not found.\nfatal: repository 'https://github.com/gone/helper/' not found\npackage github.com/gone/helper: exit status 128\n",
    );
    assert!(!d.summary.contains("main.version"), "{}", d.summary);
}

/// go's own words from its script tests (`$GOROOT/src/cmd/go/testdata/script`), checked
/// against go 1.26: a work module without a module line, a go.sum a merge broke, a `go
/// get` whose change could not be checked, and go ≤ 1.15's -mod=readonly refusal. (A
/// GOPROXY of separators only stays unknown: the one public report of it, a distribution's
/// packaging bug, was labelled so.)
#[test]
fn words_from_gos_own_script_tests() {
    let d = expect(
        "go: error reading go.mod: missing module declaration. To specify the module path:\n\tgo mod edit -module=example.com/mod\n",
        Category::ModuleGoMod,
    );
    assert_eq!(d.confidence, Confidence::High);
    let d = expect("go: malformed go.sum:\n/app/go.work.sum:3: wrong number of fields 5\n", Category::ModuleGoMod);
    assert!(d.summary.starts_with("go.work.sum has a line"), "{}", d.summary);
    let d = expect("malformed go.sum:\n/home/dev/m/go.sum:1: wrong number of fields 2\n", Category::ModuleGoMod);
    assert!(d.summary.contains("conflict markers"), "{}", d.summary);
    expect(
        "go: upgraded rsc.io/quote v1.0.0 => v1.5.2: error finding sum for rsc.io/quote@v1.5.2: module lookup disabled by GOPROXY=off\n",
        Category::ProxyOff,
    );
    // The same line without a reason is go get's progress, not an error.
    expect("go: upgraded rsc.io/quote v1.0.0 => v1.5.2\n", Category::None);
    let d = expect(
        "m.go:2:8: cannot find module providing package rsc.io/quote: import lookup disabled by -mod=readonly\n",
        Category::ModuleGoMod,
    );
    assert_eq!(d.confidence, Confidence::Low, "a typo'd import reads the same");
    assert!(d.summary.contains("provides rsc.io/quote:"), "{}", d.summary);
    // go 1.13's words for it.
    let d = expect(
        "build example.com/m/cmd/app: cannot load rsc.io/quote: import lookup disabled by -mod=readonly\n",
        Category::ModuleGoMod,
    );
    assert_eq!(d.confidence, Confidence::Low, "{d:#?}");
}

/// git missing from a slim image, in go 1.26's and go 1.19's words (verified with PATH
/// emptied): no category is about a missing tool, so the verdict is `unknown`, but it
/// says what to do rather than that nothing matched.
#[test]
fn git_not_installed_is_said_plainly() {
    for log in [
        "go: github.com/pkg/errors@v0.9.1: unable to resolve git version: failed to execute git version: exec: \"git\": executable file not found in $PATH\n",
        "go: github.com/pkg/errors@v0.9.1: git init --bare in /go/pkg/mod/cache/vcs/6d82bc63: exec: \"git\": executable file not found in $PATH\n",
        "go: github.com/pkg/errors@v0.9.1: git init --bare in C:\\Users\\me\\go\\pkg\\mod\\cache\\vcs\\6d82bc63: exec: \"git\": executable file not found in %PATH%\n",
    ] {
        let d = expect(log, Category::Unknown);
        assert!(
            d.summary.contains("git is not installed") && d.summary.contains("github.com/pkg/errors@v0.9.1"),
            "{}",
            d.summary
        );
    }
    // Another tool's missing git is not go's.
    let d = expect("exec: \"git\": executable file not found in $PATH\n", Category::Unknown);
    assert!(!d.summary.contains("git is not installed"), "{}", d.summary);
}

/// A proxy's body whose chunked framing is broken, a `file://` GOPROXY whose directory is
/// not on this runner, and a web UI's line numbers before BuildKit's lines.
#[test]
fn broken_framing_missing_proxy_directories_and_numbered_pastes() {
    for log in [
        "go: corp.example/lib@v1.0.0: read \"https://goproxy.corp.example/corp.example/lib/@v/v1.0.0.info\": invalid byte in chunk length\n",
        // go 1.19 drops a slash and the module path from such a URL.
        "go: corp.example/lib@v1.0.0: read \"https:/goproxy.corp.example/@v/v1.0.0.zip\": malformed chunked encoding\n",
    ] {
        expect(log, Category::ProxyBadResponse);
    }
    let d = expect(
        "go: corp.example/lib@v1.0.0: reading file:///mnt/goproxy/corp.example/lib/@v/v1.0.0.info: no such file or directory\n",
        Category::ProxyNotFound,
    );
    assert!(d.summary.contains("v1.0.0.info") && d.summary.contains("not mounted"), "{}", d.summary);
    // A checksum lookup in such a directory is not the module's.
    let d = verdict(
        "go: golang.org/x/text@v0.3.2: verifying module: golang.org/x/text@v0.3.2: reading file:///mnt/goproxy/sumdb/sum.golang.org/lookup/golang.org/x/text@v0.3.2: no such file or directory\n",
    );
    assert_ne!(d.category, Category::ProxyNotFound);
    expect(
        "#12 [builder 4/4] RUN go build ./...:\n3461 | 0.354 go: go.mod requires go >= 1.24.0 (running go 1.23.7; GOTOOLCHAIN=local)\n3462 | ------\n",
        Category::ToolchainDownload,
    );
}

/// Configuration go refuses before it fetches anything, in go 1.26's and 1.19's words
/// (verified): `unknown`, as no category is about configuration, but naming the setting
/// and the fix.
#[test]
fn configuration_go_refused_is_said_plainly() {
    for (log, setting) in [
        (
            "go: rsc.io/quote@v1.5.2: invalid proxy URL scheme (must be https, http, file): htps://proxy.example.com\n",
            "GOPROXY",
        ),
        ("go: invalid proxy URL scheme (must be https, http, file): htps://proxy.example.com\n", "GOPROXY"),
        ("go: parsing $GOFLAGS: unknown flag -badflag\n", "GOFLAGS"),
        ("go: invalid boolean value \"x\" for flag -modcacherw (from $GOFLAGS): parse error\n", "GOFLAGS"),
        ("go: -insecure flag is no longer supported; use GOINSECURE instead\n", "GOINSECURE"),
        ("go: modules disabled by GO111MODULE=off; see 'go help modules'\n", "GO111MODULE"),
    ] {
        let d = expect(log, Category::Unknown);
        assert!(
            d.summary.starts_with("go refused its own configuration") && d.summary.contains(setting),
            "{}",
            d.summary
        );
    }
}

/// From the eleventh rounds' tuned-on cases, in general terms: an empty version list (low:
/// a module without tags, a proxy that lists nothing), `-e` going on past a proxy's 503,
/// a relative GOMODCACHE, files differing only in case, a go.mod line's major-version
/// refusal, go ≤ 1.13's `-> unzip` and a bare path mismatch, and GOPATH mode meeting a
/// major-version path.
#[test]
fn the_eleventh_rounds_shapes() {
    let d = expect(
        "go: corp.example/tool/cmd/tool@latest: no matching versions for query \"latest\"\n",
        Category::ModuleInvalidVersion,
    );
    assert_eq!(d.confidence, Confidence::Low);
    assert!(d.alternatives.iter().any(|a| a.category == Category::ProxyNotFound));
    let d = expect(
        "$ export GOPROXY=https://goproxy.corp.example\n$ go install corp.example/tool/cmd/tool@latest\ngo: corp.example/tool/cmd/tool@latest: no matching versions for query \"latest\"\n",
        Category::ProxyNotFound,
    );
    assert_eq!(d.confidence, Confidence::Low);
    expect(
        "$ go mod tidy -e\nexample.com/app imports\n\tcorp.example/lib: module corp.example/lib: reading https://goproxy.corp.example/corp.example/lib/@v/list: 503 Service Unavailable\nProcess exited with code 0\n",
        Category::ProxyServerError,
    );
    expect("go: GOMODCACHE entry is relative; must be absolute path: \"cache/mod\".\n", Category::CachePermission);
    for log in [
        "go: downloading example.com/lib v1.2.0\ngo: create zip: docs/readme.md: case-insensitive file name collision: \"README.md\" and \"readme.md\"\n",
        "go: extracting example.com/lib v0.2.1\n-> unzip /home/u/go/pkg/mod/cache/download/example.com/lib/@v/v0.2.1.zip: case-insensitive file name collision: \"VERSION\" and \"version\"\n",
        "go: errors parsing go.mod:\nrequire example.com/lib: version \"v2.1.1\" invalid: module contains a go.mod file, so major version must be compatible: should be v0 or v1, not v2\n",
        "go: errors parsing go.mod:\n/src/go.mod:12:2: require example.com/lib/v24: version \"v24.0.0-20240221144546-8f9201cc6915\" invalid: go.mod has non-.../v24 module path \"example.com/lib/v2\" (and .../v24/go.mod does not exist) at revision 8f9201cc6915\n",
    ] {
        expect(log, Category::ModuleInvalidVersion);
    }
    expect(
        "module declares its path as: dev.azure.com/org/project/repo.git\n        but was required as: dev.azure.com/org/project/_git/repo.git\n",
        Category::ModulePathMismatch,
    );
    let d = expect(
        "unrecognized import path \"example.com/lib/v3/pkg\": reading https://example.com/lib/v3/pkg?go-get=1: 404 Not Found\n",
        Category::Unknown,
    );
    assert!(d.summary.contains("GOPATH") && d.alternatives.iter().any(|a| a.category == Category::VcsMeta));
    // In module mode the same page is the page's.
    expect(
        "go: example.com/lib/v3@v3.0.0: unrecognized import path \"example.com/lib/v3\": reading https://example.com/lib/v3?go-get=1: 404 Not Found\n",
        Category::VcsMeta,
    );
}

/// A second review's made-up logs for the eleventh rounds' readings.
#[test]
fn a_third_review_kept_these_in_their_place() {
    // `-e` counts only as go's own flag on a command that has it.
    let d = verdict(
        "$ go run ./cmd/gen -e\ngo: example.com/lib@v1.2.3: reading https://proxy.golang.org/example.com/lib/@v/v1.2.3.mod: 410 Gone\nProcess exited with code 0\n",
    );
    assert_eq!(d.category, Category::None, "{d:#?}");
    // go ≥ 1.16's major-version refusal on a go.mod line, and +incompatible, are the version's.
    for log in [
        "go: errors parsing go.mod:\n/src/app/go.mod:10:2: require github.com/foo/bar: version \"v2.0.0\" invalid: should be v0 or v1, not v2\n",
        "go: errors parsing go.mod:\nexclude github.com/foo/bar: version \"v2.0.0\" invalid: should be v0 or v1, not v2\n",
        "go: errors parsing go.mod:\nrequire example.com/lib: version \"v1.9.9\" invalid: unknown revision v1.9.9\n",
    ] {
        expect(log, Category::ModuleInvalidVersion);
    }
    // Module-mode words for a /vN page are the page's, not GOPATH mode's.
    for log in [
        "go get example.com/lib/v3: unrecognized import path \"example.com/lib/v3\": reading https://example.com/lib/v3?go-get=1: 404 Not Found\n",
        "build example.com/app: cannot load example.com/lib/v3/pkg: unrecognized import path \"example.com/lib/v3/pkg\": reading https://example.com/lib/v3/pkg?go-get=1: 404 Not Found\n",
    ] {
        expect(log, Category::VcsMeta);
    }
    // A package of one's own with files differing in case blames no version.
    let d = verdict(
        "$ go build ./...\npackage example.com/app/internal/util: case-insensitive file name collision: \"strings.go\" and \"Strings.go\"\n",
    );
    assert_ne!(d.category, Category::ModuleInvalidVersion);
    // A module go fetched directly (GONOPROXY) is not the proxy's to list; a port is no
    // other proxy.
    let d = expect(
        "$ export GOPROXY=https://athens.corp.example,direct\n$ export GONOPROXY=git.corp.example\ngo: module git.corp.example/team/lib: no matching versions for query \"latest\"\n",
        Category::ModuleInvalidVersion,
    );
    assert_eq!(d.confidence, Confidence::Low);
    expect(
        "$ export GOPROXY=https://proxy.golang.org:443,direct\ngo: module example.com/lib: no matching versions for query \"latest\"\n",
        Category::ModuleInvalidVersion,
    );
}

#[test]
fn the_twelfth_rounds_shapes() {
    // A 407 on an https:// URL came through the TLS connection to the GOPROXY host (a
    // forward proxy refuses the CONNECT before it): the host wants credentials.
    let d = expect(
        "go: corp.example/lib@v1.0.0: reading https://authgw.corp.example/corp.example/lib/@v/v1.0.0.mod: 407 Proxy Authentication Required\n",
        Category::ProxyAuth,
    );
    assert!(d.alternatives.iter().any(|a| a.category == Category::HttpProxyFailure));
    // Over http:// through HTTP_PROXY the forward proxy answered in the target's name.
    expect(
        "HTTP_PROXY=http://gw.corp.example:3128\ngo: corp.example/lib@v1.0.0: reading http://proxy.corp.example/corp.example/lib/@v/v1.0.0.zip: 407 Proxy Authentication Required\n",
        Category::HttpProxyFailure,
    );
    // A body cut short reads alike for a cut connection and a truncated gzip stream: not sure.
    let d = expect(
        "go: corp.example/lib@v1.0.0: read \"https://gzipcut.corp.example/corp.example/lib/@v/v1.0.0.mod\": unexpected EOF\n",
        Category::NetReset,
    );
    assert_eq!(d.confidence, Confidence::Low);
    assert!(d.alternatives.iter().any(|a| a.category == Category::ProxyBadResponse));
    // Before the answer came (`Get …: unexpected EOF`) it is the connection's, as before.
    let d = expect(
        "go: corp.example/lib@v1.0.0: Get \"https://tox.corp.example/corp.example/lib/@v/v1.0.0.mod\": read tcp 10.0.0.2:5555->10.0.0.3:443: read: connection reset by peer\n",
        Category::NetReset,
    );
    assert_eq!(d.confidence, Confidence::High);
    // go's size limit on a module zip.
    expect(
        "go: unzip /home/u/go/pkg/mod/cache/download/corp.example/lib/@v/v1.0.0.zip: total uncompressed size of module contents too large (max size is 524288000 bytes)\n",
        Category::ProxyBadResponse,
    );
    // A 400 to a well-formed request: the proxy (or its firewall) failing, not malformed content.
    let d = expect(
        "go: corp.example/Azure-SDK@v1.0.0: reading https://waf.corp.example/corp.example/%21azure-%21s%21d%21k/@v/v1.0.0.info: 400 Bad Request\n",
        Category::ProxyServerError,
    );
    assert_eq!(d.confidence, Confidence::Low);
    // git cannot tell a missing name from a failing resolver: a name nobody's DNS must
    // know most likely does not exist from here; github.com does.
    let git = |host: &str| {
        format!(
            "go: {host}/team/lib@v1.0.0: reading {host}/team/lib/go.mod at revision v1.0.0: git ls-remote -q --end-of-options https://{host}/team/lib.git in /tmp/m/cache/vcs/bf63: exit status 128:\n\tfatal: unable to access 'https://{host}/team/lib.git/': Could not resolve host: {host}\n"
        )
    };
    let d = expect(&git("gitold.corp.example"), Category::DnsNxdomain);
    assert_eq!(d.confidence, Confidence::Low);
    assert!(d.alternatives.iter().any(|a| a.category == Category::DnsFailure));
    expect(&git("github.com"), Category::DnsFailure);
    // An svn the go-import page named, not installed: go's -x trace shows it end at once.
    let d = expect(
        "# get https://code.corp.example/svnrepo?go-get=1: 200 OK (0.043s)\n\
         cd /tmp/m/cache/vcs/e3ae; svn log -l1 --xml -- https://code.corp.example/svn/svnrepo@v1.0.0\n\
         0.000s # cd /tmp/m/cache/vcs/e3ae; svn log -l1 --xml -- https://code.corp.example/svn/svnrepo@v1.0.0\n\
         go: code.corp.example/svnrepo@v1.0.0: invalid version: unknown revision v1.0.0\n",
        Category::VcsMeta,
    );
    assert!(d.summary.contains("svn"), "{}", d.summary);
    // Bare write errors into the module cache, and nix's indented quote of a builder's log.
    expect(
        "write /go/pkg/mod/cache/download/modernc.org/libc/@v/v1.55.3.zip: no space left on device\n",
        Category::CachePermission,
    );
    expect(
        "error: builder for '/nix/store/x-launcher.drv' failed with exit code 1;\n       last 2 log lines:\n       > building\n       > failed to initialize build cache at /homeless-shelter/.cache/go-build: mkdir /homeless-shelter: permission denied\n",
        Category::CachePermission,
    );
}

#[test]
fn a_log_whose_go_lines_match_nothing_is_read_again_as_a_whole() {
    // go's line broken once by the paste, mid-word.
    let d = expect(
        "go: finding golang.org/x/sys latest\ngo get: upgrading github.com/golang/glog@v0.0.0-20160126235308-23def4e6c14b: Get http://192.168.32.100:3000/github.com/golang/glog/@v/list: read tcp 192.168.32.153:13959->192.168.32.100:3000: wsarecv: An exist\ning connection was forcibly closed by the remote host.\n",
        Category::NetReset,
    );
    assert_eq!(d.confidence, Confidence::Low);
    assert!(d.summary.contains("read from the log as a whole"), "{}", d.summary);
    // Broken between words.
    let d = expect(
        "go: github.com/acme/tool@v1.0.0: Get \"https://proxy.golang.org/github.com/acme/tool/@v/v1.0.0.zip\": tls: failed to\nverify certificate: x509: certificate has expired or is not yet valid\n",
        Category::TlsExpired,
    );
    assert_eq!(d.confidence, Confidence::Low);
    // go's error without its `go: `, as go ≤ 1.12 or a trimmed paste shows it.
    expect(
        "github.com/acme/tool@v1.0.0: verifying go.mod: github.com/acme/tool@v1.0.0/go.mod: reading https://sum.golang.org/lookup/github.com/acme/tool@v1.0.0: 410 Gone\n",
        Category::SumdbPrivateLeak,
    );
    // go's refusal of a module too new for it, and its account of a go.mod it could not
    // read from the repository, without go's prefix (a build tool that runs go trims it).
    let d = expect(
        "github.com/acme/plugin@v1.1.30 requires go >= 1.24 (running go 1.23.7; GOTOOLCHAIN=local)
",
        Category::ToolchainDownload,
    );
    assert_eq!(d.confidence, Confidence::Low);
    expect(
        "Error parsing magefiles: exit status 1
go: downloading github.com/acme/tools v0.0.1
reading github.com/acme/tools/go.mod at revision v0.0.1: git ls-remote -q origin in /home/u/go/pkg/mod/cache/vcs/6f82: exit status 128:
	ERROR: Repository not found.
	fatal: Could not read from remote repository.
",
        Category::VcsNotFound,
    );
    // A line of such a block that a terminal broke at its width, indentation included, is
    // read whole; the block ends where its indentation does.
    let d = expect(
        "make: generate\n\tgo: example.com/aaaa@v1.2.3-rc.1: invalid version: unknown revision v1.2\n.3-rc.1\nmake: *** [gen] Error 1\n",
        Category::ModuleInvalidVersion,
    );
    assert!(d.summary.contains("v1.2.3-rc.1"), "{d:#?}");
    // go's refusal of a module too new for it, in its other wording, without go's prefix.
    expect(
        "build failed:\nmodule github.com/acme/plugin@v1.1.30 requires go >= 1.24 (running go 1.23.7; GOTOOLCHAIN=local)\n",
        Category::ToolchainDownload,
    );
    // A +incompatible version lacking the package, pasted without go's prefix: what go's
    // line means, not "no error of go's".
    let d = expect(
        "build failed:\nmodule github.com/jackc/pgx@upgrade found (v3.6.0+incompatible), but does not contain package github.com/jackc/pgx/pgxpool\n",
        Category::Unknown,
    );
    assert!(d.alternatives.iter().any(|a| a.category == Category::ModuleInvalidVersion), "{d:#?}");
    // go's stderr a tool quoted as an indented block (wire, inside `kratos new`).
    let d = expect(
        "wire: go [-e -json -deps=true -- .]: exit status 1: go: finding module for package github.com/acme/kit/pkg/http\n\tgo: downloading github.com/acme/kit v0.4.1\n\tgo: demo/internal/di imports\n\t\tgithub.com/acme/kit/pkg/http: github.com/acme/kit@v0.4.1: parsing go.mod:\n\tmodule declares its path as: github.com/acme-org/kit\n\t        but was required as: github.com/acme/kit\n\t\nwire: generate failed\n",
        Category::ModulePathMismatch,
    );
    assert_eq!(d.confidence, Confidence::Low);
    // Another tool's errors beside go's success, and git's own failure without go, stay
    // out: the second reading takes go's lines only.
    let d = verdict(
        "go: downloading corp.example/lib v1.0.0\ncurl: (56) Recv failure: Connection reset by peer\nwarning: failed to upload artifact: connection refused\n",
    );
    assert!(matches!(d.category, Category::None | Category::Unknown), "{d:#?}");
    expect(
        "Cloning into 'lib'...\nfatal: unable to access 'https://127.0.0.1:9/lib.git/': Failed to connect to 127.0.0.1 port 9: Connection refused\n",
        Category::Unknown,
    );
    // A line of another tool's is not glued onto go's.
    expect(
        "go: corp.example/lib@v1.0.0: reading https://proxy.corp.example/corp.example/lib/@v/v1.0.0.zip: 418 I'm\nmake: *** [deps] Error 1\n",
        Category::ProxyServerError,
    );
}

#[test]
fn a_git_command_named_as_the_invalid_version_is_never_sure() {
    // go words a failed git command as `invalid version: git …`; a paste broken inside the
    // command leaves neither its exit status nor git's words on go's line.
    let d = expect(
        "go: git.corp.example/locked@v1.0.0: invalid version: git ls-remote -q --end-of-o\nptions https://git.corp.example/locked.git in /tmp/m/cache/vcs/76d9: exit status 128:\n",
        Category::ModuleInvalidVersion,
    );
    assert_eq!(d.confidence, Confidence::Low);
    assert!(d.alternatives.iter().any(|a| a.category == Category::VcsAuth), "{d:#?}");
}

#[test]
fn the_thirteenth_and_fourteenth_rounds_shapes() {
    // GOPATH-era go get: git's and ssh's lines before go's own `exit status 128`, with a
    // blank line among them and no echo of the git command.
    expect(
        "Cloning into 'POGOProtos'...\nPermission denied (publickey).\nfatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\nfatal: clone of 'git@github.com:AeonLucid/POGOProtos.git' into submodule path 'POGOProtos' failed\npackage github.com/pokeintel/pogo-protos: exit status 128\n",
        Category::VcsAuth,
    );
    // go ≤ 1.15's import stack quoting a git command's failure, its tabs lost in the paste.
    expect(
        "        github.com/diegogub/aranGO imports\n        github.com/diegogub/napping: cannot find module providing package github.com/diegogub/napping: module github.com/diegogub/napping: git ls-remote -q origin in /home/u/go/pkg/mod/cache/vcs/6565: exit status 128:\n        ERROR: Repository not found.\n        fatal: Could not read from remote repository.\n",
        Category::VcsNotFound,
    );
    // The checksum database's git refusing the ssh URL a vanity page names.
    expect(
        "go: go.openly.dev/pointy@v1.3.0: verifying module: go.openly.dev/pointy@v1.3.0: reading https://sum.golang.org/lookup/go.openly.dev/pointy@v1.3.0: 404 Not Found\n\tserver response:\n\tnot found: go.openly.dev/pointy@v1.3.0: invalid version: git ls-remote -q origin in /tmp/gopath/pkg/mod/cache/vcs/3422: exit status 128:\n\t\tfatal: transport 'ssh' not allowed\n",
        Category::VcsMeta,
    );
    // Lookups of three unrelated owners' modules all refused: the database path failing.
    let lookup = |m: &str| {
        format!(
            "verifying {m}/go.mod: {m}/go.mod: reading https://goproxy.io/sumdb/sum.golang.org/lookup/{m}: 410 Gone\n"
        )
    };
    let log = [
        "github.com/franela/goblin@v0.0.0-20181003173013-ead4ad1d2727",
        "gopkg.in/check.v1@v1.0.0-20190902080502-41f04d3bba15",
        "github.com/rs/cors@v1.6.0",
    ]
    .map(lookup)
    .concat();
    let d = expect(&log, Category::SumdbUnreachable);
    assert_eq!(d.confidence, Confidence::Low);
    // One module's refused lookup is still the leak it most often is.
    expect(&lookup("github.com/acme/private@v1.0.0"), Category::SumdbPrivateLeak);
}

#[test]
fn pastes_commented_out_or_under_a_log_level_are_read() {
    // Each line commented out, go's wrapped continuation indented under it.
    let d = expect(
        "go get github.com/lilendian0x00/xray-knife@v2.14.20\n# go: github.com/lilendian0x00/xray-knife@v2.14.20:\n#    invalid version: module contains a go.mod file,\n#    so module path must match major version (\"github.com/lilendian0x00/xray-knife/v2\")\n",
        Category::ModuleInvalidVersion,
    );
    assert_eq!(d.confidence, Confidence::Low);
    // Maven's `[ERROR] ` before go 1.11's progress lines: no failure of go's.
    expect(
        "[ERROR] ---------Exec.Err---------\n[ERROR] go: finding github.com/modern-go/reflect2 v1.0.1\n[ERROR] go: finding github.com/json-iterator/go v1.1.5\n",
        Category::None,
    );
}

#[test]
fn a_fourth_review_kept_these_in_their_place() {
    // One company's private modules in three groups on one host are three leaks, and a
    // database answer that saw no repository is a leak whatever the count.
    let lookup = |m: &str| {
        format!(
            "go: {m}@v1.4.0: verifying module: {m}@v1.4.0: reading https://sum.golang.org/lookup/{m}@v1.4.0: 404 Not Found\n\tserver response:\n\tnot found: {m}@v1.4.0: unrecognized import path \"{m}\": https fetch: Get \"https://{m}?go-get=1\": dial tcp: lookup gitlab.corp.example on 8.8.8.8:53: no such host\n"
        )
    };
    let log = [
        "gitlab.corp.example/team-a/authlib",
        "gitlab.corp.example/team-b/billing",
        "gitlab.corp.example/platform/logging",
    ]
    .map(lookup)
    .concat();
    expect(&log, Category::SumdbPrivateLeak);
    // A 407 from proxy.golang.org, or with HTTPS_PROXY set, came from a forward proxy.
    expect(
        "go: github.com/sirupsen/logrus@v1.9.3: reading https://proxy.golang.org/github.com/sirupsen/logrus/@v/v1.9.3.mod: 407 Proxy Authentication Required\n",
        Category::HttpProxyFailure,
    );
    expect(
        "HTTPS_PROXY=http://proxy.corp.example:3128\ngo: corp.example/lib@v1.0.0: reading https://goproxy.corp.example/corp.example/lib/@v/v1.0.0.mod: 407 Proxy Authentication Required\n",
        Category::HttpProxyFailure,
    );
    // A self-hosted ssh repository the database's git may not use: as often private.
    let d = expect(
        "verifying gitlab.corp.example/infra/deploykit@v1.3.0: gitlab.corp.example/infra/deploykit@v1.3.0: reading https://sum.golang.org/lookup/gitlab.corp.example/infra/deploykit@v1.3.0: 404 Not Found\n\tserver response:\n\tnot found: gitlab.corp.example/infra/deploykit@v1.3.0: invalid version: git ls-remote -q ssh://git@gitlab.corp.example/infra/deploykit.git in /tmp/gopath/pkg/mod/cache/vcs/aa: exit status 128:\n\t\tfatal: transport 'ssh' not allowed\n",
        Category::VcsMeta,
    );
    assert_eq!(d.confidence, Confidence::Low);
    assert!(d.alternatives.iter().any(|a| a.category == Category::SumdbPrivateLeak));
    // Another program's error after go only downloaded (go run, kubectl, a migrate tool)
    // is not go's.
    for log in [
        "$ go run ./cmd/seed\ngo: downloading github.com/redis/go-redis/v9 v9.5.1\n2024/05/01 10:00:08 dial tcp 127.0.0.1:6379: i/o timeout\nexit status 1\n",
        "$ go install sigs.k8s.io/kind@v0.22.0\ngo: downloading sigs.k8s.io/kind v0.22.0\nUnable to connect to the server: dial tcp 10.96.0.1:443: i/o timeout\n",
    ] {
        let d = verdict(log);
        assert!(matches!(d.category, Category::Unknown | Category::None), "{log}\n{d:#?}");
    }
    // A branch query a proxy refuses with 400 is the proxy not resolving it.
    expect(
        "go: github.com/acme/widgets@master: reading https://nexus.corp.example/repository/go-proxy/github.com/acme/widgets/@v/master.info: 400 Bad Request\n\tserver response: Invalid version: master is not a valid semantic version\n",
        Category::ProxyBadResponse,
    );
    // go's own words for a proxy's zip over its limit.
    expect("go: corp.example/huge@v1.0.0: downloaded zip file too large\n", Category::ProxyBadResponse);
    // Public code hosts that are not github.com, in any case, exist: their lookup failing
    // is the resolver's.
    for host in ["gitee.com", "GitHub.com", "codeberg.org"] {
        expect(
            &format!(
                "go: {host}/a/b@v1.0.0: reading {host}/a/b/go.mod at revision v1.0.0: git ls-remote -q origin in /tmp/m: exit status 128:\n\tfatal: unable to access 'https://{host}/a/b/': Could not resolve host: {host}\n"
            ),
            Category::DnsFailure,
        );
    }
}

/// `log` as a terminal `width` columns wide shows it: every longer line broken there.
fn terminal(log: &str, width: usize) -> String {
    log.lines()
        .map(|line| match line.char_indices().nth(width) {
            Some((cut, _)) => format!("{}\n{}\n", &line[..cut], &line[cut..]),
            None => format!("{line}\n"),
        })
        .collect()
}

#[test]
fn a_paste_that_broke_go_line_once_is_read_whole() {
    // A terminal breaks the line before `@v/`: the whole line says the certificate expired.
    let d = expect(
        "go: corp.example/lib@v1.0.0: Get \"https://expired.corp.example/corp.example/lib/\n@v/v1.0.0.mod\": tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time 2026-11-26T01:16:21Z is after 2024-01-01T00:00:00Z\n",
        Category::TlsExpired,
    );
    assert_eq!(d.confidence, Confidence::Low);
    // Before a space the terminal kept, in a GOPATH-era error.
    expect(
        "package neugram.io/ng/eval: unrecognized import path \"neugram.io/ng/eval\" (parse\n https://neugram.io/ng/eval?go-get=1: no go-import meta tags ())\n",
        Category::VcsMeta,
    );
    // Inside git's command: its head alone reads `invalid version: git …` (low); whole,
    // with git's lines under it, the repository refused the credentials. (A terminal of
    // 112 columns: the head is the paste's longest line.)
    let log = terminal(
        "go: git.corp.example/platform/locked@v1.0.0: invalid version: git ls-remote -q --end-of-options https://git.corp.example/platform/locked.git in /tmp/modcache/cache/vcs/76d9a7ea7c62: exit status 128:\n\tfatal: unable to access 'https://git.corp.example/platform/locked.git/': The requested URL returned error: 403\n",
        112,
    );
    assert!(log.lines().next().is_some_and(|l| !l.ends_with("128:")), "{log}");
    let d = expect(&log, Category::VcsAuth);
    assert_eq!(d.confidence, Confidence::Low);
    assert!(d.alternatives.iter().any(|a| a.category == Category::ModuleInvalidVersion), "{d:#?}");
    // A `-json` record's Error string broken by the paste is still the record's error.
    expect(
        "{\n\t\"Path\": \"corp.example/lib\",\n\t\"Version\": \"v1.0.0\",\n\t\"Error\": \"corp.example/lib@v1.0.0: reading https://proxy.corp.example/corp.example/lib/@v/v1.0.0.i\nnfo: 401 Unauthorized\\n\\tserver response: 401 Unauthorized\"\n}\n",
        Category::ProxyAuth,
    );
    // Unbroken logs keep their low verdict: nothing was broken to read whole.
    let d = verdict(
        "go: github.com/acme/tool@v1.2.3: reading github.com/acme/tool/go.mod at revision v1.2.3: unknown revision v1.2.3\n",
    );
    assert_eq!(d.category, Category::ModuleInvalidVersion, "{d:#?}");
    assert!(!d.summary.contains("read from the log as a whole"), "{d:#?}");
}

#[test]
fn the_fifteenth_and_sixteenth_rounds_shapes() {
    // A resolver that does not recurse: go's `lame referral`.
    expect(
        "go: corp.example/lib@v1.0.0: Get \"https://goproxy.lame.corp.example/corp.example/lib/@v/v1.0.0.mod\": dial tcp: lookup goproxy.lame.corp.example on 127.0.0.53:53: lame referral\n",
        Category::DnsFailure,
    );
    // Killed after a zip's `200 OK` (its headers): the body may have stalled.
    let d = expect(
        "# get https://stall.corp.example/corp.example/lib/@v/v1.0.0.info\n# get https://stall.corp.example/corp.example/lib/@v/v1.0.0.info: 200 OK (0.001s)\n# get https://stall.corp.example/corp.example/lib/@v/v1.0.0.zip\n# get https://stall.corp.example/corp.example/lib/@v/v1.0.0.zip: 200 OK (0.001s)\nError: Process completed with exit code 124.\n",
        Category::Hang,
    );
    assert_eq!(d.confidence, Confidence::Low);
    assert!(d.alternatives.iter().any(|a| a.category == Category::CacheLockStuck), "{d:#?}");
    // A CI step that succeeded around go's printed errors (`go mod tidy -e`, the command not
    // in view) is no success of go's.
    expect(
        "#12 [build 4/6] RUN go mod tidy -e\n#12 1.204 go: finding module for package corp.example/lib\n#12 1.310 go: example.com/app imports\n#12 1.310 \tcorp.example/lib: module corp.example/lib: reading https://goproxy.corp.example/corp.example/lib/@v/list: 503 Service Unavailable\n#12 DONE 1.4s\n",
        Category::ProxyServerError,
    );
    // GOPATH go get creating GOPATH's parents under another user's home.
    let mut evidence =
        Evidence::from_log("package golang.org/x/review/git-codereview: mkdir /home/user: permission denied\n");
    evidence.env.push(("GOPATH".into(), "/home/user/workspace".into()));
    assert_eq!(diagnose(&evidence).category, Category::CachePermission);
    // Python logging's `LEVEL:logger:` before go's lines (an OBS service running go).
    expect(
        "INFO:obs-service-go_modules:go mod vendor\nERROR:obs-service-go_modules:go: github.com/acme/cli imports\n        github.com/google/shlex: missing go.sum entry for module providing package github.com/google/shlex (imported by github.com/acme/cli); to add:\n        go get github.com/acme/cli\nERROR:obs-service-go_modules:go mod vendor failed\n",
        Category::ModuleGoSumMissing,
    );
}

#[test]
fn a_fifth_review_kept_these_in_their_place() {
    // A prompt or a shell's trace after go's line is no rest of it: the verdict stays go's.
    for next in
        ["~/src/shop (main) $ kubectl get pods", "+ kubectl get pods", "dev@laptop:~/src/shop$ kubectl get pods"]
    {
        let log = format!(
            "~/src/shop (main) $ go get github.com/acme/payments/v2@v2.3.0\ngo: github.com/acme/payments/v2@v2.3.0: invalid version: unknown revision v2.3.0\n{next}\nUnable to connect to the server: dial tcp: lookup k8s.corp.example on 127.0.0.53:53: no such host\n"
        );
        expect(&log, Category::ModuleInvalidVersion);
    }
    // A high verdict read from half a line a terminal broke gives way to the whole line's.
    let log = terminal(
        "go: github.com/acme-corp/private-payments-service@v1.2.0: invalid version: git ls-remote -q origin in /home/dev/go/pkg/mod/cache/vcs/1c2a3b4c5d6e: exit status 128:\n\tfatal: could not read Username for 'https://github.com': terminal prompts disabled\n",
        83,
    );
    assert!(log.lines().next().is_some_and(|l| l.ends_with("git ls-r")), "{log}");
    let d = verdict(&log);
    assert_eq!(d.category, Category::VcsAuth, "{d:#?}");
    assert_eq!(d.confidence, Confidence::Low, "{d:#?}");
    // A job that succeeded after go's error (a retry) is a success.
    expect(
        "$ go mod download || go mod download\ngo: github.com/acme/tools@v0.2.0: reading https://goproxy.corp.example/github.com/acme/tools/@v/v0.2.0.info: 502 Bad Gateway\ngo: downloading github.com/acme/tools v0.2.0\nJob succeeded\n",
        Category::None,
    );
    // Killed after a zip, then `go: downloading` the next version: waiting for its lock.
    expect(
        "# get https://proxy.golang.org/github.com/spf13/cobra/@v/v1.8.0.zip\n# get https://proxy.golang.org/github.com/spf13/cobra/@v/v1.8.0.zip: 200 OK (0.120s)\ngo: downloading github.com/spf13/pflag v1.0.5\nError: Process completed with exit code 124.\n",
        Category::CacheLockStuck,
    );
    // Windows: a directory above GOPATH.
    let mut evidence =
        Evidence::from_log("go: github.com/spf13/cobra@v1.8.0: mkdir C:\\Users\\builder: Access is denied.\n");
    evidence.env.push(("GOPATH".into(), "C:\\Users\\builder\\go".into()));
    assert_eq!(diagnose(&evidence).category, Category::CachePermission);
}

#[test]
fn the_seventeenth_round_and_out14s_shapes() {
    // A /v2 import whose tag sits on a commit without go.mod: +incompatible, no /v2 package.
    expect(
        "go: downloading git.corp.example/nomod v2.0.0+incompatible\ngo: module git.corp.example/nomod@v2.0.0 found (v2.0.0+incompatible), but does not contain package git.corp.example/nomod/v2\n",
        Category::ModuleInvalidVersion,
    );
    // One's own proxy saying `unknown revision`: it lacks the module, or the origin does.
    let d = expect(
        "go: corp.example/lib@v1.9.9: reading https://proxy.corp.example/corp.example/lib/@v/v1.9.9.mod: 404 Not Found\n\tserver response: not found: corp.example/lib@v1.9.9: invalid version: unknown revision v1.9.9\n",
        Category::ProxyNotFound,
    );
    assert_eq!(d.confidence, Confidence::Low);
    assert!(d.alternatives.iter().any(|a| a.category == Category::ModuleInvalidVersion), "{d:#?}");
    // An https:// GOPROXY entry that answers in plain HTTP: a slip of the URL as much as a
    // bad answer.
    let d = expect(
        "go: corp.example/lib@v1.0.0: Get \"https://files.corp.example:8000/corp.example/lib/@v/v1.0.0.mod\": tls: first record does not look like a TLS handshake\n",
        Category::ProxyBadResponse,
    );
    assert_eq!(d.confidence, Confidence::Low);
    // go.sum entries missing after go could not fetch: the fetch is the cause.
    expect(
        "go: unrecognized import path \"gitlab.corp.example/team/lib\": 401 Unauthorized\ngo: missing go.sum entry for module providing package gitlab.corp.example/team/lib\n",
        Category::VcsAuth,
    );
    // GOPROXY=off's refusal as an editor's gopls shows it, without go's prefix.
    expect("module lookup disabled by GOPROXY=off\n", Category::ProxyOff);
    // Killed after the zip, but go then found the package in it: a lock after.
    expect(
        "# get https://proxy.corp.example/corp.example/lib/@v/v1.1.0.zip\n# get https://proxy.corp.example/corp.example/lib/@v/v1.1.0.zip: 200 OK (0.001s)\ngo: found corp.example/lib in corp.example/lib v1.1.0\nKilled\nError: Process completed with exit code 137.\n",
        Category::CacheLockStuck,
    );
}

#[test]
fn a_sixth_review_kept_these_in_their_place() {
    // A fetch failure an earlier command's retry fixed is not why go.sum lacks an entry.
    expect(
        "Run for i in 1 2 3; do go mod download && break; done\ngo: github.com/spf13/cobra@v1.8.0: Get \"https://proxy.golang.org/github.com/spf13/cobra/@v/v1.8.0.zip\": net/http: TLS handshake timeout\nretry 1\nRun go build ./...\nmain.go:5:2: missing go.sum entry for module providing package github.com/mattn/go-isatty (imported by example.com/app); to add:\n\tgo get example.com/app\n",
        Category::ModuleGoSumMissing,
    );
    // Killed after go had finished its downloads (`go: added`), or after `go: found` and a
    // later command: never a sure stuck lock.
    for log in [
        "+ go get -x github.com/mattn/go-sqlite3@v1.14.22\n# get https://proxy.golang.org/github.com/mattn/go-sqlite3/@v/v1.14.22.zip\n# get https://proxy.golang.org/github.com/mattn/go-sqlite3/@v/v1.14.22.zip: 200 OK (0.310s)\ngo: added github.com/mattn/go-sqlite3 v1.14.22\n+ CGO_ENABLED=1 go build ./...\nERROR: Job failed: execution took longer than 1h0m0s seconds\n",
        "$ go mod tidy -x && go test ./...\n# get https://proxy.golang.org/github.com/acme/lib/@v/v1.0.0.zip\n# get https://proxy.golang.org/github.com/acme/lib/@v/v1.0.0.zip: 200 OK (0.020s)\ngo: found github.com/acme/lib in github.com/acme/lib v1.0.0\npanic: test timed out after 10m0s\nError: Process completed with exit code 143.\n",
    ] {
        let d = verdict(log);
        assert!(d.confidence == Confidence::Low || d.category == Category::Hang, "{log}\n{d:#?}");
    }
    // A Dockerfile's later RUN step is the command whose output follows; cache mounts and
    // `cd … &&` before go are read through.
    for run in [
        "RUN go mod tidy -e",
        "RUN --mount=type=cache,target=/go/pkg/mod go mod tidy -e",
        "RUN cd app && go mod tidy -e",
    ] {
        let log = format!(
            "#9 [builder 4/7] RUN go mod download\n#9 CACHED\n#11 [builder 6/7] {run}\n#11 1.204 go: finding module for package gitlab.corp.example/team/lib\n#11 1.310 go: example.com/app imports\n#11 1.310 \tgitlab.corp.example/team/lib: git ls-remote -q origin in /go/pkg/mod/cache/vcs/1a2b: exit status 128:\n#11 1.310 \t\tfatal: could not read Username for 'https://gitlab.corp.example': terminal prompts disabled\n#11 DONE 1.4s\n"
        );
        let d = verdict(&log);
        assert_ne!(d.category, Category::None, "{log}\n{d:#?}");
    }
    // A package moved out of a +incompatible module is no version problem of go's; moved
    // to a later major version, it is: the log does not say which, so both are named.
    for log in [
        "go: module github.com/docker/docker@latest found (v27.3.1+incompatible), but does not contain package github.com/docker/docker/pkg/term\n",
        "go: module github.com/jackc/pgx@upgrade found (v3.6.0+incompatible), but does not contain package github.com/jackc/pgx/pgxpool\n",
    ] {
        let d = verdict(log);
        assert_eq!((d.category, d.confidence), (Category::Unknown, Confidence::Low), "{d:#?}");
        assert!(d.alternatives.iter().any(|a| a.category == Category::ModuleInvalidVersion), "{d:#?}");
    }
    // A /vN import (of a package below the module's root too) that go resolved to a
    // +incompatible version: the /vN is the mistake.
    let d = expect(
        "go: module github.com/acme/lib@latest found (v2.3.0+incompatible), but does not contain package github.com/acme/lib/v2/client\n",
        Category::ModuleInvalidVersion,
    );
    assert_eq!(d.confidence, Confidence::High, "{d:#?}");
    // A /vN package below a subdirectory of the module go found is a nested module go found
    // nowhere: missing, or missing from a proxy (both named, low).
    let d = expect(
        "go install: github.com/acme/kit/cmd/kit/v2@latest: module github.com/acme/kit@latest found (v1.0.1), but does not contain package github.com/acme/kit/cmd/kit/v2\n",
        Category::ModuleInvalidVersion,
    );
    assert_eq!(d.confidence, Confidence::Low, "{d:#?}");
    assert!(d.alternatives.iter().any(|a| a.category == Category::ProxyNotFound), "{d:#?}");
    // go ≤ 1.15: go.mod requiring a v2+ version of a path without /vN met the proxy's 404
    // under `errors parsing go.mod`; no such version can exist.
    let d = expect(
        "go: errors parsing go.mod:\n/src/app/go.mod:6: require github.com/acme/sdk: reading https://goproxy.cn/github.com/acme/sdk/@v/v2.0.2.info: 404 Not Found\n",
        Category::ModuleInvalidVersion,
    );
    assert_eq!(d.confidence, Confidence::High, "{d:#?}");
    // With /v2, or +incompatible, the 404 says nothing of the version's form.
    for line in [
        "/src/app/go.mod:6: require github.com/acme/sdk/v2: reading https://goproxy.cn/github.com/acme/sdk/v2/@v/v2.0.2.info: 404 Not Found\n",
        "/src/app/go.mod:6: require github.com/acme/sdk: reading https://goproxy.cn/github.com/acme/sdk/@v/v2.0.2+incompatible.info: 404 Not Found\n",
    ] {
        let d = verdict(&format!("go: errors parsing go.mod:\n{line}"));
        assert!(!d.summary.contains("no such version can exist"), "{d:#?}");
    }
    // GOPATH mode's import comment check is go's path check before modules (a Windows
    // GOPATH may hold a space).
    expect(
        "can't load package: package github.com/golang/lint/golint: code in directory C:\\Users\\John Smith\\go\\src\\github.com\\golang\\lint\\golint expects import \"golang.org/x/lint/golint\"\n",
        Category::ModulePathMismatch,
    );
    expect(
        "github.com/golang/lint (download)\npackage github.com/golang/lint/golint: code in directory /home/u/go/src/github.com/golang/lint/golint expects import \"golang.org/x/lint/golint\"\n",
        Category::ModulePathMismatch,
    );
    // A 403 on an import path whose page URL the paste cut: a block page as often as a
    // login, and the host is named.
    let d = expect("go: unrecognized import path \"k8s.io/klog/v2\": 403 Forbidden\n", Category::VcsAuth);
    assert_eq!(d.confidence, Confidence::Low);
    assert!(d.summary.contains("k8s.io"), "{}", d.summary);
}

#[test]
fn a_fetch_traced_with_x_that_printed_nothing_before_the_kill_waited_for_a_lock() {
    let mut evidence = Evidence::from_log("");
    evidence.command = Some("go mod download -x".into());
    evidence.exit = Some(modchaos::vocab::Exit::Code { code: 124 });
    let d = diagnose(&evidence);
    assert_eq!(d.category, Category::CacheLockStuck, "{d:#?}");
    assert_eq!(d.confidence, Confidence::Low);
    // Without -x, nothing printed says nothing.
    evidence.command = Some("go mod download".into());
    assert_ne!(diagnose(&evidence).category, Category::CacheLockStuck);
}

/// `fold -w 80` (a terminal's width): every longer line broken into rows of 80 columns,
/// a tab taking the columns up to the next multiple of 8, as many rows as it takes.
fn folded(log: &str) -> String {
    let mut out = String::new();
    for line in log.lines() {
        let mut column = 0;
        for c in line.chars() {
            let next = if c == '\t' { column / 8 * 8 + 8 } else { column + 1 };
            if next > 80 {
                out.push('\n');
                column = 0;
            }
            column = if c == '\t' { column / 8 * 8 + 8 } else { column + 1 };
            out.push(c);
        }
        out.push('\n');
    }
    out
}

#[test]
fn a_seventh_review_with_made_up_logs() {
    // `go install pkg@version` builds outside any module: no go.sum of the user's to fix,
    // whether go's error names the command or the prompt above it does.
    let d = expect(
        "$ go install github.com/acme/tool/cmd/tool@v1.2.0\ngo: github.com/acme/tool/cmd/tool@v1.2.0: missing go.sum entry for go.mod file; to add it:\n\tgo mod download github.com/acme/tool\n",
        Category::Unknown,
    );
    assert!(d.alternatives.iter().any(|a| a.category == Category::ModuleGoSumMissing), "{d:#?}");
    // The compiler killed for want of memory: go reported it and failed; go was not killed.
    let d = verdict(
        "#15 [build 7/7] RUN go build -o /out/server ./cmd/server\n#15 211.4 # example.com/server/internal/gen\n#15 211.4 /usr/local/go/pkg/tool/linux_amd64/compile: signal: killed\n#15 ERROR: process \"/bin/sh -c go build -o /out/server ./cmd/server\" did not complete successfully: exit code: 1\n",
    );
    assert!(!matches!(d.category, Category::Hang | Category::CacheLockStuck | Category::None), "{d:#?}");
    // cgo without a C compiler is a failure no category covers, not a success.
    expect(
        "go: downloading github.com/mattn/go-sqlite3 v1.14.22\n# runtime/cgo\ncgo: C compiler \"gcc\" not found: exec: \"gcc\": executable file not found in $PATH\n",
        Category::Unknown,
    );
    // `go mod verify` that cannot read a cached zip: the cache.
    expect(
        "$ go mod verify\ngithub.com/segmentio/kafka-go v0.4.47: zip: not a valid zip file\n",
        Category::CacheCorrupt,
    );
    // go ≤ 1.15 gave the .info's JSON error bare: a page where JSON was due.
    expect(
        "go: github.com/spf13/viper@v1.18.2: invalid character '<' looking for beginning of value\n",
        Category::ProxyBadResponse,
    );
    // `go env GOPRIVATE` printed its value alone: the path is private, so the prompt is
    // the credentials'.
    expect(
        "$ go env GOPRIVATE\ngitlab.com/acme\n$ go get gitlab.com/acme/platform/go-common@v0.8.0\ngo: gitlab.com/acme/platform/go-common@v0.8.0: invalid version: git ls-remote -q origin in /home/dev/go/pkg/mod/cache/vcs/aa00: exit status 128:\n\tfatal: could not read Username for 'https://gitlab.com': terminal prompts disabled\n",
        Category::VcsAuth,
    );
    // A CI system's timeout message a paste broke in two still says the run was killed.
    let d = verdict(
        "go: downloading github.com/Azure/azure-sdk-for-go v68.0.0+incompatible\n##[error]The job running on agent Hosted Agent ran longer than the maximum ti\nme of 60 minutes.\n",
    );
    assert_ne!(d.category, Category::None, "{d:#?}");
}

#[test]
fn a_line_a_terminal_broke_into_several_rows_is_read_whole_or_not_surely() {
    // A public proxy quoting a code host's prompt, folded at 80 columns: the server's
    // response (tab-indented) is broken into three rows, `invalid version: git ` ending one.
    let log = "go: downloading github.com/acme-corp/secret-sdk v1.0.0\ngo: github.com/acme-corp/secret-sdk@v1.0.0: reading https://proxy.golang.org/github.com/acme-corp/secret-sdk/@v/v1.0.0.mod: 404 Not Found\n\tserver response:\n\tnot found: github.com/acme-corp/secret-sdk@v1.0.0: invalid version: git ls-remote -q origin in /tmp/gopath/pkg/mod/cache/vcs/91a9d4c2e7f5b8a3c6d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2: exit status 128:\n\t\tfatal: could not read Username for 'https://github.com': terminal prompts disabled\n\tConfirm the import path was typed correctly.\n";
    let whole = verdict(log);
    let d = verdict(&folded(log));
    assert_eq!(d.category, whole.category, "{}\n{d:#?}", folded(log));
    assert_eq!(d.confidence, Confidence::Low, "{d:#?}");
    // git's `exit status 128:` on a row of go's error is not the run's exit status.
    assert!(!d.context.iter().any(|c| c.contains("128")), "{d:#?}");
    // An announcing line (`errors parsing go.mod:`) whose details a terminal broke.
    let log = "go: errors parsing go.mod:\n/tmp/work/go.mod:6:2: require corp.example/tool: version \"v2.0.0\" invalid: should be v0 or v1, not v2\n";
    let d = verdict(&terminal(log, 80));
    assert_eq!((d.category, d.confidence), (Category::ModuleInvalidVersion, Confidence::Low), "{d:#?}");
    // A half that names the same category as the whole is still no surer than the whole:
    // its cause quoted half a line.
    let log =
        "go: git.corp.example/lib@v0.0.0-20240101000000-0123456789ab: invalid version: unknown revision 0123456789ab\n";
    let d = verdict(&terminal(log, 80));
    assert_eq!(d.confidence, Confidence::Low, "{d:#?}");
    assert!(d.summary.contains("unknown revision 0123456789ab"), "{d:#?}");
    // `-x`'s complete `# get …: 200 OK (0.003s)` is not continued by the next line, even
    // when it is the paste's longest: the run's end below it stays the run's.
    let d = verdict(
        "Step 4/7 : RUN go mod download -json -x corp.example/lib@v1.0.0\n# get https://proxy.corp.example/corp.example/lib/@v/v1.0.0.mod\n# get https://proxy.corp.example/corp.example/lib/@v/v1.0.0.mod: 200 OK (0.000s)\nThe command '/bin/sh -c go mod download -x' returned a non-zero code: 137\n",
    );
    assert_eq!(d.category, Category::CacheLockStuck, "{d:#?}");
}

#[test]
fn rules_from_the_sixteenth_rounds_tuned_on_thirds() {
    // go run under timeout(1) by a step that retries: each attempt ended by the timeout
    // after every request was answered, and the step's own status hides timeout's 124.
    let log = "+ timeout 4 go mod download -x\n# get https://proxy.corp.example/corp.example/lib/@v/v1.0.0.mod\n# get https://proxy.corp.example/corp.example/lib/@v/v1.0.0.mod: 200 OK (0.048s)\ndownload failed (attempt 1), retrying\n";
    let mut evidence = Evidence::from_log(log);
    evidence.exit = Some(modchaos::vocab::Exit::Code { code: 1 });
    let d = diagnose(&evidence);
    assert_eq!(d.category, Category::CacheLockStuck, "{d:#?}");
    // Without the timeout in the command, nothing says go was killed.
    let mut evidence = Evidence::from_log(&log.replace("timeout 4 ", ""));
    evidence.exit = Some(modchaos::vocab::Exit::Code { code: 1 });
    assert_ne!(diagnose(&evidence).category, Category::CacheLockStuck);
    // A checksum database lookup answered with what is not a record (sumdb's ParseRecord).
    let d = expect(
        "verifying example.com/lib@v1.0.0/go.mod: example.com/lib@v1.0.0/go.mod: malformed record data\n",
        Category::ProxyBadResponse,
    );
    assert!(d.alternatives.iter().any(|a| a.category == Category::SumdbUnreachable), "{d:#?}");
}

#[test]
fn an_eighth_review_with_issue_thread_pastes() {
    // Cache paths with spaces (a Windows user name, Program Files, a macOS home).
    for log in [
        "go: downloading github.com/pkg/errors v0.9.1\ngo: github.com/pkg/errors@v0.9.1: mkdir C:\\Users\\John Smith\\go\\pkg\\mod\\cache\\download\\github.com\\pkg: Access is denied.\n",
        "go: github.com/pkg/errors@v0.9.1: mkdir /Users/Mary Ann/go/pkg/mod/cache/download/github.com/pkg: permission denied\n",
    ] {
        expect(log, Category::CachePermission);
    }
    // Another process (an antivirus, an indexer) holding the fresh download: the cache's
    // trouble, not the network's.
    let d = expect(
        "go: github.com/aws/aws-sdk-go@v1.44.100: rename C:\\Users\\dev\\go\\pkg\\mod\\github.com\\aws\\aws-sdk-go@v1.44.100.tmp-12345 C:\\Users\\dev\\go\\pkg\\mod\\github.com\\aws\\aws-sdk-go@v1.44.100: The process cannot access the file because it is being used by another process.\n",
        Category::CachePermission,
    );
    assert_eq!(d.confidence, Confidence::Medium, "{d:#?}");
    // VS Code's "Installing tools" report: go's stderr inside the tool's JSON object.
    expect(
        "Installing golang.org/x/tools/gopls@latest FAILED\n{\n \"killed\": false,\n \"code\": 1,\n \"stderr\": \"go: golang.org/x/tools/gopls@latest: module golang.org/x/tools/gopls: Get \\\"https://proxy.golang.org/golang.org/x/tools/gopls/@v/list\\\": dial tcp 142.251.43.17:443: connectex: A connection attempt failed because the connected party did not properly respond after a period of time, or established connection failed because connected host has failed to respond.\\n\"\n}\n",
        Category::NetTimeout,
    );
    // A name everyone knows that led to this machine: a hosts file or a DNS filter.
    let d = expect(
        "go: golang.org/x/sys@v0.10.0: Get \"https://proxy.golang.org/golang.org/x/sys/@v/v0.10.0.mod\": dial tcp 127.0.0.1:443: connect: connection refused\n",
        Category::NetRefused,
    );
    assert_eq!(d.confidence, Confidence::Low, "{d:#?}");
    assert!(d.alternatives.iter().any(|a| a.category == Category::DnsFailure), "{d:#?}");
    // One's own proxy on this machine is no such thing.
    let d = expect(
        "go: corp.example/lib@v1.0.0: Get \"http://127.0.0.1:3000/corp.example/lib/@v/v1.0.0.mod\": dial tcp 127.0.0.1:3000: connect: connection refused\n",
        Category::NetRefused,
    );
    assert_eq!(d.confidence, Confidence::High, "{d:#?}");
}

#[test]
fn a_ninth_review_and_logs_their_readers_found_settled() {
    // `go test ./...` prints no `exit status 1`: its FAIL lines are the failure, whatever
    // passed beside them.
    for log in [
        "ok  \tcorp.example/app/store\t0.012s\n--- FAIL: TestParse (0.00s)\n    parse_test.go:14: got 2, want 3\nFAIL\nFAIL\tcorp.example/app/parse\t0.007s\nFAIL\n",
        "2026-11-27T02:00:01.0000000Z ok  \tcorp.example/app/store\t0.012s\n2026-11-27T02:00:01.1000000Z FAIL\tcorp.example/app/parse\t0.007s\n",
    ] {
        let d = expect(log, Category::Unknown);
        assert!(d.summary.contains("test failed"), "{d:#?}");
    }
    // go ≤ 1.12 asking Bitbucket's API which tool a repository uses: the code host's answer.
    let api = "go get bitbucket.org/corp/lib: reading https://api.bitbucket.org/2.0/repositories/corp/lib?fields=scm: ";
    expect(&format!("{api}403 Forbidden\n"), Category::VcsAuth);
    let d = expect(&format!("{api}404 Not Found\n"), Category::VcsNotFound);
    assert!(d.alternatives.iter().any(|a| a.category == Category::VcsAuth), "{d:#?}");
    // A zip in the module cache that ends early: a truncated file, not a connection.
    let d = expect(
        "go: corp.example/lib@v1.4.0: unzip /home/ci/go/pkg/mod/cache/download/corp.example/lib/@v/v1.4.0.zip: unexpected EOF\n",
        Category::CacheCorrupt,
    );
    assert_eq!(d.confidence, Confidence::Low);
    // kubectl's and docker's errors after go's steps are theirs.
    for log in [
        "$ go build ./...\n$ kubectl apply -f k8s/\nUnable to connect to the server: dial tcp 10.20.0.1:6443: i/o timeout\n",
        "+ go mod download\n+ docker pull redis:7\nError response from daemon: Get \"https://registry-1.docker.io/v2/\": net/http: request canceled while waiting for connection\n",
    ] {
        assert_ne!(verdict(log).category, Category::NetTimeout, "{log}");
    }
    // golangci-lint's deadline after go loaded the packages ran out on the linters.
    let linted = "level=info msg=\"[loader] Go packages loading at mode 575 (deps|files|imports|name|types_sizes) took 12.4s\"\nlevel=error msg=\"Timeout exceeded: try increasing it by passing --timeout option\"\n";
    assert_ne!(verdict(linted).category, Category::Hang);
    // Before the loading ended, it killed go.
    let loading = "level=error msg=\"Timeout exceeded: try increasing it by passing --timeout option\"\n";
    assert_eq!(verdict(loading).category, Category::Hang);
    // A public proxy refusing through a forward proxy: the forward proxy answered.
    let d = expect(
        "HTTPS_PROXY=http://gateway.corp.example:8080\ngo: github.com/pkg/errors@v0.9.1: reading https://proxy.golang.org/github.com/pkg/errors/@v/v0.9.1.mod: 403 Forbidden\n",
        Category::HttpProxyFailure,
    );
    assert!(d.alternatives.iter().any(|a| a.category == Category::ProxyAuth), "{d:#?}");
    // A public proxy quoting Gitee's prompt: private or missing, as for GitHub's.
    let d = expect(
        "go: gitee.com/corp/lib@v1.0.0: reading https://goproxy.cn/gitee.com/corp/lib/@v/v1.0.0.info: 404 Not Found\n\tserver response:\n\tnot found: gitee.com/corp/lib@v1.0.0: invalid version: git ls-remote -q origin in /tmp/gopath/pkg/mod/cache/vcs/4f: exit status 128:\n\t\tfatal: could not read Username for 'https://gitee.com': terminal prompts disabled\n",
        Category::ProxyNotFound,
    );
    assert_eq!(d.confidence, Confidence::Low);
    // go ≤ 1.9 worded a refused connection `getsockopt:`.
    expect(
        "package corp.example/tool: unrecognized import path \"corp.example/tool\" (https fetch: Get https://corp.example/tool?go-get=1: dial tcp 10.1.2.3:443: getsockopt: connection refused)\n",
        Category::NetRefused,
    );
    // git asked for credentials for an empty URL (an insteadOf rule gone wrong), in a
    // build that shows nothing else of go's.
    expect(
        "fatal: could not read Username for '': terminal prompts disabled\nmake: *** [build] Error 1\n",
        Category::VcsAuth,
    );
    // A tool's JSON log cut before its string opened: go's lines escaped.
    expect(
        "exit status 128:\\n\\tfatal: could not read Password for 'https://oauth2@gitlab.com': terminal prompts disabled\\n\"\n",
        Category::VcsAuth,
    );
    // A paste that is nothing but the error value: go's, brought to a diagnosis of go's.
    let d = expect(
        "tls: failed to verify certificate: x509: certificate has expired or is not yet valid: \u{201c}corp.example\u{201d} certificate is expired\n",
        Category::TlsExpired,
    );
    assert_eq!(d.confidence, Confidence::Low);
}

#[test]
fn lines_go_shows_without_starting_them_are_read_whole_when_a_terminal_broke_them() {
    // git's own line under GOPATH-era go get, a bare error value, go's line inside an
    // editor's: each broken once at 80 columns reads as it did whole.
    for (log, category) in [
        (
            "# cd .; git clone https://github.com/corp/tool /go/src/github.com/corp/tool\nCloning into '/go/src/github.com/corp/tool'...\nfatal: unable to access 'https://github.com/corp/tool/': Could not resolve host: github.com\npackage github.com/corp/tool: exit status 128\n",
            Category::DnsFailure,
        ),
        (
            "Get \"https://goproxy.corp.example/corp.example/lib/@v/v1.0.0.mod\": x509: certificate has expired or is not yet valid\n",
            Category::TlsExpired,
        ),
        (
            "vim-go: err: exit status 1: stderr: go: bitbucket.org/corp/broker-client@v0.1.0: module lookup disabled by GOPROXY=off\n",
            Category::ProxyOff,
        ),
    ] {
        assert_eq!(verdict(log).category, category, "{log}");
        let broken = terminal(log, 80);
        assert_eq!(verdict(&broken).category, category, "{broken}");
    }
}

#[test]
fn a_tenth_review_of_short_and_partial_pastes() {
    // A public proxy failing go's check that it serves the checksum database: its own
    // failure, as for a lookup through it.
    let d = expect(
        "go: corp.example/lib@v1.0.0: verifying go.mod: corp.example/lib@v1.0.0/go.mod: reading https://proxy.golang.org/sumdb/sum.golang.org/supported: 503 Service Unavailable\n",
        Category::ProxyServerError,
    );
    assert!(d.alternatives.iter().any(|a| a.category == Category::SumdbUnreachable), "{d:#?}");
    // The database's name not resolving: the resolver is named.
    let d = expect(
        "verifying github.com/pkg/errors@v0.9.1/go.mod: github.com/pkg/errors@v0.9.1/go.mod: Get https://sum.golang.org/lookup/github.com/pkg/errors@v0.9.1: dial tcp: lookup sum.golang.org on 10.0.0.2:53: no such host\n",
        Category::SumdbUnreachable,
    );
    assert!(d.alternatives.iter().any(|a| a.category == Category::DnsFailure), "{d:#?}");
    // git's smart-HTTP request refused, the hang-up after it.
    expect(
        "go: git.corp.example/team/lib@v1.0.0: git fetch -f origin in /home/u/go/pkg/mod/cache/vcs/9a: exit status 128:\n\terror: RPC failed; HTTP 403 curl 22 The requested URL returned error: 403\n\tfatal: the remote end hung up unexpectedly\n",
        Category::VcsAuth,
    );
    // A Windows runner's cached zip, backslashes and all.
    expect(
        "go: github.com/pkg/errors@v0.9.1: unzip D:\\a\\_work\\go\\pkg\\mod\\cache\\download\\github.com\\pkg\\errors\\@v\\v0.9.1.zip: zip: not a valid zip file\n",
        Category::CacheCorrupt,
    );
    // go's SECURITY ERROR banner without the line above it.
    expect(
        "SECURITY ERROR\nThis download does NOT match the one reported by the checksum server.\nThe bits may have been replaced on the origin server, or an attacker may\nhave intercepted the download attempt.\n",
        Category::SumdbMismatch,
    );
    // Credentials in a plain-http GOPROXY: refused, with the setting and the fix.
    let d = expect(
        "go: github.com/pkg/errors@v0.9.1: refusing to pass credentials to insecure URL: http://ci:xxxxx@athens.corp.example:3000/github.com/pkg/errors/@v/v0.9.1.zip\n",
        Category::Unknown,
    );
    assert!(d.summary.contains("GOPROXY") && d.summary.contains("https"), "{d:#?}");
    // go's words without its prefix, and an error quoted in a sentence.
    expect(
        "missing go.sum entry for module providing package github.com/pkg/errors (imported by corp.example/app); to add:\n\tgo get corp.example/app\n",
        Category::ModuleGoSumMissing,
    );
    expect(
        "When I run go mod tidy in CI I get `go: github.com/pkg/errors@v0.9.1: verifying module: checksum mismatch` and nothing else.\n",
        Category::SumdbMismatch,
    );
    // git alone (no go in view) is any git's.
    assert_eq!(verdict("fatal: repository 'https://github.com/corp/lib/' not found\n").category, Category::Unknown);
}

#[test]
fn what_go_hashed_says_where_the_bad_bits_are() {
    // `verifying M@V: zip: …` is go checking a module already in its cache (checkMod):
    // the cached zip is broken.
    let d = expect("verifying github.com/pkg/errors@v0.9.1: zip: not a valid zip file\n", Category::CacheCorrupt);
    assert_eq!(d.confidence, Confidence::Medium);
    // A go.mod whose hash is an empty file's (real go printed it for a `.mod` served
    // empty): the file was empty, not replaced upstream.
    let mismatch = "verifying github.com/pkg/errors@v0.9.1/go.mod: checksum mismatch\n\tdownloaded: h1:G7mAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY=\n\tgo.sum:     h1:pNGeR5ZPyRW4ITDkyWtPhNIJPVqBeQkn23YLRX2rpe0=\n\nSECURITY ERROR\nThis download does NOT match an earlier download recorded in go.sum.\n";
    let d = expect(mismatch, Category::CacheCorrupt);
    for named in [Category::ProxyBadResponse, Category::SumdbMismatch] {
        assert!(d.alternatives.iter().any(|a| a.category == named), "{d:#?}");
    }
    // Fetched in this run: the proxy's empty body first.
    expect(&format!("go: downloading github.com/pkg/errors v0.9.1\n{mismatch}"), Category::ProxyBadResponse);
    // Any other hash: bits that differ.
    expect(
        &mismatch
            .replace("G7mAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY=", "bq6sOlxCeHkkiyiTfBCRigdTcUmMbtuVsVldfk1e0xk="),
        Category::SumdbMismatch,
    );
}

#[test]
fn a_terminal_that_broke_a_url_or_the_line_above_go_s_details() {
    // Broken inside the checksum database's URL, right after `sum.`: the rest reads like a
    // line of go's own (`golang.org/lookup/M@V: dial tcp …`) but is the URL's, and the
    // whole line is the database's.
    let d = expect(
        "verifying github.com/acme/widget@v1.2.0/go.mod: github.com/acme/widget@v1.2.0/go.mod: Get https://sum.\ngolang.org/lookup/github.com/acme/widget@v1.2.0: dial tcp 142.250.72.17:443: i/o timeout\n",
        Category::SumdbUnreachable,
    );
    assert_eq!(d.confidence, Confidence::Low, "{d:#?}");
    // Broken inside the proxy's URL, with the server's response indented below: the
    // response is read with the line it answers, not alone.
    let d = expect(
        "go: corp.example/billing/api@v1.4.0: reading https://artifactory.corp.example/api/go/go-virtual/corp.example/bi\nlling/api/@v/v1.4.0.info: 404 Not Found\n\tserver response: not found: corp.example/billing/api@v1.4.0: unknown revision v1.4.0\n",
        Category::ProxyNotFound,
    );
    assert!(d.alternatives.iter().any(|a| a.category == Category::ModuleInvalidVersion), "{d:#?}");
    // go's line inside another tool's, broken: its lookup's 410 is read with the server's
    // response below it, not again on its own (a private module's leak).
    let d = expect(
        "   ⨯ release failed after 12.40s error=failed to proxy module: exit status 1: go: github.com/acme-oss/gauge/v2@v2.0.3: verifying go.\nmod: github.com/acme-oss/gauge/v2@v2.0.3/go.mod: reading https://sum.golang.org/lookup/github.com/acme-oss/gauge/v2@v2.0.3: 410 Gone\n\tserver response: not found: github.com/acme-oss/gauge/v2@v2.0.3: invalid version: unknown revision v2.0.3\n",
        Category::ModuleInvalidVersion,
    );
    assert_eq!(d.confidence, Confidence::Low, "{d:#?}");
}

#[test]
fn a_ci_systems_line_below_go_s_error_is_not_the_rest_of_it() {
    // The line a CI system prints when the step ends starts with a capital, as the rest of
    // a line a terminal broke may: it is not go's, and go's line stays whole and sure.
    for tail in [
        "2024-02-01T07:47:22.4501022Z ##[error]Bash exited with code '1'.",
        "2024-02-01T07:47:22.4501022Z ##[error]Process completed with exit code 1.",
        "The command '/bin/sh -c go mod download' returned a non-zero code: 1",
        "Cleaning up project directory and file based variables",
    ] {
        let log = format!(
            "2024-02-01T07:47:22.4410012Z go: github.com/Azure/azure-sdk-for-go/sdk/azcore@v1.9.1: Get \"https://proxy.golang.org/github.com/!azure/azure-sdk-for-go/sdk/azcore/@v/v1.9.1.zip\": dial tcp 142.251.211.241:443: connect: connection timed out\n{tail}\n"
        );
        let d = expect(&log, Category::NetTimeout);
        assert_eq!(d.confidence, Confidence::High, "{log}\n{d:#?}");
        assert!(!d.summary.contains("exited") && !d.summary.contains("guess"), "{d:#?}");
    }
    // A line ending as go ends an expired certificate's error, then the CI's words.
    let d = expect(
        "go: periph.io/x/host/v3@v3.8.2: Get \"https://proxy.golang.org/periph.io/x/host/v3/@v/v3.8.2.mod\": tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time 1970-01-01T00:02:11Z is before 2024-04-29T08:21:37Z\nProcess completed with exit code 1.\n",
        Category::TlsExpired,
    );
    assert_eq!(d.confidence, Confidence::High, "{d:#?}");
}

#[test]
fn what_else_runs_around_go_in_a_ci_step_is_not_go() {
    // `go mod download && go mod verify`: the download failed first, so go mod verify
    // never ran; the mismatch is a download's, not the cache's.
    let d = verdict(
        "#12 [builder 4/7] RUN go mod download && go mod verify\n#12 2.377 verifying github.com/lib/pq@v1.10.9: checksum mismatch\n#12 2.377 \tdownloaded: h1:p7Zh5IfZIuhhmxeW0I37xQiaxdBFtAmY3cGsyGSJ8Nw=\n#12 2.377 \tgo.sum:     h1:o8UYYQk/Ek3h2Oe2xFL1BzeJG2k/xGNnJ1vUxWXOMMc=\n#12 2.377 \n#12 2.377 SECURITY ERROR\n#12 2.377 This download does NOT match an earlier download recorded in go.sum.\n",
    );
    assert_ne!(d.category, Category::CacheCorrupt, "{d:#?}");
    // setup-go's cache restore failing (tar's exit code 2, a warning) is not go's status.
    let d = verdict(
        "/usr/bin/tar: ../../../go/pkg/mod/golang.org/x/sys@v0.26.0/LICENSE: Cannot open: File exists\n/usr/bin/tar: Exiting with failure status due to previous errors\nWarning: Failed to restore: \"/usr/bin/tar\" failed with error: The process '/usr/bin/tar' failed with exit code 2\nRun go build -v ./...\ngo: downloading golang.org/x/sys v0.26.0\ngolang.org/x/sys/unix\ngithub.com/acme/api/cmd/api\n",
    );
    assert_eq!(d.category, Category::None, "{d:#?}");
    // Windows PowerShell wraps go's progress on stderr in an error record: the record is
    // not go's error, and the user's `$LASTEXITCODE` says how go ended.
    let record = "PS C:\\src\\tray> go build -o tray.exe .\ngo : go: downloading github.com/getlantern/systray v1.2.2\nAt line:1 char:1\n+ go build -o tray.exe .\n+ ~~~~~~~~~~~~~~~~~~~~~~\n    + CategoryInfo          : NotSpecified: (go: downloading...ystray v1.2.2:String) [], RemoteException\n    + FullyQualifiedErrorId : NativeCommandError\n \n";
    let d = expect(&format!("{record}PS C:\\src\\tray> $LASTEXITCODE\n0\n"), Category::None);
    assert_eq!(d.confidence, Confidence::High, "{d:#?}");
    // A script that stopped on that record: PowerShell's doing, said so.
    let d = expect(&format!("{record}##[error]PowerShell exited with code '1'.\n"), Category::Unknown);
    assert!(d.summary.contains("NativeCommandError") && d.summary.contains("ErrorActionPreference"), "{d:#?}");
    // A real error in the record is go's line, read as such.
    expect(
        "go : go: github.com/getlantern/systray@v1.2.2: Get \"https://proxy.golang.org/github.com/getlantern/systray/@v/v1.2.2.mod\": dial tcp: lookup proxy.golang.org: no such host\nAt line:1 char:1\n+ go mod download\n+ ~~~~~~~~~~~~~~~\n    + CategoryInfo          : NotSpecified: (go: github.com/...: no such host:String) [], RemoteException\n    + FullyQualifiedErrorId : NativeCommandError\n",
        Category::DnsNxdomain,
    );
    // The user's `echo $?` after a run they stopped: the status it printed is the run's.
    let d = verdict("$ go mod download\ngo: downloading google.golang.org/grpc v1.68.0\n^C\n$ echo $?\n130\n");
    assert_eq!(d.category, Category::Hang, "{d:#?}");
    assert!(d.context.iter().any(|c| c.contains("echo $?")), "{d:#?}");
}

#[test]
fn the_fix_for_a_work_modules_files_is_the_one_go_names() {
    let cause = |log: &str| expect(log, Category::ModuleGoMod).summary;
    // vendor/ is synced by `go mod vendor`, as go's own hint says, not by tidy.
    let s = cause(
        "go: inconsistent vendoring in /src:\n\tgithub.com/spf13/cobra@v1.8.1: is explicitly required in go.mod, but vendor/modules.txt indicates github.com/spf13/cobra@v1.8.0\n\n\tTo ignore the vendor directory, use -mod=readonly or -mod=mod.\n\tTo sync the vendor directory, run:\n\t\tgo mod vendor\n",
    );
    assert!(s.contains("go mod vendor"), "{s}");
    // go ≥ 1.16 under -mod=vendor, a package vendor/ lacks.
    let s = cause(
        "cmd/ledgerd/main.go:12:2: cannot find package \".\" in:\n\t/builds/payments/ledger/vendor/github.com/shopspring/decimal\n",
    );
    assert!(s.contains("go mod vendor") && !s.contains('\n'), "{s}");
    // go.work's own mistakes are fixed in go.work.
    let s = cause("go: module example.com/billing appears multiple times in workspace\n");
    assert!(s.contains("dropuse"), "{s}");
    let s = cause(
        "go: module ./tools listed in go.work file requires go >= 1.25.0, but go.work lists go 1.22; to update it:\n\tgo work use\n",
    );
    assert!(s.contains("go work use"), "{s}");
    // A go.mod newer than this go, read by tidy or announced by `errors parsing go.mod:`:
    // the lines below the announcement say why, and they are the evidence.
    let s = cause("go: go.mod file indicates go 1.22, but maximum version supported by tidy is 1.21\n");
    assert!(s.contains("newer go") && !s.contains("go mod tidy`"), "{s}");
    let d = expect(
        "go: errors parsing go.mod:\n/src/go.mod:3: invalid go version '1.22.1': must match format 1.23\n/src/go.mod:5: unknown directive: toolchain\n",
        Category::ModuleGoMod,
    );
    assert!(d.summary.contains("newer go") && d.summary.contains("1.22.1"), "{d:#?}");
    assert_eq!(d.evidence.len(), 3, "{d:#?}");
    // A replace pointing at a directory this checkout lacks.
    let s = cause(
        "go: github.com/northwind/lib@v0.0.0-00010101000000-000000000000: replacement directory ../lib does not exist\n",
    );
    assert!(s.contains("replace"), "{s}");
    // The placeholder version of a module only a replace provides: no revision has it.
    let d = expect(
        "go: github.com/northwind/lib@v0.0.0-00010101000000-000000000000: invalid version: unknown revision 000000000000\n",
        Category::ModuleInvalidVersion,
    );
    assert!(d.summary.contains("replace") && d.confidence == Confidence::High, "{d:#?}");
    assert!(d.alternatives.iter().any(|a| a.category == Category::ModuleGoMod), "{d:#?}");
}

#[test]
fn go_s_own_directories_are_named_for_what_they_are() {
    let cause = |log: &str| expect(log, Category::CachePermission).summary;
    // The build cache under a read-only HOME: GOCACHE, not the module cache.
    let s = cause(
        "go: failed to initialize build cache at /github/home/.cache/go-build: mkdir /github/home/.cache: read-only file system\n",
    );
    assert!(s.contains("GOCACHE") && !s.contains("GOMODCACHE"), "{s}");
    // The work directory is made under GOTMPDIR or TMPDIR.
    for log in [
        "go: creating work dir: stat /tmp/ci-build-7731: no such file or directory\n",
        "go: creating work dir: mkdir /tmp/go-build3307781: permission denied\n",
    ] {
        let s = cause(log);
        assert!(s.contains("TMPDIR") && !s.contains("GOCACHE"), "{s}");
    }
    // GOPATH-mode go get without GOPATH or HOME.
    cause(
        "package github.com/northwind/cli-tools: cannot download, $GOPATH not set. For more details see: 'go help gopath'\n",
    );
}

#[test]
fn what_says_a_run_passed_or_went_on() {
    // The wrapper's own success line: bazel, goreleaser, golangci-lint.
    for ending in
        ["INFO: Build completed successfully, 118 total actions", "  • release succeeded after 1m23s", "  0 issues."]
    {
        let log = format!(
            "go: downloading github.com/spf13/cobra v1.8.1\ngo: downloading golang.org/x/sys v0.26.0\n{ending}\n"
        );
        let d = expect(&log, Category::None);
        assert_eq!(d.confidence, Confidence::High, "{log}\n{d:#?}");
    }
    // go ≥ 1.21 switching to the toolchain a module needs, and going on.
    expect(
        "go: downloading golang.org/x/tools v0.28.0\ngo: golang.org/x/tools@v0.28.0 requires go >= 1.22.0; switching to go1.22.10\ngo: downloading go1.22.10 (linux/amd64)\ngo: upgraded go 1.21 => 1.22.0\ngo: added toolchain go1.22.10\ngo: upgraded golang.org/x/tools v0.16.1 => v0.28.0\n",
        Category::None,
    );
    // A test binary the kernel killed, which go reported: go was not killed.
    let d = expect(
        "=== RUN   TestBuildHugeTable\n    gen_test.go:10: building 40M-entry lookup table\nsignal: killed\nFAIL\texample.com/svcbig/internal/gen\t0.005s\nFAIL\n",
        Category::Unknown,
    );
    assert!(d.summary.contains("test failed"), "{d:#?}");
}

#[test]
fn what_the_user_must_change_is_said_in_their_own_terms() {
    // The forward proxy's URL with credentials, its port once.
    let d = expect(
        "$ export HTTPS_PROXY=http://proxy.corp.example:8080\n$ go mod download\ngo: github.com/go-playground/validator/v10@v10.19.0: Get \"https://proxy.golang.org/github.com/go-playground/validator/v10/@v/v10.19.0.mod\": Proxy Authentication Required\n",
        Category::HttpProxyFailure,
    );
    assert!(d.summary.contains("@proxy.corp.example:8080)"), "{d:#?}");
    // PowerShell's `$env:` assignment at its prompt is configuration.
    let d = expect(
        "PS C:\\work\\agent> $env:HTTPS_PROXY=\"http://proxy.emea.corp.example:8080\"\nPS C:\\work\\agent> go mod download\ngo: github.com/pkg/errors@v0.9.1: Get \"https://proxy.golang.org/github.com/pkg/errors/@v/v0.9.1.mod\": proxyconnect tcp: dial tcp 10.88.1.20:8080: connectex: No connection could be made because the target machine actively refused it.\n",
        Category::HttpProxyFailure,
    );
    assert!(d.summary.contains("proxy.emea.corp.example"), "{d:#?}");
    // A 403 is credentials refused, not none sent; SAML SSO says which.
    let d = expect(
        "go: github.com/northwind/protos@v0.4.2: git ls-remote -q origin in /home/runner/go/pkg/mod/cache/vcs/e1f2: exit status 128:\n\tremote: The 'northwind' organization has enabled or enforced SAML SSO. To access this repository, you must use the HTTPS remote with a personal access token or SSH with an SSH key and passphrase that has been authorized for this organization.\n\tfatal: unable to access 'https://github.com/northwind/protos/': The requested URL returned error: 403\n",
        Category::VcsAuth,
    );
    assert!(d.summary.contains("SAML") && !d.summary.contains("had none"), "{d:#?}");
    let d = expect(
        "go: git.corp.example/team/lib@v1.0.0: git ls-remote -q origin in /home/u/go/pkg/mod/cache/vcs/9a: exit status 128:\n\tfatal: unable to access 'https://git.corp.example/team/lib/': The requested URL returned error: 403\n",
        Category::VcsAuth,
    );
    assert!(d.summary.contains("403") && !d.summary.contains("had none"), "{d:#?}");
}

#[test]
fn a_programs_own_words_and_what_ran_after_go_are_not_go_failing() {
    // `go run`'s program printed a refused connection, then crashed: its crash, not a
    // download's failure.
    let d = expect(
        "$ go run ./cmd/fetch\nwarning: Get \"http://127.0.0.1:9/healthz\": dial tcp 127.0.0.1:9: connect: connection refused\npanic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x40 pc=0x62bc73]\n\ngoroutine 1 [running]:\nmain.main()\n\t/home/runner/work/svc/svc/cmd/fetch/main.go:14 +0xd3\nexit status 2\n",
        Category::Unknown,
    );
    assert!(d.summary.contains("crashed"), "{d:#?}");
    // go built, then `docker push` failed: the step's failure is the push's.
    let d = expect(
        "+ go build -o bin/gateway ./cmd/gateway\n+ docker push registry.corp.example/platform/gateway:3b2e77c\nThe push refers to repository [registry.corp.example/platform/gateway]\nGet \"https://registry.corp.example/v2/\": dial tcp 10.20.0.15:443: connect: connection refused\nProcess exited with code 1\n",
        Category::Unknown,
    );
    assert!(d.summary.contains("docker push"), "{d:#?}");
}

#[test]
fn a_twelfth_review_of_module_identities_and_the_network() {
    // `go install pkg@latest` of a library: go's error, never a success.
    let d = verdict(
        "$ go install github.com/acme/sdk@latest\ngo: downloading github.com/acme/sdk v1.9.0\npackage github.com/acme/sdk is not a main package\n",
    );
    assert_ne!(d.category, Category::None, "{d:#?}");
    // A go-import tag naming an ssh address as the repository root.
    expect(
        "go: go.corp.example/billing@v2.1.0: unrecognized import path \"go.corp.example/billing\": https://go.corp.example/billing?go-get=1: invalid repo root \"git@github.com:corp/billing.git\": no scheme\n",
        Category::VcsMeta,
    );
    // go ≤ 1.15's words for a replace whose directory is not there.
    expect(
        "go: github.com/acme/sdk@v1.9.0 (replaced by ../sdk): reading ../sdk/go.mod: open /src/sdk/go.mod: no such file or directory\n",
        Category::ModuleGoMod,
    );
    // An https:// URL for a plain-HTTP forward proxy, named by `echo $HTTPS_PROXY`.
    let d = expect(
        "$ echo $HTTPS_PROXY\nhttps://proxy.corp.example:3128\n$ go mod download\ngo: github.com/google/uuid@v1.6.0: Get \"https://proxy.golang.org/github.com/google/uuid/@v/v1.6.0.mod\": proxyconnect tcp: tls: first record does not look like a TLS handshake\n",
        Category::HttpProxyFailure,
    );
    assert!(d.summary.contains("http://") && d.summary.contains("proxy.corp.example:3128"), "{d:#?}");
}

#[test]
fn a_servers_answer_pasted_alone_is_not_this_machines_git() {
    // Only the tail of a proxy's answer was pasted: the prompt inside it is the proxy's
    // own git, which no credential on this machine can fix.
    let d = verdict(
        "\tserver response: not found: github.com/acme-corp/billing@v2.3.1+incompatible: invalid version: git ls-remote -q origin in /tmp/gopath/pkg/mod/cache/vcs/aa12: exit status 128:\n\t\tfatal: could not read Username for 'https://github.com': terminal prompts disabled\n\tConfirm the import path was entered correctly.\n\tIf this is a private repository, see https://golang.org/doc/faq#git_https for additional information.\n",
    );
    assert_ne!(d.category, Category::VcsAuth, "{d:#?}");
    assert!(!d.summary.contains(".netrc"), "{d:#?}");
}

#[test]
fn a_major_version_the_module_does_not_have() {
    // A /v2 import of a module whose latest version is v1: no v2 module exists.
    let d = expect(
        "$ go get github.com/acme/jsonx/v2@latest\ngo: module github.com/acme/jsonx@latest found (v1.6.3), but does not contain package github.com/acme/jsonx/v2\n",
        Category::ModuleInvalidVersion,
    );
    assert!(d.summary.starts_with("github.com/acme/jsonx@latest") && d.summary.contains("/vN"), "{d:#?}");
}

#[test]
fn a_package_only_a_newer_version_of_a_required_module_has() {
    // go's ImportMissingError when the latest version has the package and the required
    // one does not: the requirement in go.mod is too old.
    let d = expect(
        "main.go:5:2: package github.com/acme/kit/metrics provided by github.com/acme/kit at latest version v1.3.0 but not at required version v1.1.0\n",
        Category::ModuleGoMod,
    );
    assert_eq!(d.confidence, Confidence::Medium);
    assert!(d.summary.contains("go get github.com/acme/kit@v1.3.0"), "{d:#?}");
}

#[test]
fn a_checksum_database_answer_without_the_modules_line() {
    // go's `sumdbAbsent` banner: the database answered, but not about this module. No
    // download was shown to differ, so it is no confident mismatch.
    let d = verdict(
        "go: downloading example.com/lib v1.4.0\nverifying example.com/lib@v1.4.0: checksum missing from sumdb response\n\nSECURITY ERROR\nThis download does NOT match one reported by the checksum server.\nThe checksum server has provided checksums, but the checksums do\nnot contain an entry for the download.\nThe checksum server may be malfunctioning, or an attacker may have\nintercepted the checksum request.\nThe download cannot be verified.\n\nFor more information, see 'go help module-auth'.\n",
    );
    assert_eq!((d.category, d.confidence), (Category::SumdbUnreachable, Confidence::Low), "{d:#?}");
    assert!(d.summary.contains("example.com/lib@v1.4.0") && !d.summary.contains("left out"), "{d:#?}");
    assert!(d.alternatives.iter().any(|a| a.category == Category::SumdbMismatch), "{d:#?}");
}

#[test]
fn a_dependencys_go_mod_without_a_module_line_names_no_captive_portal_as_fact() {
    let d = verdict("go: example.com/fork@v0.2.0: parsing go.mod: missing module line\n");
    assert_eq!(d.confidence, Confidence::Low, "{d:#?}");
    assert!(!d.summary.contains("captive portal"), "{d:#?}");
}

#[test]
fn a_filesystem_without_locks_under_the_work_module() {
    // go locks go.mod itself: Android's FUSE /sdcard answers ENOSYS, a \\wsl$ share
    // Windows' ERROR_INVALID_FUNCTION. Not the module cache, but the same missing locks.
    for log in [
        "go: RLock /sdcard/project/go.mod: function not implemented\n",
        "go: RLock Z:\\example\\go.mod: Incorrect function.\n",
    ] {
        let d = expect(log, Category::CachePermission);
        assert!(d.summary.contains("does not support file locks") && d.summary.contains("local disk"), "{d:#?}");
    }
    // A lock on go.mod refused for want of permission is still the work module's files.
    let d = verdict("go: RLock /src/app/go.mod: permission denied\n");
    assert!(!d.summary.contains("file locks"), "{d:#?}");
}

#[test]
fn a_paste_cut_at_its_front() {
    // The user cut the front with an ellipsis (and the address with xxx): go's request is
    // still there to read.
    let d = expect("... Get https://sum.golang.org/xxx: dial tcp xxx: i/o timeout\n", Category::SumdbUnreachable);
    assert!(d.summary.contains("sum.golang.org"), "{d:#?}");
    expect("...@v/v0.14.0.zip\": dial tcp 142.250.1.1:443: i/o timeout\n", Category::NetTimeout);
}

#[test]
fn a_dependency_that_needs_a_newer_go_is_not_the_work_modules_go_mod() {
    // go's note names the go line of the module whose package failed to compile: here a
    // dependency in the module cache, so the work module's go.mod is not at fault.
    let d = verdict(
        "go install -v ./...\n# github.com/lxc/lxd/shared\n../../../go/pkg/mod/github.com/lxc/lxd@v0.0.0-20220330110539-f7a4698244cb/shared/util.go:602:12: syntax error: unexpected [, expecting (\nnote: module requires Go 1.18\n",
    );
    assert_eq!((d.category, d.confidence), (Category::Unknown, Confidence::Low), "{d:#?}");
    assert!(d.summary.contains("github.com/lxc/lxd@v0.0.0-20220330110539-f7a4698244cb"), "{d:#?}");
    // The same, with the path broken by a terminal.
    let d = verdict(
        "# github.com/lxc/lxd/shared\n../../../go/pkg/mod/github.com/lxc/lxd@v0.0.0-20220330110539-f7a4698244cb/shared\n/util.go:602:12: syntax error: unexpected [, expecting (\nnote: module requires Go 1.18\n",
    );
    assert_eq!(d.category, Category::Unknown, "{d:#?}");
    // In the work module's own files, the note is about its own go line: still a compile
    // error (`unknown`, low), with the go line named as the other reading.
    let d = verdict(
        "# example.com/app\n./main.go:9:6: syntax error: unexpected [, expecting (\nnote: module requires Go 1.18\n",
    );
    assert_eq!((d.category, d.confidence), (Category::Unknown, Confidence::Low), "{d:#?}");
    assert!(d.summary.contains("newer go"), "{d:#?}");
    assert!(d.alternatives.iter().any(|a| a.category == Category::ModuleGoMod), "{d:#?}");
}

#[test]
fn azure_devops_sign_in_page_on_go_get_1_is_vcs_auth() {
    // Azure DevOps answers a request without credentials with 203 and its sign-in page.
    let d = expect(
        "main.go:12:2: unrecognized import path \"dev.azure.com/foo/bar/_git/baz\": reading https://dev.azure.com/foo/bar/_git/baz?go-get=1: 203 Non-Authoritative Information\n",
        Category::VcsAuth,
    );
    assert!(d.summary.contains(".netrc"), "{d:#?}");
}

#[test]
fn tidys_check_of_the_previous_go_is_the_work_modules_go_mod() {
    // go ≥ 1.17's go mod tidy, checking that the go before the go line's would select the
    // same versions (module graph pruning); also pasted without go's indentation.
    for log in [
        "github.com/myrepo/myproj imports\n\tgo.k6.io/k6 imports\n\tgithub.com/fatih/color loaded from github.com/fatih/color@v1.12.0,\n\tbut go 1.16 would select v1.13.0\n\nTo upgrade to the versions selected by go 1.16:\n\tgo mod tidy -go=1.16 && go mod tidy -go=1.17\nIf reproducibility with go 1.16 is not needed:\n\tgo mod tidy -compat=1.17\n",
        "github.com/myrepo/myproj imports\ngo.k6.io/k6 imports\ngithub.com/fatih/color loaded from github.com/fatih/color@v1.12.0,\nbut go 1.16 would select v1.13.0\nTo upgrade to the versions selected by go 1.16:\ngo mod tidy -go=1.16 && go mod tidy -go=1.17\n",
    ] {
        let d = expect(log, Category::ModuleGoMod);
        assert!(d.summary.contains("-compat="), "{d:#?}");
    }
}

#[test]
fn a_refusal_whose_url_the_paste_cut_is_no_sure_proxy_auth() {
    // Only the URL tells a proxy's path from a private host's ?go-get=1 page.
    let d = verdict("go: module git.corp.example/team/pkg: reading ...: 401 Unauthorized\n");
    assert_eq!((d.category, d.confidence), (Category::ProxyAuth, Confidence::Low), "{d:#?}");
    assert!(d.alternatives.iter().any(|a| a.category == Category::VcsAuth), "{d:#?}");
    // With the proxy's URL, it is the proxy's refusal.
    let d = expect(
        "go: git.corp.example/team/pkg@v1.0.0: reading https://athens.corp.example/git.corp.example/team/pkg/@v/v1.0.0.info: 401 Unauthorized\n",
        Category::ProxyAuth,
    );
    assert_eq!(d.confidence, Confidence::High);
}

#[test]
fn summaries_name_the_fix_go_means() {
    // v0/v1 never take +incompatible.
    let d = expect(
        "go: github.com/acme/lib@v1.2.0+incompatible: invalid version: +incompatible suffix not allowed: major version v1 is compatible\n",
        Category::ModuleInvalidVersion,
    );
    assert!(d.summary.contains("drop +incompatible"), "{d:#?}");
    // gopkg.in spells the major version with a dot.
    let d =
        expect("go: gopkg.in/yaml.v2@v3.0.1: invalid version: should be v2, not v3\n", Category::ModuleInvalidVersion);
    assert!(d.summary.contains(".vN") && !d.summary.contains("(/v2)"), "{d:#?}");
    // Windows' refusal of a rename in the module cache: a scanner first.
    let d = expect(
        "go: github.com/acme/lib@v1.2.0: rename C:\\Users\\dev\\go\\pkg\\mod\\github.com\\acme\\lib@v1.2.0.tmp-123 C:\\Users\\dev\\go\\pkg\\mod\\github.com\\acme\\lib@v1.2.0: Access is denied.\n",
        Category::CachePermission,
    );
    assert!(d.summary.contains("antivirus"), "{d:#?}");
}

#[test]
fn rm_refused_by_the_read_only_module_cache_says_how_to_remove_it() {
    let d = verdict(
        "$ rm -rf $(go env GOMODCACHE)\nrm: cannot remove '/home/dev/go/pkg/mod/github.com/acme/lib@v1.2.0/go.mod': Permission denied\n",
    );
    assert_eq!(d.category, Category::Unknown, "{d:#?}");
    assert!(d.summary.contains("go clean -modcache") && d.summary.contains("read-only"), "{d:#?}");
}

/// Wordings found by reading go's error strings (cmd/go/internal/modload, modfetch and
/// x/mod's sumdb client, go 1.26) and curl's and GnuTLS's as git prints them, each put into
/// go's lines as it prints them: those no rule read before.
#[test]
fn wordings_from_gos_and_curls_sources() {
    let git = |tail: &str| {
        format!(
            "go: github.com/acme/widget@v1.2.3: git ls-remote -q origin in /home/u/go/pkg/mod/cache/vcs/5b1c: exit status 128:\n\t{tail}\n"
        )
    };
    // curl 28's connect timeout, and GnuTLS's read cut short (-110) or reset (-54).
    expect(
        &git(
            "fatal: unable to access 'https://github.com/acme/widget/': Connection timed out after 300001 milliseconds",
        ),
        Category::NetTimeout,
    );
    for tail in [
        "fatal: unable to access 'https://github.com/acme/widget/': GnuTLS recv error (-110): The TLS connection was non-properly terminated.",
        "error: RPC failed; curl 56 GnuTLS recv error (-54): Error in the pull function.",
    ] {
        expect(&git(tail), Category::NetReset);
    }
    // go.work's go line newer than this go, and go.work's and vendor/'s inconsistencies.
    let d =
        expect("go: go.work file indicates go 1.23, but maximum supported version is 1.21\n", Category::ModuleGoMod);
    assert!(d.summary.starts_with("go.work asks for a newer go"), "{d:#?}");
    let d = expect(
        "go: workspace module github.com/acme/widget is replaced at all versions in the go.work file. To fix, remove the replacement from the go.work file or specify the version at which to replace the module.\n",
        Category::ModuleGoMod,
    );
    assert!(d.summary.contains("replace directives"), "{d:#?}");
    expect(
        "go: conflicting replacements for github.com/acme/widget:\n\t../widget\n\t../widget2\n",
        Category::ModuleGoMod,
    );
    let d = expect(
        "go: vendored module github.com/acme/widget@v1.2.3 should be required explicitly in go.mod\n",
        Category::ModuleGoMod,
    );
    assert!(d.summary.contains("go mod vendor"), "{d:#?}");
    // The checksum database's data that does not fit its signed tree: through a proxy by
    // default, the database's own when go bypassed proxies.
    let tile = "go: github.com/acme/widget@v1.2.3: verifying module: github.com/acme/widget@v1.2.3: checking tree#20123456: downloaded inconsistent tile\n";
    let d = expect(tile, Category::ProxyBadResponse);
    assert_eq!(d.alternatives[0].category, Category::SumdbUnreachable);
    for env in
        ["GOPROXY=direct\n", "GOSUMDB='sum.golang.org https://sum.golang.org'\n", "GOSUMDB=sum.golang.google.cn\n"]
    {
        let d = expect(&format!("{env}{tile}"), Category::SumdbUnreachable);
        assert!(d.summary.contains("asked the database itself"), "{d:#?}");
    }
    expect(
        "go: github.com/acme/widget@v1.2.3: verifying module: github.com/acme/widget@v1.2.3: cannot authenticate record data in server response\n",
        Category::ProxyBadResponse,
    );
    // What `go mod tidy -v` and `go mod vendor -v` print on success is go at work, not an
    // error; beside an error it changes nothing.
    for log in [
        "unused github.com/acme/old\nunused golang.org/x/tools\n",
        "# github.com/acme/widget v1.2.3\n## explicit; go 1.20\ngithub.com/acme/widget\n",
    ] {
        let d = expect(log, Category::None);
        assert_eq!(d.confidence, Confidence::Low);
    }
    expect(
        "unused github.com/acme/old\ngo: github.com/acme/widget@v1.2.3: reading https://proxy.golang.org/github.com/acme/widget/@v/v1.2.3.mod: 404 Not Found\n",
        Category::ProxyNotFound,
    );
}

/// A file path no module zip may hold, met while go made the zip from the repository
/// itself (`create zip:`): the module's, not a proxy's; and go's words after the name of
/// its subcommand, as goreleaser's hook quotes them, are go's lines.
#[test]
fn zips_go_made_itself_and_quoted_subcommand_output() {
    let d = expect(
        "go get github.com/acme/theme: create zip: exampleSite/content/2021-01-02-14:09:20.md: malformed file path \"exampleSite/content/2021-01-02-14:09:20.md\": invalid char ':'\n",
        Category::ModuleInvalidVersion,
    );
    assert_eq!(d.confidence, Confidence::Low);
    assert!(d.summary.starts_with("github.com/acme/theme: malformed file path"), "{d:#?}");
    // The same words in a zip a proxy served stay the proxy's.
    expect(
        "go: github.com/acme/theme@v1.0.0: unzip /home/u/go/pkg/mod/cache/download/github.com/acme/theme/@v/v1.0.0.zip: malformed file path \"a:b.md\": invalid char ':'\ngo: downloading github.com/acme/theme v1.0.0\n",
        Category::ProxyBadResponse,
    );
    expect(
        "release failed after 0.07s error=hook failed: go mod tidy: exit status 1; output: go mod tidy: go.mod file indicates go 1.18, but maximum supported version is 1.15\n",
        Category::ModuleGoMod,
    );
    // The tool's own report of the step is not go's words.
    let d = verdict("release failed after 0.07s error=hook failed: go mod tidy: exit status 1\n");
    assert!(d.evidence.iter().all(|e| !e.text.starts_with("go mod tidy: exit status")), "{d:#?}");
}

/// Go's own script tests (`tests/diagnosis_go_scripts.rs`) showed these on its dev half:
/// go refusing its own command line, `go mod tidy -diff`, go.work's modules, a redirect to
/// http on a `?go-get=1` page, `go get go@1.24`, and a module path's bad major suffix.
#[test]
fn wordings_from_gos_own_script_tests() {
    let with_command = |log: &str, command: &str| {
        let mut evidence = Evidence::from_log(log);
        evidence.command = Some(command.into());
        diagnose(&evidence)
    };
    // The command line go refused: no category, and never go.mod's.
    for (log, command) in [
        (
            "go: -exclude=example.com/m@bad: version \"bad\" invalid: must be of the form v1.2.3\n",
            "go mod edit -exclude=example.com/m@bad",
        ),
        ("go: test.go: arguments must be package or module paths\n", "go get test.go"),
        ("go: malformed module path \"appengine\": missing dot in first path element\n", "go get appengine"),
        ("go: malformed module path \"foo bar\": invalid char ' '\n", "go mod init 'foo bar'"),
        (
            "go: cannot determine module path for source directory /src (outside GOPATH, module path must be specified)\n\nExample usage:\n\t'go mod init example.com/m' to initialize a v0 or v1 module\n",
            "go mod init",
        ),
    ] {
        let d = with_command(log, command);
        assert_eq!((d.category, d.confidence), (Category::Unknown, Confidence::Low), "{log}{d:#?}");
    }
    let d = expect(
        "go: rsc.io/fortune@v0.0.1 requires go >= 1.21rc999; switching to go1.22.9\nflag provided but not defined: -unknownflag\nusage: go install [build flags] [packages]\nRun 'go help install' for details.\n",
        Category::Unknown,
    );
    assert!(d.summary.contains("-unknownflag"), "{d:#?}");
    let d = with_command(
        "go: GOMODCACHE entry is relative; must be absolute path: \"./test\"\n",
        "go env -w GOMODCACHE=./test",
    );
    assert_eq!(d.category, Category::Unknown, "go env -w refused it: {d:#?}");
    // Without the command in view, go's wording still tells them apart: go running with a
    // relative GOPATH or GOMODCACHE ends the sentence with a period, go env -w does not.
    for refused in [
        "go: GOMODCACHE entry is relative; must be absolute path: \"./test\"\n",
        "go: GOPATH entry is relative; must be absolute path: \"./go\"\n",
    ] {
        let d = expect(refused, Category::Unknown);
        assert!(d.summary.contains("go env -w refused"), "{d:#?}");
    }
    // A leading `~` go refuses on every run too, in the same words (a Dockerfile's `ENV
    // GOPATH=~/go`, which no shell expanded).
    let d = verdict("go: GOPATH entry cannot start with shell metacharacter '~': \"~/go\"\n");
    assert!(!d.summary.contains("go env -w refused"), "{d:#?}");
    expect("go: GOMODCACHE entry is relative; must be absolute path: \"./test\".\n\n", Category::CachePermission);
    expect(
        "go: GOPATH entry is relative; must be absolute path: \"./go\".\nFor more details see: 'go help gopath'\n",
        Category::CachePermission,
    );
    let d = with_command(
        "go: writing go env config: open /etc/go/env: permission denied\n",
        "go env -w GOPRIVATE=corp.example",
    );
    assert_eq!(d.category, Category::CachePermission, "the machine's, not the value's: {d:#?}");
    expect("go: malformed tool path \"./invalid_path\": invalid path element \".\"\n", Category::ModuleGoMod);
    expect(
        "no required module provides package example.com/m: go.mod file not found in current directory or any parent directory; see 'go help modules'\n",
        Category::ModuleGoMod,
    );
    // Any Go program's flag package says `flag provided but not defined` too, with its own
    // `Usage of …`: only go's `usage: go …` makes it go's command line.
    let d = expect(
        "go: downloading example.com/m v1.0.0\ngo: example.com/m@v1.0.0: reading https://proxy.golang.org/example.com/m/@v/v1.0.0.zip: 404 Not Found\nflag provided but not defined: -update\nUsage of /tmp/go-build1/b001/m.test:\n",
        Category::ProxyNotFound,
    );
    assert!(!d.summary.contains("-update"), "{d:#?}");
    // A path that is only part of an argument is not the argument.
    let d = with_command(
        "go: malformed module path \"appengine\": missing dot in first path element\n",
        "go get google.golang.org/appengine",
    );
    assert_eq!(d.category, Category::ModuleGoMod, "{d:#?}");
    // The same malformed path from a tool's configuration (no command line in view) is
    // still read as a module path where one belongs, but low: the log cannot say whose.
    let d =
        expect("go: malformed module path \"appengine\": missing dot in first path element\n", Category::ModuleGoMod);
    assert_eq!(d.confidence, Confidence::Low);
    let d = with_command("go: malformed module path \"git@github.com:o/r\": invalid char '@'\n", "hugo serve");
    assert_eq!(d.category, Category::ModuleGoMod);

    // `go mod tidy -diff`: go.mod's diff, or go.sum's alone.
    let d = expect(
        "go: finding module for package rsc.io/quote\ndiff current/go.mod tidy/go.mod\n--- current/go.mod\n+++ tidy/go.mod\n@@ -1,3 +1,5 @@\n module example.com\n+require rsc.io/quote v1.5.2\n",
        Category::ModuleGoMod,
    );
    assert_eq!(d.confidence, Confidence::High);
    expect(
        "diff current/go.sum tidy/go.sum\n--- current/go.sum\n+++ tidy/go.sum\n@@ -0,0 +1,2 @@\n+rsc.io/quote v1.5.2 h1:w5fcysjrx7yqtD/aO+QwRjYZOKnaM9Uh2b40tElTs3Y=\n",
        Category::ModuleGoSumMissing,
    );
    // go.sum's diff that only drops entries nothing needs: untidy, nothing missing.
    expect(
        "diff current/go.sum tidy/go.sum\n--- current/go.sum\n+++ tidy/go.sum\n@@ -1,2 +0,0 @@\n-rsc.io/quote v1.5.1 h1:w5fcysjrx7yqtD/aO+QwRjYZOKnaM9Uh2b40tElTs3Y=\n",
        Category::ModuleGoMod,
    );

    // go.work lists modules, and the directory's is not one of them.
    for log in [
        "directory a/c is contained in a module that is not one of the workspace modules listed in go.work. You can add the module to the workspace using:\n\tgo work use a\n",
        "pattern ./...: directory prefix . does not contain modules listed in go.work or their selected dependencies\n",
        "go: error reading other/go.mod: missing module declaration. To specify the module path:\n\tgo mod edit -module=example.com/mod\n",
    ] {
        expect(log, Category::ModuleGoMod);
    }

    // A go that was itself switched to runs from the module cache: its GOROOT's path in an
    // error is no failed toolchain download.
    let d = expect(
        "importnonexist/x.go:2:8: package nonexist is not in std (/root/go/pkg/mod/golang.org/toolchain@v0.0.1-go1.27.3.linux-amd64/src/nonexist)\n",
        Category::Unknown,
    );
    assert_ne!(d.alternatives.first().map(|a| a.category), Some(Category::ToolchainDownload), "{d:#?}");
    expect(
        "go: golang.org/toolchain@v0.0.1-go1.22.0.linux-amd64.zip: reading https://proxy.corp.example/golang.org/toolchain/@v/v0.0.1-go1.22.0.linux-amd64.zip: 404 Not Found\n",
        Category::ToolchainDownload,
    );
    // A retract line's wrong major is go.mod's own; a require line's is the version's.
    expect(
        "go: errors parsing go.mod:\ngo.mod:3: retract rsc.io/quote/v2: version \"v3.0.1\" invalid: should be v2, not v3\n",
        Category::ModuleGoMod,
    );
    expect(
        "go: errors parsing go.mod:\ngo.mod:3: require rsc.io/quote: version \"v2.0.0\" invalid: should be v0 or v1, not v2\n",
        Category::ModuleInvalidVersion,
    );
    // A redirect to plain http on a go-import page is that server's, not a module proxy's.
    expect(
        "go: unrecognized import path \"vcs.example/insecure\": https fetch: Get \"http://vcs.example/insecure?go-get=1\": redirected from secure URL https://vcs.example/insecure?go-get=1 to insecure URL http://vcs.example/insecure?go-get=1\n",
        Category::VcsMeta,
    );
    expect(
        "go: m@v1.0.0: Get \"https://proxy.corp.example/m/@v/v1.0.0.info\": redirected from secure URL https://proxy.corp.example/m/@v/v1.0.0.info to insecure URL http://portal.example/login\n",
        Category::ProxyBadResponse,
    );

    // A go version no release matched: most likely none exists yet, or the proxy lacks
    // golang.org/toolchain's versions.
    let d = expect("go: go@1.24: no matching versions for query \"1.24\"\n", Category::ModuleInvalidVersion);
    assert!(d.alternatives.iter().any(|a| a.category == Category::ToolchainDownload), "{d:#?}");
    assert_eq!(d.confidence, Confidence::Low, "a proxy without golang.org/toolchain says the same");
    let d = expect(
        "go: invalid module path \"example.com/user/repo/v1\": major version suffixes must be in the form of /vN and are only allowed for v2 or later\n",
        Category::ModuleInvalidVersion,
    );
    assert_eq!(d.confidence, Confidence::Low);
}

/// What go prints on stderr while it succeeds, from go's own script tests' dev half: go
/// creating go.mod, choosing a toolchain, tidying requirements, and `-n`/`-x`'s build
/// directories. A paste of them is a success, not `unknown`.
#[test]
fn go_at_work_on_go_mod_and_toolchains_is_no_failure() {
    for log in [
        "go: creating new go.mod: module example.com/m\ngo: to add module requirements and sums:\n\tgo mod tidy\n",
        "go: upgrading toolchain to go1.21.0 (required by go line in go.mod; upgrade allowed by GOTOOLCHAIN=auto)\ngo: using go1.21.0 toolchain from cache located at /home/u/go/pkg/mod/golang.org/toolchain@v0.0.1-go1.21.0.linux-amd64/bin/go\n",
        "go: updating go.mod requires go >= 1.22.1; switching to go1.22.9\n",
        "go: module rsc.io/needall@v0.0.1 requires go >= 1.23; switching to go1.23.9\n",
        "go: dropping requirement on excluded version rsc.io/quote v1.5.1\n",
        "go: skipping download of rsc.io/quote@upgrade that resolves to the main module\n",
        "go: no dependencies to vendor\n",
        "mkdir -p $WORK/b001/\nmkdir -p $WORK/b125/\n",
        "# a v1.0.0 => ./a\n## explicit; go 1.21\n",
        "warning: go env -w GOPATH=... does not override conflicting OS environment variable\n",
        // GOPATH naming GOROOT, as go 1.26 and go 1.19 word it: a warning on every run.
        "warning: both GOPATH and GOROOT are the same directory (/usr/local/go); see \
         https://go.dev/wiki/InstallTroubleshooting\n",
        "warning: GOPATH set to GOROOT (/usr/local/go) has no effect\n",
    ] {
        expect(log, Category::None);
    }
    // A compile error's package header is no vendor line.
    expect("# example.com/m/q\nq/q.go:3:2: undefined: x\n", Category::Unknown);
}

#[test]
fn gosumdb_off_refusing_a_toolchain_and_an_unreadable_source_directory() {
    // go verifies every toolchain it downloads with the checksum database: GOSUMDB=off is
    // the setting to fix, the switch only where it failed.
    let got = expect(
        "go: golang.org/toolchain@v0.0.1-go1.23.4.linux-amd64: verifying module: checksum database disabled by \
         GOSUMDB=off\n",
        Category::SumdbUnreachable,
    );
    assert!(got.alternatives.iter().any(|a| a.category == Category::ToolchainDownload), "{got:#?}");
    // A directory of the user's own tree that go cannot read while matching a pattern is
    // no cache of go's, GOPATH-like path or not.
    for log in [
        "pattern ./...: open data: permission denied\n",
        "open /home/u/gopath/src/app/data: permission denied\npattern example.com/app/...: open \
         /home/u/gopath/src/app/data: permission denied\n",
    ] {
        let got = verdict(log);
        assert_ne!(got.category, Category::CachePermission, "{log}: {got:#?}");
    }
    // In the module cache it stays the cache's.
    expect(
        "pattern all: open /home/u/go/pkg/mod/example.com/m@v1.0.0/internal: permission denied\n",
        Category::CachePermission,
    );
}

#[test]
fn a_pattern_walk_into_a_module_cache_elsewhere_stays_the_caches() {
    let mut evidence = modchaos::evidence::Evidence::from_log(
        "pattern all: open /var/cache/gomod/example.com/m@v1.0.0/internal: permission denied\n",
    );
    evidence.env.push(("GOMODCACHE".to_string(), "/var/cache/gomod".to_string()));
    assert_eq!(modchaos::diagnose::diagnose(&evidence).category, Category::CachePermission);
}

#[test]
fn wordings_from_the_twenty_second_public_round() {
    // A GOPROXY with no entry leaves go nowhere to fetch from, as GOPROXY=off does; readers
    // of such logs split between that and "configuration no category covers", so it is
    // low, with the other named.
    for log in [
        "go: golang.org/x/exp/rand: GOPROXY list is not the empty string, but contains no entries\n",
        "main.go:6:2: GOPROXY list is not the empty string, but contains no entries\n",
    ] {
        let got = expect(log, Category::ProxyOff);
        assert_eq!(got.confidence, modchaos::diagnose::Confidence::Low, "{got:#?}");
        assert!(got.playbooks.iter().any(|p| p == "enable-goproxy"), "{got:#?}");
        assert!(got.alternatives.iter().any(|a| a.category == Category::Unknown), "{got:#?}");
    }
    // Bitbucket's answer for a repository it removed is no credential problem.
    expect(
        "go get: example.com/app@v1.0.0 requires\n\tbitbucket.org/ww/goautoneg@v0.0.0-20120707110453-75cd24fc2f2c: \
         reading https://api.bitbucket.org/2.0/repositories/ww/goautoneg?fields=scm: 403 Forbidden\n\tserver \
         response: Repository currently not available.\n",
        Category::VcsNotFound,
    );
    // A build tool's wrap right after `x509:`, and macOS git's Secure Transport wording.
    expect(
        "#12 0.343 go: example.com/m@v1.0.0: Get \"https://proxy.golang.org/example.com/m/@v/v1.0.0.mod\": x509: \n     \
         certificate signed by unknown authority\n",
        Category::TlsUnknownAuthority,
    );
    expect(
        "fatal: unable to access 'https://go.googlesource.com/tools/': SSL: certificate verification failed (result: \
         5)\npackage golang.org/x/tools/cmd/cover: exit status 128\n",
        Category::TlsUnknownAuthority,
    );
}

/// The fixes a verdict offers fit the way the request failed (a new user's audit): ~/.netrc
/// is for https, not ssh; a checksum database is reached through GOSUMDB, not another
/// GOPROXY; and a public module's checksums are never switched off.
#[test]
fn fixes_fit_the_transport_and_the_database() {
    // git over ssh: the key, the agent, known_hosts — no ~/.netrc playbook.
    for line in ["\tgit@gitlab.corp.example.com: Permission denied (publickey).\n", "\tHost key verification failed.\n"]
    {
        let log = format!(
            "go: gitlab.corp.example.com/team/lib@v0.2.0: invalid version: git ls-remote -q origin in \
             /home/u/go/pkg/mod/cache/vcs/8f7e: exit status 128:\n{line}\tfatal: Could not read from remote \
             repository.\n"
        );
        let d = expect(&log, Category::VcsAuth);
        assert!(d.playbooks.is_empty(), "{d:#?}");
        // The version reading beside it says git failed, not that the version is malformed.
        let other = d.alternatives.iter().find(|a| a.category == Category::ModuleInvalidVersion);
        assert!(other.is_none_or(|a| a.summary.contains("git failed") && !a.summary.contains("::")), "{d:#?}");
    }
    // Over https the credentials are ~/.netrc's.
    let d = expect(
        "go: git.corp.example/lib@v1.0.0: invalid version: git ls-remote -q origin in /tmp/x: exit status 128:\n\
         \tfatal: could not read Username for 'https://git.corp.example': terminal prompts disabled\n",
        Category::VcsAuth,
    );
    assert_eq!(d.playbooks, ["git-credentials"], "{d:#?}");

    // An unreachable database: for a public module only another route to it; for a path
    // that may be private, GONOSUMDB first.
    let unreachable = |module: &str| {
        format!(
            "verifying {module}@v1.0.0/go.mod: {module}@v1.0.0/go.mod: Get \
             \"https://sum.golang.org/lookup/{module}@v1.0.0\": dial tcp 142.251.1.1:443: i/o timeout\n"
        )
    };
    let d = expect(&unreachable("github.com/x/y"), Category::SumdbUnreachable);
    assert_eq!(d.playbooks, ["set-gosumdb"], "{d:#?}");
    let d = expect(&unreachable("corp.example.com/team/lib"), Category::SumdbUnreachable);
    assert_eq!(d.playbooks, ["private-modules-nosumdb", "set-gosumdb"], "{d:#?}");
    // A certificate the database's connection showed: trust the CA, or reach the database
    // another way; another GOPROXY changes nothing there.
    let d = expect(
        "verifying github.com/x/y@v1.0.0: github.com/x/y@v1.0.0: Get \
         \"https://sum.golang.org/lookup/github.com/x/y@v1.0.0\": tls: failed to verify certificate: x509: \
         certificate signed by unknown authority\n",
        Category::TlsUnknownAuthority,
    );
    assert_eq!(d.playbooks, ["trust-ca", "set-gosumdb"], "{d:#?}");
}

/// A Go program's own request failing under `go run` (or a test's) is not go fetching
/// modules: the URL is none go requests, whatever the error is (a new user's audit).
#[test]
fn a_programs_own_request_under_go_run_is_not_gos() {
    let d = verdict(
        "$ go run ./cmd/fetcher\n2024/05/02 10:11:12 fetch failed: Get \"https://api.example.com/v1/items\": tls: \
         failed to verify certificate: x509: certificate signed by unknown authority\nexit status 1\n",
    );
    assert_eq!(d.category, Category::Unknown, "{d:#?}");
    // The same words on a module proxy's URL are go's.
    expect(
        "$ go mod download\nGet \"https://proxy.corp.example/github.com/x/y/@v/v1.0.0.zip\": tls: failed to verify \
         certificate: x509: certificate signed by unknown authority\n",
        Category::TlsUnknownAuthority,
    );
}
