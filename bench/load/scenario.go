package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sigil-auth/sigil/bench/internal/loadkit"
)

// worker is one load-generating goroutine's state: its own user and
// session, so workers never contend on one refresh chain.
type worker struct {
	loadkit.Fixture
	oidc            oidcClient // oidc-authorize, oidc-code-flow
	u               loadkit.User
	t               loadkit.Tokens
	key             loadkit.APIKey // apikey-hello, authorize, client-credentials, introspect
	jwt             string         // jwt-hello: a customer-minted HS256 JWT
	email, password string         // password-login
}

// scenario is one load pattern. setup prepares a worker against the Sigil
// server (outside the measured window, and again after a failed op); op is
// one measured operation against the target server.
type scenario struct {
	name      string
	reqsPerOp int  // HTTP requests per operation
	plain     bool // op goes to the hello-baseline server
	setup     func(ctx context.Context, sigil *loadkit.API, w *worker) error
	op        func(ctx context.Context, target *loadkit.API, w *worker) error
}

// registerWorker gives w its own user and first session.
func registerWorker(ctx context.Context, sigil *loadkit.API, w *worker) (err error) {
	w.u, w.t, err = sigil.Register(ctx, w.Join)
	return err
}

// warmWorker registers w and makes one GET /, so the server's verified-
// token cache already holds the token when measuring starts.
func warmWorker(ctx context.Context, sigil *loadkit.API, w *worker) error {
	if err := registerWorker(ctx, sigil, w); err != nil {
		return err
	}
	return sigil.Hello(ctx, w.t.AccessToken)
}

var scenarios = map[string]scenario{
	"login": {name: "login", reqsPerOp: 2, setup: registerWorker,
		op: func(ctx context.Context, a *loadkit.API, w *worker) (err error) {
			_, err = a.Login(ctx, w.u)
			return err
		}},
	"refresh": {name: "refresh", reqsPerOp: 1, setup: registerWorker,
		op: func(ctx context.Context, a *loadkit.API, w *worker) (err error) {
			w.t, err = a.Refresh(ctx, w.t.RefreshToken)
			return err
		}},
	"hello": {name: "hello", reqsPerOp: 1, setup: warmWorker,
		op: func(ctx context.Context, a *loadkit.API, w *worker) error { return a.Hello(ctx, w.t.AccessToken) }},
	// The baseline sends the same request (a real access token included)
	// to the plain server.
	"hello-baseline": {name: "hello-baseline", reqsPerOp: 1, plain: true, setup: registerWorker,
		op: func(ctx context.Context, a *loadkit.API, w *worker) error { return a.Hello(ctx, w.t.AccessToken) }},
	// Credential scenarios (scenarios_creds.go).
	"apikey-hello":       {name: "apikey-hello", reqsPerOp: 1, setup: withAPIKey(apiKeyHello), op: apiKeyHello},
	"authorize":          {name: "authorize", reqsPerOp: 1, setup: withAPIKey(authorize), op: authorize},
	"jwt-hello":          {name: "jwt-hello", reqsPerOp: 1, setup: warmJWT, op: jwtHello},
	"jwks":               {name: "jwks", reqsPerOp: 1, setup: warmJWKS, op: jwks},
	"client-credentials": {name: "client-credentials", reqsPerOp: 1, setup: withAPIKey(clientCredentials), op: clientCredentials},
	"introspect":         {name: "introspect", reqsPerOp: 1, setup: withResourceKey(introspect), op: introspect},
	"password-login":     {name: "password-login", reqsPerOp: 1, setup: signupWorker, op: passwordLogin},
	// The cheapest answer of the server, the yardstick of browser sign-in.
	"healthz": {name: "healthz", reqsPerOp: 1, setup: func(context.Context, *loadkit.API, *worker) error { return nil },
		op: func(ctx context.Context, a *loadkit.API, _ *worker) error { return a.Get(ctx, "/healthz") }},
	// Browser sign-in (scenarios_oidc.go).
	"oidc-authorize": {name: "oidc-authorize", reqsPerOp: 1, setup: withBrowserSession("RS256", oidcAuthorize), op: oidcAuthorize},
	"oidc-code-flow": {name: "oidc-code-flow", reqsPerOp: 2, setup: withBrowserSession("RS256", oidcCodeFlow), op: oidcCodeFlow},
	"oidc-code-flow-eddsa": {name: "oidc-code-flow-eddsa", reqsPerOp: 2, setup: withBrowserSession("EdDSA", oidcCodeFlow),
		op: oidcCodeFlow},
	// The dashboard (scenarios_oidc.go).
	"dashboard-keys": {name: "dashboard-keys", reqsPerOp: 1, setup: withKeysPage, op: dashboardKeys},
}

// result is one scenario's measurement.
type result struct {
	Scenario  string
	Server    string // which child served it, e.g. "sigil (log=warn)"
	ReqsPerOp int
	Ops       int // successful operations in the window
	Errors    int
	FirstErr  string
	Elapsed   time.Duration
	ServerCPU time.Duration // utime+stime of the server over the window
	DriverCPU time.Duration // the driver's own utime+stime over the window
	OtherCPU  time.Duration // every other process's CPU over the window
	// PostgreSQL only: the server's backends' CPU over the window, how
	// many backends served it, and how many exited meanwhile (their CPU
	// is missing).
	PGCPU              time.Duration
	PGBackends, PGLost int
	P50, P99           time.Duration
}

func (r result) opsPerSec() float64 { return float64(r.Ops) / r.Elapsed.Seconds() }

// cpuPerOp is server CPU per successful operation (0 when none).
func (r result) cpuPerOp() time.Duration {
	if r.Ops == 0 {
		return 0
	}
	return r.ServerCPU / time.Duration(r.Ops)
}

// pgPerOp is the PostgreSQL backends' CPU per successful operation.
func (r result) pgPerOp() time.Duration { return perOp(r.PGCPU, r.Ops) }

// run measures sc with conc workers for d: setup first, then the window,
// whose start and end bracket the server's CPU reading.
func (sc scenario) run(ctx context.Context, sigil, target *loadkit.API, srv *loadkit.Child, fx loadkit.Fixture, conc int, d time.Duration) (result, error) {
	workers := make([]*worker, conc)
	for i := range workers {
		workers[i] = &worker{Fixture: fx}
		if err := sc.setup(ctx, sigil, workers[i]); err != nil {
			return result{}, fmt.Errorf("%s: worker setup: %w", sc.name, err)
		}
	}
	lat := make([][]time.Duration, conc)
	errs := make([]int, conc)
	var firstErr sync.Once
	res := result{Scenario: sc.name, Server: srv.Name, ReqsPerOp: sc.reqsPerOp}
	var pg0 loadkit.PGSample
	if srv.PG != nil {
		var err error
		if pg0, err = srv.PG.Sample(ctx); err != nil {
			return result{}, err
		}
	}
	cpu0, err := srv.CPU()
	if err != nil {
		return result{}, err
	}
	drv0, busy0, start := loadkit.SelfCPU(), loadkit.MachineBusy(), time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i, w := range workers {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				t0 := time.Now()
				err := sc.op(ctx, target, w)
				if err == nil {
					lat[i] = append(lat[i], time.Since(t0))
					continue
				}
				errs[i]++
				firstErr.Do(func() { res.FirstErr = err.Error() })
				if sc.setup(ctx, sigil, w) != nil || ctx.Err() != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	res.Elapsed, res.DriverCPU = time.Since(start), loadkit.SelfCPU()-drv0
	cpu1, err := srv.CPU()
	if err != nil {
		return result{}, err
	}
	res.ServerCPU = cpu1 - cpu0
	busy := loadkit.MachineBusy() - busy0
	if srv.PG != nil {
		pg1, err := srv.PG.Sample(ctx)
		if err != nil {
			return result{}, err
		}
		res.PGCPU, res.PGBackends, res.PGLost = pg1.Since(pg0)
	}
	res.OtherCPU = max(0, busy-res.ServerCPU-res.DriverCPU-res.PGCPU)
	all := slices.Concat(lat...)
	slices.Sort(all)
	res.Ops = len(all)
	for _, n := range errs {
		res.Errors += n
	}
	if len(all) > 0 {
		res.P50, res.P99 = all[len(all)*50/100], all[len(all)*99/100]
	}
	return res, nil
}
