package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// writeFaultRun writes one fault run as Markdown: the timeline (svg, if
// not ""), each fault's expectation beside what was observed, the
// refusal and ledger checks, and every violation.
func writeFaultRun(w io.Writer, r faultResult, svg string) {
	s := r.Summary
	fmt.Fprintf(w, "\n### %s\n\n", r.Config)
	if svg != "" {
		fmt.Fprintf(w, "![timeline](%s)\n\n", svg)
	}
	fmt.Fprintf(w, "%.0f s, %d operations answered as expected, %d failures inside fault windows (excused), **%d invariant violations**.\n\n",
		s.Elapsed.Seconds(), s.Ops, s.Excused, s.NViol)
	fmt.Fprintf(w, "| # | fault | window | expected | observed | failed requests in window | verdict |\n|---:|---|---|---|---|---:|---|\n")
	for i, m := range s.Marks {
		verdict := "as expected"
		if m.Failed {
			verdict = "**violated**"
		}
		fmt.Fprintf(w, "| %d | %s | %.1f–%.1f s | %s | %s | %d | %s |\n", i+1, m.Name, m.Start.Seconds(), m.End.Seconds(),
			m.Expected, cell(strings.Join(m.Observed, "; ")), failuresIn(s.Timeline, m), verdict)
	}
	fmt.Fprintf(w, "\n- Rate limit across replicas (a burst of %d logins for one account, spread over the replicas, "+
		"before any fault): %s.\n", 2*loginAccountLimit, r.Probe)
	fmt.Fprintf(w, "- Logouts and key revocations checked on every replica directly: %d refusals measured, the slowest %v after the 204 (bound 1 s).\n",
		r.Refusals, r.MaxRefuse.Round(time.Millisecond))
	l := r.Ledger
	fmt.Fprintf(w, "- Acknowledged and checked afterwards on every replica: %d registered users (each logs in), %d API keys "+
		"(%d revoked: refused; the rest: accepted), %d ended sessions (refused): **%d missing or wrong**.\n",
		l.Users, l.Keys, l.Revoked, l.LoggedOut, l.Missing)
	ops := make([]string, 0, len(s.Counts))
	for op, n := range s.Counts {
		ops = append(ops, fmt.Sprintf("%s %d", op, n))
	}
	slices.Sort(ops)
	fmt.Fprintf(w, "- Operations: %s.\n", strings.Join(ops, ", "))
	for _, v := range s.Violations {
		fmt.Fprintf(w, "- VIOLATION %s\n", cell(v))
	}
}

// cell makes text (error bodies included) fit one Markdown table cell.
func cell(text string) string {
	return strings.NewReplacer("\n", " ", "|", "\\|").Replace(strings.TrimSpace(text))
}

// failuresIn counts the timeline's failed requests in m's window (whole
// seconds).
func failuresIn(t []bucket, m mark) int {
	n := 0
	for sec := int(m.Start.Seconds()); sec <= int(m.End.Seconds()) && sec < len(t); sec++ {
		n += t[sec].Errors
	}
	return n
}
