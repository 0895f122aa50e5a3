package main

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sigil-auth/sigil/bench/internal/loadkit"
)

// recorder keeps every answer's outcome by second, the latencies of the
// successful ones by operation, the failures with their time (whether a
// failure is allowed depends on the fault windows, known only at the
// end) and the invariant violations found on the way.
type recorder struct {
	start time.Time
	mu    sync.Mutex
	secs  []bucket
	lat   map[string][]time.Duration
	fails []failure
	viol  []string
	nViol int
	marks []mark
}

// bucket is one second of the timeline.
type bucket struct{ OK, Errors int }

// failure is a request that did not get its expected answer.
type failure struct {
	at      time.Time
	op, msg string
	outage  bool // 5xx or no answer: allowed inside a fault window
	status  int  // the answer's status (0: none)
}

// mark is a fault on the timeline: [Start, End] is its window, in which
// outage-class failures are allowed (End includes the recovery grace).
type mark struct {
	Name       string
	Start, End time.Duration
	Expected   string
	Observed   []string
	Failed     bool
	// Refusals: 401s inside the window are the fault's documented
	// effect (clock skew beyond what Sigil supports, logged as such).
	Refusals bool
	// Strict: the window excuses nothing (a restart expected to cost no
	// request); it is on the timeline to show where to look.
	Strict bool
}

func newRecorder() *recorder {
	return &recorder{start: time.Now(), lat: map[string][]time.Duration{}}
}

// done records one operation that started at t0 and ended now with err.
func (r *recorder) done(op string, t0 time.Time, err error) {
	now := time.Now()
	sec := int(now.Sub(r.start) / time.Second)
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.secs) <= sec {
		r.secs = append(r.secs, bucket{})
	}
	if err == nil {
		r.secs[sec].OK++
		r.lat[op] = append(r.lat[op], now.Sub(t0))
		return
	}
	r.secs[sec].Errors++
	f := failure{at: now, op: op, msg: err.Error(), outage: isOutage(err)}
	var se *loadkit.StatusError
	if errors.As(err, &se) {
		f.status = se.Status
	}
	r.fails = append(r.fails, f)
}

// tally writes failure counts by status, "no answer" for 0.
func tally(byStatus map[int]int) string {
	var parts []string
	for _, st := range slices.Sorted(maps.Keys(byStatus)) {
		name := strconv.Itoa(st)
		if st == 0 {
			name = "no answer"
		}
		parts = append(parts, fmt.Sprintf("%s ×%d", name, byStatus[st]))
	}
	return strings.Join(parts, ", ")
}

// isOutage: a 5xx or no answer at all. A 4xx where a 2xx was due is a
// wrong answer, never excused by a fault.
func isOutage(err error) bool {
	var se *loadkit.StatusError
	if errors.As(err, &se) {
		return se.Status >= 500
	}
	return true
}

// violation records a broken invariant.
func (r *recorder) violation(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.nViol++
	if len(r.viol) < 30 {
		r.viol = append(r.viol, fmt.Sprintf("%6.1fs ", time.Since(r.start).Seconds())+fmt.Sprintf(format, args...))
	}
}

// violations is how many invariant violations were recorded so far.
func (r *recorder) violations() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.nViol
}

// addMark records a fault window.
func (r *recorder) addMark(m mark) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.marks = append(r.marks, m)
}

// settle turns the failures outside every fault window, and every
// non-outage failure, into violations; it returns how many failures the
// windows excused.
func (r *recorder) settle() (excused int) {
	r.mu.Lock()
	fails, marks := slices.Clone(r.fails), slices.Clone(r.marks)
	r.mu.Unlock()
	for i := range marks {
		byStatus := map[int]int{}
		for _, f := range fails {
			if at := f.at.Sub(r.start); at >= marks[i].Start && at <= marks[i].End {
				if len(byStatus) == 0 {
					marks[i].Observed = append(marks[i].Observed, fmt.Sprintf("first failure: %s %.150s", f.op, f.msg))
				}
				byStatus[f.status]++
			}
		}
		if len(byStatus) > 0 {
			marks[i].Observed = append(marks[i].Observed, "failures by answer: "+tally(byStatus))
		}
	}
	r.mu.Lock()
	r.marks = marks
	r.mu.Unlock()
	for _, f := range fails {
		at := f.at.Sub(r.start)
		in := slices.ContainsFunc(marks, func(m mark) bool { return !m.Strict && at >= m.Start && at <= m.End })
		refusal := f.status == 401 && slices.ContainsFunc(marks, func(m mark) bool { return m.Refusals && at >= m.Start && at <= m.End })
		if (f.outage && in) || refusal {
			excused++
			continue
		}
		r.mu.Lock()
		r.nViol++
		if len(r.viol) < 30 {
			r.viol = append(r.viol, fmt.Sprintf("%6.1fs %s failed (%s): %s", at.Seconds(), f.op,
				map[bool]string{true: "in a fault window", false: "no fault"}[in], f.msg))
		}
		r.mu.Unlock()
	}
	return excused
}

// summary is what a run produced, for the report.
type summary struct {
	Elapsed    time.Duration
	Ops        int
	Timeline   []bucket
	Marks      []mark
	Latency    map[string][3]time.Duration // p50, p90, p99
	Counts     map[string]int
	Excused    int
	Violations []string
	NViol      int
}

func (r *recorder) summary() summary {
	excused := r.settle()
	r.mu.Lock()
	defer r.mu.Unlock()
	s := summary{Elapsed: time.Since(r.start), Timeline: slices.Clone(r.secs), Marks: slices.Clone(r.marks),
		Latency: map[string][3]time.Duration{}, Counts: map[string]int{}, Excused: excused,
		Violations: slices.Clone(r.viol), NViol: r.nViol}
	for op, l := range r.lat {
		slices.Sort(l)
		s.Latency[op] = [3]time.Duration{l[len(l)*50/100], l[len(l)*90/100], l[len(l)*99/100]}
		s.Counts[op] = len(l)
		s.Ops += len(l)
	}
	return s
}
