package verify

import (
	"sync"
	"time"
)

// sessionTable decides, without I/O, whether a Sigil session may be
// trusted: it holds the sessions this process has confirmed live with
// the server and those it knows are ended, and the state of the
// revocation feed that keeps both true.
//
// Invariant: a session marked live was confirmed while the feed was
// delivering, and the feed has delivered without a gap since (same
// epoch). So every revocation after the confirmation has reached us, and
// "live" is still true. A gap (reconnect without a cursor, a reset from
// the server) starts a new epoch and every live mark must be
// re-confirmed.
type sessionTable struct {
	now   func() time.Time
	grace time.Duration // how long an outage of the feed is tolerated

	mu        sync.RWMutex
	m         map[string]sessionEntry
	epoch     uint64 // bumped when the feed's continuity is lost
	seq       uint64 // bumped by every revocation and every gap
	up        bool   // the feed is connected
	downSince time.Time
}

type sessionEntry struct {
	dead  bool
	born  time.Time // an API-key exchange session's incarnation (its tokens' iat); else zero
	epoch uint64    // live: the epoch it was confirmed in
	until time.Time // the latest expiry of its tokens seen; then forgettable
}

type sessionStatus int

const (
	sessionUnknown sessionStatus = iota // ask the server
	sessionLive
	sessionDead
)

func newSessionTable(now func() time.Time, grace time.Duration) *sessionTable {
	return &sessionTable{now: now, grace: grace, m: map[string]sessionEntry{}}
}

// healthyLocked: revocations are reaching us (connected, or reconnecting
// for at most grace). A longer outage is not a gap: the feed replays
// what it missed when it resumes, so live marks become usable again
// then; meanwhile sessions are checked with the server.
func (t *sessionTable) healthyLocked() bool {
	return t.up || t.now().Sub(t.downSince) <= t.grace
}

// status of session sid for a token expiring at exp. The common case, a
// known session and a token no newer than those seen, takes only the
// read lock.
//
// born is non-zero for an API-key exchange token: such a session may end
// (logout) and begin again under the same id, and every token of one
// incarnation carries its beginning as iat. A token of an earlier
// incarnation than the one known is dead; of a later one, unknown (the
// server decides).
func (t *sessionTable) status(sid string, exp, born time.Time) sessionStatus {
	t.mu.RLock()
	e, ok := t.m[sid]
	st := t.statusLocked(e, ok)
	t.mu.RUnlock()
	if ok && !born.IsZero() && !born.Equal(e.born) {
		if born.After(e.born) {
			return sessionUnknown
		}
		return sessionDead
	}
	if st != sessionLive || !exp.After(e.until) {
		return st
	}
	t.mu.Lock() // remember the later expiry, so sweep keeps the entry
	defer t.mu.Unlock()
	e, ok = t.m[sid]
	if st = t.statusLocked(e, ok); st == sessionLive && exp.After(e.until) {
		e.until = exp
		t.m[sid] = e
	}
	return st
}

func (t *sessionTable) statusLocked(e sessionEntry, ok bool) sessionStatus {
	switch {
	case !ok:
		return sessionUnknown
	case e.dead:
		return sessionDead
	case e.epoch != t.epoch || !t.healthyLocked():
		return sessionUnknown
	}
	return sessionLive
}

// snapshot is taken before asking the server about a session; confirm
// with it refuses to mark the session live if a revocation or a gap
// arrived meanwhile (the answer might predate it).
func (t *sessionTable) snapshot() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.seq
}

// confirm records the server's answer that sid (incarnation born, see
// status) is live.
func (t *sessionTable) confirm(sid string, exp, born time.Time, snap uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if snap != t.seq || !t.healthyLocked() {
		return
	}
	e := t.m[sid]
	if born.Before(e.born) || (e.dead && !born.After(e.born)) {
		return // an earlier incarnation, or the one that ended
	}
	t.m[sid] = sessionEntry{born: born, epoch: t.epoch, until: later(e.until, exp)}
}

// ended records that the feed announced the end of sid (of the
// incarnation known, if any). A dead mark needs no epoch: an ended
// session's tokens never come back (an exchange session begun again
// under its id is another incarnation; see status).
func (t *sessionTable) ended(sid string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seq++
	e, ok := t.m[sid]
	if !ok {
		// Never confirmed here: a token of it would be asked about, and
		// the server says it is over. Remember it only as long as an
		// answer to that question may be reused from before the end.
		e.until = t.now().Add(introspectTTL)
	}
	t.m[sid] = sessionEntry{dead: true, born: e.born, until: e.until}
}

// gap records that revocations may have been missed.
func (t *sessionTable) gap() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.epoch++
	t.seq++
}

// setUp records the feed connecting or dropping.
func (t *sessionTable) setUp(up bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.up && !up {
		t.downSince = t.now()
	}
	t.up = up
}

// sweep forgets sessions whose every seen token has expired (plus
// leeway): a later token of a live one is simply confirmed again, and a
// dead one cannot mint new tokens.
func (t *sessionTable) sweep(leeway time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for sid, e := range t.m {
		if now.After(e.until.Add(leeway)) {
			delete(t.m, sid)
		}
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
