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
package main

import (
	"bufio"
	"crypto/tls"
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
	flag.Parse()

	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		host := strings.SplitN(r.Host, ":", 2)[0]
		log.Printf("%s %s %s", host, r.Method, r.URL.Path)
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
	log.Fatal(srv.ListenAndServeTLS(*cert, *key))
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
