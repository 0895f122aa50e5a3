package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/sigil-auth/sigil/bench/internal/loadkit"
)

// run is one whole measurement: binaries, start-up figures, the
// scenarios against a server at o.logLevel, the info-level reruns, and the
// raw-verify baseline before and after. progress gets one line per step.
func run(ctx context.Context, o options, progress io.Writer) (*report, error) {
	tmp, err := os.MkdirTemp("", "sigil-load-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	bin, plainBin, err := binaries(o, tmp)
	if err != nil {
		return nil, err
	}
	r := newReport(o)
	r.LoadBefore = loadkit.LoadAvg()
	r.VerifyBefore, r.VerifyWallBefore = loadkit.RawVerify(o.verifyTime / 2)
	progressf(progress, "load average %s; raw ed25519.Verify %v CPU, %v wall", r.LoadBefore, r.VerifyBefore, r.VerifyWallBefore)
	if o.wantsHash() {
		r.HashBefore, r.HashWallBefore = rawHash(o.hashTime / 2)
		progressf(progress, "argon2id hash %v CPU, %v wall", r.HashBefore, r.HashWallBefore)
	}

	if err := r.mainRun(ctx, o, bin, plainBin, tmp, progress); err != nil {
		return nil, err
	}
	if len(o.infoScenarios) > 0 {
		if err := r.infoRun(ctx, o, bin, tmp, progress); err != nil {
			return nil, err
		}
	}
	r.VerifyAfter, r.VerifyWallAfter = loadkit.RawVerify(o.verifyTime / 2)
	if o.wantsHash() {
		r.HashAfter, r.HashWallAfter = rawHash(o.hashTime / 2)
		progressf(progress, "argon2id hash %v CPU, %v wall", r.HashAfter, r.HashWallAfter)
	}
	r.LoadAfter = loadkit.LoadAvg()
	progressf(progress, "load average %s; raw ed25519.Verify %v CPU, %v wall", r.LoadAfter, r.VerifyAfter, r.VerifyWallAfter)
	return r, nil
}

// mainRun measures start to ready on a fresh and on an existing database,
// idle RSS, then every scenario of o.scenarios.
func (r *report) mainRun(ctx context.Context, o options, bin, plainBin, tmp string, progress io.Writer) (err error) {
	db, err := newDatabase(ctx, o.db, o.databaseURL, tmp, "main")
	if err != nil {
		return err
	}
	defer db.cleanup()
	admin := loadkit.AdminToken()
	srv, err := startSigil(ctx, bin, db, admin, o.logLevel, tmp, "sigil")
	if err != nil {
		return err
	}
	r.ReadyFresh = srv.Ready
	if err := srv.Stop(); err != nil {
		return fmt.Errorf("stop sigil: %w", err)
	}
	if srv, err = startSigil(ctx, bin, db, admin, o.logLevel, tmp, "sigil"); err != nil {
		return err
	}
	defer stopInto(srv, &err)
	srv.PG = db.pg
	r.ReadyRestart = srv.Ready
	plain, err := startPlain(ctx, plainBin, tmp)
	if err != nil {
		return err
	}
	defer stopInto(plain, &err)
	r.ReadyPlain = plain.Ready
	time.Sleep(o.idle) // let start-up garbage be collected before reading RSS
	if r.IdleRSS, _, err = srv.Memory(); err != nil {
		return err
	}
	if r.PlainIdleRSS, _, err = plain.Memory(); err != nil {
		return err
	}
	progressf(progress, "start to ready %v (fresh), %v (existing database); idle RSS %d kB",
		r.ReadyFresh, r.ReadyRestart, r.IdleRSS>>10)
	srv.Name = "sigil (log=" + o.logLevel + ")"
	if err := r.scenarios(ctx, o, o.scenarios, srv, plain, admin, progress); err != nil {
		return err
	}
	if _, r.PeakRSS, err = srv.Memory(); err != nil || o.settle <= 0 {
		return err
	}
	time.Sleep(o.settle) // the server idle: what it gives back
	r.Settle = o.settle
	r.SettledRSS, _, err = srv.Memory()
	return err
}

// infoRun reruns o.infoScenarios against a fresh server that logs every
// request (SIGIL_LOG_LEVEL=info), to show what request logs cost.
func (r *report) infoRun(ctx context.Context, o options, bin, tmp string, progress io.Writer) (err error) {
	db, err := newDatabase(ctx, o.db, o.databaseURL, tmp, "info")
	if err != nil {
		return err
	}
	defer db.cleanup()
	admin := loadkit.AdminToken()
	srv, err := startSigil(ctx, bin, db, admin, "info", tmp, "sigil-info")
	if err != nil {
		return err
	}
	defer stopInto(srv, &err)
	srv.Name, srv.PG = "sigil (log=info)", db.pg
	return r.scenarios(ctx, o, o.infoScenarios, srv, nil, admin, progress)
}

// scenarios creates a workspace on srv and runs names in order.
func (r *report) scenarios(ctx context.Context, o options, names []string, srv, plain *loadkit.Child, admin string, progress io.Writer) error {
	sigil := loadkit.NewAPI(srv.Base, o.conc)
	defer sigil.Close()
	fx, err := sigil.CreateWorkspace(ctx, admin)
	if err != nil {
		return err
	}
	for _, name := range names {
		sc := scenarios[name]
		target, tsrv := sigil, srv
		if sc.plain {
			target, tsrv = loadkit.NewAPI(plain.Base, o.conc), plain
			defer target.Close()
		}
		res, err := sc.run(ctx, sigil, target, tsrv, fx, o.conc, o.duration)
		if err != nil {
			return err
		}
		r.Results = append(r.Results, res)
		pg := ""
		if res.PGBackends > 0 {
			pg = fmt.Sprintf(", PostgreSQL CPU/op %v (%d backends, %d lost)", res.pgPerOp(), res.PGBackends, res.PGLost)
		}
		progressf(progress, "%s on %s: %.0f ops/s, p50 %v, p99 %v, server CPU/op %v%s, errors %d",
			res.Scenario, res.Server, res.opsPerSec(), res.P50, res.P99, res.cpuPerOp(), pg, res.Errors)
	}
	return nil
}

// stopInto stops c and, if the caller had no error yet, reports a failed
// stop as its error.
func stopInto(c *loadkit.Child, err *error) {
	if e := c.Stop(); e != nil && *err == nil {
		*err = errors.Join(fmt.Errorf("stop %s", c.Name), e)
	}
}
