package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

// OAuth2 authorization codes (store.AuthorizationCode); the key-pair
// challenges (store.AuthCode) are the AuthCode group's, in session.go.

var authorizationCodeTests = []test{
	{"CreateGetRoundTrip", testAuthzCodeRoundTrip},
	{"Duplicate", testAuthzCodeDuplicate},
	{"UnknownAppOrUser", testAuthzCodeUnknownParent},
	{"GetUnknown", testAuthzCodeGetUnknown},
	{"RedeemOnce", testAuthzCodeRedeem},
	{"RedeemTwice", testAuthzCodeRedeemTwice},
	{"RedeemUnknown", testAuthzCodeRedeemUnknown},
	{"RedeemRefusedSessionKeepsCode", testAuthzCodeRedeemRefused},
	{"DeleteExpired", testAuthzCodeDeleteExpired},
}

// newAuthzCode is an unredeemed code of app for user in ws, created at t0
// and expiring a minute later.
func newAuthzCode(name, app, user, ws string) store.AuthorizationCode {
	return store.AuthorizationCode{
		Hash: hash("authz:" + name), AppID: app, UserID: user, WorkspaceID: ws,
		RedirectURI:   "https://" + app + ".example/cb",
		CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		Scopes:        []string{"openid", "profile", "read"},
		Nonce:         "nonce-" + name,
		Method:        "pwd",
		AuthTime:      at(-time.Minute),
		CreatedAt:     t0,
		ExpiresAt:     at(time.Minute),
	}
}

func mustAuthzCode(t *testing.T, s store.Store, c store.AuthorizationCode) store.AuthorizationCode {
	t.Helper()
	ok(t, "CreateAuthorizationCode", s.CreateAuthorizationCode(t.Context(), c))
	return c
}

// appSession is a session of alice in ws issued to app by a code
// exchange a second after t0.
func appSession(id, app string) store.Session {
	sess := newSession(id, "alice", "ws", at(time.Second))
	sess.Method, sess.AppID = "pwd", app
	return sess
}

// authzFixture is fixture plus app "a1" of ws.
func authzFixture(t *testing.T, s store.Store) {
	t.Helper()
	fixture(t, s)
	mustApps(t, s, newApp("a1", "ws", t0))
}

// checkAuthzCode compares GetAuthorizationCode's answer with want.
func checkAuthzCode(t *testing.T, s store.Store, want store.AuthorizationCode) {
	t.Helper()
	got, err := s.GetAuthorizationCode(t.Context(), want.Hash)
	ok(t, "GetAuthorizationCode", err)
	diff(t, "stored authorization code", want, got)
}

func testAuthzCodeRoundTrip(t *testing.T, s store.Store) {
	authzFixture(t, s)
	zone := time.FixedZone("I", 5*3600+1800)
	c := newAuthzCode("c1", "a1", "alice", "ws")
	c.AuthTime, c.CreatedAt, c.ExpiresAt = c.AuthTime.In(zone), c.CreatedAt.In(zone), c.ExpiresAt.In(zone)
	bare := newAuthzCode("c2", "a1", "alice", "ws") // no nonce, no scopes
	bare.Nonce, bare.Scopes = "", nil
	mustAuthzCode(t, s, c)
	mustAuthzCode(t, s, bare)
	c.AuthTime, c.CreatedAt, c.ExpiresAt = at(-time.Minute), t0, at(time.Minute)
	checkAuthzCode(t, s, c)
	checkAuthzCode(t, s, bare)
}

func testAuthzCodeDuplicate(t *testing.T, s store.Store) {
	authzFixture(t, s)
	orig := mustAuthzCode(t, s, newAuthzCode("c1", "a1", "alice", "ws"))
	dup := newAuthzCode("c1", "a1", "alice", "ws")
	dup.Nonce, dup.RedirectURI = "other", "https://evil.example/cb"
	err := s.CreateAuthorizationCode(t.Context(), dup)
	wantErr(t, "CreateAuthorizationCode duplicate hash", err, store.ErrConflict)
	checkAuthzCode(t, s, orig)
}

func testAuthzCodeUnknownParent(t *testing.T, s store.Store) {
	authzFixture(t, s)
	tests := []struct{ name, app, user string }{
		{"unknown user", "a1", "nope"},
		{"unknown app", "nope", "alice"},
	}
	for _, tt := range tests {
		c := newAuthzCode(tt.name, tt.app, tt.user, "ws")
		err := s.CreateAuthorizationCode(t.Context(), c)
		wantErr(t, "CreateAuthorizationCode with "+tt.name, err, store.ErrNotFound)
		_, err = s.GetAuthorizationCode(t.Context(), c.Hash)
		wantErr(t, "GetAuthorizationCode of refused code", err, store.ErrNotFound)
	}
}

func testAuthzCodeGetUnknown(t *testing.T, s store.Store) {
	_, err := s.GetAuthorizationCode(t.Context(), hash("nope"))
	wantErr(t, "GetAuthorizationCode unknown", err, store.ErrNotFound)
}

// testAuthzCodeRedeem: the code is marked, and the session it starts is
// an ordinary session naming the app, with a working refresh token.
func testAuthzCodeRedeem(t *testing.T, s store.Store) {
	authzFixture(t, s)
	c := mustAuthzCode(t, s, newAuthzCode("c1", "a1", "alice", "ws"))
	sess, now := appSession("s1", "a1"), at(10*time.Second)
	got, err := s.RedeemAuthorizationCode(t.Context(), c.Hash, sess, hash("rt:s1"), now)
	ok(t, "RedeemAuthorizationCode", err)
	want := c
	want.RedeemedAt, want.SessionID = ptr(now), "s1"
	diff(t, "redeemed code", want, got)
	checkAuthzCode(t, s, want)

	checkSession(t, s, sess)
	rt, err := s.GetRefreshToken(t.Context(), hash("rt:s1"))
	ok(t, "GetRefreshToken", err)
	diff(t, "first refresh token", store.RefreshToken{Hash: hash("rt:s1"), SessionID: "s1",
		CreatedAt: sess.CreatedAt}, rt)
	listed, err := s.ListSessions(t.Context(), "alice", now)
	ok(t, "ListSessions", err)
	diff(t, "alice's sessions", []store.Session{sess}, listed)
	ok(t, "RotateRefresh", s.RotateRefresh(t.Context(), "s1", 0, hash("rt:s1:1"), now, at(time.Hour)))
}

// testAuthzCodeRedeemTwice: a replayed code is refused, names the first
// exchange's session, and stores nothing.
func testAuthzCodeRedeemTwice(t *testing.T, s store.Store) {
	authzFixture(t, s)
	c := mustAuthzCode(t, s, newAuthzCode("c1", "a1", "alice", "ws"))
	first, err := s.RedeemAuthorizationCode(t.Context(), c.Hash, appSession("s1", "a1"), hash("rt:s1"), at(10*time.Second))
	ok(t, "first RedeemAuthorizationCode", err)
	got, err := s.RedeemAuthorizationCode(t.Context(), c.Hash, appSession("s2", "a1"), hash("rt:s2"), at(20*time.Second))
	wantErr(t, "second RedeemAuthorizationCode", err, store.ErrConflict)
	diff(t, "code returned to the second exchange", first, got)
	if got.SessionID != "s1" {
		t.Errorf("second exchange learns session %q, want s1", got.SessionID)
	}
	checkAuthzCode(t, s, first)
	_, err = s.GetSession(t.Context(), "s2")
	wantErr(t, "GetSession of the refused exchange", err, store.ErrNotFound)
	_, err = s.GetRefreshToken(t.Context(), hash("rt:s2"))
	wantErr(t, "GetRefreshToken of the refused exchange", err, store.ErrNotFound)
}

func testAuthzCodeRedeemUnknown(t *testing.T, s store.Store) {
	authzFixture(t, s)
	_, err := s.RedeemAuthorizationCode(t.Context(), hash("nope"), appSession("s1", "a1"), hash("rt:s1"), t0)
	wantErr(t, "RedeemAuthorizationCode unknown", err, store.ErrNotFound)
	_, err = s.GetSession(t.Context(), "s1")
	wantErr(t, "GetSession after unknown code", err, store.ErrNotFound)
}

// testAuthzCodeRedeemRefused: when the session cannot be stored, the code
// is not marked either (one transaction), so a good exchange still works.
func testAuthzCodeRedeemRefused(t *testing.T, s store.Store) {
	authzFixture(t, s)
	mustSession(t, s, newSession("taken", "alice", "ws", t0))
	c := mustAuthzCode(t, s, newAuthzCode("c1", "a1", "alice", "ws"))
	unknownUser := appSession("s-nobody", "a1")
	unknownUser.UserID = "nope"
	tests := []struct {
		name    string
		sess    store.Session
		refresh []byte
		want    error
	}{
		{"taken session id", appSession("taken", "a1"), hash("rt:fresh"), store.ErrConflict},
		{"taken refresh hash", appSession("s-dup", "a1"), hash("rt:taken:0"), store.ErrConflict},
		{"unknown user", unknownUser, hash("rt:nobody"), store.ErrNotFound},
	}
	for _, tt := range tests {
		_, err := s.RedeemAuthorizationCode(t.Context(), c.Hash, tt.sess, tt.refresh, at(time.Second))
		wantErr(t, "RedeemAuthorizationCode with "+tt.name, err, tt.want)
		checkAuthzCode(t, s, c)
	}
	_, err := s.RedeemAuthorizationCode(t.Context(), c.Hash, appSession("s1", "a1"), hash("rt:s1"), at(time.Second))
	ok(t, "RedeemAuthorizationCode after the refusals", err)
}

// testAuthzCodeDeleteExpired: codes with ExpiresAt <= now go, redeemed
// or not, and are counted; the session a redeemed one started stays.
func testAuthzCodeDeleteExpired(t *testing.T, s store.Store) {
	authzFixture(t, s)
	now := at(time.Hour)
	expiry := map[string]time.Time{
		"past": at(-time.Second), "now": now, "live": now.Add(time.Microsecond), "redeemed": at(time.Minute),
	}
	for name, exp := range expiry {
		c := newAuthzCode(name, "a1", "alice", "ws")
		c.ExpiresAt = exp
		mustAuthzCode(t, s, c)
	}
	_, err := s.RedeemAuthorizationCode(t.Context(), hash("authz:redeemed"), appSession("s1", "a1"), hash("rt:s1"), at(time.Second))
	ok(t, "RedeemAuthorizationCode", err)
	n, err := s.DeleteExpired(t.Context(), now)
	ok(t, "DeleteExpired", err)
	if n != 3 {
		t.Errorf("DeleteExpired removed %d rows, want 3 (the past, now and redeemed codes)", n)
	}
	for name, want := range map[string]error{
		"past": store.ErrNotFound, "now": store.ErrNotFound, "redeemed": store.ErrNotFound, "live": nil,
	} {
		_, err := s.GetAuthorizationCode(t.Context(), hash("authz:"+name))
		wantErr(t, "GetAuthorizationCode "+name, err, want)
	}
	_, err = s.GetSession(t.Context(), "s1")
	ok(t, "GetSession of the redeemed code's session", err)
}

// testRaceRedeemAuthzCode: 8 exchanges of one code at once start exactly
// one session, and every loser learns the winner's session id.
func testRaceRedeemAuthzCode(t *testing.T, s store.Store) {
	authzFixture(t, s)
	c := mustAuthzCode(t, s, newAuthzCode("c1", "a1", "alice", "ws"))
	id := func(i int) string { return fmt.Sprint("s", i) }
	got := make([]store.AuthorizationCode, 8)
	errs := Race(len(got), func(i int) (err error) {
		got[i], err = s.RedeemAuthorizationCode(t.Context(), c.Hash, appSession(id(i), "a1"),
			hash("rt:"+id(i)), at(time.Second))
		return err
	})
	winner := oneWinner(t, "RedeemAuthorizationCode", errs, store.ErrConflict)
	for i := range got {
		if got[i].SessionID != id(winner) {
			t.Errorf("exchange %d learns session %q, want the winner's %s", i, got[i].SessionID, id(winner))
		}
		_, err := s.GetSession(t.Context(), id(i))
		_, rtErr := s.GetRefreshToken(t.Context(), hash("rt:"+id(i)))
		switch {
		case i == winner && (err != nil || rtErr != nil):
			t.Errorf("winner's session or token missing: %v, %v", err, rtErr)
		case i != winner && (!errors.Is(err, store.ErrNotFound) || !errors.Is(rtErr, store.ErrNotFound)):
			t.Errorf("loser %d's session or token was stored: %v, %v", i, err, rtErr)
		}
	}
}
