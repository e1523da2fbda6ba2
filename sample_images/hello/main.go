// hello: the tiny static HTTP server of the hello-debian / hello-distroless samples.
//
// It is the "application" of a multi-stage build: compiled with CGO_ENABLED=0,
// so it needs no libc and runs on distroless/static as well as on debian:12-slim.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
)

func main() {
	addr := flag.String("addr", ":8080", "listen address")
	flag.Parse()
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		host, _ := os.Hostname()
		fmt.Fprintf(w, "hello from %s (uid %d)\n", host, os.Getuid())
	})
	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	log.Printf("hello: listening on %s", *addr)
	log.Fatal(http.ListenAndServe(*addr, nil))
}
