package postgres_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"github.com/pressly/goose/v3"

	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/store/postgres"
)

// These tests cover what is particular to PostgreSQL in store contract v2;
// the behaviour both backends share is storetest's.

var t0 = time.Date(2026, time.November, 3, 12, 0, 0, 0, time.UTC)

// fixture creates workspace "ws" and user "u" (its owner) in s.
func fixture(t *testing.T, s store.Store) {
	t.Helper()
	ctx := t.Context()
	if err := s.CreateWorkspace(ctx, store.Workspace{ID: "ws", CreatedAt: t0, UpdatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(ctx, store.User{ID: "u", WorkspaceID: "ws", CreatedAt: t0}, nil); err != nil {
		t.Fatal(err)
	}
}

// TestBytewiseOrder runs on a database whose default collation is ICU
// en-US, where "a1" sorts before "B1"; bytewise (as in SQLite, and as the
// contract's "lexically larger" means) "B1" < "a1". Audit ids, the audit
// cursor and the tie-breaks of ListUsers (and its cursor), ListFactors and
// ListConnections must follow bytes, not the locale.
func TestBytewiseOrder(t *testing.T) {
	s := openOnICUDatabase(t)
	fixture(t, s)
	ctx := t.Context()
	var events []store.AuditEvent
	for _, id := range []string{"B1", "a1", "C1"} {
		events = append(events, store.AuditEvent{ID: id, WorkspaceID: "ws", Time: t0, Action: "x"})
	}
	if err := s.AppendAudit(ctx, events...); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListAudit(ctx, store.AuditFilter{WorkspaceID: "ws"})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"a1", "C1", "B1"}, auditIDs(got)); d != "" {
		t.Errorf("ListAudit order (-want +got):\n%s", d)
	}
	got, err = s.ListAudit(ctx, store.AuditFilter{Before: "a1"})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"C1", "B1"}, auditIDs(got)); d != "" {
		t.Errorf("ListAudit before a1 (-want +got):\n%s", d)
	}

	for _, id := range []string{"a", "B"} { // same CreatedAt as "u": ties by id
		if _, err := s.CreateUser(ctx, store.User{ID: id, WorkspaceID: "ws", CreatedAt: t0}, nil); err != nil {
			t.Fatal(err)
		}
	}
	users, err := s.ListUsers(ctx, "ws", "", 2)
	if err != nil {
		t.Fatal(err)
	}
	rest, err := s.ListUsers(ctx, "ws", users[len(users)-1].ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Newest first, so a tie goes to the bytewise larger id.
	if d := cmp.Diff([]string{"u", "a", "B"}, userIDs(append(users, rest...))); d != "" {
		t.Errorf("ListUsers pages (-want +got):\n%s", d)
	}

	var ids []string
	for _, id := range []string{"B1", "a1"} {
		f := store.Factor{ID: id, UserID: "u", Kind: store.FactorTOTP, Name: id, CreatedAt: t0}
		if err := s.CreateFactor(ctx, f); err != nil {
			t.Fatal(err)
		}
		c := store.Connection{ID: id, WorkspaceID: "ws", Kind: store.ConnOIDC, Name: id, DefaultRole: store.RoleMember,
			Config: []byte(`{}`), CreatedAt: t0, UpdatedAt: t0}
		if err := s.CreateConnection(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	factors, err := s.ListFactors(ctx, "u")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range factors {
		ids = append(ids, f.ID)
	}
	conns, err := s.ListConnections(ctx, "ws")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range conns {
		ids = append(ids, c.ID)
	}
	if d := cmp.Diff([]string{"a1", "B1", "a1", "B1"}, ids); d != "" {
		t.Errorf("ListFactors, then ListConnections (-want +got):\n%s", d)
	}
}

// openOnICUDatabase creates a database with ICU en-US collation, dropped
// when t ends, and opens a store on it.
func openOnICUDatabase(t *testing.T) *postgres.Store {
	t.Helper()
	pool := adminPool(t)
	name := "sigil_test_icu_" + strings.ToLower(rand.Text()[:12])
	_, err := pool.Exec(t.Context(), `CREATE DATABASE `+name+
		` TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'`)
	if err != nil {
		t.Skipf("cannot create an ICU database here: %v", err)
	}
	t.Cleanup(func() {
		// t.Context() is already canceled when cleanups run.
		if _, err := pool.Exec(context.Background(), `DROP DATABASE `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(baseURL(t))
	if err != nil {
		t.Skipf("SIGIL_TEST_POSTGRES is not a URL: %v", err)
	}
	u.Path = "/" + name
	s, err := postgres.Open(t.Context(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func auditIDs(events []store.AuditEvent) []string {
	ids := make([]string, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	return ids
}

func userIDs(users []store.User) []string {
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	return ids
}

// TestAuditPrefixIsLiteral: "_" and "%" in an action prefix are not
// wildcards (a LIKE-based prefix match would let "api_key." match
// "apiXkey.create").
func TestAuditPrefixIsLiteral(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	var events []store.AuditEvent
	for i, action := range []string{"api_key.create", "apiXkey.create", "a%.x", "ab.x"} {
		events = append(events, store.AuditEvent{ID: fmt.Sprint("e", i), Time: t0, Action: action})
	}
	if err := s.AppendAudit(ctx, events...); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ prefix, want string }{{"api_key.", "e0"}, {"a%.", "e2"}}
	for _, tt := range tests {
		got, err := s.ListAudit(ctx, store.AuditFilter{Action: tt.prefix})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff([]string{tt.want}, auditIDs(got)); d != "" {
			t.Errorf("Action %q (-want +got):\n%s", tt.prefix, d)
		}
	}
}

// TestMigrateDownAndUp undoes 00002 and applies it again on a schema with
// data in it, so the Down section is known to work.
func TestMigrateDownAndUp(t *testing.T) {
	dsn := freshSchema(t)
	s, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	fixture(t, s)
	u := store.User{ID: "p", WorkspaceID: "ws", Email: "p@example.com", CreatedAt: t0}
	if _, err := s.CreateUser(t.Context(), u, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()

	p := gooseProvider(t, dsn)
	if _, err := p.DownTo(t.Context(), 1); err != nil {
		t.Fatalf("down to 1: %v", err)
	}
	if _, err := p.Up(t.Context()); err != nil {
		t.Fatalf("up again: %v", err)
	}
	s, err = postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.GetUsersByEmail(t.Context(), "p@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"p"}, userIDs(got)); d != "" {
		t.Errorf("users by email after down and up (-want +got):\n%s", d)
	}
}

func gooseProvider(t *testing.T, dsn string) *goose.Provider {
	t.Helper()
	fsys, err := fs.Sub(postgres.Migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// BenchmarkAppendAudit measures one AppendAudit call of n events: one
// statement, so one round trip and one commit whatever n.
func BenchmarkAppendAudit(b *testing.B) {
	s := newStore(b)
	var seq int
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			events := make([]store.AuditEvent, n)
			for b.Loop() {
				for i := range events {
					seq++
					events[i] = store.AuditEvent{ID: fmt.Sprintf("%016d", seq), WorkspaceID: "ws",
						Time: t0, Actor: "u", Action: "login.success", ClientIP: "192.0.2.1",
						Details: map[string]string{"method": "password"}}
				}
				if err := s.AppendAudit(b.Context(), events...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
