package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

var auditTests = []test{
	{"AppendListRoundTrip", testAuditRoundTrip},
	{"AppendNothing", testAuditAppendNothing},
	{"AppendDuplicateIsAtomic", testAuditDuplicate},
	{"Filters", testAuditFilters},
	{"Paging", testAuditPaging},
	{"LimitBounds", testAuditLimits},
}

// event is an audit event of ws with id, action and actor at t0 + id's
// number of seconds.
func event(id, ws, action, actor string) store.AuditEvent {
	var n int
	fmt.Sscanf(id, "e%d", &n)
	return store.AuditEvent{ID: id, WorkspaceID: ws, Time: at(time.Duration(n) * time.Second),
		Actor: actor, Action: action, Target: "target-" + id, Method: "pubkey",
		ClientIP: "192.0.2.1", Details: map[string]string{"n": id}}
}

func mustAppend(t *testing.T, s store.Store, events ...store.AuditEvent) {
	t.Helper()
	ok(t, fmt.Sprint("AppendAudit of ", len(events)), s.AppendAudit(t.Context(), events...))
}

// listAudit runs ListAudit and returns the ids it found.
func listAudit(t *testing.T, s store.Store, f store.AuditFilter) []string {
	t.Helper()
	got, err := s.ListAudit(t.Context(), f)
	ok(t, fmt.Sprintf("ListAudit %+v", f), err)
	ids := make([]string, len(got))
	for i, e := range got {
		ids[i] = e.ID
	}
	return ids
}

func testAuditRoundTrip(t *testing.T, s store.Store) {
	full := event("e1", "ws", "login.success", "alice")
	full.Time = t0.In(time.FixedZone("U", -5*3600))
	full.Details = map[string]string{
		"reason": `bad "password"`, "ünïcode": "✓ ß", "empty": "", "json": `{"a":[1]}`,
	}
	bare := store.AuditEvent{ID: "e2", Time: at(time.Second), Action: "login.failure"}
	emptyDetails := event("e3", "", "workspace.create", "admin")
	emptyDetails.Details = map[string]string{}
	mustAppend(t, s, full, bare)
	mustAppend(t, s, emptyDetails)
	got, err := s.ListAudit(t.Context(), store.AuditFilter{})
	ok(t, "ListAudit", err)
	full.Time = t0
	diff(t, "ListAudit", []store.AuditEvent{emptyDetails, bare, full}, got)
}

func testAuditAppendNothing(t *testing.T, s store.Store) {
	ok(t, "AppendAudit of nothing", s.AppendAudit(t.Context()))
	diff(t, "events", []string{}, listAudit(t, s, store.AuditFilter{}))
}

// A batch is one transaction: a taken id refuses all of it.
func testAuditDuplicate(t *testing.T, s store.Store) {
	e1 := event("e1", "ws", "login.success", "alice")
	mustAppend(t, s, e1)
	dup := event("e1", "ws", "api_key.revoke", "bob")
	tests := []struct {
		name  string
		batch []store.AuditEvent
	}{
		{"taken id", []store.AuditEvent{event("e2", "ws", "a.b", "x"), dup, event("e3", "ws", "a.b", "x")}},
		{"id twice in the batch", []store.AuditEvent{event("e4", "ws", "a.b", "x"), event("e4", "ws", "a.c", "y")}},
	}
	for _, tt := range tests {
		wantErr(t, "AppendAudit "+tt.name, s.AppendAudit(t.Context(), tt.batch...), store.ErrConflict)
	}
	got, err := s.ListAudit(t.Context(), store.AuditFilter{})
	ok(t, "ListAudit", err)
	diff(t, "events after refused batches", []store.AuditEvent{e1}, got)
}

func testAuditFilters(t *testing.T, s store.Store) {
	mustAppend(t, s,
		event("e1", "ws", "login.success", "alice"),
		event("e2", "ws", "login.failure", ""),
		event("e3", "ws-2", "login.success", "carol"),
		event("e4", "", "workspace.create", "admin"),
		event("e5", "ws", "api_key.create", "alice"),
		event("e6", "ws", "apixkey.create", "alice"),
		event("e7", "ws", "login", "bob"),
		event("e8", "ws", "Login.success", "bob"),
		event("e9", "ws", "login.success", "bob"),
	)
	tests := []struct {
		name string
		f    store.AuditFilter
		want []string
	}{
		{"everything", store.AuditFilter{}, []string{"e9", "e8", "e7", "e6", "e5", "e4", "e3", "e2", "e1"}},
		{"workspace", store.AuditFilter{WorkspaceID: "ws"}, []string{"e9", "e8", "e7", "e6", "e5", "e2", "e1"}},
		{"other workspace", store.AuditFilter{WorkspaceID: "ws-2"}, []string{"e3"}},
		{"unknown workspace", store.AuditFilter{WorkspaceID: "nope"}, []string{}},
		{"exact action", store.AuditFilter{Action: "login.success"}, []string{"e9", "e3", "e1"}},
		{"action without dot is exact", store.AuditFilter{Action: "login"}, []string{"e7"}},
		{"action prefix", store.AuditFilter{Action: "login."}, []string{"e9", "e3", "e2", "e1"}},
		{"prefix is case-sensitive", store.AuditFilter{Action: "Login."}, []string{"e8"}},
		{"underscore is no wildcard", store.AuditFilter{Action: "api_key."}, []string{"e5"}},
		{"percent is no wildcard", store.AuditFilter{Action: "%."}, []string{}},
		{"no such action", store.AuditFilter{Action: "logout"}, []string{}},
		{"actor", store.AuditFilter{Actor: "alice"}, []string{"e6", "e5", "e1"}},
		{"actor and prefix", store.AuditFilter{Actor: "bob", Action: "login."}, []string{"e9"}},
		{"workspace and prefix", store.AuditFilter{WorkspaceID: "ws", Action: "login."}, []string{"e9", "e2", "e1"}},
		{"before", store.AuditFilter{Before: "e5"}, []string{"e4", "e3", "e2", "e1"}},
		{"before an absent id", store.AuditFilter{Before: "e45"}, []string{"e4", "e3", "e2", "e1"}},
		{"all filters", store.AuditFilter{WorkspaceID: "ws", Action: "login.", Actor: "bob", Before: "e9"}, []string{}},
		{"workspace, before, limit", store.AuditFilter{WorkspaceID: "ws", Before: "e5", Limit: 1}, []string{"e2"}},
	}
	for _, tt := range tests {
		diff(t, "ListAudit "+tt.name, tt.want, listAudit(t, s, tt.f))
	}
}

// Paging with Before = the last id of the previous page visits every
// matching event once, newest first.
func testAuditPaging(t *testing.T, s store.Store) {
	var batch []store.AuditEvent
	var want []string
	for i := 1; i <= 20; i++ {
		ws := []string{"ws", "ws-2"}[i%2]
		batch = append(batch, event(fmt.Sprintf("e%02d", i), ws, "login.success", "alice"))
		if ws == "ws" {
			want = append([]string{fmt.Sprintf("e%02d", i)}, want...)
		}
	}
	mustAppend(t, s, batch...)
	var got []string
	f := store.AuditFilter{WorkspaceID: "ws", Limit: 3}
	for page := 0; page < 10; page++ {
		ids := listAudit(t, s, f)
		if len(ids) > 3 {
			t.Fatalf("page %d has %d events, limit 3", page, len(ids))
		}
		if len(ids) == 0 {
			break
		}
		got = append(got, ids...)
		f.Before = ids[len(ids)-1]
	}
	diff(t, "events over all pages", want, got)
}

func testAuditLimits(t *testing.T, s store.Store) {
	const n = 250
	var all []string // newest first
	for start := 0; start < n; start += 100 {
		var batch []store.AuditEvent
		for i := start; i < min(start+100, n); i++ {
			id := fmt.Sprintf("e%04d", i)
			batch = append(batch, event(id, "ws", "login.success", "alice"))
			all = append([]string{id}, all...)
		}
		mustAppend(t, s, batch...)
	}
	tests := []struct{ limit, want int }{
		{0, 50}, {-1, 50}, {1, 1}, {120, 120}, {200, 200}, {201, 200}, {1000, 200},
	}
	for _, tt := range tests {
		got := listAudit(t, s, store.AuditFilter{Limit: tt.limit})
		diff(t, fmt.Sprint("ListAudit with limit ", tt.limit), all[:tt.want], got)
	}
}
