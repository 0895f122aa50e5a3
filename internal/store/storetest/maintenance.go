package storetest

import (
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

var maintenanceTests = []test{
	{"DeleteExpired", testDeleteExpired},
	{"Ping", testPing},
}

func testDeleteExpired(t *testing.T, s store.Store) {
	now := at(time.Hour)
	fixture(t, s)
	codes := map[string]time.Time{
		"c-past": at(-time.Second), "c-now": now, "c-live": now.Add(time.Microsecond),
	}
	for name, exp := range codes {
		c := store.AuthCode{Hash: hash(name), UserID: "alice", ExpiresAt: exp}
		ok(t, "CreateAuthCode "+name, s.CreateAuthCode(t.Context(), c))
	}
	// expired: at its cap exactly, rotated once → 1 session + 2 tokens go.
	expired := newSession("expired", "alice", "ws", at(-time.Hour))
	expired.ExpiresAt = now
	mustSession(t, s, expired)
	ok(t, "RotateRefresh", s.RotateRefresh(t.Context(), "expired", 0, hash("expired-1"), t0, now))
	// revoked: 1 session + 1 token go although its cap is far away.
	mustSession(t, s, newSession("revoked", "alice", "ws", t0))
	ok(t, "RevokeSession", s.RevokeSession(t.Context(), "revoked", at(time.Minute)))
	// live: its refresh token lapsed, but the session is within its cap,
	// so it stays with both tokens.
	live := newSession("live", "alice", "ws", at(-time.Hour))
	live.ExpiresAt, live.RefreshExpiresAt = now.Add(time.Microsecond), at(-time.Minute)
	mustSession(t, s, live)
	ok(t, "RotateRefresh", s.RotateRefresh(t.Context(), "live", 0, hash("live-1"), t0, at(-time.Minute)))

	v2ExpiryZoo(t, s, now)

	n, err := s.DeleteExpired(t.Context(), now)
	ok(t, "DeleteExpired", err)
	if n != 11 {
		t.Errorf("DeleteExpired removed %d rows, want 11 (2 codes, 2 one-time tokens, "+
			"4 sessions of which 2 API-key sessions, 3 refresh tokens)", n)
	}
	checkAfterDeleteExpired(t, s)
	checkV2AfterDeleteExpired(t, s)
	n, err = s.DeleteExpired(t.Context(), now)
	ok(t, "second DeleteExpired", err)
	if n != 0 {
		t.Errorf("second DeleteExpired removed %d rows, want 0", n)
	}
}

func checkAfterDeleteExpired(t *testing.T, s store.Store) {
	t.Helper()
	for _, id := range []string{"expired", "revoked"} {
		_, err := s.GetSession(t.Context(), id)
		wantErr(t, "GetSession "+id, err, store.ErrNotFound)
	}
	_, err := s.GetSession(t.Context(), "live")
	ok(t, "GetSession live", err)
	tokens := map[string]error{
		"rt:expired:0": store.ErrNotFound, "expired-1": store.ErrNotFound,
		"rt:revoked:0": store.ErrNotFound, "rt:live:0": nil, "live-1": nil,
	}
	for name, want := range tokens {
		_, err := s.GetRefreshToken(t.Context(), hash(name))
		wantErr(t, "GetRefreshToken "+name, err, want)
	}
	// A deleted code can be recorded again; a kept one is still a replay.
	for name, want := range map[string]error{"c-past": nil, "c-now": nil, "c-live": store.ErrConflict} {
		err := s.CreateAuthCode(t.Context(), store.AuthCode{Hash: hash(name), UserID: "alice", ExpiresAt: at(2 * time.Hour)})
		wantErr(t, "CreateAuthCode "+name, err, want)
	}
	// Users and their keys are not maintenance's business.
	keys, err := s.ListPublicKeys(t.Context(), "alice")
	ok(t, "ListPublicKeys", err)
	if len(keys) != 1 {
		t.Errorf("DeleteExpired touched alice's keys: %+v", keys)
	}
}

func testPing(t *testing.T, s store.Store) {
	ok(t, "Ping", s.Ping(t.Context()))
}

// v2ExpiryZoo adds the records of contract v2 to testDeleteExpired's
// store: one-time tokens past use and live, API-key sessions expired,
// revoked and live, and an API key, a JWT key and an audit event that
// maintenance must keep although they are old.
func v2ExpiryZoo(t *testing.T, s store.Store, now time.Time) {
	t.Helper()
	for name, exp := range map[string]time.Time{
		"ott-past": at(-time.Second), "ott-now": now, "ott-live": now.Add(time.Microsecond),
	} {
		ok(t, "CreateOneTimeToken "+name, s.CreateOneTimeToken(t.Context(), newOTT(name, "alice", "reset", exp)))
	}
	key := newAPIKey("k1", "ws", "alice", at(-48*time.Hour))
	key.ExpiresAt, key.RevokedAt = ptr(at(-24*time.Hour)), ptr(at(-24*time.Hour))
	mustAPIKey(t, s, key)
	expired := apiKeySession("ak-expired", "k1", "alice", "ws", at(-time.Hour))
	expired.ExpiresAt = now
	mustPut(t, s, expired)
	revoked := apiKeySession("ak-revoked", "k1", "", "ws", now)
	revoked.RevokedAt = ptr(now)
	mustPut(t, s, revoked)
	mustPut(t, s, apiKeySession("ak-live", "k1", "alice", "ws", now))
	mustJWTKeys(t, s, newJWTKey("j1", "ws", "", at(-48*time.Hour)))
	old := event("e1", "ws", "login.success", "alice")
	old.Time = at(-365 * 24 * time.Hour)
	mustAppend(t, s, old)
}

func checkV2AfterDeleteExpired(t *testing.T, s store.Store) {
	t.Helper()
	for name, want := range map[string]error{
		"ott-past": store.ErrNotFound, "ott-now": store.ErrNotFound, "ott-live": nil,
	} {
		_, err := s.ConsumeOneTimeToken(t.Context(), hash("ott:"+name))
		wantErr(t, "ConsumeOneTimeToken "+name, err, want)
	}
	for id, want := range map[string]error{
		"ak-expired": store.ErrNotFound, "ak-revoked": store.ErrNotFound, "ak-live": nil,
	} {
		_, err := s.GetSession(t.Context(), id)
		wantErr(t, "GetSession "+id, err, want)
	}
	_, err := s.GetAPIKey(t.Context(), "k1")
	ok(t, "GetAPIKey of an expired, revoked key", err)
	_, err = s.GetJWTKey(t.Context(), "j1")
	ok(t, "GetJWTKey", err)
	diff(t, "audit events", []string{"e1"}, listAudit(t, s, store.AuditFilter{}))
}
