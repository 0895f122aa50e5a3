package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

var authCodeTests = []test{
	{"Duplicate", testCodeDuplicate},
	{"ForUnregisteredUser", testCodeUnregisteredUser},
}

func testCodeDuplicate(t *testing.T, s store.Store) {
	c := store.AuthCode{Hash: hash("code"), UserID: "alice", ExpiresAt: at(30 * time.Second)}
	ok(t, "CreateAuthCode", s.CreateAuthCode(t.Context(), c))
	c.UserID = "bob"
	wantErr(t, "CreateAuthCode duplicate", s.CreateAuthCode(t.Context(), c), store.ErrConflict)
}

// A registration's code names a user that does not exist yet, and
// expiry is the caller's check: recording works either way, once.
func testCodeUnregisteredUser(t *testing.T, s store.Store) {
	c := store.AuthCode{Hash: hash("code"), UserID: "not-yet-registered", ExpiresAt: t0}
	ok(t, "CreateAuthCode for unknown user", s.CreateAuthCode(t.Context(), c))
	wantErr(t, "CreateAuthCode again", s.CreateAuthCode(t.Context(), c), store.ErrConflict)
}

var sessionTests = []test{
	{"CreateGetRoundTrip", testSessionRoundTrip},
	{"CreateDuplicate", testSessionDuplicate},
	{"CreateUnknownUser", testSessionUnknownUser},
	{"CreateRecordsUsedCode", testSessionUsedCode},
	{"GetUnknown", testSessionGetUnknown},
	{"ListLiveNewestFirst", testSessionList},
	{"Revoke", testSessionRevoke},
	{"RevokeUserSessions", testSessionRevokeUser},
	{"AppIDRoundTrip", testSessionAppID},
}

func testSessionRoundTrip(t *testing.T, s store.Store) {
	fixture(t, s)
	sess := newSession("s1", "alice", "ws", t0.In(time.FixedZone("Y", 5*3600)))
	sess.Generation = 0
	ok(t, "CreateSession", s.CreateSession(t.Context(), sess, hash("rt")))
	got, err := s.GetSession(t.Context(), "s1")
	ok(t, "GetSession", err)
	want := newSession("s1", "alice", "ws", t0)
	diff(t, "GetSession", want, got)
	rt, err := s.GetRefreshToken(t.Context(), hash("rt"))
	ok(t, "GetRefreshToken", err)
	diff(t, "first refresh token", store.RefreshToken{Hash: hash("rt"), SessionID: "s1", CreatedAt: t0}, rt)
}

func testSessionDuplicate(t *testing.T, s store.Store) {
	fixture(t, s)
	mustSession(t, s, newSession("s1", "alice", "ws", t0))
	err := s.CreateSession(t.Context(), newSession("s1", "alice", "ws", t0), hash("fresh"))
	wantErr(t, "CreateSession duplicate id", err, store.ErrConflict)
	// A taken refresh hash refuses the whole session.
	err = s.CreateSession(t.Context(), newSession("s2", "alice", "ws", t0), hash("rt:s1:0"))
	wantErr(t, "CreateSession duplicate refresh hash", err, store.ErrConflict)
	_, err = s.GetSession(t.Context(), "s2")
	wantErr(t, "GetSession of refused session", err, store.ErrNotFound)
	rt, err := s.GetRefreshToken(t.Context(), hash("rt:s1:0"))
	ok(t, "GetRefreshToken", err)
	if rt.SessionID != "s1" {
		t.Errorf("refresh token now belongs to %q, want s1", rt.SessionID)
	}
}

func testSessionUnknownUser(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "ws")
	err := s.CreateSession(t.Context(), newSession("s1", "nope", "ws", t0), hash("rt"))
	wantErr(t, "CreateSession for unknown user", err, store.ErrNotFound)
	_, err = s.GetRefreshToken(t.Context(), hash("rt"))
	wantErr(t, "GetRefreshToken of refused session", err, store.ErrNotFound)
}

func testSessionGetUnknown(t *testing.T, s store.Store) {
	_, err := s.GetSession(t.Context(), "nope")
	wantErr(t, "GetSession unknown", err, store.ErrNotFound)
	_, err = s.GetRefreshToken(t.Context(), hash("nope"))
	wantErr(t, "GetRefreshToken unknown", err, store.ErrNotFound)
}

// sessionZoo stores, for alice, live sessions "old" and "new" (which
// knows where it started), a revoked one and one expiring exactly at now,
// plus a live session of bob's.
func sessionZoo(t *testing.T, s store.Store, now time.Time) (older, newer store.Session) {
	t.Helper()
	fixture(t, s)
	mustUser(t, s, "ws", "bob")
	older = mustSession(t, s, newSession("old", "alice", "ws", at(time.Minute)))
	fromBrowser := newSession("new", "alice", "ws", at(2*time.Minute))
	fromBrowser.ClientIP, fromBrowser.UserAgent = "2001:db8::7", "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"
	newer = mustSession(t, s, fromBrowser)
	mustSession(t, s, newSession("revoked", "alice", "ws", at(3*time.Minute)))
	ok(t, "RevokeSession", s.RevokeSession(t.Context(), "revoked", at(4*time.Minute)))
	expired := newSession("expired", "alice", "ws", at(-time.Hour))
	expired.ExpiresAt = now
	mustSession(t, s, expired)
	mustSession(t, s, newSession("bobs", "bob", "ws", at(time.Minute)))
	return older, newer
}

func testSessionList(t *testing.T, s store.Store) {
	now := at(time.Hour)
	older, newer := sessionZoo(t, s, now)
	got, err := s.ListSessions(t.Context(), "alice", now)
	ok(t, "ListSessions", err)
	diff(t, "ListSessions", []store.Session{newer, older}, got)
	got, err = s.ListSessions(t.Context(), "nope", now)
	ok(t, "ListSessions of unknown user", err)
	if len(got) != 0 {
		t.Errorf("ListSessions of unknown user = %+v, want none", got)
	}
}

func testSessionRevoke(t *testing.T, s store.Store) {
	fixture(t, s)
	sess := mustSession(t, s, newSession("s1", "alice", "ws", t0))
	ok(t, "RevokeSession", s.RevokeSession(t.Context(), "s1", at(time.Minute)))
	ok(t, "RevokeSession again", s.RevokeSession(t.Context(), "s1", at(time.Hour)))
	got, err := s.GetSession(t.Context(), "s1")
	ok(t, "GetSession", err)
	sess.RevokedAt = ptr(at(time.Minute)) // the first revocation time stays
	diff(t, "revoked session", sess, got)
	wantErr(t, "RevokeSession unknown", s.RevokeSession(t.Context(), "nope", t0), store.ErrNotFound)
}

func testSessionRevokeUser(t *testing.T, s store.Store) {
	now := at(time.Hour)
	sessionZoo(t, s, now)
	ids, err := s.RevokeUserSessions(t.Context(), "alice", now)
	ok(t, "RevokeUserSessions", err)
	slices.Sort(ids)
	diff(t, "revoked ids", []string{"new", "old"}, ids)
	wantRevoked := map[string]*time.Time{
		"old": ptr(now), "new": ptr(now), "revoked": ptr(at(4 * time.Minute)),
		"expired": nil, "bobs": nil,
	}
	for id, want := range wantRevoked {
		got, err := s.GetSession(t.Context(), id)
		ok(t, "GetSession "+id, err)
		diff(t, "RevokedAt of "+id, want, got.RevokedAt)
	}
	ids, err = s.RevokeUserSessions(t.Context(), "alice", now)
	ok(t, "RevokeUserSessions again", err)
	if len(ids) != 0 {
		t.Errorf("second RevokeUserSessions = %v, want none", ids)
	}
	ids, err = s.RevokeUserSessions(t.Context(), "nope", now)
	ok(t, "RevokeUserSessions of unknown user", err)
	if len(ids) != 0 {
		t.Errorf("RevokeUserSessions of unknown user = %v, want none", ids)
	}
}

// testSessionUsedCode: a login's challenge is recorded as used in the
// session's own transaction; replaying it refuses the whole session.
func testSessionUsedCode(t *testing.T, s store.Store) {
	fixture(t, s)
	code := store.AuthCode{Hash: hash("code"), UserID: "alice", ExpiresAt: t0.Add(30 * time.Second)}
	ok(t, "CreateSession with code", s.CreateSession(t.Context(), newSession("s1", "alice", "ws", t0), hash("rt1"), code))
	err := s.CreateSession(t.Context(), newSession("s2", "alice", "ws", t0), hash("rt2"), code)
	wantErr(t, "CreateSession replaying the code", err, store.ErrConflict)
	_, err = s.GetSession(t.Context(), "s2")
	wantErr(t, "GetSession of refused session", err, store.ErrNotFound)
	_, err = s.GetRefreshToken(t.Context(), hash("rt2"))
	wantErr(t, "GetRefreshToken of refused session", err, store.ErrNotFound)
	// The recorded code also refuses a standalone record of it.
	wantErr(t, "CreateAuthCode of a used code", s.CreateAuthCode(t.Context(), code), store.ErrConflict)
	// All or nothing: with a used code among several, the fresh ones stay
	// unrecorded; so do the codes of a session refused for another reason.
	fresh := store.AuthCode{Hash: hash("fresh"), UserID: "alice", ExpiresAt: t0.Add(30 * time.Second)}
	err = s.CreateSession(t.Context(), newSession("s3", "alice", "ws", t0), hash("rt3"), fresh, code)
	wantErr(t, "CreateSession with a used code among others", err, store.ErrConflict)
	err = s.CreateSession(t.Context(), newSession("s4", "nope", "ws", t0), hash("rt4"), fresh)
	wantErr(t, "CreateSession of an unknown user with a code", err, store.ErrNotFound)
	ok(t, "CreateAuthCode of the fresh code", s.CreateAuthCode(t.Context(), fresh))
	two := []store.AuthCode{
		{Hash: hash("two-a"), UserID: "alice", ExpiresAt: t0.Add(time.Minute)},
		{Hash: hash("two-b"), UserID: "alice", ExpiresAt: t0.Add(time.Minute)},
	}
	ok(t, "CreateSession with two codes", s.CreateSession(t.Context(), newSession("s5", "alice", "ws", t0), hash("rt5"), two...))
	for _, c := range two {
		wantErr(t, "CreateAuthCode of a code recorded with a session", s.CreateAuthCode(t.Context(), c), store.ErrConflict)
	}
	checkSession(t, s, newSession("s5", "alice", "ws", t0))
}

// testSessionAppID: a session issued to an app names it through
// CreateSession, GetSession and ListSessions; other sessions name none.
func testSessionAppID(t *testing.T, s store.Store) {
	authzFixture(t, s)
	withApp := newSession("s-app", "alice", "ws", t0)
	withApp.AppID = "a1"
	plain := newSession("s-plain", "alice", "ws", at(time.Minute))
	mustSession(t, s, withApp)
	mustSession(t, s, plain)
	checkSession(t, s, withApp)
	checkSession(t, s, plain)
	got, err := s.ListSessions(t.Context(), "alice", at(time.Hour))
	ok(t, "ListSessions", err)
	diff(t, "ListSessions", []store.Session{plain, withApp}, got)
}
