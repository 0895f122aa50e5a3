package storetest

import (
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

var oneTimeTokenTests = []test{
	{"ConsumeOnce", testOTTConsumeOnce},
	{"ConsumeUnknown", testOTTConsumeUnknown},
	{"ConsumeExpired", testOTTConsumeExpired},
	{"Duplicate", testOTTDuplicate},
	{"UnknownUser", testOTTUnknownUser},
}

func newOTT(name, userID, purpose string, expires time.Time) store.OneTimeToken {
	return store.OneTimeToken{Hash: hash("ott:" + name), UserID: userID, Purpose: purpose,
		ExpiresAt: expires, CreatedAt: expires.Add(-time.Hour)}
}

func testOTTConsumeOnce(t *testing.T, s store.Store) {
	fixture(t, s)
	reset := newOTT("reset", "alice", "reset", at(time.Hour))
	verify := newOTT("verify", "alice", "verify", at(24*time.Hour))
	for _, tok := range []store.OneTimeToken{reset, verify} {
		ok(t, "CreateOneTimeToken "+tok.Purpose, s.CreateOneTimeToken(t.Context(), tok))
	}
	for _, tok := range []store.OneTimeToken{reset, verify} {
		got, err := s.ConsumeOneTimeToken(t.Context(), tok.Hash)
		ok(t, "ConsumeOneTimeToken "+tok.Purpose, err)
		diff(t, "consumed "+tok.Purpose+" token", tok, got)
		_, err = s.ConsumeOneTimeToken(t.Context(), tok.Hash)
		wantErr(t, "second ConsumeOneTimeToken "+tok.Purpose, err, store.ErrNotFound)
	}
}

func testOTTConsumeUnknown(t *testing.T, s store.Store) {
	_, err := s.ConsumeOneTimeToken(t.Context(), hash("nope"))
	wantErr(t, "ConsumeOneTimeToken unknown", err, store.ErrNotFound)
}

// Expiry is the caller's check: an expired token is handed back once.
func testOTTConsumeExpired(t *testing.T, s store.Store) {
	fixture(t, s)
	tok := newOTT("old", "alice", "reset", t0)
	ok(t, "CreateOneTimeToken", s.CreateOneTimeToken(t.Context(), tok))
	got, err := s.ConsumeOneTimeToken(t.Context(), tok.Hash)
	ok(t, "ConsumeOneTimeToken", err)
	diff(t, "consumed expired token", tok, got)
}

func testOTTDuplicate(t *testing.T, s store.Store) {
	fixture(t, s)
	tok := newOTT("t", "alice", "reset", at(time.Hour))
	ok(t, "CreateOneTimeToken", s.CreateOneTimeToken(t.Context(), tok))
	dup := tok
	dup.Purpose, dup.ExpiresAt = "verify", at(2*time.Hour)
	wantErr(t, "CreateOneTimeToken duplicate hash", s.CreateOneTimeToken(t.Context(), dup), store.ErrConflict)
	got, err := s.ConsumeOneTimeToken(t.Context(), tok.Hash)
	ok(t, "ConsumeOneTimeToken", err)
	diff(t, "token after refused duplicate", tok, got)
}

func testOTTUnknownUser(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "ws")
	tok := newOTT("t", "nope", "reset", at(time.Hour))
	wantErr(t, "CreateOneTimeToken for unknown user", s.CreateOneTimeToken(t.Context(), tok), store.ErrNotFound)
	_, err := s.ConsumeOneTimeToken(t.Context(), tok.Hash)
	wantErr(t, "ConsumeOneTimeToken of refused token", err, store.ErrNotFound)
}
