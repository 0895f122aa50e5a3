package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

// Usage counters (contract: AddUsage, ListUsage, ListAPIKeySpans, and
// their expiry in DeleteExpired).
var usageTests = []test{
	{"AddAndList", testUsageAddList},
	{"AddNothing", testUsageAddNothing},
	{"NoWorkspaceNeeded", testUsageNoWorkspace},
	{"ConcurrentAddsAllCount", testUsageConcurrent},
	{"APIKeySpans", testAPIKeySpans},
	{"DeleteExpired", testUsageExpiry},
}

// h0 is the whole UTC hour of t0: usage buckets start on the hour.
var h0 = t0.Truncate(time.Hour)

func hour(n int) time.Time { return h0.Add(time.Duration(n) * time.Hour) }

func usage(ws string, h int, kind string, n int64) store.UsageCount {
	return store.UsageCount{WorkspaceID: ws, Hour: hour(h), Kind: kind, Count: n}
}

func listUsage(t *testing.T, s store.Store, ws string, since time.Time) []store.UsageCount {
	t.Helper()
	got, err := s.ListUsage(t.Context(), ws, since)
	ok(t, "ListUsage "+ws, err)
	return got
}

func testUsageAddList(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "ws")
	mustWorkspace(t, s, "other")
	// The same bucket twice in one batch adds up; a second batch adds on.
	ok(t, "AddUsage", s.AddUsage(t.Context(), usage("ws", 1, "login.success", 2), usage("ws", 0, "login.failure", 1),
		usage("ws", 1, "login.success", 3), usage("other", 1, "login.success", 7), usage("ws", -2, "rate_limited", 4)))
	ok(t, "AddUsage again", s.AddUsage(t.Context(), usage("ws", 1, "login.success", 1), usage("ws", 1, "login.failure", 1)))
	want := []store.UsageCount{
		usage("ws", -2, "rate_limited", 4),
		usage("ws", 0, "login.failure", 1),
		usage("ws", 1, "login.failure", 1),
		usage("ws", 1, "login.success", 6),
	}
	diff(t, "ListUsage from the start", want, listUsage(t, s, "ws", hour(-24)))
	// since is inclusive: the bucket starting at since is in.
	diff(t, "ListUsage since hour 0", want[1:], listUsage(t, s, "ws", hour(0)))
	diff(t, "ListUsage of other", []store.UsageCount{usage("other", 1, "login.success", 7)}, listUsage(t, s, "other", hour(0)))
	diff(t, "ListUsage of an unknown workspace", []store.UsageCount(nil), listUsage(t, s, "nope", hour(-24)))
}

func testUsageAddNothing(t *testing.T, s store.Store) {
	ok(t, "AddUsage()", s.AddUsage(t.Context()))
}

// testUsageNoWorkspace: counters reference nothing, so a flush naming a
// workspace that is gone still succeeds, and the rest of its batch counts.
func testUsageNoWorkspace(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "ws")
	ok(t, "AddUsage", s.AddUsage(t.Context(), usage("gone", 0, "login.success", 1), usage("ws", 0, "login.success", 1)))
	diff(t, "ListUsage", []store.UsageCount{usage("ws", 0, "login.success", 1)}, listUsage(t, s, "ws", hour(0)))
}

// testUsageConcurrent: replicas flushing the same buckets at once never
// lose an increment (the upsert adds; it does not overwrite).
func testUsageConcurrent(t *testing.T, s store.Store) {
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Opposite orders, so that a backend locking rows in input
			// order would deadlock.
			batch := []store.UsageCount{usage("ws", 0, "login.success", 1), usage("ws", 1, "login.success", 2)}
			if i%2 == 1 {
				batch[0], batch[1] = batch[1], batch[0]
			}
			errs[i] = s.AddUsage(t.Context(), batch...)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		ok(t, "concurrent AddUsage", err)
	}
	want := []store.UsageCount{usage("ws", 0, "login.success", n), usage("ws", 1, "login.success", 2*n)}
	diff(t, "ListUsage after concurrent adds", want, listUsage(t, s, "ws", hour(0)))
}

func testAPIKeySpans(t *testing.T, s store.Store) {
	fixture(t, s)
	mustWorkspace(t, s, "other")
	since := at(time.Hour)
	keys := []struct {
		id               string
		created          time.Duration
		expires, revoked *time.Time
		in               bool
	}{
		{"live", 0, nil, nil, true},
		{"expires-later", time.Second, ptr(since.Add(time.Microsecond)), nil, true},
		{"revoked-later", 2 * time.Second, nil, ptr(since.Add(time.Hour)), true},
		{"expired-at-since", 3 * time.Second, ptr(since), nil, false},
		{"revoked-at-since", 4 * time.Second, nil, ptr(since), false},
		{"revoked-before", 5 * time.Second, ptr(since.Add(time.Hour)), ptr(since.Add(-time.Minute)), false},
		{"created-after", 2 * time.Hour, nil, nil, true},
	}
	var want []store.APIKeySpan
	for _, k := range keys {
		key := newAPIKey(k.id, "ws", "alice", at(k.created))
		key.ExpiresAt, key.RevokedAt = k.expires, k.revoked
		mustAPIKey(t, s, key)
		if k.in {
			want = append(want, store.APIKeySpan{CreatedAt: key.CreatedAt, ExpiresAt: k.expires, RevokedAt: k.revoked})
		}
	}
	mustAPIKey(t, s, newAPIKey("elsewhere", "other", "", t0))
	got, err := s.ListAPIKeySpans(t.Context(), "ws", since)
	ok(t, "ListAPIKeySpans", err)
	diff(t, "ListAPIKeySpans", want, got)
	got, err = s.ListAPIKeySpans(t.Context(), "nope", since)
	ok(t, "ListAPIKeySpans of an unknown workspace", err)
	diff(t, "ListAPIKeySpans of an unknown workspace", []store.APIKeySpan(nil), got)
}

// testUsageExpiry: DeleteExpired drops (and counts) buckets older than
// store.UsageRetention, and keeps the one starting exactly then.
func testUsageExpiry(t *testing.T, s store.Store) {
	now := hour(0)
	keep := int(store.UsageRetention / time.Hour) // hours
	ok(t, "AddUsage", s.AddUsage(t.Context(), usage("ws", -keep-1, "login.success", 1),
		usage("ws", -keep-1, "login.failure", 1), usage("ws", -keep, "login.success", 1), usage("ws", 0, "login.success", 1)))
	n, err := s.DeleteExpired(t.Context(), now)
	ok(t, "DeleteExpired", err)
	if n != 2 {
		t.Errorf("DeleteExpired removed %d rows, want the 2 buckets older than the retention", n)
	}
	want := []store.UsageCount{usage("ws", -keep, "login.success", 1), usage("ws", 0, "login.success", 1)}
	diff(t, "ListUsage after DeleteExpired", want, listUsage(t, s, "ws", hour(-keep-10)))
}
