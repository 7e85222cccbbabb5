// gosrv: a small Go HTTPS server for capture.py (round 10) that serves a GOPROXY tree
// and breaks the transfer encoding on purpose, as a buggy middlebox or a hand-written
// proxy in Go would. Built by capture.py with the first --go binary (stdlib only).
//
//	gosrv -listen 127.0.0.63:443 -cert C -key K -root DIR
//
// Faults by Host header:
//
//	chunkbad.corp.example  .info: "Transfer-Encoding: chunked" with a chunk size that is not hex
//	chunkcut.corp.example  .zip: chunked, one 4096-byte chunk, then the connection closes
//	                       without the terminating zero-length chunk
//	anything else          the tree as it is (Content-Length set by net/http)
//
// Round 11 adds a checksum database (sumdb protocol: /lookup and one hash tile) for
// GOSUMDB=<host>+<vkey>, whose records come from -sumdb DIR (DIR/<host>/<module>@<version>
// holds the record text). Each lookup answers a tree of size 1 made of that record, so
// one go run may look up only one module@version per database:
//
//	sumdb-bad.corp.example     correctly signed, but the record's hashes are what DIR says
//	                           (capture.py writes a wrong zip hash there)
//	sumdb-badsig.corp.example  right hashes, signature made with another key under the
//	                           trusted key's name and hash
//	sumdb-500.corp.example     /lookup answers 500 text/plain
//	sumdb-html.corp.example    /lookup answers 200 with an HTML sign-in page
//	sumdb-good.corp.example    (round 15) correctly signed, the main tree's real hashes
//
// `gosrv -vkey NAME` prints the verifier key of NAME's signing key and exits. With
// -listen2, a second listener speaks HTTP/2 (ALPN h2); there h2reset.corp.example's
// handler aborts on every .zip, so the client gets RST_STREAM INTERNAL_ERROR.
package main

import (
	"bufio"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	listen := flag.String("listen", "127.0.0.63:443", "address")
	cert := flag.String("cert", "", "certificate (PEM)")
	key := flag.String("key", "", "key (PEM)")
	root := flag.String("root", "", "GOPROXY tree")
	sumdir := flag.String("sumdb", "", "checksum database records (DIR/<host>/<module>@<version>)")
	vkey := flag.String("vkey", "", "print the verifier key for this database name and exit")
	listen2 := flag.String("listen2", "", "second address, HTTP/2 enabled")
	flag.Parse()
	if *vkey != "" {
		fmt.Println(verifierKey(*vkey))
		return
	}

	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		host := strings.SplitN(r.Host, ":", 2)[0]
		log.Printf("%s %s %s", host, r.Method, r.URL.Path)
		if strings.HasPrefix(host, "sumdb-") {
			sumdb(w, r, host, *sumdir)
			return
		}
		if host == "h2reset.corp.example" && strings.HasSuffix(r.URL.Path, ".zip") {
			panic(http.ErrAbortHandler) // HTTP/2: RST_STREAM INTERNAL_ERROR
		}
		full := filepath.Join(*root, filepath.FromSlash(filepath.Clean("/"+r.URL.Path)))
		data, err := os.ReadFile(full)
		if err != nil {
			http.Error(w, "not found: "+strings.TrimPrefix(r.URL.Path, "/"), http.StatusNotFound)
			return
		}
		switch {
		case host == "chunkbad.corp.example" && strings.HasSuffix(r.URL.Path, ".info"):
			raw(w, func(bw *bufio.Writer) {
				bw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
				bw.WriteString("zz\r\n") // not a hex chunk size
				bw.Write(data)
				bw.WriteString("\r\n0\r\n\r\n")
			})
		case host == "chunkcut.corp.example" && strings.HasSuffix(r.URL.Path, ".zip"):
			raw(w, func(bw *bufio.Writer) {
				bw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/zip\r\nTransfer-Encoding: chunked\r\n\r\n")
				n := 4096
				if n > len(data) {
					n = len(data) / 2
				}
				fmt.Fprintf(bw, "%x\r\n", n)
				bw.Write(data[:n])
				bw.WriteString("\r\n") // ...and no more chunks
			})
		default:
			w.Write(data)
		}
	})
	// HTTP/1.1 only, like most hand-written servers behind a TLS listener: hijacking (and a
	// broken chunked encoding) only exists there, and go would otherwise negotiate h2
	srv := &http.Server{Addr: *listen, TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){}}
	if *listen2 != "" {
		go func() { log.Fatal((&http.Server{Addr: *listen2}).ListenAndServeTLS(*cert, *key)) }()
	}
	log.Fatal(srv.ListenAndServeTLS(*cert, *key))
}

// signingKey is a fixed key per database name (a test key, not a secret).
func signingKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("modchaos outside capture sumdb key: " + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

func keyHash(name string, key []byte) uint32 {
	h := sha256.Sum256(append([]byte(name+"\n"), key...))
	return binary.BigEndian.Uint32(h[:4])
}

// verifierKey is golang.org/x/mod/sumdb/note's vkey: name+hash+base64(alg||pub).
func verifierKey(name string) string {
	key := append([]byte{1}, signingKey(name).Public().(ed25519.PublicKey)...)
	return fmt.Sprintf("%s+%08x+%s", name, keyHash(name, key), base64.StdEncoding.EncodeToString(key))
}

func sumdb(w http.ResponseWriter, r *http.Request, host, dir string) {
	switch host {
	case "sumdb-500.corp.example":
		http.Error(w, "internal error: database unavailable", http.StatusInternalServerError)
		return
	case "sumdb-html.corp.example":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!DOCTYPE html>\n<html><head><title>Sign in - Corp SSO</title></head><body><form method=\"post\"></form></body></html>\n")
		return
	}
	name := host
	if i := strings.Index(r.URL.Path, "/lookup/"); i >= 0 {
		rec, err := os.ReadFile(filepath.Join(dir, host, filepath.FromSlash(r.URL.Path[i+len("/lookup/"):])))
		if err != nil {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		leaf := sha256.Sum256(append([]byte{0}, rec...)) // tlog.RecordHash
		tree := fmt.Sprintf("go.sum database tree\n1\n%s\n", base64.StdEncoding.EncodeToString(leaf[:]))
		pub := append([]byte{1}, signingKey(name).Public().(ed25519.PublicKey)...)
		signer := signingKey(name)
		if host == "sumdb-badsig.corp.example" {
			signer = signingKey("another key")
		}
		sig := append(binary.BigEndian.AppendUint32(nil, keyHash(name, pub)), ed25519.Sign(signer, []byte(tree))...)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "0\n%s\n%s\n\u2014 %s %s\n", rec, tree, name, base64.StdEncoding.EncodeToString(sig))
		return
	}
	if strings.HasSuffix(r.URL.Path, "/tile/8/0/000.p/1") {
		// the one hash of the tree of size 1 that the last lookup of this host answered
		files, _ := filepath.Glob(filepath.Join(dir, host, "*", "*"))
		files2, _ := filepath.Glob(filepath.Join(dir, host, "*", "*", "*"))
		for _, f := range append(files, files2...) {
			if rec, err := os.ReadFile(f); err == nil {
				leaf := sha256.Sum256(append([]byte{0}, rec...))
				w.Write(leaf[:])
				return
			}
		}
	}
	http.Error(w, "not found", http.StatusNotFound)
}

// raw writes a hand-made response on the hijacked connection, then closes it.
func raw(w http.ResponseWriter, fn func(*bufio.Writer)) {
	conn, rw, err := w.(http.Hijacker).Hijack()
	if err != nil {
		log.Print(err)
		return
	}
	defer conn.Close()
	fn(rw.Writer)
	rw.Writer.Flush()
}
