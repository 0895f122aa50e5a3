package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/sigil-auth/sigil/bench/internal/loadkit"
)

// reportData is everything REPORT.md shows, from one run.
type reportData struct {
	Date                         time.Time
	CPU, GoVersion, Load0, Load1 string
	NumCPU                       int
	Verify0, Verify1             time.Duration // raw ed25519.Verify CPU, before and after
	Scale, Plain                 []scaleResult // N = 1, 2, 3
	Faults                       []faultResult
	Opts                         options
}

// unit is the mean raw verify: every CPU figure is also shown as a
// multiple of it.
func (d *reportData) unit() time.Duration { return (d.Verify0 + d.Verify1) / 2 }

// report runs the scaling runs with their plain baselines and both fault
// runs, and writes o.out and its SVGs.
func report(ctx context.Context, o options, progress io.Writer) error {
	d := &reportData{Date: time.Now().UTC(), CPU: loadkit.CPUModel(), GoVersion: runtime.Version(),
		NumCPU: runtime.NumCPU(), Load0: loadkit.LoadAvg(), Opts: o}
	d.Verify0, _ = loadkit.RawVerify(time.Second)
	for n := 1; n <= 3; n++ {
		s, err := runScale(ctx, o, n, progress)
		if err != nil {
			return err
		}
		p, err := runPlain(ctx, o, n, progress)
		if err != nil {
			return err
		}
		d.Scale, d.Plain = append(d.Scale, s), append(d.Plain, p)
	}
	for _, redis := range []bool{true, false} {
		f, err := runFaults(ctx, o, redis, progress)
		if err != nil {
			return err
		}
		d.Faults = append(d.Faults, f)
	}
	d.Verify1, _ = loadkit.RawVerify(time.Second)
	d.Load1 = loadkit.LoadAvg()
	if err := d.write(o.out); err != nil {
		return err
	}
	bad := 0
	for _, s := range d.Scale {
		bad += s.Summary.NViol
	}
	for _, f := range d.Faults {
		bad += f.Summary.NViol
	}
	if bad > 0 {
		return fmt.Errorf("report written, but %d invariant violations", bad)
	}
	return nil
}

// write writes the Markdown and the SVGs beside it.
func (d *reportData) write(out string) error {
	dir := filepath.Dir(out)
	svgs := map[string]string{
		"cluster-throughput.svg": d.throughputSVG(),
		"cluster-cpu.svg":        d.cpuSVG(),
		"cluster-latency.svg":    d.latencySVG(),
	}
	var b strings.Builder
	d.writeHeader(&b)
	d.writeScale(&b)
	d.writeLatency(&b)
	b.WriteString("\n## Faults\n\nEach fault's expected behaviour was written down (in `bench/cluster/faults.go`, `doc.go` and " +
		"`bench/README.md`) before the run that checks it. Failed requests (5xx or no answer) are allowed only inside a " +
		"fault's window (shaded on the timeline); a 4xx where a 2xx was due is a violation anywhere, except the 401s the " +
		"clock-skew faults document. Restart windows are strict: they excuse nothing.\n")
	for i, f := range d.Faults {
		name := fmt.Sprintf("cluster-faults-%d.svg", i+1)
		svgs[name] = faultTimeline(f)
		writeFaultRun(&b, f, name)
	}
	for name, svg := range svgs {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(svg), 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(out, []byte(b.String()), 0o644)
}

// faultTimeline is a fault run's answers and failures per second.
func faultTimeline(f faultResult) string {
	ok, bad := series{name: "answered as expected"}, series{name: "failed"}
	for _, s := range f.Summary.Timeline {
		ok.values, bad.values = append(ok.values, float64(s.OK)), append(bad.values, float64(s.Errors))
	}
	return timeline(f.Config, []series{ok, bad}, f.Summary.Marks)
}

func (d *reportData) writeHeader(b *strings.Builder) {
	fmt.Fprintf(b, "# Sigil replicas under load and faults\n\nMade by one command, `go run ./bench/cluster report` "+
		"(%s, %d workers, %v per scaling run, %v of calm between faults), on %s UTC. Do not edit: run it again.\n\n",
		"bench/cluster", d.Opts.conc, d.Opts.duration, d.Opts.calm, d.Date.Format("2006-01-02 15:04"))
	fmt.Fprintf(b, "**Machine:** %s, %d cores (shared with other engineers' work), %s; load average %s before, %s after. "+
		"Everything runs on these cores: the replicas, haproxy, a private PostgreSQL 15 and Redis, and the driver.\n\n",
		d.CPU, d.NumCPU, d.GoVersion, d.Load0, d.Load1)
	fmt.Fprintf(b, "**Baselines from the same run:** one raw `ed25519.Verify` took %v of CPU before and %v after "+
		"(the unit of every \"×\" below: mean %v); the plain-HTTP baseline is `bench/load/plain` (a `net/http` server "+
		"answering `GET /`) behind the same haproxy configuration, with the same number of backends and workers.\n",
		d.Verify0, d.Verify1, d.unit())
}

// x is d as a multiple of the raw verify.
func (d *reportData) x(v time.Duration) string {
	return fmt.Sprintf("%v (%.1f×)", v.Round(100*time.Nanosecond), float64(v)/float64(d.unit()))
}

func rate(n int64, el time.Duration) float64 { return float64(n) / el.Seconds() }
