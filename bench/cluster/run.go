package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"time"
)

// faultResult is one fault run: the cluster, its timeline and marks,
// and the final ledger check.
type faultResult struct {
	Config    string
	Replicas  int
	Redis     bool
	Summary   summary
	Ledger    ledgerCounts
	Probe     string
	Refusals  int
	MaxRefuse time.Duration
}

// runFaults starts a cluster, drives the workload and injects every fault
// in turn with calm in between, then checks the ledger.
func runFaults(ctx context.Context, o options, redis bool, progress io.Writer) (res faultResult, err error) {
	h, stop, err := startHarness(ctx, o, clusterConfig{replicas: o.replicas, redis: redis}, fmt.Sprintf("faults-redis-%v", redis))
	if err != nil {
		return res, err
	}
	defer stop()
	c := h.c
	res = faultResult{Config: c.describe(), Replicas: o.replicas, Redis: redis}
	script := func(ctx context.Context) error {
		if err := sleep(ctx, o.calm); err != nil {
			return err
		}
		passed, limited, err := h.rateLimitProbe(ctx)
		if err != nil {
			return err
		}
		res.Probe = fmt.Sprintf("%d passed, %d limited (limit %d per account)", passed, limited, loginAccountLimit)
		for _, f := range faults {
			if f.needsRedis && !redis {
				continue
			}
			if err := sleep(ctx, o.calm); err != nil {
				return err
			}
			progressf(progress, "fault: %s", f.name)
			m := mark{Name: f.name, Expected: f.expected}
			before := h.rec.violations()
			if err := f.inject(ctx, h, &m); err != nil {
				return fmt.Errorf("%s: %w", f.name, err)
			}
			m.Failed = h.rec.violations() > before
			h.rec.addMark(m)
		}
		return sleep(ctx, o.calm)
	}
	if err := h.drive(ctx, 0, script); err != nil {
		return res, err
	}
	res.Ledger = h.verifyLedger(ctx)
	res.Summary = h.rec.summary()
	res.Refusals, res.MaxRefuse = h.prop.n, h.prop.max
	return res, nil
}

// startHarness starts a cluster of cfg (binary and a new directory
// named name from o) and a harness on it; stop ends both.
func startHarness(ctx context.Context, o options, cfg clusterConfig, name string) (*harness, func(), error) {
	cfg.bin, cfg.dir = o.bin, mkdir(o.dir, name)
	c, err := startCluster(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	h, err := newHarness(ctx, c, o.conc)
	if err != nil {
		c.stop()
		return nil, nil, err
	}
	return h, func() { h.close(); c.stop() }, nil
}

// scaleResult is one steady run (no fault) of n replicas, or of n plain
// servers (the baseline) behind the same balancer.
type scaleResult struct {
	Replicas           int
	Plain              bool
	Elapsed            time.Duration
	Requests           int64
	Summary            summary
	ServerCPU, LBCPU   time.Duration // replicas (or plain servers), haproxy
	PGCPU, RedisCPU    time.Duration
	DriverCPU, BusyCPU time.Duration
}

// countingTransport counts the HTTP requests a client sent.
type countingTransport struct {
	rt http.RoundTripper
	n  *atomic.Int64
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return t.rt.RoundTrip(r)
}

func mkdir(parent, name string) string {
	d, err := os.MkdirTemp(parent, name+"-")
	if err != nil {
		panic(err)
	}
	return d
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// progressf reports progress (to stderr, or the test log).
func progressf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, time.Now().UTC().Format("15:04:05 ")+format+"\n", args...)
	}
}
