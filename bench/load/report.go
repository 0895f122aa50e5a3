package main

import (
	"fmt"
	"strings"
	"time"
)

// report is everything one run measured.
type report struct {
	Date                  time.Time
	NProc, GoMaxProcs     int
	GoVersion, CPU, DB    string
	Conc                  int
	Duration              time.Duration
	LogLevel              string
	LoadBefore, LoadAfter string
	// VerifyBefore and VerifyAfter are the CPU time of one raw
	// ed25519.Verify measured before and after the servers ran; their mean
	// is the unit. The wall-clock figures show how contended the cores were.
	VerifyBefore, VerifyAfter         time.Duration
	VerifyWallBefore, VerifyWallAfter time.Duration
	// HashBefore and HashAfter are the CPU time of one argon2id hash with
	// the server's parameters (rawHash), measured only when password-login
	// runs; their mean is the unit of its target.
	HashBefore, HashAfter, HashWallBefore, HashWallAfter time.Duration
	ReadyFresh, ReadyRestart, ReadyPlain                 time.Duration
	IdleRSS, PlainIdleRSS, PeakRSS                       int64
	SettledRSS                                           int64         // VmRSS Settle after the scenarios (--settle)
	Settle                                               time.Duration // 0: not measured
	Results                                              []result
}

// Targets of the issue.
const (
	targetLogins   = 2000 // key-pair logins/s on SQLite
	targetRefresh  = 1500 // refreshes/s on SQLite and PostgreSQL
	targetHelloCPU = 1.5  // server CPU per GET / in raw verifies
	targetIdleRSS  = 25e6 // bytes
	targetReady    = 200 * time.Millisecond

	targetPlainShare  = 0.70  // apikey-hello, authorize and jwt-hello ops/s ÷ hello-baseline's
	targetJWKSShare   = 0.80  // jwks ops/s ÷ hello-baseline's
	targetLoginCPU    = 1.15  // server CPU per password login in argon2id hashes
	targetClientCreds = 2000  // client_credentials tokens/s
	targetIntrospect  = 10000 // introspections/s
	targetCodeFlow    = 1000  // authorize → token round trips/s, browser signed in

	targetDashboardCPU = 5 * time.Millisecond // server CPU per API-key list page with 100 keys

	targetRefreshWholeCPU = 550 * time.Microsecond // server + PostgreSQL CPU per refresh
	targetRefreshPG       = 2600                   // refreshes/s on PostgreSQL, 10 workers
)

// hash is the unit of the password-login target: the mean of both
// measurements (0 when none was taken).
func (r *report) hash() time.Duration {
	if r.HashAfter == 0 {
		return r.HashBefore
	}
	return (r.HashBefore + r.HashAfter) / 2
}

// verify is the unit of every ratio: the mean of both measurements.
func (r *report) verify() time.Duration {
	if r.VerifyAfter == 0 {
		return r.VerifyBefore
	}
	return (r.VerifyBefore + r.VerifyAfter) / 2
}

// errors is the total error count of all scenarios.
func (r *report) errors() int {
	n := 0
	for _, res := range r.Results {
		n += res.Errors
	}
	return n
}

// find returns the first result of scenario on a server whose name
// starts with server.
func (r *report) find(scenario, server string) (result, bool) {
	for _, res := range r.Results {
		if res.Scenario == scenario && strings.HasPrefix(res.Server, server) {
			return res, true
		}
	}
	return result{}, false
}

// x formats d and its ratio to the raw verify: "412 µs (7.9×)".
func (r *report) x(d time.Duration) string {
	return fmt.Sprintf("%s (%.2f×)", dur(d), float64(d)/float64(r.verify()))
}

// dur formats a duration with three significant digits.
func dur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.1f µs", float64(d)/1e3)
	case d < time.Second:
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
}

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }

func (r *report) writeMarkdown(b *strings.Builder) {
	db := map[string]string{"sqlite": "SQLite (temp file)", "postgres": "PostgreSQL (fresh schema)"}[r.DB]
	fmt.Fprintf(b, "# Sigil loopback load — %s\n\n", db)
	fmt.Fprintf(b, "- date: %s; machine: nproc %d (%s), GOMAXPROCS %d; %s\n",
		r.Date.Format(time.RFC3339), r.NProc, r.CPU, r.GoMaxProcs, r.GoVersion)
	fmt.Fprintf(b, "- load average (1/5/15 min): before %s, after %s\n", r.LoadBefore, r.LoadAfter)
	fmt.Fprintf(b, "- %d keep-alive workers, %v per scenario, rate limits off, main server log level %s\n",
		r.Conc, r.Duration, r.LogLevel)
	fmt.Fprintf(b, "- **raw ed25519.Verify, one goroutine, this run: %s of CPU** (before %s, after %s; "+
		"wall clock %s and %s); every (N×) below is a multiple of it\n", dur(r.verify()), dur(r.VerifyBefore),
		dur(r.VerifyAfter), dur(r.VerifyWallBefore), dur(r.VerifyWallAfter))
	if r.hash() > 0 {
		fmt.Fprintf(b, "- **one argon2id hash (password.OWASP: m = 19 MiB, t = 2, p = 1), this run: %s of CPU** "+
			"(before %s, after %s; wall clock %s and %s): the unit of the password-login target\n",
			dur(r.hash()), dur(r.HashBefore), dur(r.HashAfter), dur(r.HashWallBefore), dur(r.HashWallAfter))
	}
	fmt.Fprintf(b, "- the driver shares the machine's %d cores with the server (the targets' condition): "+
		"throughput is bounded by the CPU the driver leaves; \"driver CPU/op\" shows what it took\n\n", r.NProc)

	b.WriteString("## Start and memory\n\n| figure | sigil | plain baseline |\n|---|---:|---:|\n")
	fmt.Fprintf(b, "| start to ready (spawn → first 200 from /readyz), fresh database | %s | %s |\n",
		dur(r.ReadyFresh), dur(r.ReadyPlain))
	fmt.Fprintf(b, "| start to ready, existing database | %s | |\n", dur(r.ReadyRestart))
	fmt.Fprintf(b, "| idle RSS (VmRSS after ready + idle) | %s | %s |\n", mb(r.IdleRSS), mb(r.PlainIdleRSS))
	fmt.Fprintf(b, "| peak RSS after the scenarios (VmHWM) | %s | |\n", mb(r.PeakRSS))
	if r.Settle > 0 {
		fmt.Fprintf(b, "| RSS %v after the scenarios, idle (VmRSS) | %s | |\n", r.Settle, mb(r.SettledRSS))
	}
	b.WriteString("\n")

	r.writeScenarios(b)
	b.WriteString("\nlogin = POST /v1/auth/code + client ed25519.Sign + POST /v1/auth/token (a new session each); " +
		"refresh = POST /v1/auth/refresh along each worker's own chain; hello = GET / with an access token " +
		"(verified-token cache warm); hello-baseline = the same request to a trivial net/http server; " +
		"apikey-hello / jwt-hello = GET / with X-API-KEY / a customer HS256 JWT; authorize = GET /v1/authorize " +
		"with X-API-KEY and X-Forwarded-Method/Uri, as Traefik's forwardAuth sends it; jwks = GET /.well-known/jwks.json; " +
		"client-credentials = POST /oauth2/token (HTTP Basic, the same token comes back while valid); " +
		"introspect = POST /oauth2/introspect of an access token by an API key; password-login = " +
		"POST /v1/auth/login with email and password (a new session each). " +
		"Server CPU is utime+stime from /proc/<pid>/stat (10 ms ticks) over the window; \"other cores\" is " +
		"the rest of the machine's busy time meanwhile (/proc/stat): other users' work and, with PostgreSQL, " +
		"what its backends' CPU columns leave out (WAL writer, checkpointer, autovacuum, other clients).\n")
	if r.DB == "postgres" {
		b.WriteString("\nPostgreSQL CPU is utime+stime (/proc/<pid>/stat) of the backends serving the server's " +
			"connections — those of pg_stat_activity whose application_name is the run's schema, which the " +
			"driver puts in the server's database URL — over the window; \"whole\" = server + PostgreSQL CPU per op. " +
			"Backends that exited during the window (none expected: the pool keeps its connections) are missing " +
			"from it and counted after the figure.\n")
	}
	for _, res := range r.Results {
		if res.FirstErr != "" {
			fmt.Fprintf(b, "\nfirst error in %s on %s: `%s`\n", res.Scenario, res.Server, res.FirstErr)
		}
	}
	r.writeTargets(b)
}

func perOp(d time.Duration, ops int) time.Duration {
	if ops == 0 {
		return 0
	}
	return d / time.Duration(ops)
}

// writeScenarios writes the scenario table; on PostgreSQL it has the
// database backends' CPU per op and server + database per op too.
func (r *report) writeScenarios(b *strings.Builder) {
	pg := r.DB == "postgres"
	b.WriteString("## Scenarios\n\n")
	b.WriteString("| scenario | server | ops/s | HTTP req/s | p50 | p99 | errors | server CPU/op | server cores |")
	sep := "|---|---|---:|---:|---:|---:|---:|---:|---:|"
	if pg {
		b.WriteString(" PostgreSQL CPU/op | PostgreSQL cores | whole CPU/op |")
		sep += "---:|---:|---:|"
	}
	b.WriteString(" driver CPU/op | other cores |\n" + sep + "---:|---:|\n")
	for _, res := range r.Results {
		fmt.Fprintf(b, "| %s | %s | %.0f | %.0f | %s | %s | %d | %s | %.2f |",
			res.Scenario, res.Server, res.opsPerSec(), res.opsPerSec()*float64(res.ReqsPerOp),
			r.x(res.P50), r.x(res.P99), res.Errors, r.x(res.cpuPerOp()),
			res.ServerCPU.Seconds()/res.Elapsed.Seconds())
		if pg {
			lost := ""
			if res.PGLost > 0 {
				lost = fmt.Sprintf(" (%d backends lost)", res.PGLost)
			}
			fmt.Fprintf(b, " %s%s | %.2f | %s |", r.x(res.pgPerOp()), lost,
				res.PGCPU.Seconds()/res.Elapsed.Seconds(), r.x(res.cpuPerOp()+res.pgPerOp()))
		}
		fmt.Fprintf(b, " %s | %.2f |\n", r.x(perOp(res.DriverCPU, res.Ops)), res.OtherCPU.Seconds()/res.Elapsed.Seconds())
	}
}
