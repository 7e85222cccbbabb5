# Writes the synthetic cases of the fakes part: go's older, Windows, macOS and git wordings and
# CI contexts, written from go's source and its documented messages (not from any
# corpus case). Run from the repository root: python3 tests/corpus/fakes/synthetic/write_cases.py tests/corpus/fakes/synthetic
import os, sys
root = sys.argv[1]
cases = []
def case(label, slug, origin, stderr, go="unknown", command="unknown", exit="unknown", env=()):
    cases.append((label, slug, origin, stderr, go, command, exit, env))

# --- go <= 1.13 wordings
case("proxy.not_found", "go113-unexpected-status-410", "go 1.11-1.13 modfetch/proxy.go: unexpected status (URL): 410 Gone",
 "go: finding github.com/acme/widget v1.4.0\ngo get github.com/acme/widget@v1.4.0: unexpected status (https://proxy.golang.org/github.com/acme/widget/@v/v1.4.0.info): 410 Gone\n", go="go1.13.8", command="go get github.com/acme/widget@v1.4.0")
case("proxy.server_error", "go113-unexpected-status-502", "go 1.11-1.13 unexpected status wording",
 "go: github.com/acme/widget@v1.4.0: unexpected status (https://goproxy.corp.example/github.com/acme/widget/@v/v1.4.0.mod): 502 Bad Gateway\n", go="go1.12.17")
case("proxy.auth", "go113-unexpected-status-401", "go 1.11-1.13 unexpected status wording",
 "go: finding corp.example/platform v0.3.1\ngo: corp.example/platform@v0.3.1: unexpected status (https://athens.corp.example/corp.example/platform/@v/v0.3.1.info): 401 Unauthorized\n", go="go1.13.4")
case("net.timeout", "go113-unquoted-get-dial-timeout", "go <= 1.13 prints URLs in errors unquoted",
 "go: finding golang.org/x/sys v0.0.0-20190412213103-97732733099d\ngo: golang.org/x/sys@v0.0.0-20190412213103-97732733099d: Get https://proxy.golang.org/golang.org/x/sys/@v/v0.0.0-20190412213103-97732733099d.mod: dial tcp 172.217.27.145:443: i/o timeout\n", go="go1.13")
case("dns.nxdomain", "go113-unquoted-get-no-such-host", "go <= 1.13 unquoted URLs",
 "go: github.com/pkg/errors@v0.8.1: Get https://goproxy.corp.example/github.com/pkg/errors/@v/v0.8.1.mod: dial tcp: lookup goproxy.corp.example on 10.0.0.2:53: no such host\n", go="go1.13.1")
case("tls.unknown_authority", "go113-unquoted-x509", "go <= 1.13: x509 errors without `tls: failed to verify certificate:`",
 "go: golang.org/x/text@v0.3.2: Get https://proxy.golang.org/golang.org/x/text/@v/v0.3.2.mod: x509: certificate signed by unknown authority\n", go="go1.13.5")
case("module.invalid_version", "go113-unknown-revision-finding", "go 1.11-1.13 `go: finding` progress then the error",
 "go: finding github.com/acme/widget v1.9.9\ngo: github.com/acme/widget@v1.9.9: unknown revision v1.9.9\ngo: error loading module requirements\n", go="go1.12.9", command="go build ./...")
case("module.path_mismatch", "go113-unexpected-module-path", "go 1.12/1.13 wording of a module path mismatch",
 "go: github.com/Sirupsen/logrus@v1.4.2: parsing go.mod: unexpected module path \"github.com/sirupsen/logrus\"\ngo: error loading module requirements\n", go="go1.12.5", command="go build ./...")
case("sumdb.private_leak", "go113-sumdb-410-no-body", "go 1.13: a private module checked against sum.golang.org",
 "go: downloading git.corp.example/team/api v0.0.0-20191114092859-171bbba0dc23\nverifying git.corp.example/team/api@v0.0.0-20191114092859-171bbba0dc23: git.corp.example/team/api@v0.0.0-20191114092859-171bbba0dc23: reading https://sum.golang.org/lookup/git.corp.example/team/api@v0.0.0-20191114092859-171bbba0dc23: 410 Gone\n", go="go1.13")
case("sumdb.mismatch", "go113-checksum-mismatch", "go 1.11-1.13 go.sum mismatch layout",
 "go: verifying github.com/acme/widget@v1.2.0: checksum mismatch\n\tdownloaded: h1:3Bv4Ab2X8Mm2Rk3XcwXrW0dCE3wLyb0JwO6ij1NGEuU=\n\tgo.sum:     h1:ruKKhEjGHK9FW6M0wDDsTC3fovsuuJ7JjlDX/g2Q3OQ=\n", go="go1.12.7")
case("vcs.auth", "gopath-git-clone-terminal-prompts", "GOPATH-mode go get running git clone",
 "# cd .; git clone -- https://github.com/acme/private-tool /go/src/github.com/acme/private-tool\nCloning into '/go/src/github.com/acme/private-tool'...\nfatal: could not read Username for 'https://github.com': terminal prompts disabled\npackage github.com/acme/private-tool: exit status 128\n", go="go1.10.8", command="go get github.com/acme/private-tool")
case("dns.failure", "gopath-unrecognized-import-misbehaving", "GOPATH-era `package X: unrecognized import path` with a resolver failure",
 "package golang.org/x/net/context: unrecognized import path \"golang.org/x/net/context\" (https fetch: Get https://golang.org/x/net/context?go-get=1: dial tcp: lookup golang.org on 127.0.0.11:53: server misbehaving)\n", go="go1.10.3")
case("net.timeout", "gopath-unrecognized-import-timeout", "GOPATH-era unrecognized import path with a dial timeout",
 "package golang.org/x/sys/unix: unrecognized import path \"golang.org/x/sys/unix\" (https fetch: Get https://golang.org/x/sys/unix?go-get=1: dial tcp 216.239.37.1:443: i/o timeout)\n", go="go1.9.2")
case("vcs.meta", "gopath-no-go-import-meta", "GOPATH-era page without meta tags",
 "package example.org/tools/lint: unrecognized import path \"example.org/tools/lint\" (parse https://example.org/tools/lint?go-get=1: no go-import meta tags ())\n", go="go1.11.2")
case("net.refused", "go114-get-prefix-refused", "go 1.14-1.17 `go get: ` prefix",
 "go get: github.com/acme/widget@v1.2.0: Get \"https://goproxy.corp.example/github.com/acme/widget/@v/v1.2.0.info\": dial tcp 10.20.0.5:443: connect: connection refused\n", go="go1.16.5")
case("proxy.not_found", "go116-get-404-private", "go 1.16 `go get:` prefix, private module through the public proxy",
 "go get: module github.com/acme/internal-lib: reading https://proxy.golang.org/github.com/acme/internal-lib/@v/list: 410 Gone\n\tserver response: not found: github.com/acme/internal-lib@latest: terminal prompts disabled\n", go="go1.16.3", command="go get github.com/acme/internal-lib")
case("module.invalid_version", "go117-incompatible-major", "modload error wording for a v2 tag without /v2",
 "go get: github.com/acme/widget@v2.1.0: invalid version: module contains a go.mod file, so module path must match major version (\"github.com/acme/widget/v2\")\n", go="go1.17.6")
case("module.invalid_version", "go118-no-matching-versions", "modload query wording",
 "go: github.com/acme/widget@v3: no matching versions for query \"v3\"\n", go="go1.18.1", command="go get github.com/acme/widget@v3")
case("module.invalid_version", "pseudo-version-timestamp", "modfetch: invalid pseudo-version",
 "go: github.com/acme/widget@v0.0.0-20200101000000-abcdefabcdef: invalid pseudo-version: does not match version-control timestamp (expected 20191230153000)\n")

# --- Windows and macOS
case("net.reset", "windows-wsarecv-forcibly-closed", "Windows WSAECONNRESET wording",
 "go: github.com/gin-gonic/gin@v1.9.1: Get \"https://goproxy.cn/github.com/gin-gonic/gin/@v/v1.9.1.mod\": read tcp 192.168.1.23:50812->120.92.78.97:443: wsarecv: An existing connection was forcibly closed by the remote host.\n", go="go1.21.0")
case("net.timeout", "windows-connectex-timeout", "Windows WSAETIMEDOUT wording",
 "go: downloading github.com/spf13/cobra v1.8.0\ngo: github.com/spf13/cobra@v1.8.0: Get \"https://proxy.golang.org/github.com/spf13/cobra/@v/v1.8.0.zip\": dial tcp 142.251.42.241:443: connectex: A connection attempt failed because the connected party did not properly respond after a period of time, or established connection failed because connected host has failed to respond.\n", go="go1.22.1")
case("net.refused", "windows-connectex-refused", "Windows WSAECONNREFUSED wording",
 "go: github.com/acme/widget@v1.2.0: Get \"http://127.0.0.1:3000/github.com/acme/widget/@v/v1.2.0.info\": dial tcp 127.0.0.1:3000: connectex: No connection could be made because the target machine actively refused it.\n")
case("net.unreachable", "windows-connectex-unreachable", "Windows WSAENETUNREACH wording",
 "go: golang.org/x/net@v0.20.0: Get \"https://proxy.golang.org/golang.org/x/net/@v/v0.20.0.mod\": dial tcp [2607:f8b0:4005:80c::2011]:443: connectex: A socket operation was attempted to an unreachable network.\n")
case("dns.failure", "windows-getaddrinfow-temporary", "Windows resolver (cgo) timeout wording",
 "go: golang.org/x/text@v0.14.0: Get \"https://proxy.golang.org/golang.org/x/text/@v/v0.14.0.mod\": dial tcp: lookup proxy.golang.org: getaddrinfow: This is usually a temporary error during hostname resolution and means that the local server did not receive a response from an authoritative server.\n")
case("dns.nxdomain", "windows-getaddrinfow-no-such-host", "Windows resolver NXDOMAIN wording",
 "go: corp.example/lib@v1.0.0: Get \"https://goproxy.corp.exmaple/corp.example/lib/@v/v1.0.0.info\": dial tcp: lookup goproxy.corp.exmaple: getaddrinfow: No such host is known.\n")
case("dns.failure", "windows-wsarecv-dns-timeout", "Windows: the DNS server does not answer",
 "go: github.com/acme/widget@v1.2.0: Get \"https://proxy.golang.org/github.com/acme/widget/@v/v1.2.0.info\": dial tcp: lookup proxy.golang.org on 8.8.8.8:53: read udp 192.168.1.5:55311->8.8.8.8:53: wsarecv: A connection attempt failed because the connected party did not properly respond after a period of time, or established connection failed because connected host has failed to respond.\n")
case("net.timeout", "macos-operation-timed-out", "macOS ETIMEDOUT wording",
 "go: github.com/acme/widget@v1.2.0: Get \"https://goproxy.corp.example/github.com/acme/widget/@v/v1.2.0.zip\": dial tcp 10.8.0.12:443: connect: operation timed out\n")
case("tls.unknown_authority", "macos-certificate-not-trusted", "macOS security framework wording",
 "go: github.com/acme/widget@v1.2.0: Get \"https://proxy.golang.org/github.com/acme/widget/@v/v1.2.0.info\": tls: failed to verify certificate: x509: “proxy.golang.org” certificate is not trusted\n")
case("cache.permission", "windows-access-denied-lock", "Windows ERROR_ACCESS_DENIED on the module cache",
 "go: github.com/acme/widget@v1.2.0: open C:\\Users\\build\\go\\pkg\\mod\\cache\\download\\github.com\\acme\\widget\\@v\\v1.2.0.lock: Access is denied.\n")

# --- git/curl wordings
case("net.reset", "git-rpc-failed-gnutls", "git over GnuTLS dropping mid-pack",
 "go: github.com/acme/widget@v0.0.0-20230101000000-0123456789ab: git fetch -f origin refs/heads/*:refs/heads/* refs/tags/*:refs/tags/* in /home/ci/go/pkg/mod/cache/vcs/4d3c: exit status 128:\n\terror: RPC failed; curl 56 GnuTLS recv error (-9): A TLS packet with unexpected length was received.\n\tfatal: the remote end hung up unexpectedly\n\tfatal: early EOF\n\tfatal: index-pack failed\n", env=(("GOPROXY","direct"),))
case("dns.failure", "git-could-not-resolve-host", "git (glibc) cannot resolve",
 "go: git.corp.example/team/api@v1.4.0: invalid version: git ls-remote -q origin in /root/go/pkg/mod/cache/vcs/9f1e: exit status 128:\n\tfatal: unable to access 'https://git.corp.example/team/api.git/': Could not resolve host: git.corp.example\n", env=(("GOPRIVATE","git.corp.example"),))
case("net.timeout", "git-failed-to-connect-timeout", "git/curl connect timeout",
 "go: git.corp.example/team/api@v1.4.0: invalid version: git ls-remote -q origin in /root/go/pkg/mod/cache/vcs/9f1e: exit status 128:\n\tfatal: unable to access 'https://git.corp.example/team/api.git/': Failed to connect to git.corp.example port 443 after 130013 ms: Connection timed out\n", env=(("GOPRIVATE","git.corp.example"),))
case("net.refused", "git-failed-to-connect-refused", "git/curl connection refused",
 "go: git.corp.example/team/api@v1.4.0: invalid version: git ls-remote -q origin in /root/go/pkg/mod/cache/vcs/9f1e: exit status 128:\n\tfatal: unable to access 'https://git.corp.example/team/api.git/': Failed to connect to git.corp.example port 443 after 2 ms: Couldn't connect to server\n", env=(("GOPRIVATE","git.corp.example"),))
case("vcs.auth", "git-ssh-publickey", "git over ssh (insteadOf) without a key",
 "go: github.com/acme/private@v1.0.0: invalid version: git ls-remote -q origin in /home/dev/go/pkg/mod/cache/vcs/77aa: exit status 128:\n\tgit@github.com: Permission denied (publickey).\n\tfatal: Could not read from remote repository.\n\n\tPlease make sure you have the correct access rights\n\tand the repository exists.\n", env=(("GOPRIVATE","github.com/acme"),))
case("vcs.auth", "git-authentication-failed", "git with a token that is wrong",
 "go: gitlab.corp.example/team/api@v1.2.0: invalid version: git ls-remote -q origin in /go/pkg/mod/cache/vcs/5e2a: exit status 128:\n\tremote: HTTP Basic: Access denied\n\tfatal: Authentication failed for 'https://gitlab.corp.example/team/api.git/'\n", env=(("GOPRIVATE","gitlab.corp.example"),))
case("tls.unknown_authority", "git-server-certificate-verification-failed", "git (GnuTLS) does not trust the server",
 "go: git.corp.example/team/api@v1.4.0: invalid version: git ls-remote -q origin in /root/go/pkg/mod/cache/vcs/9f1e: exit status 128:\n\tfatal: unable to access 'https://git.corp.example/team/api.git/': server certificate verification failed. CAfile: none CRLfile: none\n", env=(("GOPRIVATE","git.corp.example"),))
case("vcs.not_found", "git-repository-not-found-selfhosted", "git http-backend answering 404 for a missing repository",
 "go: git.corp.example/team/gone@v1.0.0: invalid version: git ls-remote -q origin in /home/ci/go/pkg/mod/cache/vcs/1a2b: exit status 128:\n\tfatal: repository 'https://git.corp.example/team/gone.git/' not found\n", env=(("GOPRIVATE","git.corp.example"),))

# --- sumdb texts
case("sumdb.unreachable", "sumdb-tile-404-through-proxy", "a proxy that forwards the checksum database badly",
 "go: github.com/acme/widget@v1.2.0: verifying go.mod: github.com/acme/widget@v1.2.0/go.mod: reading https://goproxy.corp.example/sumdb/sum.golang.org/tile/8/1/236: 404 Not Found\n")
case("sumdb.unreachable", "sumdb-wrong-key", "GOSUMDB key that does not sign the tree",
 "go: corp.example/lib@v1.0.0: verifying go.mod: corp.example/lib@v1.0.0/go.mod: reading tree note: note has no verifiable signatures\nnote:\ngo.sum database tree\n10\ncGbg74GYFGRqbhaDV4WVFba61HA0wFOl1dShvZ64KrY=\n\n— sum.corp.example PtTWBnswh8hdXn/tclmYmNMiQeWth3M8l+erP8LYQnBK7cNHk/KyoopbVaT458CakT69MogVTvEsE6EX2uOaTSiXsAM=\n")
case("sumdb.unreachable", "sumdb-dial-timeout-unquoted", "go 1.13: the checksum database unreachable",
 "verifying github.com/acme/widget@v1.2.0: github.com/acme/widget@v1.2.0: Get https://sum.golang.org/lookup/github.com/acme/widget@v1.2.0: dial tcp 216.58.200.49:443: i/o timeout\n", go="go1.13.3")
case("module.invalid_version", "sumdb-410-unknown-revision", "sum.golang.org's 410 body when the version does not exist",
 "go: github.com/acme/widget@v1.2.3: verifying module: github.com/acme/widget@v1.2.3: reading https://sum.golang.org/lookup/github.com/acme/widget@v1.2.3: 410 Gone\n\tserver response: not found: github.com/acme/widget@v1.2.3: invalid version: unknown revision v1.2.3\n")

# --- module files
case("module.go_mod", "go120-toolchain-directive", "go <= 1.20 cannot read the toolchain directive",
 "go: errors parsing go.mod:\n/home/runner/work/app/app/go.mod:5: unknown directive: toolchain\n", go="go1.20.14", command="go build ./...")
case("module.go_mod", "go120-three-part-go-line", "go <= 1.20 reading go 1.21.0",
 "go: errors parsing go.mod:\n/src/go.mod:3: invalid go version '1.21.0': must match format 1.23\n", go="go1.20.5")
case("module.go_mod", "go115-updates-disabled-readonly", "go 1.15 -mod=readonly wording",
 "go: updates to go.mod needed, disabled by -mod=readonly\n", go="go1.15.15")
case("module.go_mod", "go-work-requires-newer", "go.work go line older than a module's",
 "go: module . listed in go.work file requires go >= 1.22, but go.work lists go 1.21; to update it:\n\tgo work use\n")
# A compile error is no download failure: `unknown`, as the public corpus's writers and
# readers label one with this note (the go line is the verdict's second reading).
case("unknown", "note-module-requires-go", "go 1.17-1.20 compile failure note when the go line is newer",
 "# github.com/acme/app/internal/x\ninternal/x/x.go:12:9: undefined: min\nnote: module requires Go 1.21\n", go="go1.20.3", command="go build ./...")
case("module.go_mod", "vendor-inconsistent", "go build -mod=vendor with a stale vendor/modules.txt",
 "go: inconsistent vendoring in /src/app:\n\tgithub.com/acme/widget@v1.3.0: is explicitly required in go.mod, but vendor/modules.txt indicates github.com/acme/widget@v1.2.0\n\n\tTo ignore the vendor directory, use -mod=readonly or -mod=mod.\n\tTo sync the vendor directory, run:\n\t\tgo mod vendor\n")
case("module.go_sum_missing", "go116-missing-go-sum-entry-verifying", "go 1.16 wording",
 "verifying github.com/acme/widget@v1.2.0/go.mod: missing go.sum entry; to add it:\n\tgo mod download github.com/acme/widget\n", go="go1.16.15")
case("module.go_sum_missing", "go116-imports-missing-sum", "go 1.16 import stack",
 "../../pkg/mod/github.com/acme/widget@v1.2.0/client.go:9:2: missing go.sum entry for module providing package golang.org/x/net/http2 (imported by github.com/acme/widget); to add:\n\tgo get github.com/acme/widget@v1.2.0\n", go="go1.16.2")

# --- successes that warn
case("none", "retracted-warning", "go 1.16+ retraction warning on a successful get",
 "go: warning: github.com/acme/widget@v1.2.0: retracted by module author: leaked credentials\ngo: to switch to the latest unretracted version, run:\n\tgo get github.com/acme/widget@latest\ngo: added github.com/acme/widget v1.2.0\n", command="go get github.com/acme/widget@v1.2.0", exit="0")
case("none", "deprecated-module-warning", "go 1.17+ deprecation notice",
 "go: module github.com/golang/protobuf is deprecated: Use the \"google.golang.org/protobuf\" module instead.\ngo: upgraded github.com/golang/protobuf v1.5.2 => v1.5.4\n", command="go get -u ./...")
case("none", "test-logs-network-words", "a passing test whose own log mentions network errors",
 "=== RUN   TestDialRetry\n    client_test.go:41: dial tcp 127.0.0.1:9: connect: connection refused (expected, retrying)\n--- PASS: TestDialRetry (0.21s)\nPASS\nok  \tgithub.com/acme/client\t0.233s\n", command="go test -v ./...")
case("none", "stat-cache-warning-readonly", "a read-only module cache on a read-only command",
 "go: writing stat cache: open /go/pkg/mod/cache/download/github.com/acme/widget/@v/v1.2.0.info123456.tmp: read-only file system\n", command="go list -m all", exit="0")

# --- killed runs
case("hang", "github-canceled-after-downloading", "GitHub Actions cancellation after the job timeout",
 "go: downloading github.com/acme/widget v1.2.0\ngo: downloading golang.org/x/sys v0.15.0\n##[error]The operation was canceled.\n", command="go mod download")
case("hang", "gitlab-job-timeout-trace", "GitLab job timeout with a -x trace cut mid-request",
 "# get https://goproxy.corp.example/github.com/acme/widget/@v/v1.2.0.zip\nERROR: Job failed: execution took longer than 1h0m0s seconds\n", command="go mod download -x")
case("hang", "jenkins-build-timed-out", "Jenkins build-timeout plugin",
 "go: downloading github.com/acme/widget v1.2.0\nBuild timed out (after 30 minutes). Marking the build as aborted.\nBuild was aborted\n")
case("hang", "exit-124-timeout-wrapper", "a script running go under timeout(1)",
 "+ timeout 600 go mod download\ngo: downloading github.com/acme/widget v1.2.0\n+ echo 'go mod download exited with 124'\ngo mod download exited with 124\n", exit="124")

for (label, slug, origin, stderr, go, command, exit, env) in cases:
    d = os.path.join(root, label)
    os.makedirs(d, exist_ok=True)
    envs = "".join(f"{k}={v}\n" for k, v in env)
    text = f"label: {label}\ngo: {go}\norigin: synthetic: {origin}\ncommand: {command}\nexit: {exit}\n-- env --\n{envs}-- stderr --\n{stderr}-- stdout --\n"
    open(os.path.join(d, f"{slug}.txt"), "w").write(text)
print(len(cases))
