package authn

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sigil-auth/sigil/internal/store"
)

func TestUsagePoints(t *testing.T) {
	tests := []struct {
		name      string
		now       time.Time
		step      time.Duration
		n         int
		first     time.Time
		lastStart time.Time
	}{
		{"hours mid-hour", time.Date(2026, 11, 3, 14, 25, 7, 9, time.UTC), time.Hour, 24,
			time.Date(2026, 11, 2, 15, 0, 0, 0, time.UTC), time.Date(2026, 11, 3, 14, 0, 0, 0, time.UTC)},
		{"hours on the hour", time.Date(2026, 11, 3, 14, 0, 0, 0, time.UTC), time.Hour, 24,
			time.Date(2026, 11, 2, 15, 0, 0, 0, time.UTC), time.Date(2026, 11, 3, 14, 0, 0, 0, time.UTC)},
		{"days cross a month", time.Date(2026, 11, 3, 23, 59, 59, 0, time.UTC), overviewDay, 30,
			time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)},
		// Days are UTC days whatever the zone of now.
		{"days from another zone", time.Date(2026, 11, 3, 0, 30, 0, 0, time.FixedZone("CET", 3600)), overviewDay, 30,
			time.Date(2026, 10, 4, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pts := usagePoints(tt.now, tt.step, tt.n)
			if len(pts) != tt.n || !pts[0].Start.Equal(tt.first) || !pts[tt.n-1].Start.Equal(tt.lastStart) {
				t.Fatalf("got %d points from %v to %v, want %d from %v to %v",
					len(pts), pts[0].Start, pts[len(pts)-1].Start, tt.n, tt.first, tt.lastStart)
			}
			for i := 1; i < len(pts); i++ {
				if d := pts[i].Start.Sub(pts[i-1].Start); d != tt.step {
					t.Fatalf("points %d and %d are %v apart", i-1, i, d)
				}
			}
		})
	}
}

func TestBucketOf(t *testing.T) {
	now := time.Date(2026, 11, 3, 14, 25, 0, 0, time.UTC)
	pts := usagePoints(now, time.Hour, 24) // from 2026-11-02 15:00
	first := pts[0].Start
	tests := []struct {
		name string
		t    time.Time
		want int
	}{
		{"first bucket's start", first, 0},
		{"just before the range", first.Add(-time.Nanosecond), -1},
		{"inside the first", first.Add(59 * time.Minute), 0},
		{"second", first.Add(time.Hour), 1},
		{"current hour", now, 23},
		{"after the range", first.Add(24 * time.Hour), -1},
	}
	for _, tt := range tests {
		if got := bucketOf(pts, time.Hour, tt.t); got != tt.want {
			t.Errorf("%s: bucketOf(%v) = %d, want %d", tt.name, tt.t, got, tt.want)
		}
	}
	if got := bucketOf(nil, time.Hour, now); got != -1 {
		t.Errorf("no buckets: %d", got)
	}
}

func TestAddCounts(t *testing.T) {
	now := time.Date(2026, 11, 3, 14, 25, 0, 0, time.UTC)
	h := func(n int) time.Time {
		return time.Date(2026, 11, 3, 14, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Hour)
	}
	counts := []store.UsageCount{
		{Hour: h(0), Kind: UsageSignIn, Count: 3},
		{Hour: h(0), Kind: UsageSignInFail, Count: 1},
		{Hour: h(-1), Kind: UsageRateLimited, Count: 2},
		{Hour: h(-15), Kind: UsageSignIn, Count: 5}, // 2026-11-02 23:00: yesterday
		{Hour: h(-24), Kind: UsageSignIn, Count: 7}, // outside the 24 h, inside the 30 days
		{Hour: h(0), Kind: "something.new", Count: 9},
	}
	hourly, daily := usagePoints(now, time.Hour, 24), usagePoints(now, overviewDay, 30)
	addCounts(hourly, time.Hour, counts)
	addCounts(daily, overviewDay, counts)
	type row struct{ I, SignIns, Failures, Limited int64 }
	nonZero := func(pts []UsagePoint) []row {
		var out []row
		for i, p := range pts {
			if p.SignIns+p.Failures+p.RateLimited > 0 {
				out = append(out, row{int64(i), p.SignIns, p.Failures, p.RateLimited})
			}
		}
		return out
	}
	tests := []struct {
		name string
		pts  []UsagePoint
		want []row
	}{
		{"hourly", hourly, []row{{8, 5, 0, 0}, {22, 0, 0, 2}, {23, 3, 1, 0}}},
		{"daily", daily, []row{{28, 12, 0, 0}, {29, 3, 1, 2}}},
	}
	for _, tt := range tests {
		if d := cmp.Diff(tt.want, nonZero(tt.pts)); d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, d)
		}
	}
}

func TestCountKeys(t *testing.T) {
	now := time.Date(2026, 11, 3, 14, 25, 0, 0, time.UTC)
	pts := usagePoints(now, time.Hour, 3) // 12:00, 13:00, 14:00
	at := func(h, m int) time.Time { return time.Date(2026, 11, 3, h, m, 0, 0, time.UTC) }
	ptr := func(t time.Time) *time.Time { return &t }
	tests := []struct {
		name string
		key  store.APIKeySpan
		want []int64
	}{
		{"created long ago, live", store.APIKeySpan{CreatedAt: at(1, 0)}, []int64{1, 1, 1}},
		{"created during 13:00", store.APIKeySpan{CreatedAt: at(13, 30)}, []int64{0, 1, 1}},
		{"created at 13:00 sharp", store.APIKeySpan{CreatedAt: at(13, 0)}, []int64{0, 1, 1}},
		{"revoked during 13:00", store.APIKeySpan{CreatedAt: at(1, 0), RevokedAt: ptr(at(13, 10))}, []int64{1, 1, 0}},
		{"revoked at 13:00 sharp", store.APIKeySpan{CreatedAt: at(1, 0), RevokedAt: ptr(at(13, 0))}, []int64{1, 0, 0}},
		{"expired at 14:00 sharp", store.APIKeySpan{CreatedAt: at(1, 0), ExpiresAt: ptr(at(14, 0))}, []int64{1, 1, 0}},
		{"expires in the future", store.APIKeySpan{CreatedAt: at(12, 59), ExpiresAt: ptr(at(20, 0))}, []int64{1, 1, 1}},
		{"lived within 12:00", store.APIKeySpan{CreatedAt: at(12, 5), RevokedAt: ptr(at(12, 6))}, []int64{1, 0, 0}},
	}
	for _, tt := range tests {
		p := usagePoints(now, time.Hour, 3)
		countKeys(p, time.Hour, []store.APIKeySpan{tt.key})
		got := []int64{p[0].ActiveKeys, p[1].ActiveKeys, p[2].ActiveKeys}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, d)
		}
	}
	var all []store.APIKeySpan
	for _, tt := range tests {
		all = append(all, tt.key)
	}
	countKeys(pts, time.Hour, all)
	if got := []int64{pts[0].ActiveKeys, pts[1].ActiveKeys, pts[2].ActiveKeys}; !cmp.Equal(got, []int64{6, 6, 4}) {
		t.Errorf("all keys together: %v, want [6 6 4]", got)
	}
}

// usageStore is a store that records AddUsage and can refuse it.
type usageStore struct {
	store.Store
	mu    sync.Mutex
	added map[usageKey]int64
	fail  bool
}

func (s *usageStore) AddUsage(_ context.Context, deltas ...store.UsageCount) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errors.New("database is down")
	}
	for _, d := range deltas {
		s.added[usageKey{ws: d.WorkspaceID, kind: d.Kind, hour: d.Hour.Unix()}] += d.Count
	}
	return nil
}

func (s *usageStore) refuse(b bool) {
	s.mu.Lock()
	s.fail = b
	s.mu.Unlock()
}

// TestUsageCounter: counts wait in memory until a flush, a refused flush
// keeps them for the next, close writes what is left, and counts after
// close are written at once; unattributable ones are dropped.
func TestUsageCounter(t *testing.T) {
	now := time.Date(2026, 11, 3, 14, 25, 0, 0, time.UTC)
	st := &usageStore{added: map[usageKey]int64{}}
	u := newUsageCounter(st, slog.New(slog.DiscardHandler), func() time.Time { return now })
	go u.run()
	hour := now.Truncate(time.Hour).Unix()
	u.countAudit(store.AuditEvent{WorkspaceID: "ws", Action: AuditLoginSuccess})
	u.countAudit(store.AuditEvent{WorkspaceID: "ws", Action: AuditLoginFailure, Details: map[string]string{"reason": "invalid_credentials"}})
	u.countAudit(store.AuditEvent{WorkspaceID: "ws", Action: AuditLoginFailure, Details: map[string]string{"reason": "rate_limited"}})
	u.countAudit(store.AuditEvent{WorkspaceID: "", Action: AuditLoginFailure}) // unknown email: no workspace
	u.countAudit(store.AuditEvent{WorkspaceID: "ws", Action: AuditAPIKeyCreate})
	st.refuse(true)
	u.flush(t.Context())
	if len(st.added) != 0 {
		t.Fatalf("written although the store refused: %v", st.added)
	}
	st.refuse(false)
	u.add("ws", UsageSignIn)
	u.close()
	want := map[usageKey]int64{
		{ws: "ws", kind: UsageSignIn, hour: hour}:      2,
		{ws: "ws", kind: UsageSignInFail, hour: hour}:  1,
		{ws: "ws", kind: UsageRateLimited, hour: hour}: 1,
	}
	if d := cmp.Diff(want, st.added, cmp.AllowUnexported(usageKey{})); d != "" {
		t.Fatalf("after close (-want +got):\n%s", d)
	}
	u.add("ws", UsageRateLimited)
	want[usageKey{ws: "ws", kind: UsageRateLimited, hour: hour}]++
	if d := cmp.Diff(want, st.added, cmp.AllowUnexported(usageKey{})); d != "" {
		t.Fatalf("a count after close (-want +got):\n%s", d)
	}
}
