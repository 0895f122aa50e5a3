package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

var refreshSessionTests = []test{
	{"RefreshSessionRotates", testRefreshSessionRotates},
	{"RefreshSessionChildExpiry", testRefreshSessionChildExpiry},
	{"RefreshSessionRefuses", testRefreshSessionRefuses},
	{"RefreshSessionTakenChild", testRefreshSessionTakenChild},
	{"RevertRotation", testRevertRotation},
}

// rotationAt is a RefreshSession request for presented → child at now,
// with per-method lifetimes unlike any session's own.
func rotationAt(presented, child string, now time.Time) store.RefreshRotation {
	return store.RefreshRotation{Hash: hash(presented), ChildHash: hash(child), Now: now,
		ChildTTL:        map[string]time.Duration{"pubkey": 20 * time.Minute, "pwd": 2 * time.Hour},
		DefaultChildTTL: 3 * time.Minute}
}

func refreshSession(t *testing.T, s store.Store, r store.RefreshRotation) store.Refreshed {
	t.Helper()
	got, err := s.RefreshSession(t.Context(), r)
	ok(t, "RefreshSession", err)
	return got
}

// Each rotation returns the token and the session as they were, and
// leaves what RotateRefresh would: the session one generation on, the
// child stored, every older token still resolving.
func testRefreshSessionRotates(t *testing.T, s store.Store) {
	fixture(t, s)
	want := mustSession(t, s, newSession("s1", "alice", "ws", t0))
	want.UserScopes = []string{"read"}
	parent := "rt:s1:0"
	for i, child := range []string{"child-1", "child-2"} {
		now := at(time.Duration(i+1) * 10 * time.Minute)
		got := refreshSession(t, s, rotationAt(parent, child, now))
		diff(t, "refreshed from "+parent, store.Refreshed{
			Token:   store.RefreshToken{Hash: hash(parent), SessionID: "s1", Generation: int64(i), CreatedAt: want.RotatedAt},
			Session: want, Rotated: true, ChildExpiresAt: now.Add(20 * time.Minute)}, got)
		want.Generation, want.RotatedAt, want.RefreshExpiresAt = int64(i+1), now, now.Add(20*time.Minute)
		sess, err := s.GetSession(t.Context(), "s1")
		ok(t, "GetSession", err)
		sess.UserScopes = want.UserScopes
		diff(t, "session after rotation to "+child, want, sess)
		rt, err := s.GetRefreshToken(t.Context(), hash(child))
		ok(t, "GetRefreshToken "+child, err)
		diff(t, "child token", store.RefreshToken{Hash: hash(child), SessionID: "s1", Generation: int64(i + 1), CreatedAt: now}, rt)
		parent = child
	}
}

// The child lives the workspace's RefreshTTL when set, else its method's
// (by first factor), else the default; never past the session's end.
func testRefreshSessionChildExpiry(t *testing.T, s store.Store) {
	fixture(t, s)
	mustWorkspace(t, s, "ws2")
	_, err := s.UpdateWorkspace(t.Context(), "ws2", func(w *store.Workspace) error { w.RefreshTTL = 7 * time.Minute; return nil })
	ok(t, "UpdateWorkspace", err)
	mustUser(t, s, "ws2", "bob")
	now := at(time.Minute)
	tests := []struct {
		id, user, ws, method string
		expiresAt            time.Time
		want                 time.Time
	}{
		{"pwd", "alice", "ws", "pwd", at(24 * time.Hour), now.Add(2 * time.Hour)},
		{"pwd-totp", "alice", "ws", "pwd+totp", at(24 * time.Hour), now.Add(2 * time.Hour)},
		{"colon", "alice", "ws", "pubkey:x+totp", at(24 * time.Hour), now.Add(20 * time.Minute)},
		{"other", "alice", "ws", "jwt", at(24 * time.Hour), now.Add(3 * time.Minute)},
		{"capped", "alice", "ws", "pwd", at(time.Hour), at(time.Hour)},
		{"workspace", "bob", "ws2", "pwd", at(24 * time.Hour), now.Add(7 * time.Minute)},
	}
	for _, tt := range tests {
		sess := newSession(tt.id, tt.user, tt.ws, t0)
		sess.Method, sess.ExpiresAt = tt.method, tt.expiresAt
		mustSession(t, s, sess)
		got := refreshSession(t, s, rotationAt("rt:"+tt.id+":0", tt.id+"-1", now))
		if !got.Rotated || !sameInstant(got.ChildExpiresAt, tt.want) {
			t.Errorf("%s: rotated %v, child expires %v, want %v", tt.id, got.Rotated, got.ChildExpiresAt, tt.want)
		}
		stored, err := s.GetSession(t.Context(), tt.id)
		ok(t, "GetSession", err)
		if !sameInstant(stored.RefreshExpiresAt, tt.want) {
			t.Errorf("%s: stored RefreshExpiresAt %v, want %v", tt.id, stored.RefreshExpiresAt, tt.want)
		}
	}
}

// A token that is not current, or a session revoked or past either
// expiry, is returned as found and nothing changes; the caller decides.
func testRefreshSessionRefuses(t *testing.T, s store.Store) {
	fixture(t, s)
	mustSession(t, s, newSession("old", "alice", "ws", t0))
	refreshSession(t, s, rotationAt("rt:old:0", "old-1", at(time.Minute)))
	mustSession(t, s, newSession("revoked", "alice", "ws", t0))
	ok(t, "RevokeSession", s.RevokeSession(t.Context(), "revoked", at(time.Minute)))
	ended := newSession("ended", "alice", "ws", t0)
	ended.ExpiresAt = at(10 * time.Minute)
	mustSession(t, s, ended)
	mustSession(t, s, newSession("stale", "alice", "ws", t0)) // RefreshExpiresAt t0+30m
	tests := []struct {
		name, presented, session string
		now                      time.Time
	}{
		{"parent of the current token", "rt:old:0", "old", at(2 * time.Minute)},
		{"revoked session", "rt:revoked:0", "revoked", at(2 * time.Minute)},
		{"session at its ExpiresAt", "rt:ended:0", "ended", at(10 * time.Minute)},
		{"token at its RefreshExpiresAt", "rt:stale:0", "stale", at(30 * time.Minute)},
	}
	for _, tt := range tests {
		before, err := s.GetSession(t.Context(), tt.session)
		ok(t, "GetSession", err)
		before.UserScopes = []string{"read"}
		got := refreshSession(t, s, rotationAt(tt.presented, tt.session+"-new", tt.now))
		if got.Rotated {
			t.Errorf("%s: rotated", tt.name)
		}
		diff(t, tt.name+": session found", before, got.Session)
		after, err := s.GetSession(t.Context(), tt.session)
		ok(t, "GetSession", err)
		after.UserScopes = before.UserScopes
		diff(t, tt.name+": session after", before, after)
		_, err = s.GetRefreshToken(t.Context(), hash(tt.session+"-new"))
		wantErr(t, tt.name+": child", err, store.ErrNotFound)
	}
	_, err := s.RefreshSession(t.Context(), rotationAt("nope", "nope-1", at(time.Minute)))
	wantErr(t, "RefreshSession of an unknown token", err, store.ErrNotFound)
}

// A child hash already stored refuses the whole rotation.
func testRefreshSessionTakenChild(t *testing.T, s store.Store) {
	fixture(t, s)
	want := mustSession(t, s, newSession("s1", "alice", "ws", t0))
	mustSession(t, s, newSession("s2", "alice", "ws", t0))
	_, err := s.RefreshSession(t.Context(), rotationAt("rt:s1:0", "rt:s2:0", at(time.Minute)))
	wantErr(t, "RefreshSession to a taken hash", err, store.ErrConflict)
	got, err := s.GetSession(t.Context(), "s1")
	ok(t, "GetSession", err)
	diff(t, "session after refused rotation", want, got)
}

// RevertRotation puts back the session RefreshSession found and deletes
// the child; the parent then rotates again. Once the session has moved
// on, it refuses.
func testRevertRotation(t *testing.T, s store.Store) {
	fixture(t, s)
	want := mustSession(t, s, newSession("s1", "alice", "ws", t0))
	got := refreshSession(t, s, rotationAt("rt:s1:0", "child-1", at(time.Minute)))
	ok(t, "RevertRotation", s.RevertRotation(t.Context(), got.Session, hash("child-1")))
	sess, err := s.GetSession(t.Context(), "s1")
	ok(t, "GetSession", err)
	diff(t, "session after the revert", want, sess)
	_, err = s.GetRefreshToken(t.Context(), hash("child-1"))
	wantErr(t, "reverted child", err, store.ErrNotFound)
	again := refreshSession(t, s, rotationAt("rt:s1:0", "child-1", at(2*time.Minute)))
	if !again.Rotated {
		t.Fatal("the parent did not rotate again after the revert")
	}
	refreshSession(t, s, rotationAt("child-1", "child-2", at(3*time.Minute)))
	err = s.RevertRotation(t.Context(), again.Session, hash("child-1"))
	wantErr(t, "RevertRotation after the session moved on", err, store.ErrConflict)
	if _, err := s.GetRefreshToken(t.Context(), hash("child-1")); err != nil {
		t.Errorf("child-1 after a refused revert: %v", err)
	}
}

// testRaceRefreshSession: many refreshes of one parent at once, as
// concurrent clients send them (each derives the same child): exactly
// one rotates, the others find the session and change nothing.
func testRaceRefreshSession(t *testing.T, s store.Store) {
	fixture(t, s)
	mustSession(t, s, newSession("s1", "alice", "ws", t0))
	results := make([]store.Refreshed, 50)
	errs := Race(len(results), func(i int) (err error) {
		results[i], err = s.RefreshSession(t.Context(), rotationAt("rt:s1:0", "child", at(time.Minute)))
		if err == nil && !results[i].Rotated {
			err = store.ErrConflict // as oneWinner counts a loser
		}
		return err
	})
	oneWinner(t, "RefreshSession", errs, store.ErrConflict)
	for i, r := range results {
		if errors.Is(errs[i], store.ErrConflict) && r.Token.SessionID != "s1" {
			t.Errorf("loser %d found %+v", i, r)
		}
	}
	got, err := s.GetSession(t.Context(), "s1")
	ok(t, "GetSession", err)
	if got.Generation != 1 {
		t.Errorf("generation after the race = %d, want 1", got.Generation)
	}
	rt, err := s.GetRefreshToken(t.Context(), hash("child"))
	if err != nil || rt.Generation != 1 {
		t.Errorf("child after the race: %+v, %v", rt, err)
	}
}

// testRaceRefreshSessions: refreshes of many sessions at once, as a busy
// server sees them (and as the PostgreSQL store writes them, several to a
// statement): each session's token three times, a stale parent beside its
// current child, an unknown token and a child hash already taken. Each
// answer is the one it would get alone: one rotation per current token,
// the others find their session unchanged by them; the unknown token is
// ErrNotFound and the taken child ErrConflict, and neither spoils another.
func testRaceRefreshSessions(t *testing.T, s store.Store) {
	fixture(t, s)
	const sessions = 16
	for i := range sessions {
		mustSession(t, s, newSession(fmt.Sprintf("s%d", i), "alice", "ws", t0))
	}
	mustSession(t, s, newSession("moved", "alice", "ws", t0))
	refreshSession(t, s, rotationAt("rt:moved:0", "moved-1", at(time.Minute)))
	mustSession(t, s, newSession("taker", "alice", "ws", t0))
	type call struct {
		presented, child string
		want             error // nil: found
	}
	var calls []call
	for i := range sessions {
		for range 3 {
			calls = append(calls, call{fmt.Sprintf("rt:s%d:0", i), fmt.Sprintf("s%d-1", i), nil})
		}
	}
	calls = append(calls, call{"rt:moved:0", "moved-1", nil}, call{"moved-1", "moved-2", nil},
		call{"nope", "nope-1", store.ErrNotFound}, call{"rt:taker:0", "rt:s0:0", store.ErrConflict})
	results := make([]store.Refreshed, len(calls))
	errs := Race(len(calls), func(i int) (err error) {
		results[i], err = s.RefreshSession(t.Context(), rotationAt(calls[i].presented, calls[i].child, at(2*time.Minute)))
		return err
	})
	rotated := map[string]int{}
	for i, c := range calls {
		if !errors.Is(errs[i], c.want) || (c.want == nil) != (errs[i] == nil) {
			t.Errorf("%s: err %v, want %v", c.presented, errs[i], c.want)
			continue
		}
		if errs[i] != nil {
			continue
		}
		r := results[i]
		if wantHash := hash(c.presented); string(r.Token.Hash) != string(wantHash) || r.Token.SessionID != r.Session.ID {
			t.Errorf("%s: found token %+v of session %q", c.presented, r.Token, r.Session.ID)
		}
		if r.Rotated {
			rotated[r.Session.ID]++
			if r.Token.Generation != r.Session.Generation {
				t.Errorf("%s: rotated from generation %d of a session at %d", c.presented, r.Token.Generation, r.Session.Generation)
			}
		}
	}
	for i := range sessions {
		id := fmt.Sprintf("s%d", i)
		if rotated[id] != 1 {
			t.Errorf("session %s rotated %d times, want 1", id, rotated[id])
		}
		rt, err := s.GetRefreshToken(t.Context(), hash(id+"-1"))
		if err != nil || rt.SessionID != id || rt.Generation != 1 {
			t.Errorf("child of %s: %+v, %v", id, rt, err)
		}
	}
	if rotated["moved"] != 1 {
		t.Errorf("session moved rotated %d times, want 1 (its current token only)", rotated["moved"])
	}
	if got, err := s.GetSession(t.Context(), "moved"); err != nil || got.Generation != 2 {
		t.Errorf("session moved after the race: generation %d, %v; want 2", got.Generation, err)
	}
	if got, err := s.GetSession(t.Context(), "taker"); err != nil || got.Generation != 0 {
		t.Errorf("session taker after its refused rotation: generation %d, %v; want 0", got.Generation, err)
	}
}
