package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// logWriter sends the driver's progress lines to the test log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestSmoke runs the real binary under the driver for about a second per
// scenario and checks that every scenario ran without errors and the
// report holds every figure.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("the load smoke test builds and runs sigil: skipped with -short")
	}
	tests := []struct {
		db        string
		scenarios []string
		info      []string
		rows      []string // expected "| scenario | server |" prefixes
	}{
		{"sqlite", splitList(defaultScenarios), []string{"hello"}, []string{
			"| login | sigil (log=warn) |", "| refresh | sigil (log=warn) |", "| hello | sigil (log=warn) |",
			"| hello-baseline | plain |", "| apikey-hello | sigil (log=warn) |", "| authorize | sigil (log=warn) |",
			"| jwt-hello | sigil (log=warn) |",
			"| jwks | sigil (log=warn) |", "| client-credentials | sigil (log=warn) |",
			"| introspect | sigil (log=warn) |", "| password-login | sigil (log=warn) |", "| hello | sigil (log=info) |",
			"| healthz | sigil (log=warn) |", "| oidc-authorize | sigil (log=warn) |", "| oidc-code-flow | sigil (log=warn) |",
			"| oidc-code-flow-eddsa | sigil (log=warn) |", "| authorize → token round trips/s",
			"| dashboard-keys | sigil (log=warn) |", "| server CPU per dashboard API-key page",
			"| GET / with X-API-KEY |", "| forward-auth GET /v1/authorize with X-API-KEY |", "| GET / with a customer HS256 JWT |", "| GET /.well-known/jwks.json |",
			"| client_credentials tokens/s", "| introspections/s", "| server CPU per password login |",
			"one argon2id hash",
		}},
		{"postgres", []string{"refresh", "hello", "oidc-code-flow"}, nil, []string{
			"| refresh | sigil (log=warn) |", "| hello | sigil (log=warn) |", "| oidc-code-flow | sigil (log=warn) |",
			"PostgreSQL CPU/op", "| server + PostgreSQL CPU per refresh (PostgreSQL) |",
		}},
	}
	bin, plainBin, err := binaries(options{}, t.TempDir()) // once for every subtest
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.db, func(t *testing.T) {
			url := os.Getenv("SIGIL_TEST_POSTGRES")
			if tt.db == "postgres" && url == "" {
				t.Skip("PostgreSQL load smoke skipped: set SIGIL_TEST_POSTGRES to run")
			}
			o := options{bin: bin, plainBin: plainBin, db: tt.db, databaseURL: url, duration: time.Second, conc: 2,
				scenarios: tt.scenarios, infoScenarios: tt.info, logLevel: "warn",
				idle: 100 * time.Millisecond, verifyTime: 200 * time.Millisecond, hashTime: 200 * time.Millisecond}
			r, err := run(t.Context(), o, logWriter{t})
			if err != nil {
				t.Fatal(err)
			}
			checkReport(t, r, len(tt.scenarios)+len(tt.info))
			if tt.db == "postgres" {
				checkPostgresCPU(t, r)
			}
			if o.wantsHash() && (r.HashBefore <= 0 || r.HashAfter <= 0 || r.HashWallBefore <= 0) {
				t.Errorf("argon2id baseline not measured: %v / %v", r.HashBefore, r.HashAfter)
			}
			var sb strings.Builder
			r.writeMarkdown(&sb)
			for _, want := range append(tt.rows, "raw ed25519.Verify", "## Start and memory", "## Targets", "shares the machine's") {
				if !strings.Contains(sb.String(), want) {
					t.Errorf("report lacks %q:\n%s", want, sb.String())
				}
			}
		})
	}
}

// checkReport checks the figures of a run for sanity.
func checkReport(t *testing.T, r *report, scenarios int) {
	t.Helper()
	if len(r.Results) != scenarios {
		t.Fatalf("%d results, want %d", len(r.Results), scenarios)
	}
	for _, res := range r.Results {
		if res.Errors != 0 || res.Ops == 0 {
			t.Errorf("%s on %s: %d ops, %d errors (first: %s)", res.Scenario, res.Server, res.Ops, res.Errors, res.FirstErr)
		}
		if res.ServerCPU <= 0 || res.P50 <= 0 || res.P99 < res.P50 {
			t.Errorf("%s on %s: implausible CPU %v, p50 %v, p99 %v", res.Scenario, res.Server, res.ServerCPU, res.P50, res.P99)
		}
	}
	if r.VerifyBefore <= 0 || r.VerifyAfter <= 0 || r.VerifyWallBefore < r.VerifyBefore/2 || r.ReadyFresh <= 0 || r.ReadyRestart <= 0 || r.IdleRSS <= 0 || r.PeakRSS < r.IdleRSS {
		t.Errorf("implausible start/memory figures: %+v", r)
	}
}

// checkPostgresCPU checks that the database's CPU was read: every
// scenario that reaches the store was served by the server's backends,
// which stayed up (a refresh always writes, so its backends worked).
func checkPostgresCPU(t *testing.T, r *report) {
	t.Helper()
	for _, res := range r.Results {
		if res.PGBackends == 0 || res.PGLost != 0 {
			t.Errorf("%s: %d PostgreSQL backends seen, %d lost", res.Scenario, res.PGBackends, res.PGLost)
		}
		if res.Scenario == "refresh" && res.PGCPU <= 0 {
			t.Errorf("refresh: PostgreSQL CPU %v, want > 0", res.PGCPU)
		}
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		args    []string
		want    []string // scenarios
		wantErr string
	}{
		{[]string{}, []string{"login", "refresh", "hello", "hello-baseline", "apikey-hello", "authorize", "jwt-hello", "jwks",
			"client-credentials", "introspect", "password-login", "healthz", "oidc-authorize", "oidc-code-flow", "oidc-code-flow-eddsa", "dashboard-keys"}, ""},
		{[]string{"--scenarios", "password-login", "--hash-time", "0"}, nil, "--hash-time must be positive"},
		{[]string{"--scenarios", "hello", "--hash-time", "0"}, []string{"hello"}, ""},
		{[]string{"--scenarios", " refresh , hello "}, []string{"refresh", "hello"}, ""},
		{[]string{"--scenarios", "login,bogus"}, nil, `unknown scenario "bogus"`},
		{[]string{"--db", "mysql"}, nil, "--db must be sqlite or postgres"},
		{[]string{"--db", "postgres", "--database-url", ""}, nil, "needs --database-url"},
		{[]string{"--conc", "0"}, nil, "must be positive"},
		{[]string{"--info-scenarios", "hello-baseline"}, nil, "leave it out of --info-scenarios"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			o, err := parseFlags(tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, o.scenarios); diff != "" {
				t.Errorf("scenarios (-want +got):\n%s", diff)
			}
		})
	}
}
