package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sigil-auth/sigil/bench/internal/loadkit"
)

// cpuOf is the CPU time so far of the processes pids (those gone count 0).
func cpuOf(pids ...int) time.Duration {
	var sum time.Duration
	for _, p := range pids {
		if c, err := loadkit.ProcCPU(p); err == nil {
			sum += c
		}
	}
	return sum
}

// meter brackets a measured window: the CPU of each party at its start.
type meter struct {
	server, lb, pg, redis  func() []int
	s0, l0, p0, r0, d0, b0 time.Duration
	t0                     time.Time
}

func (m *meter) begin() {
	m.s0, m.l0, m.p0, m.r0 = cpuOf(m.server()...), cpuOf(m.lb()...), cpuOf(m.pg()...), cpuOf(m.redis()...)
	m.d0, m.b0, m.t0 = loadkit.SelfCPU(), loadkit.MachineBusy(), time.Now()
}

// end fills r's CPU figures for the window.
func (m *meter) end(r *scaleResult) {
	r.Elapsed = time.Since(m.t0)
	r.ServerCPU, r.LBCPU = cpuOf(m.server()...)-m.s0, cpuOf(m.lb()...)-m.l0
	r.PGCPU, r.RedisCPU = cpuOf(m.pg()...)-m.p0, cpuOf(m.redis()...)-m.r0
	r.DriverCPU, r.BusyCPU = loadkit.SelfCPU()-m.d0, loadkit.MachineBusy()-m.b0
}

// runScale drives the mixed workload, without faults, through n replicas
// for o.duration, counting every HTTP request the clients sent.
func runScale(ctx context.Context, o options, n int, progress io.Writer) (scaleResult, error) {
	r := scaleResult{Replicas: n}
	h, stop, err := startHarness(ctx, o, clusterConfig{replicas: n, redis: true}, fmt.Sprintf("scale-%d", n))
	if err != nil {
		return r, err
	}
	defer stop()
	c := h.c
	var reqs atomic.Int64
	for _, a := range append([]*loadkit.API{h.lb}, h.reps...) {
		a.HC.Transport = countingTransport{rt: a.HC.Transport, n: &reqs}
	}
	m := &meter{server: c.replicaPids, lb: func() []int { return []int{c.lb.pid()} }, pg: c.pg.pids,
		redis: func() []int { return []int{c.rd.cmd.Process.Pid} }}
	m.begin()
	if err := h.drive(ctx, o.duration, nil); err != nil {
		return r, err
	}
	m.end(&r)
	r.Requests = reqs.Load()
	h.verifyLedger(ctx)
	r.Summary = h.rec.summary()
	progressf(progress, "%d replicas: %.0f ops/s, %.0f req/s, %v replica CPU per request, %d violations %v",
		n, float64(r.Summary.Ops)/r.Elapsed.Seconds(), float64(r.Requests)/r.Elapsed.Seconds(), r.perRequest(r.ServerCPU),
		r.Summary.NViol, r.Summary.Violations)
	return r, nil
}

// runPlain is the plain-HTTP baseline: n copies of bench/load/plain
// behind the same haproxy configuration, GET / with o.conc workers.
func runPlain(ctx context.Context, o options, n int, progress io.Writer) (scaleResult, error) {
	r := scaleResult{Replicas: n, Plain: true}
	dir := mkdir(o.dir, fmt.Sprintf("plain-%d", n))
	kids, backends, err := startPlains(ctx, o.plainBin, dir, n)
	defer func() {
		for _, k := range kids {
			k.Stop()
		}
	}()
	if err != nil {
		return r, err
	}
	lbAddr, err := loadkit.FreeAddr()
	if err != nil {
		return r, err
	}
	lb, err := startBalancer(dir, lbAddr, backends)
	if err != nil {
		return r, err
	}
	defer lb.stop()
	a := loadkit.NewAPI(lb.url, o.conc)
	defer a.Close()
	pids := func() []int {
		var p []int
		for _, k := range kids {
			p = append(p, k.Cmd.Process.Pid)
		}
		return p
	}
	none := func() []int { return nil }
	m := &meter{server: pids, lb: func() []int { return []int{lb.pid()} }, pg: none, redis: none}
	rec := newRecorder()
	ctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	m.begin()
	var wg sync.WaitGroup
	for range o.conc {
		wg.Go(func() {
			for ctx.Err() == nil {
				t0 := time.Now()
				if err := a.Get(ctx, "/"); ctx.Err() == nil {
					rec.done("plain GET /", t0, err)
				}
			}
		})
	}
	wg.Wait()
	m.end(&r)
	r.Summary = rec.summary()
	r.Requests = int64(r.Summary.Ops)
	progressf(progress, "plain ×%d: %.0f req/s, %v server CPU per request", n, float64(r.Requests)/r.Elapsed.Seconds(), r.perRequest(r.ServerCPU))
	return r, nil
}

// startPlains starts n plain servers; the caller stops those returned,
// even with an error.
func startPlains(ctx context.Context, bin, dir string, n int) (kids []*loadkit.Child, addrs []string, err error) {
	for i := range n {
		addr, err := loadkit.FreeAddr()
		if err != nil {
			return kids, addrs, err
		}
		k, err := loadkit.StartChild(ctx, fmt.Sprintf("plain%d", i+1), bin, []string{"-addr", addr}, nil, dir, addr,
			filepath.Join(dir, fmt.Sprintf("plain%d.log", i+1)))
		if err != nil {
			return kids, addrs, err
		}
		kids, addrs = append(kids, k), append(addrs, addr)
	}
	return kids, addrs, nil
}

// perRequest divides a CPU time by the requests of the window.
func (r scaleResult) perRequest(d time.Duration) time.Duration {
	if r.Requests == 0 {
		return 0
	}
	return d / time.Duration(r.Requests)
}
