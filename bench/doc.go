// Package bench holds Sigil's performance harness: Go benchmarks of the
// real authentication paths in-process (bench_test.go), of `sigil proxy`
// (gateway_test.go) and of the verify middleware (verify_test.go), and, in bench/load,
// a loopback load driver that runs the real `sigil serve` binary as a
// child process. Every figure is printed beside the cost of one raw
// ed25519.Verify measured in the same process, so results from a busy or
// a different machine stay comparable (see README.md).
//
// It owns measurement only. It must not change or reach into server code
// beyond its exported API (authn, token, httpapi, gateway, ratelimit,
// testenv, client, verify); a performance
// problem found here is reported, not patched from here.
package bench
