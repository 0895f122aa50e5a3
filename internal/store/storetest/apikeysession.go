package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

var apiKeySessionTests = []test{
	{"PutGetRoundTrip", testAKSRoundTrip},
	{"PutReplaces", testAKSReplace},
	{"PutNeverReplacesLoginSession", testAKSLoginSession},
	{"PutUnknownKeyOrUser", testAKSUnknownParent},
	{"ListSessionsExcludesThem", testAKSListSessions},
	{"RevokeUserSessionsLeavesThem", testAKSRevokeUser},
	{"RevokeAPIKeySessions", testAKSRevokeKey},
	{"RevokeSession", testAKSRevokeOne},
}

// apiKeySession is a session of ws made by exchanging key: it lives an
// hour and has no refresh token (RefreshExpiresAt zero).
func apiKeySession(id, keyID, user, ws string, created time.Time) store.Session {
	return store.Session{
		ID: id, UserID: user, WorkspaceID: ws, Method: "api_key", APIKeyID: keyID,
		Scopes: []string{"read"}, CreatedAt: created, ExpiresAt: created.Add(time.Hour),
		RotatedAt: created,
	}
}

func mustPut(t *testing.T, s store.Store, sess store.Session) store.Session {
	t.Helper()
	ok(t, "PutAPIKeySession "+sess.ID, s.PutAPIKeySession(t.Context(), sess))
	return sess
}

// checkSession compares GetSession's answer with want.
func checkSession(t *testing.T, s store.Store, want store.Session) {
	t.Helper()
	got, err := s.GetSession(t.Context(), want.ID)
	ok(t, "GetSession "+want.ID, err)
	diff(t, "stored session "+want.ID, want, got)
}

// akFixture is fixture plus alice's key "k-alice" and the admin's "k-admin".
func akFixture(t *testing.T, s store.Store) {
	t.Helper()
	fixture(t, s)
	mustAPIKey(t, s, newAPIKey("k-alice", "ws", "alice", t0))
	mustAPIKey(t, s, newAPIKey("k-admin", "ws", "", t0))
}

func testAKSRoundTrip(t *testing.T, s store.Store) {
	akFixture(t, s)
	user := apiKeySession("s-alice", "k-alice", "alice", "ws", t0.In(time.FixedZone("W", -3600)))
	admin := apiKeySession("s-admin", "k-admin", "", "ws", at(time.Minute))
	admin.RefreshExpiresAt = admin.ExpiresAt // any value round-trips
	admin.Generation = 3
	for _, sess := range []store.Session{user, admin} {
		mustPut(t, s, sess)
	}
	user.CreatedAt, user.ExpiresAt, user.RotatedAt = t0, at(time.Hour), t0
	checkSession(t, s, user)
	checkSession(t, s, admin)
}

// A revoked or expired exchange session is started afresh under its id:
// every field is replaced, RevokedAt cleared.
func testAKSReplace(t *testing.T, s store.Store) {
	akFixture(t, s)
	mustAPIKey(t, s, newAPIKey("k-other", "ws", "alice", t0))
	first := mustPut(t, s, apiKeySession("s1", "k-alice", "alice", "ws", t0))
	ok(t, "RevokeSession", s.RevokeSession(t.Context(), "s1", at(time.Minute)))
	tests := []struct {
		name string
		next store.Session
	}{
		{"after revocation", apiKeySession("s1", "k-alice", "alice", "ws", at(2*time.Hour))},
		{"other key, no user", apiKeySession("s1", "k-admin", "", "ws", at(3*time.Hour))},
		{"revoked in the record", func() store.Session {
			next := first
			next.Method, next.Scopes, next.Generation = "api_key2", []string{"admin"}, 7
			next.RevokedAt = ptr(at(5 * time.Hour))
			return next
		}()},
		{"live again", apiKeySession("s1", "k-other", "alice", "ws", at(6*time.Hour))},
	}
	for _, tt := range tests {
		ok(t, "PutAPIKeySession "+tt.name, s.PutAPIKeySession(t.Context(), tt.next))
		checkSession(t, s, tt.next)
	}
}

func testAKSLoginSession(t *testing.T, s store.Store) {
	akFixture(t, s)
	login := mustSession(t, s, newSession("s1", "alice", "ws", t0))
	err := s.PutAPIKeySession(t.Context(), apiKeySession("s1", "k-alice", "alice", "ws", at(time.Hour)))
	wantErr(t, "PutAPIKeySession over a login session", err, store.ErrConflict)
	checkSession(t, s, login)
	rt, err := s.GetRefreshToken(t.Context(), hash("rt:s1:0"))
	ok(t, "GetRefreshToken", err)
	if rt.SessionID != "s1" {
		t.Errorf("refresh token moved to %q", rt.SessionID)
	}
}

func testAKSUnknownParent(t *testing.T, s store.Store) {
	akFixture(t, s)
	tests := []struct{ name, key, user string }{
		{"unknown key", "nope", "alice"},
		{"no key", "", "alice"},
		{"unknown user", "k-alice", "nope"},
	}
	for _, tt := range tests {
		sess := apiKeySession("s-"+tt.name, tt.key, tt.user, "ws", t0)
		err := s.PutAPIKeySession(t.Context(), sess)
		wantErr(t, "PutAPIKeySession with "+tt.name, err, store.ErrNotFound)
		_, err = s.GetSession(t.Context(), sess.ID)
		wantErr(t, "GetSession of refused session", err, store.ErrNotFound)
	}
}

func testAKSListSessions(t *testing.T, s store.Store) {
	akFixture(t, s)
	login := mustSession(t, s, newSession("login", "alice", "ws", t0))
	mustPut(t, s, apiKeySession("exchange", "k-alice", "alice", "ws", at(time.Minute)))
	got, err := s.ListSessions(t.Context(), "alice", at(2*time.Minute))
	ok(t, "ListSessions", err)
	diff(t, "ListSessions", []store.Session{login}, got)
}

func testAKSRevokeUser(t *testing.T, s store.Store) {
	akFixture(t, s)
	mustSession(t, s, newSession("login", "alice", "ws", t0))
	exchange := mustPut(t, s, apiKeySession("exchange", "k-alice", "alice", "ws", t0))
	ids, err := s.RevokeUserSessions(t.Context(), "alice", at(time.Minute))
	ok(t, "RevokeUserSessions", err)
	diff(t, "revoked ids", []string{"login"}, ids)
	checkSession(t, s, exchange) // still live: it belongs to the key
}

func testAKSRevokeKey(t *testing.T, s store.Store) {
	akFixture(t, s)
	now := at(30 * time.Minute)
	mustPut(t, s, apiKeySession("a", "k-alice", "alice", "ws", t0))
	mustPut(t, s, apiKeySession("b", "k-alice", "alice", "ws", at(time.Minute)))
	revoked := apiKeySession("c", "k-alice", "alice", "ws", t0)
	revoked.RevokedAt = ptr(at(time.Minute))
	mustPut(t, s, revoked)
	expired := apiKeySession("d", "k-alice", "alice", "ws", at(-time.Hour)) // ExpiresAt = t0
	expired.ExpiresAt = now
	mustPut(t, s, expired)
	mustPut(t, s, apiKeySession("e", "k-admin", "", "ws", t0))
	mustSession(t, s, newSession("f", "alice", "ws", t0))

	ids, err := s.RevokeAPIKeySessions(t.Context(), "k-alice", now)
	ok(t, "RevokeAPIKeySessions", err)
	slices.Sort(ids)
	diff(t, "revoked ids", []string{"a", "b"}, ids)
	wantRevoked := map[string]*time.Time{
		"a": ptr(now), "b": ptr(now), "c": ptr(at(time.Minute)), "d": nil, "e": nil, "f": nil,
	}
	for id, want := range wantRevoked {
		got, err := s.GetSession(t.Context(), id)
		ok(t, "GetSession "+id, err)
		diff(t, "RevokedAt of "+id, want, got.RevokedAt)
	}
	for _, key := range []string{"k-alice", "nope"} {
		ids, err = s.RevokeAPIKeySessions(t.Context(), key, now)
		ok(t, "RevokeAPIKeySessions "+key, err)
		if len(ids) != 0 {
			t.Errorf("RevokeAPIKeySessions %s = %v, want none", key, ids)
		}
	}
}

func testAKSRevokeOne(t *testing.T, s store.Store) {
	akFixture(t, s)
	sess := mustPut(t, s, apiKeySession("s1", "k-admin", "", "ws", t0))
	ok(t, "RevokeSession", s.RevokeSession(t.Context(), "s1", at(time.Minute)))
	sess.RevokedAt = ptr(at(time.Minute))
	checkSession(t, s, sess)
}
