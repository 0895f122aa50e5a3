package main

import (
	"fmt"
	"strings"
	"time"
)

// scaleOps are the operations whose latency the report shows.
var scaleOps = []string{"authorize-token", "authorize-key", "refresh", "login", "register", "logout", "refresh-race"}

func (d *reportData) writeScale(b *strings.Builder) {
	b.WriteString("\n## Throughput against replicas\n\nThe mixed workload (see `bench/README.md`) through haproxy, no " +
		"fault, Redis on. *req/s* counts every HTTP request the driver sent (through the balancer and, for the checks, " +
		"to replicas directly). CPU per request is `utime+stime` from `/proc/<pid>/stat` over the window ÷ requests; " +
		"*replicas* sums every replica. Invariants were checked on every answer and the ledger afterwards.\n\n")
	b.WriteString("![throughput against replicas](cluster-throughput.svg)\n\n![CPU per request](cluster-cpu.svg)\n\n")
	b.WriteString("| replicas | ops/s | req/s | vs 1 replica | replicas' CPU/req | haproxy CPU/req | PostgreSQL CPU/req | " +
		"Redis CPU/req | driver CPU/req | other cores | violations | plain: req/s | plain: server CPU/req | plain: haproxy CPU/req |\n")
	b.WriteString("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for i, s := range d.Scale {
		p := d.Plain[i]
		other := s.BusyCPU - s.ServerCPU - s.LBCPU - s.PGCPU - s.RedisCPU - s.DriverCPU
		fmt.Fprintf(b, "| %d | %.0f | %.0f | %.2f | %s | %s | %s | %s | %s | %.2f | %d | %.0f | %s | %s |\n",
			s.Replicas, float64(s.Summary.Ops)/s.Elapsed.Seconds(), rate(s.Requests, s.Elapsed),
			rate(s.Requests, s.Elapsed)/rate(d.Scale[0].Requests, d.Scale[0].Elapsed),
			d.x(s.perRequest(s.ServerCPU)), d.x(s.perRequest(s.LBCPU)), d.x(s.perRequest(s.PGCPU)),
			d.x(s.perRequest(s.RedisCPU)), d.x(s.perRequest(s.DriverCPU)), max(0, other.Seconds()/s.Elapsed.Seconds()),
			s.Summary.NViol, rate(p.Requests, p.Elapsed), d.x(p.perRequest(p.ServerCPU)), d.x(p.perRequest(p.LBCPU)))
	}
	b.WriteString("\nOn two cores more replicas cannot add throughput: they share the same cores with haproxy, " +
		"PostgreSQL, Redis and the driver (and, in *other cores*, other people's work).\n\n")
	d.writeGrowth(b)
}

// writeGrowth says, from the figures, how CPU per request moved with N,
// beside the plain server's own change on the same machine.
func (d *reportData) writeGrowth(b *strings.Builder) {
	s1, p1 := d.Scale[0], d.Plain[0]
	base, plainBase := float64(s1.perRequest(s1.ServerCPU)), float64(p1.perRequest(p1.ServerCPU))
	var parts []string
	for i, s := range d.Scale[1:] {
		p := d.Plain[i+1]
		parts = append(parts, fmt.Sprintf("%d replicas: %.2f× (plain: %.2f×)", s.Replicas,
			float64(s.perRequest(s.ServerCPU))/base, float64(p.perRequest(p.ServerCPU))/plainBase))
	}
	viol := 0
	for _, s := range d.Scale {
		viol += s.Summary.NViol
	}
	fmt.Fprintf(b, "Replicas' CPU per request against 1 replica — %s. Invariant violations in these runs: %d.\n",
		strings.Join(parts, "; "), viol)
	for _, s := range d.Scale {
		for _, v := range s.Summary.Violations {
			fmt.Fprintf(b, "- VIOLATION (%d replicas) %s\n", s.Replicas, cell(v))
		}
	}
}

func (d *reportData) writeLatency(b *strings.Builder) {
	b.WriteString("\n## Latency percentiles\n\nEach operation as the driver saw it (through haproxy), p50 / p90 / p99; " +
		"the plain row is the baseline's `GET /` through the same balancer.\n\n![latency percentiles](cluster-latency.svg)\n\n")
	b.WriteString("| operation | 1 replica | 2 replicas | 3 replicas |\n|---|---|---|---|\n")
	cell := func(l [3]time.Duration) string {
		return fmt.Sprintf("%v / %v / %v", l[0].Round(10*time.Microsecond), l[1].Round(10*time.Microsecond), l[2].Round(10*time.Microsecond))
	}
	for _, op := range scaleOps {
		fmt.Fprintf(b, "| %s |", op)
		for _, s := range d.Scale {
			fmt.Fprintf(b, " %s |", cell(s.Summary.Latency[op]))
		}
		b.WriteString("\n")
	}
	b.WriteString("| plain GET / (baseline) |")
	for _, p := range d.Plain {
		fmt.Fprintf(b, " %s |", cell(p.Summary.Latency["plain GET /"]))
	}
	b.WriteString("\n")
}

func (d *reportData) throughputSVG() string {
	sig, plain := series{name: "Sigil req/s"}, series{name: "plain req/s"}
	var groups []string
	for i, s := range d.Scale {
		groups = append(groups, fmt.Sprintf("%d replica(s)", s.Replicas))
		sig.values = append(sig.values, rate(s.Requests, s.Elapsed))
		plain.values = append(plain.values, rate(d.Plain[i].Requests, d.Plain[i].Elapsed))
	}
	return barChart("Throughput through haproxy against replicas (2 cores)", "requests per second", groups, []series{sig, plain})
}

func (d *reportData) cpuSVG() string {
	names := []string{"replicas", "haproxy", "PostgreSQL", "Redis", "plain server"}
	ss := make([]series, len(names))
	for i := range ss {
		ss[i].name = names[i]
	}
	var groups []string
	us := func(v time.Duration) float64 { return float64(v) / float64(d.unit()) }
	for i, s := range d.Scale {
		groups = append(groups, fmt.Sprintf("%d replica(s)", s.Replicas))
		for j, v := range []time.Duration{s.ServerCPU, s.LBCPU, s.PGCPU, s.RedisCPU} {
			ss[j].values = append(ss[j].values, us(s.perRequest(v)))
		}
		ss[4].values = append(ss[4].values, us(d.Plain[i].perRequest(d.Plain[i].ServerCPU)))
	}
	return barChart("CPU per request, in raw ed25519.Verify", "× one raw verify", groups, ss)
}

func (d *reportData) latencySVG() string {
	var ss []series
	for _, s := range d.Scale {
		p50, p99 := series{name: fmt.Sprintf("p50, %d repl.", s.Replicas)}, series{name: fmt.Sprintf("p99, %d repl.", s.Replicas)}
		for _, op := range scaleOps[:4] {
			p50.values = append(p50.values, float64(s.Summary.Latency[op][0])/1e6)
			p99.values = append(p99.values, float64(s.Summary.Latency[op][2])/1e6)
		}
		ss = append(ss, p50, p99)
	}
	return barChart("Latency percentiles by operation", "milliseconds", scaleOps[:4], ss)
}
