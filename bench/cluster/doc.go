// Command cluster runs Sigil as replicas behind a real load balancer and
// breaks parts of it under load, checking the promises of API.md on every
// answer:
//
//	go run ./bench/cluster [faults] [--replicas 3] [--conc 8] [--calm 4s]
//	go run ./bench/cluster report [--duration 10s] [--out bench/REPORT.md]
//
// It builds `sigil` with -tags sigiltestclock (so one replica's clock can
// be moved) and starts, all on loopback: a private PostgreSQL 15 cluster
// (initdb into a temporary directory, run as the postgres user when
// root), a private redis-server, N `sigil serve` replicas on one database
// and haproxy in front of them (health check GET /readyz every 200 ms).
// Nothing is shared with other tests, so the faults disturb nobody.
//
// The workload (workload.go) is key-pair registrations and logins,
// password logins, refreshes, forward-auth GET /v1/authorize with access
// tokens and API keys, key creation and revocation, logouts and refresh
// races. The invariants: no 5xx or missing answer outside a fault's
// window and no wrong 4xx anywhere; the per-account login limit exact for
// a burst spread over the replicas; a logout or key revocation refused by
// every replica, asked directly, within 1 s; concurrent refreshes of one
// token give one child; every acknowledged registration, key and
// revocation there afterwards on every replica (ledger).
//
// The faults and what is expected of each (faults.go holds the same text,
// which the report prints beside what was observed):
//
//   - kill -9 of one replica: the balancer takes it out (two failed health
//     checks) and only requests in flight on it fail, within 1.5 s; nothing
//     it acknowledged is lost; restarted on the same port it rejoins
//     without a failed request.
//   - PostgreSQL restart (pg_ctl restart -m fast): every replica's /readyz
//     is 503 during the gap and 200 after, same processes; store requests
//     fail with 5xx only inside the gap; without Redis every replica
//     LISTENs again; a key revoked right after is refused everywhere
//     within 1 s.
//   - Redis down and back: requests under a limit fail closed with 503
//     unavailable; checked credentials keep working; after, limits and
//     the bus work again without a restart.
//   - one replica's clock ±30 s: access tokens verify on every replica
//     both ways (no nbf; exp moves by the skew). The skew is beyond what
//     Sigil supports (replicas' clocks in sync to a second or two): key-pair
//     challenges (30 s) issued by the slower replica are refused elsewhere,
//     and a refresh race across the skew is taken for reuse. Those 401s
//     are allowed only if a replica logged "clock skew".
//
// Graceful restarts (for the clock faults) must cost no request: the
// replicas run with SIGIL_SHUTDOWN_DRAIN=1s.
//
// It owns the harness only: it talks to Sigil over HTTP, reads /proc and
// pg_stat_activity, and shares bench/internal/loadkit with bench/load.
package main
