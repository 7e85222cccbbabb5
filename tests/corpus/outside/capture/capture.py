#!/usr/bin/env python3
"""Capture real `go` command failures against a fake corporate network.

Usage (as root):  python3 capture.py --go /usr/local/go/bin/go [--go OTHER] --out DIR

Everything runs inside a private network + mount namespace (unshare): only
loopback exists, /etc/hosts, /etc/resolv.conf and /etc/ssl/certs are replaced
by bind mounts, and every server (servers.py, git http-backend, a DNS server)
lives on 127.0.0.0/8.  Each go run gets fresh HOME/GOPATH/GOMODCACHE/GOCACHE
and GOENV=off; nothing outside the temp base directory is written.

Python 3.11 stdlib + bash + openssl + git + util-linux (unshare, setpriv,
flock, mount, timeout) + iproute2.  See README.md and FINDINGS.md.
"""
import argparse
import base64
import dataclasses
import hashlib
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import zipfile
from typing import Callable, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
NOBODY = 65534
NS_MARK = "MC_OUTSIDE_IN_NS"

# --------------------------------------------------------------------------
# the fake network
# --------------------------------------------------------------------------
VHOST_IP = "127.0.0.10"
DNS_IP = "127.0.0.53"
HOSTS = {
    # all "good" HTTP(S) virtual hosts live on one address (Host header picks the vhost)
    VHOST_IP: [
        "proxy.corp.example", "proxy-sumdb.corp.example", "proxy-new.corp.example",
        "mirror.corp.example", "athens.corp.example", "artifactory.corp.example",
        "nexus.corp.example", "goproxy.corp.example", "ratelimit.corp.example",
        "private-proxy.corp.example", "goproxy-eu.corp.example", "sso.corp.example",
        "badjson.corp.example", "badzip.corp.example", "portal.corp.example",
        "wifi.corp.example", "cdn.corp.example", "cdn-rst.corp.example",
        "git.corp.example", "code.corp.example", "go.corp.example",
        "sum.golang.org", "sum.corp.example",
        "legal.corp.example", "stall.corp.example", "shortcl.corp.example", "go403.corp.example",
        "gzip.corp.example", "blobproxy.corp.example", "partialzip.corp.example", "stale.corp.example",
        "casefold.corp.example",
        "loop.corp.example", "emptyinfo.corp.example",
        # round 11
        "modhtml.corp.example", "maint.corp.example", "redirbad.corp.example", "nolatest.corp.example",
        "listjunk.corp.example",
        # round 12
        "authgw.corp.example", "gzipcut.corp.example", "headclose.corp.example", "halfhead.corp.example",
        "waf.corp.example", "huge.corp.example",
        # round 13
        "redirexp.corp.example",
        # round 14
        "testdep.corp.example", "ssoredir.corp.example", "emptymod.corp.example", "latestretracted.corp.example",
        "proxy-sumdb500.corp.example", "lagging.corp.example",
        # round 15
        "toolchain.corp.example",
        # round 16
        "redirsyn.corp.example",
    ],
    "127.0.0.30": ["selfsigned.corp.example"],
    "127.0.0.31": ["gitmirror.corp.example", "mitm.corp.example"],
    "127.0.0.32": ["expired.corp.example"],
    "127.0.0.33": ["future.corp.example"],
    "127.0.0.34": ["legacy.corp.example"],
    "127.0.0.35": [],                             # sum.golang.org as a TLS-intercepting proxy shows it
    "127.0.0.36": ["chain.corp.example"],         # leaf signed by an intermediate the server does not send
    "127.0.0.37": ["ipcert.corp.example"],        # round 11: certificate with an IP SAN only (127.0.0.37)
    "127.0.0.38": ["expinter.corp.example"],      # round 11: valid leaf, sent with its intermediate that expired 2024-01-01
    "127.0.0.39": ["tls10.corp.example"],         # round 11: an old appliance that speaks TLS 1.0 only
    "127.0.0.46": ["rsakex.corp.example"],        # round 11: TLS 1.2 with RSA key exchange only (RSA certificate)
    "127.0.0.47": ["cdn-old.corp.example"],       # round 13: expired certificate (2024-01-01) for cdn-old. and sum.golang.org
    "127.0.0.69": ["synq.corp.example"],          # round 13: accept queue full, SYNs dropped (dial timeout)
    "127.0.0.70": ["osrv.corp.example"],          # round 14: stock `openssl s_server -WWW`, certificate with a CN and no SAN
    "127.0.0.73": ["gitssh.corp.example"],        # round 14: OpenSSH's sshd (if installed): public keys only, none authorized
    "127.0.0.75": ["expwild.corp.example"],       # round 16: *.corp.example certificate that expired 2024-01-01
    "127.0.0.40": ["slow.corp.example"],          # accepts, never says anything
    "127.0.0.41": ["stuck.corp.example"],         # TLS ok, then silence
    "127.0.0.42": ["flaky.corp.example"],         # RST after first bytes
    "127.0.0.43": ["lb.corp.example"],            # TLS ok, RST after request
    "127.0.0.44": ["offline.corp.example"],       # nothing listens
    "127.0.0.50": ["gw.corp.example"],            # CONNECT proxy: 407
    "127.0.0.51": ["gw-eu.corp.example"],         # CONNECT proxy: 403
    "127.0.0.52": ["gw-down.corp.example"],       # nothing listens
    "127.0.0.54": ["gw-auth.corp.example"],       # CONNECT proxy: 407 unless the right Basic credentials
    "127.0.0.55": ["gw-ok.corp.example"],         # CONNECT proxy that works
    "127.0.0.56": ["gw-close.corp.example"],      # CONNECT proxy: closes without answering
    "127.0.0.57": ["gw-drop.corp.example"],       # CONNECT proxy: 200, then closes the tunnel
    "127.0.0.58": ["gw-socks.corp.example"],      # SOCKS5 proxy: every CONNECT refused by ruleset
    "127.0.0.60": ["daemon.corp.example"],        # git daemon (git://, port 9418)
    "127.0.0.62": ["files.corp.example"],         # stock `python3 -m http.server 8000` over the GOPROXY tree
    "127.0.0.63": ["chunkbad.corp.example", "chunkcut.corp.example", "gosrv.corp.example",  # gosrv/main.go (Go net/http)
                   # round 11: checksum databases in gosrv (GOSUMDB=<host>+<vkey>)
                   "sumdb-bad.corp.example", "sumdb-badsig.corp.example", "sumdb-500.corp.example",
                   "sumdb-html.corp.example",
                   "sumdb-good.corp.example"],               # round 15: right hashes, right signature
    "127.0.0.61": ["h2reset.corp.example"],       # round 11: gosrv's HTTP/2 listener
    # toxiproxy (--toxiproxy; its API on 127.0.0.64:8474): one proxy per address, each in front of 127.0.0.10:443
    "127.0.0.65": ["tox-latency.corp.example"], "127.0.0.66": ["tox-lag.corp.example"],
    "127.0.0.67": ["tox-limit.corp.example"], "127.0.0.68": ["tox-reset.corp.example"],
    "127.0.0.71": ["tox-timeout.corp.example"], "127.0.0.72": ["tox-slowclose.corp.example"],   # round 14
    "127.0.0.74": ["tox-blackhole.corp.example"],                                                # round 15
    "192.0.2.10": ["proxy.dc2.corp.example"],     # no route at all in the netns
    "198.51.100.10": ["proxy.dc3.corp.example"],  # `ip route add unreachable`
    "203.0.113.10": ["proxy.dc4.corp.example"],   # `ip route add prohibit`
}
DNS = {"servfail": ["ad.corp.example"], "drop": ["slowdns.corp.example"],
       # names only the DNS server knows (not in /etc/hosts): A answered, AAAA fails
       "servfail6": ["v6fail.corp.example"], "drop6": ["v6drop.corp.example"], "drop4": ["v4drop.corp.example"],
       "a": {"v6fail.corp.example": VHOST_IP, "v6drop.corp.example": VHOST_IP, "v4drop.corp.example": VHOST_IP},
       # only an IPv6 address (documentation prefix; the netns has no IPv6 route but ::1)
       "aaaa": {"v6only.corp.example": "2001:db8::10"},
       # answered with TC set ("retry over TCP"); nothing listens on TCP port 53
       "truncate": ["tc.corp.example"],
       # round 13: NOERROR without records and without the RA bit (a server that does not recurse)
       "lame": ["lame.corp.example"]}
DEFAULT_RESOLV = "nameserver %s\n" % DNS_IP
TOXI_API = ("127.0.0.64", 8474)
# round 11: checksum databases served by gosrv; VKEYS is filled at start (gosrv -vkey) and read by Run
SUMDB_HOSTS = ("sumdb-bad.corp.example", "sumdb-badsig.corp.example", "sumdb-500.corp.example", "sumdb-html.corp.example",
               "sumdb-good.corp.example")   # round 15: the record holds the main tree's real hashes
VKEYS = {}
# toxiproxy proxies: name -> (listen address, toxic on the server-to-go stream); all forward to VHOST_IP:443, so TLS
# is end to end (the *.corp.example certificate) and the default vhost (proxy.corp.example) answers
TOXICS = {
    "tox-latency": ("127.0.0.65", {"type": "latency", "attributes": {"latency": 1500}}),
    "tox-lag": ("127.0.0.66", {"type": "latency", "attributes": {"latency": 11000}}),
    "tox-limit": ("127.0.0.67", {"type": "limit_data", "attributes": {"bytes": 1500}}),
    "tox-reset": ("127.0.0.68", {"type": "reset_peer", "attributes": {"timeout": 100}}),
    # round 14: `timeout` passes no data and closes after 3 s; `slow_close` delays the close of the server's side by 3 s
    "tox-timeout": ("127.0.0.71", {"type": "timeout", "attributes": {"timeout": 3000}}),
    "tox-slowclose": ("127.0.0.72", {"type": "slow_close", "attributes": {"delay": 3000}}),
    # round 15: `timeout` with 0: the server's bytes are dropped and the connection is never closed (a black hole)
    "tox-blackhole": ("127.0.0.74", {"type": "timeout", "attributes": {"timeout": 0}}),
}

SSO_HTML = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in - Corp SSO</title></head>
<body>
<form method="post" action="https://sso.corp.example/login">
<input type="text" name="username"><input type="password" name="password">
<button type="submit">Sign in</button>
</form>
</body>
</html>
"""
PORTAL_HTML = """<html><head><title>Guest Wi-Fi</title></head>
<body><h1>Welcome to Corp Guest Wi-Fi</h1><p>Please accept the terms of use to continue.</p></body></html>
"""
NGINX_502 = """<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center>
</body>
</html>
"""


# {g1}=module@version, {g2}=module path, {g3}=first path element (a host name)
LOOKUP_RE = r"lookup/((([^/@]+)[^@]*)@[^/]*)$"


def goimport(root, vcs, url):
    return ('<!DOCTYPE html><html><head><meta name="go-import" content="%s %s %s">'
            '</head><body>go get %s</body></html>\n' % (root, vcs, url, root))


def vhost_table():
    proxy = lambda root="main", **kw: dict(re=r"^/", action="proxy", root=root, **kw)
    static = lambda status, body="", ctype="text/plain; charset=utf-8", rx=r"^/", **kw: dict(
        re=rx, action="static", status=status, body=body, ctype=ctype, **kw)
    git_routes = [
        dict(re=r"^/private\.git/", action="git", auth={"user": "alice", "pass": "s3cret", "realm": "Corp Git"}),
        dict(re=r"^/[a-z0-9-]+\.git/", action="git"),
    ]
    lookup_404 = ('not found: {g1}: unrecognized import path "{g2}": https fetch: '
                  'Get "https://{g2}?go-get=1": dial tcp: lookup {g3} on 8.8.8.8:53: no such host\n')
    return {
        "proxy.corp.example": [proxy()],
        "proxy-new.corp.example": [proxy("altered")],
        "proxy-sumdb.corp.example": [
            static(200, "", rx=r"^/sumdb/sum\.golang\.org/supported$"),
            static(410, lookup_404.replace("8.8.8.8", "10.0.0.2"), rx=r"^/sumdb/sum\.golang\.org/" + LOOKUP_RE),
            proxy()],
        "mirror.corp.example": [proxy("partial", missing_body="none")],
        "athens.corp.example": [proxy("empty", missing_status=410)],
        "artifactory.corp.example": [static(500, '{\n  "errors" : [ {\n    "status" : 500,\n    "message" : "Could not process download request: Remote repository go-remote is offline"\n  } ]\n}',
                                            ctype="application/json")],
        "nexus.corp.example": [static(502, NGINX_502, ctype="text/html")],
        "goproxy.corp.example": [static(503, "upstream connect error or disconnect/reset before headers. reset reason: connection termination")],
        "ratelimit.corp.example": [static(429, "rate limit exceeded: 600 requests per minute per client; retry later\n", headers={"Retry-After": "60"})],
        "private-proxy.corp.example": [static(401, "Unauthorized\n", headers={"WWW-Authenticate": 'Basic realm="Go proxy"'})],
        "goproxy-eu.corp.example": [static(403, "Forbidden: client 10.20.30.40 is not in the allow list for repository go-internal\n")],
        "sso.corp.example": [static(200, SSO_HTML, ctype="text/html; charset=utf-8")],
        "badjson.corp.example": [static(200, '{"Version":"v1.0.0","Time":"2024-01-01T00:00', ctype="application/json", rx=r"\.info$"), proxy()],
        "badzip.corp.example": [static(200, "this is not a zip archive\n" * 20, ctype="application/zip", rx=r"\.zip$"), proxy()],
        "portal.corp.example": [static(200, PORTAL_HTML, ctype="text/html", rx=r"^/login"),
                                dict(re=r"^/", action="redirect", location="http://portal.corp.example/login?orig=https://proxy.corp.example{path}")],
        "wifi.corp.example": [static(200, PORTAL_HTML, ctype="text/html", rx=r"^/login"),
                              dict(re=r"^/", action="redirect", location="https://wifi.corp.example/login?orig={path}")],
        "cdn.corp.example": [dict(re=r"\.zip$", action="truncate", length=250000, send=4096), proxy()],
        "cdn-rst.corp.example": [dict(re=r"\.zip$", action="truncate", length=250000, send=4096, rst=True), proxy()],
        "git.corp.example": [
            # a private repository the host hides behind 404 (as GitHub/Gitea do without credentials)
            static(404, "Repository not found.\n", rx=r"^/hidden\.git/")] + git_routes + [
            static(200, goimport("git.corp.example/gd-{g1}", "git", "git://daemon.corp.example/{g1}.git"), "text/html",
                   rx=r"^/gd-([a-z0-9-]+)(/[^?]*)?\?go-get=1$"),
            static(200, goimport("git.corp.example/mirrored", "git", "https://gitmirror.corp.example/lib.git"), "text/html", rx=r"^/mirrored(/[^?]*)?\?go-get=1$"),
            static(200, goimport("git.corp.example/stuck", "git", "https://stuck.corp.example/lib.git"), "text/html", rx=r"^/stuck(/[^?]*)?\?go-get=1$"),
            # round 15: go-import tags sending git to a host whose certificate expired, or names other hosts
            # (expgit is kept for --exec; its recipe was dropped: git says only `server certificate verification failed`)
            static(200, goimport("git.corp.example/expgit", "git", "https://expired.corp.example/lib.git"), "text/html",
                   rx=r"^/expgit(/[^?]*)?\?go-get=1$"),
            static(200, goimport("git.corp.example/badnamegit", "git", "https://legacy.corp.example/lib.git"), "text/html",
                   rx=r"^/badnamegit(/[^?]*)?\?go-get=1$"),
            static(200, goimport("git.corp.example/{g1}", "git", "https://git.corp.example/{g1}.git"), "text/html", rx=r"^/([a-z0-9-]+)(/[^?]*)?\?go-get=1$"),
        ],
        "code.corp.example": [
            static(200, goimport("code.corp.example/other", "git", "https://git.corp.example/lib.git"), "text/html", rx=r"^/wrongprefix(/[^?]*)?\?go-get=1$"),
            # the repository moved to git, the go-import tag still says Mercurial
            static(200, goimport("code.corp.example/hgrepo", "hg", "https://code.corp.example/hg/hgrepo"), "text/html",
                   rx=r"^/hgrepo(/[^?]*)?\?go-get=1$"),
            # round 12: a repository still announced as Subversion (svn is not installed)
            static(200, goimport("code.corp.example/svnrepo", "svn", "https://code.corp.example/svn/svnrepo"), "text/html",
                   rx=r"^/svnrepo(/[^?]*)?\?go-get=1$"),
            # round 13: two go-import tags for the same prefix (an old and a new repository URL)
            static(200, goimport("code.corp.example/dupmeta", "git", "https://git.corp.example/lib.git").replace(
                "</head>", '<meta name="go-import" content="code.corp.example/dupmeta git https://gitmirror.corp.example/lib.git"></head>'),
                   "text/html", rx=r"^/dupmeta(/[^?]*)?\?go-get=1$"),
            # round 15: a vanity path for git.corp.example/lib (whose go.mod says module git.corp.example/lib)
            static(200, goimport("code.corp.example/vanity", "git", "https://git.corp.example/lib.git"), "text/html",
                   rx=r"^/vanity(/[^?]*)?\?go-get=1$"),
            # round 15: two go-import tags for the same prefix naming different VCS (git and hg)
            static(200, goimport("code.corp.example/gitandhg", "git", "https://git.corp.example/lib.git").replace(
                "</head>", '<meta name="go-import" content="code.corp.example/gitandhg hg https://code.corp.example/hg/gitandhg"></head>'),
                   "text/html", rx=r"^/gitandhg(/[^?]*)?\?go-get=1$"),
            # round 15: the subpackage's page names the root code.corp.example/disagree with one URL, the root's own
            # page names another (go fetches the root's page to check, and the two disagree)
            static(200, goimport("code.corp.example/disagree", "git", "https://git.corp.example/lib.git"), "text/html",
                   rx=r"^/disagree/[^?]+\?go-get=1$"),
            static(200, goimport("code.corp.example/disagree", "git", "https://gitmirror.corp.example/lib.git"), "text/html",
                   rx=r"^/disagree\?go-get=1$"),
            # round 16: a CMS template that puts the go-import tag in <body> (go stops reading at <body>)
            static(200, '<!DOCTYPE html><html><head><title>bodymeta</title></head><body>'
                        '<meta name="go-import" content="code.corp.example/bodymeta git https://git.corp.example/lib.git">'
                        '<p>go get code.corp.example/bodymeta</p></body></html>\n', "text/html",
                   rx=r"^/bodymeta(/[^?]*)?\?go-get=1$"),
            # round 16: a go-import tag naming a plain-http repository URL (a git server behind an old load balancer);
            # kept for --exec: its recipe was dropped (go fetched over http and failed on the path, see FINDINGS.md)
            static(200, goimport("code.corp.example/httprepo", "git", "http://git.corp.example/lib.git"), "text/html",
                   rx=r"^/httprepo(/[^?]*)?\?go-get=1$"),
            static(200, '<!DOCTYPE html><html><head><title>Sign in &middot; GitLab</title></head><body><a href="/users/sign_in">Sign in</a></body></html>\n',
                   "text/html; charset=utf-8", rx=r"\?go-get=1$"),
        ],
        "go.corp.example": [static(401, "401 Unauthorized\n", headers={"WWW-Authenticate": 'Basic realm="go.corp.example"'})],
        "sum.golang.org": [static(404, lookup_404, rx=r"^/" + LOOKUP_RE),
                           static(404, "not found\n")],
        "sum.corp.example": [static(404, "not found\n")],
        "legal.corp.example": [static(451, "Unavailable For Legal Reasons: corp.example/lib is blocked by repository policy "
                                           "'license-gpl-deny' (contact #artifactory-help)\n")],
        "stall.corp.example": [dict(re=r"\.zip$", action="truncate", length=250000, send=4096, stall=True), proxy()],
        "shortcl.corp.example": [dict(re=r"\.zip$", action="shortlen", root="main", cut=100), proxy()],
        "go403.corp.example": [static(403, "403 Forbidden\n")],
        # a CDN rule that marks every body gzip-encoded, compressed or not
        "gzip.corp.example": [proxy(headers={"Content-Encoding": "gzip"})],
        # .zip downloads are redirected to blob storage (a pre-signed URL) on a host that does not resolve
        "blobproxy.corp.example": [dict(re=r"\.zip$", action="redirect", status=307,
                                        location="https://goproxy-blobs.s3.corp.example{path}?X-Amz-Expires=300"),
                                   proxy()],
        # storage lost the .zip files; .info and .mod are still served
        "partialzip.corp.example": [static(404, "not found: {g1}@{g2}: zip file missing from storage\n",
                                           rx=r"^/(.+)/@v/(v[^/]+)\.zip$"), proxy()],
        # a caching proxy that answers v1.0.0.info with the info of the version it cached last
        "stale.corp.example": [static(200, '{"Version":"v1.1.0","Time":"2024-01-01T00:00:00Z"}\n', "application/json",
                                      rx=r"/@v/v1\.0\.0\.info$"), proxy()],
        # case-insensitive storage: corp.example/lib's zip is the one uploaded for corp.example/Lib
        "casefold.corp.example": [proxy("casefold")],
        # a rewrite rule that sends every URL to itself (301 loop)
        "loop.corp.example": [dict(re=r"^/", action="redirect", status=301, location="https://loop.corp.example{path}")],
        # a proxy that answers .info with 200 and an empty body (storage returned a zero-byte object)
        "emptyinfo.corp.example": [static(200, "", "application/json", rx=r"\.info$"), proxy()],
        # round 11: a repository manager's HTML error page served with 200 for the .mod only
        "modhtml.corp.example": [static(200, "<!DOCTYPE html>\n<html><head><title>Artifactory</title></head><body>"
                                             "<h1>Remote repository go-remote: item not cached</h1></body></html>\n",
                                        "text/html;charset=ISO-8859-1", rx=r"\.mod$"), proxy()],
        # round 11: maintenance window, 503 with Retry-After
        "maint.corp.example": [static(503, "Service Unavailable: scheduled maintenance until 02:00 UTC\n",
                                      headers={"Retry-After": "3600"})],
        # round 11: .zip redirected to a download host whose certificate is self-signed
        "redirbad.corp.example": [dict(re=r"\.zip$", action="redirect", status=302,
                                       location="https://selfsigned.corp.example{path}"), proxy()],
        # round 11: @v/list empty, @latest not implemented (404)
        # round 11: @v/list with junk lines around the real versions (an index page merged in), @latest 404
        "listjunk.corp.example": [static(200, "<html>\nv1.0.0\nlatest\nv1.1\nv1.1.0 \nmaster\n../\n</html>\n", rx=r"/@v/list$"),
                                  static(404, "404 page not found\n", rx=r"/@latest$"), proxy()],
        "nolatest.corp.example": [static(200, "", rx=r"/@v/list$"), static(404, "404 page not found\n", rx=r"/@latest$"),
                                  proxy()],
        # round 12: a gateway in front of the proxy that answers 407 itself (not a forward proxy: no CONNECT involved)
        "authgw.corp.example": [static(407, "<html><body><h1>407 Proxy Authentication Required</h1>"
                                            "<p>Sign in to the Corp web gateway.</p></body></html>\n", "text/html",
                                       headers={"Proxy-Authenticate": 'Basic realm="Corp Web Gateway"'})],
        # round 12: .info and .mod gzip-encoded by a CDN, the compressed stream cut in half (Content-Length matches)
        "gzipcut.corp.example": [dict(re=r"\.(info|mod)$", action="gzipcut", keep=0.5), proxy()],
        # round 12: .info: headers (Content-Length of the real file), then the connection closes without a body
        "headclose.corp.example": [dict(re=r"\.info$", action="headclose"), proxy()],
        # round 12: slowloris: the status line and one header, never the end of the headers
        "halfhead.corp.example": [dict(re=r"^/", action="halfhead")],
        # round 12: a web application firewall that rejects '!' (go's escaping of upper-case letters, sent as %21) with 400
        "waf.corp.example": [static(400, "<html><head><title>Request Rejected</title></head><body>The requested URL was "
                                         "rejected. Please consult with your administrator.<br><br>Your support ID is: "
                                         "4733284616283746361</body></html>\n", "text/html", rx=r"(!|%21)"), proxy()],
        # round 12: a zip that is small on the wire and 520 MiB once unpacked (go's limit is 500 MiB)
        "huge.corp.example": [proxy("huge")],
        # round 13: .zip redirected to a CDN host whose certificate expired (cdn-old., 127.0.0.47)
        "redirexp.corp.example": [dict(re=r"\.zip$", action="redirect", status=302,
                                       location="https://cdn-old.corp.example{path}"), proxy()],
        "cdn-old.corp.example": [proxy()],
        # round 14: the test-only dependency's .zip (corp.example/util) is missing from storage (404); the rest is served
        "testdep.corp.example": [static(404, "not found: corp.example/util@v1.0.0: zip file missing from storage\n",
                                        rx=r"^/corp\.example/util/@v/[^/]+\.zip$"), proxy()],
        # round 14: every proxy URL is redirected (302) to the SSO login page on another host (200 HTML there)
        "ssoredir.corp.example": [dict(re=r"^/", action="redirect", status=302,
                                       location="https://sso.corp.example/login?return=https%3A%2F%2Fssoredir.corp.example{path}")],
        # round 14: .mod answered 200 with an empty body (a zero-byte object in storage); .info and .zip fine
        # (kept for --exec; its recipe was dropped: go reports a go.mod checksum mismatch, see FINDINGS.md)
        "emptymod.corp.example": [static(200, "", rx=r"\.mod$"), proxy()],
        # round 14: @v/list empty, @latest names v1.0.0 of corp.example/retracted (which v1.1.0 retracts)
        "latestretracted.corp.example": [static(200, "", rx=r"^/corp\.example/retracted/@v/list$"),
                                         static(200, '{"Version":"v1.0.0","Time":"2024-01-01T00:00:00Z"}\n', "application/json",
                                                rx=r"^/corp\.example/retracted/@latest$"), proxy()],
        # round 14: a proxy that serves the checksum database too (supported: 200) but answers its lookups with 500
        "proxy-sumdb500.corp.example": [
            static(200, "", rx=r"^/sumdb/sum\.golang\.org/supported$"),
            static(500, "sumdb proxy: upstream sum.golang.org lookup failed: context deadline exceeded\n",
                   rx=r"^/sumdb/sum\.golang\.org/lookup/"),
            proxy()],
        # round 14: a caching proxy that lags: v1.1.0 is listed, but v1.1.0.info answers with v1.0.0's info
        "lagging.corp.example": [static(200, '{"Version":"v1.0.0","Time":"2024-01-01T00:00:00Z"}\n', "application/json",
                                        rx=r"/@v/v1\.1\.0\.info$"), proxy()],
        # round 15: a proxy that has golang.org/toolchain go1.99.0 for linux/amd64, but its .zip is a truncated upload
        # (a local-file-header signature, then text); .info and .mod are fine
        "toolchain.corp.example": [
            static(200, '{"Version":"v0.0.1-go1.99.0.linux-amd64","Time":"2024-01-01T00:00:00Z"}\n', "application/json",
                   rx=r"^/golang\.org/toolchain/@v/v0\.0\.1-go1\.99\.0\.linux-amd64\.info$"),
            static(200, "module golang.org/toolchain\n", rx=r"^/golang\.org/toolchain/@v/v0\.0\.1-go1\.99\.0\.linux-amd64\.mod$"),
            static(200, "PK\u0003\u0004" + "upload interrupted\n" * 40, "application/zip",
                   rx=r"^/golang\.org/toolchain/@v/v0\.0\.1-go1\.99\.0\.linux-amd64\.zip$"),
            proxy()],
        # round 16: .zip redirected (302) to a CDN host whose accept queue is full (synq., SYNs dropped)
        "redirsyn.corp.example": [dict(re=r"\.zip$", action="redirect", status=302,
                                       location="https://synq.corp.example{path}"), proxy()],
    }


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
def sh(*argv, check=True, **kw):
    return subprocess.run(argv, check=check, **kw)


def write(path, data, mode=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    if mode is not None:
        os.chmod(path, mode)


def rewrite_in_place(path, text):
    """Bind-mounted files must keep their inode: truncate + write."""
    with open(path, "r+") as f:
        f.seek(0)
        f.truncate()
        f.write(text)


def make_writable_and_remove(path):
    if not os.path.lexists(path):
        return
    for root, dirs, files in os.walk(path):
        for d in dirs:
            p = os.path.join(root, d)
            if not os.path.islink(p):
                os.chmod(p, 0o755)
    os.chmod(path, 0o755)
    shutil.rmtree(path)


def h1(files):
    """dirhash.Hash1 over {name: bytes}."""
    lines = "".join("%s  %s\n" % (hashlib.sha256(files[n]).hexdigest(), n) for n in sorted(files))
    return "h1:" + base64.b64encode(hashlib.sha256(lines.encode()).digest()).decode()


# --------------------------------------------------------------------------
# modules, go.sum, git repositories
# --------------------------------------------------------------------------
SUMS = {}  # (module, version) -> (zip h1, go.mod h1), from the "main" proxy tree


def pkgsrc(mod, body=None):
    name = mod.rstrip("/").split("/")[-1]
    if re.fullmatch(r"v[0-9]+", name):
        name = mod.split("/")[-2]
    return "package %s\n\n// Hello returns a greeting.\nfunc Hello() string {\n\treturn %s\n}\n" % (
        name, body or json.dumps("hello from " + mod))


LIBMOD = "module corp.example/lib\n\ngo 1.18\n"
UTILMOD = "module corp.example/util\n\ngo 1.18\n\nrequire corp.example/lib v1.0.0\n"
# (proxy tree, module, version, go.mod text, extra/replaced files); only "main" feeds go.sum
MODULES = [
    ("main", "corp.example/lib", "v1.0.0", LIBMOD, None),
    ("main", "corp.example/lib", "v1.1.0", LIBMOD, None),
    ("main", "corp.example/util", "v1.0.0", UTILMOD, None),
    ("partial", "corp.example/util", "v1.0.0", UTILMOD, None),
    ("main", "corp.example/retracted", "v1.0.0", "module corp.example/retracted\n\ngo 1.18\n", None),
    ("main", "corp.example/retracted", "v1.1.0",
     "module corp.example/retracted\n\ngo 1.18\n\nretract v1.0.0 // Hello() returns the wrong greeting; use v1.1.0\n", None),
    ("main", "corp.example/old", "v1.0.0",
     "// Deprecated: corp.example/old is unmaintained; use corp.example/lib instead.\nmodule corp.example/old\n\ngo 1.18\n", None),
    ("main", "corp.example/wrongpath", "v1.0.0", "module corp.example/other\n\ngo 1.18\n", None),
    ("main", "corp.example/tool", "v1.0.0", "module corp.example/tool\n\ngo 1.18\n", None),
    ("main", "corp.example/tool", "v2.0.0", "module corp.example/tool\n\ngo 1.18\n", None),
    ("main", "corp.example/hello", "v1.0.0", "module corp.example/hello\n\ngo 1.18\n",
     {"cmd/hello/main.go": "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hello\")\n}\n"}),
    # "re-tagged" lib: same version, different content
    # round 13: the module's go.mod spells its path with capitals
    ("main", "corp.example/caselib", "v1.0.0", "module corp.example/CaseLib\n\ngo 1.18\n", None),
    ("altered", "corp.example/lib", "v1.0.0", LIBMOD, {"lib.go": pkgsrc("corp.example/lib", '"hello from a re-tagged v1.0.0"')}),
]
# git repositories: name -> (module path, go.mod, tags)
REPOS = {
    "lib": ("git.corp.example/lib", "module git.corp.example/lib\n\ngo 1.18\n", ["v1.0.0", "v1.1.0"]),
    "private": ("git.corp.example/private", "module git.corp.example/private\n\ngo 1.18\n", ["v1.0.0"]),
    "renamed": ("git.corp.example/renamed", "module git.corp.example/newname\n\ngo 1.18\n", ["v1.0.0"]),
    "tool": ("git.corp.example/tool", "module git.corp.example/tool\n\ngo 1.18\n", ["v1.0.0", "v2.0.0"]),
    # served over git:// by git daemon (go-import meta of git.corp.example/gd-<name>)
    "gdlib": ("git.corp.example/gd-gdlib", "module git.corp.example/gd-gdlib\n\ngo 1.18\n", ["v1.0.0"]),
    # round 10: v1.0.0 is moved to a new commit after go.sum was written (see build_git)
    "moved": ("git.corp.example/moved", "module git.corp.example/moved\n\ngo 1.18\n", ["v1.0.0"]),
    # round 10: no tags, and the bare repository's HEAD names a branch that does not exist
    "headless": ("git.corp.example/headless", "module git.corp.example/headless\n\ngo 1.18\n", []),
    # round 11: http.uploadpack=false, so git http-backend answers 403 for git-upload-pack
    "locked": ("git.corp.example/locked", "module git.corp.example/locked\n\ngo 1.18\n", ["v1.0.0"]),
    # round 12: the release was tagged "1.0.0", without the v
    "notagv": ("git.corp.example/notagv", "module git.corp.example/notagv\n\ngo 1.18\n", ["1.0.0"]),
    # round 12: a submodule (vendor/sub) whose URL is on a host that does not resolve
    "submod": ("git.corp.example/submod", "module git.corp.example/submod\n\ngo 1.18\n", ["v1.0.0"]),
}


def module_files(mod, gomod, extra=None):
    files = {"go.mod": gomod.encode()}
    files[mod.split("/")[-1] + ".go"] = pkgsrc(mod).encode()
    for k, v in (extra or {}).items():
        files[k] = v.encode()
    return files


def repo_src(mod, i):
    return pkgsrc(mod) if i == 0 else pkgsrc(mod, json.dumps("hello again from " + mod))


def compute_sums():
    for tree, mod, ver, gomod, extra in MODULES:
        if tree == "main":
            files = module_files(mod, gomod, extra)
            prefix = "%s@%s/" % (mod, ver)
            SUMS[(mod, ver)] = (h1({prefix + n: d for n, d in files.items()}), h1({"go.mod": gomod.encode()}))
    for name, (mod, gomod, tags) in REPOS.items():
        for i, tag in enumerate(tags):
            prefix = "%s@%s/" % (mod, tag)
            files = {prefix + "go.mod": gomod.encode(), prefix + mod.split("/")[-1] + ".go": repo_src(mod, i).encode()}
            SUMS[(mod, tag)] = (h1(files), h1({"go.mod": gomod.encode()}))


def write_module(root, mod, ver, gomod, extra=None, t="2024-01-01T00:00:00Z", zip_as=None):
    """One version in a GOPROXY tree; zip_as puts the zip's files under another module path."""
    files = module_files(mod, gomod, extra)
    vdir = os.path.join(root, mod, "@v")
    os.makedirs(vdir, exist_ok=True)
    prefix = "%s@%s/" % (zip_as or mod, ver)
    with zipfile.ZipFile(os.path.join(vdir, ver + ".zip"), "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(files):
            z.writestr(zipfile.ZipInfo(prefix + name, (2024, 1, 1, 0, 0, 0)), files[name])
    write(os.path.join(vdir, ver + ".mod"), gomod)
    write(os.path.join(vdir, ver + ".info"), json.dumps({"Version": ver, "Time": t}) + "\n")
    lst = os.path.join(vdir, "list")
    old = open(lst).read().split() if os.path.exists(lst) else []
    write(lst, "".join(v + "\n" for v in sorted(set(old + [ver]))))
    write(os.path.join(root, mod, "@latest"), json.dumps({"Version": ver, "Time": t}) + "\n")


def build_modroots(base):
    roots = {k: os.path.join(base, "modroot", k) for k in ("main", "partial", "altered", "empty", "casefold")}
    for r in roots.values():
        os.makedirs(r, exist_ok=True)
    for tree, mod, ver, gomod, extra in MODULES:
        write_module(roots[tree], mod, ver, gomod, extra)
    write_module(roots["casefold"], "corp.example/lib", "v1.0.0", LIBMOD, zip_as="corp.example/Lib")
    build_huge(roots)
    return roots


def build_huge(roots):
    """round 12: corp.example/lib v1.0.0 whose zip adds data/zeros.bin, 520 MiB of zeros (about 0.5 MiB deflated)."""
    import zlib
    r = roots.setdefault("huge", os.path.join(os.path.dirname(roots["main"]), "huge"))
    write_module(r, "corp.example/lib", "v1.0.0", LIBMOD)
    zpath = os.path.join(r, "corp.example/lib/@v/v1.0.0.zip")
    with zipfile.ZipFile(zpath, "a", zipfile.ZIP_DEFLATED, allowZip64=True) as z:
        info = zipfile.ZipInfo("corp.example/lib@v1.0.0/data/zeros.bin", (2024, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w", force_zip64=True) as f:
            chunk = b"\0" * (1 << 20)
            for _ in range(520):
                f.write(chunk)


def build_git(base):
    gitroot = os.path.join(base, "gitroot")
    os.makedirs(gitroot)
    env = dict(os.environ, GIT_AUTHOR_NAME="Dev", GIT_AUTHOR_EMAIL="dev@corp.example",
               GIT_COMMITTER_NAME="Dev", GIT_COMMITTER_EMAIL="dev@corp.example",
               GIT_AUTHOR_DATE="2024-01-01T00:00:00Z", GIT_COMMITTER_DATE="2024-01-01T00:00:00Z",
               GIT_CONFIG_NOSYSTEM="1", HOME=base)
    for name, (mod, gomod, tags) in REPOS.items():
        work = os.path.join(base, "gitwork", name)
        os.makedirs(work)
        sh("git", "-c", "init.defaultBranch=main", "init", "-q", work, env=env)
        for i, tag in enumerate(tags or [None]):
            write(os.path.join(work, "go.mod"), gomod)
            write(os.path.join(work, mod.split("/")[-1] + ".go"), repo_src(mod, i))
            if name == "submod":
                write(os.path.join(work, ".gitmodules"),
                      '[submodule "vendor/sub"]\n\tpath = vendor/sub\n\turl = https://gitold.corp.example/sub.git\n')
            sh("git", "-C", work, "add", "-A", env=env)
            if name == "submod":  # a gitlink to a commit this repository does not have
                sh("git", "-C", work, "update-index", "--add", "--cacheinfo",
                   "160000,8f2d3a1c5b7e9d0f4a6c8e1b3d5f7a9c0e2b4d6f,vendor/sub", env=env)
            sh("git", "-C", work, "commit", "-q", "-m", "release %s" % (tag or "snapshot"), env=env)
            if tag:
                sh("git", "-C", work, "tag", tag, env=env)
        bare = os.path.join(gitroot, name + ".git")
        sh("git", "clone", "-q", "--bare", work, bare, env=env)
        if name == "moved":
            # the maintainer fixes a bug and force-moves the published tag (SUMS keep the old content)
            write(os.path.join(work, "moved.go"), repo_src(mod, 1))
            sh("git", "-C", work, "commit", "-q", "-am", "fix greeting", env=env)
            sh("git", "-C", work, "tag", "-f", "v1.0.0", env=env, stdout=subprocess.DEVNULL)
            sh("git", "-C", work, "push", "-q", "-f", bare, "refs/tags/v1.0.0", env=env)
        if name == "headless":
            # the default branch was renamed on the server; HEAD still names the old one
            sh("git", "-C", bare, "symbolic-ref", "HEAD", "refs/heads/trunk", env=env)
        if name == "locked":
            sh("git", "-C", bare, "config", "http.uploadpack", "false", env=env)
    # round 14: `nomod`: the tag v2.0.0 sits on a commit without go.mod; the go.mod (module .../nomod/v2) came later
    work = os.path.join(base, "gitwork", "nomod")
    os.makedirs(work)
    sh("git", "-c", "init.defaultBranch=main", "init", "-q", work, env=env)
    write(os.path.join(work, "nomod.go"), pkgsrc("git.corp.example/nomod"))
    sh("git", "-C", work, "add", "-A", env=env)
    sh("git", "-C", work, "commit", "-q", "-m", "release v2.0.0", env=env)
    sh("git", "-C", work, "tag", "v2.0.0", env=env)
    write(os.path.join(work, "go.mod"), "module git.corp.example/nomod/v2\n\ngo 1.18\n")
    sh("git", "-C", work, "add", "-A", env=env)
    sh("git", "-C", work, "commit", "-q", "-m", "add go.mod", env=env)
    sh("git", "clone", "-q", "--bare", work, os.path.join(gitroot, "nomod.git"), env=env)
    return gitroot


compute_sums()


def gosum(mods):
    out = []
    for mod, ver in mods:
        z, m = SUMS[(mod, ver)]
        out.append("%s %s %s\n" % (mod, ver, z))
        out.append("%s %s/go.mod %s\n" % (mod, ver, m))
    return "".join(sorted(out))


DEPS = {("corp.example/util", "v1.0.0"): [("corp.example/lib", "v1.0.0")]}


def project(requires=(("corp.example/lib", "v1.0.0"),), imports=None, sum_=True, go="1.18",
            module="example.com/app", extra_gomod="", tests=None, main_body=None):
    """A user's main module that imports the required packages."""
    imports = [m for m, _ in requires] if imports is None else imports
    gomod = "module %s\n\ngo %s\n" % (module, go)
    if requires:
        gomod += "\nrequire (\n" + "".join("\t%s %s\n" % r for r in requires) + ")\n"
    gomod += extra_gomod
    files = {"go.mod": gomod}
    names = [m.split("/")[-1] for m in imports]
    body = main_body or "".join("\tfmt.Println(%s.Hello())\n" % n for n in names) or '\tfmt.Println("hello")\n'
    files["main.go"] = "package main\n\nimport (\n\t\"fmt\"\n%s)\n\nfunc main() {\n%s}\n" % (
        "".join('\n\t"%s"\n' % m for m in imports), body)
    if tests:
        files["main_test.go"] = tests
    if sum_ and requires:
        closure = []
        for r in requires:
            closure.append(r)
            closure += DEPS.get(r, [])
        files["go.sum"] = gosum(sorted(set(c for c in closure if c in SUMS)))
    return files


# --------------------------------------------------------------------------
# PKI
# --------------------------------------------------------------------------
def make_pki(d):
    os.makedirs(d)
    run = lambda *a: sh("openssl", *a, cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for ca, cn in (("ca", "Corp Example Root CA"), ("otherca", "Netskope Intercept CA")):
        run("req", "-x509", *ec, "-keyout", ca + ".key", "-out", ca + ".pem", "-days", "3650", "-subj", "/O=Corp/CN=" + cn,
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    write(os.path.join(d, "ca.cnf"), textwrap.dedent("""\
        [ ca ]
        default_ca = ca_default
        [ ca_default ]
        dir = .
        database = index.txt
        new_certs_dir = .
        serial = serial
        default_md = sha256
        policy = policy_any
        unique_subject = no
        email_in_dn = no
        [ policy_any ]
        commonName = supplied
        """))
    write(os.path.join(d, "index.txt"), "")
    write(os.path.join(d, "serial"), "1000\n")

    def leaf(name, sans, ca="ca", start=None, end=None):
        write(os.path.join(d, name + ".ext"),
              "subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n" % ",".join(sans))
        run("req", "-new", *ec, "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + sans[0].split(":", 1)[1])
        if start:
            run("ca", "-batch", "-config", "ca.cnf", "-cert", ca + ".pem", "-keyfile", ca + ".key", "-in", name + ".csr",
                "-out", name + ".pem", "-startdate", start, "-enddate", end, "-extfile", name + ".ext", "-notext")
        else:
            run("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key", "-CAcreateserial",
                "-days", "397", "-sha256", "-extfile", name + ".ext", "-out", name + ".pem")
    leaf("main", ["DNS:*.corp.example", "DNS:corp.example", "DNS:sum.golang.org"])
    # an intermediate CA under the root; the chain.corp.example server sends only its leaf
    run("req", "-new", *ec, "-keyout", "inter.key", "-out", "inter.csr", "-subj", "/O=Corp/CN=Corp Example Issuing CA 2")
    write(os.path.join(d, "inter.ext"), "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n")
    run("x509", "-req", "-in", "inter.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1825",
        "-sha256", "-extfile", "inter.ext", "-out", "inter.pem")
    leaf("chainleaf", ["DNS:chain.corp.example"], ca="inter")
    # round 11: a second intermediate that expired 2024-01-01 (its leaf is valid), sent with the leaf
    run("req", "-new", *ec, "-keyout", "interold.key", "-out", "interold.csr", "-subj", "/O=Corp/CN=Corp Example Issuing CA 1")
    run("ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key", "-in", "interold.csr", "-out", "interold.pem",
        "-startdate", "20220101000000Z", "-enddate", "20240101000000Z", "-extfile", "inter.ext", "-notext")
    leaf("expinterleaf", ["DNS:expinter.corp.example"], ca="interold")
    with open(os.path.join(d, "expinterchain.pem"), "w") as f:
        f.write(open(os.path.join(d, "expinterleaf.pem")).read() + open(os.path.join(d, "interold.pem")).read())
    leaf("iponly", ["IP:127.0.0.37"])
    # round 11: an RSA leaf for a server that only offers RSA key exchange
    write(os.path.join(d, "rsakex.ext"), "subjectAltName=DNS:rsakex.corp.example\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n")
    run("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "rsakex.key", "-out", "rsakex.csr", "-subj", "/CN=rsakex.corp.example")
    run("x509", "-req", "-in", "rsakex.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "397", "-sha256",
        "-extfile", "rsakex.ext", "-out", "rsakex.pem")
    leaf("mitm", ["DNS:*.corp.example"], ca="otherca")
    # what an intercepting proxy mints on the fly for the checksum database
    leaf("mitmsum", ["DNS:sum.golang.org"], ca="otherca")
    leaf("expired", ["DNS:expired.corp.example"], start="20230101000000Z", end="20240101000000Z")
    leaf("future", ["DNS:future.corp.example"], start="20300101000000Z", end="20310101000000Z")
    leaf("wronghost", ["DNS:legacy-proxy.corp.internal", "DNS:www.corp.internal"])
    # round 13: an expired certificate for a CDN host and for the checksum database's name
    leaf("expiredsum", ["DNS:cdn-old.corp.example", "DNS:sum.golang.org"], start="20230101000000Z", end="20240101000000Z")
    # round 16: the corp wildcard certificate, expired 2024-01-01 (names right, dates wrong)
    leaf("expiredwild", ["DNS:*.corp.example", "DNS:corp.example"], start="20230101000000Z", end="20240101000000Z")
    # round 14: a leaf with the host name in its CN only, no subjectAltName (for openssl s_server)
    write(os.path.join(d, "cnonly.ext"), "extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n")
    run("req", "-new", *ec, "-keyout", "cnonly.key", "-out", "cnonly.csr", "-subj", "/CN=osrv.corp.example")
    run("x509", "-req", "-in", "cnonly.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "397",
        "-sha256", "-extfile", "cnonly.ext", "-out", "cnonly.pem")
    run("req", "-x509", *ec, "-keyout", "selfsigned.key", "-out", "selfsigned.pem", "-days", "365",
        "-subj", "/CN=selfsigned.corp.example", "-addext", "subjectAltName=DNS:selfsigned.corp.example")
    certs = {n: {"cert": os.path.join(d, n + ".pem"), "key": os.path.join(d, n + ".key")}
             for n in ("main", "mitm", "mitmsum", "expired", "expiredsum", "future", "wronghost", "selfsigned", "chainleaf", "iponly", "rsakex", "cnonly",
                       "expiredwild")}
    certs["expinter"] = {"cert": os.path.join(d, "expinterchain.pem"), "key": os.path.join(d, "expinterleaf.key")}
    return certs


# --------------------------------------------------------------------------
# cases
# --------------------------------------------------------------------------
@dataclasses.dataclass
class Case:
    name: str
    label: str
    origin: str
    args: list
    versions: tuple = ("1.26",)
    env: dict = dataclasses.field(default_factory=dict)   # None value = unset
    files: Optional[dict] = None                          # default: project()
    user: str = "root"                                    # or "nobody"
    wrap: tuple = ()                                      # e.g. ("timeout", "5")
    prep: Optional[Callable] = None                       # prep(run) before go runs
    hosts: dict = dataclasses.field(default_factory=dict) # name -> ip (None drops it)
    resolv: Optional[str] = None
    root_owned: tuple = ()                                # dirs left to root for nobody runs
    show: tuple = ()                                      # extra env keys for the case file
    cwd: str = "work"
    limit: int = 90                                       # hard safety limit (seconds)
    needs: tuple = ()                                     # e.g. ("toxiproxy",): skipped when not given
    shell: Optional[str] = None                           # round 13: run `bash -c SHELL` (a CI step) instead of go ARGS


SHOW_ALWAYS = ("GOPROXY", "GONOPROXY", "GOSUMDB", "GONOSUMDB", "GOPRIVATE", "GOINSECURE", "GOFLAGS",
               "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "NETRC")


class Run:
    """One go invocation's sandbox."""

    def __init__(self, world, case, gover, gobin):
        self.world, self.case, self.gover = world, case, gover
        self.gobin = gobin
        self.dir = tempfile.mkdtemp(prefix="run-", dir=world.base)
        os.chmod(self.dir, 0o755)
        self.p = {k: os.path.join(self.dir, k) for k in ("home", "gopath", "modcache", "gocache", "work", "tmp")}
        for d in self.p.values():
            os.makedirs(d)
        # go >= 1.23 keeps telemetry counters under $HOME/.config and may leave a child
        # process behind that writes there after go exits; switch it off like `go telemetry off`
        write(os.path.join(self.p["home"], ".config", "go", "telemetry", "mode"), "off 2024-01-01\n")
        self.cleanups = []
        self.env = {
            "PATH": "%s:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" % os.path.dirname(gobin),
            "HOME": self.p["home"], "GOPATH": self.p["gopath"], "GOMODCACHE": self.p["modcache"],
            "GOCACHE": self.p["gocache"], "TMPDIR": self.p["tmp"], "GOENV": "off", "GOTOOLCHAIN": "local",
            "GOSUMDB": "off", "GOPROXY": "https://proxy.corp.example", "LANG": "C.UTF-8",
            "GIT_CONFIG_NOSYSTEM": "1", "USER": "nobody" if case.user == "nobody" else "root",
        }
        self.env.update(world.extra_env)
        for k, v in case.env.items():
            if isinstance(v, str) and v.startswith("vkey:"):
                v = VKEYS[v[len("vkey:"):]]   # round 11: GOSUMDB=<gosrv database's verifier key>
            v = v.format(**self.p) if isinstance(v, str) else v
            if v is None:
                self.env.pop(k, None)
            else:
                self.env[k] = v
        files = case.files if case.files is not None else project()
        for name, data in files.items():
            write(os.path.join(self.p["work"], name), data.format(**self.p) if "{home}" in data else data)

    def go(self, *args, user="root", check=True, env=None):
        """A helper go run (prep), never recorded."""
        e = dict(self.env, **(env or {}))
        argv = [self.gobin if user == "root" else self.world.nobody_go[self.gobin], *args]
        if user == "nobody":
            argv = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups", "--"] + argv
        p = subprocess.run(argv, cwd=self.p["work"], env=e, capture_output=True, text=True, timeout=120)
        if check and p.returncode:
            raise RuntimeError("prep go %s failed: %s" % (" ".join(args), p.stderr))
        return p

    def chown_tree(self, path, uid):
        for root, dirs, files in os.walk(path):
            for n in dirs + files:
                os.lchown(os.path.join(root, n), uid, uid)
        os.lchown(path, uid, uid)

    def execute(self):
        c = self.case
        if c.user == "nobody":
            for k, d in self.p.items():
                if k not in c.root_owned:
                    self.chown_tree(d, NOBODY)
        if c.prep:
            c.prep(self)
        gobin = self.gobin if c.user == "root" else self.world.nobody_go[self.gobin]
        gobin = getattr(self, "gobin_override", None) or gobin   # round 11: go run from another path (prep)
        self.env["PATH"] = self.env["PATH"].replace(os.path.dirname(self.gobin), os.path.dirname(gobin), 1)
        argv = list(c.wrap) + ([gobin] + list(c.args) if c.shell is None else ["bash", "-c", c.shell])
        if c.user == "nobody":
            argv = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups", "--"] + argv
        cwd = self.p[c.cwd] if c.cwd in self.p else c.cwd
        t0 = time.time()
        try:
            p = subprocess.Popen(argv, cwd=cwd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 start_new_session=True)
            self.cleanups.append(lambda: kill_session(p.pid))
            out, err = p.communicate(timeout=c.limit)
            rc = p.returncode
            if rc < 0 and c.wrap:
                # `timeout -s KILL` signals its own process group and so dies of SIGKILL itself;
                # a shell reports that as 128+9 = 137, which is what the user saw in $?
                rc = 128 - rc
        except subprocess.TimeoutExpired as e:  # our own safety net; never expected
            kill_session(p.pid)
            raise RuntimeError("case %s exceeded the %ss safety limit" % (c.name, c.limit)) from e
        self.elapsed = time.time() - t0
        return rc, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")

    def close(self):
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception as e:  # keep cleaning
                print("cleanup warning: %r" % e, file=sys.stderr)
        make_writable_and_remove(self.dir)


def kill_session(sid):
    """Kill whatever go left behind in its session (it ran with start_new_session)."""
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if os.getsid(int(pid)) == sid:
                    os.kill(int(pid), 9)
            except (ProcessLookupError, PermissionError):
                pass


def txt_section(name, text):
    if text and not text.endswith("\n"):
        text += "\n"  # txtar cannot represent a missing final newline
    return "-- %s --\n%s" % (name, text)


def case_file(case, goversion, env, rc, out, err):
    if rc < 0:
        exit_s = "signal %d" % -rc
    else:
        exit_s = str(rc)
    keys = [k for k in SHOW_ALWAYS if k in env] + [k for k in case.show if k in env and k not in SHOW_ALWAYS]
    if "GOTOOLCHAIN" in case.env and "GOTOOLCHAIN" not in keys:
        keys.append("GOTOOLCHAIN")
    origin = "outside: " + case.origin + (", as nobody" if case.user == "nobody" else "")
    command = " ".join(list(case.wrap) + (["go"] + [shlex.quote(a) for a in case.args] if case.shell is None else [case.shell]))
    head = "label: %s\ngo: %s\norigin: %s\ncommand: %s\nexit: %s\n" % (case.label, goversion, origin, command, exit_s)
    return head + txt_section("env", "".join("%s=%s\n" % (k, env[k]) for k in keys)) + \
        txt_section("stderr", err) + txt_section("stdout", out)


# --------------------------------------------------------------------------
# the world: namespace, files, servers
# --------------------------------------------------------------------------
class World:
    def __init__(self, gos, toxiproxy=None):
        self.toxiproxy = toxiproxy
        self.base = tempfile.mkdtemp(prefix="mc-outside-", dir="/tmp")
        os.chmod(self.base, 0o755)
        self.gorootdir = tempfile.mkdtemp(prefix="mc-outside-goroots-", dir="/tmp")
        os.chmod(self.gorootdir, 0o755)
        self.mounts, self.procs = [], []
        self.groups = []  # processes started in their own session: their whole group is killed
        self.extra_env = {}
        self.gos = gos
        self.nobody_go = {}
        self.sshd = None   # round 14: set when OpenSSH's sshd runs (cases that need it are skipped otherwise)

    def mount_bind(self, src, dst, ro=False):
        sh("mount", "--bind", src, dst)
        self.mounts.append(dst)
        if ro:
            sh("mount", "-o", "remount,bind,ro", dst)

    def hosts_text(self, overrides=None):
        names = {}
        for ip, ns in HOSTS.items():
            for n in ns:
                names[n] = ip
        for n, ip in (overrides or {}).items():
            if ip is None:
                names.pop(n, None)
            else:
                names[n] = ip
        byip = {}
        for n, ip in names.items():
            byip.setdefault(ip, []).append(n)
        return "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" + "".join(
            "%s\t%s\n" % (ip, " ".join(ns)) for ip, ns in byip.items())

    def set_net(self, hosts=None, resolv=None):
        rewrite_in_place(self.etc_hosts, self.hosts_text(hosts))
        rewrite_in_place(self.etc_resolv, resolv or DEFAULT_RESOLV)

    def setup(self):
        sh("ip", "link", "set", "lo", "up")
        sh("ip", "route", "add", "unreachable", "198.51.100.0/24")
        sh("ip", "route", "add", "prohibit", "203.0.113.0/24")
        etc = os.path.join(self.base, "etc")
        os.makedirs(etc)
        self.etc_hosts, self.etc_resolv = os.path.join(etc, "hosts"), os.path.join(etc, "resolv.conf")
        write(self.etc_hosts, self.hosts_text(), 0o644)
        write(self.etc_resolv, DEFAULT_RESOLV, 0o644)
        self.mount_bind(self.etc_hosts, "/etc/hosts")
        self.mount_bind(self.etc_resolv, "/etc/resolv.conf")
        certs = make_pki(os.path.join(self.base, "pki"))
        trust = os.path.join(etc, "ssl-certs")
        os.makedirs(trust)
        shutil.copy(os.path.join(self.base, "pki", "ca.pem"), os.path.join(trust, "ca-certificates.crt"))
        os.chmod(os.path.join(self.base, "pki"), 0o755)
        if os.path.isdir("/etc/ssl/certs"):
            self.mount_bind(trust, "/etc/ssl/certs")  # the machine's trust store = our corp CA only
        else:
            self.extra_env.update(SSL_CERT_FILE=os.path.join(trust, "ca-certificates.crt"),
                                  GIT_SSL_CAINFO=os.path.join(trust, "ca-certificates.crt"))
        roots = build_modroots(self.base)
        gitroot = build_git(self.base)
        self.gitroot = gitroot   # round 13: preps read commit ids from it
        cfg = {
            "log": os.path.join(self.base, "servers.log"),
            "modroots": roots, "gitroot": gitroot, "vhosts": vhost_table(),
            "dns": dict(DNS, ip=DNS_IP),
            "listeners": [
                dict(ip=VHOST_IP, port=443, mode="http", tls=certs["main"], vhost="proxy.corp.example"),
                dict(ip=VHOST_IP, port=80, mode="http", vhost="proxy.corp.example"),
                dict(ip="127.0.0.30", port=443, mode="http", tls=certs["selfsigned"], vhost="proxy.corp.example"),
                dict(ip="127.0.0.31", port=443, mode="http", tls=certs["mitm"], vhost="git.corp.example"),
                dict(ip="127.0.0.32", port=443, mode="http", tls=certs["expired"], vhost="proxy.corp.example"),
                dict(ip="127.0.0.33", port=443, mode="http", tls=certs["future"], vhost="proxy.corp.example"),
                dict(ip="127.0.0.34", port=443, mode="http", tls=certs["wronghost"], vhost="proxy.corp.example"),
                dict(ip="127.0.0.35", port=443, mode="http", tls=certs["mitmsum"], vhost="sum.golang.org"),
                dict(ip="127.0.0.36", port=443, mode="http", tls=certs["chainleaf"], vhost="proxy.corp.example"),
                dict(ip="127.0.0.37", port=443, mode="http", tls=certs["iponly"], vhost="proxy.corp.example"),
                dict(ip="127.0.0.38", port=443, mode="http", tls=certs["expinter"], vhost="proxy.corp.example"),
                dict(ip="127.0.0.39", port=443, mode="http", vhost="proxy.corp.example",
                     tls=dict(certs["main"], max_version="TLSv1", ciphers="DEFAULT:@SECLEVEL=0")),
                dict(ip="127.0.0.46", port=443, mode="http", vhost="proxy.corp.example",
                     tls=dict(certs["rsakex"], max_version="TLSv1_2", ciphers="AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA")),
                dict(ip="127.0.0.47", port=443, mode="http", tls=certs["expiredsum"], vhost="sum.golang.org"),
                dict(ip="127.0.0.69", port=443, mode="backlog_full"),
                dict(ip="127.0.0.75", port=443, mode="http", tls=certs["expiredwild"], vhost="proxy.corp.example"),
                dict(ip="127.0.0.40", port=443, mode="silent"),
                dict(ip="127.0.0.40", port=80, mode="silent"),
                dict(ip="127.0.0.41", port=443, mode="tls_silent", tls=certs["main"]),
                dict(ip="127.0.0.42", port=443, mode="rst"),
                dict(ip="127.0.0.42", port=80, mode="rst"),
                dict(ip="127.0.0.43", port=443, mode="tls_rst", tls=certs["main"]),
                dict(ip="127.0.0.50", port=3128, mode="connect", status=407,
                     body="<html><body><h1>ERROR: Cache Access Denied</h1></body></html>\n"),
                dict(ip="127.0.0.51", port=3128, mode="connect", status=403,
                     body="<html><body><h1>ERROR: Access Denied</h1><p>Policy: GitHub and proxy hosts are blocked.</p></body></html>\n"),
                dict(ip="127.0.0.55", port=3128, mode="connect", status=200),
                dict(ip="127.0.0.56", port=3128, mode="connect", after_connect="close"),
                dict(ip="127.0.0.57", port=3128, mode="connect", after_connect="drop_tunnel"),
                dict(ip="127.0.0.54", port=3128, mode="connect", status=200, auth={"user": "ci-bot", "pass": "Winter2025!"},
                     body="<html><body><h1>ERROR: Cache Access Denied</h1></body></html>\n"),
                dict(ip="127.0.0.58", port=1080, mode="socks", rep=2),
            ],
        }
        cfgpath = os.path.join(self.base, "servers.json")
        write(cfgpath, json.dumps(cfg, indent=1))
        p = subprocess.Popen([sys.executable, os.path.join(HERE, "servers.py"), cfgpath],
                             stdout=subprocess.PIPE, stderr=open(os.path.join(self.base, "servers.err"), "w"))
        self.procs.append(p)
        if p.stdout.readline().strip() != b"READY":
            raise RuntimeError("servers.py did not start: " + open(os.path.join(self.base, "servers.err")).read())
        # git daemon for git:// URLs (only the repositories under gitroot; no "missing" one).
        # `git daemon` runs git-daemon as a child, so killing `git` would leave the daemon
        # running: start the real binary in its own session and kill that whole group.
        gitd = os.path.join(subprocess.run(["git", "--exec-path"], capture_output=True, text=True,
                                           check=True).stdout.strip(), "git-daemon")
        gd = subprocess.Popen([gitd, "--reuseaddr", "--export-all", "--base-path=" + gitroot,
                               "--listen=127.0.0.60", "--port=9418", gitroot], start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.base, "git-daemon.err"), "w"))
        self.groups.append(gd)
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.60", 9418)) == 0:
                    break
            time.sleep(0.05)
        # round 10: servers that are not servers.py. A stock `python3 -m http.server` over the GOPROXY
        # tree (its own 404 page, application/octet-stream for .info/.mod), and gosrv/main.go (Go net/http)
        hs = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.62", "--directory", roots["main"], "8000"],
                              start_new_session=True, stdout=subprocess.DEVNULL,
                              stderr=open(os.path.join(self.base, "http-server.err"), "w"))
        self.groups.append(hs)
        gosrv = self.build_gosrv()
        # round 11: checksum-database records for gosrv and their verifier keys (GOSUMDB values)
        sumdir = os.path.join(self.base, "sumdb")
        zh, mh = SUMS[("corp.example/lib", "v1.0.0")]
        for host in SUMDB_HOSTS:
            z = "h1:Lp0K4zPjVUzs2RWg5ABhl7NQxWyJdlpjgSrw8YFu2vQ=" if host == "sumdb-bad.corp.example" else zh
            write(os.path.join(sumdir, host, "corp.example", "lib@v1.0.0"),
                  "corp.example/lib v1.0.0 %s\ncorp.example/lib v1.0.0/go.mod %s\n" % (z, mh))
            VKEYS[host] = subprocess.run([gosrv, "-vkey", host], capture_output=True, text=True, check=True).stdout.strip()
        gs = subprocess.Popen([gosrv, "-listen", "127.0.0.63:443", "-cert", certs["main"]["cert"], "-key", certs["main"]["key"],
                               "-root", roots["main"], "-sumdb", sumdir, "-listen2", "127.0.0.61:443"],
                              start_new_session=True, stdout=subprocess.DEVNULL,
                              stderr=open(os.path.join(self.base, "gosrv.err"), "w"))
        self.groups.append(gs)
        for addr in (("127.0.0.62", 8000), ("127.0.0.63", 443), ("127.0.0.61", 443)):
            for _ in range(200):
                with socket.socket() as probe:
                    if probe.connect_ex(addr) == 0:
                        break
                time.sleep(0.05)
            else:
                raise RuntimeError("server on %s:%d did not start" % addr)
        # round 14: a stock `openssl s_server -WWW` over the GOPROXY tree, its certificate naming the host in the CN only
        os_ = subprocess.Popen(["openssl", "s_server", "-quiet", "-accept", "127.0.0.70:443", "-cert", certs["cnonly"]["cert"],
                                "-key", certs["cnonly"]["key"], "-WWW"], cwd=roots["main"], start_new_session=True,
                               stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                               stderr=open(os.path.join(self.base, "s_server.err"), "w"))
        self.groups.append(os_)
        for _ in range(200):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.70", 443)) == 0:
                    break
            time.sleep(0.05)
        else:
            raise RuntimeError("openssl s_server did not start")
        if self.toxiproxy:
            self.start_toxiproxy()
        sshd = shutil.which("sshd") or next((p for p in ("/usr/sbin/sshd",) if os.path.exists(p)), None)
        if sshd:
            self.start_sshd(sshd)
        # GOROOTs that nobody cannot read (e.g. under /root) are bind-mounted read-only elsewhere
        for gobin in self.gos:
            probe = subprocess.run(["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups", "--",
                                    gobin, "env", "GOROOT"], capture_output=True, env={"GOENV": "off", "HOME": "/", "PATH": "/usr/bin:/bin"})
            if probe.returncode == 0:
                self.nobody_go[gobin] = gobin
                continue
            goroot = subprocess.run([gobin, "env", "GOROOT"], capture_output=True, text=True,
                                    env={"GOENV": "off", "HOME": "/", "PATH": "/usr/bin:/bin"}, check=True).stdout.strip()
            dst = os.path.join(self.gorootdir, "go%d" % len(self.nobody_go))
            os.makedirs(dst)
            self.mount_bind(goroot, dst, ro=True)
            self.nobody_go[gobin] = os.path.join(dst, os.path.relpath(gobin, goroot))

    def start_toxiproxy(self):
        """Shopify's toxiproxy-server (--toxiproxy), one proxy per TOXICS entry, configured through its API."""
        import urllib.request
        tp = subprocess.Popen([self.toxiproxy, "-host", TOXI_API[0], "-port", str(TOXI_API[1]), "-seed", "1"],
                              start_new_session=True, stdout=subprocess.DEVNULL,
                              stderr=open(os.path.join(self.base, "toxiproxy.err"), "w"))
        self.groups.append(tp)
        for _ in range(200):
            with socket.socket() as probe:
                if probe.connect_ex(TOXI_API) == 0:
                    break
            time.sleep(0.05)
        else:
            raise RuntimeError("toxiproxy did not start")

        def post(path, obj):
            req = urllib.request.Request("http://%s:%d%s" % (TOXI_API + (path,)), data=json.dumps(obj).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
            with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=10) as r:
                r.read()
        for name, (ip, toxic) in TOXICS.items():
            post("/proxies", {"name": name, "listen": ip + ":443", "upstream": VHOST_IP + ":443"})
            post("/proxies/%s/toxics" % name, dict(toxic, stream="downstream", name=toxic["type"]))

    def start_sshd(self, sshd):
        """round 14: OpenSSH's sshd on 127.0.0.73:22 with a host key made here; it accepts public keys only and
        authorizes none (AuthorizedKeysFile none), so every client gets `Permission denied (publickey)`. Its
        privilege-separation directory /run/sshd lives on a tmpfs mounted over /run inside this mount namespace."""
        d = os.path.join(self.base, "sshd")
        os.makedirs(d)
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "gitssh.corp.example", "-f", os.path.join(d, "host"))
        write(os.path.join(d, "sshd_config"), "ListenAddress 127.0.0.73:22\nHostKey %s\nPidFile none\nUsePAM no\n"
              "AuthorizedKeysFile none\nPubkeyAuthentication yes\nPasswordAuthentication no\n"
              "KbdInteractiveAuthentication no\nStrictModes no\n" % os.path.join(d, "host"))
        sh("mount", "-t", "tmpfs", "-o", "mode=0755,size=1m", "tmpfs", "/run")
        self.mounts.append("/run")
        os.makedirs("/run/sshd", mode=0o755)
        p = subprocess.Popen([sshd, "-D", "-e", "-f", os.path.join(d, "sshd_config")], start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.base, "sshd.err"), "w"))
        self.groups.append(p)
        for _ in range(200):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.73", 22)) == 0:
                    break
            time.sleep(0.05)
        else:
            raise RuntimeError("sshd did not start: " + open(os.path.join(self.base, "sshd.err")).read())
        self.sshd = sshd

    def build_gosrv(self):
        """Build gosrv/main.go with the oldest --go given (Debian's go1.19 ships a compiled std: fast)."""
        gobin = min(self.gos, key=lambda g: [int(x) for x in re.findall(r"\d+", go_version(g))[:2]])
        d = os.path.join(self.base, "gosrv")
        write(os.path.join(d, "go.mod"), "module gosrv\n\ngo 1.18\n")
        shutil.copy(os.path.join(HERE, "gosrv", "main.go"), os.path.join(d, "main.go"))
        env = {"PATH": "/usr/bin:/bin", "HOME": d, "GOPATH": os.path.join(d, "gopath"), "GOCACHE": os.path.join(d, "cache"),
               "GOENV": "off", "GOFLAGS": "-modcacherw", "GOPROXY": "off", "GOTOOLCHAIN": "local", "CGO_ENABLED": "0"}
        write(os.path.join(d, ".config", "go", "telemetry", "mode"), "off 2024-01-01\n")
        sh(gobin, "build", "-o", os.path.join(d, "gosrv"), ".", cwd=d, env=env)
        return os.path.join(d, "gosrv")

    def close(self):
        for p in self.groups:
            try:
                os.killpg(p.pid, 9)
            except ProcessLookupError:
                pass
            p.wait()
        for p in self.procs:
            p.kill()
            p.wait()
        for m in reversed(self.mounts):
            subprocess.run(["umount", m], check=False)
        for d in os.listdir(self.gorootdir):
            os.rmdir(os.path.join(self.gorootdir, d))  # only empty mount points; never recursive
        os.rmdir(self.gorootdir)
        make_writable_and_remove(self.base)


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------
def go_version(gobin):
    return subprocess.run([gobin, "env", "GOVERSION"], capture_output=True, text=True, check=True,
                          env={"GOENV": "off", "HOME": "/", "PATH": "/usr/bin:/bin", "GOTOOLCHAIN": "local"}).stdout.strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--go", action="append", required=True, help="a go binary (repeatable)")
    ap.add_argument("--out", required=True, help="corpus directory (gets goX.Y/<label>/<name>.txt)")
    ap.add_argument("--only", help="regex on label/name: capture only matching cases")
    ap.add_argument("--exec", metavar="BASH", help="debug: run BASH inside the fake world, in a fresh sandbox "
                    "($GO1_26 etc. name the go binaries; cwd holds the default project), print its output, capture nothing")
    ap.add_argument("--keep-servers-log", help="copy the servers' request log here at the end")
    ap.add_argument("--toxiproxy", help="Shopify toxiproxy-server binary (cmd/server of github.com/Shopify/toxiproxy/v2); "
                    "cases that need it are skipped without it")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("capture.py must run as root (it uses unshare, mount, setpriv)")
    gos = [os.path.abspath(g) for g in a.go]
    out = os.path.abspath(a.out)
    if os.environ.get(NS_MARK) != "1":
        # re-exec inside a fresh network + mount namespace: nothing can reach a real network
        os.execvpe("unshare", ["unshare", "--net", "--mount", "--propagation", "private", "--fork", "--",
                               sys.executable, os.path.abspath(__file__)] + sys.argv[1:], dict(os.environ, **{NS_MARK: "1"}))
    versions = {}
    for g in gos:
        v = go_version(g)
        versions[".".join(v[2:].split(".")[:2])] = (g, v)
    selected = [c for c in CASES if not a.only or re.search(a.only, c.label + "/" + c.name)]
    if not a.only and not a.exec and os.path.isdir(out):  # --exec captures nothing: keep the corpus
        for root, _, files in os.walk(out):
            for f in files:
                if f.endswith(".txt") and os.path.basename(os.path.dirname(os.path.dirname(os.path.join(root, f)))).startswith("go"):
                    os.remove(os.path.join(root, f))
    world = World([g for g, _ in versions.values()], toxiproxy=a.toxiproxy and os.path.abspath(a.toxiproxy))
    if a.exec:
        try:
            world.setup()
            gobin = next(iter(versions.values()))[0]
            run = Run(world, Case("exec", "none", "", []), "", gobin)
            env = dict(run.env, **{"GO" + k.replace(".", "_"): g for k, (g, _) in versions.items()})
            try:
                rc = subprocess.run(["bash", "-c", a.exec], cwd=run.p["work"], env=env).returncode
            finally:
                run.close()
        finally:
            world.close()
        sys.exit(rc)
    counts, t_start, skipped, errors = {}, time.time(), [], []
    try:
        world.setup()
        for case in selected:
            for short in case.versions:
                if short not in versions:
                    skipped.append("%s on go%s (no such --go)" % (case.name, short))
                    continue
                if "toxiproxy" in case.needs and not world.toxiproxy:
                    skipped.append("%s on go%s (no --toxiproxy)" % (case.name, short))
                    continue
                if "sshd" in case.needs and not world.sshd:
                    skipped.append("%s on go%s (no sshd installed)" % (case.name, short))
                    continue
                gobin, gover = versions[short]
                world.set_net(case.hosts, case.resolv)
                run = Run(world, case, gover, gobin)
                try:
                    rc, so, se = run.execute()
                except Exception as e:  # report, keep going, fail at the end
                    errors.append("%s on go%s: %s" % (case.name, short, e))
                    print("ERROR  %s/%s on go%s: %s" % (case.label, case.name, short, e), flush=True)
                    continue
                finally:
                    run.close()
                    world.set_net()
                dest = os.path.join(out, "go" + short, case.label, case.name + ".txt")
                write(dest, case_file(case, gover, run.env, rc, so, se))
                counts[(short, case.label)] = counts.get((short, case.label), 0) + 1
                first = (se.strip().splitlines() or so.strip().splitlines() or [""])[-1][:110]
                print("%-6s %-24s %-44s exit=%-4s %5.1fs  %s" % (short, case.label, case.name, rc, run.elapsed, first), flush=True)
    finally:
        if a.keep_servers_log and os.path.exists(os.path.join(world.base, "servers.log")):
            shutil.copy(os.path.join(world.base, "servers.log"), a.keep_servers_log)
        world.close()
    total = sum(counts.values())
    print("\n%d case files in %.0fs" % (total, time.time() - t_start))
    for short in sorted({s for s, _ in counts}):
        print("  go%s: %d" % (short, sum(n for (s, _), n in counts.items() if s == short)))
    for s in skipped:
        print("  skipped: " + s)
    for e in errors:
        print("  FAILED: " + e)
    sys.exit(1 if errors else 0)



# --------------------------------------------------------------------------
# prep helpers (run before the recorded go command)
# --------------------------------------------------------------------------
def dl_path(run, ext, mod="corp.example/lib", ver="v1.0.0"):
    return os.path.join(run.p["modcache"], "cache", "download", mod, "@v", ver + "." + ext)


def src_dir(run, mod="corp.example/lib", ver="v1.0.0"):
    return os.path.join(run.p["modcache"], "%s@%s" % (mod, ver))


def force_write(path, data):
    d = os.path.dirname(path)
    os.chmod(d, 0o755)
    if os.path.exists(path):
        os.chmod(path, 0o644)
    write(path, data)
    os.chmod(path, 0o444)
    os.chmod(d, 0o555 if d.rstrip("/").split("/")[-1].count("@") else 0o755)


def populate(*mods):
    def prep(run):
        run.go("mod", "download", *mods, env={"GOPROXY": "https://proxy.corp.example"})
    return prep


def chain(*fns):
    def prep(run):
        for fn in fns:
            fn(run)
    return prep


def modify_source(run):
    f = os.path.join(src_dir(run), "lib.go")
    force_write(f, open(f).read() + "\n// patched locally while debugging\n")


def delete_source(run):
    d = src_dir(run)
    os.chmod(d, 0o755)
    os.remove(os.path.join(d, "lib.go"))
    os.chmod(d, 0o555)


def garbage_zip(run):
    make_writable_and_remove(src_dir(run))
    force_write(dl_path(run, "zip"), b"\x00" * 512)


def bad_ziphash(run):
    force_write(dl_path(run, "ziphash"), "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")


def git_credentials(run):
    write(os.path.join(run.p["home"], ".gitconfig"), "[credential]\n\thelper = store\n")
    write(os.path.join(run.p["home"], ".git-credentials"), "https://alice:revoked-token@git.corp.example\n", 0o600)


def drop_source(run):
    make_writable_and_remove(src_dir(run))


def vcs_lock(run, remote="https://git.corp.example/lib.git"):
    """cmd/go's codehost.WorkDir: <GOMODCACHE>/cache/vcs/sha256("git3:" + remote).lock"""
    return os.path.join(run.p["modcache"], "cache", "vcs", hashlib.sha256(("git3:" + remote).encode()).hexdigest() + ".lock")


def hold_lock(run, lock=None):
    lock = lock or dl_path(run, "lock")
    os.makedirs(os.path.dirname(lock), exist_ok=True)
    p = subprocess.Popen(["flock", "-x", lock, "sleep", "300"])
    run.cleanups.append(lambda: (p.kill(), p.wait()))
    for _ in range(100):
        if subprocess.run(["flock", "-n", lock, "true"]).returncode != 0:
            return
        time.sleep(0.05)
    raise RuntimeError("flock helper never took the lock")


def ro_bind_modcache(run):
    mc = run.p["modcache"]
    sh("mount", "--bind", mc, mc)
    run.cleanups.append(lambda: sh("umount", mc))
    sh("mount", "-o", "remount,bind,ro", mc)


def ro_bind_gocache(run):
    gc = run.p["gocache"]
    sh("mount", "--bind", gc, gc)
    run.cleanups.append(lambda: sh("umount", gc))
    sh("mount", "-o", "remount,bind,ro", gc)


def root_owned_cache_as_nobody(run):
    """Root populated the download cache; nobody's first build must extract."""
    run.go("mod", "download")
    drop_source(run)
    run.chown_tree(run.p["modcache"], 0)


def netrc(line):
    def prep(run):
        write(os.path.join(run.p["home"], ".netrc"), line + "\n", 0o600)
    return prep


def gitconfig(text):
    """A ~/.gitconfig in the run's fresh HOME (never the real one)."""
    def prep(run):
        write(os.path.join(run.p["home"], ".gitconfig"), text)
    return prep


def full_tmpfs_modcache(run):
    """GOMODCACHE is a 64 KiB tmpfs that another file already filled (no space left on device)."""
    mc = run.p["modcache"]
    sh("mount", "-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs", mc)
    run.cleanups.append(lambda: sh("umount", mc))
    try:
        with open(os.path.join(mc, "ballast"), "wb") as f:
            while True:
                f.write(b"\0" * 4096)
                f.flush()
    except OSError:
        pass


def unreadable_gowork(run):
    """GOWORK names a go.work inside a directory only root can enter."""
    locked = os.path.join(run.dir, "locked")
    os.makedirs(locked)
    write(os.path.join(locked, "go.work"), "go 1.18\n\nuse %s\n" % run.p["work"])
    os.chmod(locked, 0o700)
    run.env["GOWORK"] = os.path.join(locked, "go.work")


def workspace(app_requires=(("corp.example/lib", "v1.0.0"),), sums=True, use=("./app", "./tools")):
    files = {"go.work": "go 1.18\n\nuse (\n" + "".join("\t%s\n" % u for u in use) + ")\n"}
    for k, v in project(app_requires, sum_=sums).items():
        files["app/" + k] = v
    for k, v in project((), module="example.com/tools").items():
        files["tools/" + k] = v
    return files


def noexec_tmpdir(run):
    """round 11: TMPDIR is a tmpfs mounted noexec (a hardened /tmp), so go cannot run what it builds there."""
    t = run.p["tmp"]
    sh("mount", "-t", "tmpfs", "-o", "noexec,nosuid,nodev,mode=1777,size=64m", "tmpfs", t)
    run.cleanups.append(lambda: sh("umount", t))


def gopath_is_goroot(run):
    """round 11: GOPATH set to the GOROOT of the go that runs (an old shell profile), GOMODCACHE unset.
    The GOROOT (root's, not writable by others) is bind-mounted under the temp goroots directory and go runs
    from there, so the case file names a temp path rather than the machine's install path."""
    src = os.path.dirname(os.path.dirname(os.path.realpath(run.gobin)))
    dst = tempfile.mkdtemp(prefix="goroot-", dir=run.world.gorootdir)
    sh("mount", "--bind", src, dst)
    run.cleanups.append(lambda: (sh("umount", dst), os.rmdir(dst)))
    run.gobin_override = os.path.join(dst, os.path.relpath(os.path.realpath(run.gobin), src))
    run.env["GOPATH"] = dst
    run.env.pop("GOMODCACHE", None)


def populate_nobody(*mods):
    """round 12: the module cache filled by the same user (nobody) from the good proxy."""
    def prep(run):
        run.go("mod", "download", *mods, user="nobody", env={"GOPROXY": "https://proxy.corp.example"})
    return prep


def root_owned_vcs_cache(run):
    """round 12: GOMODCACHE and cache/ are nobody's; cache/vcs (where go clones repositories) is root's."""
    vcs = os.path.join(run.p["modcache"], "cache", "vcs")
    os.makedirs(vcs)
    os.lchown(os.path.dirname(vcs), NOBODY, NOBODY)


def tamper_cached(ext, data):
    """round 12: overwrite one file under cache/download in place (owner and mode kept; root ignores the 0444)."""
    def prep(run):
        with open(dl_path(run, ext), "w") as f:
            f.write(data)
    return prep


def partial_marker(run):
    """round 12: the `<module>@<version>.partial` marker go leaves while it extracts, as if a run was killed mid-way."""
    p = src_dir(run) + ".partial"
    write(p, "")
    os.lchown(p, NOBODY, NOBODY)


def hold_lock_nobody(lockpath):
    """round 13: another process of the same user (nobody) holds flock on a lock file in the module cache
    (it creates the directories and the file itself, as a concurrent go would). Its whole session is killed after."""
    def prep(run):
        lock = lockpath(run)
        p = subprocess.Popen(["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups", "--",
                              "sh", "-c", 'mkdir -p "$(dirname "$1")" && exec flock -x "$1" sleep 300', "sh", lock],
                             start_new_session=True)
        run.cleanups.append(lambda: (kill_session(p.pid), p.wait()))
        for _ in range(100):
            if os.path.exists(lock) and subprocess.run(["flock", "-n", lock, "true"]).returncode != 0:
                return
            time.sleep(0.05)
        raise RuntimeError("flock helper never took the lock")
    return prep


def side_lock(run):
    """round 13: <GOMODCACHE>/cache/lock, the lock cmd/go takes while it writes go.sum (modfetch.SideLock)."""
    return os.path.join(run.p["modcache"], "cache", "lock")


def pseudo_require(mod, fmt):
    """round 13: go.mod requires a pseudo-version of the git repository's v1.0.0 commit; fmt gets {hash12}."""
    def prep(run):
        name = mod.split("/")[-1]
        h = subprocess.run(["git", "--git-dir", os.path.join(run.world.gitroot, name + ".git"), "rev-parse",
                            "v1.0.0^{commit}"], capture_output=True, text=True, check=True).stdout.strip()
        gomod = os.path.join(run.p["work"], "go.mod")
        with open(gomod, "r+") as f:
            text = f.read().replace("v1.0.0", fmt.format(hash12=h[:12]))
            f.seek(0)
            f.truncate()
            f.write(text)
    return prep


def extra_file_in_extracted(run):
    """round 13: a file added to the extracted module directory (an editor's backup), as nobody."""
    d = src_dir(run)
    os.chmod(d, 0o755)
    write(os.path.join(d, "lib.go.orig"), pkgsrc("corp.example/lib"))
    os.lchown(os.path.join(d, "lib.go.orig"), NOBODY, NOBODY)
    os.chmod(d, 0o555)



def git_not_in_path(run):
    """round 14: a slim CI image: PATH holds go's directory and a directory with setpriv only (no git)."""
    b = os.path.join(run.dir, "slim-bin")
    os.makedirs(b)
    os.symlink(shutil.which("setpriv"), os.path.join(b, "setpriv"))
    run.env["PATH"] = "%s:%s" % (os.path.dirname(run.gobin), b)


def vcs_clone_objects_lost(run):
    """round 14: nobody fetched git.corp.example/lib directly; then cache/download and the extracted directory are
    removed and the cache/vcs clone loses every object (refs and packed-refs stay), as a cache restored in part."""
    run.go("mod", "download", "git.corp.example/lib@v1.0.0", user="nobody")
    for p in (os.path.join(run.p["modcache"], "cache", "download"), os.path.join(run.p["modcache"], "git.corp.example")):
        make_writable_and_remove(p)
    objs = os.path.join(vcs_lock(run)[:-len(".lock")], "objects")
    for root, dirs, files in os.walk(objs):
        for f in files:
            if f.endswith((".pack", ".idx")) or re.fullmatch(r"[0-9a-f]{38}", f):
                os.remove(os.path.join(root, f))


def goenv_root_owned(run):
    """round 14: GOENV names a go env file that root wrote (0644) in a root-owned directory (a system-wide /etc/go.env)."""
    d = os.path.join(run.dir, "etc-go")
    os.makedirs(d)
    write(os.path.join(d, "env"), "GOPROXY=https://proxy.corp.example\n", 0o644)
    run.env["GOENV"] = os.path.join(d, "env")


def go_stalled_holding(lockpath, args, env):
    """round 15: a second real go (same user, same module cache, its own session) started first; it hangs mid-download
    (a stalled .zip) while it holds a cache lock, which the recorded go then waits for. Its session is killed after."""
    def prep(run):
        p = subprocess.Popen(["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups", "--",
                              run.world.nobody_go[run.gobin], *args], cwd=run.p["work"], env=dict(run.env, **env),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        run.cleanups.append(lambda: (kill_session(p.pid), p.wait()))
        lock = lockpath(run)
        for _ in range(400):
            if os.path.exists(lock) and subprocess.run(["flock", "-n", lock, "true"]).returncode != 0:
                time.sleep(0.5)   # let it reach the stalled body
                return
            time.sleep(0.05)
        raise RuntimeError("the first go never took %s" % lock)
    return prep


def goenv_file(text):
    """round 16: a go env file in the default place ($HOME/.config/go/env, as `go env -w` writes it), owned by the
    run's user; GOENV is unset, so go reads it and the environment does not show what it says."""
    def prep(run):
        path = os.path.join(run.p["home"], ".config", "go", "env")
        write(path, text, 0o644)
        os.lchown(path, NOBODY, NOBODY)
        run.env.pop("GOENV", None)
    return prep


def empty_extracted(run):
    """round 16: the extracted module directory is kept but its files are gone (a CI cache restored with its
    directories only)."""
    d = src_dir(run)
    os.chmod(d, 0o755)
    for n in os.listdir(d):
        os.remove(os.path.join(d, n))
    os.chmod(d, 0o555)


def delete_cached_zip(run):
    """round 16: cache/download's .zip removed (a cache pruned by size), the extracted directory and .ziphash kept."""
    p = dl_path(run, "zip")
    os.chmod(os.path.dirname(p), 0o755)
    os.remove(p)


def gitconfig_cainfo_other_ca(run):
    """round 16: ~/.gitconfig sets http.sslCAInfo to a bundle that holds another CA's root only (the wrong file
    copied into the CI image); go's own TLS still uses the system trust store."""
    bundle = os.path.join(run.p["home"], ".config", "corp-root-ca.pem")
    shutil.copy(os.path.join(run.world.base, "pki", "otherca.pem"), bundle)
    os.lchown(bundle, NOBODY, NOBODY)
    write(os.path.join(run.p["home"], ".gitconfig"), "[http]\n\tsslCAInfo = %s\n" % bundle)


# --------------------------------------------------------------------------
# the case table
# --------------------------------------------------------------------------
A3 = ("1.26", "1.27", "1.19")
N2 = ("1.26", "1.27")
LIB = "corp.example/lib@v1.0.0"
EMPTY = project(())                       # a module with no requirements (for go get)
NOSUM = project(sum_=False)
TIDY = project((), imports=["corp.example/lib"])
TEST_OK = "package main\n\nimport \"testing\"\n\nfunc TestHello(t *testing.T) {\n\tt.Log(\"checking the greeting\")\n}\n"
PRIV = {"GOPROXY": "https://proxy.corp.example,direct", "GOPRIVATE": "git.corp.example"}
PRIVDIRECT = {"GOPROXY": "direct", "GOPRIVATE": "git.corp.example"}
GITPROJ = project((("git.corp.example/lib", "v1.0.0"),))
# ssh for git without the machine's ~/.ssh/config or known_hosts (go1.19 sets a similar default itself)
SSH_HERMETIC = "ssh -F /dev/null -o BatchMode=yes -o UserKnownHostsFile=/dev/null"


def wrong_sum(which):
    """The default project with one corp.example/lib h1: line replaced (0 = zip, 1 = go.mod)."""
    files = project()
    files["go.sum"] = files["go.sum"].replace(SUMS[("corp.example/lib", "v1.0.0")][which],
                                              "h1:Lp0K4zPjVUzs2RWg5ABhl7NQxWyJdlpjgSrw8YFu2vQ=")
    return files


def gosum_wrong_line_first():
    """round 16: go.sum keeps two zip lines for corp.example/lib v1.0.0 (a merge that kept both sides), the wrong
    one first."""
    files = project()
    right = "corp.example/lib v1.0.0 %s\n" % SUMS[("corp.example/lib", "v1.0.0")][0]
    files["go.sum"] = files["go.sum"].replace(
        right, "corp.example/lib v1.0.0 h1:Lp0K4zPjVUzs2RWg5ABhl7NQxWyJdlpjgSrw8YFu2vQ=\n" + right)
    return files


def workspace_worksum_wrong():
    """round 16: a workspace whose modules have no go.sum; go.work.sum holds corp.example/lib with a wrong zip hash."""
    files = workspace(sums=False)
    files["go.work.sum"] = gosum([("corp.example/lib", "v1.0.0")]).replace(
        SUMS[("corp.example/lib", "v1.0.0")][0], "h1:Lp0K4zPjVUzs2RWg5ABhl7NQxWyJdlpjgSrw8YFu2vQ=")
    return files


def gosum_without_gomod_lines():
    files = project()
    files["go.sum"] = "".join(l for l in files["go.sum"].splitlines(True) if "/go.mod " not in l)
    return files


def C(label, name, origin, args, versions=("1.26",), **kw):
    return Case(name=name, label=label, origin=origin, args=args.split() if isinstance(args, str) else list(args),
                versions=versions, **kw)


CASES = [
    # ---------------------------------------------------------------- none
    C("none", "download-x-ok", "python goproxy serving corp.example/lib, all good", "mod download -x", A3),
    C("none", "get-retracted-warning", "python goproxy; v1.1.0 go.mod retracts v1.0.0", "get corp.example/retracted@v1.0.0",
      ("1.26", "1.19"), files=EMPTY),
    C("none", "get-deprecated-warning", "python goproxy; module go.mod has a Deprecated: comment", "get corp.example/old@v1.0.0",
      N2, files=EMPTY),
    C("none", "test-v-log-lines", "python goproxy; passing test that logs", "test -v ./...", ("1.26",),
      files=project(tests=TEST_OK)),
    C("none", "run-downloading", "python goproxy; go run prints the greeting", "run .", ("1.27", "1.19")),
    C("none", "pipe-fallthrough-after-503", "first proxy 503s, '|' lets go fall through to the second",
      "mod download -x", ("1.26",), env={"GOPROXY": "https://goproxy.corp.example|https://proxy.corp.example"}),
    C("none", "comma-fallthrough-after-410", "first proxy (athens-like) answers 410, ',' falls through",
      "mod download -json corp.example/lib@v1.0.0", ("1.27",), env={"GOPROXY": "https://athens.corp.example,https://proxy.corp.example"}),
    C("none", "https-proxy-connect-ok", "python CONNECT proxy tunnelling to the goproxy", "mod download -x", ("1.26",),
      env={"HTTPS_PROXY": "http://gw-ok.corp.example:3128"}),
    C("none", "direct-git-private-ok", "git http-backend behind python, GOPRIVATE + direct", "mod download -x",
      ("1.26", "1.19"), env=PRIV, files=GITPROJ),
    C("none", "tidy-finds-module", "python goproxy; tidy resolves the latest version", "mod tidy", ("1.27",), files=TIDY),
    C("none", "list-versions", "python goproxy lists two versions", "list -m -versions corp.example/lib", ("1.19", "1.26")),
    C("none", "gosum-missing-goflags-mod-mod", "go.sum absent but GOFLAGS=-mod=mod lets go add it", "build ./...", ("1.19",),
      files=NOSUM, env={"GOFLAGS": "-mod=mod"}),
    C("none", "work-sync-ok", "workspace with two modules, python goproxy", "work sync", ("1.26",), files=workspace()),

    # ---------------------------------------------------------------- proxy.not_found
    C("proxy.not_found", "404-text-body-download", "python goproxy: 404 text/plain 'not found' for an unknown module",
      "mod download corp.example/missing@v1.0.0", ("1.26", "1.19")),
    C("proxy.not_found", "404-empty-body-get", "mirror proxy lacks the module: 404 with empty body",
      "get corp.example/lib@v1.0.0", N2, files=EMPTY, env={"GOPROXY": "https://mirror.corp.example"}),
    C("proxy.not_found", "410-gone-build-x", "athens-like proxy answers 410 Gone for everything", "build -x ./...",
      ("1.27", "1.19"), env={"GOPROXY": "https://athens.corp.example"}),
    C("proxy.not_found", "comma-list-all-missing-tidy", "both proxies in the comma list miss the module (404, 410)",
      "mod tidy", ("1.26",), files=TIDY, env={"GOPROXY": "https://mirror.corp.example,https://athens.corp.example"}),
    C("proxy.not_found", "transitive-dependency-404", "mirror has corp.example/util but not its dependency corp.example/lib",
      "mod download", ("1.26", "1.19"), files=project((("corp.example/util", "v1.0.0"),), go="1.16"),
      env={"GOPROXY": "https://mirror.corp.example"}),
    C("proxy.not_found", "build-json-410", "athens-like proxy answers 410 Gone", "build -json ./...", ("1.27",),
      env={"GOPROXY": "https://athens.corp.example"}),
    C("proxy.not_found", "list-versions-404", "python goproxy: 404 text body for @v/list and @latest",
      "list -m -versions corp.example/missing", ("1.27",)),
    C("proxy.not_found", "download-json-404", "python goproxy: 404 text body", "mod download -json corp.example/missing@v1.0.0",
      ("1.26",)),

    # ---------------------------------------------------------------- proxy.server_error
    C("proxy.server_error", "503-envoy-text-download-x", "goproxy behind envoy answering 503 text/plain", "mod download -x", A3,
      env={"GOPROXY": "https://goproxy.corp.example"}),
    C("proxy.server_error", "502-nginx-comma-no-fallthrough", "nexus behind nginx answers 502 (HTML); ',' does not fall through",
      "get corp.example/lib@v1.0.0", ("1.26", "1.19"), files=EMPTY,
      env={"GOPROXY": "https://nexus.corp.example,https://proxy.corp.example"}),
    C("proxy.server_error", "500-artifactory-json-build", "artifactory-like 500 with a JSON error body", "build ./...", ("1.27",),
      env={"GOPROXY": "https://artifactory.corp.example/api/go/go-virtual"}),
    C("proxy.server_error", "429-rate-limited-list", "proxy answers 429 with Retry-After", "list -m -versions corp.example/lib",
      ("1.26", "1.19"), env={"GOPROXY": "https://ratelimit.corp.example"}),
    C("proxy.server_error", "500-work-sync", "workspace; artifactory-like proxy answers 500", "work sync", ("1.27",),
      files=workspace(), env={"GOPROXY": "https://artifactory.corp.example/api/go/go-virtual"}),
    C("proxy.server_error", "list-m-e-json-502", "nexus behind nginx answers 502", "list -m -e -json corp.example/lib@v1.0.0",
      ("1.26",), env={"GOPROXY": "https://nexus.corp.example"}),
    C("proxy.server_error", "503-tidy-nobody", "envoy 503 during tidy", "mod tidy", ("1.26",), files=TIDY, user="nobody",
      env={"GOPROXY": "https://goproxy.corp.example"}),

    # ---------------------------------------------------------------- proxy.auth
    C("proxy.auth", "401-basic-download", "private goproxy requires Basic auth, no credentials", "mod download", ("1.26", "1.19"),
      env={"GOPROXY": "https://private-proxy.corp.example"}),
    C("proxy.auth", "403-allowlist-get", "goproxy answers 403 text/plain (client not allow-listed)", "get corp.example/lib@v1.0.0",
      N2, files=EMPTY, env={"GOPROXY": "https://goproxy-eu.corp.example"}),
    C("proxy.auth", "401-build-x", "private goproxy requires Basic auth", "build -x ./...", ("1.27",),
      env={"GOPROXY": "https://private-proxy.corp.example"}),
    C("proxy.auth", "401-wrong-netrc", "~/.netrc has a stale password for the private goproxy", "mod download -x", ("1.26",),
      env={"GOPROXY": "https://private-proxy.corp.example"},
      prep=netrc("machine private-proxy.corp.example login ci-bot password expired-token")),

    # ---------------------------------------------------------------- proxy.off
    C("proxy.off", "off-download", "GOPROXY=off, empty module cache", "mod download", ("1.26", "1.19"), env={"GOPROXY": "off"}),
    C("proxy.off", "off-build", "GOPROXY=off, empty module cache", "build ./...", N2, env={"GOPROXY": "off"}),
    C("proxy.off", "off-get", "GOPROXY=off", "get corp.example/lib@v1.0.0", ("1.19",), files=EMPTY, env={"GOPROXY": "off"}),
    C("proxy.off", "off-tidy", "GOPROXY=off", "mod tidy", ("1.27",), files=TIDY, env={"GOPROXY": "off"}),

    # ---------------------------------------------------------------- proxy.bad_response
    C("proxy.bad_response", "sso-login-page-200", "SSO login HTML served with 200 for every proxy URL",
      "get corp.example/lib@v1.0.0", A3, files=EMPTY, env={"GOPROXY": "https://sso.corp.example"}),
    C("proxy.bad_response", "truncated-json-info", ".info answers 200 with truncated JSON", "get corp.example/lib@v1.0.0",
      ("1.26", "1.19"), files=EMPTY, env={"GOPROXY": "https://badjson.corp.example"}),
    C("proxy.bad_response", "zip-not-a-zip", ".zip answers 200 with text that is not a zip", "mod download -x", N2,
      env={"GOPROXY": "https://badzip.corp.example"}),
    C("proxy.bad_response", "captive-302-to-http", "captive portal: 302 from https to an http login page",
      "get corp.example/lib@v1.0.0", ("1.26", "1.19"), files=EMPTY, env={"GOPROXY": "https://portal.corp.example"}),
    C("proxy.bad_response", "captive-302-to-https-html", "302 to an https portal page that answers 200 HTML",
      "list -m corp.example/lib@v1.0.0", ("1.27",), env={"GOPROXY": "https://wifi.corp.example"}),

    # ---------------------------------------------------------------- net.refused
    C("net.refused", "refused-download", "proxy host resolves, nothing listens on 443", "mod download", A3,
      env={"GOPROXY": "https://offline.corp.example"}),
    C("net.refused", "localhost-athens-down-build", "GOPROXY=http://localhost:3000 with no local proxy running",
      "build ./...", ("1.26", "1.19"), env={"GOPROXY": "http://localhost:3000"}),
    C("net.refused", "refused-download-json", "nothing listens on the proxy port", "mod download -json", ("1.27",),
      env={"GOPROXY": "https://offline.corp.example"}),
    C("net.refused", "test-json-refused", "nothing listens on the proxy port", "test -json ./...", A3,
      files=project(tests=TEST_OK), env={"GOPROXY": "https://offline.corp.example"}),
    C("net.refused", "refused-run", "nothing listens on the proxy port", "run .", ("1.26",),
      env={"GOPROXY": "https://offline.corp.example"}),

    # ---------------------------------------------------------------- net.reset
    C("net.reset", "rst-on-client-hello", "server RSTs (SO_LINGER 0) right after the TLS ClientHello", "mod download",
      ("1.26", "1.19"), env={"GOPROXY": "https://flaky.corp.example"}),
    C("net.reset", "rst-after-http-request", "plain-http proxy RSTs after reading the request", "get corp.example/lib@v1.0.0",
      ("1.27",), files=EMPTY, env={"GOPROXY": "http://flaky.corp.example"}),
    C("net.reset", "rst-after-tls-request", "TLS handshake completes, then RST after the request", "mod download -x", N2,
      env={"GOPROXY": "https://lb.corp.example"}),
    C("net.reset", "zip-body-cut-fin", ".zip promises 250000 bytes, sends 4096 and closes", "mod download", ("1.26", "1.19"),
      env={"GOPROXY": "https://cdn.corp.example"}),
    C("net.reset", "zip-body-cut-rst", ".zip promises 250000 bytes, sends 4096 and RSTs", "build ./...", ("1.27",),
      env={"GOPROXY": "https://cdn-rst.corp.example"}),

    # ---------------------------------------------------------------- net.timeout
    C("net.timeout", "tls-handshake-timeout", "server accepts TCP and never answers the ClientHello", "mod download", A3,
      env={"GOPROXY": "https://slow.corp.example"}),
    C("net.timeout", "tls-handshake-timeout-get-x", "server accepts TCP and never answers the ClientHello",
      "get -x corp.example/lib@v1.0.0", ("1.26",), files=EMPTY, env={"GOPROXY": "https://slow.corp.example"}),

    # ---------------------------------------------------------------- net.unreachable
    C("net.unreachable", "no-route-network-unreachable", "proxy host resolves to an address with no route in the netns",
      "mod download", ("1.26", "1.19"), env={"GOPROXY": "https://proxy.dc2.corp.example"}),
    C("net.unreachable", "unreachable-route-no-route-to-host", "`ip route add unreachable` for the proxy's subnet",
      "get corp.example/lib@v1.0.0", N2, files=EMPTY, env={"GOPROXY": "https://proxy.dc3.corp.example"}),
    C("net.unreachable", "prohibit-route-build", "`ip route add prohibit` for the proxy's subnet (EACCES)", "build ./...",
      ("1.26",), env={"GOPROXY": "https://proxy.dc4.corp.example"}),

    # ---------------------------------------------------------------- dns.nxdomain
    C("dns.nxdomain", "typo-proxy-host", "GOPROXY host typo; python DNS server answers NXDOMAIN", "mod download", A3,
      env={"GOPROXY": "https://proxy.corp.exmaple"}),
    C("dns.nxdomain", "default-proxy-offline", "GOPROXY unset (proxy.golang.org) on an isolated network: NXDOMAIN",
      "get corp.example/lib@v1.0.0", ("1.26", "1.19"), files=EMPTY, env={"GOPROXY": None}),
    C("dns.nxdomain", "typo-proxy-build-x", "GOPROXY host typo, NXDOMAIN", "build -x ./...", ("1.27",),
      env={"GOPROXY": "https://goproxy.crop.example"}),
    C("dns.nxdomain", "direct-go-get-nxdomain", "GOPROXY=direct and the module's host does not resolve",
      "get corp.example/lib@v1.0.0", ("1.26",), files=EMPTY, env={"GOPROXY": "direct"}),

    # ---------------------------------------------------------------- dns.failure
    C("dns.failure", "servfail", "python DNS server answers SERVFAIL for the proxy name", "mod download", ("1.26", "1.19"),
      env={"GOPROXY": "https://goproxy.ad.corp.example"}),
    C("dns.failure", "resolver-port-closed", "resolv.conf names a resolver where nothing listens on port 53",
      "get corp.example/lib@v1.0.0", N2, files=EMPTY, env={"GOPROXY": "https://goproxy.internal.corp.example"},
      resolv="nameserver 127.0.0.99\n"),
    C("dns.failure", "resolver-timeout", "python DNS server drops the queries (options timeout:1 attempts:2)", "mod download",
      ("1.27", "1.19"), env={"GOPROXY": "https://proxy.slowdns.corp.example"},
      resolv="nameserver %s\noptions timeout:1 attempts:2\n" % DNS_IP),

    # ---------------------------------------------------------------- tls.*
    C("tls.unknown_authority", "self-signed-proxy", "goproxy with a self-signed certificate", "mod download", ("1.26", "1.19"),
      env={"GOPROXY": "https://selfsigned.corp.example"}),
    C("tls.unknown_authority", "intercepting-ca-get", "certificate issued by a CA not in the trust store (TLS interception)",
      "get corp.example/lib@v1.0.0", N2, files=EMPTY, env={"GOPROXY": "https://mitm.corp.example"}),
    C("tls.unknown_authority", "git-mirror-unknown-ca", "go-import points at a git mirror whose cert is from an unknown CA",
      "get git.corp.example/mirrored@v1.0.0", ("1.26", "1.19"), files=EMPTY, env=PRIV),
    C("tls.expired", "expired-cert-download", "proxy certificate expired 2024-01-01", "mod download", A3,
      env={"GOPROXY": "https://expired.corp.example"}),
    C("tls.expired", "not-yet-valid-get", "proxy certificate valid only from 2030 (clock/cert mismatch)", "get corp.example/lib@v1.0.0",
      ("1.26",), files=EMPTY, env={"GOPROXY": "https://future.corp.example"}),
    C("tls.hostname", "cert-for-other-name", "proxy presents a cert for legacy-proxy.corp.internal", "mod download",
      ("1.26", "1.19"), env={"GOPROXY": "https://legacy.corp.example"}),
    C("tls.hostname", "https-by-ip", "GOPROXY uses the IP address; cert has only DNS SANs", "get corp.example/lib@v1.0.0",
      N2, files=EMPTY, env={"GOPROXY": "https://" + VHOST_IP}),

    # ---------------------------------------------------------------- http_proxy.failure
    C("http_proxy.failure", "https-proxy-refused", "HTTPS_PROXY points at a host where nothing listens", "mod download", A3,
      env={"HTTPS_PROXY": "http://gw-down.corp.example:3128"}),
    C("http_proxy.failure", "connect-407", "python CONNECT proxy answers 407 Proxy Authentication Required",
      "get corp.example/lib@v1.0.0", ("1.26", "1.19"), files=EMPTY, env={"HTTPS_PROXY": "http://gw.corp.example:3128"}),
    C("http_proxy.failure", "connect-403-build", "python CONNECT proxy answers 403 (policy)", "build ./...", ("1.27",),
      env={"HTTPS_PROXY": "http://gw-eu.corp.example:3128"}),
    C("http_proxy.failure", "https-proxy-nxdomain", "HTTPS_PROXY host name does not resolve", "mod download -x", ("1.26",),
      env={"HTTPS_PROXY": "http://gw.corp.exmaple:3128"}),

    # ---------------------------------------------------------------- sumdb.mismatch
    C("sumdb.mismatch", "gosum-wrong-zip-hash", "go.sum has a wrong h1: for the module zip", "mod download", A3,
      files=wrong_sum(0)),
    C("sumdb.mismatch", "module-retagged-after-gosum", "go.sum written from v1.0.0; the proxy now serves different v1.0.0 content",
      "build ./...", ("1.26", "1.19"), env={"GOPROXY": "https://proxy-new.corp.example"}),
    C("sumdb.mismatch", "gosum-wrong-gomod-hash", "go.sum has a wrong /go.mod h1:", "mod download -x", ("1.27",),
      files=wrong_sum(1)),

    # ---------------------------------------------------------------- sumdb.private_leak
    C("sumdb.private_leak", "sum-golang-org-404", "private module checked against sum.golang.org (python fake answers 404)",
      "get corp.example/lib@v1.0.0", A3, files=EMPTY, env={"GOSUMDB": None}),
    C("sumdb.private_leak", "proxy-sumdb-410", "proxy supports /sumdb/ and answers 410 for the private module",
      "mod download corp.example/lib@v1.0.0", ("1.26", "1.19"), files=EMPTY,
      env={"GOSUMDB": None, "GOPROXY": "https://proxy-sumdb.corp.example"}),
    C("sumdb.private_leak", "direct-git-no-goprivate", "GOPROXY=direct for a private git module, GOPRIVATE forgotten",
      "get git.corp.example/lib@v1.0.0", ("1.27",), files=EMPTY, env={"GOSUMDB": None, "GOPROXY": "direct"}),

    # ---------------------------------------------------------------- sumdb.unreachable
    C("sumdb.unreachable", "sum-golang-org-nxdomain", "sum.golang.org does not resolve (firewalled network)",
      "get corp.example/lib@v1.0.0", ("1.26", "1.19"), files=EMPTY, env={"GOSUMDB": None}, hosts={"sum.golang.org": None}),
    C("sumdb.unreachable", "gosumdb-url-refused", "GOSUMDB names a checksum DB mirror where nothing listens",
      "mod download corp.example/lib@v1.0.0", N2, files=EMPTY,
      env={"GOSUMDB": "sum.golang.org https://offline.corp.example"}),
    C("sumdb.unreachable", "gosumdb-on-malformed", "GOSUMDB=on (not a valid value)", "get corp.example/lib@v1.0.0",
      ("1.27", "1.19"), files=EMPTY, env={"GOSUMDB": "on"}),
    C("sumdb.unreachable", "gosumdb-unknown-no-key", "GOSUMDB names an internal DB without its key", "mod download corp.example/lib@v1.0.0",
      ("1.26",), files=EMPTY, env={"GOSUMDB": "sum.corp.example"}),

    # ---------------------------------------------------------------- vcs.auth
    C("vcs.auth", "git-basic-auth-no-creds", "git http-backend behind Basic auth; no credentials -> terminal prompts disabled",
      "get git.corp.example/private@v1.0.0", A3, files=EMPTY, env=PRIV),
    C("vcs.auth", "go-get-page-401", "the ?go-get=1 page itself answers 401", "mod download", ("1.26", "1.19"),
      files=project((("go.corp.example/platform", "v1.2.0"),), sum_=False), env={"GOPROXY": "direct", "GOPRIVATE": "go.corp.example"}),
    C("vcs.auth", "git-wrong-netrc-password", "~/.netrc has a wrong password for the git server", "get git.corp.example/private@v1.0.0",
      ("1.26",), files=EMPTY, env=PRIV, prep=netrc("machine git.corp.example login alice password wrong")),
    C("vcs.auth", "git-stale-credential-store", "git credential.helper=store holds a revoked password", "mod download -x",
      ("1.26", "1.19"), files=project((("git.corp.example/private", "v1.0.0"),)), env=PRIVDIRECT, prep=git_credentials),
    C("vcs.auth", "git-auth-tidy", "git http-backend behind Basic auth during tidy", "mod tidy", ("1.27",),
      files=project((), imports=["git.corp.example/private"]), env=PRIVDIRECT),

    # ---------------------------------------------------------------- vcs.not_found
    C("vcs.not_found", "git-repo-missing", "go-import meta points at a repository that does not exist",
      "get git.corp.example/missing@v1.0.0", ("1.26", "1.19"), files=EMPTY, env=PRIV),
    C("vcs.not_found", "git-unknown-revision", "the tag v1.9.9 does not exist in the repository", "get git.corp.example/lib@v1.9.9",
      N2, files=EMPTY, env=PRIV),
    C("vcs.not_found", "git-unknown-revision-in-go-mod", "go.mod requires a tag that does not exist", "mod download", ("1.27",),
      files=project((("git.corp.example/lib", "v1.9.9"),), sum_=False), env=PRIVDIRECT),

    # ---------------------------------------------------------------- vcs.meta
    C("vcs.meta", "no-go-import-meta", "?go-get=1 page is a GitLab sign-in page without go-import meta",
      "get code.corp.example/team/lib@v1.0.0", ("1.26", "1.19"), files=EMPTY, env={"GOPROXY": "direct", "GOPRIVATE": "code.corp.example"}),
    C("vcs.meta", "go-import-wrong-prefix", "go-import meta names a different import prefix", "get code.corp.example/wrongprefix@v1.0.0",
      N2, files=EMPTY, env={"GOPROXY": "direct", "GOPRIVATE": "code.corp.example"}),

    # ---------------------------------------------------------------- module.path_mismatch
    C("module.path_mismatch", "proxy-module-declares-other-path", "served go.mod says module corp.example/other",
      "get corp.example/wrongpath@v1.0.0", A3, files=EMPTY),
    C("module.path_mismatch", "required-module-declares-other-path", "go.mod requires a module whose go.mod declares another path",
      "build ./...", ("1.26",), files=project((("corp.example/wrongpath", "v1.0.0"),))),
    C("module.path_mismatch", "git-repo-renamed", "git repository's go.mod declares git.corp.example/newname",
      "get git.corp.example/renamed@v1.0.0", ("1.27",), files=EMPTY, env=PRIV),

    # ---------------------------------------------------------------- module.invalid_version
    C("module.invalid_version", "v2-without-major-suffix", "corp.example/tool v2.0.0 exists but its go.mod lacks /v2",
      "get corp.example/tool@v2.0.0", A3, files=EMPTY),
    C("module.invalid_version", "incompatible-with-gomod", "go.mod requires v2.0.0+incompatible of a git module that has a go.mod",
      "mod download", ("1.26", "1.19"), files=project((("git.corp.example/tool", "v2.0.0+incompatible"),), sum_=False), env=PRIVDIRECT),
    C("module.invalid_version", "git-v2-tag-without-suffix", "git tag v2.0.0 but go.mod lacks /v2", "get git.corp.example/tool@v2.0.0",
      ("1.27",), files=EMPTY, env=PRIV),
    C("module.invalid_version", "unknown-version-proxy", "version v1.9.9 was never published (proxy: invalid version: unknown revision)",
      "get corp.example/lib@v1.9.9", ("1.27",), files=EMPTY, env={"GOPROXY": "https://proxy.corp.example"}),

    # ---------------------------------------------------------------- module.go_mod
    C("module.go_mod", "unknown-directive", "user's go.mod has a misspelt directive", "build ./...", ("1.26", "1.19"),
      files=dict(project(), **{"go.mod": "module example.com/app\n\ngo 1.18\n\nrequre corp.example/lib v1.0.0\n"})),
    C("module.go_mod", "no-go-mod", "run in a directory without go.mod", "mod tidy", A3,
      files={"main.go": "package main\n\nfunc main() {}\n"}),
    C("module.go_mod", "no-go-mod-build-pattern", "run in a directory without go.mod", "build ./...", ("1.26",),
      files={"main.go": "package main\n\nfunc main() {}\n"}),
    C("module.go_mod", "get-outside-module", "go get in a directory without go.mod", "get corp.example/lib@v1.0.0", ("1.19",),
      files={"main.go": "package main\n\nfunc main() {}\n"}),
    C("module.go_mod", "require-missing-version", "go.mod require line without a version", "build ./...", ("1.26",),
      files=dict(project(), **{"go.mod": "module example.com/app\n\ngo 1.18\n\nrequire corp.example/lib\n"})),
    C("module.go_mod", "require-noncanonical-version", "go.mod requires 'v1' (a query, not a version)", "build ./...", ("1.26",),
      files=dict(project(), **{"go.mod": "module example.com/app\n\ngo 1.18\n\nrequire corp.example/lib v1\n"})),
    C("module.go_mod", "bad-go-line", "go.mod go line is not a version", "mod tidy", N2,
      files=dict(project(), **{"go.mod": "module example.com/app\n\ngo 1.21.x\n\nrequire corp.example/lib v1.0.0\n"})),
    C("module.go_mod", "require-invalid-version-string", "go.mod requires version 'v1.x'", "build ./...",
      ("1.27", "1.19"), files=dict(project(), **{"go.mod": "module example.com/app\n\ngo 1.18\n\nrequire corp.example/lib v1.x\n"})),
    C("module.go_mod", "duplicate-module-directive", "go.mod has two module lines", "mod tidy", ("1.26",),
      files=dict(project(), **{"go.mod": "module example.com/app\n\nmodule example.com/app2\n\ngo 1.18\n"})),
    C("module.go_mod", "go-work-missing-module", "go.work uses a directory that has no go.mod", "work sync", ("1.26",),
      files=workspace(use=("./app", "./tools", "./missing"))),

    # ---------------------------------------------------------------- module.go_sum_missing
    C("module.go_sum_missing", "build-no-gosum", "go.mod requires corp.example/lib, go.sum absent", "build ./...", A3, files=NOSUM),
    C("module.go_sum_missing", "test-no-gosum", "go.sum absent", "test ./...", ("1.26",), files=project(sum_=False, tests=TEST_OK)),
    C("module.go_sum_missing", "list-all-no-gosum", "go.sum absent", "list -m all", ("1.27", "1.19"), files=NOSUM),
    C("module.go_sum_missing", "vendor-no-gosum", "go.sum absent", "mod vendor", ("1.26",), files=NOSUM),
    C("module.go_sum_missing", "run-no-gosum", "go.sum absent", "run .", ("1.26",), files=NOSUM),

    # ---------------------------------------------------------------- cache.permission
    C("cache.permission", "modcache-root-owned", "GOMODCACHE directory owned by root", "mod download", A3,
      user="nobody", root_owned=("modcache",), show=("GOMODCACHE",)),
    C("cache.permission", "home-not-writable-default-gopath", "HOME owned by root, GOPATH/GOMODCACHE unset", "get corp.example/lib@v1.0.0",
      ("1.26",), user="nobody", files=EMPTY, root_owned=("home",), env={"GOPATH": None, "GOMODCACHE": None}, show=("HOME",)),
    C("cache.permission", "home-not-writable-default-gocache", "HOME owned by root, GOCACHE unset", "build ./...",
      ("1.27",), user="nobody", root_owned=("home",), env={"GOCACHE": None}, show=("HOME",)),
    C("cache.permission", "gocache-root-owned", "GOCACHE directory owned by root", "build ./...",
      ("1.26", "1.19"), user="nobody", root_owned=("gocache",), show=("GOCACHE",)),
    C("cache.permission", "modcache-read-only-mount", "module cache is a read-only bind mount", "mod download", N2,
      prep=ro_bind_modcache, show=("GOMODCACHE",)),
    C("cache.permission", "clean-modcache-other-user", "cache filled by root (read-only files), cleaned by another user",
      "clean -modcache", N2, user="nobody", root_owned=("modcache",), prep=populate(), show=("GOMODCACHE",)),
    C("cache.permission", "extract-into-root-cache", "root downloaded the zip; this user's build must extract it", "build ./...",
      ("1.19", "1.27"), user="nobody", root_owned=("modcache",), prep=root_owned_cache_as_nobody, show=("GOMODCACHE",)),

    # ---------------------------------------------------------------- cache.corrupt
    C("cache.corrupt", "verify-modified-file", "extracted lib.go edited in the module cache", "mod verify", A3,
      prep=chain(populate(), modify_source), show=("GOMODCACHE",)),
    C("cache.corrupt", "verify-deleted-file", "extracted lib.go deleted from the module cache", "mod verify", ("1.26",),
      prep=chain(populate(), delete_source), show=("GOMODCACHE",)),
    C("cache.corrupt", "garbage-zip-build", "cache/download zip overwritten with zeros, extracted dir removed", "build ./...",
      ("1.26", "1.19"), prep=chain(populate(), garbage_zip), show=("GOMODCACHE",)),
    C("cache.corrupt", "bad-ziphash-verify", ".ziphash in the cache altered", "mod verify", ("1.27",),
      prep=chain(populate(), bad_ziphash), show=("GOMODCACHE",)),
    C("cache.corrupt", "verify-garbage-zip", "cache/download zip overwritten with zeros", "mod verify", ("1.26", "1.19"),
      prep=chain(populate(), lambda run: force_write(dl_path(run, "zip"), b"\x00" * 512)), show=("GOMODCACHE",)),
    C("cache.corrupt", "verify-missing-ziphash", ".ziphash deleted from the cache", "mod verify", ("1.27",),
      prep=chain(populate(), lambda run: os.remove(dl_path(run, "ziphash"))), show=("GOMODCACHE",)),

    # ---------------------------------------------------------------- cache.lock_stuck
    C("cache.lock_stuck", "flock-held-download-x", "another process holds flock on the module's .lock file", "mod download -x", A3,
      wrap=("timeout", "5"), prep=hold_lock, show=("GOMODCACHE",)),
    C("cache.lock_stuck", "vcs-lock-held-kill", "another process holds flock on the git repo's cache/vcs lock",
      "mod download -x", ("1.26", "1.19"), wrap=("timeout", "-s", "KILL", "5"), files=GITPROJ, env=PRIV,
      prep=lambda run: hold_lock(run, vcs_lock(run)), show=("GOMODCACHE",)),

    # ---------------------------------------------------------------- toolchain.download
    C("toolchain.download", "go-line-newer-local", "go.mod says go 1.99.0, GOTOOLCHAIN=local", "build ./...", N2,
      files=project(go="1.99.0"), env={"GOTOOLCHAIN": "local"}),
    C("toolchain.download", "auto-proxy-404", "go.mod says go 1.99.0, GOTOOLCHAIN=auto, goproxy has no such toolchain (404)",
      "build ./...", N2, files=project(go="1.99.0"), env={"GOTOOLCHAIN": "auto"}),
    C("toolchain.download", "toolchain-line-proxy-410", "toolchain go1.99.0 line, GOTOOLCHAIN=auto, proxy answers 410",
      "mod download", ("1.26",), files=project(go="1.22", extra_gomod="\ntoolchain go1.99.0\n"),
      env={"GOTOOLCHAIN": "auto", "GOPROXY": "https://athens.corp.example"}),
    C("toolchain.download", "gotoolchain-env-pinned", "GOTOOLCHAIN=go1.99.0 set in the environment", "version", ("1.27",),
      files=EMPTY, env={"GOTOOLCHAIN": "go1.99.0"}),
    C("toolchain.download", "get-go-newer", "go get go@1.99.0 with GOTOOLCHAIN=auto", "get go@1.99.0", ("1.26",), files=EMPTY,
      env={"GOTOOLCHAIN": "auto"}),

    # ---------------------------------------------------------------- hang
    C("hang", "silent-http-proxy-download-x", "plain-http proxy accepts and never answers; killed by timeout 5",
      "mod download -x", A3, wrap=("timeout", "5"), env={"GOPROXY": "http://slow.corp.example"}),
    C("hang", "tls-ok-then-silent-get-kill", "TLS handshake completes, no HTTP response; timeout -s KILL 5",
      "get corp.example/lib@v1.0.0", ("1.26", "1.19"), wrap=("timeout", "-s", "KILL", "5"), files=EMPTY,
      env={"GOPROXY": "https://stuck.corp.example"}),
    C("hang", "git-server-silent-get-x", "go-import points at a git server that never answers after TLS",
      "get -x git.corp.example/stuck@v1.0.0", ("1.27",), wrap=("timeout", "5"), files=EMPTY, env=PRIV),
    C("hang", "silent-proxy-build", "proxy never answers; timeout 5", "build ./...", ("1.26",), wrap=("timeout", "5"),
      env={"GOPROXY": "https://stuck.corp.example"}),

    # ---------------------------------------------------------------- unknown
    C("unknown", "compile-error", "user code calls an undefined function (module download fine)", "build ./...", A3,
      files=project(main_body="\tfmt.Println(lib.Goodbye())\n")),
    C("unknown", "failing-test", "a test fails", "test ./...", ("1.26", "1.19"),
      files=project(tests="package main\n\nimport \"testing\"\n\nfunc TestHello(t *testing.T) {\n\tt.Fatalf(\"got %q, want %q\", \"hello\", \"bonjour\")\n}\n")),
    C("unknown", "vet-printf", "go vet: Printf verb mismatch", "vet ./...", N2,
      files=project(main_body="\tfmt.Printf(\"%d\\n\", lib.Hello())\n")),
    C("unknown", "run-panic", "the user's program panics", "run .", A3,
      files=project(main_body="\tvar m map[string]int\n\tm[lib.Hello()] = 1\n\tfmt.Println(m)\n")),
    # ================================================================ round 7 (out7): wider command surface,
    # server behaviours not yet in servers.py's repertoire, unprivileged-user failures, warning successes
    C("proxy.auth", "451-policy-block-build-x", "repository firewall answers 451 Unavailable For Legal Reasons (policy block), text/plain",
      "build -x ./...", A3, env={"GOPROXY": "https://legal.corp.example"}),
    C("proxy.auth", "401-test-json", "private goproxy requires Basic auth, no credentials", "test -json ./...", N2,
      files=project(tests=TEST_OK), env={"GOPROXY": "https://private-proxy.corp.example"}),
    C("proxy.server_error", "429-list-m-json-all", "proxy answers 429 Too Many Requests (Retry-After: 60) for every URL",
      "list -m -json all", ("1.26", "1.19"), env={"GOPROXY": "https://ratelimit.corp.example"}),
    C("proxy.server_error", "503-install-at-version", "envoy 503 while installing a command by version", "install corp.example/hello/cmd/hello@v1.0.0",
      N2, files=EMPTY, env={"GOPROXY": "https://goproxy.corp.example"}),
    C("hang", "zip-body-stalls-download-x", ".zip: 200 with Content-Length 250000, 4096 bytes sent, then the connection stays open and silent; timeout 5",
      "mod download -x", A3, wrap=("timeout", "5"), env={"GOPROXY": "https://stall.corp.example"}),
    C("hang", "zip-body-stalls-build-kill", ".zip stalls mid-transfer; timeout -s KILL 5", "build ./...", ("1.26",),
      wrap=("timeout", "-s", "KILL", "5"), env={"GOPROXY": "https://stall.corp.example"}),
    C("proxy.bad_response", "zip-content-length-short", ".zip served with a Content-Length 100 bytes short (the body cut to match)",
      "mod download", A3, env={"GOPROXY": "https://shortcl.corp.example"}),
    C("proxy.bad_response", "zip-content-length-short-get", ".zip served with a Content-Length 100 bytes short", "get corp.example/lib@v1.0.0",
      ("1.27",), files=EMPTY, env={"GOPROXY": "https://shortcl.corp.example"}),
    C("vcs.auth", "go-get-page-403", "the ?go-get=1 page answers 403 (SSO-protected code host)", "get go403.corp.example/platform@v1.2.0",
      ("1.27", "1.19"), files=EMPTY, env={"GOPROXY": "direct", "GOPRIVATE": "go403.corp.example"}),
    C("vcs.auth", "git-private-repo-404", "git host answers 404 for a private repository when no credentials are sent",
      "get git.corp.example/hidden@v1.0.0", A3, files=EMPTY, env=PRIV),
    C("vcs.not_found", "git-daemon-repo-missing", "go-import meta names git://daemon.corp.example/missing.git; git daemon has no such repository",
      "get git.corp.example/gd-missing@v1.0.0", A3, files=EMPTY, env=PRIVDIRECT),
    C("vcs.not_found", "git-suffix-daemon-repo-missing", "path with a .git qualifier on a host that only runs git daemon (GOINSECURE set); no such repository",
      "get daemon.corp.example/nope.git@v1.0.0", A3, files=EMPTY,
      env={"GOPROXY": "direct", "GOPRIVATE": "daemon.corp.example", "GOINSECURE": "daemon.corp.example"}),
    C("none", "git-daemon-ok", "go-import meta names a git:// repository that git daemon serves", "mod download -x", ("1.26", "1.19"),
      files=project((("git.corp.example/gd-gdlib", "v1.0.0"),)), env=PRIVDIRECT),
    C("http_proxy.failure", "connect-closed-no-reply", "HTTPS_PROXY reads the CONNECT and closes without answering", "mod download", A3,
      env={"HTTPS_PROXY": "http://gw-close.corp.example:3128"}),
    C("http_proxy.failure", "connect-200-then-closed", "HTTPS_PROXY answers 200 Connection established, then closes the tunnel",
      "get corp.example/lib@v1.0.0", N2, files=EMPTY, env={"HTTPS_PROXY": "http://gw-drop.corp.example:3128"}),
    C("tls.hostname", "sumdb-cert-wrong-name", "only sum.golang.org presents a certificate for other names (proxy is fine)",
      "get corp.example/lib@v1.0.0", A3, files=EMPTY, env={"GOSUMDB": None}, hosts={"sum.golang.org": "127.0.0.34"}),
    C("tls.unknown_authority", "sumdb-intercepted", "only sum.golang.org is intercepted: its certificate (right name) comes from a CA not in the trust store",
      "mod download corp.example/lib@v1.0.0", N2, files=EMPTY, env={"GOSUMDB": None}, hosts={"sum.golang.org": "127.0.0.35"}),
    # go's resolver gives up on AAAA and uses the A record: these succeed (see FINDINGS.md)
    C("none", "aaaa-servfail-only", "DNS answers A for the proxy name but SERVFAIL for AAAA", "mod download -x", A3,
      env={"GOPROXY": "https://v6fail.corp.example"}),
    C("none", "aaaa-dropped-only", "DNS answers A for the proxy name and drops AAAA queries (options timeout:1 attempts:2)",
      "mod download -x", A3, env={"GOPROXY": "https://v6drop.corp.example"},
      resolv="nameserver %s\noptions timeout:1 attempts:2\n" % DNS_IP),
    C("cache.permission", "gopath-root-owned-default-modcache", "GOPATH owned by root, GOMODCACHE unset", "mod download", A3,
      user="nobody", root_owned=("gopath",), env={"GOMODCACHE": None}, show=("GOPATH",)),
    C("cache.permission", "gowork-unreadable-dir", "GOWORK names a go.work in a directory only root can enter", "build ./...", ("1.26", "1.19"),
      user="nobody", prep=unreadable_gowork, show=("GOWORK",)),
    C("cache.permission", "workdir-root-owned-tidy", "the work module's directory belongs to root; tidy must rewrite go.mod",
      "mod tidy", A3, user="nobody", root_owned=("work",), files=TIDY),
    C("cache.permission", "modcache-disk-full", "GOMODCACHE is a full 64 KiB tmpfs (no space left on device)", "mod download", A3,
      prep=full_tmpfs_modcache, show=("GOMODCACHE",)),
    C("none", "download-readonly-cache-populated", "module cache already holds everything, then becomes a read-only bind mount",
      "mod download", A3, prep=chain(populate(), ro_bind_modcache), show=("GOMODCACHE",)),
    C("none", "list-m-u-retracted-deprecated", "go.mod requires a retracted version and a deprecated module", "list -m -u all", A3,
      files=project((("corp.example/retracted", "v1.0.0"), ("corp.example/old", "v1.0.0")))),
    C("none", "download-retracted-exact", "go mod download of a retracted version by its exact version",
      "mod download -json corp.example/retracted@v1.0.0", N2, files=EMPTY),
    C("none", "install-pkg-at-version", "go install of a command by version from the python goproxy",
      "install corp.example/hello/cmd/hello@v1.0.0", ("1.26", "1.19"), files=EMPTY),
    C("none", "verify-offline-populated", "cache populated, then GOPROXY=off", "mod verify", ("1.27", "1.19"), env={"GOPROXY": "off"},
      prep=populate()),
    C("proxy.not_found", "get-u-410", "athens-like proxy answers 410 Gone for everything", "get -u ./...", ("1.26", "1.19"),
      env={"GOPROXY": "https://athens.corp.example"}),
    C("proxy.not_found", "work-sync-410", "workspace of two modules; athens-like proxy answers 410", "work sync", N2,
      files=workspace(), env={"GOPROXY": "https://athens.corp.example"}),
    C("net.refused", "list-m-json-all-refused", "nothing listens on the proxy port", "list -m -json all", ("1.26", "1.19"),
      env={"GOPROXY": "https://offline.corp.example"}),
    C("dns.failure", "a-dropped-aaaa-empty", "DNS answers AAAA (no records) but drops A queries for the proxy name (options timeout:1 attempts:2)",
      "mod download", A3, env={"GOPROXY": "https://v4drop.corp.example"},
      resolv="nameserver %s\noptions timeout:1 attempts:2\n" % DNS_IP),
    C("vcs.disallowed", "govcs-private-hg-only", "GOVCS=private:hg while the private module lives in git", "mod download", A3,
      files=GITPROJ, env=dict(PRIVDIRECT, GOVCS="private:hg")),
    C("module.go_mod", "vendor-inconsistent", "vendor/modules.txt lists lib v1.1.0, go.mod requires v1.0.0 (-mod=vendor by default)",
      "build ./...", A3, files=dict(project(), **{"vendor/modules.txt": "# corp.example/lib v1.1.0\n## explicit\ncorp.example/lib\n"})),
    C("none", "get-u-upgrades", "python goproxy has lib v1.1.0; go get -u upgrades", "get -u ./...", N2),
    C("none", "list-m-json-all-ok", "python goproxy, all good", "list -m -json all", ("1.27", "1.19")),
    # ================================================================ round 9 (out9): SOCKS and forward-proxy
    # misconfigurations, proxies that redirect or mislabel, IPv6-only and truncated DNS answers, daemon users
    # without HOME, GOFLAGS/GOPRIVATE mistakes, git insteadOf, a stale go-import tag (see FINDINGS.md, round 9)
    C("http_proxy.failure", "socks5-ruleset-denied", "SOCKS5 proxy answers every CONNECT with reply 2 (not allowed by ruleset)",
      "get corp.example/lib@v1.0.0", A3, files=EMPTY, env={"HTTPS_PROXY": "socks5://gw-socks.corp.example:1080"}),
    C("http_proxy.failure", "https-scheme-on-plain-proxy", "HTTPS_PROXY=https://… but the proxy on 3128 speaks plain HTTP",
      "mod graph", A3, env={"HTTPS_PROXY": "https://gw-ok.corp.example:3128"}),
    C("http_proxy.failure", "connect-407-wrong-creds-in-url", "CONNECT proxy wants Basic auth; HTTPS_PROXY carries a wrong password",
      "vet ./...", N2, env={"HTTPS_PROXY": "http://ci-bot:Autumn2024@gw-auth.corp.example:3128"}),
    C("http_proxy.failure", "http-goproxy-forward-proxy-407", "plain-http GOPROXY; HTTP_PROXY answers the forwarded GET with 407",
      "build -x ./...", A3, env={"GOPROXY": "http://proxy.corp.example", "HTTP_PROXY": "http://gw.corp.example:3128"}),
    C("dns.nxdomain", "zip-redirect-storage-nxdomain", "proxy answers .zip with 307 to a blob-storage host that does not resolve",
      "mod download -json", ("1.26", "1.19"), env={"GOPROXY": "https://blobproxy.corp.example"}),
    C("proxy.bad_response", "content-encoding-gzip-plain-body", "proxy labels every (uncompressed) body Content-Encoding: gzip",
      "get corp.example/lib@v1.0.0", A3, files=EMPTY, env={"GOPROXY": "https://gzip.corp.example"}),
    C("proxy.bad_response", "zip-of-other-case-module", "proxy on case-insensitive storage serves corp.example/Lib's zip for corp.example/lib",
      "mod download corp.example/lib@v1.0.0", A3, files=EMPTY, env={"GOPROXY": "https://casefold.corp.example"}),
    C("proxy.bad_response", "info-answers-other-version", "caching proxy answers v1.0.0.info with v1.1.0's info",
      "list -m -json corp.example/lib@v1.0.0", ("1.26", "1.19"), files=EMPTY, env={"GOPROXY": "https://stale.corp.example"}),
    C("proxy.not_found", "zip-missing-list-deps", "proxy serves .info and .mod, but its storage lost the .zip (404)",
      "list -deps ./...", N2, env={"GOPROXY": "https://partialzip.corp.example"}),
    C("net.unreachable", "aaaa-only-no-ipv6-route", "proxy name has only an AAAA record (2001:db8::10); no IPv6 route",
      "mod download", A3, env={"GOPROXY": "https://v6only.corp.example"}),
    C("dns.failure", "truncated-udp-tcp53-refused", "DNS answers with TC set (retry over TCP); nothing listens on TCP port 53",
      "work sync", ("1.26", "1.19"), files=workspace(), env={"GOPROXY": "https://proxy.tc.corp.example"}),
    C("cache.permission", "home-unset-gocache", "daemon user without HOME; GOCACHE and XDG_CACHE_HOME unset", "build ./...", A3,
      user="nobody", env={"HOME": None, "GOCACHE": None}),
    C("cache.permission", "home-unset-gopath", "daemon user without HOME; GOPATH and GOMODCACHE unset", "mod download",
      ("1.26", "1.19"), user="nobody", env={"HOME": None, "GOPATH": None, "GOMODCACHE": None}),
    C("cache.permission", "tmpdir-root-owned-test", "TMPDIR belongs to root; go test must make its work dir there", "test ./...",
      N2, user="nobody", root_owned=("tmp",), files=project(tests=TEST_OK), show=("TMPDIR",)),
    C("module.go_mod", "import-without-require-build", "main.go imports corp.example/lib; go.mod does not require it",
      "build ./...", A3, files=TIDY),
    C("module.go_mod", "goflags-mod-vendor-no-vendor-dir", "GOFLAGS=-mod=vendor in the environment; the module has no vendor directory",
      "build ./...", ("1.26", "1.19"), env={"GOFLAGS": "-mod=vendor"}),
    C("sumdb.private_leak", "goprivate-written-as-url", "GOPRIVATE=https://git.corp.example (a URL, not a path pattern) matches nothing",
      "get git.corp.example/lib@v1.0.0", N2, files=EMPTY,
      env={"GOSUMDB": None, "GOPROXY": "https://proxy.corp.example,direct", "GOPRIVATE": "https://git.corp.example"}),
    C("net.refused", "git-insteadof-ssh-refused", "~/.gitconfig rewrites https://git.corp.example/ to ssh://; nothing listens on port 22",
      "mod download -x", A3, files=GITPROJ, env=dict(PRIVDIRECT, GIT_SSH_COMMAND=SSH_HERMETIC),
      prep=gitconfig('[url "ssh://git@git.corp.example/"]\n\tinsteadOf = https://git.corp.example/\n')),
    C("vcs.meta", "go-import-stale-hg", "go-import tag still says hg (Mercurial, not installed) for a repository now in git",
      "get code.corp.example/hgrepo@v1.0.0", A3, files=EMPTY, env={"GOPROXY": "direct", "GOPRIVATE": "code.corp.example"}),
    # ================================================================ round 10 (out10): servers that are not
    # servers.py (a stock `python3 -m http.server`, gosrv/main.go in Go), a redirect loop, an empty .info, a chain
    # without its intermediate, a moved git tag, configuration slips (GOPROXY scheme typo, trailing space, a file://
    # proxy that is not there, GOFLAGS=-insecure, a GOPRIVATE glob, a .netrc machine written as a URL, a go.sum
    # merge conflict), git prompting without a terminal, a read-only GOCACHE (see FINDINGS.md, round 10)
    C("none", "python-http-server-ok", "stock `python3 -m http.server 8000` over a GOPROXY tree (application/octet-stream .info/.mod)",
      "mod download -x", A3, user="nobody", env={"GOPROXY": "http://files.corp.example:8000"}),
    C("proxy.not_found", "python-http-server-404", "stock `python3 -m http.server` over a GOPROXY tree that lacks the module (its HTML 404 page)",
      "get corp.example/missing@v1.0.0", A3, user="nobody", files=EMPTY, env={"GOPROXY": "http://files.corp.example:8000"}),
    C("proxy.bad_response", "redirect-loop-301", "a rewrite rule answers every proxy URL with 301 to itself",
      "get corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY, env={"GOPROXY": "https://loop.corp.example"}),
    C("proxy.bad_response", "info-200-empty-body", "proxy answers .info with 200 application/json and a zero-byte body",
      "get corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY, env={"GOPROXY": "https://emptyinfo.corp.example"}),
    C("proxy.bad_response", "chunked-garbage-info-gosrv", "Go net/http server (HTTP/1.1) answers .info with Transfer-Encoding: chunked and a chunk size that is not hex",
      "get corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY, env={"GOPROXY": "https://chunkbad.corp.example"}),
    C("net.reset", "chunked-zip-cut-gosrv", "Go net/http server sends one 4096-byte chunk of the .zip, then closes without the last chunk",
      "mod download", A3, user="nobody", env={"GOPROXY": "https://chunkcut.corp.example"}),
    C("tls.unknown_authority", "intermediate-missing-from-chain", "proxy's leaf is signed by an intermediate CA that the server does not send (root is trusted)",
      "mod download", A3, user="nobody", env={"GOPROXY": "https://chain.corp.example"}),
    C("sumdb.mismatch", "git-tag-moved-after-gosum", "go.sum written from git tag v1.0.0; the maintainer force-moved v1.0.0 to a new commit",
      "mod download", A3, user="nobody", files=project((("git.corp.example/moved", "v1.0.0"),)), env=PRIVDIRECT),
    C("vcs.auth", "git-terminal-prompt-1-no-tty", "git server wants Basic auth; GIT_TERMINAL_PROMPT=1 but no terminal (CI job)",
      "get git.corp.example/private@v1.0.0", A3, user="nobody", files=EMPTY, env=dict(PRIV, GIT_TERMINAL_PROMPT="1"),
      show=("GIT_TERMINAL_PROMPT",)),
    C("sumdb.private_leak", "goprivate-glob-misses-bare-host", "GOPRIVATE=*.corp.example does not match corp.example/lib (the glob needs a subdomain)",
      "get corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY, env={"GOSUMDB": None, "GOPRIVATE": "*.corp.example"}),
    C("proxy.auth", "netrc-machine-written-as-url", "~/.netrc says `machine https://private-proxy.corp.example` (a URL, so it matches no host)",
      "mod download", A3, user="nobody", env={"GOPROXY": "https://private-proxy.corp.example"},
      prep=chain(netrc("machine https://private-proxy.corp.example login ci-bot password glpat-0000example"),
                 lambda run: os.chown(os.path.join(run.p["home"], ".netrc"), NOBODY, NOBODY))),
    C("proxy.not_found", "file-proxy-dir-missing", "GOPROXY=file:///srv/goproxy, a directory not mounted on this runner",
      "mod download", A3, user="nobody", env={"GOPROXY": "file:///srv/goproxy"}),
    C("unknown", "goproxy-scheme-typo", "GOPROXY=htps://proxy.corp.example (scheme misspelt)", "build ./...", A3, user="nobody",
      env={"GOPROXY": "htps://proxy.corp.example"}),
    C("unknown", "goflags-insecure-removed", "GOFLAGS=-insecure left over from an old CI config (flag removed in go1.16+)",
      "get corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY, env={"GOFLAGS": "-insecure"}),
    C("none", "goproxy-trailing-slash-space", "GOPROXY='https://proxy.corp.example/ ' (trailing slash and space)", "mod download -x", A3,
      user="nobody", env={"GOPROXY": "https://proxy.corp.example/ "}),
    # go1.19 reads it as `missing go.sum entry`, which does not show the cause: not captured there (FINDINGS.md)
    C("module.go_mod", "gosum-merge-conflict", "go.sum committed with git merge-conflict markers", "build ./...", N2, user="nobody",
      files=dict(project(), **{"go.sum": "<<<<<<< HEAD\n" + gosum([("corp.example/lib", "v1.0.0")]) + "=======\n"
                               + gosum([("corp.example/lib", "v1.1.0")]) + ">>>>>>> feature/upgrade-lib\n"})),
    C("cache.permission", "gocache-read-only-mount-build", "GOCACHE is a read-only bind mount (a CI cache restored read-only)",
      "build ./...", A3, user="nobody", prep=ro_bind_gocache, show=("GOCACHE",)),
    C("hang", "run-at-version-silent-x", "go run pkg@version; plain-http proxy accepts and never answers; timeout 5",
      "run -x corp.example/hello/cmd/hello@v1.0.0", A3, user="nobody", wrap=("timeout", "5"), files=EMPTY,
      env={"GOPROXY": "http://slow.corp.example"}),
    C("proxy.server_error", "list-m-u-all-503-cached", "module cache holds the requirements; the proxy answers 503 for the update queries",
      "list -m -u all", A3, user="nobody",
      prep=lambda run: run.go("mod", "download", user="nobody", env={"GOPROXY": "https://proxy.corp.example"}), env={"GOPROXY": "https://goproxy.corp.example"}),
    C("proxy.auth", "get-t-401", "private goproxy requires Basic auth, no credentials; go get -t ./...", "get -t ./...", A3,
      user="nobody", files=project(tests=TEST_OK, sum_=False), env={"GOPROXY": "https://private-proxy.corp.example"}),
    # toxiproxy (Shopify) between go and the python goproxy; needs --toxiproxy
    C("none", "toxiproxy-latency-1500ms", "toxiproxy adds 1500 ms latency to every server-to-go chunk (a slow VPN); go succeeds slowly",
      "mod download -x", A3, user="nobody", needs=("toxiproxy",), env={"GOPROXY": "https://tox-latency.corp.example"}),
    C("net.timeout", "toxiproxy-latency-11s-tls-timeout", "toxiproxy adds 11 s latency server-to-go: the TLS handshake outlasts go's 10 s limit",
      "mod download", A3, user="nobody", needs=("toxiproxy",), env={"GOPROXY": "https://tox-lag.corp.example"}),
    C("net.reset", "toxiproxy-limit-data-1500", "toxiproxy closes each connection after 1500 bytes server-to-go (TLS handshake fits, the response does not)",
      "mod download -x", A3, user="nobody", needs=("toxiproxy",), env={"GOPROXY": "https://tox-limit.corp.example"}),
    C("net.reset", "toxiproxy-reset-peer-tidy", "toxiproxy resets every connection 100 ms after it opens (reset_peer)",
      "mod tidy", A3, user="nobody", needs=("toxiproxy",), files=TIDY, env={"GOPROXY": "https://tox-reset.corp.example"}),
    # ================================================================ round 11 (out11): a checksum database of our own
    # (gosrv: signed tree notes, a wrong hash, a bad signature, 500, HTML), TLS faults not yet covered (IP-only
    # certificate, expired intermediate, TLS 1.0 only, redirect to a self-signed host), HTTP/2 RST_STREAM, git
    # http-backend refusing upload-pack, thin commands (mod vendor, tidy -e, workspace download, install @latest,
    # get -u), environment slips (GOPATH=GOROOT, relative GOMODCACHE, noexec TMPDIR, GOMODCACHE inside the module)
    C("sumdb.mismatch", "sumdb-signed-wrong-hash-get", "GOSUMDB names a corporate checksum database (signed tree, verifier key right) whose record has another zip hash",
      "get corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY, env={"GOSUMDB": "vkey:sumdb-bad.corp.example"}),
    C("sumdb.mismatch", "sumdb-signed-wrong-hash-download-no-gosum", "corporate checksum database's signed record has another zip hash; go.sum absent",
      "mod download", ("1.27",), user="nobody", files=NOSUM, env={"GOSUMDB": "vkey:sumdb-bad.corp.example"}),
    C("sumdb.unreachable", "sumdb-tree-note-bad-signature", "checksum database signs its tree note with a key other than the one GOSUMDB trusts (same name and key hash)",
      "get corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY, env={"GOSUMDB": "vkey:sumdb-badsig.corp.example"}),
    C("sumdb.unreachable", "sumdb-lookup-500", "corporate checksum database answers /lookup with 500 text/plain",
      "mod download corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY, env={"GOSUMDB": "vkey:sumdb-500.corp.example"}),
    C("sumdb.unreachable", "sumdb-lookup-html-200", "corporate checksum database's /lookup answers 200 with an HTML sign-in page",
      "get corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY, env={"GOSUMDB": "vkey:sumdb-html.corp.example"}),
    C("tls.unknown_authority", "zip-redirect-to-self-signed-host", "proxy answers .zip with 302 to a download host whose certificate is self-signed",
      "mod download", A3, user="nobody", env={"GOPROXY": "https://redirbad.corp.example"}),
    C("tls.hostname", "cert-ip-san-only", "proxy's certificate names only its IP address (IP SAN 127.0.0.37), no DNS name",
      "get corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY, env={"GOPROXY": "https://ipcert.corp.example"}),
    C("tls.expired", "intermediate-expired-leaf-valid", "proxy sends a valid leaf with its issuing intermediate CA, which expired 2024-01-01",
      "mod download", A3, user="nobody", env={"GOPROXY": "https://expinter.corp.example"}),
    C("unknown", "tls10-only-appliance", "proxy appliance speaks only TLS 1.0 (go's client needs 1.2)", "build ./...", A3,
      user="nobody", env={"GOPROXY": "https://tls10.corp.example"}),
    C("net.reset", "h2-rst-stream-zip", "Go HTTP/2 server whose handler aborts on .zip (RST_STREAM INTERNAL_ERROR)",
      "get corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY, env={"GOPROXY": "https://h2reset.corp.example"}),
    C("vcs.auth", "git-http-backend-uploadpack-403", "git http-backend with http.uploadpack=false answers 403 for git-upload-pack",
      "get git.corp.example/locked@v1.0.0", A3, user="nobody", files=EMPTY, env=PRIVDIRECT),
    C("proxy.server_error", "503-retry-after-mod-vendor", "proxy in a maintenance window: 503 text/plain with Retry-After: 3600",
      "mod vendor", A3, user="nobody", env={"GOPROXY": "https://maint.corp.example"}),
    C("proxy.server_error", "tidy-e-503", "envoy 503 for every proxy URL; go mod tidy -e", "mod tidy -e", A3, user="nobody",
      files=TIDY, env={"GOPROXY": "https://goproxy.corp.example"}),
    C("proxy.not_found", "install-latest-empty-list-latest-404", "proxy answers @v/list with an empty 200 and @latest with 404",
      "install corp.example/hello/cmd/hello@latest", A3, user="nobody", files=EMPTY, env={"GOPROXY": "https://nolatest.corp.example"}),
    C("proxy.not_found", "workspace-one-module-missing-download", "go.work uses two modules; one requires corp.example/missing, which the proxy lacks (404)",
      "mod download", A3, user="nobody",
      files=dict(workspace(), **{"tools/go.mod": "module example.com/tools\n\ngo 1.18\n\nrequire corp.example/missing v1.0.0\n"})),
    C("module.go_mod", "goflags-mod-vendor-package-dir-missing", "GOFLAGS=-mod=vendor; vendor/modules.txt lists corp.example/lib but vendor/ has no package directory",
      "build ./...", A3, user="nobody", env={"GOFLAGS": "-mod=vendor"},
      files=dict(project(), **{"vendor/modules.txt": "# corp.example/lib v1.0.0\n## explicit\ncorp.example/lib\n"})),
    C("cache.permission", "gopath-equals-goroot", "GOPATH set to GOROOT (an old shell profile), GOMODCACHE unset; GOROOT belongs to root",
      "mod download", N2, user="nobody", prep=gopath_is_goroot, show=("GOPATH",)),
    C("cache.permission", "gomodcache-relative", "GOMODCACHE=.cache/go-mod (a relative path)", "mod download", A3, user="nobody",
      env={"GOMODCACHE": ".cache/go-mod"}, show=("GOMODCACHE",)),
    C("cache.permission", "tmpdir-noexec-test", "TMPDIR is a tmpfs mounted noexec; go test must run the test binary from there",
      "test ./...", A3, user="nobody", files=project(tests=TEST_OK), prep=noexec_tmpdir, show=("TMPDIR",)),
    C("cache.permission", "tmpdir-noexec-run", "TMPDIR is a tmpfs mounted noexec; go run must run the program from there",
      "run .", ("1.27",), user="nobody", prep=noexec_tmpdir, show=("TMPDIR",)),
    C("none", "modcache-inside-work-module-vet", "GOMODCACHE is a directory inside the work module", "vet ./...", N2,
      user="nobody", env={"GOMODCACHE": "{work}/gomodcache"}, show=("GOMODCACHE",)),
    C("unknown", "rsa-kex-only-appliance", "proxy appliance offers only TLS 1.2 RSA key exchange ciphers (AES128-GCM-SHA256 …) with an RSA certificate",
      "mod download", N2, user="nobody", env={"GOPROXY": "https://rsakex.corp.example"}),
    # go1.19 still offers RSA key exchange: the same server works there
    C("none", "rsa-kex-only-appliance", "proxy appliance offers only TLS 1.2 RSA key exchange ciphers; go1.19 still offers them",
      "mod download -x", ("1.19",), user="nobody", env={"GOPROXY": "https://rsakex.corp.example"}),
    C("none", "list-versions-junk-lines", "proxy's @v/list carries junk lines (HTML tags, `latest`, `master`, `v1.1`, a trailing space) around the versions; @latest 404",
      "list -m -versions corp.example/lib", A3, user="nobody", files=EMPTY, env={"GOPROXY": "https://listjunk.corp.example"}),
    C("module.go_mod", "test-imports-unrequired-module", "main_test.go imports corp.example/util, which go.mod does not require", "test ./...", A3,
      user="nobody", files=project(tests="package main\n\nimport (\n\t\"testing\"\n\n\t\"corp.example/util\"\n)\n\n"
                                          "func TestHello(t *testing.T) {\n\tt.Log(util.Hello())\n}\n")),
    C("proxy.not_found", "build-mod-mod-404", "go.mod requires corp.example/missing, which the proxy lacks; go build -mod=mod",
      "build -mod=mod ./...", A3, user="nobody", files=project((("corp.example/missing", "v1.0.0"),))),
    C("none", "get-u-retracted-upgrades", "go.mod requires a retracted version; go get -u ./... moves to v1.1.0", "get -u ./...", A3,
      user="nobody", files=project((("corp.example/retracted", "v1.0.0"),))),
    # ================================================================ round 12 (out12): responses that break below
    # the JSON (a gzip stream cut short, headers then close, headers never finished, a 407 from the proxy itself, a WAF's
    # 400 for escaped paths, a zip over go's size limit), GOPROXY lists (`|` after a timeout, `,` after a refusal, 404 then
    # 500), git (a tag without its v, a submodule on a dead host, svn in the go-import tag, insteadOf to a dead host), the
    # module cache (a root-owned cache/vcs, a corrupt cached .mod or .info, an extraction marker left behind), commands not
    # met yet (go tool, go run pkg@version, go mod graph, go list -m -x) and environment slips (see FINDINGS.md, round 12)
    C("proxy.auth", "goproxy-answers-407-itself", "the GOPROXY URL is a web gateway that answers every request with 407 and Proxy-Authenticate (no HTTPS_PROXY set)",
      "mod graph", A3, user="nobody", env={"GOPROXY": "https://authgw.corp.example"}),
    C("proxy.bad_response", "gzip-body-cut-short", "CDN sends .info/.mod gzip-encoded, the compressed stream cut in half (Content-Length matches the bytes sent)",
      "mod download", A3, user="nobody", env={"GOPROXY": "https://gzipcut.corp.example"}),
    C("net.reset", "info-headers-then-close", "proxy sends the .info headers (Content-Length of the real file) and closes without a body",
      "get corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY, env={"GOPROXY": "https://headclose.corp.example"}),
    C("hang", "headers-never-finish-list-x-kill", "slowloris proxy: status line and one header, never the blank line; timeout -s KILL 5",
      "list -m -x corp.example/lib@v1.0.0", A3, user="nobody", wrap=("timeout", "-s", "KILL", "5"), files=EMPTY,
      env={"GOPROXY": "https://halfhead.corp.example"}),
    C("proxy.server_error", "waf-400-escaped-uppercase-path", "a web application firewall in front of the proxy rejects '!' (go's escape for upper case) with 400 and an HTML page",
      "get corp.example/Azure-SDK@v1.0.0", A3, user="nobody", files=EMPTY, env={"GOPROXY": "https://waf.corp.example"}),
    C("proxy.bad_response", "zip-over-500mib-unpacked", "proxy's zip is 0.5 MiB on the wire and 520 MiB unpacked (go's limit is 500 MiB)",
      "mod download corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY, env={"GOPROXY": "https://huge.corp.example"}),
    C("none", "pipe-fallthrough-after-tls-timeout", "first proxy never answers the TLS handshake; '|' lets go fall through to the second after 10 s",
      "list -m -x corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY,
      env={"GOPROXY": "https://slow.corp.example|https://proxy.corp.example"}),
    C("net.refused", "comma-no-fallthrough-after-refused", "first proxy refuses connections; ',' falls through only on 404/410, so the second is never asked",
      "mod download", A3, user="nobody", env={"GOPROXY": "https://offline.corp.example,https://proxy.corp.example"}),
    C("proxy.server_error", "comma-404-then-500", "first proxy lacks the module (404), the second answers 500 (artifactory-like JSON)",
      "get corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY,
      env={"GOPROXY": "https://mirror.corp.example,https://artifactory.corp.example/api/go/go-virtual"}),
    C("proxy.off", "off-cache-holds-only-dependency", "GOPROXY=off; the module cache holds corp.example/lib but not corp.example/util, which go.mod also requires",
      "build ./...", A3, user="nobody", files=project((("corp.example/util", "v1.0.0"), ("corp.example/lib", "v1.0.0"))),
      prep=populate_nobody("corp.example/lib@v1.0.0"), env={"GOPROXY": "off"}),
    # go trims a trailing slash from each pattern, so this one still matches (see FINDINGS.md)
    C("none", "gonosumdb-trailing-slash", "GONOSUMDB=corp.example/ (a trailing slash; go trims it and the pattern matches)",
      "get corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY, env={"GOSUMDB": None, "GONOSUMDB": "corp.example/"}),
    C("sumdb.private_leak", "gonosumdb-space-after-comma", "GONOSUMDB='git.corp.example, corp.example' (a space after the comma: the second pattern is ' corp.example' and matches nothing)",
      "get corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY,
      env={"GOSUMDB": None, "GONOSUMDB": "git.corp.example, corp.example"}),
    C("vcs.not_found", "git-tag-without-v", "the release was tagged 1.0.0 (no v); go.mod requires v1.0.0", "mod download", A3,
      user="nobody", files=project((("git.corp.example/notagv", "v1.0.0"),), sum_=False), env=PRIVDIRECT),
    C("none", "git-submodule-on-dead-host", "repository has a submodule whose URL is on a host that does not resolve (go does not fetch submodules)",
      "get git.corp.example/submod@v1.0.0", A3, user="nobody", files=EMPTY, env=PRIVDIRECT),
    C("vcs.meta", "go-import-svn-not-installed", "go-import tag says svn (Subversion is not installed)", "get -x code.corp.example/svnrepo@v1.0.0",
      A3, user="nobody", files=EMPTY, env={"GOPROXY": "direct", "GOPRIVATE": "code.corp.example"}),
    C("dns.nxdomain", "git-insteadof-dead-host", "~/.gitconfig rewrites https://git.corp.example/ to a retired host that no longer resolves",
      "mod download", A3, user="nobody", files=GITPROJ, env=PRIVDIRECT,
      prep=gitconfig('[url "https://gitold.corp.example/"]\n\tinsteadOf = https://git.corp.example/\n')),
    C("cache.permission", "cache-vcs-root-owned", "GOMODCACHE is nobody's but cache/vcs (go's git clones) belongs to root; GOPROXY=direct",
      "mod download", A3, user="nobody", files=GITPROJ, env=PRIVDIRECT, prep=root_owned_vcs_cache, show=("GOMODCACHE",)),
    C("cache.corrupt", "cached-mod-edited", "the cached v1.0.0.mod under cache/download was edited (go 1.18 -> go 1.21); go.sum has the real hash",
      "build ./...", A3, user="nobody", show=("GOMODCACHE",),
      prep=chain(populate_nobody(), tamper_cached("mod", LIBMOD.replace("go 1.18", "go 1.21")))),
    C("none", "cached-info-garbage-refetched", "the cached v1.0.0.info is not JSON; go fetches it again", "mod download -x", A3,
      user="nobody", show=("GOMODCACHE",), prep=chain(populate_nobody(), tamper_cached("info", "\x00\x00garbage"))),
    # go mod verify does not look at the marker (see FINDINGS.md)
    C("none", "partial-marker-verify", "a .partial marker next to the extracted module dir (an extraction killed mid-way); go mod verify",
      "mod verify", A3, user="nobody", show=("GOMODCACHE",), prep=chain(populate_nobody(), partial_marker)),
    C("cache.permission", "tmpdir-missing-build", "TMPDIR names a directory that does not exist", "build ./...", A3, user="nobody",
      env={"TMPDIR": "{home}/tmp"}, show=("TMPDIR",)),
    C("cache.permission", "gocache-off-build", "GOCACHE=off left over from an old CI config (go >= 1.12 needs the build cache)",
      "build ./...", A3, user="nobody", env={"GOCACHE": "off"}, show=("GOCACHE",)),
    C("unknown", "goflags-pgo-on-old-go", "GOFLAGS=-pgo=off (known since go1.20) on go1.19", "build ./...", ("1.19",), user="nobody",
      env={"GOFLAGS": "-pgo=off"}),
    C("none", "goflags-pgo-on-old-go", "GOFLAGS=-pgo=off; this go knows the flag", "build ./...", N2, user="nobody",
      env={"GOFLAGS": "-pgo=off"}),
    C("none", "goflags-mod-mod-stale-vendor", "vendor/modules.txt is stale (lists lib v1.1.0) but GOFLAGS=-mod=mod makes go ignore vendor/",
      "build ./...", A3, user="nobody", env={"GOFLAGS": "-mod=mod"},
      files=dict(project(), **{"vendor/modules.txt": "# corp.example/lib v1.1.0\n## explicit\ncorp.example/lib\n"})),
    C("proxy.server_error", "go-tool-503", "go.mod has a tool directive for corp.example/hello/cmd/hello; envoy 503 while go tool builds it",
      "tool hello", N2, user="nobody", env={"GOPROXY": "https://goproxy.corp.example"},
      files=project((("corp.example/hello", "v1.0.0"),), imports=[], go="1.24", extra_gomod="\ntool corp.example/hello/cmd/hello\n")),
    C("toolchain.download", "gotoolchain-path-not-in-path", "go.mod says go 1.99.0, GOTOOLCHAIN=path, no go1.99.0 in PATH",
      "build ./...", N2, user="nobody", files=project(go="1.99.0"), env={"GOTOOLCHAIN": "path"}),
    C("proxy.not_found", "run-at-version-404", "go run of a command by version from a module the proxy does not have (404)",
      "run corp.example/nope/cmd/nope@v1.0.0", A3, user="nobody", files=EMPTY),
    # ================================================================ round 13 (out13): the thin categories, with
    # faults of a kind earlier rounds did not inject: GOVCS refusing (the default for svn, public:hg, a host pattern set to
    # off), locks held by another live process (a version's download lock under go get -x, the cache's side lock under go
    # mod tidy), pseudo-versions and major versions written wrong, a replace to another module and a go.mod spelling its path
    # with capitals, a dial timeout (accept queue full, SYNs dropped) and a TLS timeout on the checksum database, faults on
    # sum.golang.org and on a .zip redirect target (expired, no route), a lame-referral resolver and one without a route,
    # GOSUMDB's URL with a typo, GOPRIVATE written as corp.example/..., a wildcard one level too shallow, two go-import tags,
    # go.work asking for a newer go, and go run by CI wrappers (make, xargs, bash -o pipefail with tee) (see FINDINGS.md, round 13)
    C("vcs.disallowed", "govcs-default-svn-public", "go-import tag says svn; GOVCS unset (default public:git|hg), the path is not private",
      "get code.corp.example/svnrepo@v1.0.0", A3, user="nobody", files=EMPTY, env={"GOPROXY": "direct"}),
    C("vcs.disallowed", "govcs-public-hg-only-get", "GOVCS=public:hg while the public module lives in git; GOPROXY=direct",
      "get git.corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY, env={"GOPROXY": "direct", "GOVCS": "public:hg"}),
    C("vcs.disallowed", "govcs-host-pattern-off-tidy", "GOVCS=git.corp.example:off (a host pattern) while go mod tidy must fetch git.corp.example/lib",
      "mod tidy", A3, user="nobody", files=project((), imports=["git.corp.example/lib"]),
      env=dict(PRIVDIRECT, GOVCS="git.corp.example:off")),
    C("cache.lock_stuck", "download-lock-held-get-x", "another go (same user) holds flock on cache/download/…/v1.0.0.lock; go get -x; timeout 5",
      "get -x corp.example/lib@v1.0.0", A3, user="nobody", wrap=("timeout", "5"), files=EMPTY,
      prep=hold_lock_nobody(lambda run: dl_path(run, "lock")), show=("GOMODCACHE",)),
    C("cache.lock_stuck", "side-lock-held-tidy-x", "another go (same user) holds flock on $GOMODCACHE/cache/lock (taken to write go.sum); go mod tidy -x; timeout -s KILL 8",
      "mod tidy -x", N2, user="nobody", wrap=("timeout", "-s", "KILL", "8"), files=TIDY,
      prep=hold_lock_nobody(side_lock), show=("GOMODCACHE",)),
    C("module.invalid_version", "pseudo-version-wrong-timestamp", "go.mod requires a pseudo-version whose commit prefix is right but whose timestamp (2020) is not the commit's",
      "mod download", A3, user="nobody", files=project((("git.corp.example/lib", "v1.0.0"),), sum_=False), env=PRIVDIRECT,
      prep=pseudo_require("git.corp.example/lib", "v0.0.0-20200101000000-{hash12}")),
    C("module.invalid_version", "require-v2-without-suffix-gomod", "go.mod requires corp.example/tool v2.0.0 (the path lacks /v2)",
      "build ./...", A3, user="nobody", files=project((("corp.example/tool", "v2.0.0"),), sum_=False)),
    # go accepts a replacement whose go.mod declares the replacement's own path: the slip shows as a compile error (FINDINGS.md)
    C("unknown", "replace-to-other-module", "go.mod replaces corp.example/lib with corp.example/util v1.0.0 (a copy-paste slip)",
      "build ./...", A3, user="nobody",
      files=dict(project(extra_gomod="\nreplace corp.example/lib => corp.example/util v1.0.0\n"),
                 **{"go.sum": gosum([("corp.example/lib", "v1.0.0"), ("corp.example/util", "v1.0.0")])})),
    # go does not compare a directory replacement's module line with the path it replaces: the build succeeds (FINDINGS.md)
    C("none", "replace-local-dir-declares-other-path", "go.mod replaces corp.example/lib with ./third_party/lib, whose go.mod says module corp.example/library",
      "build ./...", A3, user="nobody",
      files=dict(project(extra_gomod="\nreplace corp.example/lib => ./third_party/lib\n"),
                 **{"third_party/lib/go.mod": "module corp.example/library\n\ngo 1.18\n",
                    "third_party/lib/lib.go": pkgsrc("corp.example/lib")})),
    C("module.path_mismatch", "replace-to-module-declaring-third-path", "go.mod replaces corp.example/lib with corp.example/wrongpath v1.0.0, whose go.mod says module corp.example/other",
      "build ./...", A3, user="nobody",
      files=dict(project(extra_gomod="\nreplace corp.example/lib => corp.example/wrongpath v1.0.0\n"),
                 **{"go.sum": gosum([("corp.example/lib", "v1.0.0"), ("corp.example/wrongpath", "v1.0.0")])})),
    C("module.path_mismatch", "module-line-case-differs", "the module's go.mod says module corp.example/CaseLib; it is published as corp.example/caselib",
      "get corp.example/caselib@v1.0.0", A3, user="nobody", files=EMPTY),
    C("net.timeout", "dial-timeout-syn-dropped", "proxy's accept queue is full, the kernel drops every SYN (no RST, no answer)",
      "mod download", A3, user="nobody", env={"GOPROXY": "https://synq.corp.example"}),
    C("sumdb.unreachable", "sumdb-tls-handshake-timeout", "sum.golang.org resolves to a host that accepts TCP and never answers the ClientHello (proxy fine)",
      "get corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY, env={"GOSUMDB": None}, hosts={"sum.golang.org": "127.0.0.40"}),
    C("proxy.off", "off-install-at-version", "GOPROXY=off; go install pkg@version with an empty module cache",
      "install corp.example/hello/cmd/hello@v1.0.0", A3, user="nobody", files=EMPTY, env={"GOPROXY": "off"}),
    C("proxy.off", "off-make-deps", "GOPROXY=off in a CI job; the Makefile's deps target runs go mod download", "make deps", A3,
      user="nobody", env={"GOPROXY": "off"}, shell="make deps",
      files=dict(project(), Makefile=".PHONY: deps\ndeps:\n\tgo mod download\n")),
    C("tls.expired", "sumdb-cert-expired", "sum.golang.org presents a certificate that expired 2024-01-01 (the proxy's is fine)",
      "get corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY, env={"GOSUMDB": None}, hosts={"sum.golang.org": "127.0.0.47"}),
    C("tls.expired", "zip-redirect-cdn-cert-expired", "proxy answers .zip with 302 to a CDN host whose certificate expired 2024-01-01",
      "mod download", A3, user="nobody", env={"GOPROXY": "https://redirexp.corp.example"}),
    C("dns.failure", "lame-referral-resolver", "resolver answers NOERROR with no records and no recursion-available bit (a server that does not recurse)",
      "mod download", A3, user="nobody", env={"GOPROXY": "https://goproxy.lame.corp.example"}),
    C("dns.failure", "resolver-no-route", "resolv.conf names a resolver in a subnet the runner has no route to (192.0.2.53)",
      "get corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY, env={"GOPROXY": "https://goproxy.dc5.corp.example"},
      resolv="nameserver 192.0.2.53\n"),
    C("module.go_sum_missing", "vet-gosum-gomod-line-only", "go.sum has corp.example/lib's /go.mod line but not its zip line",
      "vet ./...", A3, user="nobody",
      files=dict(project(), **{"go.sum": "corp.example/lib v1.0.0/go.mod %s\n" % SUMS[("corp.example/lib", "v1.0.0")][1]})),
    C("module.go_sum_missing", "list-deps-test-gosum-lacks-dependency", "go.mod requires corp.example/util (which needs lib); go.sum has lib's lines only",
      "list -deps -test ./...", A3, user="nobody",
      files=dict(project((("corp.example/util", "v1.0.0"), ("corp.example/lib", "v1.0.0"))),
                 **{"go.sum": gosum([("corp.example/lib", "v1.0.0")])})),
    C("net.unreachable", "direct-code-host-no-route-to-host", "GOPROXY=direct; the code host resolves into a subnet with `ip route add unreachable`",
      "get git.corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY, env=PRIVDIRECT,
      hosts={"git.corp.example": "198.51.100.20"}),
    C("sumdb.mismatch", "xargs-vet-gosum-wrong-hash", "go.sum has a wrong h1: for corp.example/lib's zip; CI runs go vet through xargs",
      "echo ./... | xargs go vet", A3, user="nobody", files=wrong_sum(0), shell="echo ./... | xargs go vet"),
    C("tls.hostname", "wildcard-one-level-too-deep", "GOPROXY host go.proxy.corp.example; the certificate's *.corp.example covers one label only",
      "mod download", A3, user="nobody", env={"GOPROXY": "https://go.proxy.corp.example"},
      hosts={"go.proxy.corp.example": VHOST_IP}),
    C("vcs.meta", "go-import-two-tags-same-prefix", "?go-get=1 page carries two go-import tags for the same prefix (old and new repository URL)",
      "get code.corp.example/dupmeta@v1.0.0", A3, user="nobody", files=EMPTY,
      env={"GOPROXY": "direct", "GOPRIVATE": "code.corp.example"}),
    C("cache.corrupt", "verify-extra-file-nobody", "a file (lib.go.orig) added to the extracted module directory; go mod verify as its owner",
      "mod verify", A3, user="nobody", show=("GOMODCACHE",), prep=chain(populate_nobody(), extra_file_in_extracted)),
    C("sumdb.unreachable", "gosumdb-url-typo", "GOSUMDB='sum.golang.org https://sum.corp.exmaple' (the database's mirror URL misspelt)",
      "get corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY, env={"GOSUMDB": "sum.golang.org https://sum.corp.exmaple"}),
    C("sumdb.private_leak", "goprivate-dot-dot-dot-pattern", "GOPRIVATE=corp.example/... (a go-list pattern; GOPRIVATE globs do not know ...)",
      "get corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY, env={"GOSUMDB": None, "GOPRIVATE": "corp.example/..."}),
    C("toolchain.download", "gowork-go-line-newer-local", "go.work says go 1.99.0, GOTOOLCHAIN=local", "build ./app", N2, user="nobody",
      cwd="work", files=dict(workspace(), **{"go.work": "go 1.99.0\n\nuse (\n\t./app\n\t./tools\n)\n"}),
      env={"GOTOOLCHAIN": "local"}),
    C("vcs.not_found", "git-branch-missing", "go get of a branch name the repository does not have", "get git.corp.example/lib@release-2.x",
      A3, user="nobody", files=EMPTY, env=PRIVDIRECT),
    C("vcs.not_found", "pseudo-version-revision-missing", "go.mod requires a pseudo-version whose commit (0123456789ab) is not in the repository",
      "mod download", A3, user="nobody", files=project((("git.corp.example/lib", "v0.0.0-20240101000000-0123456789ab"),), sum_=False),
      env=PRIVDIRECT),
    C("hang", "zip-stall-tee-pipefail-term", ".zip stalls mid-transfer; CI runs go through `bash -o pipefail` and tee; timeout -s TERM 5",
      "bash -o pipefail -c 'go mod download -x 2>&1 | tee go.log'", A3, user="nobody", wrap=("timeout", "-s", "TERM", "5"),
      env={"GOPROXY": "https://stall.corp.example"}, shell="bash -o pipefail -c 'go mod download -x 2>&1 | tee go.log'"),
    # ================================================================ round 14 (out14): the go command surface as CI
    # shows it (go test with a test-only dependency, go vet, go generate running go run pkg@version, go install pkg@version
    # outside a module, go list -m -json -e all, go mod download -json of several modules, go mod why, go work sync, go
    # get -u, go mod tidy -compat, go build -mod=vendor, go clean -modcache, go env -w), proxies wrong in new ways (a 302
    # to a login page on another host, an empty .mod, a lagging .info, @latest naming a retracted version, 429 under go
    # mod why, `|` ending on a 502), checksum-database settings (lookups 500 through the proxy, go.sum for another
    # version, GONOSUMDB overriding GOPRIVATE, GOINSECURE and a made-up GONOSUMCHECK, GOFLAGS=-insecure where no command
    # reads it), git (a v2 tag on a commit without go.mod, git missing from PATH), servers that are not servers.py
    # (`openssl s_server` with a CN-only certificate, https to `python3 -m http.server`, toxiproxy timeout and
    # slow_close) and runs CI cuts short (timeout -s INT, kill -9 of the process group, GitHub's exit-code line)
    C("proxy.not_found", "test-only-dependency-zip-404", "main_test.go imports corp.example/util (go.mod and go.sum have it); the proxy lost util's .zip (404); go build would not need it",
      "test ./...", A3, user="nobody", env={"GOPROXY": "https://testdep.corp.example"},
      files=dict(project((("corp.example/lib", "v1.0.0"), ("corp.example/util", "v1.0.0")), imports=["corp.example/lib"],
                         tests="package main\n\nimport (\n\t\"testing\"\n\n\t\"corp.example/util\"\n)\n\n"
                               "func TestHello(t *testing.T) {\n\tt.Log(util.Hello())\n}\n"))),
    C("proxy.bad_response", "install-outside-module-302-to-sso", "go install pkg@version in a directory without go.mod; every proxy URL is 302-redirected to an SSO login page (200 HTML) on another host",
      "install corp.example/hello/cmd/hello@v1.0.0", A3, user="nobody", files={}, env={"GOPROXY": "https://ssoredir.corp.example"}),
    C("proxy.not_found", "download-json-three-one-missing", "go mod download -json of three modules; the proxy has two of them, corp.example/missing is 404",
      "mod download -json corp.example/lib@v1.0.0 corp.example/util@v1.0.0 corp.example/missing@v1.0.0", A3, user="nobody", files=EMPTY),
    # go takes @latest at its word and checks retractions in the version it names: nothing is said (FINDINGS.md)
    C("none", "latest-names-retracted-version", "proxy's @v/list is empty and @latest names v1.0.0, which v1.1.0 (on the proxy) retracts",
      "get corp.example/retracted@latest", A3, user="nobody", files=EMPTY, env={"GOPROXY": "https://latestretracted.corp.example"}),
    # go mod why loads packages with errors allowed: the answer comes from main.go's imports, exit 0 (FINDINGS.md)
    C("none", "mod-why-429-retry-after", "proxy answers 429 Too Many Requests with Retry-After: 60 for every URL; go mod why with an empty module cache",
      "mod why corp.example/lib", A3, user="nobody", env={"GOPROXY": "https://ratelimit.corp.example"}),
    C("proxy.server_error", "list-m-json-e-all-pipe-404-then-502", "GOPROXY='mirror|nexus': the mirror lacks corp.example/lib (404), the second entry answers 502 (nginx HTML)",
      "list -m -json -e all", A3, user="nobody", env={"GOPROXY": "https://mirror.corp.example|https://nexus.corp.example"}),
    C("sumdb.unreachable", "tidy-compat-proxy-sumdb-lookup-500", "the proxy serves sum.golang.org (supported: 200) but answers every lookup with 500; go mod tidy -compat=1.17, go.sum absent",
      "mod tidy -compat=1.17", A3, user="nobody", files=TIDY,
      env={"GOSUMDB": None, "GOPROXY": "https://proxy-sumdb500.corp.example"}),
    # go mod graph does not check go.mod hashes against go.sum: it succeeds (FINDINGS.md)
    C("none", "graph-gosum-lines-for-other-version", "go.mod requires corp.example/lib v1.0.0; go.sum has only v1.1.0's lines (left from a reverted upgrade); go mod graph",
      "mod graph", A3, user="nobody", files=dict(project(), **{"go.sum": gosum([("corp.example/lib", "v1.1.0")])})),
    C("module.go_sum_missing", "build-gosum-lines-for-other-version", "go.mod requires corp.example/lib v1.0.0; go.sum has only v1.1.0's lines (left from a reverted upgrade); go build",
      "build ./...", A3, user="nobody", files=dict(project(), **{"go.sum": gosum([("corp.example/lib", "v1.1.0")])})),
    C("sumdb.private_leak", "gonosumdb-overrides-goprivate", "GOPRIVATE=git.corp.example but GONOSUMDB=corp.example (set, so it replaces GOPRIVATE's default for checksums); git.corp.example/lib is looked up",
      "get git.corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY,
      env=dict(PRIV, GOSUMDB=None, GONOSUMDB="corp.example")),
    C("sumdb.private_leak", "goinsecure-instead-of-gonosumdb", "GOINSECURE=corp.example set in the belief that it skips checksum checks (it does not)",
      "mod download corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY, env={"GOSUMDB": None, "GOINSECURE": "corp.example"}),
    C("sumdb.private_leak", "gonosumcheck-not-a-variable", "GONOSUMCHECK=1 (go has no such variable) instead of GONOSUMDB; go mod download -json",
      "mod download -json corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY, env={"GOSUMDB": None, "GONOSUMCHECK": "1"},
      show=("GONOSUMCHECK",)),
    C("none", "goflags-insecure-mod-download", "GOFLAGS=-insecure left from an old CI config; go mod download does not define the flag",
      "mod download", A3, user="nobody", env={"GOFLAGS": "-insecure"}),
    C("module.invalid_version", "git-v2-tag-on-commit-without-gomod", "the tag v2.0.0 sits on a commit without go.mod (module .../nomod/v2 was added in a later commit)",
      "get git.corp.example/nomod/v2@v2.0.0", A3, user="nobody", files=EMPTY, env=PRIVDIRECT),
    C("unknown", "git-not-in-path-direct", "GOPROXY=direct on a slim image: git is not in PATH", "get git.corp.example/lib@v1.0.0", A3,
      user="nobody", files=EMPTY, env=PRIVDIRECT, prep=git_not_in_path),
    C("unknown", "https-to-python-http-server", "GOPROXY=https://files.corp.example:8000, a stock `python3 -m http.server` that speaks plain HTTP",
      "mod download", A3, user="nobody", env={"GOPROXY": "https://files.corp.example:8000"}),
    C("tls.hostname", "openssl-s-server-cn-only-cert", "stock `openssl s_server -WWW` over the GOPROXY tree; its certificate (our CA) names the host in the CN only, no subjectAltName",
      "get corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY, env={"GOPROXY": "https://osrv.corp.example"}),
    C("net.reset", "toxiproxy-timeout-3s-close", "toxiproxy `timeout` toxic: no data from the server, the connection closed after 3 s",
      "mod download", A3, user="nobody", needs=("toxiproxy",), env={"GOPROXY": "https://tox-timeout.corp.example"}),
    C("none", "toxiproxy-slow-close", "toxiproxy `slow_close` (3 s) in front of the goproxy; the keep-alive server never closes first",
      "mod download -x", A3, user="nobody", needs=("toxiproxy",), env={"GOPROXY": "https://tox-slowclose.corp.example"}),
    C("hang", "zip-stall-get-x-timeout-int", ".zip stalls mid-transfer; CI stops go with SIGINT (timeout -s INT 5)",
      "get -x corp.example/lib@v1.0.0", A3, user="nobody", wrap=("timeout", "-s", "INT", "5"), files=EMPTY,
      env={"GOPROXY": "https://stall.corp.example"}),
    C("hang", "zip-stall-kill-9-process-group", ".zip stalls mid-transfer; the CI runner kills go's process group with SIGKILL after 3 s",
      "set -m; go mod download -x & sleep 3; kill -9 -- -$!; wait $!", A3, user="nobody",
      env={"GOPROXY": "https://stall.corp.example"}, shell="set -m; go mod download -x & sleep 3; kill -9 -- -$!; wait $!"),
    C("hang", "zip-stall-build-gha-exit-137", ".zip stalls mid-transfer; the step is killed (SIGKILL) and the runner prints GitHub Actions' line",
      "timeout -s KILL 5 go build ./...; rc=$?; echo \"Error: Process completed with exit code $rc.\"; exit $rc", A3, user="nobody",
      env={"GOPROXY": "https://stall.corp.example"},
      shell="timeout -s KILL 5 go build ./...; rc=$?; echo \"Error: Process completed with exit code $rc.\"; exit $rc"),
    C("proxy.server_error", "generate-go-run-at-version-503", "//go:generate go run corp.example/hello/cmd/hello@v1.0.0; envoy 503 from the proxy",
      "generate ./...", A3, user="nobody", env={"GOPROXY": "https://goproxy.corp.example"},
      files=dict(EMPTY, **{"gen.go": "package main\n\n//go:generate go run corp.example/hello/cmd/hello@v1.0.0\n"})),
    C("module.invalid_version", "work-sync-module-requires-unpublished-version", "go.work uses two modules; tools/go.mod requires corp.example/lib v1.9.9, never published (proxy: unknown revision)",
      "work sync", A3, user="nobody",
      files=dict(workspace(), **{"tools/go.mod": "module example.com/tools\n\ngo 1.18\n\nrequire corp.example/lib v1.9.9\n"})),
    C("proxy.bad_response", "get-u-lagging-info-older-version", "caching proxy lists v1.1.0 but answers v1.1.0.info with v1.0.0's info; go get -u ./...",
      "get -u ./...", A3, user="nobody", env={"GOPROXY": "https://lagging.corp.example"}),
    C("module.go_mod", "build-mod-vendor-extra-explicit-module", "vendor/modules.txt marks corp.example/util explicit, go.mod does not require it; go build -mod=vendor",
      "build -mod=vendor ./...", A3, user="nobody",
      files=dict(project(), **{"vendor/modules.txt": "# corp.example/lib v1.0.0\n## explicit\ncorp.example/lib\n"
                                                     "# corp.example/util v1.0.0\n## explicit\ncorp.example/util\n",
                               "vendor/corp.example/lib/lib.go": pkgsrc("corp.example/lib"),
                               "vendor/corp.example/util/util.go": pkgsrc("corp.example/util")})),
    # go makes the read-only directories writable before it removes them (FINDINGS.md)
    C("none", "clean-modcache-read-only-files-owner", "module cache filled by the same user (go's read-only files and directories); go clean -modcache",
      "clean -modcache", A3, user="nobody", env={"GOMODCACHE": "{modcache}/pkg/mod"}, prep=populate_nobody(), show=("GOMODCACHE",)),
    C("cache.corrupt", "cache-vcs-clone-objects-missing", "go's git clone under cache/vcs kept its refs but lost its objects (a cache restored in part); cache/download emptied; GOPROXY=direct",
      "mod download", A3, user="nobody", files=GITPROJ, env=PRIVDIRECT, prep=vcs_clone_objects_lost, show=("GOMODCACHE",)),
    C("vcs.auth", "git-insteadof-ssh-no-key", "~/.gitconfig rewrites https://git.corp.example/ to ssh://git@gitssh.corp.example/; OpenSSH's sshd there wants a public key and the user has none",
      "mod download", A3, user="nobody", files=GITPROJ, needs=("sshd",),
      env=dict(PRIVDIRECT, GIT_SSH_COMMAND=SSH_HERMETIC + " -o StrictHostKeyChecking=no"),
      prep=gitconfig('[url "ssh://git@gitssh.corp.example/"]\n\tinsteadOf = https://git.corp.example/\n')),
    C("cache.permission", "env-w-goenv-root-owned", "GOENV names a go env file root wrote (0644, root-owned directory); go env -w as another user",
      "env -w GOPRIVATE=corp.example", A3, user="nobody", files=EMPTY, prep=goenv_root_owned, show=("GOENV",)),

    # ================================================================ round 15 (out15): the thinnest categories, with
    # faults of kinds earlier rounds did not produce: a cache lock held by a second real go that is itself stalled on a
    # .zip (go mod download -x, go build), toxiproxy's `timeout` toxic with no close (a black hole), SYN drops behind a
    # GOPROXY list under GOFLAGS=-x and on a direct ?go-get=1 fetch, GOVCS=*:off and private:git for a public path,
    # GOPROXY=off under go run pkg@version and at the end of a list after a 410, a re-tagged zip checked against a
    # correctly signed checksum database of our own (gosrv), TLS faults on the git host go-import names (other names;
    # an expired one was dropped) and a wrong name at the end of a `|` list, go-import faults (a vanity path whose go.mod
    # names the git path, git and hg tags for one prefix, a root page that disagrees with the subpackage's, which go
    # reports as the mirror's unknown CA), and toolchain switches
    # (GOTOOLCHAIN=go1.99.1+auto, a corrupt toolchain .zip)
    C("cache.lock_stuck", "lock-held-by-go-stalled-on-zip-download-x", "a second go mod download (same user, same module cache) started first is stalled on the .zip while it holds cache/download/…/v1.0.0.lock; go mod download -x; timeout 8",
      "mod download -x", A3, user="nobody", wrap=("timeout", "8"), show=("GOMODCACHE",),
      prep=go_stalled_holding(lambda run: dl_path(run, "lock"), ["mod", "download"], {"GOPROXY": "https://stall.corp.example"})),
    C("cache.lock_stuck", "lock-held-by-go-stalled-on-zip-build", "a second go (go mod download, same user and module cache) is stalled on the .zip and holds its lock; the CI step's go build waits; timeout -s KILL 8",
      "build ./...", A3, user="nobody", wrap=("timeout", "-s", "KILL", "8"), show=("GOMODCACHE",),
      prep=go_stalled_holding(lambda run: dl_path(run, "lock"), ["mod", "download"], {"GOPROXY": "https://stall.corp.example"})),
    C("net.timeout", "toxiproxy-blackhole-no-close", "toxiproxy `timeout` toxic with timeout 0: the server's bytes are dropped and the connection is never closed",
      "mod download", A3, user="nobody", needs=("toxiproxy",), env={"GOPROXY": "https://tox-blackhole.corp.example"}),
    C("net.timeout", "proxy-list-first-syn-dropped-goflags-x", "GOPROXY='synq,proxy' (comma): the first proxy drops every SYN (accept queue full); GOFLAGS=-x in the CI environment",
      "mod download", A3, user="nobody", env={"GOPROXY": "https://synq.corp.example,https://proxy.corp.example", "GOFLAGS": "-x"}),
    C("net.timeout", "direct-go-get-page-syn-dropped", "GOPROXY=direct; the code host resolves to an address whose accept queue is full (SYNs dropped), so the ?go-get=1 fetch cannot connect",
      "get git.corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY, env=PRIVDIRECT, hosts={"git.corp.example": "127.0.0.69"}),
    C("vcs.disallowed", "govcs-star-off-get-x", "GOVCS='*:off' (every VCS off) on a runner that fetches the private module direct; go get -x",
      "get -x git.corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY, env=dict(PRIVDIRECT, GOVCS="*:off"), show=("GOVCS",)),
    # GOVCS's rules are tried before the default, which still allows git for public paths (FINDINGS.md)
    C("none", "govcs-private-git-public-path", "GOVCS=private:git, GOPRIVATE unset, GOPROXY=direct: git.corp.example/lib is public to go",
      "get git.corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY, env={"GOPROXY": "direct", "GOVCS": "private:git"}, show=("GOVCS",)),
    C("proxy.off", "off-run-at-version", "GOPROXY=off; go run pkg@version with an empty module cache",
      "run corp.example/hello/cmd/hello@v1.0.0", A3, user="nobody", files=EMPTY, env={"GOPROXY": "off"}),
    C("proxy.off", "list-ends-in-off-after-410", "GOPROXY='athens,off': the first proxy (empty) answers 410, the list ends in off",
      "mod download", A3, user="nobody", env={"GOPROXY": "https://athens.corp.example,off"}),
    C("sumdb.mismatch", "retagged-zip-own-sumdb-no-gosum", "the proxy serves a re-tagged corp.example/lib v1.0.0; GOSUMDB names a corporate checksum database (signed, verifier key right) holding the original hashes; go.sum absent",
      "get corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY,
      env={"GOPROXY": "https://proxy-new.corp.example", "GOSUMDB": "vkey:sumdb-good.corp.example"}),
    C("tls.hostname", "git-host-cert-other-names-direct", "GOPROXY=direct; the go-import tag sends git to a host whose certificate names legacy-proxy.corp.internal and www.corp.internal",
      "get git.corp.example/badnamegit@v1.0.0", A3, user="nobody", files=EMPTY, env=PRIVDIRECT),
    C("tls.hostname", "pipe-list-503-then-cert-other-names", "GOPROXY='goproxy|legacy': the first proxy answers 503, the second presents a certificate for other names",
      "mod download", A3, user="nobody", env={"GOPROXY": "https://goproxy.corp.example|https://legacy.corp.example"}),
    C("module.path_mismatch", "vanity-import-gomod-names-git-path", "go-import tag maps code.corp.example/vanity to git.corp.example/lib.git, whose go.mod says module git.corp.example/lib; GOPROXY=direct",
      "get code.corp.example/vanity@v1.0.0", A3, user="nobody", files=EMPTY,
      env={"GOPROXY": "direct", "GOPRIVATE": "code.corp.example,git.corp.example"}),
    C("vcs.meta", "go-import-git-and-hg-tags", "?go-get=1 page carries a git and an hg go-import tag for the same prefix (a migration half done)",
      "get code.corp.example/gitandhg@v1.0.0", A3, user="nobody", files=EMPTY,
      env={"GOPROXY": "direct", "GOPRIVATE": "code.corp.example,git.corp.example"}),
    # meant as vcs.meta; go reports the root path's own page and the mirror it names, whose certificate is from a CA not
    # in the trust store (FINDINGS.md)
    C("tls.unknown_authority", "go-import-root-page-disagrees", "the subpackage's ?go-get=1 page names root code.corp.example/disagree with git.corp.example/lib.git, the root's own page with gitmirror.corp.example/lib.git (certificate from a CA not in the trust store)",
      "get code.corp.example/disagree/lib@v1.0.0", A3, user="nobody", files=EMPTY,
      env={"GOPROXY": "direct", "GOPRIVATE": "code.corp.example,git.corp.example"}),
    C("toolchain.download", "gotoolchain-plus-auto-missing-version", "GOTOOLCHAIN=go1.99.1+auto (a minimum newer than the local go); the proxy has no such toolchain (404)",
      "build ./...", N2, user="nobody", env={"GOTOOLCHAIN": "go1.99.1+auto"}),
    C("toolchain.download", "toolchain-zip-corrupt", "go.mod says go 1.99.0, GOTOOLCHAIN=auto; the proxy has golang.org/toolchain go1.99.0 but its .zip is a truncated upload",
      "build ./...", N2, user="nobody", files=project(go="1.99.0"),
      env={"GOTOOLCHAIN": "auto", "GOPROXY": "https://toolchain.corp.example"}),
    # ================================================================ round 16 (out16): kinds not produced before,
    # all run as nobody: a `,` list whose first entry has no route, an IPv6-literal GOPROXY, xargs feeding go mod download
    # -json; GONOPROXY sending a proxy-only module direct (make) and `env -i` dropping GOPROXY; the corp wildcard
    # certificate expired (on the code host in direct mode, and behind a 410 in a `,` list); GOVCS private:… while the
    # path is private only to GONOPROXY, and GOVCS from the go env file; path mismatches under go install pkg@version and
    # go work sync; a download lock under a CI retry loop; an empty resolv.conf, and git sent by insteadOf to a name that
    # SERVFAILs; a pseudo-version whose base tag is missing, +incompatible on v1; a go.sum with two zip lines (the wrong
    # one first) and a wrong go.work.sum; a go-import tag in <body>; an extracted module directory emptied; a go.sum
    # without /go.mod lines; GOPROXY without the port of the python http.server; a .zip redirected to a host that drops
    # SYNs; GOPROXY=off from the go env file and first in a list; GOINSECURE for a self-signed GOPROXY; git sent by
    # insteadOf to a path the server lacks; successes (a pattern that matched nothing, -mod=mod adding a requirement,
    # git's sslCAInfo naming another CA, a deleted cached zip under go mod verify, a workspace without checksums) and
    # configurations go refuses (-mod=mod in a workspace, GO111MODULE=off). See FINDINGS.md for the relabelled and
    # dropped ones (git sent to a host without a route, a go-import tag naming an http:// repository)
    C("net.unreachable", "comma-first-no-route-to-host-list-m-all", "GOPROXY='dc3,proxy' (comma): the first proxy is in a subnet with `ip route add unreachable`; go list -m all",
      "list -m all", A3, user="nobody", env={"GOPROXY": "https://proxy.dc3.corp.example,https://proxy.corp.example"}),
    C("net.unreachable", "ipv6-literal-goproxy-test-json", "GOPROXY=http://[2001:db8::1]:8081 (an IPv6 literal; the runner has no IPv6 route); go test -json",
      "test -json ./...", A3, user="nobody", env={"GOPROXY": "http://[2001:db8::1]:8081"}),
    C("dns.nxdomain", "gonoproxy-sends-proxy-module-direct-make", "GONOPROXY=corp.example (meant for the git host) sends corp.example/lib, which only the proxy has, direct; corp.example does not resolve; CI runs make build",
      [], A3, user="nobody", env={"GONOPROXY": "corp.example"}, shell="make build",
      files=dict(project(), Makefile="build:\n\tgo build ./...\n")),
    C("dns.nxdomain", "env-i-wrapper-drops-goproxy", "a CI script runs go under `env -i PATH=… HOME=…`, so GOPROXY falls back to proxy.golang.org, which does not resolve on the isolated network",
      [], A3, user="nobody", shell='env -i PATH="$PATH" HOME="$HOME" go mod download'),
    C("tls.expired", "direct-code-host-cert-expired-tidy-tee", "GOPROXY=direct; the code host presents the *.corp.example certificate that expired 2024-01-01; CI pipes go mod tidy through tee with pipefail",
      [], A3, user="nobody", env=PRIVDIRECT, hosts={"git.corp.example": "127.0.0.75"},
      files=project((), imports=["git.corp.example/lib"]), shell="set -o pipefail; go mod tidy 2>&1 | tee tidy.log"),
    C("tls.expired", "comma-list-410-then-cert-expired-get-x", "GOPROXY='athens,goproxy2' (comma): athens answers 410, the second proxy presents a certificate that expired 2024-01-01; go get -x",
      "get -x corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY,
      env={"GOPROXY": "https://athens.corp.example,https://goproxy2.corp.example"}, hosts={"goproxy2.corp.example": "127.0.0.75"}),
    C("vcs.disallowed", "govcs-private-git-path-only-in-gonoproxy", "GOVCS='private:git,public:off'; git.corp.example is in GONOPROXY and GONOSUMDB but not GOPRIVATE, so GOVCS calls it public",
      "get git.corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY, show=("GOVCS",),
      env={"GOPROXY": "https://proxy.corp.example", "GONOPROXY": "git.corp.example", "GONOSUMDB": "git.corp.example",
           "GOVCS": "private:git,public:off"}),
    C("module.path_mismatch", "install-at-version-declares-other-path", "go install corp.example/wrongpath@v1.0.0, whose go.mod says module corp.example/other",
      "install corp.example/wrongpath@v1.0.0", A3, user="nobody", files=EMPTY),
    C("module.path_mismatch", "work-sync-module-requires-other-path", "go.work uses two modules; app requires corp.example/wrongpath v1.0.0, whose go.mod says module corp.example/other; go work sync",
      "work sync", A3, user="nobody", files=workspace((("corp.example/wrongpath", "v1.0.0"),))),
    C("cache.lock_stuck", "download-lock-held-ci-retry-loop", "another process (same user) holds flock on cache/download/…/v1.0.0.lock; the CI step retries `timeout 4 go mod download` three times",
      [], A3, user="nobody", show=("GOMODCACHE",), prep=hold_lock_nobody(lambda run: dl_path(run, "lock")),
      shell='for i in 1 2 3; do timeout 4 go mod download -x && exit 0; echo "go mod download failed (attempt $i), retrying" >&2; sleep 1; done; exit 1'),
    C("dns.failure", "resolv-conf-no-nameserver", "/etc/resolv.conf has no nameserver line (a DHCP hook left it empty) and the proxy's name is not in /etc/hosts",
      "mod download -x", A3, user="nobody", hosts={"proxy.corp.example": None},
      resolv="# Generated by NetworkManager\n"),
    C("dns.failure", "git-insteadof-host-servfail", "~/.gitconfig rewrites https://git.corp.example/ to git.ad.corp.example, whose name the resolver answers with SERVFAIL; GOPROXY=direct",
      "get git.corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY, env=PRIVDIRECT,
      prep=gitconfig('[url "https://git.ad.corp.example/"]\n\tinsteadOf = https://git.corp.example/\n')),
    C("module.invalid_version", "pseudo-version-base-tag-missing", "go.mod requires v1.5.1-0.<right time>-<right commit> of git.corp.example/lib: the pseudo-version says it follows v1.5.0, a tag the repository does not have",
      "build ./...", A3, user="nobody", files=project((("git.corp.example/lib", "v1.0.0"),), sum_=False),
      env=dict(PRIVDIRECT, GOFLAGS="-mod=mod"), prep=pseudo_require("git.corp.example/lib", "v1.5.1-0.20240101000000-{hash12}")),
    C("module.invalid_version", "incompatible-suffix-on-v1-direct", "go.mod requires git.corp.example/lib v1.0.0+incompatible (the suffix is for v2+ without go.mod); GOPROXY=direct, GOFLAGS=-mod=mod",
      "list -m all", A3, user="nobody", files=project((("git.corp.example/lib", "v1.0.0+incompatible"),)),
      env=dict(PRIVDIRECT, GOFLAGS="-mod=mod")),
    C("sumdb.mismatch", "gosum-two-zip-lines-wrong-first-nice", "go.sum has two zip lines for corp.example/lib v1.0.0 (a merge kept both), the wrong one first; CI runs go under nice",
      [], A3, user="nobody", files=gosum_wrong_line_first(), shell="nice -n 10 go build ./..."),
    C("sumdb.mismatch", "go-work-sum-wrong-hash", "go.work uses two modules without go.sum; go.work.sum holds a wrong zip hash for corp.example/lib",
      "build ./app/...", A3, user="nobody", files=workspace_worksum_wrong()),
    C("vcs.meta", "go-import-tag-in-body", "the ?go-get=1 page puts its go-import tag in <body> (a CMS template); go stops reading at <body>",
      "get code.corp.example/bodymeta@v1.0.0", A3, user="nobody", files=EMPTY,
      env={"GOPROXY": "direct", "GOPRIVATE": "code.corp.example,git.corp.example"}),
    C("cache.corrupt", "extracted-dir-emptied-build", "the extracted corp.example/lib@v1.0.0 directory is there but empty (a CI cache restored with directories only)",
      "build ./...", A3, user="nobody", prep=chain(populate_nobody(LIB), empty_extracted)),
    C("module.go_sum_missing", "gosum-without-gomod-lines-install", "go.sum holds corp.example/lib's zip line but not its /go.mod line; GOFLAGS=-mod=readonly; go install ./...",
      "install ./...", A3, user="nobody", files=gosum_without_gomod_lines(), env={"GOFLAGS": "-mod=readonly"}),
    C("net.refused", "goproxy-python-http-server-port-missing", "GOPROXY=http://files.corp.example (the stock python http.server listens on 8000; nothing on 80); go mod tidy",
      "mod tidy", A3, user="nobody", files=TIDY, env={"GOPROXY": "http://files.corp.example"}),
    C("net.timeout", "zip-redirect-cdn-syn-dropped", "proxy answers .zip with 302 to a CDN host whose accept queue is full (SYNs dropped)",
      "mod download", A3, user="nobody", env={"GOPROXY": "https://redirsyn.corp.example"}),
    C("proxy.off", "goenv-file-goproxy-off", "$HOME/.config/go/env (go env -w) says GOPROXY=off; GOPROXY is not in the environment",
      "build ./...", A3, user="nobody", env={"GOPROXY": None}, prep=goenv_file("GOPROXY=off\n")),
    # meant as tls.unknown_authority; Debian's git (libcurl-gnutls) still reads /etc/ssl/certs besides the CAfile (FINDINGS.md)
    C("none", "gitconfig-sslcainfo-other-ca", "~/.gitconfig sets http.sslCAInfo to a bundle holding another CA only; GOPROXY=direct",
      "get git.corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY, env=PRIVDIRECT, prep=gitconfig_cainfo_other_ca),
    C("vcs.not_found", "git-insteadof-wrong-mirror-path", "~/.gitconfig rewrites https://git.corp.example/ to https://git.corp.example/mirror/, where the server has no repositories; GOPROXY=direct",
      "get git.corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY, env=PRIVDIRECT,
      prep=gitconfig('[url "https://git.corp.example/mirror/"]\n\tinsteadOf = https://git.corp.example/\n')),
    C("none", "vet-warning-pattern-matched-no-packages", "CI runs go vet ./... ./tools/...; tools/ holds only a shell script",
      "vet ./... ./tools/...", A3, user="nobody", files=dict(project(), **{"tools/gen.sh": "#!/bin/sh\necho generating\n"})),
    C("net.unreachable", "xargs-download-json-no-route-to-host", "GOPROXY in a subnet with `ip route add unreachable`; CI feeds module@version lines to xargs go mod download -json",
      [], A3, user="nobody", files=EMPTY, env={"GOPROXY": "https://proxy.dc3.corp.example"},
      shell="echo corp.example/lib@v1.0.0 corp.example/util@v1.0.0 | xargs go mod download -json"),
    C("tls.unknown_authority", "goinsecure-does-not-cover-goproxy", "GOPROXY's certificate is self-signed; GOINSECURE names the proxy host in the belief that it skips verification (it covers direct fetches only)",
      "get corp.example/lib@v1.0.0", A3, user="nobody", files=EMPTY,
      env={"GOPROXY": "https://selfsigned.corp.example", "GOINSECURE": "selfsigned.corp.example"}),
    C("none", "build-goflags-mod-mod-adds-requirement", "main.go imports corp.example/lib, go.mod does not require it; GOFLAGS=-mod=mod lets go build add it",
      "build ./...", A3, user="nobody", files=TIDY, env={"GOFLAGS": "-mod=mod"}),
    C("unknown", "workspace-goflags-mod-mod", "go.work uses two modules; GOFLAGS=-mod=mod (left from a single-module CI config); go test",
      "test ./app/...", A3, user="nobody", files=workspace(), env={"GOFLAGS": "-mod=mod"}),
    C("unknown", "go111module-off-build", "GO111MODULE=off left in a CI image's environment; go build in a module",
      "build ./...", A3, user="nobody", env={"GO111MODULE": "off"}, show=("GO111MODULE",)),
    # meant as cache.corrupt; go mod verify checks the extracted directory against .ziphash and does not miss the zip
    C("none", "verify-cached-zip-deleted", "cache/download's v1.0.0.zip deleted (the extracted directory and .ziphash kept); go mod verify",
      "mod verify", A3, user="nobody", prep=chain(populate_nobody(LIB), delete_cached_zip)),
    C("proxy.off", "off-first-in-list-tidy", "GOPROXY='off,https://proxy.corp.example' (meant as: cache first, then the proxy); go mod tidy",
      "mod tidy", A3, user="nobody", files=TIDY, env={"GOPROXY": "off,https://proxy.corp.example"}),
    # meant as module.go_sum_missing; in workspace mode go built and tested without a checksum line anywhere (FINDINGS.md)
    C("none", "workspace-app-gosum-missing-test", "go.work uses two modules; app requires corp.example/lib but has no go.sum, and there is no go.work.sum; go test",
      "test ./app/...", A3, user="nobody", files=workspace(sums=False)),
    C("vcs.disallowed", "goenv-file-govcs-private-off", "$HOME/.config/go/env (go env -w, from a lockdown guide) says GOVCS=private:off; GOVCS is not in the environment; GOPROXY=direct; go mod download -x",
      "mod download -x", A3, user="nobody", files=project((("git.corp.example/lib", "v1.0.0"),), sum_=False), env=PRIVDIRECT,
      prep=goenv_file("GOVCS=private:off\n")),
]

if __name__ == "__main__":
    main()
