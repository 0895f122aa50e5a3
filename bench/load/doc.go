// Command load is Sigil's loopback load driver:
//
//	go run ./bench/load [--db sqlite|postgres] [--duration 10s] [--conc 8] [--out report.md]
//
// It builds (or takes --bin) the real `sigil` binary, runs `sigil serve` as
// a child process on a free 127.0.0.1 port with rate limits off, and
// measures start to ready (spawn → first 200 from /readyz), idle RSS, and
// then, for a fixed duration each, the scenarios login (code → sign →
// token), refresh (a rotating chain per worker), hello (GET / with an
// access token, cache warm) and hello-baseline (the same GET / answered by
// the trivial server in ./plain, another child process), then the
// credential scenarios apikey-hello, authorize (forward-auth), jwt-hello,
// jwks, client-credentials, introspect and password-login
// (scenarios_creds.go). For each it
// reports operations/s, p50/p99 latency, errors and the server's CPU per
// operation (utime+stime from /proc/<pid>/stat), every time figure beside
// one raw ed25519.Verify measured in the same run. The report is Markdown.
//
// The driver shares the machine's cores with the server on purpose (that
// is the condition of the targets); the report says so and shows the
// driver's own CPU too.
//
// It owns measurement only: it talks to the server over HTTP, reads /proc,
// and must not change server code. The one server package it imports is
// internal/password, and only to time one argon2id hash with the server's
// own code and parameters (the password-login target's unit); nothing on
// the request path.
package main
