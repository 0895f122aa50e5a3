// Package loadkit is what Sigil's load tools share: child processes
// (start, readiness, stop, kill, CPU and memory from /proc), a keep-alive
// HTTP client of Sigil's API with the calls the workloads make, the
// machine's description and the raw ed25519.Verify baseline every figure
// is printed beside, PostgreSQL schemas and the CPU of their backends.
//
// bench/load (one server, one scenario at a time) and bench/cluster
// (replicas behind a load balancer, under faults) both use it, so a
// figure of one means what the same figure of the other means. It talks
// to servers over HTTP and reads /proc only; it must not import server
// packages.
package loadkit
