package main

import (
	"fmt"
	"strings"
)

// target is one row of the targets table.
type target struct {
	name, goal, measured string
	met                  bool
	applies              bool // false: the target is for another backend
}

// targets checks this run against the targets.
func (r *report) targets() []target {
	var ts []target
	sqlite := r.DB == "sqlite"
	v := float64(r.verify())
	if res, ok := r.find("login", "sigil (log="+r.LogLevel); ok {
		ts = append(ts, target{"key-pair logins/s (SQLite)", fmt.Sprintf("≥ %d", targetLogins),
			fmt.Sprintf("%.0f", res.opsPerSec()), res.opsPerSec() >= targetLogins, sqlite})
	}
	if res, ok := r.find("refresh", "sigil (log="+r.LogLevel); ok {
		ts = append(ts, target{"refreshes/s (SQLite and PostgreSQL)", fmt.Sprintf("≥ %d", targetRefresh),
			fmt.Sprintf("%.0f", res.opsPerSec()), res.opsPerSec() >= targetRefresh, true})
		ts = append(ts, r.postgresRefreshTargets(res)...)
	}
	if res, ok := r.find("hello", "sigil (log="+r.LogLevel); ok {
		x := float64(res.cpuPerOp()) / v
		ts = append(ts, target{"server CPU per authenticated GET /", fmt.Sprintf("≤ %.1f× raw verify", targetHelloCPU),
			r.x(res.cpuPerOp()), x <= targetHelloCPU, true})
		if base, ok := r.find("hello-baseline", "plain"); ok {
			over := res.cpuPerOp() - base.cpuPerOp()
			ts = append(ts, target{"… of which above the plain server (auth, middleware, metrics)", "(information)",
				r.x(over), true, true})
		}
	}
	ts = append(ts, r.credentialTargets()...)
	ts = append(ts,
		target{"idle RSS", "≤ 25 MB", mb(r.IdleRSS), r.IdleRSS <= targetIdleRSS, true},
		target{"start to ready, fresh database (SQLite)", fmt.Sprintf("≤ %v", targetReady), dur(r.ReadyFresh),
			r.ReadyFresh <= targetReady, sqlite},
		target{"start to ready, existing database (SQLite)", fmt.Sprintf("≤ %v", targetReady), dur(r.ReadyRestart),
			r.ReadyRestart <= targetReady, sqlite},
	)
	return ts
}

// credentialTargets are the rows of issues 3 and 4: shares of the plain
// server's GET / rate, absolute rates, and server CPU per password login
// in argon2id hashes measured in the same run.
func (r *report) credentialTargets() []target {
	var ts []target
	srv := "sigil (log=" + r.LogLevel
	base, hasBase := r.find("hello-baseline", "plain")
	share := func(scenario, name string, goal float64) {
		res, ok := r.find(scenario, srv)
		if !ok || !hasBase {
			return
		}
		s := res.opsPerSec() / base.opsPerSec()
		ts = append(ts, target{name, fmt.Sprintf("≥ %.0f %% of hello-baseline", goal*100),
			fmt.Sprintf("%.0f/s = %.0f %% of %.0f/s", res.opsPerSec(), s*100, base.opsPerSec()), s >= goal, true})
	}
	share("apikey-hello", "GET / with X-API-KEY", targetPlainShare)
	share("authorize", "forward-auth GET /v1/authorize with X-API-KEY", targetPlainShare)
	share("jwt-hello", "GET / with a customer HS256 JWT", targetPlainShare)
	share("jwks", "GET /.well-known/jwks.json", targetJWKSShare)
	rate := func(scenario, name string, goal float64) {
		if res, ok := r.find(scenario, srv); ok {
			ts = append(ts, target{name, fmt.Sprintf("≥ %.0f/s", goal), fmt.Sprintf("%.0f/s", res.opsPerSec()),
				res.opsPerSec() >= goal, true})
		}
	}
	rate("client-credentials", "client_credentials tokens/s (same token while valid)", targetClientCreds)
	rate("introspect", "introspections/s (API key caller)", targetIntrospect)
	ts = append(ts, r.browserTargets()...)
	if res, ok := r.find("password-login", srv); ok && r.hash() > 0 {
		x := float64(res.cpuPerOp()) / float64(r.hash())
		ts = append(ts, target{"server CPU per password login", fmt.Sprintf("≤ %.2f× one argon2id hash", targetLoginCPU),
			fmt.Sprintf("%s = %.2f× %s (%.0f logins/s)", dur(res.cpuPerOp()), x, dur(r.hash()), res.opsPerSec()),
			x <= targetLoginCPU, true})
	}
	return ts
}

func (r *report) writeTargets(b *strings.Builder) {
	b.WriteString("\n## Targets\n\n| target | goal | measured | met |\n|---|---|---:|---|\n")
	for _, t := range r.targets() {
		met := "no"
		switch {
		case t.goal == "(information)":
			met = ""
		case !t.applies:
			met = "n/a (" + r.DB + ")"
		case t.met:
			met = "yes"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", t.name, t.goal, t.measured, met)
	}
	b.WriteString("\nMB = 10⁶ bytes. Figures depend on what else runs on the machine: compare the load " +
		"averages and the raw-verify figure across runs before comparing anything else.\n")
}

// browserTargets are issue 8's rows — a signed-in browser's authorize →
// token round trip, beside plain GET /healthz of the same run — and issue
// 10's dashboard page.
func (r *report) browserTargets() []target {
	var ts []target
	srv := "sigil (log=" + r.LogLevel
	health, hasHealth := r.find("healthz", srv)
	row := func(scenario, name string, goal float64) {
		res, ok := r.find(scenario, srv)
		if !ok {
			return
		}
		m := fmt.Sprintf("%.0f/s, server CPU/op %s", res.opsPerSec(), r.x(res.cpuPerOp()))
		if hasHealth {
			m += fmt.Sprintf(" (GET /healthz: %.0f/s, %s)", health.opsPerSec(), r.x(health.cpuPerOp()))
		}
		ts = append(ts, target{name, fmt.Sprintf("≥ %.0f/s", goal), m, res.opsPerSec() >= goal, true})
	}
	row("oidc-code-flow", "authorize → token round trips/s, RS256 ID token (browser already signed in)", targetCodeFlow)
	row("oidc-code-flow-eddsa", "authorize → token round trips/s, EdDSA ID token (browser already signed in)", targetCodeFlow)
	row("oidc-authorize", "authorize answers/s (browser already signed in; code, no page)", targetCodeFlow)
	if res, ok := r.find("dashboard-keys", srv); ok {
		ts = append(ts, target{"server CPU per dashboard API-key page, 100 keys (issue 10)", fmt.Sprintf("≤ %v", targetDashboardCPU),
			fmt.Sprintf("%s (%.0f pages/s)", r.x(res.cpuPerOp()), res.opsPerSec()), res.cpuPerOp() <= targetDashboardCPU, true})
	}
	return ts
}

// postgresRefreshTargets are issue 13's rows: a refresh's whole CPU
// (server + PostgreSQL backends) and the refresh rate with 10 workers,
// on PostgreSQL.
func (r *report) postgresRefreshTargets(res result) []target {
	pg := r.DB == "postgres"
	whole := res.cpuPerOp() + res.pgPerOp()
	m := fmt.Sprintf("%s = %s server + %s PostgreSQL", r.x(whole), dur(res.cpuPerOp()), dur(res.pgPerOp()))
	if !pg {
		m = "—"
	}
	return []target{
		{"server + PostgreSQL CPU per refresh (PostgreSQL)", fmt.Sprintf("≤ %v", targetRefreshWholeCPU), m,
			pg && whole <= targetRefreshWholeCPU, pg},
		{fmt.Sprintf("refreshes/s with %d workers (PostgreSQL; goal at 10)", r.Conc), fmt.Sprintf("≥ %d", targetRefreshPG),
			fmt.Sprintf("%.0f", res.opsPerSec()), res.opsPerSec() >= targetRefreshPG, pg},
	}
}
