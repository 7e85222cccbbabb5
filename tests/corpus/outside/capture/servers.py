#!/usr/bin/env python3
"""Fake corporate network for capture.py: HTTP(S) virtual hosts, raw misbehaving
TCP listeners, HTTP CONNECT proxies and a tiny DNS server.

Python 3.11 stdlib only.  Started by capture.py inside its private network
namespace as `python3 servers.py CONFIG.json`; prints READY on stdout once all
listeners are bound and runs until killed.

CONFIG (JSON):
  vhosts:    {name: [route, ...]}        routes are tried in order
  listeners: [{ip, port, mode, tls?: {cert, key}, vhost?}]
  dns:       {ip, port, servfail: [suffix], drop: [suffix], servfail6: [suffix], drop6: [suffix],
              drop4: [suffix], truncate: [suffix], a: {name: ip}, aaaa: {name: ipv6}}
             (servfail6/drop6 apply to AAAA queries only, A is answered; drop4 drops only A
              queries and answers AAAA with NOERROR and no records; truncate answers with
              the TC bit set and no records, so the client must retry over TCP, where
              nothing listens; a name only in `aaaa` gets NOERROR without records for A;
              round 13: `lame`: [suffix] gets NOERROR, no records, and neither the RA nor the AA bit,
              a referral from a server that does not recurse)
  log:       path of a request log

route: {"re": regex matched against the request target (path?query),
        "action": "proxy" | "static" | "redirect" | "git" | "truncate" | "shortlen" |
                  "gzipcut" | "headclose" | "halfhead" (round 12),
        ...action parameters (see Handler.act_*)}
listener modes:
  http          serve vhosts (Host header picks the vhost, else `vhost`); `tls`: {cert, key,
                max_version?: "TLSv1", ciphers?: OpenSSL cipher string}
  silent        accept and never read or write (TLS handshake timeout / hang)
  tls_silent    complete the TLS handshake, then never answer
  rst           read the first bytes, then close with SO_LINGER 0 (RST)
  tls_rst       TLS handshake, read the request, then RST
  connect       HTTP proxy: CONNECT answered with `status` (200 = tunnel);
                `after_connect`: "close" = read the CONNECT and close without a word,
                "drop_tunnel" = answer 200 Connection established, then close;
                `auth`: {user, pass} = 407 unless Proxy-Authorization carries them;
                a plain-http GET (absolute URL) gets the same refusal when `status` is not 200
  backlog_full  round 13: listen with a backlog of 0 and never accept; two connections made at start fill
                the accept queue, so the kernel drops every later SYN (go's dial times out)
  socks         SOCKS5 proxy: no-auth greeting accepted, every CONNECT answered with reply
                code `rep` (e.g. 2 = connection not allowed by ruleset), then closed
"""
import base64
import gzip
import http.server
import json
import os
import re
import socket
import socketserver
import ssl
import struct
import subprocess
import sys
import threading
import time

CFG = json.load(open(sys.argv[1]))
LOG_LOCK = threading.Lock()
HELD = []  # sockets kept open on purpose


def log(msg):
    with LOG_LOCK:
        with open(CFG["log"], "a") as f:
            f.write("%.3f %s\n" % (time.time(), msg))


def linger0_close(sock):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""

    def log_message(self, fmt, *args):
        log("%s %s %s" % (self.server.lname, self.headers.get("Host", "-") if hasattr(self, "headers") else "-", fmt % args))

    def setup(self):
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(30)
            self.request.do_handshake()
            self.request.settimeout(None)
        super().setup()

    # --- dispatch -----------------------------------------------------
    def handle_any(self):
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        vhost = CFG["vhosts"].get(host) or CFG["vhosts"].get(self.server.default_vhost) or []
        for route in vhost:
            m = re.search(route["re"], self.path)
            if m:
                getattr(self, "act_" + route["action"])(route, m)
                return
        self.reply(404, "text/plain; charset=utf-8", "404 page not found\n")

    do_GET = do_POST = do_HEAD = handle_any

    def do_CONNECT(self):
        self.reply(405, "text/plain", "CONNECT not supported here\n")

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                line = self.rfile.readline().strip()
                n = int(line.split(b";")[0], 16)
                if n == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(n)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def reply(self, status, ctype, body, headers=None):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def fill(self, text, m):
        text = text.replace("{path}", self.path)
        for i, g in enumerate(m.groups(), 1):
            text = text.replace("{g%d}" % i, g or "")
        return text

    # --- actions --------------------------------------------------------
    def act_static(self, r, m):
        self.reply(r.get("status", 200), r.get("ctype", "text/plain; charset=utf-8"),
                   self.fill(r.get("body", ""), m), r.get("headers"))

    def act_redirect(self, r, m):
        self.reply(r.get("status", 302), "text/html", "<a href=\"%s\">Found</a>.\n" % r["location"],
                   {"Location": self.fill(r["location"], m)})

    def act_proxy(self, r, m):
        """GOPROXY protocol from a directory tree (module paths already escaped);
        `headers` are added to every file served (e.g. a wrong Content-Encoding)."""
        root = CFG["modroots"][r["root"]]
        path = self.path.split("?")[0]
        if r.get("prefix"):
            path = path[len(r["prefix"]):]
        rel = os.path.normpath(path.lstrip("/"))
        full = os.path.join(root, rel)
        if not rel.startswith("..") and os.path.isfile(full):
            ctype = {"info": "application/json", "zip": "application/zip"}.get(full.rsplit(".", 1)[-1], "text/plain; charset=utf-8")
            with open(full, "rb") as f:
                self.reply(200, ctype, f.read(), r.get("headers"))
            return
        status = r.get("missing_status", 404)
        style = r.get("missing_body", "text")
        what = path.lstrip("/")
        if "/@v/" in what:
            mod, _, file = what.partition("/@v/")
            ver = file.rsplit(".", 1)[0] if file != "list" else ""
            what = "%s@%s" % (mod, ver) if ver else mod
        elif what.endswith("/@latest"):
            what = what[: -len("/@latest")] + "@latest"
        if style == "text":
            text = r.get("missing_text", "not found: {what}\n")
            if "/@v/" in path and os.path.isdir(os.path.join(root, path.lstrip("/").partition("/@v/")[0], "@v")) \
                    and path.rsplit(".", 1)[-1] in ("info", "mod", "zip"):
                # the module exists but not this version: word it like proxy.golang.org does
                text = "not found: {what}: invalid version: unknown revision %s\n" % what.rpartition("@")[2]
            self.reply(status, "text/plain; charset=utf-8", text.replace("{what}", what))
        elif style == "html":
            self.reply(status, "text/html", "<html><body><h1>%d Not Found</h1></body></html>\n" % status)
        else:
            self.reply(status, None, b"")

    def act_shortlen(self, r, m):
        """Serve the proxy file, but with a Content-Length `cut` bytes too small (and only that many bytes)."""
        root = CFG["modroots"][r["root"]]
        full = os.path.join(root, os.path.normpath(self.path.split("?")[0].lstrip("/")))
        data = open(full, "rb").read()
        body = data[: max(0, len(data) - r.get("cut", 100))]
        self.send_response(200)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def act_truncate(self, r, m):
        """Promise `length` bytes, send `send` bytes, then close (FIN or RST), or with
        `stall` keep the connection open and send nothing more (a stalled transfer)."""
        self.send_response(200)
        self.send_header("Content-Type", r.get("ctype", "application/zip"))
        self.send_header("Content-Length", str(r.get("length", 200000)))
        self.end_headers()
        self.wfile.write(b"PK\x03\x04" + b"\0" * (r.get("send", 1000) - 4))
        self.wfile.flush()
        if r.get("stall"):
            HELD.append(self.connection)
            time.sleep(3600)
        time.sleep(0.2)
        self.close_connection = True
        sock = self.connection
        if r.get("rst"):
            linger0_close(sock)
        else:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    # --- round 12 -------------------------------------------------------
    def proxy_file(self, r):
        root = CFG["modroots"][r.get("root", "main")]
        full = os.path.join(root, os.path.normpath(self.path.split("?")[0].lstrip("/")))
        return open(full, "rb").read() if os.path.isfile(full) else None

    def act_gzipcut(self, r, m):
        """round 12: the proxy file gzip-compressed (Content-Encoding: gzip), the compressed stream cut to
        `keep` of its length; Content-Length matches what is sent, so the HTTP response itself is complete."""
        data = self.proxy_file(r)
        if data is None:
            self.reply(404, "text/plain; charset=utf-8", "not found\n")
            return
        z = gzip.compress(data, mtime=0)
        self.reply(200, r.get("ctype", "application/octet-stream"), z[: int(len(z) * r.get("keep", 0.5))],
                   {"Content-Encoding": "gzip"})

    def act_headclose(self, r, m):
        """round 12: status line and headers (Content-Length of the real file), then close without a body byte."""
        data = self.proxy_file(r) or b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.flush()
        time.sleep(0.1)
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def act_halfhead(self, r, m):
        """round 12: a slowloris answer: the status line and one header, never the blank line; then silence."""
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        self.wfile.flush()
        HELD.append(self.connection)
        time.sleep(3600)

    def act_git(self, r, m):
        auth = r.get("auth")
        if auth:
            want = "Basic " + base64.b64encode(("%s:%s" % (auth["user"], auth["pass"])).encode()).decode()
            if self.headers.get("Authorization") != want:
                self.reply(401, "text/plain", "Authentication required\n",
                           {"WWW-Authenticate": 'Basic realm="%s"' % auth.get("realm", "Corp Git")})
                return
        body = self.read_body()
        path, _, query = self.path.partition("?")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": CFG["gitroot"],
            "GIT_HTTP_EXPORT_ALL": "1",
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": self.client_address[0],
            "REMOTE_USER": auth["user"] if auth else "",
            "HOME": CFG["gitroot"],
        }
        for h in ("Git-Protocol", "Content-Encoding"):
            if self.headers.get(h):
                env["HTTP_" + h.upper().replace("-", "_")] = self.headers[h]
        p = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True)
        head, _, out = p.stdout.partition(b"\r\n\r\n")
        if not _:
            head, _, out = p.stdout.partition(b"\n\n")
        status, headers = 200, {}
        for line in head.decode("latin-1").splitlines():
            k, _, v = line.partition(":")
            if k.lower() == "status":
                status = int(v.strip().split()[0])
            elif k:
                headers[k.strip()] = v.strip()
        ctype = headers.pop("Content-Type", "text/plain")
        self.reply(status, ctype, out, headers)


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    """Forward proxy that only knows CONNECT."""
    protocol_version = "HTTP/1.1"
    server_version = "squid/5.7"
    sys_version = ""

    def log_message(self, fmt, *args):
        log("%s %s" % (self.server.lname, fmt % args))

    def refuse(self, st):
        hdr = {"Proxy-Authenticate": 'Basic realm="Corp Proxy"'} if st == 407 else {}
        body = self.server.cfg.get("body", "").encode()
        self.send_response(st)
        for k, v in hdr.items():
            self.send_header(k, v)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def authorized(self):
        auth = self.server.cfg.get("auth")
        if not auth:
            return True
        want = "Basic " + base64.b64encode(("%s:%s" % (auth["user"], auth["pass"])).encode()).decode()
        got = self.headers.get("Proxy-Authorization")
        log("%s Proxy-Authorization %s" % (self.server.lname, "ok" if got == want else "wrong" if got else "absent"))
        return got == want

    def do_CONNECT(self):
        after = self.server.cfg.get("after_connect")
        if after == "close":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if after == "drop_tunnel":
            self.send_response(200, "Connection established")
            self.end_headers()
            self.wfile.flush()
            self.close_connection = True
            time.sleep(0.1)
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        st = self.server.cfg.get("status", 200)
        if st == 200 and not self.authorized():
            st = 407
        if st != 200:
            self.refuse(st)
            return
        host, _, port = self.path.rpartition(":")
        try:
            up = socket.create_connection((host, int(port)), timeout=5)
        except OSError as e:
            self.send_error(502, str(e))
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.close_connection = True
        a = self.connection
        up.settimeout(None)

        def pump(src, dst):
            try:
                while True:
                    d = src.recv(65536)
                    if not d:
                        break
                    dst.sendall(d)
            except OSError:
                pass
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        t = threading.Thread(target=pump, args=(up, a), daemon=True)
        t.start()
        pump(a, up)
        t.join(10)
        up.close()

    def do_GET(self):
        """Plain-http forwarding (GET http://host/path): refused like CONNECT when `status`
        is not 200; this proxy forwards nothing itself."""
        st = self.server.cfg.get("status", 200)
        if st != 200:
            self.refuse(st)
            return
        self.send_error(400, "only CONNECT")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, lcfg, handler):
        self.cfg = lcfg
        self.lname = "%s:%s" % (lcfg["ip"], lcfg["port"])
        self.default_vhost = lcfg.get("vhost")
        self.tls = None
        if lcfg.get("tls"):
            self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            # round 11: `cert` may hold the leaf plus intermediates; `max_version` ("TLSv1")
            # caps the protocol (an old appliance), with `ciphers` lowering OpenSSL's level
            if lcfg["tls"].get("ciphers"):
                self.tls.set_ciphers(lcfg["tls"]["ciphers"])
            if lcfg["tls"].get("max_version"):
                v = getattr(ssl.TLSVersion, lcfg["tls"]["max_version"])
                self.tls.minimum_version = self.tls.maximum_version = v
            self.tls.load_cert_chain(lcfg["tls"]["cert"], lcfg["tls"]["key"])
        super().__init__((lcfg["ip"], lcfg["port"]), handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.tls:
            # handshake happens lazily in the handler thread
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        log("%s error from %s: %r" % (self.lname, client_address, sys.exc_info()[1]))


def raw_listener(lcfg):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((lcfg["ip"], lcfg["port"]))
    if lcfg["mode"] == "backlog_full":
        ls.listen(0)
        for _ in range(2):   # fill the accept queue; nobody ever accepts
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex((lcfg["ip"], lcfg["port"]))
            HELD.append(c)
        HELD.append(ls)
        return
    ls.listen(64)
    ctx = None
    if lcfg.get("tls"):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(lcfg["tls"]["cert"], lcfg["tls"]["key"])
    mode = lcfg["mode"]
    name = "%s:%s" % (lcfg["ip"], lcfg["port"])

    def serve(c):
        try:
            if mode == "silent":
                HELD.append(c)
                return
            if mode.startswith("tls_"):
                c = ctx.wrap_socket(c, server_side=True)
            if mode.endswith("silent"):
                c.recv(65536)
                HELD.append(c)
                return
            c.settimeout(2)
            try:
                c.recv(65536)
            except OSError:
                pass
            linger0_close(c)
        except Exception as e:  # client gave up, bad handshake, ...
            log("%s %s: %r" % (name, mode, e))

    def loop():
        while True:
            c, addr = ls.accept()
            log("%s %s accepted %s" % (name, mode, addr))
            threading.Thread(target=serve, args=(c,), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()


def socks_listener(lcfg):
    """SOCKS5 (RFC 1928): accept the no-auth greeting, answer every CONNECT with
    reply code `rep` and close."""
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((lcfg["ip"], lcfg["port"]))
    ls.listen(64)
    name = "%s:%s" % (lcfg["ip"], lcfg["port"])

    def serve(c):
        try:
            c.settimeout(5)
            ver, n = c.recv(2)
            c.recv(n)
            c.sendall(bytes([5, 0]))                      # no authentication required
            req = c.recv(512)                             # VER CMD RSV ATYP DST.ADDR DST.PORT
            log("%s socks request %r" % (name, req))
            c.sendall(bytes([5, lcfg.get("rep", 2), 0, 1, 0, 0, 0, 0, 0, 0]))
            time.sleep(0.1)
        except Exception as e:
            log("%s socks: %r" % (name, e))
        c.close()

    def loop():
        while True:
            c, _ = ls.accept()
            threading.Thread(target=serve, args=(c,), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()


def dns_server(dcfg):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((dcfg["ip"], dcfg.get("port", 53)))

    def loop():
        while True:
            q, addr = s.recvfrom(4096)
            try:
                qid, flags = struct.unpack(">HH", q[:4])
                i, labels = 12, []
                while q[i]:
                    labels.append(q[i + 1:i + 1 + q[i]].decode().lower())
                    i += 1 + q[i]
                qtype, = struct.unpack(">H", q[i + 1:i + 3])
                question = q[12:i + 5]
                name = ".".join(labels)
                match = lambda key: any(name == x or name.endswith("." + x) for x in dcfg.get(key, []))
                if match("drop") or (qtype == 28 and match("drop6")) or (qtype == 1 and match("drop4")):
                    log("dns %s type %d: dropped" % (name, qtype))
                    continue
                rcode, answers, tc, ra = 3, b"", 0, 0x0080
                a, aaaa = dcfg.get("a", {}), dcfg.get("aaaa", {})
                if match("servfail") or (qtype == 28 and match("servfail6")):
                    rcode = 2
                elif match("lame"):
                    rcode, ra = 0, 0                      # round 13: no answer, no recursion available
                elif match("truncate"):
                    rcode, tc = 0, 0x0200                 # "too big for UDP, ask over TCP"
                elif name in a or name in aaaa:
                    rcode = 0
                    if qtype == 1 and name in a:
                        answers = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton(a[name])
                    elif qtype == 28 and name in aaaa:
                        answers = b"\xc0\x0c" + struct.pack(">HHIH", 28, 1, 60, 16) + \
                            socket.inet_pton(socket.AF_INET6, aaaa[name])
                resp = struct.pack(">HHHHHH", qid, 0x8000 | tc | (flags & 0x0100) | ra | rcode, 1,
                                   1 if answers else 0, 0, 0) + question + answers
                log("dns %s type %d: rcode %d" % (name, qtype, rcode))
                s.sendto(resp, addr)
            except Exception as e:
                log("dns bad query: %r" % e)
    threading.Thread(target=loop, daemon=True).start()


def main():
    for lcfg in CFG["listeners"]:
        mode = lcfg["mode"]
        if mode in ("http", "connect"):
            srv = Server(lcfg, Handler if mode == "http" else ProxyHandler)
            threading.Thread(target=srv.serve_forever, daemon=True).start()
        elif mode == "socks":
            socks_listener(lcfg)
        else:
            raw_listener(lcfg)
    if CFG.get("dns"):
        dns_server(CFG["dns"])
    print("READY", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
